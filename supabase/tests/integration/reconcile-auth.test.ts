// The function's door: only POST, only with the secret, only with valid settings and input.
// Whatever is refused does no work: no pass is recorded and no row changes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveReconcileFunction } from "../../../dev/lib/serve-function.ts";
import { TEST_SECRET } from "../../../dev/lib/reconcile-fixture.ts";
import { makeJob, runs } from "../../../dev/lib/jobs.ts";
import { functionEnv, type ReconcileFixture, reconcileFixture } from "../../../dev/lib/reconcile-fixture.ts";

let f: ReconcileFixture;
let ghost: string;
beforeAll(async () => {
  f = await reconcileFixture();
  ghost = await makeJob(f.db.pool, { status: "running", silentSeconds: 86_400 });
});
afterAll(async () => f?.teardown());

async function nothingHappened() {
  expect(await runs(f.db.pool)).toEqual([]);
  const { rows } = await f.db.pool.query("select status from public.local_training_jobs where id = $1", [ghost]);
  expect(rows[0].status).toBe("running");
}

describe("refused requests", () => {
  it("answers 405 to anything but POST", async () => {
    const r = await f.fn.call({ method: "GET" });
    expect(r).toEqual({ status: 405, body: { error: "method not allowed: use POST" } });
    await nothingHappened();
  });

  it.each([
    ["no Authorization header", null],
    ["a wrong secret", "wrong-secret-0123456789abcdef"],
    ["the secret with a suffix", `${TEST_SECRET}x`],
  ])("answers 401 to %s", async (_label, secret) => {
    const r = await f.fn.call({ secret });
    expect(r.status).toBe(401);
    expect(r.body.error).toMatch(/^unauthorized/);
    await nothingHappened();
  });

  it.each([
    ["a body that is not JSON", "{not json", "body is not valid JSON"],
    ["a trigger with spaces", { trigger: "drop table" }, "trigger must be 1-40 letters, digits or _.:-"],
    ["a non-boolean dry_run", { dry_run: "yes" }, "dry_run must be a boolean"],
  ])("answers 400 to %s", async (_label, body, error) => {
    const response = await fetch(f.fn.url, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_SECRET}`, "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error });
    await nothingHappened();
  });
});

describe("a missing setting", () => {
  it("fails every request with a 500 that names the setting, and never shows the secret", async () => {
    const env = functionEnv(f.db.url, f.sim.url);
    const broken = await serveReconcileFunction({ ...env, SUPABASE_DB_URL: "" });
    try {
      const r = await broken.call();
      expect(r).toEqual({ status: 500, body: { error: "configuration: SUPABASE_DB_URL is not set" } });
      expect(JSON.stringify(r.body) + broken.logs()).not.toContain(TEST_SECRET);
      await nothingHappened();
    } finally {
      await broken.stop();
    }
  });
});
