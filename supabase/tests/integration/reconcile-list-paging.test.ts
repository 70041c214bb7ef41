// A backend's list read in pages (`?cursor=`, issue 13) by the real function: pages of rows (100)
// and pages of the list (40 here) interleave, and the decisions come out as the whole list would
// make them. A shard reads only its own part of the list. A cursor that misbehaves is that
// backend's error, never the pass's crash, and absences seen before it broke off fail no one.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { jobRow, makeJob } from "../support/jobs.ts";
import { type ReconcileFixture, reconcileFixture } from "../support/reconcile-fixture.ts";

let f: ReconcileFixture;

beforeAll(async () => {
  f = await reconcileFixture({ env: { RECONCILE_PAGE_SIZE: "100" } });
});
afterAll(async () => f?.teardown());
beforeEach(async () => {
  f.sim.listEndpoint = true;
  f.sim.listPaging = true;
  f.sim.listCursorFault = null;
  f.sim.listPageCap = 40;
  f.sim.jobs.clear();
  f.sim.listRequests = 0;
  await f.db.pool.query("delete from public.local_training_jobs");
  await f.db.pool.query("delete from jobs_private.reconcile_runs");
});

const many = (n: number, opts: Parameters<typeof makeJob>[1] = {}) =>
  Promise.all(Array.from({ length: n }, () => makeJob(f.db.pool, opts)));

describe("a paged list", () => {
  it("is read page by page alongside the rows, and a job is lost only where the list has gone past it", async () => {
    const alive = await many(250);
    const ghosts = await many(30, { silentSeconds: 3_600 });
    for (const id of alive) f.sim.adopt({ id, status: "running" });
    const { status, body } = await f.fn.call();
    expect(status).toBe(200);
    expect(body).toMatchObject({
      outcome: "applied", observed: 280, applied: { note_progress: 250, fail_lost: 30 },
      backends: [{ mode: "list", reachable: true, error: null, jobs: 280 }],
    });
    expect(f.sim.listRequests).toBeGreaterThanOrEqual(Math.ceil(250 / 40));
    for (const id of ghosts) expect((await jobRow(f.db.pool, id)).status).toBe("failed");
    for (const id of alive) expect((await jobRow(f.db.pool, id)).status).toBe("running");
  });

  it("is read whole, in one request, from a backend that ignores the cursor", async () => {
    f.sim.listPaging = false;
    const alive = await many(120);
    const ghosts = await many(10, { silentSeconds: 3_600 });
    for (const id of alive) f.sim.adopt({ id, status: "running" });
    const { body } = await f.fn.call();
    expect(body).toMatchObject({ outcome: "applied", applied: { note_progress: 120, fail_lost: 10 } });
    expect(f.sim.listRequests).toBe(1);
    for (const id of ghosts) expect((await jobRow(f.db.pool, id)).status).toBe("failed");
  });

  it("is read by each shard from its own range only", async () => {
    const alive = await many(400);
    for (const id of alive) f.sim.adopt({ id, status: "running" });
    const wholeListPages = Math.ceil(400 / 40);
    const shards = 4;
    const bodies = await Promise.all(Array.from({ length: shards }, (_, shard) =>
      f.fn.call({ body: { trigger: "cron", shard, shards } }).then((r) => r.body)));
    expect(bodies.reduce((n, b) => n + (b.applied.note_progress ?? 0), 0)).toBe(400);
    // Each shard reads its tenth of the pages plus at most one page across each edge, not the whole list.
    expect(f.sim.listRequests).toBeLessThanOrEqual(wholeListPages + 2 * shards);
  });
});

describe("a hostile cursor", () => {
  const cases = [
    ["loop", "does not move forward"],
    ["repeat", "repeated across pages"],
    ["number", "next_cursor is a number"],
    ["huge", "longer than 1000 characters"],
  ] as const;
  for (const [fault, reason] of cases) {
    it(`(${fault}) is that backend's error, and fails no job on a list it did not finish`, async () => {
      f.sim.listCursorFault = fault;
      f.sim.listPageCap = 100; // the first page answers for the first page of rows; the second breaks
      const live = await many(200, { silentSeconds: 30 });
      const dead = await many(60, { silentSeconds: 300 }); // absent and recently alive: sudden deaths
      for (const id of live) f.sim.adopt({ id, status: "running" });
      const { status, body } = await f.fn.call();
      expect(status).toBe(200);
      expect(body.backends).toEqual([expect.objectContaining({ mode: "list", reachable: false, error: expect.stringContaining(reason) })]);
      expect(body.applied.fail_lost ?? 0).toBe(0);
      for (const id of dead) expect((await jobRow(f.db.pool, id)).status).toBe("running");
      const parked = await f.db.pool.query("select count(*)::int as n from jobs_private.reconcile_deferred_changes");
      expect(parked.rows[0].n).toBe(0);
    });
  }
});
