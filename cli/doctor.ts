// `npm run doctor [-- --db-url <connection string>] [--json]`
// A thin reader of jobs_private.reconcile_doctor() (the checks live in SQL, for the SQL editor too).
// It adds what only this side knows: the highest migration file, so "migrations applied" compares
// the database with the checkout. Exit code 1 when any check fails, 2 when it cannot run.
import pg from "pg";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type DoctorRow, formatDoctor } from "./format-doctor.ts";

const root = join(import.meta.dirname, "..");

export function latestMigration(dir = join(root, "supabase/migrations")): string | null {
  const versions = readdirSync(dir).map((f) => /^(\d+)_.*\.sql$/.exec(f)?.[1]).filter((v): v is string => !!v);
  return versions.sort().at(-1) ?? null;
}

export async function doctor(databaseUrl: string): Promise<DoctorRow[]> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<DoctorRow>(
      `select "position", "check", ok, detail, fix from jobs_private.reconcile_doctor($1) order by "position"`,
      [latestMigration()],
    );
    return rows;
  } catch (error) {
    // The function itself is missing: the migrations (at least this one) are not applied.
    const code = (error as { code?: string }).code;
    if (code !== "42883" && code !== "3F000") throw error;
    return [{
      position: 1,
      check: "migrations applied",
      ok: false,
      detail: `jobs_private.reconcile_doctor() is missing: the migrations up to ${latestMigration()} are not applied`,
      fix: "npx supabase db push",
    }];
  } finally {
    await db.end();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { "db-url": { type: "string" }, json: { type: "boolean", default: false } },
  });
  // As the other tools: DATABASE_URL, else the local stack (started if needed).
  const url = values["db-url"] ?? process.env.DATABASE_URL ??
    (await import("../dev/lib/local-stack.ts")).localStackUrl();
  const rows = await doctor(url);
  console.log(values.json ? JSON.stringify(rows, null, 2) : formatDoctor(rows));
  process.exit(rows.every((r) => r.ok) ? 0 : 1);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(`doctor: ${error instanceof Error ? error.message : error}`);
    process.exit(2);
  });
}
