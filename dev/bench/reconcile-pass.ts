// A reconcile pass at 10k active jobs among 1M, three ways, on the same rows:
//   ours:  the list request plus one SQL call (runReconcilePass, the function's core)
//   seed:  the seed's loop: one status call and one UPDATE per job, in order
//   floor: a bare UPDATE ... WHERE id = ANY(...) of the rows the pass writes (triggers off)
// Between runs the rows are put back as they were, so each run does the same work.
import pg from "pg";
import {
  type FinishedPass,
  type PassSummary,
  runReconcilePass,
} from "../../supabase/functions/_shared/reconcile/mod.ts";
import type { TrainingBackendSimulator } from "../simulator/training-backend.ts";
import { median, timeIt } from "./timing.ts";

/** 90% alive, 5% finished in the backend, 5% lost by it (silent for an hour). */
export async function stageBackend(db: pg.Client, sim: TrainingBackendSimulator, active: string[]) {
  sim.jobs.clear();
  const lost: string[] = [];
  active.forEach((id, i) => {
    if (i % 20 === 0) lost.push(id);
    else if (i % 20 === 1) sim.adopt({ id, status: "completed", completedAt: new Date().toISOString() });
    else sim.adopt({ id, status: "running" });
  });
  return { lost };
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
}

export async function benchReconcilePass(url: string, sim: TrainingBackendSimulator, active: string[], runs: number) {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const { lost } = await stageBackend(db, sim, active);
  sim.listEndpoint = true;

  const ours: number[] = [];
  let written = 0;
  let summary: PassSummary | null = null;
  for (let i = 0; i < runs; i++) {
    await resetRows(db, active, lost);
    ours.push(
      await timeIt(async () => {
        summary = await runReconcilePass({
          db: pool,
          fetch,
          overrides: { backend_url: sim.url },
          trigger: "bench",
          dryRun: false,
        });
      }),
    );
    const applied = (summary as PassSummary | null)?.outcome === "applied"
      ? (summary as unknown as FinishedPass).applied
      : {};
    written = Object.values(applied).reduce((a: number, b) => a + (b ?? 0), 0);
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

  // The floor: the same rows, one bare statement, no triggers, no observation, no backend.
  const floor: number[] = [];
  for (let i = 0; i < runs; i++) {
    await resetRows(db, active, lost);
    await db.query("begin");
    await db.query("set local session_replication_role = replica");
    floor.push(
      await timeIt(() =>
        db.query("update public.local_training_jobs set updated_at = now() where id = any($1)", [active])
      ),
    );
    await db.query("commit");
  }
  await resetRows(db, active, lost);
  await pool.end();
  await db.end();
  return { oursMs: median(ours), seedMs: median(seed), floorMs: median(floor), written, summary };
}
