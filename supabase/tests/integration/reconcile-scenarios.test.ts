// The seed's four failure scenarios and the cases found against its real backend, end to end:
// real Postgres, the real Edge Function under Deno, a simulated training backend over HTTP.
// Every case runs twice: against a backend exactly like the seed's training_server.py (forgets
// finished jobs, a dead monitor leaves "running", no list or cancel endpoint, blind upserts), and
// against one that follows this project's contract. Production timings throughout (grace 2 min,
// hard timeout 10 min, passes every 10 min, running stale after 2 min); time passes by backdating.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { requestCancelAsUser } from "../../../dev/lib/transaction.ts";
import type { BackendFlavor } from "../../../dev/simulator/training-backend.ts";
import { backdateJob, history, jobRow, makeJob, makeUser, runs } from "../../../dev/lib/jobs.ts";
import { type ReconcileFixture, reconcileFixture } from "../../../dev/lib/reconcile-fixture.ts";

const GRACE_S = 120;
const HARD_S = 600;

describe.each<BackendFlavor>(["seed", "contract"])("against a %s backend", (flavor) => {
  let f: ReconcileFixture;
  let user: string;
  const seed = flavor === "seed";

  beforeAll(async () => {
    f = await reconcileFixture({ sim: { flavor } });
    user = await makeUser(f.db.pool);
  });
  afterAll(async () => f?.teardown());
  beforeEach(async () => {
    // Each case starts from a live backend holding no jobs, and an empty table.
    await f.sim.restart();
    f.sim.persistenceDown = false;
    await f.db.pool.query("delete from public.local_training_jobs");
  });

  async function runningJob(model = "model") {
    const job = await f.sim.execute({ userId: user, modelName: model });
    await f.sim.run(job.id);
    return job.id;
  }
  const pass = async () => {
    const { status, body } = await f.fn.call({ body: { trigger: "test" } });
    expect(status).toBe(200);
    return body;
  };
  /** The training moves on; its monitor persists (unless the API is down). */
  const train = async (id: string) => {
    f.sim.advance(id);
    await f.sim.heartbeatNow().catch(() => undefined);
  };

  describe("scenario 1: the backend crashes", () => {
    it("fails a job silent past the hard timeout as 'heartbeat lost' while the backend stays down, and leaves one inside it", async () => {
      const past = await runningJob("past-hard-timeout");
      const inside = await runningJob("inside-hard-timeout");
      await f.sim.crash();
      await backdateJob(f.db.pool, past, HARD_S + 1);
      await backdateJob(f.db.pool, inside, HARD_S - 1); // must not be touched

      const body = await pass();
      expect(body).toMatchObject({ outcome: "applied", backend_reachable: false, applied: { fail_heartbeat_lost: 1 } });
      expect(await jobRow(f.db.pool, past)).toMatchObject({ status: "failed", status_reason: "heartbeat lost" });
      expect(await jobRow(f.db.pool, inside)).toMatchObject({ status: "running", effective_status: "stale" });
      const failed = (await history(f.db.pool, past)).at(-1);
      expect(failed).toMatchObject({ to_status: "failed", actor: "reconciler", reason: "heartbeat lost" });
      expect(failed.evidence).toMatchObject({
        pass_id: body.pass_id,
        rule: "fail_heartbeat_lost",
        silent_for_s: HARD_S + 1,
        writer_silent_s: HARD_S + 1,
        threshold_s: HARD_S,
        backend_answer: { kind: "unreachable" },
      });
    });

    it("restarting with 5 jobs lost at once: held (and says why), then failed once silent past the hard timeout", async () => {
      const ids = await Promise.all(Array.from({ length: 5 }, (_, i) => runningJob(`lost-in-restart-${i}`)));
      await f.sim.restart(); // memory is gone; the training died with it
      for (const id of ids) await backdateJob(f.db.pool, id, GRACE_S + 30);

      const held = await pass();
      expect(held).toMatchObject({ outcome: "held", held: true });
      expect(held.held_why).toContain("5 of 5 recently-alive jobs");
      expect(held.held_why).toContain(
        "Released when they are heard from, or once they are silent for the hard timeout",
      );
      for (const id of ids) {
        expect(await jobRow(f.db.pool, id)).toMatchObject({ status: "running", effective_status: "stale" });
      }
      const [run] = (await runs(f.db.pool)).slice(-1);
      expect(run.counts.held_why).toBe(held.held_why);

      for (const id of ids) await backdateJob(f.db.pool, id, HARD_S + 1);
      const released = await pass();
      expect(released).toMatchObject({ outcome: "applied", held: false, applied: { fail_lost: 5 } });
      for (const id of ids) {
        const row = await jobRow(f.db.pool, id);
        expect(row.status).toBe("failed");
        expect(row.status_reason).toMatch(/^lost: backend has no record/);
        expect((await history(f.db.pool, id)).at(-1)).toMatchObject({ actor: "reconciler" }); // not the seed's start-up rule
      }
    });

    it("after a restart and a reconnect, a job the backend registers within the grace period never reads failed", async () => {
      const id = await makeJob(f.db.pool, { userId: user }); // the app inserted it; the backend has not registered it yet
      await backdateJob(f.db.pool, id, 14);
      expect(await pass()).toMatchObject({ planned: { leave: 1 } });
      f.sim.adopt({ id, status: "running" });
      await pass();
      expect(await jobRow(f.db.pool, id)).toMatchObject({ status: "running", effective_status: "running" });
      expect((await history(f.db.pool, id)).map((h) => h.to_status)).not.toContain("failed");
    });

    it("a presumed death the writer contradicts is revived, with history", async () => {
      const id = await runningJob("back-from-the-dead");
      f.sim.lose(id);
      await backdateJob(f.db.pool, id, GRACE_S + 1);
      await pass();
      expect(await jobRow(f.db.pool, id)).toMatchObject({ status: "failed" });

      f.sim.adopt({ id, status: "running", userId: user, modelName: "back-from-the-dead" });
      await train(id); // the writer's legacy persist_job()
      const row = await jobRow(f.db.pool, id);
      expect(row).toMatchObject({ status: "running", effective_status: "running", completed_at: null });
      expect((await history(f.db.pool, id)).at(-1)).toMatchObject({
        from_status: "failed",
        to_status: "running",
        reason: "revived: a writer reported running after fail_lost",
      });
    });

    it("a presumed death the backend contradicts with progress is revived by the next pass", async () => {
      const id = await runningJob("backend-vouches");
      f.sim.persistenceDown = true; // no writer: only the backend can speak
      await pass(); // notes the progress marker
      f.sim.lose(id);
      await backdateJob(f.db.pool, id, GRACE_S + 1);
      await pass();
      expect(await jobRow(f.db.pool, id)).toMatchObject({ status: "failed" });
      f.sim.adopt({ id, status: "running", progress: 0.5, step: 50, progressAt: new Date().toISOString() });
      expect(await pass()).toMatchObject({ applied: { revive: 1 } });
      expect(await jobRow(f.db.pool, id)).toMatchObject({ status: "running", effective_status: "running" });
      expect((await history(f.db.pool, id)).at(-1)).toMatchObject({ to_status: "running", actor: "reconciler" });
    });
  });

  describe("scenario 2: the training process dies, and its monitor with it", () => {
    if (seed) {
      it("the seed's dict still says running: the claim refreshes nothing, the view reads stale, and the job fails as stalled", async () => {
        const id = await runningJob("killed");
        await pass(); // first sighting: notes the progress
        await train(id);
        await pass(); // progress moved: confirmed
        f.sim.killProcess(id); // the dict keeps saying running, progress frozen
        await backdateJob(f.db.pool, id, 130);

        expect(await pass()).toMatchObject({ planned: { note_progress: 1 } }); // no movement: the confirmation is withdrawn
        expect(await jobRow(f.db.pool, id)).toMatchObject({ status: "running", effective_status: "stale" });

        await backdateJob(f.db.pool, id, HARD_S - 1);
        expect(await pass()).toMatchObject({ planned: { leave: 1 } }); // must not be touched yet
        expect(await jobRow(f.db.pool, id)).toMatchObject({ effective_status: "stale" });

        await backdateJob(f.db.pool, id, HARD_S + 1);
        expect(await pass()).toMatchObject({ applied: { fail_stalled: 1 } });
        const row = await jobRow(f.db.pool, id);
        expect(row.status).toBe("failed");
        expect(row.status_reason).toMatch(
          /^stalled: backend says running, no progress for \d+ min, writer silent \d+ min$/,
        );
        expect(row.status_evidence).toMatchObject({ rule: "fail_stalled", threshold_s: HARD_S });
        expect(row.status_evidence.writer_silent_s).toBeGreaterThan(HARD_S);
        expect(row.status_evidence.progress_silent_s).toBeGreaterThan(HARD_S);
      });
    } else {
      it("writes the backend's own verdict: failed, with its error text and time", async () => {
        const id = await runningJob("killed");
        f.sim.killProcess(id, "training process exited with signal SIGKILL");
        expect(await pass()).toMatchObject({ applied: { record_backend_terminal: 1 } });
        const row = await jobRow(f.db.pool, id);
        expect(row).toMatchObject({ status: "failed", status_reason: "training process exited with signal SIGKILL" });
        expect(row.completed_at.toISOString()).toBe(f.sim.jobs.get(id)!.completedAt);
      });
    }
  });

  describe("scenario 3: the Next.js API is down", () => {
    it("at production cadence, a job whose backend shows progress keeps reading running for the whole outage", async () => {
      const id = await runningJob("trains-through-outage");
      f.sim.persistenceDown = true;
      await pass(); // notes the progress marker
      for (let round = 0; round < 3; round++) {
        await train(id); // progress moves; the persist is dropped
        expect(await pass()).toMatchObject({ applied: { confirm_alive: 1 } });
        // Ten minutes pass until the next pass: the writer has been silent all along.
        await backdateJob(f.db.pool, id, 10 * 60);
        expect(await jobRow(f.db.pool, id)).toMatchObject({ status: "running", effective_status: "running" });
      }
      expect(await history(f.db.pool, id)).toHaveLength(2); // confirmations are not transitions
    });

    it("one unusable answer at the next pass does not fail a job the backend vouched for; the pass after decides", async () => {
      const id = await runningJob("vouched-then-a-blip");
      f.sim.persistenceDown = true;
      await pass();
      await train(id);
      expect(await pass()).toMatchObject({ applied: { confirm_alive: 1 } });
      await backdateJob(f.db.pool, id, 10 * 60 + 5); // the next pass comes a little late
      f.sim.mode = "error500";
      try {
        expect(await pass()).toMatchObject({ planned: { leave: 1 } });
        expect(await jobRow(f.db.pool, id)).toMatchObject({ status: "running" });
        await backdateJob(f.db.pool, id, 20 * 60 + 5); // and the one after: still nothing usable
        expect(await pass()).toMatchObject({ applied: { fail_heartbeat_lost: 1 } });
      } finally {
        f.sim.mode = "normal";
      }
    });

    it("exactly when the job completes: the seed's backend forgot it, so it is labelled as forgotten; a contract backend's tombstone says completed", async () => {
      const id = await runningJob("finishes-during-outage");
      await pass();
      await train(id);
      f.sim.persistenceDown = true;
      await f.sim.finish(id); // its final persist_job() is dropped after 3 tries
      await backdateJob(f.db.pool, id, GRACE_S + 1);
      const body = await pass();
      const row = await jobRow(f.db.pool, id);
      if (seed) {
        expect(body).toMatchObject({ applied: { fail_lost: 1 } });
        expect(row.status).toBe("failed");
        expect(row.status_reason).toMatch(
          /^lost: backend has no record \(it forgot the job; last progress seen \d+%, silent 2 min\)$/,
        );
      } else {
        expect(body).toMatchObject({ applied: { record_backend_terminal: 1 } });
        expect(row).toMatchObject({ status: "completed", status_reason: "backend reports completed" });
      }
    });
  });

  describe("scenario 4: a server that runs for days accumulates ghosts", () => {
    it("at first deploy, six ghosts silent for days fail on the first pass and the two live jobs are left alone", async () => {
      const ghosts: string[] = [];
      for (let i = 0; i < 6; i++) {
        const id = await runningJob(`ghost-${i}`);
        // The seed's dict forgot half of them and still claims the other half runs (dead monitors).
        if (i % 2 === 0 || !seed) f.sim.lose(id);
        else f.sim.killProcess(id);
        await backdateJob(f.db.pool, id, 3 * 86_400);
        ghosts.push(id);
      }
      const live = [await runningJob("live-1"), await runningJob("live-2")];

      const body = await pass();
      expect(body).toMatchObject({ outcome: "applied", held: false });
      for (const id of ghosts) expect((await jobRow(f.db.pool, id)).status).toBe("failed");
      for (const id of live) {
        expect(await jobRow(f.db.pool, id)).toMatchObject({ status: "running", effective_status: "running" });
      }
      expect(Object.values(body.applied).reduce((n: number, v) => n + (v as number), 0)).toBeGreaterThanOrEqual(6);
    });

    it("a queued job the backend holds is not failed, and a job lost seconds ago is left within the grace period", async () => {
      const queued = (await f.sim.execute({ userId: user, modelName: "waiting-in-queue" })).id;
      await backdateJob(f.db.pool, queued, 25 * 60);
      const recentGhost = await runningJob("lost-seconds-ago");
      f.sim.lose(recentGhost);
      await backdateJob(f.db.pool, recentGhost, 30); // within grace: must not be touched
      await pass();
      expect(await jobRow(f.db.pool, queued)).toMatchObject({ status: "queued", effective_status: "queued" });
      expect(await jobRow(f.db.pool, recentGhost)).toMatchObject({ status: "running" });
    });
  });

  describe("a user cancels through RLS", () => {
    it(
      seed
        ? "the request survives the next blind upsert, reads cancelling, and the backend's missing endpoint is recorded"
        : "the request is forwarded, the backend stops the training, and the job reads cancelled",
      async () => {
        const id = await runningJob("cancel-me");
        expect(await requestCancelAsUser(f.db.pool, user, id)).toBe(1);
        await train(id); // the legacy heartbeat upserts status = 'running'
        expect(await jobRow(f.db.pool, id)).toMatchObject({ status: "running", effective_status: "cancelling" });

        const body = await pass();
        expect(body.cancels_forwarded).toBe(1);
        const row = await jobRow(f.db.pool, id);
        if (seed) {
          expect(row).toMatchObject({ status: "running", effective_status: "cancelling" });
          expect(row.cancel_answer).toMatch(/backend did not take the cancel \(HTTP 404/);
          expect(f.sim.jobs.get(id)?.status).toBe("running"); // nothing could stop it: the view does not pretend
        } else {
          expect(row).toMatchObject({ status: "cancelled", effective_status: "cancelled" });
          expect(row.cancel_answer).toMatch(/backend accepted the cancel/);
          expect(f.sim.jobs.get(id)?.status).toBe("cancelled");
        }
        expect(await pass()).toMatchObject({ cancels_forwarded: 0 }); // forwarded once
      },
    );
  });
});
