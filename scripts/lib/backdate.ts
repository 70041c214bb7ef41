// Moves a job's last sign of life into the past, as a frozen row would be: the demo's ghosts and
// the tests' silent jobs. The stamping trigger would set updated_at to now(), so it is bypassed
// for this one write (session_replication_role needs a superuser; writers cannot do this).
import type pg from "pg";

export async function backdateJob(
  pool: pg.Pool, jobId: string, seconds: number, opts: { createdToo?: boolean } = {},
): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    await client.query("set local session_replication_role = replica");
    await client.query(
      `update public.local_training_jobs
       set updated_at = now() - make_interval(secs => $2),
           created_at = case when $3 then now() - make_interval(secs => $2) else created_at end
       where id = $1`,
      [jobId, seconds, opts.createdToo ?? false],
    );
    await client.query("commit");
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
