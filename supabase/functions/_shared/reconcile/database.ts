// The reconciler's two database calls. Any client with `query(text, values)` works: `pg` in
// Node and in Deno (npm:pg).
import type { JobStatus } from "../job-status.ts";
import type { ObservedJob } from "./decide.ts";

export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export type Begun =
  | { skipped: true; runningPass: string }
  | { skipped: false; jobs: ObservedJob[] };

/** One observed job as jobs_private.begin_reconcile_pass() sends it (see its comment). */
type ObservedRow = [
  id: string, status: JobStatus, backendUrl: string | null, observedUpdatedAt: string,
  silentMs: number, writerSilentMs: number, progressSilentMs: number | null, marker: string | null,
  confirmationRunning: boolean, cancelPending: boolean, progress: number | null, presumedDead: boolean,
];

interface BeginRow {
  skipped: boolean;
  running_pass?: string;
  jobs?: ObservedRow[];
}

export interface BeginOptions {
  passId: string;
  trigger: string;
  leaseMs: number;
  dryRun: boolean;
  /** Jobs the reconciler presumed dead within this long are observed again. */
  reviveWindowMs: number;
}

export async function beginPass(db: Queryable, o: BeginOptions): Promise<Begun> {
  const { rows } = await db.query(
    `select jobs_private.begin_reconcile_pass($1, $2, make_interval(secs => $3::double precision / 1000), $4,
       make_interval(secs => $5::double precision / 1000)) as begun`,
    [o.passId, o.trigger, o.leaseMs, o.dryRun, o.reviveWindowMs],
  );
  const begun = rows[0]?.begun as BeginRow;
  if (begun.skipped) return { skipped: true, runningPass: begun.running_pass ?? "unknown" };
  return {
    skipped: false,
    jobs: (begun.jobs ?? []).map((
      [id, status, backendUrl, observedUpdatedAt, silentMs, writerSilentMs, progressSilentMs, marker,
        confirmationRunning, cancelPending, progress, presumedDead],
    ) => ({
      id, status, backendUrl, observedUpdatedAt, silentMs: Number(silentMs), writerSilentMs: Number(writerSilentMs),
      progressSilentMs: progressSilentMs === null ? null : Number(progressSilentMs), marker,
      confirmationRunning, cancelPending, progress: progress === null ? null : Number(progress), presumedDead,
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
  markers: (string | null)[];
}

export function emptyChangeColumns(): ChangeColumns {
  return {
    jobIds: [], observedStatus: [], observedUpdatedAt: [], actions: [], newStatus: [], reasons: [], completedAt: [],
    evidence: [], markers: [],
  };
}

/** Cancel requests forwarded this pass, with the backends' answers. */
export interface CancelColumns {
  jobIds: string[];
  answers: string[];
  delivered: boolean[];
}

export async function finishPass(
  db: Queryable,
  pass: Record<string, unknown>,
  confirmForMs: number,
  c: ChangeColumns,
  cancels: CancelColumns,
): Promise<Record<string, unknown>> {
  const { rows } = await db.query(
    `select jobs_private.finish_reconcile_pass($1::jsonb, make_interval(secs => $2::double precision / 1000),
       $3::uuid[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::jsonb[],
       $11::text[], $12::uuid[], $13::text[], $14::boolean[]) as summary`,
    [JSON.stringify(pass), confirmForMs, c.jobIds, c.observedStatus, c.observedUpdatedAt, c.actions, c.newStatus,
      c.reasons, c.completedAt, c.evidence, c.markers, cancels.jobIds, cancels.answers, cancels.delivered],
  );
  return rows[0]?.summary as Record<string, unknown>;
}

export async function failPass(db: Queryable, passId: string, error: string): Promise<void> {
  await db.query("select jobs_private.fail_reconcile_pass($1, $2)", [passId, error]);
}
