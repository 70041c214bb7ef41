// A pass in pages (issue 13): pages of 100 here, so a few hundred jobs cross many pages. The
// decisions and the guard must come out as one pass over everything would make them; shards of one
// tick must cover every job exactly once, each with its own lease. A backend's list is read in
// pages too (`?cursor=`), alongside the rows, and a shard reads only its own part of it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { jobRow, makeJobs, runs } from "../../../dev/lib/jobs.ts";
import { type ReconcileFixture, reconcileFixture } from "../../../dev/lib/reconcile-fixture.ts";
import { runReconcilePass } from "../../functions/_shared/reconcile/mod.ts";
import type { Queryable } from "../../functions/_shared/reconcile/database.ts";

let f: ReconcileFixture;

beforeAll(async () => {
  f = await reconcileFixture({ settings: { page_size: 100 } });
});
afterAll(async () => f?.teardown());
beforeEach(async () => {
  f.sim.reset();
  f.sim.listEndpoint = true;
  f.sim.listPaging = true;
  await f.db.pool.query("delete from public.local_training_jobs");
  await f.db.pool.query("delete from jobs_private.reconcile_passes");
});

const many = (n: number, opts: Parameters<typeof makeJobs>[2] = {}) => makeJobs(f.db.pool, n, opts);

describe("a pass in pages", () => {
  it("decides and applies every page, and counts the pass as a whole", async () => {
    const alive = await many(250);
    const ghosts = await many(30, { silentSeconds: 3_600 });
    for (const id of alive) f.sim.adopt({ id, status: "running" });
    const { body } = await f.fn.call();
    expect(body).toMatchObject({
      outcome: "applied",
      observed: 280,
      planned: { note_progress: 250, fail_lost: 30 },
      applied: { note_progress: 250, fail_lost: 30 },
      conflicts: 0,
      backends: [{ mode: "list", reachable: true, jobs: 280 }],
    });
    for (const id of ghosts) expect((await jobRow(f.db.pool, id)).status).toBe("failed");
    expect((await runs(f.db.pool)).at(-1)).toMatchObject({
      outcome: "applied",
      counts: expect.objectContaining({ applied: { note_progress: 250, fail_lost: 30 } }),
    });
  });

  it("holds a mass outage spread over many pages: the guard sees the whole backend before failing anyone", async () => {
    // 150 sudden deaths and 100 live jobs: no single page of 100 shows a majority dead,
    // the pass does (150 of 250).
    const dead = await many(150, { silentSeconds: 300 });
    const live = await many(100, { silentSeconds: 300 });
    for (const id of live) f.sim.adopt({ id, status: "running" });
    const { body } = await f.fn.call();
    expect(body).toMatchObject({
      outcome: "held",
      held: true,
      presumed_deaths: 150,
      planned: { leave: 150, note_progress: 100 },
    });
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
    for (const id of dead) {
      expect((await jobRow(f.db.pool, id)).status_evidence).toMatchObject({ rule: "fail_lost", pass_id: body.pass_id });
    }
  });
});

describe("the next page read while this one is written", () => {
  /** The pool, with each statement's start and end in one log, named by the function it calls. */
  const logged = (fail?: (text: string, values?: unknown[]) => boolean) => {
    const log: string[] = [];
    const db: Queryable = {
      async query(text, values) {
        const name = /jobs_private\.(\w+)/.exec(text)?.[1] ?? "other";
        const page = name === "observe_reconcile_page" ? `(${values?.[0] === null ? "first" : "next"})` : "";
        log.push(`start ${name}${page}`);
        try {
          if (fail?.(text, values)) throw new Error("connection reset while reading the page");
          return await f.db.pool.query(text, values);
        } finally {
          log.push(`end ${name}${page}`);
        }
      },
    };
    return { db, log };
  };

  it("asks for the next page before this page's apply has finished, and applies every page", async () => {
    const ghosts = await many(250, { silentSeconds: 3_600 });
    const { db, log } = logged();
    const summary = await runReconcilePass({
      db,
      fetch,
      trigger: "test",
      dryRun: false,
      overrides: { backend_url: f.sim.url },
    });
    expect(summary).toMatchObject({ outcome: "applied", observed: 250, applied: { fail_lost: 250 } });
    for (const id of ghosts) expect((await jobRow(f.db.pool, id)).status).toBe("failed");
    const firstApplyEnds = log.indexOf("end apply_reconcile_changes");
    expect(log.indexOf("start observe_reconcile_page(next)")).toBeGreaterThan(-1);
    expect(log.indexOf("start observe_reconcile_page(next)")).toBeLessThan(firstApplyEnds);
    // Three pages of 100 and no more: each page asked once, the last (50 rows) asks for none after it.
    expect(log.filter((l) => l.startsWith("start observe_reconcile_page"))).toHaveLength(3);
  });

  it("fails the pass with the read's error when the page read ahead fails, after the page before it is applied", async () => {
    const ghosts = await many(150, { silentSeconds: 3_600 });
    const { db } = logged((text, values) => text.includes("observe_reconcile_page") && values?.[0] !== null);
    await expect(
      runReconcilePass({ db, fetch, trigger: "test", dryRun: false, overrides: { backend_url: f.sim.url } }),
    ).rejects.toThrow("connection reset while reading the page");
    // The first page (the 100 lowest ids) was written before the failure surfaced; nothing after it.
    const statuses = await Promise.all([...ghosts].sort().map(async (id) => (await jobRow(f.db.pool, id)).status));
    expect(statuses.slice(0, 100).every((s) => s === "failed")).toBe(true);
    expect(statuses.slice(100).every((s) => s === "running")).toBe(true);
    expect((await runs(f.db.pool)).at(-1)).toMatchObject({ outcome: "failed" });
  });
});

describe("shards of one tick", () => {
  it("cover every job exactly once, side by side, each with its own lease", async () => {
    const ids = await many(300, { silentSeconds: 3_600 }); // all lost: every one must be failed once
    const shards = 4;
    const bodies = await Promise.all(
      Array.from(
        { length: shards },
        (_, shard) => f.fn.call({ body: { trigger: "cron", shard, shards } }).then((r) => r.body),
      ),
    );
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

describe("a paged list (?cursor=)", () => {
  beforeEach(() => {
    f.sim.listPageCap = 40; // pages of the list (40) and of rows (100) interleave
  });

  it("is read page by page alongside the rows, and a job is lost only where the list has gone past it", async () => {
    const alive = await many(250);
    const ghosts = await many(30, { silentSeconds: 3_600 });
    for (const id of alive) f.sim.adopt({ id, status: "running" });
    const { status, body } = await f.fn.call();
    expect(status).toBe(200);
    expect(body).toMatchObject({
      outcome: "applied",
      observed: 280,
      applied: { note_progress: 250, fail_lost: 30 },
      backends: [{ mode: "list", reachable: true, error: null, jobs: 280 }],
    });
    expect(f.sim.listRequests).toBeGreaterThanOrEqual(Math.ceil(250 / 40));
    for (const id of ghosts) expect((await jobRow(f.db.pool, id)).status).toBe("failed");
    for (const id of alive) expect((await jobRow(f.db.pool, id)).status).toBe("running");
  });

  it("is asked for listPageLimit(page_size) entries per request, once the backend has shown that it pages", async () => {
    await f.db.pool.query("update jobs_private.reconcile_settings set page_size = 1500");
    try {
      const alive = await many(250);
      for (const id of alive) f.sim.adopt({ id, status: "running" });
      const { body } = await f.fn.call();
      expect(body).toMatchObject({ outcome: "applied", applied: { note_progress: 250 } });
      // The first request carries only the cursor (list-pages.ts); every later one the setting (1,500 here).
      expect(f.sim.listLimits[0]).toBeNull();
      expect(f.sim.listLimits.length).toBeGreaterThanOrEqual(Math.ceil(250 / 40));
      expect(new Set(f.sim.listLimits.slice(1))).toEqual(new Set(["1500"]));
    } finally {
      await f.db.pool.query("update jobs_private.reconcile_settings set page_size = 100");
    }
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
    const bodies = await Promise.all(
      Array.from(
        { length: shards },
        (_, shard) => f.fn.call({ body: { trigger: "cron", shard, shards } }).then((r) => r.body),
      ),
    );
    expect(bodies.reduce((n, b) => n + (b.applied.note_progress ?? 0), 0)).toBe(400);
    // Each shard reads its tenth of the pages plus at most one page across each edge, not the whole list.
    expect(f.sim.listRequests).toBeLessThanOrEqual(wholeListPages + 2 * shards);
  });
});

// A cursor that misbehaves is that backend's error, never the pass's crash, and absences seen
// before the list broke off fail no one.
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
      expect(body.backends).toEqual([
        expect.objectContaining({ mode: "list", reachable: false, error: expect.stringContaining(reason) }),
      ]);
      expect(body.applied.fail_lost ?? 0).toBe(0);
      for (const id of dead) expect((await jobRow(f.db.pool, id)).status).toBe("running");
      const parked = await f.db.pool.query("select count(*)::int as n from jobs_private.reconcile_deferred_changes");
      expect(parked.rows[0].n).toBe(0);
    });
  }

  it("shows in a dry run's plan the deaths the apply would hold", async () => {
    f.sim.listCursorFault = "loop";
    f.sim.listPageCap = 100;
    const live = await many(200, { silentSeconds: 30 });
    await many(60, { silentSeconds: 300 });
    for (const id of live) f.sim.adopt({ id, status: "running" });
    const { body } = await f.fn.call({ query: "?dry_run=1" });
    expect(body).toMatchObject({ outcome: "dry_run", held_why: expect.stringContaining("broke off") });
    const planned = body.plan.map((p: { action: { type: string } }) => p.action.type);
    expect(planned).not.toContain("fail_lost");
    const held = body.plan.filter((p: { action: { why?: string } }) =>
      p.action.why === "held: the backend's list broke off"
    );
    expect(held.length).toBeGreaterThan(0);
  });
});
