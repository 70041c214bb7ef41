// Asks one training backend about its active jobs, in the seed's API:
//   GET {backend}/api/training/jobs         -> 200 {"jobs": [{"job_id", "status", ...}]}  (optional)
//   GET {backend}/api/training/status/{id}  -> 200 {"status", ...} | 404 {"detail": ...}
// One list request when the backend offers it; otherwise one status request per job, with
// bounded concurrency. Every failure is "unreachable" for the jobs it covers.
import { errorMessage, getJson } from "./http-json.ts";
import { entryJobId, MAX_ERROR_TEXT, type BackendAnswer, parseJobEntry } from "./backend-answer.ts";
import { storableDeep } from "./sanitize.ts";

export interface BackendAskOptions {
  fetch: typeof fetch;
  requestTimeoutMs: number;
  concurrency: number;
  maxStatusBytes: number;
  maxListBytes: number;
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
 * Objects and arrays a list answer may hold: bounds the function's memory whatever the entries'
 * shape (at the 8 MiB cap, 300k empty objects stay near 100 MB RSS; npm run bench). The seed's
 * entries are ~100 bytes, so 8 MiB of them is ~85k jobs, well inside this.
 */
const MAX_LIST_CONTAINERS = 300_000;

/** A backend that does not offer the list answers these; then we ask job by job. */
const LIST_NOT_OFFERED = new Set([404, 405, 501]);

/**
 * A backend for the length of one pass, asked page by page. The list is fetched once, on the
 * first page, and kept (it is capped at maxListBytes); a backend without one is asked job by job,
 * one page at a time. `summary()` is the backend's line in the pass summary, over all pages.
 */
export interface BackendSession {
  ask(jobIds: string[]): Promise<BackendReport>;
  summary(): { mode: BackendReport["mode"]; reachable: boolean; error: string | null };
}

type Listed = { ok: true; byId: Map<string, BackendAnswer> } | { ok: false; detail: string } | null;

export function openBackend(url: string, options: BackendAskOptions): BackendSession {
  let listed: Promise<Listed> | undefined;
  let mode: BackendReport["mode"] = "list";
  let asked = 0;
  let usable = 0;
  let error: string | null = null;
  return {
    async ask(jobIds) {
      listed ??= fetchList(url, options);
      const list = await listed;
      let report: BackendReport;
      if (list === null) {
        mode = "per-job";
        report = await askEach(url, jobIds, options);
      } else if (!list.ok) {
        report = {
          url, mode: "list", reachable: false, error: list.detail,
          answers: new Map(jobIds.map((id) => [id, { kind: "unreachable", detail: list.detail }])),
        };
      } else {
        report = {
          url, mode: "list", reachable: true, error: null,
          answers: new Map(jobIds.map((id) => [id, list.byId.get(id) ?? { kind: "unknown", via: "absent-from-list" }])),
        };
      }
      asked += jobIds.length;
      if (report.mode === "per-job") usable += [...report.answers.values()].filter((o) => o.kind !== "unreachable").length;
      error ??= report.error;
      return storableReport(report);
    },
    summary() {
      // As one ask of every job would have said: a list answers for all; job by job, one usable answer is enough.
      const reachable = mode === "per-job" ? asked === 0 || usable > 0 : error === null;
      return { mode, reachable, error: error === null ? null : storableDeep(error, MAX_ERROR_TEXT) };
    },
  };
}

/** The boundary: every string the backend supplied, made storable before anything else sees it. */
function storableReport(report: BackendReport): BackendReport {
  const answers = new Map<string, BackendAnswer>();
  for (const [id, answer] of report.answers) answers.set(id, storableDeep(answer, MAX_ERROR_TEXT));
  return { ...report, error: report.error === null ? null : storableDeep(report.error, MAX_ERROR_TEXT), answers };
}

/** The backend's whole list, by job id; null when it offers none. */
async function fetchList(url: string, options: BackendAskOptions): Promise<Listed> {
  const answer = await getJson(`${url}/api/training/jobs`, {
    ...options, timeoutMs: options.requestTimeoutMs, maxBytes: options.maxListBytes, maxContainers: MAX_LIST_CONTAINERS,
  });
  // Whether or not the body was JSON, these statuses mean the backend has no list to offer.
  if (answer.status !== null && LIST_NOT_OFFERED.has(answer.status)) return null;
  if (!answer.ok) return { ok: false, detail: answer.detail };
  if (answer.status !== 200) return { ok: false, detail: `list: HTTP ${answer.status}` };
  const jobs = (answer.json as { jobs?: unknown })?.jobs;
  if (!Array.isArray(jobs)) return { ok: false, detail: "list: malformed answer (no jobs array)" };

  const byId = new Map<string, BackendAnswer>();
  for (const entry of jobs) {
    const id = entryJobId(entry);
    const parsed = parseJobEntry(entry);
    // One malformed entry poisons the list: we cannot tell what else it got wrong.
    if (id === null || parsed === null) return { ok: false, detail: "list: malformed job entry" };
    byId.set(id, parsed);
  }
  return { ok: true, byId };
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
    url, mode: "per-job", reachable: jobIds.length === 0 ? true : usable > 0, error: firstError, answers,
  };
}

async function askOne(url: string, id: string, options: BackendAskOptions): Promise<BackendAnswer> {
  if (options.signal.aborted) return { kind: "unreachable", detail: "pass deadline reached" };
  const answer = await getJson(`${url}/api/training/status/${encodeURIComponent(id)}`, {
    ...options, timeoutMs: options.requestTimeoutMs, maxBytes: options.maxStatusBytes,
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
      method: "POST", headers: { accept: "application/json" }, signal, redirect: "manual",
    });
    await response.body?.cancel();
    if (response.ok) return { delivered: true, answer: `backend accepted the cancel (HTTP ${response.status})` };
    if (CANCEL_NOT_OFFERED.has(response.status)) {
      return { delivered: true, answer: `backend did not take the cancel (HTTP ${response.status}: no cancel endpoint, or no such job)` };
    }
    return { delivered: false, answer: `cancel not delivered: HTTP ${response.status}` };
  } catch (error) {
    const why = signal.aborted ? `timed out after ${options.requestTimeoutMs} ms` : errorMessage(error);
    return { delivered: false, answer: `cancel not delivered: ${why}` };
  }
}
