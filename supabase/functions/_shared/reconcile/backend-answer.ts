// What a training backend said about a job, parsed from its HTTP answer. Parsing is pure and
// strict: anything that is not exactly the documented shape is "malformed", and nothing is
// concluded from it.
import { type ActiveStatus, isActiveStatus, isTerminalStatus, type TerminalStatus } from "../job-status.ts";
import { storableText, strictTimestamp } from "./sanitize.ts";

/**
 * The backend's evidence of movement: its progress, step and own progress timestamp, as one
 * comparable string. Null when the answer carries none of them: then the backend's "running" is
 * a bare claim and can never keep a job alive on its own.
 */
export type ProgressMarker = string | null;

export type BackendAnswer =
  | { kind: "alive"; status: ActiveStatus; marker: ProgressMarker; progress: number | null }
  | { kind: "terminal"; status: TerminalStatus; error: string | null; finishedAt: string | null; note?: string }
  /** The backend answered and has no such job (404 with a JSON body, or absent from its list). */
  | { kind: "unknown"; via: "status-404" | "absent-from-list" }
  /** No usable answer: refused, timed out, 5xx, malformed. Nothing may be concluded from it. */
  | { kind: "unreachable"; detail: string };

/** Code points of a backend's text we keep (error texts, details). */
export const MAX_ERROR_TEXT = 500;
/** Characters of a progress marker; a longer one is kept as its hash (`#` + fnv1a:length). */
const MAX_MARKER = 200;

/** Parses one job's entry from `GET /status/{id}` or from the list. Returns null when malformed. */
export function parseJobEntry(entry: unknown): BackendAnswer | null {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return null;
  const { status, error, completed_at: completedAt } = entry as Record<string, unknown>;
  if (isActiveStatus(status)) {
    const progress = (entry as Record<string, unknown>).progress;
    return {
      kind: "alive",
      status,
      marker: progressMarker(entry as Record<string, unknown>),
      progress: typeof progress === "number" && Number.isFinite(progress) ? progress : null,
    };
  }
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

/**
 * `progress`, `current_step` (or `step`) and `updated_at` (the backend's own time of its last
 * progress), whichever are present and well-typed. Any change in any of them between two passes is
 * movement. JSON keeps the marker storable (NULs and lone surrogates come out escaped); an overlong
 * one is replaced by its hash, which still changes when it does.
 */
export function progressMarker(entry: Record<string, unknown>): ProgressMarker {
  const { progress, current_step: currentStep, step, updated_at: updatedAt } = entry;
  const stepValue = currentStep ?? step;
  // The text JSON.stringify({p, s, t}) makes, and rows store, written out without an object per entry
  // (a finite number prints the same in a template, -0 included).
  let fields = "";
  if (typeof progress === "number" && Number.isFinite(progress)) fields += `,"p":${progress}`;
  if (typeof stepValue === "number" && Number.isFinite(stepValue)) fields += `,"s":${stepValue}`;
  if (typeof updatedAt === "string" && updatedAt) fields += `,"t":${JSON.stringify(updatedAt)}`;
  if (fields === "") return null;
  const marker = `{${fields.slice(1)}}`;
  return marker.length <= MAX_MARKER ? marker : `#${fnv1a(marker)}`;
}

const HASHED_MARKER = /^#[0-9a-f]{1,8}:[0-9]{1,12}$/;

/**
 * Whether a marker read back from a row is one progressMarker() could have made: a short JSON
 * object, or the hash of a long one. Anything else is treated as no marker at all, so an odd stored
 * value can neither fake movement nor break the pass.
 */
export function isStoredMarker(value: unknown): value is string {
  if (typeof value !== "string" || value.length > MAX_MARKER) return false;
  if (value.startsWith("#")) return HASHED_MARKER.test(value);
  return storedObject(value) !== null;
}

/** The progress fraction a stored marker carries ({"p": 0.98, ...}), if any. */
export function markerProgress(marker: ProgressMarker): number | null {
  const p = marker === null ? undefined : storedObject(marker)?.p;
  return typeof p === "number" && Number.isFinite(p) && p >= 0 && p <= 1 ? p : null;
}

function storedObject(text: string): Record<string, unknown> | null {
  if (!text.startsWith("{")) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as Record<string, unknown>
      : null;
  } catch {
    return null;
  }
}

function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${hash.toString(16)}:${text.length}`;
}

/** The job id an entry of the list names (`job_id`, or `id`). */
export function entryJobId(entry: unknown): string | null {
  if (typeof entry !== "object" || entry === null) return null;
  const { job_id: jobId, id } = entry as Record<string, unknown>;
  const value = jobId ?? id;
  return typeof value === "string" ? value : null;
}

const UUID_LIKE = /^(?:urn:uuid:)?\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/i;
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A job id as the database prints it: a UUID in any of its spellings (upper case, braces, no
 * hyphens) becomes lower case with hyphens, so the backend's list matches the rows; anything else
 * is kept as it is.
 */
export function canonicalJobId(id: string): string {
  // Most ids already are: a test allocates nothing, where exec, slice and join made a few hundred
  // bytes of garbage per entry of every list page.
  if (CANONICAL_UUID.test(id)) return id;
  const m = UUID_LIKE.exec(id);
  return m ? m.slice(1).join("-").toLowerCase() : id;
}
