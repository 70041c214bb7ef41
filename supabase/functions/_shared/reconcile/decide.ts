// The reconciler's decision: pure, from (row, what the backend said, policy) to one action.
// No I/O and no clock: silence is measured by the database and handed in.
import type { ActiveStatus, TerminalStatus } from "../job-status.ts";
import type { Observation } from "./observation.ts";

export interface ObservedJob {
  id: string;
  status: ActiveStatus;
  backendUrl: string | null;
  /** updated_at as the database printed it; the apply compares it exactly. */
  observedUpdatedAt: string;
  /** Time since the last sign of life, by the database clock. */
  silentMs: number;
}

export interface DecisionPolicy {
  graceMs: number;
  hardTimeoutMs: number;
}

export const REASON_LOST = "lost: backend has no record";
export const REASON_HEARTBEAT_LOST = "heartbeat lost";

export type Action =
  /** Alive: keep it, and count the confirmation as a sign of life (adopting the backend's active status). */
  | { type: "confirm_alive"; newStatus: ActiveStatus }
  /** The backend finished it: write its status, time and error text. */
  | { type: "record_backend_terminal"; newStatus: TerminalStatus; reason: string; completedAt: string | null }
  /** The backend answered and does not know the job, and it has been silent past the grace period. */
  | { type: "fail_lost"; newStatus: "failed"; reason: typeof REASON_LOST; thresholdMs: number }
  /** No usable answer, and silent past the hard timeout. */
  | { type: "fail_heartbeat_lost"; newStatus: "failed"; reason: typeof REASON_HEARTBEAT_LOST; thresholdMs: number }
  /** Nothing is concluded this pass. */
  | { type: "leave"; why: "within grace period" | "backend unreachable, within hard timeout" | "held by mass-outage guard" };

export type ActionType = Action["type"];

export function decide(job: ObservedJob, observation: Observation, policy: DecisionPolicy): Action {
  switch (observation.kind) {
    case "alive":
      return { type: "confirm_alive", newStatus: observation.status };
    case "terminal":
      return {
        type: "record_backend_terminal",
        newStatus: observation.status,
        reason: observation.error ?? `backend reports ${observation.status}`,
        completedAt: observation.finishedAt,
      };
    case "unknown":
      // A job created or heard from seconds ago may not have reached the backend yet.
      if (job.silentMs <= policy.graceMs) return { type: "leave", why: "within grace period" };
      return { type: "fail_lost", newStatus: "failed", reason: REASON_LOST, thresholdMs: policy.graceMs };
    case "unreachable":
      // The seed's own rule still applies when the backend cannot be asked.
      if (job.silentMs <= policy.hardTimeoutMs) return { type: "leave", why: "backend unreachable, within hard timeout" };
      return { type: "fail_heartbeat_lost", newStatus: "failed", reason: REASON_HEARTBEAT_LOST, thresholdMs: policy.hardTimeoutMs };
    default: {
      const unreachable: never = observation;
      throw new Error(`unhandled observation ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Failures the reconciler infers rather than hears from the backend: what the guard weighs. */
export function isPresumedDeath(action: Action): boolean {
  return action.type === "fail_lost" || action.type === "fail_heartbeat_lost";
}
