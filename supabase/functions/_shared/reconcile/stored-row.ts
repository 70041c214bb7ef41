// What a pass reads back from a row is input, like a backend's answer: any service-role writer can
// set these columns. jobs_private.observe_reconcile_page() already reads timestamps and numbers
// safely (an infinite or future time, or a progress out of 0..1, reads as absent); here each field
// is checked again where TypeScript takes it. An unusable value reads as absent; a row that cannot
// be identified or paged by is rejected, and costs that row only.
import { isJobStatus } from "../job-status.ts";
import { isStoredMarker } from "./backend-answer.ts";
import type { ObservedJob } from "./decide.ts";

/**
 * The fields of one observed job, in the order observe_reconcile_page() builds its json array. Written
 * once: the reader below and the test that checks the SQL side's count both derive from it.
 */
export const OBSERVED_ROW_FIELDS = [
  "id",
  "status",
  "backendUrl",
  "observedUpdatedAt",
  "silentMs",
  "writerSilentMs",
  "progressSilentMs",
  "marker",
  "confirmationRunning",
  "cancelPending",
  "progress",
  "presumedDead",
] as const satisfies readonly (keyof ObservedJob)[];

type Field = (typeof OBSERVED_ROW_FIELDS)[number];
const at = Object.fromEntries(OBSERVED_ROW_FIELDS.map((f, i) => [f, i])) as Record<Field, number>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type ReadRow = { ok: true; job: ObservedJob } | { ok: false; jobId: string | null; error: string };

/** The job id a raw row names, for paging and for the record of a rejected row. */
export function rowJobId(raw: unknown): string | null {
  const id = Array.isArray(raw) ? raw[at.id] : null;
  return typeof id === "string" && UUID.test(id) ? id : null;
}

export function readObservedRow(raw: unknown): ReadRow {
  const id = rowJobId(raw);
  if (!Array.isArray(raw) || raw.length !== OBSERVED_ROW_FIELDS.length) {
    const got = Array.isArray(raw) ? `${raw.length} fields` : typeof raw;
    return { ok: false, jobId: id, error: `unreadable row: ${got}, expected ${OBSERVED_ROW_FIELDS.length} fields` };
  }
  if (id === null) return { ok: false, jobId: null, error: "unreadable row: its id is not a uuid" };
  const status = raw[at.status];
  if (!isJobStatus(status)) return { ok: false, jobId: id, error: "unreadable row: unknown status" };
  const updatedAt = raw[at.observedUpdatedAt];
  if (typeof updatedAt !== "string" || updatedAt === "") {
    return { ok: false, jobId: id, error: "unreadable row: no updated_at to guard the apply with" };
  }
  const backendUrl = raw[at.backendUrl];
  const marker = raw[at.marker];
  return {
    ok: true,
    job: {
      id,
      status,
      backendUrl: typeof backendUrl === "string" ? backendUrl : null,
      observedUpdatedAt: updatedAt,
      // No usable sign of life from either witness: silent for as long as anyone can tell.
      silentMs: durationMs(raw[at.silentMs]) ?? Number.POSITIVE_INFINITY,
      writerSilentMs: durationMs(raw[at.writerSilentMs]),
      progressSilentMs: durationMs(raw[at.progressSilentMs]),
      marker: isStoredMarker(marker) ? marker : null,
      confirmationRunning: raw[at.confirmationRunning] === true,
      cancelPending: raw[at.cancelPending] === true,
      progress: progressValue(raw[at.progress]),
      presumedDead: raw[at.presumedDead] === true,
    },
  };
}

/** A duration the database measured (ms); null when absent or not a usable number. */
function durationMs(value: unknown): number | null {
  const n = typeof value === "number" ? value : typeof value === "string" && value !== "" ? Number(value) : NaN;
  return Number.isFinite(n) ? Math.max(0, n) : null;
}

/** A progress fraction: a finite number from 0 to 1, else absent. */
export function progressValue(value: unknown): number | null {
  const n = typeof value === "number" ? value : typeof value === "string" && value !== "" ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : null;
}
