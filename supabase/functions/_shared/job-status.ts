// Job statuses, mirroring the check constraint `local_training_jobs_status_is_known`
// (supabase/migrations/20261129120000_create_local_training_jobs.sql). A test keeps them equal.
export const JOB_STATUSES = ["queued", "pending", "running", "completed", "failed", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const ACTIVE_STATUSES = ["queued", "pending", "running"] as const satisfies readonly JobStatus[];
export type ActiveStatus = (typeof ACTIVE_STATUSES)[number];

export const TERMINAL_STATUSES = ["completed", "failed", "cancelled"] as const satisfies readonly JobStatus[];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export function isJobStatus(value: unknown): value is JobStatus {
  return typeof value === "string" && (JOB_STATUSES as readonly string[]).includes(value);
}

export function isActiveStatus(value: unknown): value is ActiveStatus {
  return typeof value === "string" && (ACTIVE_STATUSES as readonly string[]).includes(value);
}

export function isTerminalStatus(value: unknown): value is TerminalStatus {
  return typeof value === "string" && (TERMINAL_STATUSES as readonly string[]).includes(value);
}
