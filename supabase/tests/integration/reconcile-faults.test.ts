// What must not go wrong: malformed or hanging backends, a heartbeat racing the apply, two
// passes at once, a detector that sees everything dead, a dry run. Plus list mode and fleets.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TrainingBackendSimulator } from "../../../dev/simulator/training-backend.ts";
import { history, jobRow, makeJob, runs } from "../../../dev/lib/jobs.ts";
import { type ReconcileFixture, reconcileFixture } from "../../../dev/lib/reconcile-fixture.ts";

const DEADLINE_MS = 3_000;
let f: ReconcileFixture;

beforeAll(async () => {
  f = await reconcileFixture({
    settings: { request_timeout: "500 milliseconds", deadline: `${DEADLINE_MS} milliseconds`, concurrency: 2 },
  });
});
afterAll(async () => f?.teardown());
beforeEach(async () => {
  f.sim.reset();
  await f.db.pool.query("delete from public.local_training_jobs");
});

describe("malformed or absent answers change nothing wrongly", () => {
  it.each(["garbage", "wrong-types", "huge", "error500", "hang"] as const)(
    "backend answering %s: jobs inside the hard timeout stay, the seed's 10-minute rule still applies",
    async (mode) => {
      const inside = await makeJob(f.db.pool, { silentSeconds: 599 }); // must not be touched
      const past = await makeJob(f.db.pool, { silentSeconds: 601 });
      f.sim.adopt({ id: inside, status: "completed" }); // the truth it cannot tell us
      f.sim.adopt({ id: past, status: "running" });
      f.sim.mode = mode;

      const { status, body } = await f.fn.call();
      expect(status).toBe(200);
      expect(body).toMatchObject({ backend_reachable: false, applied: { fail_heartbeat_lost: 1 } });
      expect(body.duration_ms).toBeLessThan(DEADLINE_MS);
      expect(await jobRow(f.db.pool, inside)).toMatchObject({ status: "running" });
      expect(await jobRow(f.db.pool, past)).toMatchObject({ status: "failed", status_reason: "heartbeat lost" });
    },
  );

  it("a backend that never answers cannot keep the pass past its deadline", async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, () => makeJob(f.db.pool, { silentSeconds: 60 })));
    // The list is not offered (404), so each job is asked on its own, and each status request hangs:
    // 20 jobs, 2 at a time, 500 ms each is 5 s of asking, against a 3 s deadline.
    f.sim.mode = "hang";
    f.sim.faultOnList = false;
    const { body } = await f.fn.call({ query: "?dry_run=1" });
    expect(body.duration_ms).toBeLessThan(DEADLINE_MS);
    expect(body).toMatchObject({
      observed: 20,
      planned: { leave: 20 },
      backends: [{ mode: "per-job", reachable: false }],
    });
    const answers = body.plan.map((p: { backend_answer: { detail: string } }) => p.backend_answer.detail);
    expect(answers).toContain("timed out after 500 ms");
    expect(answers).toContain("pass deadline reached"); // the deadline, not the job count, ended the asking
    for (const id of ids) expect((await jobRow(f.db.pool, id)).status).toBe("running");
  });
});

describe("races", () => {
  it("a heartbeat committed between the pass's observation and its apply survives", async () => {
    const id = await makeJob(f.db.pool, { silentSeconds: 3_600 }); // unknown to the backend: would be failed
    f.sim.onStatusRequest = async () => {
      // The worker writes while the reconciler is still asking the backend.
      await f.db.pool.query("update public.local_training_jobs set config = '{\"progress\": 0.5}' where id = $1", [id]);
    };
    const { body } = await f.fn.call();
    expect(body).toMatchObject({ planned: { fail_lost: 1 }, applied: {}, conflicts: 1 });
    expect(await jobRow(f.db.pool, id)).toMatchObject({ status: "running", effective_status: "running" });
    expect(await history(f.db.pool, id)).toHaveLength(1);
  });

  it("two concurrent passes apply once, with no duplicate history", async () => {
    const ids = await Promise.all(Array.from({ length: 3 }, () => makeJob(f.db.pool, { silentSeconds: 3_600 })));
    // Latches, not sleeps: the first pass is known to hold its lease once it asks the backend, and
    // it cannot finish while this test holds the rows' locks (its guarded apply waits on them, with
    // no timeout), so the second pass always meets a held lease.
    const locker = await f.db.pool.connect();
    await locker.query("begin");
    await locker.query("select id from public.local_training_jobs where id = any($1) for update", [ids]);
    let firstPassAsking!: () => void;
    const firstPassIsAsking = new Promise<void>((resolve) => (firstPassAsking = resolve));
    f.sim.onStatusRequest = async () => firstPassAsking();
    const before = (await runs(f.db.pool)).length;
    const first = f.fn.call();
    const endedBeforeAsking = first.then(() => Promise.reject(new Error("the first pass ended before asking")));
    endedBeforeAsking.catch(() => undefined); // raced once below; its later rejection is expected
    let b: Awaited<typeof first>;
    try {
      await Promise.race([firstPassIsAsking, endedBeforeAsking]);
      b = await f.fn.call();
    } finally {
      await locker.query("commit");
      locker.release();
    }
    const a = await first;
    expect([a.body.outcome, b.body.outcome].sort()).toEqual(["applied", "skipped"]);
    for (const id of ids) {
      expect((await history(f.db.pool, id)).filter((h) => h.to_status === "failed")).toHaveLength(1);
    }
    const recorded = (await runs(f.db.pool)).slice(before).map((r) => r.outcome).sort();
    expect(recorded).toEqual(["applied", "skipped"]);
  });
});

describe("the mass-outage guard", () => {
  it("holds when every job looks dead at once: fails none, and says so", async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, () => makeJob(f.db.pool, { silentSeconds: 300 })));
    const { body } = await f.fn.call(); // the backend knows none of them
    expect(body).toMatchObject({ outcome: "held", held: true, presumed_deaths: 6, planned: { leave: 6 }, applied: {} });
    for (const id of ids) expect((await jobRow(f.db.pool, id)).status).toBe("running");
    expect((await runs(f.db.pool)).at(-1)).toMatchObject({ id: body.pass_id, outcome: "held" });
  });
});

describe("dry run", () => {
  it("returns the plan and writes nothing", async () => {
    const id = await makeJob(f.db.pool, { silentSeconds: 3_600 });
    const snapshot = async () => ({
      jobs: (await f.db.pool.query("select * from public.local_training_jobs order by id")).rows,
      history: (await f.db.pool.query("select count(*) from public.local_training_job_history")).rows,
      runs: await runs(f.db.pool),
    });
    const before = await snapshot();
    const { body } = await f.fn.call({ query: "?dry_run=1" });
    expect(body).toMatchObject({ outcome: "dry_run", dry_run: true, planned: { fail_lost: 1 } });
    expect(body.plan).toEqual([
      expect.objectContaining({ job_id: id, action: expect.objectContaining({ type: "fail_lost" }) }),
    ]);
    expect(await snapshot()).toEqual(before);
  });
});

describe("asking backends", () => {
  it("uses one list request instead of one per job when the backend offers it", async () => {
    const ids = await Promise.all(Array.from({ length: 5 }, () => makeJob(f.db.pool)));
    for (const id of ids) f.sim.adopt({ id, status: "running" });
    f.sim.listEndpoint = true;
    const status = f.sim.statusRequests;
    const list = f.sim.listRequests;
    const { body } = await f.fn.call();
    expect(body).toMatchObject({ applied: { note_progress: 5 }, backends: [{ mode: "list", reachable: true }] }); // first sighting: markers noted
    expect(f.sim.listRequests - list).toBe(1);
    expect(f.sim.statusRequests - status).toBe(0);
  });

  it("asks each backend of a fleet about its own jobs only", async () => {
    const other = await new TrainingBackendSimulator({ databaseUrl: f.db.url, heartbeatMs: 3_600_000 }).start();
    try {
      const mine = await makeJob(f.db.pool, { silentSeconds: 300, backendUrl: other.url });
      const defaults = await makeJob(f.db.pool, { silentSeconds: 300 });
      other.adopt({ id: mine, status: "running" }); // the default backend has never heard of it
      f.sim.adopt({ id: defaults, status: "running" });
      const { body } = await f.fn.call();
      expect(body.applied).toEqual({ note_progress: 2 }); // first sighting: markers noted
      expect(body.backends.map((b: { url: string }) => b.url).sort()).toEqual([f.sim.url, other.url].sort());
    } finally {
      await other.stop();
    }
  });
});
