// The reconciler's database calls. Any client with `query(text, values)` works: `pg` in Node and
// in Deno (npm:pg). A pass claims its shard's lease, observes keyset pages, applies each page in
// one guarded call, parks sudden deaths until the guard has counted every page, and records itself
// (finishPass).
import type { JobStatus } from "../job-status.ts";
import type { ObservedJob } from "./decide.ts";

export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * One observed job as jobs_private.observe_reconcile_page() sends it (fields: see the migration add_reconcile_passes).
 */
type ObservedRow = [
  id: string,
  status: JobStatus,
  backendUrl: string | null,
  observedUpdatedAt: string,
  silentMs: number,
  writerSilentMs: number,
  progressSilentMs: number | null,
  marker: string | null,
  confirmationRunning: boolean,
  cancelPending: boolean,
  progress: number | null,
  presumedDead: boolean,
];

function toObservedJob(
  [
    id,
    status,
    backendUrl,
    observedUpdatedAt,
    silentMs,
    writerSilentMs,
    progressSilentMs,
    marker,
    confirmationRunning,
    cancelPending,
    progress,
    presumedDead,
  ]: ObservedRow,
): ObservedJob {
  return {
    id,
    status,
    backendUrl,
    observedUpdatedAt,
    silentMs: Number(silentMs),
    writerSilentMs: Number(writerSilentMs),
    progressSilentMs: progressSilentMs === null ? null : Number(progressSilentMs),
    marker,
    confirmationRunning,
    cancelPending,
    progress: progress === null ? null : Number(progress),
    presumedDead,
  };
}

/** Which part of the fleet a pass covers: shard `shard` of `shards` equal ranges of job ids. */
export interface Shard {
  shard: number;
  shards: number;
}

export const WHOLE_FLEET: Shard = { shard: 0, shards: 1 };

/** Claims the shard's lease (a dry run claims nothing). */
export async function claimPass(
  db: Queryable,
  o: { passId: string; trigger: string; leaseMs: number; dryRun: boolean } & Shard,
): Promise<{ skipped: true; runningPass: string } | { skipped: false }> {
  const { rows } = await db.query(
    `select jobs_private.claim_reconcile_pass($1, $2, make_interval(secs => $3::double precision / 1000), $4, $5, $6) as claimed`,
    [o.passId, o.trigger, o.leaseMs, o.dryRun, o.shard, o.shards],
  );
  const claimed = rows[0]?.claimed as { skipped: boolean; running_pass?: string };
  return claimed.skipped ? { skipped: true, runningPass: claimed.running_pass ?? "unknown" } : { skipped: false };
}

/** Up to `limit` observed jobs after `after` (by id) in the shard; fewer means the last page. */
export async function observePage(
  db: Queryable,
  o: { after: string | null; limit: number; reviveWindowMs: number } & Shard,
): Promise<ObservedJob[]> {
  const { rows } = await db.query(
    `select jobs_private.observe_reconcile_page($1, $2, make_interval(secs => $3::double precision / 1000), $4, $5) as page`,
    [o.after, o.limit, o.reviveWindowMs, o.shard, o.shards],
  );
  return (rows[0]?.page as ObservedRow[]).map(toObservedJob);
}

/**
 * The changes as apply_reconcile_changes() takes them: one JSON text, an array per change (order:
 * see the migration add_reconcile_passes), built in one JSON.stringify with the evidence inside.
 */
export function changesJson(c: ChangeColumns): string {
  const n = c.jobIds.length;
  const rows: unknown[][] = new Array(n);
  for (let i = 0; i < n; i++) {
    rows[i] = [
      c.jobIds[i],
      c.observedStatus[i],
      c.observedUpdatedAt[i],
      c.actions[i],
      c.newStatus[i],
      c.reasons[i],
      c.completedAt[i],
      c.evidence[i],
      c.markers[i],
    ];
  }
  return JSON.stringify(rows);
}

/** One page's changes and cancels, guarded; the pass itself is not recorded (its lease stays held). */
export async function applyChanges(
  db: Queryable,
  passId: string,
  confirmForMs: number,
  c: ChangeColumns,
  cancels: CancelColumns,
): Promise<{ applied: Record<string, number>; conflicts: number }> {
  const { rows } = await db.query(
    `select jobs_private.apply_reconcile_changes($1::uuid, make_interval(secs => $2::double precision / 1000), $3::jsonb,
       $4::uuid[], $5::text[], $6::boolean[]) as result`,
    [passId, confirmForMs, changesJson(c), cancels.jobIds, cancels.answers, cancels.delivered],
  );
  return rows[0]?.result as { applied: Record<string, number>; conflicts: number };
}

/** Parks sudden deaths (with their backends) until the guard has seen every page. */
export async function deferChanges(
  db: Queryable,
  passId: string,
  backendUrls: string[],
  c: ChangeColumns,
): Promise<void> {
  await db.query(
    "select jobs_private.defer_reconcile_changes($1::uuid, $2::text[], $3::jsonb)",
    [passId, backendUrls, changesJson(c)],
  );
}

/** Applies the parked changes of the released backends, drops the rest. */
export async function applyDeferred(
  db: Queryable,
  passId: string,
  confirmForMs: number,
  release: string[],
): Promise<{ applied: Record<string, number>; conflicts: number }> {
  const { rows } = await db.query(
    `select jobs_private.apply_deferred_reconcile_changes($1::uuid, make_interval(secs => $2::double precision / 1000), $3::text[]) as result`,
    [passId, confirmForMs, release],
  );
  return rows[0]?.result as { applied: Record<string, number>; conflicts: number };
}

/** Merges totals into the pass's recorded counts (the record of each part holds only its own). */
export async function recordPassCounts(db: Queryable, passId: string, counts: object): Promise<void> {
  await db.query("select jobs_private.record_pass_counts($1::uuid, $2::jsonb)", [passId, JSON.stringify(counts)]);
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
  /** What was seen (apply.ts evidenceOf), sent as JSON with the rest of the page. */
  evidence: (object | null)[];
  markers: (string | null)[];
}

export function emptyChangeColumns(): ChangeColumns {
  return {
    jobIds: [],
    observedStatus: [],
    observedUpdatedAt: [],
    actions: [],
    newStatus: [],
    reasons: [],
    completedAt: [],
    evidence: [],
    markers: [],
  };
}

/** Cancel requests forwarded this pass, with the backends' answers. */
export interface CancelColumns {
  jobIds: string[];
  answers: string[];
  delivered: boolean[];
}

/** Records the pass's outcome and releases its lease; its changes were applied page by page. */
export async function finishPass(db: Queryable, pass: object): Promise<Record<string, unknown>> {
  const { rows } = await db.query("select jobs_private.finish_reconcile_pass($1::jsonb) as summary", [
    JSON.stringify(pass),
  ]);
  return rows[0]?.summary as Record<string, unknown>;
}

export async function failPass(db: Queryable, passId: string, error: string): Promise<void> {
  await db.query("select jobs_private.fail_reconcile_pass($1, $2)", [passId, error]);
}
