// Issue 11: no answer from one backend may stop the reconciler for another. Real Deno serving the
// real function, a real database, and two backends over HTTP: a healthy one that has lost a job,
// and a hostile one that answers each case below. The lost job must be failed in the same pass.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  listScript,
  type Script,
  type ScriptedBackend,
  startScriptedBackend,
} from "../../../dev/fuzz/scripted-backend.ts";
import { freshDatabase, type TestDatabase } from "../../../dev/lib/database.ts";
import { type ServedFunction, serveReconcileFunction } from "../../../dev/lib/serve-function.ts";
import { TEST_SECRET } from "../../../dev/lib/reconcile-fixture.ts";
import { requestCancelAsUser } from "../../../dev/lib/transaction.ts";
import { jobRow, makeJob, makeUser } from "../../../dev/lib/jobs.ts";
import { functionEnv } from "../../../dev/lib/reconcile-fixture.ts";
import { runReconcilePass } from "../../functions/_shared/reconcile/mod.ts";

let db: TestDatabase;
let healthy: ScriptedBackend;
let hostile: ScriptedBackend;
let elsewhere: ScriptedBackend;
let fn: ServedFunction;

beforeAll(async () => {
  db = await freshDatabase();
  healthy = await startScriptedBackend(listScript({}));
  hostile = await startScriptedBackend(listScript({}));
  elsewhere = await startScriptedBackend(() => ({ status: 200, body: JSON.stringify({ status: "completed" }) }));
  fn = await serveReconcileFunction(functionEnv(db.url, healthy.url), { request_timeout: "1 second" });
});

afterAll(async () => {
  await fn?.stop();
  await Promise.all([healthy?.stop(), hostile?.stop(), elsewhere?.stop()]);
  await db?.drop();
});

/** A lost job on the healthy backend and an odd job on another; returns both ids. */
async function jobsFor(oddBackendUrl: string) {
  await db.pool.query(
    "update public.local_training_jobs set status = 'cancelled' where status in ('queued', 'pending', 'running')",
  );
  const lost = await makeJob(db.pool, { status: "running", silentSeconds: 300 });
  const odd = await makeJob(db.pool, { status: "running", backendUrl: oddBackendUrl });
  return { lost, odd };
}

const terminalWith = (id: string, fields: Record<string, unknown>): Script => (path) =>
  path === "/api/training/jobs"
    ? { status: 200, body: JSON.stringify({ jobs: [{ job_id: id, status: "failed", ...fields }] }) }
    : { status: 404, body: "{}" };

async function passWith(script: (odd: string) => Script) {
  const { lost, odd } = await jobsFor(hostile.url);
  hostile.setScript(script(odd));
  const answer = await fn.call({ body: { trigger: "test" } });
  return { answer, lost: await jobRow(db.pool, lost), odd: await jobRow(db.pool, odd) };
}

describe("finding 1: one odd answer no longer fails the pass for every backend", () => {
  it.each([
    ["a NUL byte in the error text", { error: "CUDA\u0000 out of memory" }, "CUDA out of memory", null],
    [
      "an error text whose 500th unit splits an emoji",
      { error: `${"x".repeat(499)}😀 and more` },
      `${"x".repeat(499)}…`,
      null,
    ],
    [
      "completed_at 'June 2024' (Date.parse accepts it, Postgres does not)",
      { error: "oom", completed_at: "June 2024" },
      "oom",
      'completed_at ignored "June 2024": not ISO 8601',
    ],
    [
      "completed_at '2024-02-30'",
      { error: "oom", completed_at: "2024-02-30" },
      "oom",
      'completed_at ignored "2024-02-30": no such day',
    ],
  ])("%s", async (_label, fields, reason, note) => {
    const { answer, lost, odd } = await passWith((id) => terminalWith(id, fields));
    expect(answer.status).toBe(200);
    expect(answer.body.outcome).toBe("applied");
    expect(lost).toMatchObject({
      status: "failed",
      status_reason: expect.stringMatching(/^lost: backend has no record/),
    });
    expect(odd).toMatchObject({ status: "failed", status_reason: reason });
    expect(odd.status_evidence.backend_answer.note ?? null).toBe(note);
  });
});

describe("finding 2: a list answer under the old 32 MiB cap no longer takes the function past 256 MB", () => {
  const peakRssMb = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${fn.pid}/status`, "utf8"))![1]) / 1024;

  it.each([
    [
      "30 MiB of small entries (~1M jobs)",
      '{"id":"x","status":"running"},',
      30 * 2 ** 20,
      "body larger than 8388608 bytes",
    ],
    ["1 MiB of empty objects (~350k)", "{},", 2 ** 20, "body has more than 300000 objects and arrays"],
  ])("%s: unreachable, and the function stays far below 256 MB", async (_label, entry, bytes, detail) => {
    const body = `{"jobs":[${entry.repeat(Math.floor(bytes / entry.length))}{}]}`;
    const { answer, lost } = await passWith(() => () => ({ status: 200, body }));
    expect(answer.body.outcome).toBe("applied");
    expect(lost.status).toBe("failed");
    const backend = answer.body.backends.find((b: { url: string }) => b.url === hostile.url);
    expect(backend).toMatchObject({ reachable: false, error: detail });
    expect(peakRssMb()).toBeLessThan(200);
  });
});

describe("finding 3: redirects are not followed", () => {
  it("treats a 302 to another host as unreachable, keeps the detail, and never asks that host", async () => {
    const before = elsewhere.requests.length;
    const { answer, lost, odd } = await passWith(() => () => ({
      status: 302,
      headers: { location: `${elsewhere.url}/api/training/status/x` },
      body: "",
    }));
    expect(answer.body.outcome).toBe("applied");
    expect(elsewhere.requests.length).toBe(before);
    expect(odd.status).toBe("running");
    expect(lost.status).toBe("failed");
    const backend = answer.body.backends.find((b: { url: string }) => b.url === hostile.url);
    expect(backend).toMatchObject({
      reachable: false,
      error: `HTTP 302 redirect to ${elsewhere.url}/api/training/status/x not followed`,
    });
  });
});

describe("finding 4: backend_url is checked before any request", () => {
  it.each([
    ['data:application/json,{"status":"completed"}', "backend_url must be http or https, not data:"],
    ["file:///etc/hostname", "backend_url must be http or https, not file:"],
    [`http://user:pw@127.0.0.1:1`, "backend_url must not carry credentials"],
  ])(
    "%s is misconfigured, never fetched (a pending cancel neither), and the lost job elsewhere is still failed",
    async (url, reason) => {
      const { lost, odd } = await jobsFor(url);
      const user = await makeUser(db.pool);
      await db.pool.query("update public.local_training_jobs set user_id = $2 where id = $1", [odd, user]);
      expect(await requestCancelAsUser(db.pool, user, odd)).toBe(1);
      const answer = await fn.call({ body: { trigger: "test" } });
      expect(answer.body.outcome).toBe("applied");
      expect(answer.body.cancels_forwarded).toBe(0);
      // The records never show a password: a URL with credentials is shown with "***".
      const shown = url.replace("user:pw@", "***@");
      expect(answer.body.backends).toContainEqual({
        url: shown,
        mode: "misconfigured",
        reachable: false,
        error: reason,
        jobs: 1,
      });
      expect(JSON.stringify(answer.body)).not.toContain(":pw@");
      expect(await jobRow(db.pool, lost)).toMatchObject({ status: "failed" });
      expect(await jobRow(db.pool, odd)).toMatchObject({ status: "running" });
      const health = await db.pool.query(
        "select last_pass -> 'backends' as backends from jobs_private.reconcile_health",
      );
      expect(health.rows[0].backends).toContainEqual(expect.objectContaining({ mode: "misconfigured", error: reason }));
    },
  );
});

describe("finding 9: the function's small ones", () => {
  it("refuses dry_run given twice instead of running a real pass", async () => {
    const answer = await fn.call({ query: "?dry_run=0&dry_run=1" });
    expect(answer).toEqual({ status: 400, body: { error: "dry_run given more than once" } });
  });

  it("accepts the bearer scheme in lower case", async () => {
    const response = await fetch(`${fn.url}?dry_run=1`, {
      method: "POST",
      headers: { authorization: `bearer ${TEST_SECRET}` },
    });
    expect(response.status).toBe(200);
    await response.body?.cancel();
  });
});

describe("the bulkhead: a row Postgres refuses is set aside, every other row is applied", () => {
  it("applies the good rows of the one call, records rejected: 1 with its reason, and shows it in the health view", async () => {
    const { lost, odd } = await jobsFor(hostile.url);
    // Both jobs are on the hostile backend, which says both failed (with a valid finish time).
    const failedAt = (id: string) => ({
      job_id: id,
      status: "failed",
      error: "oom",
      completed_at: "2024-06-01T00:00:00Z",
    });
    hostile.setScript((path) =>
      path === "/api/training/jobs"
        ? { status: 200, body: JSON.stringify({ jobs: [failedAt(lost), failedAt(odd)] }) }
        : { status: 404, body: "{}" }
    );
    // What would reach the database if a value slipped past the sanitising: a date Postgres refuses,
    // put into the real pass's apply call for the odd job only.
    const slipped = {
      query(text: string, values?: unknown[]) {
        if (text.includes("apply_reconcile_changes") && values) {
          // The page's changes, one JSON array per change: [job_id, .., completed_at (6th), ..].
          const changes = JSON.parse(values[2] as string) as unknown[][];
          for (const change of changes) if (change[0] === odd) change[6] = "June 2024";
          values = [...values];
          values[2] = JSON.stringify(changes);
        }
        return db.pool.query(text, values);
      },
    };
    const summary = await runReconcilePass({
      db: slipped,
      fetch,
      overrides: { backend_url: hostile.url },
      trigger: "test",
      dryRun: false,
    });
    const passId = summary.pass_id;
    expect(summary).toMatchObject({
      outcome: "applied",
      applied: { record_backend_terminal: 1 },
      conflicts: 0,
      rejected: 1,
    });
    if (summary.outcome !== "applied") throw new Error(`pass ended ${summary.outcome}`);
    expect(summary.rejected_rows?.[0]).toMatchObject({
      job_id: odd,
      error: expect.stringMatching(/^22007: invalid input syntax for type timestamp with time zone/),
    });
    expect(await jobRow(db.pool, lost)).toMatchObject({ status: "failed" });
    expect(await jobRow(db.pool, odd)).toMatchObject({ status: "running" });
    const run = await db.pool.query("select counts from jobs_private.reconcile_passes where id = $1", [passId]);
    expect(run.rows[0].counts).toMatchObject({ rejected: 1, applied: { record_backend_terminal: 1 } });
    const health = await db.pool.query("select rejected_changes_24h from jobs_private.reconcile_health");
    expect(Number(health.rows[0].rejected_changes_24h)).toBeGreaterThanOrEqual(1);
  });
});
