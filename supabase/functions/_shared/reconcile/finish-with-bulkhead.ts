// finishPass behind the bulkhead: a row Postgres refuses is set aside with its reason, every other
// row is applied in the same pass, and the pass records `rejected: N` with the rows' reasons (the
// health view shows them). Without refusals this is exactly one finishPass call.
import { applyWithBulkhead, rowCount, sliceRows } from "./bulkhead.ts";
import type { ChangeColumns, Queryable } from "./database.ts";
import { describe } from "./http-json.ts";
import { storableText } from "./sanitize.ts";

/** Rejected rows named in the pass record; the count is always exact. */
const MAX_REJECTED_LISTED = 20;
/** Enough to isolate a handful of bad rows among 100k (about 2·log2(n) calls each). */
const MAX_APPLY_CALLS = 400;

// Data exceptions (22: bad text, json, dates), integrity violations (23: checks, not-null),
// program limits (54: a value too large) and errors raised by triggers (P0): the data is at fault,
// not the connection. Anything else fails the pass as before.
const DATA_ERROR_CLASSES = ["22", "23", "54", "P0"];

export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && DATA_ERROR_CLASSES.includes(code.slice(0, 2));
}

type Summary = Record<string, unknown>;

export async function finishPassWithBulkhead(
  db: Queryable,
  pass: Summary,
  changes: ChangeColumns,
  finish: (part: ChangeColumns) => Promise<Summary>,
): Promise<Summary> {
  const outcome = await applyWithBulkhead(changes, finish, { isDataError, maxCalls: MAX_APPLY_CALLS });
  if (outcome.rejected.length === 0 && outcome.results.length === 1) return outcome.results[0]!;
  // Every part was refused: the pass is still recorded, with no changes.
  if (outcome.results.length === 0) outcome.results.push(await finish(sliceRows(changes, 0, 0)));

  const rejectedRows = outcome.rejected.map(({ row, error }) => ({
    job_id: row.jobIds[0] ?? null,
    action: row.actions[0] ?? null,
    error: storableText(`${sqlState(error)}${describe(error)}`, 300),
  }));
  const counts = {
    applied: sumCounts(outcome.results.map((r) => (r.applied ?? {}) as Record<string, number>)),
    conflicts: outcome.results.reduce((n, r) => n + Number(r.conflicts ?? 0), 0),
    rejected: rejectedRows.length,
    rejected_rows: rejectedRows.slice(0, MAX_REJECTED_LISTED),
    apply_calls: outcome.calls,
  };
  await db.query("select jobs_private.record_pass_rejections($1::uuid, $2::jsonb)", [pass.pass_id, JSON.stringify(counts)]);
  return { ...outcome.results.at(-1)!, ...counts, changes: rowCount(changes) };
}

function sqlState(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? `${code}: ` : "";
}

function sumCounts(parts: Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const part of parts) for (const [key, n] of Object.entries(part)) total[key] = (total[key] ?? 0) + Number(n);
  return total;
}
