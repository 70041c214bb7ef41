// The persist route (app/api/training/local/jobs/route.ts) over HTTP, against the real
// report_job_status(): a backend's retries are safe, and only real failures are errors.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type KitFixture, kitFixture } from "./support/app.ts";

let kit: KitFixture;
beforeAll(async () => {
  kit = await kitFixture();
});
afterAll(async () => {
  await kit?.teardown();
});

const row = async (id: string) =>
  (await kit.db.pool.query(
    "select status, user_id, model_name, config, attempt, report_seq::float8 as seq, progress, status_reason, cancel_requested_at from public.local_training_jobs where id = $1",
    [id],
  )).rows[0];

/** The seed's job dict, as training_server.py's persist_job() POSTs it. */
const seedJob = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  job_id: id,
  user_id: kit.userId,
  model_name: "resnet50-finetune",
  status: "queued",
  config: { learning_rate: 0.001, epochs: 3 },
  ...extra,
});

it("creates the row on a job's first report, then applies newer reports and ignores a stale one", async () => {
  const id = randomUUID();
  const first = await kit.persist(seedJob(id, { attempt: 1, seq: 100 }));
  expect(first).toEqual({
    status: 200,
    body: { outcome: "applied", status: "queued", attempt: 1, seq: 100, cancel_requested: false, created: true },
  });
  expect(await row(id)).toMatchObject({
    status: "queued",
    user_id: kit.userId,
    model_name: "resnet50-finetune",
    config: { epochs: 3 },
  });

  expect((await kit.persist({ job_id: id, status: "running", attempt: 1, seq: 200, progress: 0.25 })).body)
    .toMatchObject({ outcome: "applied", status: "running", created: false });
  // A retry of an older report arrives late: answered 200, so the backend does not retry it again.
  const late = await kit.persist({ job_id: id, status: "queued", attempt: 1, seq: 150 });
  expect(late).toMatchObject({ status: 200, body: { outcome: "ignored_stale", status: "running" } });
  expect(await row(id)).toMatchObject({ status: "running", seq: 200, progress: 0.25 });
});

it("tells the writer about a user's cancel on its next report", async () => {
  const id = randomUUID();
  await kit.persist(seedJob(id, { status: "running", attempt: 1, seq: 1 }));
  const client = await kit.db.pool.connect();
  try {
    await client.query("begin");
    await client.query("set local role authenticated");
    await client.query("select set_config('request.jwt.claims', $1, true)", [
      JSON.stringify({ sub: kit.userId, role: "authenticated" }),
    ]);
    await client.query("update public.local_training_jobs set status = 'cancelled' where id = $1", [id]);
    await client.query("commit");
  } finally {
    client.release();
  }
  const heartbeat = await kit.persist({ job_id: id, status: "running", attempt: 1, seq: 2 });
  expect(heartbeat).toMatchObject({
    status: 200,
    body: { outcome: "applied", status: "running", cancel_requested: true },
  });
  const stopped = await kit.persist({ job_id: id, status: "cancelled", attempt: 1, seq: 3 });
  expect(stopped.body).toMatchObject({ outcome: "applied", status: "cancelled" });
});

it("takes the seed's body without attempt and seq: the row's attempt, the route's clock, progress in percent", async () => {
  const id = randomUUID();
  const before = Date.now() * 1000;
  const created = await kit.persist(seedJob(id, { status: "running", config: { progress: 42 } }));
  expect(created).toMatchObject({
    status: 200,
    body: { outcome: "applied", status: "running", attempt: 1, created: true },
  });
  expect(created.body.seq).toBeGreaterThanOrEqual(before);
  expect(await row(id)).toMatchObject({ progress: 0.42 });

  // Resumed as attempt 2: a legacy report (no attempt) writes the current attempt.
  await kit.db.pool.query("select public.start_job_attempt($1)", [id]);
  const resumed = await kit.persist({ id, status: "running", config: { progress: 10 } });
  expect(resumed.body).toMatchObject({ outcome: "applied", attempt: 2 });
  // An adapter-era report from the old attempt is fenced: an answer, not an error.
  expect((await kit.persist({ job_id: id, status: "running", attempt: 1, seq: Number.MAX_SAFE_INTEGER })).body)
    .toMatchObject({ outcome: "refused_fenced", attempt: 2 });

  expect((await kit.persist({ id, status: "failed", config: { error: "CUDA out of memory" } })).body)
    .toMatchObject({ outcome: "applied", status: "failed" });
  // The seed's blind heartbeat after the end: final stays final.
  expect(await kit.persist({ id, status: "running" })).toMatchObject({
    status: 200,
    body: { outcome: "ignored_terminal", status: "failed" },
  });
  expect(await row(id)).toMatchObject({ status: "failed", status_reason: "CUDA out of memory" });
});

it("refuses a wrong or missing secret with 401 and changes nothing", async () => {
  const id = randomUUID();
  expect((await kit.persist(seedJob(id, { attempt: 1, seq: 1 }), "not-the-secret-at-all")).status).toBe(401);
  expect((await kit.persist(seedJob(id, { attempt: 1, seq: 1 }), null)).status).toBe(401);
  expect(await row(id)).toBeUndefined();
});

it("answers 400 for a malformed body and 404 for a bare report of an unknown job", async () => {
  const id = randomUUID();
  for (
    const [body, message] of [
      ["{not json", "not JSON"],
      [[1, 2], "JSON object"],
      [{ status: "running" }, "job_id"],
      [{ job_id: id, status: "exploded" }, "status must be one of"],
      [{ job_id: id, status: "running", attempt: 0 }, "attempt must be a positive integer"],
      [{ job_id: id, status: "running", seq: "7" }, "seq must be a positive integer"],
      [{ job_id: id, status: "running", progress: "half" }, "progress must be a number"],
    ] as const
  ) {
    const answer = await kit.persist(body);
    expect(answer.status, JSON.stringify(body)).toBe(400);
    expect(answer.body.error).toContain(message);
  }
  const unknown = await kit.persist({ job_id: id, status: "running", attempt: 1, seq: 1, progress: 0.5 });
  expect(unknown.status).toBe(404);
  expect(await row(id)).toBeUndefined();
});

it("creates the row from a report with the job's fields but no user_id, as the seed's upsert did", async () => {
  const id = randomUUID();
  expect((await kit.persist({ job_id: id, status: "running", model_name: "anonymous-run", attempt: 1, seq: 5 })).body)
    .toMatchObject({ outcome: "applied", status: "running", created: true });
  expect(await row(id)).toMatchObject({ user_id: null, model_name: "anonymous-run", status: "running" });
});
