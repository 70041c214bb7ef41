// What a training backend said about a job, parsed from its HTTP answer. Parsing is pure and
// strict: anything that is not exactly the documented shape is "malformed", and nothing is
// concluded from it.
import { type ActiveStatus, isActiveStatus, isTerminalStatus, type TerminalStatus } from "../job-status.ts";
import { storableText, strictTimestamp } from "./sanitize.ts";

export type Observation =
  | { kind: "alive"; status: ActiveStatus }
  | { kind: "terminal"; status: TerminalStatus; error: string | null; finishedAt: string | null; note?: string }
  /** The backend answered and has no such job (404 with a JSON body, or absent from its list). */
  | { kind: "unknown"; via: "status-404" | "absent-from-list" }
  /** No usable answer: refused, timed out, 5xx, malformed. Nothing may be concluded from it. */
  | { kind: "unreachable"; detail: string };

/** Code points of a backend's text we keep (error texts, details). */
export const MAX_ERROR_TEXT = 500;

/** Parses one job's entry from `GET /status/{id}` or from the list. Returns null when malformed. */
export function parseJobEntry(entry: unknown): Observation | null {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return null;
  const { status, error, completed_at: completedAt } = entry as Record<string, unknown>;
  if (isActiveStatus(status)) return { kind: "alive", status };
  if (isTerminalStatus(status)) {
    if (error !== undefined && error !== null && typeof error !== "string") return null;
    // A finish time Postgres would refuse becomes null, and the evidence says why.
    const finished = typeof completedAt === "string" ? strictTimestamp(completedAt) : { value: null, note: null };
    return {
      kind: "terminal",
      status,
      error: typeof error === "string" ? storableText(error, MAX_ERROR_TEXT) || null : null,
      finishedAt: finished.value,
      ...(finished.note === null ? {} : { note: `completed_at ${finished.note}` }),
    };
  }
  return null;
}

/** The job id an entry of the list names (`job_id`, or `id`). */
export function entryJobId(entry: unknown): string | null {
  if (typeof entry !== "object" || entry === null) return null;
  const { job_id: jobId, id } = entry as Record<string, unknown>;
  const value = jobId ?? id;
  return typeof value === "string" ? value : null;
}
