// Small factories and readers for job rows. Time is never waited for: rows are backdated.
import type pg from "pg";
import { backdateJob } from "./backdate.ts";

export async function makeUser(
  db: pg.Pool,
  email = `u${Math.random().toString(36).slice(2)}@example.com`,
): Promise<string> {
  const { rows } = await db.query("insert into auth.users (email) values ($1) returning id", [email]);
  return rows[0].id;
}

/** Tests backdate rows instead of sleeping. */
export { backdateJob };

export async function makeJob(
  db: pg.Pool,
  opts: { id?: string; userId?: string | null; status?: string; silentSeconds?: number; backendUrl?: string | null } =
    {},
): Promise<string> {
  const { rows } = await db.query(
    `insert into public.local_training_jobs (id, user_id, model_name, status, backend_url)
     values (coalesce($1::uuid, gen_random_uuid()), $2, 'test-model', $3, $4) returning id`,
    [opts.id ?? null, opts.userId ?? null, opts.status ?? "running", opts.backendUrl ?? null],
  );
  if (opts.silentSeconds) await backdateJob(db, rows[0].id, opts.silentSeconds);
  return rows[0].id;
}

/** `n` jobs made side by side, with the same options. */
export const makeJobs = (db: pg.Pool, n: number, opts: Parameters<typeof makeJob>[1] = {}) =>
  Promise.all(Array.from({ length: n }, () => makeJob(db, opts)));

export async function jobRow(db: pg.Pool, id: string) {
  const { rows } = await db.query(
    `select status, effective_status, status_reason, status_evidence, completed_at, cancel_answer,
            extract(epoch from silent_for)::float as silent_s
     from public.local_training_jobs_effective where id = $1`,
    [id],
  );
  return rows[0];
}

export async function history(db: pg.Pool, id: string) {
  const { rows } = await db.query(
    "select from_status, to_status, actor, reason, evidence from public.local_training_job_history where job_id = $1 order by id",
    [id],
  );
  return rows;
}

export async function runs(db: pg.Pool) {
  const { rows } = await db.query("select * from jobs_private.reconcile_passes order by started_at, id");
  return rows;
}
