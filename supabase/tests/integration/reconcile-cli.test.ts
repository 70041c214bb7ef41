// The operator CLI runs the same core as the Edge Function: on the same data, the same result.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "../../../dev/lib/database.ts";
import { makeJob } from "../../../dev/lib/jobs.ts";
import { type ReconcileFixture, reconcileFixture } from "../../../dev/lib/reconcile-fixture.ts";
import { repoRoot } from "../../../dev/lib/stand-ins.ts";

const run = promisify(execFile);
let f: ReconcileFixture;
let twin: TestDatabase;

// Fixed ids so both databases hold the very same jobs.
const jobs = [
  { id: "00000000-0000-4000-8000-000000000001", status: "running", silentSeconds: 300, backend: "running" },
  { id: "00000000-0000-4000-8000-000000000002", status: "running", silentSeconds: 60, backend: "failed" },
  { id: "00000000-0000-4000-8000-000000000003", status: "running", silentSeconds: 3_600, backend: null },
  { id: "00000000-0000-4000-8000-000000000004", status: "queued", silentSeconds: 30, backend: null },
  { id: "00000000-0000-4000-8000-000000000005", status: "queued", silentSeconds: 1_500, backend: "running" },
] as const;

beforeAll(async () => {
  f = await reconcileFixture();
  twin = await freshDatabase();
  for (const db of [f.db, twin]) {
    for (const j of jobs) await makeJob(db.pool, { id: j.id, status: j.status, silentSeconds: j.silentSeconds });
  }
  for (const j of jobs) {
    if (j.backend === "failed") {
      f.sim.adopt({
        id: j.id,
        status: "failed",
        error: "NaN loss at step 900",
        completedAt: "2026-11-29T09:00:00.000Z",
      });
    } else if (j.backend) f.sim.adopt({ id: j.id, status: j.backend });
  }
});
afterAll(async () => {
  await twin?.drop();
  await f?.teardown();
});

const cli = (databaseUrl: string, ...args: string[]) =>
  run("npx", ["--no-install", "tsx", join(repoRoot, "cli/reconcile.ts"), ...args], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl, BACKEND_URL: f.sim.url },
  });

async function outcome(db: TestDatabase) {
  const { rows } = await db.pool.query(
    // completed_at is the backend's time where it gave one, else the apply's now(): compare that it is set.
    `select id, status, status_reason, completed_at is not null as finished,
            case when status_reason = 'NaN loss at step 900' then completed_at end as backend_time
     from public.local_training_jobs order by id`,
  );
  return rows;
}

it("gives the same plan, the same counts and the same rows as the function", async () => {
  const viaFunction = await f.fn.call();
  const viaCli = JSON.parse((await cli(twin.url, "--once", "--json")).stdout);
  for (const key of ["observed", "planned", "applied", "conflicts", "held", "backend_reachable"]) {
    expect(viaCli[key], key).toEqual(viaFunction.body[key]);
  }
  // Job 5 is queued in the row, silent 25 min, and the backend claims it runs with no progress: stalled.
  expect(viaFunction.body.applied).toEqual({
    note_progress: 1,
    fail_stalled: 1,
    record_backend_terminal: 1,
    fail_lost: 1,
  });
  expect(await outcome(twin)).toEqual(await outcome(f.db));
  expect((await outcome(twin))[1].backend_time.toISOString()).toBe("2026-11-29T09:00:00.000Z");
});

it("prints a readable table by default, and writes nothing with --dry-run", async () => {
  await makeJob(twin.pool, { status: "running", silentSeconds: 7_200 });
  const before = await outcome(twin);
  const { stdout } = await cli(twin.url, "--once", "--dry-run");
  expect(stdout).toContain("outcome: dry_run (dry run: nothing written)");
  expect(stdout).toMatch(/fail_lost\s+1\s+-/);
  expect(await outcome(twin)).toEqual(before);
});

it("refuses bad arguments with a clear error and exit code 2", async () => {
  await expect(cli(twin.url, "--every", "soon")).rejects.toMatchObject({
    code: 2,
    stderr: expect.stringContaining("--every takes a duration such as 30s, 10m or 1h"),
  });
  await expect(cli(twin.url)).rejects.toMatchObject({
    code: 2,
    stderr: expect.stringContaining("exactly one of --once and --every"),
  });
});
