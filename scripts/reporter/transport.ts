// How reports reach public.report_job_status(): through `pg`, or through any client with
// supabase-js's `rpc(name, args)` (the service role's path through the Data API).
import type pg from "pg";
import type { Report, ReportOutcome } from "./report.ts";

export interface ReportTransport {
  send(report: Report): Promise<ReportOutcome>;
}

export const rpcArgs = (r: Report) => ({
  p_job_id: r.jobId, p_attempt: r.attempt, p_seq: r.seq, p_status: r.status, p_progress: r.progress, p_error: r.error,
});

export function pgTransport(pool: pg.Pool): ReportTransport {
  return {
    async send(report) {
      const { rows } = await pool.query(
        "select public.report_job_status($1, $2, $3, $4, $5, $6) as result",
        [report.jobId, report.attempt, report.seq, report.status, report.progress, report.error],
      );
      return rows[0].result.outcome;
    },
  };
}

/** The shape of supabase-js's `rpc`, so `createClient(url, serviceRoleKey)` fits as it is. */
export interface RpcClient {
  rpc(name: string, args: Record<string, unknown>): PromiseLike<{ data: unknown; error: { code?: string; message: string } | null }>;
}

export function rpcTransport(client: RpcClient): ReportTransport {
  return {
    async send(report) {
      const { data, error } = await client.rpc("report_job_status", rpcArgs(report));
      if (error) throw Object.assign(new Error(`report_job_status: ${error.message}`), { code: error.code || undefined });
      return (data as { outcome: ReportOutcome }).outcome;
    },
  };
}
