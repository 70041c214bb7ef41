// One reconciler under test: a fresh database, a simulated training backend, and the real
// Edge Function served by Deno, wired together over HTTP.
import type { SettingsOverrides } from "../../supabase/functions/_shared/reconcile/mod.ts";
import { type SimulatorOptions, TrainingBackendSimulator } from "../simulator/training-backend.ts";
import { freshDatabase, type TestDatabase } from "./database.ts";
import { type ServedFunction, serveReconcileFunction } from "./serve-function.ts";

/** The secret every test serves the function with. */
export const TEST_SECRET = "test-secret-0123456789abcdef";

export interface ReconcileFixture {
  db: TestDatabase;
  sim: TrainingBackendSimulator;
  fn: ServedFunction;
  teardown(): Promise<void>;
}

export function functionEnv(databaseUrl: string, backendUrl: string, extra: Record<string, string> = {}) {
  return { RECONCILE_SECRET: TEST_SECRET, BACKEND_URL: backendUrl, SUPABASE_DB_URL: databaseUrl, ...extra };
}

export async function reconcileFixture(
  opts: { sim?: Partial<SimulatorOptions>; env?: Record<string, string>; settings?: SettingsOverrides } = {},
): Promise<ReconcileFixture> {
  const db = await freshDatabase();
  // Heartbeats are driven by tests (sim.heartbeatNow()), never by waiting.
  const sim = await new TrainingBackendSimulator({ databaseUrl: db.url, heartbeatMs: 3_600_000, ...opts.sim }).start();
  const fn = await serveReconcileFunction(functionEnv(db.url, sim.url, opts.env), opts.settings);
  return {
    db,
    sim,
    fn,
    async teardown() {
      await fn.stop();
      await sim.stop();
      await db.drop();
    },
  };
}
