// What both fuzz suites share: the pass settings (short timeouts and small caps keep 10,000 passes
// fast, and the guard is off so each pass decides alone), and one pass after each generated case,
// through the Node core (as `npm run reconcile` runs it) or through the real function under Deno.
import pg from "pg";
import { runReconcilePass, type SettingsOverrides } from "../../supabase/functions/_shared/reconcile/mod.ts";
import { type ServedFunction, serveReconcileFunction } from "../lib/serve-function.ts";

export const GRACE_S = 120;

export const FUZZ_SETTINGS: SettingsOverrides = {
  request_timeout: "300 milliseconds",
  deadline: "5 seconds",
  concurrency: 4,
  grace: `${GRACE_S} seconds`,
  hard_timeout: "600 seconds",
  guard_min_jobs: 1_000_000,
  max_list_bytes: 65_536,
  max_status_bytes: 16_384,
};

export interface FuzzPasses {
  pool: pg.Pool;
  /** One pass: the function's JSON body, or the same summary from Node, read as plain JSON either way. */
  pass(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Passes against `databaseUrl` with the fuzz settings and `backendUrl` as the default backend. */
export async function startFuzzPasses(
  databaseUrl: string,
  backendUrl: string,
  via: "node" | "deno" = "node",
): Promise<FuzzPasses> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  pool.on("error", () => undefined);
  const overrides = { ...FUZZ_SETTINGS, backend_url: backendUrl };
  let fn: ServedFunction | null = null;
  if (via === "deno") {
    fn = await serveReconcileFunction(
      { RECONCILE_SECRET: "fuzz-secret-0123456789", SUPABASE_DB_URL: databaseUrl },
      overrides,
    );
  }
  return {
    pool,
    async pass() {
      if (!fn) return { ...await runReconcilePass({ db: pool, fetch, overrides, trigger: "fuzz", dryRun: false }) };
      const answer = await fn.call({ body: { trigger: "fuzz" } });
      if (answer.status !== 200) throw new Error(`function answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      return answer.body;
    },
    async stop() {
      await fn?.stop();
      await pool.end();
    },
  };
}
