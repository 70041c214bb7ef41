// The bulkhead behind the one-call apply. Postgres rejects a whole statement for one unusable
// value, so one odd row would fail the pass for every backend. When the call fails because of
// data, the change set is split in halves and each half retried, down to single rows: every row
// that can be applied is, and each row that cannot is returned with the error that refused it.
//
// Generic over the column object: EVERY array property is split by index, so a column added to
// ChangeColumns later is carried along without touching this file.

export interface Rejected<T> {
  /** The one-row slice of the columns that was refused. */
  row: T;
  error: unknown;
}

export interface BulkheadOutcome<T, R> {
  /** One result per successful call, in the order of the rows they covered. */
  results: R[];
  rejected: Rejected<T>[];
  calls: number;
}

export interface BulkheadPolicy {
  /** Whether an error is about the data (split and retry) rather than the connection (give up). */
  isDataError(error: unknown): boolean;
  /** A bound on calls: past it, a failing part is rejected whole instead of being split further
   *  (each half already pending is still tried once, so at most log2(rows) calls more). */
  maxCalls: number;
}

/** The number of rows: the length of the longest array property. */
export function rowCount(columns: object): number {
  return Math.max(0, ...Object.values(columns).filter(Array.isArray).map((a: unknown[]) => a.length));
}

/** Rows [start, end) of every array property; other properties are copied as they are. */
export function sliceRows<T extends object>(columns: T, start: number, end: number): T {
  const part: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(columns)) {
    part[key] = Array.isArray(value) ? value.slice(start, end) : value;
  }
  return part as T;
}

export async function applyWithBulkhead<T extends object, R>(
  columns: T,
  apply: (part: T) => Promise<R>,
  policy: BulkheadPolicy,
): Promise<BulkheadOutcome<T, R>> {
  const outcome: BulkheadOutcome<T, R> = { results: [], rejected: [], calls: 0 };

  async function attempt(part: T, rows: number): Promise<void> {
    outcome.calls++;
    try {
      outcome.results.push(await apply(part));
      return;
    } catch (error) {
      if (!policy.isDataError(error)) throw error;
      if (rows <= 1 || outcome.calls >= policy.maxCalls) {
        for (let i = 0; i < rows; i++) outcome.rejected.push({ row: sliceRows(part, i, i + 1), error });
        return;
      }
    }
    const middle = Math.ceil(rows / 2);
    await attempt(sliceRows(part, 0, middle), middle);
    await attempt(sliceRows(part, middle, rows), rows - middle);
  }

  await attempt(columns, rowCount(columns));
  return outcome;
}

// Data exceptions (22: bad text, json, dates), integrity violations (23: checks, not-null),
// program limits (54: a value too large) and errors raised by triggers (P0): the data is at fault,
// not the connection. Anything else fails the pass as before.
const DATA_ERROR_CLASSES = ["22", "23", "54", "P0"];

export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && DATA_ERROR_CLASSES.includes(code.slice(0, 2));
}
