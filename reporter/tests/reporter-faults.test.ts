// The writer side under real faults. After each, the row must equal the truth, the history must
// hold every transition exactly once, and nothing may be lost or duplicated.
import pg from "pg";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StatusReporter } from "../src/reporter.ts";
import type { ReportOutcome } from "../src/report.ts";
import { pgTransport } from "../src/transport.ts";
import { history, jobRow, makeJob } from "../../dev/lib/jobs.ts";
import { type OwnCluster, ownCluster } from "../../dev/lib/own-cluster.ts";
import { type ReconcileFixture, reconcileFixture } from "../../dev/lib/reconcile-fixture.ts";
import { repoRoot } from "../../dev/lib/stand-ins.ts";

const journalDir = () => mkdtempSync(join(tmpdir(), "reporter-"));
const transitions = async (db: pg.Pool, id: string) =>
  (await history(db, id)).map((h) => `${h.from_status ?? "∅"}→${h.to_status}`);

describe("the database stops in the middle of a run", () => {
  let cluster: OwnCluster;
  let pool: pg.Pool;
  beforeAll(async () => {
    cluster = await ownCluster();
    pool = new pg.Pool({ connectionString: cluster.url, connectionTimeoutMillis: 2_000, max: 2 });
    pool.on("error", () => undefined);
  });
  afterAll(async () => {
    await pool?.end();
    cluster?.destroy();
  });

  it("keeps training without blocking, journals the reports, and delivers them in order when it is back", async () => {
    const job = await makeJob(pool, { status: "queued" });
    const outcomes: ReportOutcome[] = [];
    const warnings: string[] = [];
    const reporter = await StatusReporter.open({
      journalPath: join(journalDir(), "journal.jsonl"),
      transport: pgTransport(pool),
      backoff: { baseMs: 20, maxMs: 200 },
      onOutcome: (_r, o) => outcomes.push(o),
      onWarning: (m) => warnings.push(m),
    });
    const handle = reporter.job(job, 1);

    handle.progress(0.1);
    expect(await reporter.flush(5_000)).toBe(true);
    cluster.stop(); // a real stop: connections are refused from here on

    // The training loop goes on; each call returns at once.
    for (let i = 2; i <= 9; i++) {
      // progress() is synchronous (it returns nothing to await), so it cannot wait on the network.
      expect(handle.progress(i / 10)).toBeUndefined();
      await new Promise((r) => setImmediate(r)); // the reporter's send loop gets its turn
    }
    await handle.complete(); // durable in the journal, though the database is down
    expect(reporter.backlog).toBeGreaterThan(0);
    expect(reporter.backlog).toBeLessThanOrEqual(2); // heartbeats merged: the newest, and the completion

    cluster.start();
    expect(await reporter.flush(20_000)).toBe(true);
    await reporter.close();

    expect(await jobRow(pool, job)).toMatchObject({ status: "completed" });
    const { rows } = await pool.query("select progress from public.local_training_jobs where id = $1", [job]);
    expect(rows[0].progress).toBe(1);
    expect(await transitions(pool, job)).toEqual(["∅→queued", "queued→running", "running→completed"]);
    expect(outcomes.filter((o) => o !== "applied")).toEqual([]);
    expect(warnings).toEqual([]);
  });
});

describe("the reporter process is killed with a backlog", () => {
  let f: ReconcileFixture;
  beforeAll(async () => {
    f = await reconcileFixture();
  });
  afterAll(async () => f?.teardown());

  const runner = (databaseUrl: string, args: string[]) =>
    spawn("npx", ["--no-install", "tsx", join(repoRoot, "reporter/tests/run-job.ts"), ...args], {
      // Its own process group: npx, tsx and the runner die together, as a killed worker would.
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });

  it("replays the journal after a restart: the completion arrives once, nothing is lost", async () => {
    const job = await makeJob(f.db.pool, { status: "running" });
    const journal = join(journalDir(), "journal.jsonl");
    // First life: the database is unreachable (nothing listens on that port).
    const first = runner("postgresql://postgres@127.0.0.1:1/postgres", [
      "--job",
      job,
      "--journal",
      journal,
      "--heartbeats",
      "5",
      "--complete",
      "--hold",
    ]);
    let out = "";
    first.stdout!.on("data", (d) => (out += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`runner did not report: ${out}`)), 30_000);
      first.stdout!.on("data", () => out.includes('"event":"reported"') && (clearTimeout(timer), resolve()));
    });
    const exited = new Promise((r) => first.once("exit", r));
    process.kill(-first.pid!, "SIGKILL"); // the whole group: npx alone would leave the runner behind
    await exited;
    expect((await jobRow(f.db.pool, job)).status).toBe("running"); // nothing reached the database

    // Second life: the database is back; the backlog is replayed in order.
    const { stdout } = await promisify(execFile)("npx", [
      "--no-install",
      "tsx",
      join(repoRoot, "reporter/tests/run-job.ts"),
      "--job",
      job,
      "--journal",
      journal,
    ], { cwd: repoRoot, env: { ...process.env, DATABASE_URL: f.db.url } });
    const events = stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({ event: "opened", backlog: 2 }); // the newest heartbeat and the completion
    expect(events.filter((e) => e.event === "outcome").map((e) => `${e.status}:${e.outcome}`))
      .toEqual(["running:applied", "completed:applied"]);
    expect(events.at(-1)).toMatchObject({ event: "closed", delivered: true });
    expect(await jobRow(f.db.pool, job)).toMatchObject({ status: "completed" });
    expect(await transitions(f.db.pool, job)).toEqual(["∅→running", "running→completed"]);
  });

  it("delivers reports sent out of order as if they had arrived in order", async () => {
    const job = await makeJob(f.db.pool, { status: "queued" });
    const send = pgTransport(f.db.pool).send;
    const report = (seq: number, status: "running" | "completed", progress: number) => ({
      jobId: job,
      attempt: 1,
      seq,
      status,
      progress,
      error: null,
      at: new Date().toISOString(),
    });
    const outcomes = [];
    for (
      const r of [
        report(3, "running", 0.3),
        report(5, "completed", 1),
        report(1, "running", 0.1),
        report(4, "running", 0.4),
        report(2, "running", 0.2),
      ]
    ) {
      outcomes.push(await send(r));
    }
    expect(outcomes).toEqual(["applied", "applied", "ignored_stale", "ignored_stale", "ignored_stale"]);
    const { rows } = await f.db.pool.query(
      "select status, progress, report_seq from public.local_training_jobs where id = $1",
      [job],
    );
    expect(rows[0]).toEqual({ status: "completed", progress: 1, report_seq: "5" });
    expect(await transitions(f.db.pool, job)).toEqual(["∅→queued", "queued→running", "running→completed"]);
  });

  it("revives a job a reconciler pass failed between its silence and its late heartbeat", async () => {
    const job = await makeJob(f.db.pool, { status: "running", silentSeconds: 601 });
    await f.sim.crash(); // the backend cannot be asked: only the 10-minute rule applies
    const pass = await f.fn.call();
    expect(pass.body).toMatchObject({ applied: { fail_heartbeat_lost: 1 } });
    expect((await jobRow(f.db.pool, job)).status).toBe("failed");

    const outcomes: ReportOutcome[] = [];
    const reporter = await StatusReporter.open({
      journalPath: join(journalDir(), "journal.jsonl"),
      transport: pgTransport(f.db.pool),
      onOutcome: (_r, o) => outcomes.push(o),
    });
    reporter.job(job, 1).heartbeat(); // the worker was alive after all
    expect(await reporter.flush(5_000)).toBe(true);
    await reporter.close();

    expect(outcomes).toEqual(["revived"]);
    expect(await jobRow(f.db.pool, job)).toMatchObject({
      status: "running",
      effective_status: "running",
      status_reason: "revived: attempt 1 reported running after fail_heartbeat_lost",
    });
    const h = await history(f.db.pool, job);
    expect(h.slice(1).map((r) => [r.from_status, r.to_status, r.actor, r.reason])).toEqual([
      ["running", "failed", "reconciler", "heartbeat lost"],
      ["failed", "running", "reporter:attempt-1", "revived: attempt 1 reported running after fail_heartbeat_lost"],
    ]);
  });

  it("refuses a superseded attempt after a resume, and the old worker goes quiet", async () => {
    const job = await makeJob(f.db.pool, { status: "running" });
    const warnings: string[] = [];
    const outcomes: ReportOutcome[] = [];
    const reporter = await StatusReporter.open({
      journalPath: join(journalDir(), "journal.jsonl"),
      transport: pgTransport(f.db.pool),
      onWarning: (m) => warnings.push(m),
      onOutcome: (_r, o) => outcomes.push(o),
    });
    const old = reporter.job(job, 1);
    old.heartbeat();
    await reporter.flush();
    await f.db.pool.query("select public.start_job_attempt($1)", [job]); // resumed elsewhere
    old.heartbeat();
    await reporter.flush();
    old.progress(0.9); // fenced: not even sent
    await reporter.flush();
    await reporter.close();
    expect(outcomes).toEqual(["applied", "refused_fenced"]);
    expect(warnings).toEqual([expect.stringContaining("resumed by a newer attempt")]);
    expect(await jobRow(f.db.pool, job)).toMatchObject({ status: "queued" });
  });
});
