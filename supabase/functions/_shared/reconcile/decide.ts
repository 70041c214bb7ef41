// The reconciler's decision: pure, from (row, what the backend said, policy) to one action.
// No I/O and no clock: silences are measured by the database and handed in.
//
// What counts as a sign of life (README "How it works"):
//   - the writer's heartbeat (any write by the process next to the training);
//   - the backend's progress MOVING between two passes (progress, step or its own timestamp).
// A backend's "running" without movement is a claim: it refreshes nothing, and once both
// witnesses have been silent past the hard timeout the job is failed as stalled. A job waiting in
// the backend's queue (queued, pending) cannot move: the backend holding it counts.
import type { ActiveStatus, JobStatus, TerminalStatus } from "../job-status.ts";
import { type BackendAnswer, markerProgress, type ProgressMarker } from "./backend-answer.ts";

export interface ObservedJob {
  id: string;
  status: JobStatus;
  backendUrl: string | null;
  /** updated_at (the row version) as the database printed it; the apply compares it exactly. */
  observedUpdatedAt: string;
  /** Time since the last sign of life of either witness, by the database clock; Infinity when none is known. */
  silentMs: number;
  /** Time since the writer's last heartbeat; null when the row holds none usable. */
  writerSilentMs: number | null;
  /** Time since a pass last saw the backend's progress move; null if none ever did. */
  progressSilentMs: number | null;
  /** The backend's progress as the previous pass saw it. */
  marker: ProgressMarker;
  /** A previous confirmation still keeps the job fresh in the view. */
  confirmationRunning: boolean;
  /** A user's cancel request waits to be forwarded to the backend. */
  cancelPending: boolean;
  /** Last progress the row knows (0..1), for the reason of a job the backend forgot. */
  progress: number | null;
  /** Failed by the reconciler's own inference recently: only the backend can revive or confirm it. */
  presumedDead: boolean;
}

export interface DecisionPolicy {
  graceMs: number;
  hardTimeoutMs: number;
}

export const REASON_HEARTBEAT_LOST = "heartbeat lost";

/**
 * What the apply writes for a change, all of it decided here: the status, the reason (null when the
 * status does not change: a plain confirmation stores no reason and no evidence), the backend's
 * finish time, its progress marker, and the threshold a presumed death was judged by.
 */
export interface Write<S extends JobStatus = JobStatus> {
  newStatus: S;
  reason: string | null;
  completedAt: string | null;
  marker: ProgressMarker;
  thresholdMs: number | null;
}

export type Action =
  /** The backend shows progress: a sign of life. Adopts the backend's active status. */
  | ({ type: "confirm_alive" } & Write<ActiveStatus>)
  /** The backend claims the job but shows no movement: remember its marker, refresh nothing. */
  | ({ type: "note_progress" } & Write<ActiveStatus>)
  /** The backend finished it: write its status, time and error text (also over a presumed death). */
  | ({ type: "record_backend_terminal"; reason: string } & Write<TerminalStatus>)
  /** A job the reconciler presumed dead shows progress again: the truth wins. */
  | ({ type: "revive"; reason: string } & Write<ActiveStatus>)
  /** The backend answered and does not know the job, and it has been silent past the grace period. */
  | ({ type: "fail_lost"; reason: string; thresholdMs: number } & Write<"failed">)
  /** The backend says it runs but shows no movement, and the writer is silent: past the hard timeout. */
  | ({ type: "fail_stalled"; reason: string; thresholdMs: number } & Write<"failed">)
  /** No usable answer, and silent past the hard timeout. */
  | ({ type: "fail_heartbeat_lost"; reason: typeof REASON_HEARTBEAT_LOST; thresholdMs: number } & Write<"failed">)
  /** Nothing is concluded this pass. */
  | { type: "leave"; why: LeaveReason };

/** An action that writes: everything but "leave". */
export type Change = Exclude<Action, { type: "leave" }>;

export type LeaveReason =
  | "within grace period"
  | "backend unreachable, within hard timeout"
  | "no progress shown, within hard timeout"
  | "held by mass-outage guard"
  | "held: the backend's list broke off"
  | "presumed dead, backend does not contradict"
  | "vouched for by the previous pass";

export type ActionType = Action["type"];

export function decide(job: ObservedJob, answer: BackendAnswer, policy: DecisionPolicy): Action {
  if (job.presumedDead) return decidePresumedDead(job, answer);
  // A job the previous pass saw moving is vouched for until the next pass is due (+ threshold): its
  // silence is about one interval by design, so one unusable answer or one 404 fails nothing while
  // that confirmation runs. It runs out (or a pass without movement withdraws it); the next pass decides.
  if (job.confirmationRunning && answer.kind !== "alive" && answer.kind !== "terminal") {
    return { type: "leave", why: "vouched for by the previous pass" };
  }
  switch (answer.kind) {
    case "alive":
      return decideClaimOfLife(job, answer, policy);
    case "terminal":
      return recordTerminal(answer, false);
    case "unknown":
      // A job created or heard from seconds ago may not have reached the backend yet.
      if (job.silentMs <= policy.graceMs) return { type: "leave", why: "within grace period" };
      return presumedDeath("fail_lost", lostReason(job), policy.graceMs);
    case "unreachable":
      // The seed's own rule still applies when the backend cannot be asked.
      if (job.silentMs <= policy.hardTimeoutMs) {
        return { type: "leave", why: "backend unreachable, within hard timeout" };
      }
      return {
        type: "fail_heartbeat_lost",
        newStatus: "failed",
        reason: REASON_HEARTBEAT_LOST,
        completedAt: null,
        marker: null,
        thresholdMs: policy.hardTimeoutMs,
      };
    default: {
      const unhandled: never = answer;
      throw new Error(`unhandled answer ${JSON.stringify(unhandled)}`);
    }
  }
}

/**
 * "running" is a claim; only movement since the previous pass makes it a sign of life. A job that
 * waits in the backend's queue (queued, pending) cannot move: being held there is all the evidence
 * there is, and it counts.
 */
function decideClaimOfLife(
  job: ObservedJob,
  seen: Extract<BackendAnswer, { kind: "alive" }>,
  policy: DecisionPolicy,
): Action {
  if (seen.status !== "running" || moved(job.marker, seen.marker)) return adopt("confirm_alive", job, seen);
  if (job.silentMs > policy.hardTimeoutMs && !job.confirmationRunning) {
    return presumedDeath("fail_stalled", stalledReason(job, seen), policy.hardTimeoutMs);
  }
  // Worth a write only when it changes something: a first marker to compare with next time, an
  // adopted status, or a confirmation that this pass can no longer vouch for.
  if (seen.marker !== job.marker || seen.status !== job.status || job.confirmationRunning) {
    return adopt("note_progress", job, seen);
  }
  return { type: "leave", why: "no progress shown, within hard timeout" };
}

function decidePresumedDead(job: ObservedJob, seen: BackendAnswer): Action {
  if (seen.kind === "terminal") return recordTerminal(seen, true);
  if (seen.kind === "alive" && moved(job.marker, seen.marker)) {
    return {
      type: "revive",
      newStatus: seen.status,
      marker: seen.marker,
      completedAt: null,
      thresholdMs: null,
      reason: `revived: backend shows progress (${seen.status}) after a presumed death`,
    };
  }
  return { type: "leave", why: "presumed dead, backend does not contradict" };
}

function recordTerminal(seen: Extract<BackendAnswer, { kind: "terminal" }>, overPresumedDeath: boolean): Action {
  const said = seen.error ?? `backend reports ${seen.status}`;
  return {
    type: "record_backend_terminal",
    newStatus: seen.status,
    reason: overPresumedDeath && seen.status !== "failed" ? `revived: ${said} after a presumed death` : said,
    completedAt: seen.finishedAt,
    marker: null,
    thresholdMs: null,
  };
}

/** The backend's active status, taken over; a reason only when it changes the row's status. */
function adopt(
  type: "confirm_alive" | "note_progress",
  job: ObservedJob,
  seen: Extract<BackendAnswer, { kind: "alive" }>,
): Action {
  const reason = seen.status === job.status ? null : `backend reports ${seen.status}`;
  return {
    type,
    newStatus: seen.status,
    reason,
    completedAt: null,
    marker: seen.marker ?? job.marker,
    thresholdMs: null,
  };
}

function presumedDeath(
  type: "fail_lost" | "fail_stalled",
  reason: string,
  thresholdMs: number,
): Action {
  return { type, newStatus: "failed", reason, completedAt: null, marker: null, thresholdMs };
}

/** Movement needs two sightings: a first marker proves nothing yet. */
export function moved(previous: ProgressMarker, now: ProgressMarker): boolean {
  return previous !== null && now !== null && previous !== now;
}

/** A silence as a person reads it: 45 s, 12 min, 5 h, 3 days. */
export function formatSilence(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "for an unknown time";
  const s = ms / 1000;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7_200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3_600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

function lostReason(job: ObservedJob): string {
  // It may have finished and been forgotten: the seed's backend drops jobs the moment they end.
  const last = job.progress ?? markerProgress(job.marker);
  const seen = last === null ? "no progress seen" : `last progress seen ${Math.round(last * 100)}%`;
  return `lost: backend has no record (it forgot the job; ${seen}, silent ${formatSilence(job.silentMs)})`;
}

function stalledReason(job: ObservedJob, seen: Extract<BackendAnswer, { kind: "alive" }>): string {
  const progress = job.progressSilentMs === null
    ? "no progress ever seen"
    : `no progress for ${formatSilence(job.progressSilentMs)}`;
  return `stalled: backend says ${seen.status}, ${progress}, writer silent ${formatSilence(job.writerSilentMs)}`;
}

/**
 * Failures the reconciler infers rather than hears from the backend. The database writes the same
 * list where it finds presumed deaths (is_presumed_dead(), an index predicate, the observe query); a
 * test checks every copy against this one.
 */
export const PRESUMED_DEATHS = [
  "fail_lost",
  "fail_heartbeat_lost",
  "fail_stalled",
] as const satisfies readonly ActionType[];

export function isPresumedDeath(action: Action): boolean {
  return (PRESUMED_DEATHS as readonly string[]).includes(action.type);
}
