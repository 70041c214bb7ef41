// A backend's list read in pages (the contract's optional `?cursor=`), alongside the pass's own
// pages of rows. Both are ordered by job id, so the two are merged like sorted files: for a page of
// rows, list pages are read until the list has gone past the page's last id (or ended). Then a
// job the list did not name is truly absent from it, and what is held is one list page (two while
// the next is read ahead), not the whole list: memory does not grow with the backend's fleet, and a
// shard reads only its own range (and at most the one page after it, read ahead and never used).
//
//   GET {backend}/api/training/jobs?cursor=C[&limit=N]
//     -> 200 {"jobs": [entries with job_id > C, ascending, at most N], "next_cursor": "<last job_id>" | null}
//
// The first request carries only `cursor`: a backend that does not page (or pages some other way)
// answers its whole list, read whole as before. `limit` is sent only once the backend has shown it
// pages by `cursor` (its first answer had a next_cursor), so a backend that honours a `limit` of its
// own but not our cursor can never hand us a truncated list that reads as whole. A backend that
// refuses the unknown parameter (400, 422) is asked again without it.
//
// The cursor is a job id (keyset paging), not an opaque token, so a pass can start at its shard.
// A backend that ignores `cursor` answers its whole list without `next_cursor`; that is read whole,
// as before. A cursor that is not the page's last job id, an unordered page, or too many pages ends the
// list with a clear error for this backend only.
import { errorMessage, getJson } from "./http-json.ts";
import { type BackendAnswer, canonicalJobId, entryJobId, parseJobEntry } from "./backend-answer.ts";

/** Pages of one backend's list in one pass at most: 10M-20M entries (listPageLimit; the deadline also applies). */
export const MAX_LIST_PAGES = 10_000;

/**
 * Entries asked for per list page: the pass's page_size, so one list page serves one page of rows and
 * the two are let go together (docs/benchmarks.md, "Full run (2026-12-07, pages of 1,000)"), but kept
 * from 1,000 to 2,000. Below, a small page_size would cost a list request per few rows and shrink the
 * page cap (MAX_LIST_PAGES) with it; above, a page of a backend's entries (about 200 bytes each, more
 * with error texts) could pass max_list_bytes or MAX_LIST_CONTAINERS at a page_size the settings allow,
 * and a backend honouring the limit would fail a list it answered well before. 2,000 was the fixed value
 * until page_size set it.
 */
export function listPageLimit(pageSize: number): number {
  return Math.min(2_000, Math.max(1_000, Math.floor(pageSize)));
}

/** A cursor is a job id; anything longer is not one. */
export const MAX_CURSOR_LENGTH = 1_000;
/** Objects and arrays one list answer may hold (see http-json.ts): bounds memory whatever the entries' shape. */
export const MAX_LIST_CONTAINERS = 300_000;

export interface ListFetchOptions {
  fetch: typeof fetch;
  requestTimeoutMs: number;
  maxListBytes: number;
  /** Entries asked for per list page (`listPageLimit(page_size)`). */
  listPageLimit: number;
  signal: AbortSignal;
}

export type ListEntry = readonly [id: string, answer: BackendAnswer];

/** One list answer: its entries, and `next` (undefined: the backend does not page, this is the whole list). */
export type ListAnswer =
  | { kind: "page"; entries: ListEntry[]; next: string | null | undefined }
  | { kind: "error"; detail: string; status?: number }
  | { kind: "not-offered" };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A backend that does not offer the list answers these; then we ask job by job. */
const LIST_NOT_OFFERED = new Set([404, 405, 501]);

/** Statuses with which a backend refuses a query parameter it does not know. */
export const QUERY_REFUSED = new Set([400, 422]);

/**
 * One request for the list. `cursor` null asks for the whole list (the contract's original form);
 * `paging` adds `limit`, only for a backend known to page by cursor.
 */
export async function fetchListAnswer(
  url: string,
  cursor: string | null,
  options: ListFetchOptions,
  paging = false,
): Promise<ListAnswer> {
  const query = cursor === null
    ? ""
    : `?cursor=${encodeURIComponent(cursor)}${paging ? `&limit=${options.listPageLimit}` : ""}`;
  const answer = await getJson(`${url}/api/training/jobs${query}`, {
    ...options,
    timeoutMs: options.requestTimeoutMs,
    maxBytes: options.maxListBytes,
    maxContainers: MAX_LIST_CONTAINERS,
  });
  // Whether or not the body was JSON, these statuses mean the backend has no list to offer.
  if (answer.status !== null && LIST_NOT_OFFERED.has(answer.status)) return { kind: "not-offered" };
  if (!answer.ok) return { kind: "error", detail: answer.detail };
  if (answer.status !== 200) return { kind: "error", detail: `list: HTTP ${answer.status}`, status: answer.status };
  const body = answer.json as { jobs?: unknown; next_cursor?: unknown } | null;
  const jobs = body?.jobs;
  if (!Array.isArray(jobs)) return { kind: "error", detail: "list: malformed answer (no jobs array)" };
  const next = body !== null && "next_cursor" in body ? body.next_cursor : undefined;
  if (next !== undefined && next !== null && typeof next !== "string") {
    return { kind: "error", detail: `list: next_cursor is a ${typeof next}, not a string or null` };
  }
  if (typeof next === "string" && next.length > MAX_CURSOR_LENGTH) {
    return { kind: "error", detail: `list: next_cursor longer than ${MAX_CURSOR_LENGTH} characters` };
  }
  // A lone surrogate cannot be put into a URL (encodeURIComponent throws): it is no job id.
  if (typeof next === "string" && LONE_SURROGATE.test(next)) {
    return { kind: "error", detail: "list: next_cursor is not well-formed text" };
  }
  const entries: ListEntry[] = [];
  for (const entry of jobs) {
    const id = entryJobId(entry);
    const parsed = parseJobEntry(entry);
    // One malformed entry poisons the list: we cannot tell what else it got wrong.
    if (id === null || parsed === null) return { kind: "error", detail: "list: malformed job entry" };
    entries.push([id, parsed]);
  }
  return { kind: "page", entries, next };
}

/**
 * Why a page breaks the paging rules, or null: entries after the cursor, ascending; next_cursor the
 * page's last job_id (null at the end). A cursor that skipped ahead would make the jobs it skipped
 * look absent, so anything but the last job_id is refused, not just a cursor that goes back.
 */
export function pageOrderError(sentCursor: string, entries: readonly ListEntry[], next: string | null): string | null {
  let previous = sentCursor;
  for (const [id] of entries) {
    // Another spelling of a UUID sorts differently from the rows' ids, so pages could not be merged.
    if (canonicalJobId(id) !== id) {
      return "list: a paged list's job ids must be UUIDs as the database prints them (lower case)";
    }
    if (!(id > previous)) {
      return id === previous
        ? `list: job ${id.slice(0, 100)} repeated across pages`
        : "list: page not ordered by job_id after its cursor";
    }
    previous = id;
  }
  if (next === null) return null;
  if (!(next > sentCursor)) return "list: next_cursor does not move forward (a loop)";
  if (entries.length === 0) return "list: an empty page with a next_cursor";
  if (next !== previous) return "list: next_cursor is not the page's last job_id";
  return null;
}

/** A string that sorts just before `id`: where to start reading the list for a page whose first job is `id`. */
export const cursorBefore = (id: string) => id.slice(0, -1);

/**
 * Reads a paging backend's list forward, page by page, as the pass's pages of rows (ascending
 * job ids) ask for it. Holds the unread rest of one list page between asks, and, when told more
 * rows follow, the request for the next list page already sent: it travels while the pass writes
 * this page and reads the next one from the database, instead of after. So at most two list pages
 * are held per backend, and a read-ahead is bounded as every request is (request timeout, the
 * pass's signal). One the pass turns out not to need (its last page of rows was exactly full, or
 * this backend's jobs ended) is one wasted request per backend and pass, left to finish or time out.
 */
export class ListReader {
  private buffer: ListEntry[];
  private cursor: string | null;
  private pages = 1;
  private ahead: { cursor: string; answer: Promise<ListAnswer> } | null = null;

  /** `first` is the answer to the first request, sent with `firstCursor`. */
  constructor(
    private readonly url: string,
    private readonly options: ListFetchOptions,
    firstCursor: string,
    first: { entries: ListEntry[]; next: string | null },
  ) {
    const broken = pageOrderError(firstCursor, first.entries, first.next);
    if (broken) throw new ListPagingError(broken);
    this.buffer = first.entries;
    this.cursor = first.next;
  }

  /**
   * What the list says of these jobs (ascending ids, after those of every earlier call): every one is in
   * the map, those the list does not name with `absent`.
   */
  async observe(
    jobIds: readonly string[],
    { moreFollow = false, absent }: { moreFollow?: boolean; absent: BackendAnswer },
  ): Promise<Map<string, BackendAnswer>> {
    let last = jobIds[0] ?? "";
    // One map per page, made with every job asked about: it is also what tells a wanted entry from
    // one of another job (a Set of the ids and a second map were garbage of a page's size).
    const byId = new Map<string, BackendAnswer>();
    for (const id of jobIds) {
      if (id > last) last = id;
      byId.set(id, absent);
    }
    for (;;) {
      let kept = 0;
      for (const entry of this.buffer) {
        if (entry[0] > last) this.buffer[kept++] = entry;
        else if (byId.has(entry[0])) byId.set(entry[0], entry[1]);
      }
      this.buffer.length = kept;
      // Done when the list has gone past the last job asked about, or has ended.
      if (kept > 0 || this.cursor === null || this.cursor >= last) {
        if (moreFollow) this.readAhead();
        return byId;
      }
      await this.readNextPage(this.cursor);
    }
  }

  /** Sends the request for the list page after this one, unless it is sent or the list has ended. */
  private readAhead(): void {
    if (this.cursor === null || this.ahead !== null || this.pages >= MAX_LIST_PAGES) return;
    const cursor = this.cursor;
    // An answer, never a rejection: what went wrong is found when the page is read, as without read-ahead.
    const answer = fetchListAnswer(this.url, cursor, this.options, true)
      .catch((error): ListAnswer => ({ kind: "error", detail: `list: ${errorMessage(error)}` }));
    this.ahead = { cursor, answer };
  }

  private async readNextPage(cursor: string): Promise<void> {
    if (this.pages >= MAX_LIST_PAGES) throw new ListPagingError(`list: more than ${MAX_LIST_PAGES} pages`);
    const ahead = this.ahead;
    this.ahead = null;
    const answer = ahead?.cursor === cursor
      ? await ahead.answer
      : await fetchListAnswer(this.url, cursor, this.options, true);
    this.pages++;
    if (answer.kind === "not-offered") throw new ListPagingError("list: no longer offered after its first page");
    if (answer.kind === "error") throw new ListPagingError(`${answer.detail} (page ${this.pages})`);
    if (answer.next === undefined) throw new ListPagingError(`list: page ${this.pages} has no next_cursor`);
    const broken = pageOrderError(cursor, answer.entries, answer.next);
    if (broken) throw new ListPagingError(`${broken} (page ${this.pages})`);
    this.buffer = answer.entries;
    this.cursor = answer.next;
  }
}

/** The list cannot be trusted past this point: every job of the backend not yet judged is unreachable. */
export class ListPagingError extends Error {}
