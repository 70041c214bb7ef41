// The hostile-row fuzz suite, a few hundred rows (npm run fuzz -- --suite rows runs 10,000): one row
// whose every column the pass reads holds a generated value, beside healthy rows, real passes.
import { afterAll, beforeAll, expect, it } from "vitest";
import pg from "pg";
import { runHostileRowFuzz } from "../../../dev/fuzz/hostile-rows.ts";
import {
  CHANGE_ROW_FIELDS,
  changesJson,
  emptyChangeColumns,
  OBSERVED_ROW_FIELDS,
} from "../../functions/_shared/reconcile/mod.ts";
import { freshDatabase, type TestDatabase } from "../../../dev/lib/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => db?.drop());

it("observe_reconcile_page sends each row as the fields the pass reads, in the one declared order", async () => {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query("insert into public.local_training_jobs (model_name, status) values ('shape', 'running')");
    const { rows } = await client.query(
      "select jobs_private.observe_reconcile_page(null, 10, interval '10 minutes', interval '10 minutes') -> 0 as row",
    );
    expect(rows[0].row).toHaveLength(OBSERVED_ROW_FIELDS.length);
  } finally {
    await client.end();
  }
});

it("reconcile_change_rows reads each field of a change where changesJson puts it, in the one declared order", async () => {
  const c = emptyChangeColumns();
  const change = {
    jobIds: "00000000-0000-4000-8000-000000000001",
    observedStatus: "running",
    observedUpdatedAt: "2026-12-05 12:00:00+00",
    actions: "fail_lost",
    newStatus: "failed",
    reasons: "lost: backend has no record",
    completedAt: "2026-12-05 12:01:00+00",
    evidence: { rule: "fail_lost" },
    markers: '{"p":0.5}',
  };
  for (const field of CHANGE_ROW_FIELDS) (c[field] as unknown[]).push(change[field]);
  const { rows } = await db.pool.query(
    `select job_id::text, observed_status, observed_updated_at::text, action, new_status, reason, completed_at::text,
            evidence, marker from jobs_private.reconcile_change_rows($1::jsonb)`,
    [changesJson(c)],
  );
  expect(Object.values(rows[0])).toEqual(CHANGE_ROW_FIELDS.map((f) => change[f]));
});

it("one odd row costs at most itself, for 300 generated rows through the pass's core", async () => {
  const result = await runHostileRowFuzz({ databaseUrl: db.url, runs: 300, seed: 20261205 });
  expect(result.runs).toBe(300);
}, 180_000);

it("and for 8 of them through the real function under Deno", async () => {
  const result = await runHostileRowFuzz({ databaseUrl: db.url, runs: 8, seed: 20261206, via: "deno" });
  expect(result.runs).toBe(8);
}, 120_000);
