// On hosted Supabase the migrations run as `postgres`, which is not a superuser: extensions, Vault
// and pg_net belong to admin roles. Here they are pushed by such an owner: once into an empty
// database (the schema must be the committed one), once onto the seed's table with rows.
import pg from "pg";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { committedSchema, dumpSchema } from "../../../dev/schema/dump-schema.ts";
import { adminUrl } from "../../../dev/lib/database.ts";
import { withDatabase } from "../../../dev/lib/local-stack.ts";
import { loadStandIns, pushMigrations } from "../../../dev/lib/stand-ins.ts";

const suffix = randomBytes(5).toString("hex");
const owner = `hosted_owner_${suffix}`;
const emptyDb = `nonsuper_empty_${suffix}`;
const seedDb = `nonsuper_seed_${suffix}`;
let emptyPush = "";
let seedPush = "";

/** What hosted Supabase gives `postgres`: no superuser, but use of the platform's schemas. */
function grantsOfAHostedOwner(database: string): string {
  return `
    grant create, connect, temporary on database ${database} to ${owner};
    grant usage, create on schema public to ${owner};
    grant usage on schema auth, extensions, vault, net, cron to ${owner};
    grant select, references on auth.users to ${owner};
    grant execute on all functions in schema auth to ${owner};
    grant select on vault.decrypted_secrets to ${owner};
    grant execute on all functions in schema net to ${owner};
    grant select on net._http_response to ${owner};
    grant select, insert, update, delete on all tables in schema cron to ${owner};
    grant usage on all sequences in schema cron to ${owner};
    grant execute on all functions in schema cron to ${owner};
    -- Supabase's default privileges, for the owner that creates the objects.
    alter default privileges for role ${owner} in schema public grant all on tables to anon, authenticated, service_role;
    alter default privileges for role ${owner} in schema public grant all on functions to anon, authenticated, service_role;
    alter default privileges for role ${owner} in schema public grant all on sequences to anon, authenticated, service_role;`;
}

function ownerUrl(database: string): string {
  const url = new URL(withDatabase(adminUrl(), database));
  url.username = owner;
  url.password = "unused";
  return url.toString();
}

async function asAdmin(database: string | null, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: database ? withDatabase(adminUrl(), database) : adminUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function asOwner<T>(database: string, work: (db: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ownerUrl(database) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  await asAdmin(null, `create role ${owner} login nosuperuser createrole createdb bypassrls`);
  for (const database of [emptyDb, seedDb]) {
    await asAdmin(null, `create database ${database}`);
    loadStandIns(withDatabase(adminUrl(), database));
    await asAdmin(database, grantsOfAHostedOwner(database));
  }
  emptyPush = pushMigrations(ownerUrl(emptyDb));
  // The seed project's table, created by its owner, with a running job and a finished one.
  await asOwner(seedDb, (db) =>
    db.query(`
      create table public.local_training_jobs (
        id uuid primary key default gen_random_uuid(), user_id uuid references auth.users(id), model_name text,
        status text, config jsonb, started_at timestamptz, completed_at timestamptz,
        created_at timestamptz default now(), updated_at timestamptz, progress double precision);
      insert into public.local_training_jobs (id, model_name, status, updated_at, progress) values
        ('00000000-0000-0000-0000-0000000000a1', 'still-running', 'running', now() - interval '1 hour', 0.4),
        ('00000000-0000-0000-0000-0000000000a2', 'finished', 'completed', now() - interval '2 days', 1);`));
  seedPush = pushMigrations(ownerUrl(seedDb));
}, 120_000);

afterAll(async () => {
  for (const database of [emptyDb, seedDb]) await asAdmin(null, `drop database if exists ${database} with (force)`);
  await asAdmin(null, `drop role if exists ${owner}`);
});

describe("pushing the migrations as a non-superuser owner, as on hosted Supabase", () => {
  it("the owner is not a superuser", async () => {
    const { rows } = await asOwner(
      emptyDb,
      (db) => db.query("select rolsuper from pg_roles where rolname = current_user"),
    );
    expect(rows).toEqual([{ rolsuper: false }]);
  });

  it("applies every migration into an empty database", () => {
    expect(emptyPush).toContain("Finished supabase db push");
  });

  it("builds the committed schema (supabase/schema.sql), owned by that owner", async () => {
    // What this test granted the owner is the platform's, not the schema's: taken back before the dump.
    await asAdmin(
      emptyDb,
      `
      revoke usage, create on schema public from ${owner};
      alter default privileges for role ${owner} in schema public revoke all on tables from anon, authenticated, service_role;
      alter default privileges for role ${owner} in schema public revoke all on functions from anon, authenticated, service_role;
      alter default privileges for role ${owner} in schema public revoke all on sequences from anon, authenticated, service_role;`,
    );
    const dumped = dumpSchema(withDatabase(adminUrl(), emptyDb)).replaceAll(owner, "postgres");
    expect(dumped).toBe(committedSchema());
  });

  it("extends the seed's table with rows: rows kept, each with its last write as its heartbeat", async () => {
    expect(seedPush).toContain("Finished supabase db push");
    const { rows } = await asOwner(
      seedDb,
      (db) =>
        db.query(`select model_name, status, effective_status, progress, heartbeat_at = updated_at as heartbeat_kept
                from public.local_training_jobs_effective order by model_name`),
    );
    expect(rows).toEqual([
      { model_name: "finished", status: "completed", effective_status: "completed", progress: 1, heartbeat_kept: true },
      {
        model_name: "still-running",
        status: "running",
        effective_status: "stale",
        progress: 0.4,
        heartbeat_kept: true,
      },
    ]);
  });

  it("runs the pass's calls and the health view as that owner", async () => {
    const health = await asOwner(seedDb, async (db) => {
      await db.query("select jobs_private.claim_reconcile_pass(gen_random_uuid(), 'test', interval '1 minute')");
      await db.query(
        "select jobs_private.observe_reconcile_page(null, 10, interval '10 minutes', interval '10 minutes')",
      );
      await db.query("select jobs_private.prune_reconcile_records()");
      return db.query("select status from jobs_private.reconcile_health");
    });
    expect(health.rows).toHaveLength(1);
    const doctor = await asOwner(
      seedDb,
      (db) => db.query(`select "check", detail from jobs_private.reconcile_doctor()`),
    );
    expect(doctor.rows.map((r) => r.check)).toContain("function calls");
    expect(doctor.rows.filter((r) => String(r.detail).startsWith("cannot read"))).toEqual([]);
  });
});
