// A pass in pages (issue 13): pages of 100 here, so a few hundred jobs cross many pages. The
// decisions and the guard must come out as one pass over everything would make them; shards of one
// tick must cover every job exactly once, each with its own lease.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { jobRow, makeJob, runs } from "../../../dev/lib/jobs.ts";
import { type ReconcileFixture, reconcileFixture } from "../../../dev/lib/reconcile-fixture.ts";

let f: ReconcileFixture;

beforeAll(async () => {
  f = await reconcileFixture({ env: { RECONCILE_PAGE_SIZE: "100" } });
});
afterAll(async () => f?.teardown());
beforeEach(async () => {
  f.sim.reset();
  f.sim.listEndpoint = true;
  await f.db.pool.query("delete from public.local_training_jobs");
  await f.db.pool.query("delete from jobs_private.reconcile_passes");
});

const many = (n: number, opts: Parameters<typeof makeJob>[1] = {}) =>
  Promise.all(Array.from({ length: n }, () => makeJob(f.db.pool, opts)));

describe("a pass in pages", () => {
  it("decides and applies every page, and counts the pass as a whole", async () => {
    const alive = await many(250);
    const ghosts = await many(30, { silentSeconds: 3_600 });
    for (const id of alive) f.sim.adopt({ id, status: "running" });
    const { body } = await f.fn.call();
    expect(body).toMatchObject({
      outcome: "applied", observed: 280, planned: { note_progress: 250, fail_lost: 30 },
      applied: { note_progress: 250, fail_lost: 30 }, conflicts: 0, backends: [{ mode: "list", reachable: true, jobs: 280 }],
    });
    for (const id of ghosts) expect((await jobRow(f.db.pool, id)).status).toBe("failed");
    expect((await runs(f.db.pool)).at(-1)).toMatchObject({ outcome: "applied", counts: expect.objectContaining({ applied: { note_progress: 250, fail_lost: 30 } }) });
  });

  it("holds a mass outage spread over many pages: the guard sees the whole backend before failing anyone", async () => {
    // 150 sudden deaths and 100 live jobs: no single page of 100 shows a majority dead,
    // the pass does (150 of 250).
    const dead = await many(150, { silentSeconds: 300 });
    const live = await many(100, { silentSeconds: 300 });
    for (const id of live) f.sim.adopt({ id, status: "running" });
    const { body } = await f.fn.call();
    expect(body).toMatchObject({ outcome: "held", held: true, presumed_deaths: 150, planned: { leave: 150, note_progress: 100 } });
    expect(body.applied).toEqual({ note_progress: 100 });
    for (const id of dead) expect((await jobRow(f.db.pool, id)).status).toBe("running");
    const parked = await f.db.pool.query("select count(*)::int as n from jobs_private.reconcile_deferred_changes");
    expect(parked.rows[0].n).toBe(0); // nothing stays parked after the pass
  });

  it("applies sudden deaths below the guard's share after the last page", async () => {
    const dead = await many(20, { silentSeconds: 300 });
    const live = await many(200, { silentSeconds: 30 });
    for (const id of live) f.sim.adopt({ id, status: "running" });
    const { body } = await f.fn.call();
    expect(body).toMatchObject({ outcome: "applied", held: false, applied: { fail_lost: 20 } });
    for (const id of dead) expect((await jobRow(f.db.pool, id)).status_evidence).toMatchObject({ rule: "fail_lost", pass_id: body.pass_id });
  });
});

describe("shards of one tick", () => {
  it("cover every job exactly once, side by side, each with its own lease", async () => {
    const ids = await many(300, { silentSeconds: 3_600 }); // all lost: every one must be failed once
    const shards = 4;
    const bodies = await Promise.all(Array.from({ length: shards }, (_, shard) =>
      f.fn.call({ body: { trigger: "cron", shard, shards } }).then((r) => r.body)));
    expect(bodies.map((b) => b.outcome)).toEqual(["applied", "applied", "applied", "applied"]);
    expect(bodies.reduce((n, b) => n + b.observed, 0)).toBe(300);
    expect(bodies.reduce((n, b) => n + (b.applied.fail_lost ?? 0), 0)).toBe(300);
    for (const id of ids) expect((await jobRow(f.db.pool, id)).status).toBe("failed");
    const recorded = await f.db.pool.query("select shard, shards from jobs_private.reconcile_passes order by shard");
    expect(recorded.rows).toEqual([0, 1, 2, 3].map((shard) => ({ shard, shards })));
  });

  it("refuses a shard outside 0..shards-1", async () => {
    const { status, body } = await f.fn.call({ body: { shard: 4, shards: 4 } });
    expect(status).toBe(400);
    expect(body.error).toContain("shard must be");
  });
});
