// The reporter through supabase-js's `rpc` shape, and what it does with a report the database
// refuses for good. PostgREST is not available here; `postgrestRpc` plays its part (named
// arguments to the function, errors as {code, message}), as the Data API does.
import pg from "pg";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { StatusReporter } from "../src/reporter.ts";
import { type RpcClient, rpcTransport } from "../src/transport.ts";
import { freshDatabase, type TestDatabase } from "../../dev/lib/database.ts";
import { jobRow, makeJob } from "../../dev/lib/jobs.ts";

let db: TestDatabase;
let serviceRole: pg.Pool;
beforeAll(async () => {
  db = await freshDatabase();
  serviceRole = new pg.Pool({ connectionString: db.url, options: "-c role=service_role" });
  serviceRole.on("error", () => undefined); // an idle client cut by the database's drop at teardown
});
afterAll(async () => {
  await serviceRole?.end();
  await db?.drop();
});

/** POST /rest/v1/rpc/{name} as PostgREST runs it: named arguments, as the service role. */
function postgrestRpc(pool: pg.Pool): RpcClient {
  return {
    async rpc(name, args) {
      const names = Object.keys(args);
      const args_ = names.map((n, i) => `${n} => $${i + 1}`).join(", ");
      // PostgREST answers a set-returning function with a JSON array of its rows.
      const call = name === "report_job_statuses"
        ? `select coalesce(json_agg(r), '[]') as data from public.${name}(${args_}) r`
        : `select public.${name}(${args_}) as data`;
      try {
        const { rows } = await pool.query(call, names.map((n) => args[n]));
        return { data: rows[0].data, error: null };
      } catch (error) {
        const e = error as { code?: string; message: string };
        return { data: null, error: { code: e.code, message: e.message } };
      }
    },
  };
}

it("reports through rpc('report_job_status', …) as the service role", async () => {
  const job = await makeJob(db.pool, { status: "queued" });
  const reporter = await StatusReporter.open({
    journalPath: join(mkdtempSync(join(tmpdir(), "rpc-")), "j.jsonl"),
    transport: rpcTransport(postgrestRpc(serviceRole)),
  });
  const handle = reporter.job(job, 1);
  handle.progress(0.5);
  await handle.fail("NaN loss at step 900");
  expect(await reporter.flush()).toBe(true);
  await reporter.close();
  expect(await jobRow(db.pool, job)).toMatchObject({ status: "failed", status_reason: "NaN loss at step 900" });
});

it("drops a report the database refuses for good (an unknown job), with a warning, and goes on", async () => {
  const job = await makeJob(db.pool, { status: "running" });
  const warnings: string[] = [];
  const reporter = await StatusReporter.open({
    journalPath: join(mkdtempSync(join(tmpdir(), "rpc-")), "j.jsonl"),
    transport: rpcTransport(postgrestRpc(serviceRole)),
    onWarning: (m) => warnings.push(m),
  });
  await reporter.job("00000000-0000-4000-8000-00000000dead", 1).complete();
  await reporter.job(job, 1).complete();
  expect(await reporter.flush(5_000)).toBe(true);
  await reporter.close();
  expect(warnings).toEqual([expect.stringContaining("job 00000000-0000-4000-8000-00000000dead does not exist")]);
  expect((await jobRow(db.pool, job)).status).toBe("completed");
});

it("delivers everything queued in one report_job_statuses() call, each report with its own outcome", async () => {
  const jobs = await Promise.all(Array.from({ length: 20 }, () => makeJob(db.pool, { status: "running" })));
  const inner = postgrestRpc(serviceRole);
  const calls: string[] = [];
  const counting: RpcClient = { rpc: (name, args) => (calls.push(name), inner.rpc(name, args)) };
  const outcomes: string[] = [];
  const reporter = await StatusReporter.open({
    journalPath: join(mkdtempSync(join(tmpdir(), "rpc-")), "j.jsonl"),
    transport: rpcTransport(counting),
    onOutcome: (_r, o) => outcomes.push(o),
  });
  // One tick of a worker running 20 jobs: a heartbeat each, and one from an attempt the row does
  // not have (refused: the rest goes on).
  for (const job of jobs) reporter.job(job, 1).progress(0.25);
  reporter.job(jobs[0]!, 2).heartbeat();
  expect(await reporter.flush()).toBe(true);
  await reporter.close();
  expect(calls).toEqual(["report_job_statuses"]);
  expect(outcomes.filter((o) => o === "applied")).toHaveLength(20);
  expect(outcomes).toContain("refused_fenced");
  for (const job of jobs) expect((await jobRow(db.pool, job)).status).toBe("running");
});
