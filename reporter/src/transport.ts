// How reports reach the database: through `pg`, or through any client with supabase-js's
// `rpc(name, args)` (the service role's path through the Data API). Both send a batch in one call
// to report_job_statuses() (one call per flush, not one per job: issue 13); a transport with only
// `send` is served one report at a time through report_job_status().
import type pg from "pg";
import type { Report, ReportOutcome } from "./report.ts";

/** One report's answer within a batch: its outcome, or why the database refused this report. */
export type BatchResult = ReportOutcome | { error: Error & { code?: string } };

export interface ReportTransport {
  send(report: Report): Promise<ReportOutcome>;
  /** One answer per report, in order. Throws only when the call as a whole failed. */
  sendBatch?(reports: Report[]): Promise<BatchResult[]>;
}

export const batchRpcArgs = (reports: Report[]) => ({
  p_job_ids: reports.map((r) => r.jobId),
  p_attempts: reports.map((r) => r.attempt),
  p_seqs: reports.map((r) => r.seq),
  p_statuses: reports.map((r) => r.status),
  p_progress: reports.map((r) => r.progress),
  p_errors: reports.map((r) => r.error),
});

interface BatchRow {
  ord: number;
  outcome: string;
  error_code: string | null;
  error: string | null;
}

/** report_job_statuses() answers rows in no particular order, each with its 1-based position. */
function resultsInOrder(rows: BatchRow[], count: number): BatchResult[] {
  const results: BatchResult[] = new Array(count);
  for (const row of rows) {
    results[row.ord - 1] = row.outcome === "rejected"
      ? { error: Object.assign(new Error(row.error ?? "rejected"), { code: row.error_code ?? undefined }) }
      : row.outcome as ReportOutcome;
  }
  for (let i = 0; i < count; i++) {
    results[i] ??= {
      error: Object.assign(new Error("report_job_statuses: no answer for this report"), { code: "XX000" }),
    };
  }
  return results;
}

export const rpcArgs = (r: Report) => ({
  p_job_id: r.jobId,
  p_attempt: r.attempt,
  p_seq: r.seq,
  p_status: r.status,
  p_progress: r.progress,
  p_error: r.error,
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
    async sendBatch(reports) {
      const a = batchRpcArgs(reports);
      const { rows } = await pool.query(
        `select ord, outcome, error_code, error
         from public.report_job_statuses($1::uuid[], $2::int[], $3::bigint[], $4::text[], $5::float8[], $6::text[])`,
        [a.p_job_ids, a.p_attempts, a.p_seqs, a.p_statuses, a.p_progress, a.p_errors],
      );
      return resultsInOrder(rows as unknown as BatchRow[], reports.length);
    },
  };
}

/** The shape of supabase-js's `rpc`, so `createClient(url, serviceRoleKey)` fits as it is. */
export interface RpcClient {
  rpc(
    name: string,
    args: Record<string, unknown>,
  ): PromiseLike<{ data: unknown; error: { code?: string; message: string } | null }>;
}

export function rpcTransport(client: RpcClient): ReportTransport {
  return {
    async send(report) {
      const { data, error } = await client.rpc("report_job_status", rpcArgs(report));
      if (error) {
        throw Object.assign(new Error(`report_job_status: ${error.message}`), { code: error.code || undefined });
      }
      return (data as { outcome: ReportOutcome }).outcome;
    },
    async sendBatch(reports) {
      const { data, error } = await client.rpc("report_job_statuses", batchRpcArgs(reports));
      if (error) {
        throw Object.assign(new Error(`report_job_statuses: ${error.message}`), { code: error.code || undefined });
      }
      return resultsInOrder(data as BatchRow[], reports.length);
    },
  };
}
