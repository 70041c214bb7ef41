// Asks one training backend about its active jobs, in the seed's API:
//   GET {backend}/api/training/jobs         -> 200 {"jobs": [{"job_id", "status", ...}]}  (optional;
//                                              paged with ?cursor=, see list-pages.ts)
//   GET {backend}/api/training/status/{id}  -> 200 {"status", ...} | 404 {"detail": ...}
// One list request when the backend offers it; otherwise one status request per job, with
// bounded concurrency. Every failure is "unreachable" for the jobs it covers.
import { errorMessage, getJson } from "./http-json.ts";
import { cursorBefore, fetchListAnswer, ListPagingError, ListReader, QUERY_REFUSED } from "./list-pages.ts";
import { type BackendAnswer, canonicalJobId, MAX_ERROR_TEXT, parseJobEntry } from "./backend-answer.ts";
import { storableDeep } from "./sanitize.ts";

export interface BackendAskOptions {
  fetch: typeof fetch;
  requestTimeoutMs: number;
  concurrency: number;
  maxStatusBytes: number;
  maxListBytes: number;
  /** A paged list's entries per request: listPageLimit(page_size) (list-pages.ts). */
  listPageLimit: number;
  signal: AbortSignal;
}

export interface BackendReport {
  url: string;
  /** "misconfigured": its backend_url was refused and it was never asked (see backend-url.ts). */
  mode: "list" | "per-job" | "misconfigured";
  /** True when the backend gave at least one usable answer. */
  reachable: boolean;
  /** Why it was not reachable (or the first failure seen). */
  error: string | null;
  answers: Map<string, BackendAnswer>;
}

/**
 * A backend for the length of one pass, asked page by page. The list is read on the first page:
 * whole when the backend does not page it (capped at maxListBytes, and kept), else forward in
 * pages as the pass's pages ask (list-pages.ts). A backend without one is asked job by job, one
 * page at a time. `summary()` is the backend's line in the pass summary, over all pages.
 */
export interface BackendSession {
  /**
   * Job ids ascending, after those of every earlier call (the pass's keyset pages). `moreFollow`:
   * the pass has more pages of rows, so a paged list may send its next request now.
   */
  ask(jobIds: string[], options?: { moreFollow?: boolean }): Promise<BackendReport>;
  summary(): { mode: BackendReport["mode"]; reachable: boolean; error: string | null };
  /** True when a paged list failed after some of it was read: absences seen before may be wrong, so its deaths wait. */
  listBrokeOff(): boolean;
}

type Listing =
  | { kind: "whole"; byId: Map<string, BackendAnswer> }
  | { kind: "paged"; reader: ListReader }
  | { kind: "failed"; detail: string }
  | { kind: "not-offered" };

export function openBackend(url: string, options: BackendAskOptions): BackendSession {
  let listing: Promise<Listing> | undefined;
  let mode: BackendReport["mode"] = "list";
  let asked = 0;
  let usable = 0;
  let error: string | null = null;
  let brokeOff = false;
  const unreachable = (jobIds: string[], detail: string): BackendReport => ({
    url,
    mode: "list",
    reachable: false,
    error: detail,
    answers: new Map(jobIds.map((id) => [id, { kind: "unreachable", detail }])),
  });
  const listed = (jobIds: string[], byId: Map<string, BackendAnswer>): BackendReport => {
    // Built in a loop: a [id, answer] pair per job was garbage of a page's size.
    const answers = new Map<string, BackendAnswer>();
    for (const id of jobIds) answers.set(id, byId.get(id) ?? ABSENT_FROM_LIST);
    return { url, mode: "list", reachable: true, error: null, answers };
  };
  return {
    async ask(jobIds, { moreFollow = false } = {}) {
      listing ??= startListing(url, jobIds, options);
      const list = await listing;
      let report: BackendReport;
      if (list.kind === "not-offered") {
        mode = "per-job";
        report = await askEach(url, jobIds, options);
      } else if (list.kind === "failed") {
        report = unreachable(jobIds, list.detail);
      } else if (list.kind === "whole") {
        report = listed(jobIds, list.byId);
      } else {
        try {
          // The reader fills the page's one map itself, absent jobs included.
          const answers = await list.reader.observe(jobIds, { moreFollow, absent: ABSENT_FROM_LIST });
          report = { url, mode: "list", reachable: true, error: null, answers };
        } catch (failure) {
          // Whatever went wrong while paging is this backend's failure alone, never the pass's.
          const detail = failure instanceof ListPagingError ? failure.message : `list: ${errorMessage(failure)}`;
          brokeOff = true;
          listing = Promise.resolve({ kind: "failed", detail });
          report = unreachable(jobIds, detail);
        }
      }
      asked += jobIds.length;
      if (report.mode === "per-job") {
        usable += [...report.answers.values()].filter((o) => o.kind !== "unreachable").length;
      }
      error ??= report.error;
      return storableReport(report);
    },
    summary() {
      // As one ask of every job would have said: a list answers for all; job by job, one usable answer is enough.
      const reachable = mode === "per-job" ? asked === 0 || usable > 0 : error === null;
      return { mode, reachable, error: error === null ? null : storableDeep(error, MAX_ERROR_TEXT) };
    },
    listBrokeOff: () => brokeOff,
  };
}

/** One answer for every job a list does not name (answers are never changed once made). */
const ABSENT_FROM_LIST: BackendAnswer = Object.freeze({ kind: "unknown", via: "absent-from-list" });

/** The boundary: every string the backend supplied, made storable before anything else sees it. */
function storableReport(report: BackendReport): BackendReport {
  // The map was made for this ask alone, so it is cleaned in place: a copy per page was garbage of a page's size.
  // forEach, not for-of: destructuring each entry made an [id, answer] pair per job (docs/benchmarks.md).
  report.answers.forEach((answer, id, answers) => {
    // Storable as made: an "alive" answer holds a status from our own list and a marker JSON.stringify
    // wrote (NULs and lone surrogates escaped, at most 200 characters); an "unknown" one only our words.
    if (answer.kind === "alive" || answer.kind === "unknown") return;
    const clean = storableDeep(answer, MAX_ERROR_TEXT);
    // Setting a key the map already holds does not add one for forEach to visit.
    if (clean !== answer) answers.set(id, clean);
  });
  return { ...report, error: report.error === null ? null : storableDeep(report.error, MAX_ERROR_TEXT) };
}

/** The first list request, starting just before the first job asked about (a shard reads only its own range). */
async function startListing(url: string, jobIds: string[], options: BackendAskOptions): Promise<Listing> {
  let first = jobIds[0] ?? "";
  for (const id of jobIds) if (id < first) first = id;
  const cursor = cursorBefore(first);
  let answer = await fetchListAnswer(url, cursor, options);
  // A backend that refuses the parameter it does not know still has its whole list to give.
  let refusedCursor = false;
  if (answer.kind === "error" && answer.status !== undefined && QUERY_REFUSED.has(answer.status)) {
    refusedCursor = true;
    answer = await fetchListAnswer(url, null, options);
  }
  if (answer.kind === "not-offered") return answer;
  if (answer.kind === "error") return { kind: "failed", detail: answer.detail };
  if (answer.next === undefined || refusedCursor) {
    // The whole list: matched against the rows by id as the database prints it.
    return { kind: "whole", byId: new Map(answer.entries.map(([id, seen]) => [canonicalJobId(id), seen])) };
  }
  try {
    return {
      kind: "paged",
      reader: new ListReader(url, options, cursor, { entries: answer.entries, next: answer.next }),
    };
  } catch (failure) {
    if (failure instanceof ListPagingError) return { kind: "failed", detail: failure.message };
    throw failure;
  }
}

async function askEach(url: string, jobIds: string[], options: BackendAskOptions): Promise<BackendReport> {
  const answers = new Map<string, BackendAnswer>();
  let next = 0;
  let usable = 0;
  let firstError: string | null = null;

  async function worker(): Promise<void> {
    while (next < jobIds.length) {
      const id = jobIds[next++]!;
      const answer = await askOne(url, id, options);
      answers.set(id, answer);
      if (answer.kind === "unreachable") firstError ??= answer.detail;
      else usable++;
    }
  }
  await Promise.all(Array.from({ length: Math.min(options.concurrency, jobIds.length) }, worker));
  return {
    url,
    mode: "per-job",
    reachable: jobIds.length === 0 ? true : usable > 0,
    error: firstError,
    answers,
  };
}

async function askOne(url: string, id: string, options: BackendAskOptions): Promise<BackendAnswer> {
  if (options.signal.aborted) return { kind: "unreachable", detail: "pass deadline reached" };
  const answer = await getJson(`${url}/api/training/status/${encodeURIComponent(id)}`, {
    ...options,
    timeoutMs: options.requestTimeoutMs,
    maxBytes: options.maxStatusBytes,
  });
  if (!answer.ok) return { kind: "unreachable", detail: answer.detail };
  // 404 counts as "no such job" only with a JSON body: a proxy's HTML 404 says nothing about jobs.
  if (answer.status === 404) return { kind: "unknown", via: "status-404" };
  if (answer.status !== 200) return { kind: "unreachable", detail: `HTTP ${answer.status}` };
  return parseJobEntry(answer.json) ?? { kind: "unreachable", detail: "malformed status answer" };
}

export interface CancelAnswer {
  /** Delivered: the backend answered (yes or no). Undelivered requests are tried again next pass. */
  delivered: boolean;
  answer: string;
}

/** Statuses that say "this backend has no cancel endpoint" (or no such job): final answers. */
const CANCEL_NOT_OFFERED = new Set([404, 405, 501]);

/**
 * Forwards a user's cancel request: `POST {backend}/api/training/cancel/{id}` (optional in the
 * contract). Never throws. The job itself changes only when the backend (or the writer) later
 * reports it stopped: an answer here is a promise, not a fact.
 */
export async function forwardCancel(url: string, id: string, options: BackendAskOptions): Promise<CancelAnswer> {
  if (options.signal.aborted) return { delivered: false, answer: "pass deadline reached" };
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.requestTimeoutMs)]);
  try {
    const response = await options.fetch(`${url}/api/training/cancel/${encodeURIComponent(id)}`, {
      method: "POST",
      headers: { accept: "application/json" },
      signal,
      redirect: "manual",
    });
    await response.body?.cancel();
    if (response.ok) return { delivered: true, answer: `backend accepted the cancel (HTTP ${response.status})` };
    if (CANCEL_NOT_OFFERED.has(response.status)) {
      return {
        delivered: true,
        answer: `backend did not take the cancel (HTTP ${response.status}: no cancel endpoint, or no such job)`,
      };
    }
    return { delivered: false, answer: `cancel not delivered: HTTP ${response.status}` };
  } catch (error) {
    const why = signal.aborted ? `timed out after ${options.requestTimeoutMs} ms` : errorMessage(error);
    return { delivered: false, answer: `cancel not delivered: ${why}` };
  }
}
