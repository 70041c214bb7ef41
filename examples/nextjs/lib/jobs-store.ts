// The one interface the routes and the page use for data. Two implementations:
//   supabase-store.ts  supabase-js, for production (PostgREST and GoTrue in front of the database)
//   pg-store.ts        node-postgres, for the local stack, where PostgREST and GoTrue are absent
// Both let the database decide: RLS for what a user may read or cancel, report_job_status() for
// what a writer's report changes.
import type { PersistReport } from "./persist-report";

/** One row of local_training_jobs_effective, as the page renders it. */
export interface RecentJob {
  id: string;
  model_name: string | null;
  status: string;
  /** status, or 'stale' (silent past the policy), or 'cancelling' (a cancel waits): render this. */
  effective_status: string;
  stale_since: string | null;
  last_heard_at: string | null;
  status_reason: string | null;
  progress: number | null;
  cancel_requested_at: string | null;
  cancel_answer: string | null;
  started_at: string | null;
  completed_at: string | null;
  created_at: string;
}

export const RECENT_JOB_COLUMNS =
  "id, model_name, status, effective_status, stale_since, last_heard_at, status_reason, progress, " +
  "cancel_requested_at, cancel_answer, started_at, completed_at, created_at";

/** report_job_status()'s answer. Every outcome is an answer, not an error: retries are safe. */
export interface ReportAnswer {
  outcome: "applied" | "ignored_stale" | "ignored_terminal" | "revived" | "refused_fenced";
  status: string;
  attempt: number;
  seq: number;
  cancel_requested: boolean;
}

export type CancelResult =
  | { kind: "requested"; job: RecentJob }
  /** Not the user's job, or no such job: RLS hides both the same way. */
  | { kind: "not_found" }
  /** The job already finished: there is nothing left to cancel. */
  | { kind: "finished"; job: RecentJob };

export type PersistResult =
  | { kind: "answered"; answer: ReportAnswer; created: boolean }
  /** The row does not exist and the report does not carry the fields to create it. */
  | { kind: "unknown_job" };

export interface JobsStore {
  /** The user's most recent jobs, newest first, read through RLS as that user. */
  listRecentJobs(userId: string, limit: number): Promise<RecentJob[]>;
  /** A cancel request, as that user (RLS and the cancel trigger decide). */
  requestCancel(userId: string, jobId: string): Promise<CancelResult>;
  /** A backend's report, as the service role: creates the row on a job's first report. */
  persistReport(report: PersistReport): Promise<PersistResult>;
}

/** A failure the caller should retry later (the database is unreachable): answered 503. */
export class StoreUnavailableError extends Error {}

/** The report itself is refused by the database (bad value): answered 400, never retried. */
export class ReportRefusedError extends Error {}

let chosen: Promise<JobsStore> | undefined;

/**
 * DATABASE_URL set: the pg store (local stack). Otherwise supabase-js with
 * NEXT_PUBLIC_SUPABASE_URL, NEXT_PUBLIC_SUPABASE_ANON_KEY and SUPABASE_SERVICE_ROLE_KEY.
 * Imported lazily so a deployment never loads the driver it does not use.
 */
export function jobsStore(): Promise<JobsStore> {
  chosen ??= process.env.DATABASE_URL
    ? import("./pg-store").then((m) => m.pgJobsStore(process.env.DATABASE_URL!))
    : import("./supabase-store").then((m) => m.supabaseJobsStore());
  return chosen;
}

export function storeMode(): "pg" | "supabase" {
  return process.env.DATABASE_URL ? "pg" : "supabase";
}
