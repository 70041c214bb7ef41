// The benchmark's data: 1M jobs for 10k users (100 each). Each user's newest job is running and
// heard from in the last 30 s (10k active); the rest are finished. Loaded with triggers off
// (session_replication_role = replica): a fixture, not a workload.
import pg from "pg";

export const USERS = 10_000;
export const JOBS_PER_USER = 100;

export async function loadDataset(db: pg.Client): Promise<void> {
  await db.query("set session_replication_role = replica");
  await db.query(
    `insert into auth.users (id, email)
    select gen_random_uuid(), 'bench-' || g || '@example.com' from generate_series(1, $1) g`,
    [USERS],
  );
  await db.query(
    `insert into public.local_training_jobs
      (id, user_id, model_name, status, config, created_at, started_at, completed_at, updated_at)
    select gen_random_uuid(), u.id, 'model-' || n,
           case when n = $1 then 'running' else (array['completed', 'failed', 'cancelled'])[1 + n % 3] end,
           '{}'::jsonb,
           now() - ($1 - n) * interval '1 hour' - interval '1 minute',
           now() - ($1 - n) * interval '1 hour',
           case when n = $1 then null else now() - ($1 - n) * interval '1 hour' + interval '30 minutes' end,
           case when n = $1 then now() - random() * interval '30 seconds' else now() - ($1 - n) * interval '1 hour' + interval '30 minutes' end
    from auth.users u cross join generate_series(1, $1) n`,
    [JOBS_PER_USER],
  );
  // The writer's heartbeat is the row's last write here (the insert bypassed the stamping trigger).
  await db.query("update public.local_training_jobs set heartbeat_at = updated_at");
  await db.query("set session_replication_role = origin");
  await db.query("vacuum analyze public.local_training_jobs");
  await db.query("analyze auth.users");
}

export async function activeJobIds(db: pg.Client): Promise<string[]> {
  const { rows } = await db.query(
    "select id from public.local_training_jobs where status = any (jobs_private.active_statuses()) order by id",
  );
  return rows.map((r) => r.id);
}

export async function someUserIds(db: pg.Client, n: number): Promise<string[]> {
  const { rows } = await db.query("select id from auth.users order by random() limit $1", [n]);
  return rows.map((r) => r.id);
}

/**
 * Puts each user's `newest` newest jobs back as active jobs heard from in the last 30 s, as before
 * any pass (no marker, no confirmation, no verdict): so passes measured one after the other, and
 * at 10k and 100k, each start from the same kind of fleet. Triggers off: a fixture.
 */
export async function restoreActive(db: pg.Client, newest: number): Promise<void> {
  const models = Array.from({ length: newest }, (_, i) => `model-${JOBS_PER_USER - i}`);
  await db.query("begin; set local session_replication_role = replica");
  await db.query(
    `update public.local_training_jobs
       set status = 'running', completed_at = null, progress_marker = null, confirmed_at = null, confirmed_until = null,
           status_reason = null, status_evidence = null, heartbeat_at = s.t, updated_at = s.t
      from (select now() - random() * interval '30 seconds' as t) s
     where model_name = any($1::text[])`,
    [models],
  );
  await db.query("commit");
}
