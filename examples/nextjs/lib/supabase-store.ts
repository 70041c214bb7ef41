// The JobsStore over supabase-js, for production: the same calls as pg-store.ts, through
// PostgREST. Users' reads and cancels use the signed-in user's client (their JWT: RLS judges);
// a backend's report uses the service role. Typed and written to mirror pg-store.ts, but not
// exercised end to end in this repository: the local stack has no PostgREST or GoTrue.
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import {
  type CancelResult,
  type JobsStore,
  type PersistResult,
  RECENT_JOB_COLUMNS,
  type RecentJob,
  type ReportAnswer,
  ReportRefusedError,
  StoreUnavailableError,
} from "./jobs-store";
import { fallbackSeq, type PersistReport } from "./persist-report";
import { userSupabaseClient } from "./supabase-session";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (or set DATABASE_URL to use the pg store)`);
  return value;
}

/** PostgREST answers a refused value with 400 and the SQLSTATE in `code`; anything else may pass. */
function raise(error: { message: string; code?: string; status?: number }): never {
  if (error.code && ["22023", "22P02", "23502", "23503", "23514"].includes(error.code)) {
    throw new ReportRefusedError(error.message);
  }
  throw new StoreUnavailableError(error.message);
}

export function supabaseJobsStore(): JobsStore {
  const url = required("NEXT_PUBLIC_SUPABASE_URL");
  let service: SupabaseClient | undefined;
  const serviceRole =
    () => (service ??= createClient(url, required("SUPABASE_SERVICE_ROLE_KEY"), { auth: { persistSession: false } }));

  const readJob = async (client: SupabaseClient, jobId: string) => {
    const { data, error } = await client.from("local_training_jobs_effective").select(RECENT_JOB_COLUMNS).eq(
      "id",
      jobId,
    ).maybeSingle();
    if (error) raise(error);
    return data as unknown as RecentJob | null;
  };

  return {
    async listRecentJobs(userId, limit) {
      const client = await userSupabaseClient();
      const { data, error } = await client
        .from("local_training_jobs_effective")
        .select(RECENT_JOB_COLUMNS)
        .eq("user_id", userId)
        .order("created_at", { ascending: false })
        .limit(limit);
      if (error) raise(error);
      return (data ?? []) as unknown as RecentJob[];
    },

    async requestCancel(_userId, jobId): Promise<CancelResult> {
      const client = await userSupabaseClient();
      const { data, error } = await client.from("local_training_jobs").update({ status: "cancelled" }).eq("id", jobId)
        .select("id");
      if (error) raise(error);
      const job = await readJob(client, jobId);
      if (!job) return { kind: "not_found" };
      return data && data.length > 0 ? { kind: "requested", job } : { kind: "finished", job };
    },

    async persistReport(report: PersistReport): Promise<PersistResult> {
      const db = serviceRole();
      let created = false;
      if (report.newRow) {
        const { data, error } = await db
          .from("local_training_jobs")
          .upsert(
            {
              id: report.jobId,
              user_id: report.newRow.userId,
              model_name: report.newRow.modelName,
              status: "queued",
              config: report.newRow.config,
            },
            { onConflict: "id", ignoreDuplicates: true },
          )
          .select("id");
        if (error) raise(error);
        created = (data ?? []).length === 1;
      }
      const { data: row, error: readError } = await db.from("local_training_jobs").select("attempt").eq(
        "id",
        report.jobId,
      ).maybeSingle();
      if (readError) raise(readError);
      if (!row) return { kind: "unknown_job" };
      const { data, error } = await db.rpc("report_job_status", {
        p_job_id: report.jobId,
        p_attempt: report.attempt ?? row.attempt,
        p_seq: report.seq ?? fallbackSeq(),
        p_status: report.status,
        p_progress: report.progress,
        p_error: report.error,
      });
      if (error) raise(error);
      return { kind: "answered", answer: data as ReportAnswer, created };
    },
  };
}
