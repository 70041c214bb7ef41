// A reconcile pass at 10k active jobs among 1M, three ways, on the same rows:
//   ours:  the list request plus one SQL call (runReconcilePass, the function's core)
//   seed:  the seed's loop: one status call and one UPDATE per job, in order
//   floor: what any pass must do, each part bare: read the active rows' columns the pass reads, in
//          pages of the same size by id; read the backend's whole list, page by page, and parse it;
//          one UPDATE ... FROM unnest(...) of just the rows the pass changes, with the same columns
//          (triggers off). A pass observes every row and writes only changes, so this is its floor.
// Between runs the rows are put back as they were, so each run does the same work.
import pg from "pg";
import {
  type FinishedPass,
  type PassSummary,
  runReconcilePass,
} from "../../supabase/functions/_shared/reconcile/mod.ts";
import type { TrainingBackendSimulator } from "../simulator/training-backend.ts";
import { median, timeIt } from "./timing.ts";
import { listPageLimit } from "../../supabase/functions/_shared/reconcile/list-pages.ts";

/** 90% alive, 5% finished in the backend, 5% lost by it (silent for an hour). */
export async function stageBackend(db: pg.Client, sim: TrainingBackendSimulator, active: string[]) {
  sim.jobs.clear();
  const lost: string[] = [];
  const finished: string[] = [];
  active.forEach((id, i) => {
    if (i % 20 === 0) lost.push(id);
    else if (i % 20 === 1) {
      finished.push(id);
      sim.adopt({ id, status: "completed", completedAt: new Date().toISOString() });
    } else sim.adopt({ id, status: "running" });
  });
  return { lost, finished };
}

// The columns observe_reconcile_page reads, as plain rows: the floor of observing.
const OBSERVE_FLOOR_SQL = `select id, status, backend_url, updated_at, heartbeat_at, confirmed_at, confirmed_until,
    progress_marker, cancel_requested_at, cancel_forwarded_at, progress, config -> 'progress' as config_progress
  from public.local_training_jobs
  where status = any (jobs_private.active_statuses()) and id > $1 order by id limit $2`;
// The columns the apply writes for a death or a backend's terminal answer.
const WRITE_FLOOR_SQL = `update public.local_training_jobs j
  set status = u.status, status_reason = u.reason, status_evidence = u.evidence, completed_at = now(), updated_at = now()
  from unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[]) as u(id, status, reason, evidence) where j.id = u.id`;

/**
 * The floor of one pass: observe, list, write the changes; each bare, one after the other. With
 * `tableTriggers` the write runs the table's own triggers (history, stamping) as the reconciler's
 * write, as every writer's status change does: the floor a pass could reach on this table.
 */
async function passFloor(
  db: pg.Client,
  sim: TrainingBackendSimulator,
  changes: { lost: string[]; finished: string[] },
  { tableTriggers = false } = {},
) {
  const pageSize = Number((await db.query("select page_size from jobs_private.reconcile_settings")).rows[0].page_size);
  for (let after = "00000000-0000-0000-0000-000000000000";;) {
    const { rows } = await db.query(OBSERVE_FLOOR_SQL, [after, pageSize]);
    if (rows.length === 0) break;
    after = rows[rows.length - 1].id;
  }
  for (let cursor: string | null = "";;) {
    const response: Response = await fetch(
      `${sim.url}/api/training/jobs?cursor=${cursor}&limit=${listPageLimit(pageSize)}`,
    );
    cursor = ((await response.json()) as { next_cursor: string | null }).next_cursor;
    if (cursor === null) break;
  }
  const ids = [...changes.lost, ...changes.finished];
  const statuses = ids.map((_, i) => (i < changes.lost.length ? "failed" : "completed"));
  const reasons = statuses.map((s) => (s === "failed" ? "lost: the backend does not know this job" : null));
  const evidence = statuses.map((s) => (s === "failed" ? JSON.stringify({ rule: "fail_lost" }) : null));
  await db.query("begin");
  await db.query(
    tableTriggers ? "set local jobs.actor = 'reconciler'" : "set local session_replication_role = replica",
  );
  await db.query(WRITE_FLOOR_SQL, [ids, statuses, reasons, evidence]);
  await db.query("commit");
}

async function resetRows(db: pg.Client, active: string[], lost: string[]) {
  await db.query("begin");
  await db.query("set local session_replication_role = replica");
  await db.query(
    `update public.local_training_jobs set status = 'running', status_reason = null, status_evidence = null,
                    completed_at = null, updated_at = now() - random() * interval '30 seconds' where id = any($1)`,
    [active],
  );
  await db.query(
    "update public.local_training_jobs set heartbeat_at = updated_at, confirmed_at = null, confirmed_until = null where id = any($1)",
    [active],
  );
  await db.query(
    "update public.local_training_jobs set updated_at = now() - interval '1 hour', heartbeat_at = now() - interval '1 hour' where id = any($1)",
    [lost],
  );
  await db.query("commit");
  await db.query("delete from jobs_private.reconcile_passes");
  // Every run starts from the same table: without it the dead row versions of the resets before it pile
  // up, and whatever runs last (the seed's loop took 12 s after 6 resets, 24 s after 19) pays for them.
  await db.query("vacuum public.local_training_jobs, public.local_training_job_history");
}

export async function benchReconcilePass(url: string, sim: TrainingBackendSimulator, active: string[], runs: number) {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const staged = await stageBackend(db, sim, active);
  const { lost } = staged;
  sim.listEndpoint = true;

  const pass = () =>
    runReconcilePass({ db: pool, fetch, overrides: { backend_url: sim.url }, trigger: "bench", dryRun: false });
  // One uncounted pass and floor first: the first pass after staging ran at twice a warm one (cold plans,
  // the pool's connections, V8's compile), a cost the every-minute cron pays once per function instance.
  await resetRows(db, active, lost);
  await pass();
  await resetRows(db, active, lost);
  await passFloor(db, sim, staged);

  // The pass and both floors in turns, each from the same rows and first in turn: whatever the
  // machine does meanwhile (a checkpoint, autovacuum) falls on all three alike. (All passes used to
  // run first, and both floors after the seed's 10k single UPDATEs.)
  const ours: number[] = [];
  const floor: number[] = [];
  const floorWithTriggers: number[] = [];
  let written = 0;
  let summary: PassSummary | null = null;
  const timed = [
    async () => {
      ours.push(
        await timeIt(async () => {
          summary = await pass();
        }),
      );
      const applied = (summary as PassSummary | null)?.outcome === "applied"
        ? (summary as unknown as FinishedPass).applied
        : {};
      written = Object.values(applied).reduce((a: number, b) => a + (b ?? 0), 0);
    },
    // The floor: the same work, each part bare (see passFloor); and the same with the table's triggers.
    async () => floor.push(await timeIt(() => passFloor(db, sim, staged))),
    async () => floorWithTriggers.push(await timeIt(() => passFloor(db, sim, staged, { tableTriggers: true }))),
  ];
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < timed.length; k++) {
      await resetRows(db, active, lost);
      await timed[(i + k) % timed.length]!();
    }
  }

  // The seed's loop, literally: ask about each job, then write it.
  const seedLoop = async () => {
    for (const id of active) {
      const response = await fetch(`${sim.url}/api/training/status/${id}`);
      const answer = response.status === 404 ? { status: "failed" } : await response.json() as { status: string };
      await db.query("update public.local_training_jobs set status = $2 where id = $1", [id, answer.status]);
    }
  };
  const seed: number[] = [];
  for (let i = 0; i < Math.max(1, Math.floor(runs / 3)); i++) {
    await resetRows(db, active, lost);
    seed.push(await timeIt(seedLoop));
  }
  await resetRows(db, active, lost);
  await pool.end();
  await db.end();
  return {
    oursMs: median(ours),
    seedMs: median(seed),
    floorMs: median(floor),
    floorWithTriggersMs: median(floorWithTriggers),
    written,
    changed: lost.length + staged.finished.length,
    summary,
  };
}
