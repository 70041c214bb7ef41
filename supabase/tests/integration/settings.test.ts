// Every reconciler setting in one row: changing the interval moves the cron schedule, the health
// view's overdue threshold and the length of a confirmation; a combination the rules forbid is
// refused, by configure_reconciler() and by a plain UPDATE alike, and changes nothing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeUser } from "../../../dev/lib/jobs.ts";
import { type ReconcileFixture, reconcileFixture } from "../../../dev/lib/reconcile-fixture.ts";
import { runReconcilePass } from "../../functions/_shared/reconcile/mod.ts";

let f: ReconcileFixture;
let user: string;
beforeAll(async () => {
  f = await reconcileFixture({ sim: { flavor: "contract" } });
  user = await makeUser(f.db.pool);
});
afterAll(async () => f?.teardown());
beforeEach(async () => {
  await f.db.pool.query(
    "select jobs_private.configure_reconciler(every => '10 minutes', hard_timeout => '10 minutes')",
  );
  await f.db.pool.query("delete from public.local_training_jobs");
  await f.db.pool.query("delete from jobs_private.reconcile_passes");
});

const q = async (sql: string, values: unknown[] = []) => (await f.db.pool.query(sql, values)).rows;
const schedule = async () =>
  (await q("select schedule from cron.job where jobname = 'reconcile-training-jobs'"))[0]?.schedule;
const settings = async () => (await q("select to_jsonb(s) - 'id' as s from jobs_private.reconcile_settings s"))[0]?.s;
const pass = async () => {
  const { status, body } = await f.fn.call({ body: { trigger: "test" } });
  expect(status).toBe(200);
  return body;
};

describe("one call changes the cadence, and everything that follows from it moves with it", () => {
  it("reschedules the cron job in the same transaction", async () => {
    expect(await schedule()).toBe("*/10 * * * *");
    await q("select jobs_private.configure_reconciler(every => '30 minutes', hard_timeout => '45 minutes')");
    expect(await schedule()).toBe("*/30 * * * *");
    await q("update jobs_private.reconcile_settings set pass_interval = '2 hours', hard_timeout = '3 hours'");
    expect(await schedule()).toBe("0 */2 * * *");
  });

  it("moves the health view's overdue threshold: two intervals without a successful pass", async () => {
    await pass();
    await q("update jobs_private.reconcile_passes set finished_at = now() - interval '25 minutes'");
    expect((await q("select overdue from jobs_private.reconcile_health"))[0].overdue).toBe(true);
    await q("select jobs_private.configure_reconciler(every => '30 minutes', hard_timeout => '45 minutes')");
    expect((await q("select overdue from jobs_private.reconcile_health"))[0].overdue).toBe(false);
  });

  it("moves the length of a confirmation: until the next pass is due plus the status's threshold", async () => {
    await q("select jobs_private.configure_reconciler(every => '30 minutes', hard_timeout => '45 minutes')");
    const job = await f.sim.execute({ userId: user, modelName: "confirmed" });
    await f.sim.run(job.id);
    await pass(); // the first marker
    f.sim.advance(job.id);
    expect(await pass()).toMatchObject({ applied: { confirm_alive: 1 } });
    const [row] = await q(
      "select extract(epoch from confirmed_until - confirmed_at)::int as s from public.local_training_jobs where id = $1",
      [job.id],
    );
    expect(row.s).toBe(30 * 60 + 2 * 60); // 30 min interval + running's 2 min threshold
  });
});

describe("a combination the rules forbid", () => {
  it.each([
    ["hard_timeout => '5 minutes'", "hard_timeout (00:05:00) must be at least pass_interval (00:10:00)"],
    ["grace => '10 minutes'", "grace (00:10:00) must be shorter than hard_timeout (00:10:00)"],
    ["every => '7 minutes', hard_timeout => '1 hour'", "pass_interval (00:07:00) must be whole seconds"],
    ["request_timeout => '2 minutes'", "request_timeout (00:02:00) must be from 100 milliseconds to 60 seconds"],
    ["guard_share => 1.5", "guard_share (1.5) must be from 0 to 1"],
    ["backend_url => 'ftp://x'", "backend_url must be an http(s) URL"],
  ])("is refused with the rule's name (configure_reconciler(%s)), and changes nothing", async (args, message) => {
    const before = [await settings(), await schedule()];
    await expect(q(`select jobs_private.configure_reconciler(${args})`)).rejects.toThrow(
      `reconcile settings: ${message}`,
    );
    expect([await settings(), await schedule()]).toEqual(before);
  });

  it("is refused with the same message when written with a plain UPDATE", async () => {
    await expect(q("update jobs_private.reconcile_settings set hard_timeout = '5 minutes'")).rejects.toThrow(
      "reconcile settings: hard_timeout (00:05:00) must be at least pass_interval (00:10:00)",
    );
  });
});

describe("a run's own overrides", () => {
  it("are checked by the same rules, and the pass record names them", async () => {
    await expect(
      runReconcilePass({ db: f.db.pool, fetch, trigger: "test", dryRun: false, overrides: { grace: "1 hour" } }),
    ).rejects.toThrow("reconcile settings: grace (01:00:00) must be shorter than hard_timeout (00:10:00)");
    await expect(
      runReconcilePass({ db: f.db.pool, fetch, trigger: "test", dryRun: false, overrides: { graze: "1 s" } }),
    ).rejects.toThrow("reconcile settings: no such setting: graze");
    const summary = await runReconcilePass({
      db: f.db.pool,
      fetch,
      trigger: "test",
      dryRun: false,
      overrides: { grace: "30 seconds", backend_url: f.sim.url },
    });
    expect(summary).toMatchObject({ outcome: "applied", overrides: { grace: "30 seconds" } });
    const [record] = await q("select counts -> 'overrides' as o from jobs_private.reconcile_passes where id = $1", [
      summary.pass_id,
    ]);
    expect(record.o).toEqual({ grace: "30 seconds", backend_url: f.sim.url });
  });
});
