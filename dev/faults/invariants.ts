// What must hold after every step of the randomized fault suite, read from the real database.
import type pg from "pg";

/** The pass interval the suite's passes run with (the settings row's default pass_interval). */
const PASS_INTERVAL_S = 600;

export interface TrackedJob {
  id: string;
  attempt: number;
  workerAlive: boolean;
  /** The worker runs but cannot reach the database (its reports wait in its journal). */
  partitioned: boolean;
}

export interface Observed {
  status: string;
  attempt: number;
  presumed: boolean;
}

export async function checkInvariants(
  db: pg.Client,
  jobs: TrackedJob[],
  previous: Map<string, Observed>,
): Promise<void> {
  const { rows } = await db.query(`
    select j.id, j.status, j.attempt, coalesce(j.status_evidence ->> 'rule', '') in ('fail_lost', 'fail_heartbeat_lost', 'fail_stalled') as presumed,
           (select coalesce(json_agg(json_build_array(h.from_status, h.to_status) order by h.id), '[]')
              from public.local_training_job_history h where h.job_id = j.id) as history
    from public.local_training_jobs j`);
  const byId = new Map(rows.map((r) => [r.id as string, r]));

  // No row is deleted.
  for (const job of jobs) {
    if (!byId.has(job.id)) throw new Error(`row of job ${job.id} was deleted`);
  }
  for (const job of jobs) {
    const row = byId.get(job.id)!;
    // No job whose worker is alive (and can reach the database) ends failed, or finished at all.
    if (job.workerAlive && !job.partitioned && ["failed", "completed", "cancelled"].includes(row.status)) {
      throw new Error(`job ${job.id} has a live worker (attempt ${job.attempt}) but reads ${row.status}`);
    }
    // No terminal status regresses, unless it was only presumed, or the job was resumed.
    const before = previous.get(job.id);
    if (
      before && ["completed", "failed", "cancelled"].includes(before.status) && !before.presumed &&
      before.attempt === row.attempt && row.status !== before.status
    ) {
      throw new Error(`job ${job.id} regressed from ${before.status} to ${row.status} in attempt ${row.attempt}`);
    }
    // Every status change has a history row: the history is an unbroken chain ending at the status.
    const chain = row.history as [string | null, string][];
    if (chain.length === 0 || chain[0]![0] !== null) throw new Error(`job ${job.id} has no creation in its history`);
    for (let i = 1; i < chain.length; i++) {
      if (chain[i]![0] !== chain[i - 1]![1]) {
        throw new Error(`job ${job.id}: history skips a change (${JSON.stringify(chain)})`);
      }
    }
    if (chain.at(-1)![1] !== row.status) {
      throw new Error(`job ${job.id} is ${row.status} but its history ends at ${chain.at(-1)![1]}`);
    }
    previous.set(job.id, { status: row.status, attempt: row.attempt, presumed: row.presumed });
  }
  // No reader sees an active status for a job whose writer is silent past its threshold, unless a
  // pass saw the backend's progress move recently enough to vouch for it until the next pass.
  const { rows: lying } = await db.query(
    `
    select v.id from public.local_training_jobs_effective v join public.job_staleness_policy p on p.status = v.effective_status
    where now() - v.heartbeat_at > p.stale_after
      and (v.confirmed_at is null or now() - v.confirmed_at > p.stale_after + make_interval(secs => $1))`,
    [PASS_INTERVAL_S],
  );
  if (lying.length) throw new Error(`readers see ${lying.length} silent job(s) as active`);
}
