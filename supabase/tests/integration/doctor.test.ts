// npm run doctor, each finding from a real cause: the real function under Deno, the pg_net stand-in
// worker sending the cron job's stored command, the real CLI spawned with tsx.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setVaultSecrets } from "../../../cli/set-vault-secrets.ts";
import { type PgNetWorker, startPgNetWorker } from "../../../dev/stack/pg-net-worker.ts";
import { backdateJob, makeUser } from "../../../dev/lib/jobs.ts";
import { type ReconcileFixture, reconcileFixture, TEST_SECRET } from "../../../dev/lib/reconcile-fixture.ts";
import { repoRoot } from "../../../dev/lib/stand-ins.ts";
import { freePort } from "../../../dev/lib/serve-function.ts";

let f: ReconcileFixture;
let worker: PgNetWorker;

beforeAll(async () => {
  f = await reconcileFixture();
  worker = await startPgNetWorker({ databaseUrl: f.db.url });
});
afterAll(async () => {
  await worker?.stop();
  await f?.teardown();
});
beforeEach(async () => {
  await f.sim.restart();
  await f.db.pool.query("delete from public.local_training_jobs");
  await f.db.pool.query("delete from jobs_private.reconcile_passes");
  await f.db.pool.query("delete from jobs_private.reconcile_invocations");
  await f.db.pool.query("update cron.job set active = true");
  await f.db.pool.query("delete from vault.secrets");
  await setVaultSecrets(f.db.url, f.fn.url, TEST_SECRET);
});

/** Runs the cron job's command and waits (bounded poll) for pg_net's answer. */
async function tick(): Promise<void> {
  const { rows } = await f.db.pool.query("select jobs_private.invoke_reconcile_jobs('cron') as id");
  const until = Date.now() + 30_000;
  while (!(await f.db.pool.query("select 1 from net._http_response where id = $1", [rows[0].id])).rowCount) {
    if (Date.now() > until) throw new Error(`no pg_net response to request ${rows[0].id}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function check(name: string) {
  const { rows } = await f.db.pool.query(
    `select ok, detail, fix from jobs_private.reconcile_doctor() where "check" = $1`,
    [name],
  );
  return rows[0];
}

const run = promisify(execFile);
async function cli(...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run("npx", ["--no-install", "tsx", join(repoRoot, "cli/doctor.ts"), ...args], {
      cwd: repoRoot,
    });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

describe("npm run doctor", () => {
  it("on a healthy stack: every check ✓ and exit code 0", async () => {
    await tick();
    const { code, stdout } = await cli("--db-url", f.db.url);
    expect(stdout).not.toContain("✗");
    expect(stdout).toContain("all checks passed");
    expect(stdout).toContain(`reconcile_jobs_url = ${f.fn.url}`);
    expect(stdout).not.toContain(TEST_SECRET);
    expect(stdout).toMatch(/function calls\s+last call \(request \d+\): HTTP 200/);
    expect(code).toBe(0);
  });

  it("a wrong secret in Vault: the function's real 401, and the fix; the CLI exits 1 and --json says so", async () => {
    await setVaultSecrets(f.db.url, f.fn.url, "not-the-function-secret-at-all");
    await tick();
    expect(await check("function calls")).toMatchObject({
      ok: false,
      detail: expect.stringContaining("HTTP 401"),
      fix: "the Vault secret and the function's RECONCILE_SECRET differ: run npm run secrets:set",
    });
    const { code, stdout } = await cli("--db-url", f.db.url, "--json");
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toContainEqual(expect.objectContaining({ check: "function calls", ok: false }));
    expect(stdout).not.toContain("not-the-function-secret-at-all");
  });

  it("a missing Vault secret", async () => {
    await f.db.pool.query("delete from vault.secrets where name = 'reconcile_jobs_secret'");
    expect(await check("vault secrets")).toMatchObject({
      ok: false,
      detail: expect.stringContaining("reconcile_jobs_secret is missing"),
      fix: expect.stringContaining("npm run secrets:set"),
    });
  });

  it("an inactive cron job: the alter_job that re-activates it", async () => {
    const { rows } = await f.db.pool.query(
      "update cron.job set active = false where jobname = 'reconcile-training-jobs' returning jobid",
    );
    expect(await check("cron job")).toMatchObject({
      ok: false,
      fix: `select cron.alter_job(${rows[0].jobid}, active => true);`,
    });
  });

  it("a cron job moved off the settings' interval by hand: the settings line says so, and how to put it back", async () => {
    await f.db.pool.query("update cron.job set schedule = '*/30 * * * *' where jobname = 'reconcile-training-jobs'");
    try {
      expect(await check("settings")).toMatchObject({
        ok: false,
        detail: "the cron job runs on */30 * * * *, but pass_interval 00:10:00 wants */10 * * * *",
        fix: "select jobs_private.schedule_reconciler();",
      });
      await f.db.pool.query("select jobs_private.schedule_reconciler()");
      expect(await check("settings")).toMatchObject({ ok: true });
    } finally {
      await f.db.pool.query("select jobs_private.schedule_reconciler()");
    }
  });

  it("the function down (its URL a closed port): connection refused, and where to look", async () => {
    // A port just freed and listened on by nobody: a real ECONNREFUSED (fetch refuses port 1 itself).
    await setVaultSecrets(f.db.url, `http://127.0.0.1:${await freePort()}/functions/v1/reconcile-jobs`, TEST_SECRET);
    await tick();
    expect(await check("function calls")).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/Couldn't connect to server: .*ECONNREFUSED/),
      fix: expect.stringContaining("check reconcile_jobs_url, run supabase functions deploy reconcile-jobs"),
    });
  });

  it("a held backend: 5 recently-alive jobs unknown to it at once", async () => {
    const user = await makeUser(f.db.pool);
    for (let i = 0; i < 5; i++) {
      const job = await f.sim.execute({ userId: user, modelName: `lost-${i}` });
      await f.sim.run(job.id);
    }
    await f.sim.restart(); // it forgets them all
    const { rows } = await f.db.pool.query("select id from public.local_training_jobs");
    for (const r of rows) await backdateJob(f.db.pool, r.id, 150); // past the grace, inside the hard timeout
    await tick();
    expect(await check("passes")).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/: held: .*5 of 5 recently-alive jobs/),
      fix: expect.stringContaining("check the training backend"),
    });
  });
});
