// The migrations must extend a project that already has the seed's table, without breaking the
// writers that use it today: the Python backend's persist_job(), the Next.js route, resume.
import pg from "pg";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminUrl } from "../../../dev/lib/database.ts";
import { withDatabase } from "../../../dev/lib/local-stack.ts";
import { loadStandIns, pushMigrations } from "../../../dev/lib/stand-ins.ts";

const name = `legacy_${randomBytes(5).toString("hex")}`;
let db: pg.Client;
let pushOutput = "";
let firstPushError = "";
let mappingUpdate = "";

// The table as the seed project has it: no status constraint, no updated_at default or trigger,
// and columns of its own (progress, error_message) that the migrations know nothing about.
const seedTable = `
  create table public.local_training_jobs (
    id uuid primary key default gen_random_uuid(),
    user_id uuid references auth.users(id),
    model_name text,
    status text,
    config jsonb,
    started_at timestamptz,
    completed_at timestamptz,
    created_at timestamptz default now(),
    updated_at timestamptz,
    progress double precision,
    error_message text
  );
  insert into auth.users (id, email) values ('11111111-1111-1111-1111-111111111111', 'seed@example.com');
  insert into public.local_training_jobs (id, user_id, model_name, status, config, started_at, created_at, updated_at, progress) values
    ('00000000-0000-0000-0000-00000000000a', '11111111-1111-1111-1111-111111111111', 'llama-ghost', 'running', '{"lr": 0.001}', '2025-11-11', '2025-11-11', '2025-11-11', 0.42),
    ('00000000-0000-0000-0000-00000000000b', '11111111-1111-1111-1111-111111111111', 'odd-status', 'error', null, null, '2025-11-12', '2025-11-12', null);
`;

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = withDatabase(adminUrl(), name);
  loadStandIns(url);
  db = new pg.Client({ connectionString: url });
  await db.connect();
  await db.query(seedTable);
  // The seed's 'error' row stops the push before it changes anything; it names the statuses and
  // the SQL that maps them (which adds the reason column itself: the push added nothing).
  try {
    pushMigrations(url);
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    firstPushError = `${stdout}${stderr}`;
  }
  mappingUpdate = /run: (alter table public\.local_training_jobs .*?; update public\.local_training_jobs .*?;)/
    .exec(firstPushError)?.[1] ?? "";
  if (mappingUpdate) await db.query(mappingUpdate);
  pushOutput = pushMigrations(url);
});

afterAll(async () => {
  await db?.end();
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
});

describe("migrating a project that already has local_training_jobs", () => {
  it("applies every migration with supabase db push", () => {
    expect(pushOutput).toContain("Finished supabase db push");
  });

  it("keeps existing rows and the project's own columns", async () => {
    const { rows } = await db.query(
      "select model_name, progress, config from public.local_training_jobs where id = '00000000-0000-0000-0000-00000000000a'",
    );
    expect(rows).toEqual([{ model_name: "llama-ghost", progress: 0.42, config: { lr: 0.001 } }]);
  });

  it("shows the seed's ghost from 2025-11-11 as stale in the view", async () => {
    const { rows } = await db.query(
      "select status, effective_status from public.local_training_jobs_effective where id = '00000000-0000-0000-0000-00000000000a'",
    );
    expect(rows).toEqual([{ status: "running", effective_status: "stale" }]);
  });

  it("stops the push at an unknown status, naming it and the SQL that maps it", () => {
    expect(firstPushError).toContain("local_training_jobs has rows with unknown statuses: 'error' (1 rows)");
    expect(mappingUpdate).toMatch(
      /^alter table public\.local_training_jobs add column if not exists status_reason text;/,
    );
    expect(mappingUpdate).toMatch(/ update public\.local_training_jobs set status = 'failed'/);
  });

  it("after the mapping, the old row is failed with its legacy status as the reason, and can be written", async () => {
    const { rows } = await db.query(
      "select status, status_reason from public.local_training_jobs where id = '00000000-0000-0000-0000-00000000000b'",
    );
    expect(rows).toEqual([{ status: "failed", status_reason: "legacy status: error" }]);
    // A heartbeat-like write to it: refused by the NOT VALID check before the mapping.
    await db.query(
      "update public.local_training_jobs set progress = 1 where id = '00000000-0000-0000-0000-00000000000b'",
    );
    await expect(
      db.query("insert into public.local_training_jobs (model_name, status) values ('x', 'error')"),
    ).rejects.toThrow(/local_training_jobs_status_is_known/);
  });

  it("keeps inserts without a status working: the status is queued and the history says why", async () => {
    const left = await db.query(
      "insert into public.local_training_jobs (model_name) values ('no-status') returning id, status",
    );
    const nulled = await db.query(
      "insert into public.local_training_jobs (model_name, status) values ('null-status', null) returning id, status",
    );
    expect([left.rows[0].status, nulled.rows[0].status]).toEqual(["queued", "queued"]);
    const history = await db.query(
      "select to_status, reason from public.local_training_job_history where job_id = any($1) order by id",
      [[left.rows[0].id, nulled.rows[0].id]],
    );
    expect(history.rows).toEqual([
      { to_status: "queued", reason: "status missing at insert: defaulted to queued" },
      { to_status: "queued", reason: "status missing at insert: defaulted to queued" },
    ]);
  });

  it("accepts the backend's persist_job() writes unchanged: insert, heartbeat, then failure", async () => {
    // The same statements the seed's writer issues through the API, with its own columns.
    const inserted = await db.query(
      `insert into public.local_training_jobs (user_id, model_name, status, config, progress)
       values ('11111111-1111-1111-1111-111111111111', 'resumed-run', 'queued', '{}', 0) returning id, updated_at`,
    );
    const id = inserted.rows[0].id as string;
    expect(inserted.rows[0].updated_at).toBeInstanceOf(Date);

    await db.query("update public.local_training_jobs set status = 'running', progress = 0.5 where id = $1", [id]);
    await db.query(
      `update public.local_training_jobs set status = 'failed', completed_at = now(),
         config = '{"error": "Process terminated"}' where id = $1`,
      [id],
    );
    const history = await db.query(
      "select from_status, to_status from public.local_training_job_history where job_id = $1 order by id",
      [id],
    );
    expect(history.rows).toEqual([
      { from_status: null, to_status: "queued" },
      { from_status: "queued", to_status: "running" },
      { from_status: "running", to_status: "failed" },
    ]);
  });

  it("is idempotent: a second push applies nothing", () => {
    const again = pushMigrations(withDatabase(adminUrl(), name));
    expect(again).toContain("Remote database is up to date");
  });
});
