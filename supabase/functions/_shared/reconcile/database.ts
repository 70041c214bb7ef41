// The reconciler's two database calls. Any client with `query(text, values)` works: `pg` in
// Node and in Deno (npm:pg).
import type { ActiveStatus } from "../job-status.ts";
import type { ObservedJob } from "./decide.ts";

export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export type Begun =
  | { skipped: true; runningPass: string }
  | { skipped: false; jobs: ObservedJob[] };

interface BeginRow {
  skipped: boolean;
  running_pass?: string;
  jobs?: { id: string; status: ActiveStatus; backend_url: string | null; observed_updated_at: string; silent_ms: number }[];
}

export async function beginPass(
  db: Queryable,
  passId: string,
  trigger: string,
  leaseMs: number,
  dryRun: boolean,
): Promise<Begun> {
  const { rows } = await db.query(
    "select jobs_private.begin_reconcile_pass($1, $2, make_interval(secs => $3::double precision / 1000), $4) as begun",
    [passId, trigger, leaseMs, dryRun],
  );
  const begun = rows[0]?.begun as BeginRow;
  if (begun.skipped) return { skipped: true, runningPass: begun.running_pass ?? "unknown" };
  return {
    skipped: false,
    jobs: (begun.jobs ?? []).map((j) => ({
      id: j.id,
      status: j.status,
      backendUrl: j.backend_url,
      observedUpdatedAt: j.observed_updated_at,
      silentMs: Number(j.silent_ms),
    })),
  };
}

export async function finishPass(db: Queryable, pass: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { rows } = await db.query("select jobs_private.finish_reconcile_pass($1::jsonb) as summary", [JSON.stringify(pass)]);
  return rows[0]?.summary as Record<string, unknown>;
}

export async function failPass(db: Queryable, passId: string, error: string): Promise<void> {
  await db.query("select jobs_private.fail_reconcile_pass($1, $2)", [passId, error]);
}
