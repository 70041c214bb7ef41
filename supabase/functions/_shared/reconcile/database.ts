// The reconciler's database calls. Any client with `query(text, values)` works: `pg` in Node and
// in Deno (npm:pg). A pass claims its shard's lease, observes keyset pages, applies each page in
// one guarded call, parks sudden deaths until the guard has counted every page, and records itself
// (finishPass).
import type { ObservedJob } from "./decide.ts";
import { readObservedRow, rowJobId } from "./stored-row.ts";

export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
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

/** One observed page: the rows that read well, the ones that did not, and where the next page starts. */
export interface ObservedPage {
  jobs: ObservedJob[];
  unreadable: { jobId: string | null; error: string }[];
  /** Rows the database sent (a page shorter than the limit is the last). */
  size: number;
  lastId: string | null;
}

/**
 * Up to `limit` observed rows after `after` (by id) in the shard. Each row is read on its own
 * (stored-row.ts): an odd one costs that row, never the page.
 */
export async function observePage(
  db: Queryable,
  o: { after: string | null; limit: number; reviveWindowMs: number; confirmForMs: number } & Shard,
): Promise<ObservedPage> {
  const { rows } = await db.query(
    `select jobs_private.observe_reconcile_page($1, $2, make_interval(secs => $3::double precision / 1000),
       make_interval(secs => $4::double precision / 1000), $5, $6) as page`,
    [o.after, o.limit, o.reviveWindowMs, o.confirmForMs, o.shard, o.shards],
  );
  const raw = rows[0]?.page;
  if (!Array.isArray(raw)) throw new Error("observe_reconcile_page did not return an array");
  const page: ObservedPage = { jobs: [], unreadable: [], size: raw.length, lastId: null };
  for (const row of raw) {
    const read = readObservedRow(row);
    if (read.ok) page.jobs.push(read.job);
    else page.unreadable.push({ jobId: read.jobId, error: read.error });
  }
  if (raw.length > 0) {
    page.lastId = rowJobId(raw.at(-1));
    if (page.lastId === null) throw new Error("observe_reconcile_page: the page's last row has no id to page by");
  }
  return page;
}

/**
 * The fields of one change, in the order jobs_private.reconcile_change_rows() reads them (r ->> 0 ..
 * r ->> 8). Written once: changesJson and the test that round-trips a change through the SQL derive from it.
 */
export const CHANGE_ROW_FIELDS = [
  "jobIds",
  "observedStatus",
  "observedUpdatedAt",
  "actions",
  "newStatus",
  "reasons",
  "completedAt",
  "evidence",
  "markers",
] as const satisfies readonly (keyof ChangeColumns)[];

/**
 * The changes as apply_reconcile_changes() takes them: one JSON text, an array per change in
 * CHANGE_ROW_FIELDS order, built in one JSON.stringify with the evidence inside.
 */
export function changesJson(c: ChangeColumns): string {
  const n = c.jobIds.length;
  const rows: unknown[][] = new Array(n);
  for (let i = 0; i < n; i++) rows[i] = CHANGE_ROW_FIELDS.map((field) => c[field][i]);
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
  /** What was seen (changes.ts evidenceOf), sent as JSON with the rest of the page. */
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
