// What TypeScript and SQL must agree on, written once on the TypeScript side and checked here
// against the migrated database: the fields of an observed row, the fields of a change, and the
// list of presumed-death rules.
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "../../../dev/lib/database.ts";
import {
  CHANGE_ROW_FIELDS,
  changesJson,
  emptyChangeColumns,
  OBSERVED_ROW_FIELDS,
  PRESUMED_DEATHS,
} from "../../functions/_shared/reconcile/mod.ts";

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

it("every copy of the presumed-death rule in the database lists the same rules as decide.ts", async () => {
  const { rows } = await db.pool.query(
    `select 'is_presumed_dead()' as place, pg_get_functiondef('jobs_private.is_presumed_dead(text, jsonb)'::regprocedure) as src
     union all select 'local_training_jobs_presumed_dead_idx', indexdef from pg_indexes
       where indexname = 'local_training_jobs_presumed_dead_idx'
     union all select 'observe_reconcile_page()', pg_get_functiondef(p.oid) from pg_proc p
       where p.proname = 'observe_reconcile_page'`,
  );
  expect(rows).toHaveLength(3);
  for (const { place, src } of rows) {
    const rules = [...new Set([...String(src).matchAll(/'(fail_[a-z_]+)'/g)].map((m) => m[1]))].sort();
    expect({ place, rules }).toEqual({ place, rules: [...PRESUMED_DEATHS].sort() });
  }
});
