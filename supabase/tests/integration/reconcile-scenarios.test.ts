// The seed's four failure scenarios, end to end: real Postgres, the real Edge Function under
// Deno, and the simulated training backend over HTTP.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { backdate, history, jobRow, makeUser, runs } from "../support/jobs.ts";
import { type ReconcileFixture, reconcileFixture } from "../support/reconcile-fixture.ts";

let f: ReconcileFixture;
let user: string;

beforeAll(async () => {
  f = await reconcileFixture();
  user = await makeUser(f.db.pool);
});
afterAll(async () => f?.teardown());
beforeEach(async () => {
  // Each scenario starts from a live backend holding no jobs, and an empty table.
  if (f.sim.jobs.size || !(await fetch(`${f.sim.url}/api/training/jobs`).catch(() => null))) await f.sim.restart();
  f.sim.persistenceDown = false;
  await f.db.pool.query("delete from public.local_training_jobs");
});

async function runningJob(model: string) {
  const job = await f.sim.execute({ userId: user, modelName: model });
  await f.sim.run(job.id);
  return job.id;
}

describe("scenario 1: the backend crashes", () => {
  it("fails a job silent past the hard timeout as 'heartbeat lost' while the backend stays down, and leaves one inside it", async () => {
    const past = await runningJob("past-hard-timeout");
    const inside = await runningJob("inside-hard-timeout");
    await f.sim.crash();
    await backdate(f.db.pool, past, 601); // 10 min 1 s: just past the seed's 10-minute rule
    await backdate(f.db.pool, inside, 599); // must not be touched

    const { status, body } = await f.fn.call({ body: { trigger: "test" } });
    expect(status).toBe(200);
    expect(body).toMatchObject({ outcome: "applied", backend_reachable: false, applied: { fail_heartbeat_lost: 1 } });

    expect(await jobRow(f.db.pool, past)).toMatchObject({ status: "failed", status_reason: "heartbeat lost" });
    const inside_ = await jobRow(f.db.pool, inside);
    expect(inside_).toMatchObject({ status: "running", effective_status: "stale" }); // readers already see the truth

    const [, , failed] = await history(f.db.pool, past);
    expect(failed).toMatchObject({ from_status: "running", to_status: "failed", actor: "reconciler", reason: "heartbeat lost" });
    expect(failed.evidence).toMatchObject({
      pass_id: body.pass_id, rule: "fail_heartbeat_lost", silent_for_s: 601, threshold_s: 600,
      backend_answer: { kind: "unreachable" },
    });
    const [run] = (await runs(f.db.pool)).slice(-1);
    expect(run).toMatchObject({ id: body.pass_id, outcome: "applied", backend_reachable: false });
  });

  it("fails jobs the restarted backend no longer knows, once past the grace period", async () => {
    const lost = await runningJob("lost-in-restart");
    const fresh = await runningJob("just-created");
    await f.sim.restart(); // memory is gone, as after the seed's backend restarts
    await backdate(f.db.pool, lost, 121); // just past the 2-minute grace
    await backdate(f.db.pool, fresh, 119); // within grace: may not have reached the backend yet

    const { body } = await f.fn.call();
    expect(body).toMatchObject({ outcome: "applied", backend_reachable: true, applied: { fail_lost: 1 } });
    expect(await jobRow(f.db.pool, lost)).toMatchObject({ status: "failed", status_reason: "lost: backend has no record" });
    expect(await jobRow(f.db.pool, fresh)).toMatchObject({ status: "running" });
  });
});

describe("scenario 2: the training process dies, and its monitor with it", () => {
  it("writes the backend's own verdict: failed, with its error text and time", async () => {
    const id = await runningJob("killed");
    f.sim.killProcess(id, "training process exited with signal SIGKILL");
    const { body } = await f.fn.call();
    expect(body).toMatchObject({ applied: { record_backend_terminal: 1 } });
    const row = await jobRow(f.db.pool, id);
    expect(row).toMatchObject({ status: "failed", status_reason: "training process exited with signal SIGKILL" });
    expect(row.completed_at.toISOString()).toBe(f.sim.jobs.get(id)!.completedAt);
  });
});

describe("scenario 3: the Next.js API is down while the job runs", () => {
  it("confirms the live job (no longer stale), then records its completion the API never delivered", async () => {
    const id = await runningJob("trains-through-outage");
    f.sim.persistenceDown = true;
    await f.sim.heartbeatNow(); // dropped: the API is down
    await backdate(f.db.pool, id, 300);
    expect(await jobRow(f.db.pool, id)).toMatchObject({ effective_status: "stale" });

    const first = await f.fn.call();
    expect(first.body).toMatchObject({ applied: { confirm_alive: 1 } });
    const confirmed = await jobRow(f.db.pool, id);
    expect(confirmed).toMatchObject({ status: "running", effective_status: "running" });
    expect(confirmed.silent_s).toBeLessThan(5);

    await f.sim.finish(id); // its final persist_job() fails too
    const second = await f.fn.call();
    expect(second.body).toMatchObject({ applied: { record_backend_terminal: 1 } });
    expect(await jobRow(f.db.pool, id)).toMatchObject({ status: "completed", status_reason: "backend reports completed" });
  });
});

describe("scenario 4: a server that runs for days accumulates ghosts", () => {
  it("clears ghosts on every pass, confirms queued jobs the backend holds, and leaves the fresh ones", async () => {
    const ghost = await runningJob("stuck-since-11-13");
    f.sim.lose(ghost);
    await backdate(f.db.pool, ghost, 86_400);
    const queued = (await f.sim.execute({ userId: user, modelName: "waiting-in-queue" })).id;
    await backdate(f.db.pool, queued, 25 * 60); // 25 min: confirmation must keep it from going stale at 30
    const recentGhost = await runningJob("lost-seconds-ago");
    f.sim.lose(recentGhost);
    await backdate(f.db.pool, recentGhost, 30); // within grace: must not be touched

    const { body } = await f.fn.call();
    expect(body).toMatchObject({ observed: 3, applied: { fail_lost: 1, confirm_alive: 1 } });
    expect(await jobRow(f.db.pool, ghost)).toMatchObject({ status: "failed", status_reason: "lost: backend has no record" });
    const q = await jobRow(f.db.pool, queued);
    expect(q).toMatchObject({ status: "queued", effective_status: "queued" });
    expect(q.silent_s).toBeLessThan(5);
    expect(await jobRow(f.db.pool, recentGhost)).toMatchObject({ status: "running" });
    expect(await history(f.db.pool, queued)).toHaveLength(1); // a confirmation is not a transition
  });
});
