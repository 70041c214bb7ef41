// The JobsStore over node-postgres, for the local stack (no PostgREST, no GoTrue).
//
// It does what PostgREST does for each request, so the database's rules are the real ones:
//   a user's read or cancel runs in a transaction as role `authenticated` with
//   request.jwt.claims = {sub, role}, so RLS and the cancel trigger judge it;
//   a backend's report runs as `service_role`, the role the backend's key maps to.
import pg from "pg";
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

// SQLSTATEs about the report itself (a bad value): never worth a retry.
const REFUSED_SQLSTATES = new Set(["22023", "22P02", "23502", "23503", "23514"]);

async function inTransaction<T>(
  pool: pg.Pool,
  setup: (c: pg.PoolClient) => Promise<unknown>,
  work: (c: pg.PoolClient) => Promise<T>,
): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw new StoreUnavailableError(`database unreachable: ${(error as Error).message}`);
  }
  try {
    await client.query("begin");
    await setup(client);
    const result = await work(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    const code = (error as { code?: string }).code;
    if (code && REFUSED_SQLSTATES.has(code)) throw new ReportRefusedError((error as Error).message);
    if (!code || code.startsWith("08") || code.startsWith("57P") || code === "53300") {
      throw new StoreUnavailableError((error as Error).message);
    }
    throw error;
  } finally {
    client.release();
  }
}

/** As PostgREST does for a signed-in user's request. */
const asUser = (userId: string) => async (c: pg.PoolClient) => {
  await c.query("set local role authenticated");
  await c.query("select set_config('request.jwt.claims', $1, true)", [
    JSON.stringify({ sub: userId, role: "authenticated" }),
  ]);
};
const asServiceRole = async (c: pg.PoolClient) => {
  await c.query("set local role service_role");
};

const readJob = async (c: pg.PoolClient, jobId: string): Promise<RecentJob | undefined> =>
  (await c.query(`select ${RECENT_JOB_COLUMNS} from public.local_training_jobs_effective where id = $1`, [jobId]))
    .rows[0];

export function pgJobsStore(connectionString: string): JobsStore {
  const pool = new pg.Pool({ connectionString, max: 5, connectionTimeoutMillis: 5_000 });
  pool.on("error", () => undefined); // an idle connection cut by a restart is replaced on next use
  // Timestamps as ISO strings, as PostgREST returns them: the page parses them the same way.
  const toIso = (v: unknown) => (v instanceof Date ? v.toISOString() : v);
  const asJsonRow = (row: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(row).map(([k, v]) => [k, toIso(v)])) as unknown as RecentJob;

  return {
    async listRecentJobs(userId, limit) {
      return inTransaction(pool, asUser(userId), async (c) => {
        // The view is security_invoker: RLS limits it to the user's own rows; the filter is for the index.
        const { rows } = await c.query(
          `select ${RECENT_JOB_COLUMNS} from public.local_training_jobs_effective
           where user_id = $1 order by created_at desc limit $2`,
          [userId, limit],
        );
        return rows.map(asJsonRow);
      });
    },

    async requestCancel(userId, jobId): Promise<CancelResult> {
      return inTransaction(pool, asUser(userId), async (c) => {
        // RLS lets this touch only the user's own active job; the trigger turns it into a request.
        const updated = await c.query("update public.local_training_jobs set status = 'cancelled' where id = $1", [
          jobId,
        ]);
        const job = await readJob(c, jobId);
        if (!job) return { kind: "not_found" };
        return updated.rowCount
          ? { kind: "requested", job: asJsonRow(job as never) }
          : { kind: "finished", job: asJsonRow(job as never) };
      });
    },

    async persistReport(report: PersistReport): Promise<PersistResult> {
      return inTransaction(pool, asServiceRole, async (c) => {
        let created = false;
        if (report.newRow) {
          // The job's first report (the seed's /execute hand-off) creates its row, as 'queued';
          // report_job_status() then moves it. A row that exists is left to report_job_status().
          const inserted = await c.query(
            `insert into public.local_training_jobs (id, user_id, model_name, status, config)
             values ($1, $2, $3, 'queued', $4::jsonb) on conflict (id) do nothing`,
            [report.jobId, report.newRow.userId, report.newRow.modelName, JSON.stringify(report.newRow.config)],
          );
          created = inserted.rowCount === 1;
        }
        const row =
          (await c.query("select attempt from public.local_training_jobs where id = $1", [report.jobId])).rows[0];
        if (!row) return { kind: "unknown_job" };
        const { rows } = await c.query(
          "select public.report_job_status($1, $2, $3, $4, $5, $6) as answer",
          [
            report.jobId,
            report.attempt ?? row.attempt,
            report.seq ?? fallbackSeq(),
            report.status,
            report.progress,
            report.error,
          ],
        );
        return { kind: "answered", answer: rows[0].answer as ReportAnswer, created };
      });
    },
  };
}
