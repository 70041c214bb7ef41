// Moves a job's last sign of life into the past, as a frozen row would be: the demo's ghosts and
// the tests' silent jobs. The row's clock is shifted as a whole (heartbeat, backend confirmation
// and its expiry, row version), as if that much time had passed with nobody heard from.
// The stamping trigger would set updated_at to now(), so it is bypassed for this one write
// (session_replication_role needs a superuser; writers cannot do this).
import type pg from "pg";
import { inTransaction } from "./transaction.ts";

export async function backdateJob(
  pool: pg.Pool,
  jobId: string,
  seconds: number,
  opts: { createdToo?: boolean } = {},
): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query("set local session_replication_role = replica");
    await client.query(
      `update public.local_training_jobs j
       set updated_at = j.updated_at - shift.by,
           heartbeat_at = j.heartbeat_at - shift.by,
           confirmed_at = j.confirmed_at - shift.by,
           confirmed_until = j.confirmed_until - shift.by,
           completed_at = case when j.status in ('completed', 'failed', 'cancelled') then j.completed_at - shift.by else j.completed_at end,
           created_at = case when $3 then now() - make_interval(secs => $2) else j.created_at end
       from (select id, greatest(heartbeat_at, confirmed_at) - (now() - make_interval(secs => $2)) as by
             from public.local_training_jobs where id = $1) shift
       where j.id = shift.id`,
      [jobId, seconds, opts.createdToo ?? false],
    );
  });
}
