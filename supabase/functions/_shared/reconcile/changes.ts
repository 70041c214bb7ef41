// From decisions to the columns the apply sends: the one place a decision becomes a row change.
// Everything written comes from the action (decide.ts) and the row as observed; nothing is
// invented here but the evidence, which records what was seen.
import type { BackendAnswer } from "./backend-answer.ts";
import type { ChangeColumns } from "./database.ts";
import type { Action, Change, ObservedJob } from "./decide.ts";

/** One job's decision, with what it was decided from. */
export interface Decision {
  job: ObservedJob;
  /** The backend asked, as the records show it (credentials removed). */
  backendUrl: string;
  answer: BackendAnswer;
  action: Action;
}

/** The evidence written with a status change: what was seen, and by which rule it was judged. */
export function evidenceOf(d: Decision & { action: Change }) {
  const seconds = (ms: number | null) => (ms === null ? null : Math.round(ms / 1000));
  return {
    rule: d.action.type,
    backend_url: d.backendUrl,
    backend_answer: d.answer,
    observed_status: d.job.status,
    silent_for_s: seconds(d.job.silentMs),
    // The two witnesses, apart: the writer's heartbeat, and the backend's progress seen moving.
    writer_silent_s: seconds(d.job.writerSilentMs),
    progress_silent_s: seconds(d.job.progressSilentMs),
    previous_progress: d.job.marker,
    threshold_s: d.action.thresholdMs === null ? null : d.action.thresholdMs / 1000,
  };
}

/**
 * Adds a decision's change to the columns; "leave" adds nothing. A change with a reason changes
 * the status and carries evidence; a plain confirmation carries neither (the apply keeps the row's).
 * The apply adds the pass id to every piece of evidence.
 */
export function addChange(c: ChangeColumns, d: Decision): void {
  const a = d.action;
  if (a.type === "leave") return;
  const evidence = a.reason === null ? null : evidenceOf({ ...d, action: a });
  c.jobIds.push(d.job.id);
  c.observedStatus.push(d.job.status);
  c.observedUpdatedAt.push(d.job.observedUpdatedAt);
  c.actions.push(a.type);
  c.newStatus.push(a.newStatus);
  c.reasons.push(a.reason);
  c.completedAt.push(a.completedAt);
  c.evidence.push(evidence);
  c.markers.push(a.marker);
}
