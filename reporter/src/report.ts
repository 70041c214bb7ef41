// One status report, as the reporter keeps it, journals it and sends it to report_job_status().
export type ReportStatus = "running" | "completed" | "failed";
export type ReportOutcome = "applied" | "ignored_stale" | "refused_fenced" | "ignored_terminal" | "revived";

export interface Report {
  jobId: string;
  attempt: number;
  /** Strictly increasing per reporter, and across restarts (it starts from the clock, in µs). */
  seq: number;
  status: ReportStatus;
  progress: number | null;
  error: string | null;
  /** When the writer made it (information only: the database orders by seq). */
  at: string;
}

export const isTerminal = (r: Pick<Report, "status">) => r.status !== "running";

/** Same job, same attempt: a newer heartbeat makes an older one worthless. */
export const sameStream = (a: Report, b: Report) => a.jobId === b.jobId && a.attempt === b.attempt;

export function isReport(value: unknown): value is Report {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  return typeof r.jobId === "string" && Number.isInteger(r.attempt) && Number.isSafeInteger(r.seq) &&
    (r.status === "running" || r.status === "completed" || r.status === "failed") &&
    (r.progress === null || typeof r.progress === "number") &&
    (r.error === null || typeof r.error === "string") && typeof r.at === "string";
}
