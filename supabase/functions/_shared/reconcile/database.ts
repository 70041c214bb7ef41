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

/** One observed job as jobs_private.begin_reconcile_pass() sends it. */
type ObservedRow = [id: string, status: ActiveStatus, backendUrl: string | null, observedUpdatedAt: string, silentMs: number];

interface BeginRow {
  skipped: boolean;
  running_pass?: string;
  jobs?: ObservedRow[];
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
    jobs: (begun.jobs ?? []).map(([id, status, backendUrl, observedUpdatedAt, silentMs]) => ({
      id, status, backendUrl, observedUpdatedAt, silentMs: Number(silentMs),
    })),
  };
}

/** The changes of a pass, one array per column (compact: a pass may carry 100k of them). */
export interface ChangeColumns {
  jobIds: string[];
  observedStatus: string[];
  observedUpdatedAt: string[];
  actions: string[];
  newStatus: string[];
  reasons: (string | null)[];
  completedAt: (string | null)[];
  evidence: (string | null)[];
}

export function emptyChangeColumns(): ChangeColumns {
  return { jobIds: [], observedStatus: [], observedUpdatedAt: [], actions: [], newStatus: [], reasons: [], completedAt: [], evidence: [] };
}

export async function finishPass(db: Queryable, pass: Record<string, unknown>, c: ChangeColumns): Promise<Record<string, unknown>> {
  const { rows } = await db.query(
    `select jobs_private.finish_reconcile_pass($1::jsonb, $2::uuid[], $3::text[], $4::timestamptz[], $5::text[],
       $6::text[], $7::text[], $8::timestamptz[], $9::jsonb[]) as summary`,
    [JSON.stringify(pass), c.jobIds, c.observedStatus, c.observedUpdatedAt, c.actions, c.newStatus, c.reasons, c.completedAt, c.evidence],
  );
  return rows[0]?.summary as Record<string, unknown>;
}

export async function failPass(db: Queryable, passId: string, error: string): Promise<void> {
  await db.query("select jobs_private.fail_reconcile_pass($1, $2)", [passId, error]);
}
