// The schedule end to end: pg_cron -> the stored command -> pg_net's queue -> the pg_net stand-in
// worker -> the real function under Deno -> the database. And the watcher watched.
import pg from "pg";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setVaultSecrets } from "../../../cli/set-vault-secrets.ts";
import { type PgNetWorker, startPgNetWorker } from "../../../dev/stack/pg-net-worker.ts";
import { adminUrl, freshDatabase, type TestDatabase } from "../../../dev/lib/database.ts";
import { TEST_SECRET } from "../../../dev/lib/reconcile-fixture.ts";
import { jobRow, makeJob, runs } from "../../../dev/lib/jobs.ts";
import { type ReconcileFixture, reconcileFixture } from "../../../dev/lib/reconcile-fixture.ts";
import { repoRoot } from "../../../dev/lib/stand-ins.ts";

let f: ReconcileFixture;
let worker: PgNetWorker;
let cronDb: pg.Client; // the cluster's cron database, where the real pg_cron keeps its jobs

beforeAll(async () => {
  f = await reconcileFixture();
  worker = await startPgNetWorker({ databaseUrl: f.db.url });
  cronDb = new pg.Client({ connectionString: adminUrl() });
  await cronDb.connect();
});
afterAll(async () => {
  await cronDb?.end();
  await worker?.stop();
  await f?.teardown();
});
beforeEach(async () => {
  await f.db.pool.query("delete from public.local_training_jobs");
  await f.db.pool.query("delete from vault.secrets");
  await setVaultSecrets(f.db.url, f.fn.url, TEST_SECRET);
});

/** The command the migration scheduled, as pg_cron stores it. */
async function storedCommand(): Promise<string> {
  const { rows } = await cronDb.query("select command from cron.job where jobname = 'reconcile-training-jobs'");
  return rows[0].command;
}

/** Waits for pg_net's answer to a queued request: asynchronous delivery, not the passing of time. */
async function responseTo(db: TestDatabase, requestId: string, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.pool.query("select * from net._http_response where id = $1", [requestId]);
    if (rows[0]) return rows[0];
    if (Date.now() > until) throw new Error(`no pg_net response to request ${requestId} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function health(db: TestDatabase) {
  const { rows } = await db.pool.query("select * from jobs_private.reconcile_health");
  return rows[0];
}

describe("the schedule", () => {
  it("holds reconcile-training-jobs every ten minutes in pg_cron, once, after the migrations", async () => {
    const { rows } = await cronDb.query(
      "select schedule, active from cron.job where jobname = 'reconcile-training-jobs'",
    );
    expect(rows).toEqual([{ schedule: "*/10 * * * *", active: true }]);
    expect(await storedCommand()).toBe("select jobs_private.invoke_reconcile_jobs('cron')");
  });

  it("runs its stored command: the request goes out after commit, fixes a ghost and records a pass", async () => {
    const ghost = await makeJob(f.db.pool, { silentSeconds: 86_400 }); // unknown to the backend
    const client = await f.db.pool.connect();
    let requestId: string;
    try {
      await client.query("begin");
      const { rows } = await client.query(`${await storedCommand()} as request_id`);
      requestId = rows[0].request_id;
      // A latch, not a sleep: a probe request queued and committed after ours comes back, so the
      // sender has run since ours was queued, and still has not sent ours.
      const probe = await f.db.pool.query("select net.http_get($1) as id", [f.fn.url]);
      await responseTo(f.db, probe.rows[0].id);
      const sentEarly = await f.db.pool.query("select count(*)::int as n from net._http_response where id = $1", [
        requestId,
      ]);
      expect(sentEarly.rows[0].n).toBe(0); // nothing is sent before the queuing transaction commits
      await client.query("commit");
    } finally {
      client.release();
    }
    const response = await responseTo(f.db, requestId);
    expect(response).toMatchObject({ status_code: 200, timed_out: false, error_msg: null });
    expect(JSON.parse(response.content)).toMatchObject({
      outcome: "applied",
      trigger: "cron",
      applied: { fail_lost: 1 },
    });
    expect(await jobRow(f.db.pool, ghost)).toMatchObject({
      status: "failed",
      status_reason: expect.stringMatching(/^lost: backend has no record/),
    });
    expect((await runs(f.db.pool)).at(-1)).toMatchObject({ trigger: "cron", outcome: "applied" });
    expect(await health(f.db)).toMatchObject({ status: "healthy", overdue: false });
  });

  it("sends no request when the Vault secrets are missing, and the health view says why", async () => {
    await f.db.pool.query("delete from vault.secrets where name = 'reconcile_jobs_url'");
    await expect(f.db.pool.query(await storedCommand())).rejects.toThrow(
      "reconcile-training-jobs: Vault secret reconcile_jobs_url is missing or empty; no request was sent",
    );
    const queued = await f.db.pool.query("select count(*)::int as n from net.http_request_queue");
    expect(queued.rows[0].n).toBe(0);
    expect(await health(f.db)).toMatchObject({
      status: "misconfigured",
      why: "Vault secret reconcile_jobs_url is missing: no request is being sent",
    });
  });

  it("shows a wrong secret in Vault as failing, never as healthy", async () => {
    await setVaultSecrets(f.db.url, f.fn.url, "not-the-function-secret-at-all");
    const { rows } = await f.db.pool.query(`${await storedCommand()} as request_id`);
    expect(await responseTo(f.db, rows[0].request_id)).toMatchObject({ status_code: 401 });
    const h = await health(f.db);
    expect(h.status).toBe("failing");
    expect(h.why).toMatch(/^last call to the function failed: HTTP 401/);
    expect(Number(h.failed_calls_24h)).toBeGreaterThanOrEqual(1);
  });

  it("shows a function that cannot be reached as failing", async () => {
    await setVaultSecrets(f.db.url, "http://127.0.0.1:1/functions/v1/reconcile-jobs", TEST_SECRET);
    const { rows } = await f.db.pool.query(`${await storedCommand()} as request_id`);
    expect(await responseTo(f.db, rows[0].request_id)).toMatchObject({ status_code: null, timed_out: false });
    expect(await health(f.db)).toMatchObject({
      status: "failing",
      why: expect.stringContaining("Couldn't connect to server"),
    });
  });
});

describe("start-up reconciliation", () => {
  it("is one call a backend makes when it starts, recorded with its trigger", async () => {
    const ghost = await makeJob(f.db.pool, { silentSeconds: 86_400 });
    const { status, body } = await f.fn.call({ body: { trigger: "startup" } });
    expect(status).toBe(200);
    expect(body).toMatchObject({ trigger: "startup", applied: { fail_lost: 1 } });
    expect((await runs(f.db.pool)).at(-1)).toMatchObject({ trigger: "startup" });
    expect((await jobRow(f.db.pool, ghost)).status).toBe("failed");
  });
});

describe("the deploy script", () => {
  it("creates the two secrets, updates them on a second run, and never prints the secret", async () => {
    await f.db.pool.query("delete from vault.secrets");
    const run = promisify(execFile);
    const script = (secret: string) =>
      run("npx", ["--no-install", "tsx", join(repoRoot, "cli/set-vault-secrets.ts"), "--function-url", f.fn.url], {
        cwd: repoRoot,
        env: { ...process.env, DATABASE_URL: f.db.url, RECONCILE_SECRET: secret },
      });
    const first = await script("first-secret-0123456789");
    expect(first.stdout).toContain("reconcile_jobs_url: created");
    const second = await script("second-secret-0123456789");
    expect(second.stdout).toContain("reconcile_jobs_secret: updated");
    expect(first.stdout + second.stdout).not.toMatch(/secret-0123456789/);
    const { rows } = await f.db.pool.query("select name, decrypted_secret from vault.decrypted_secrets order by name");
    expect(rows).toEqual([
      { name: "reconcile_jobs_secret", decrypted_secret: "second-secret-0123456789" },
      { name: "reconcile_jobs_url", decrypted_secret: f.fn.url },
    ]);
  });
});

// Slow: pg_cron 1.4 (Debian's) schedules by the minute, so this waits up to 90 s for a real tick.
// It runs in CI (CI=true) and with SLOW_TESTS=1; everything else about the schedule is tested
// above by running the stored command directly.
const slowTestsOn = Boolean(process.env.CI || process.env.SLOW_TESTS);

describe("a real pg_cron tick", () => {
  it.runIf(slowTestsOn)(
    "runs the stored command within a minute: one database gets a pass, one without secrets a failed run",
    async () => {
      const bare = await freshDatabase(); // migrated, but no Vault secrets
      const suffix = Math.random().toString(36).slice(2, 8);
      const jobs = [`reconcile-tick-${suffix}`, `reconcile-tick-bare-${suffix}`];
      const dbName = (url: string) => new URL(url).pathname.slice(1);
      const ghost = await makeJob(f.db.pool, { silentSeconds: 86_400 });
      const before = (await runs(f.db.pool)).length;
      try {
        // A copy of the job, every minute, pointed at the test databases by the real scheduler.
        await cronDb.query("select cron.schedule_in_database($1, '* * * * *', $2, $3)", [
          jobs[0],
          await storedCommand(),
          dbName(f.db.url),
        ]);
        await cronDb.query("select cron.schedule_in_database($1, '* * * * *', $2, $3)", [
          jobs[1],
          await storedCommand(),
          dbName(bare.url),
        ]);
        const until = Date.now() + 90_000; // one minute boundary, plus slack
        let details: { jobname: string; status: string; return_message: string }[] = [];
        while (Date.now() < until) {
          ({ rows: details } = await cronDb.query(
            `select j.jobname, d.status, d.return_message from cron.job_run_details d join cron.job j using (jobid)
           where j.jobname = any($1) and d.status in ('succeeded', 'failed')`,
            [jobs],
          ));
          // A pass's row appears when it claims its lease ('running'); wait for it to finish.
          const finished = (await runs(f.db.pool)).slice(before).filter((r) => r.outcome !== "running");
          if (details.length >= 2 && finished.length > 0) break;
          await new Promise((r) => setTimeout(r, 500));
        }
        expect(details.find((d) => d.jobname === jobs[0])).toMatchObject({ status: "succeeded" });
        expect(details.find((d) => d.jobname === jobs[1])).toMatchObject({
          status: "failed",
          return_message: expect.stringContaining("Vault secret reconcile_jobs_url is missing"),
        });
        expect((await runs(f.db.pool)).slice(before).find((r) => r.outcome !== "running")).toMatchObject({
          trigger: "cron",
          outcome: "applied",
        });
        expect((await jobRow(f.db.pool, ghost)).status).toBe("failed");
      } finally {
        for (const job of jobs) await cronDb.query("select cron.unschedule($1)", [job]).catch(() => undefined);
        await bare.drop();
      }
    },
  );
});
