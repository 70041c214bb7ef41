// Builds the template database every vitest file clones: the platform stand-ins plus
// supabase/migrations applied by the real Supabase CLI, exactly as db:up does for `postgres`.
import pg from "pg";
import { adminUrl, TEMPLATE_DATABASE, withDatabase } from "../../supabase/tests/support/database.ts";
import { loadStandIns, pushMigrations } from "../../supabase/tests/support/stand-ins.ts";

export async function setup(): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${TEMPLATE_DATABASE} with (force)`);
    await admin.query(`create database ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl(), TEMPLATE_DATABASE);
  loadStandIns(url);
  pushMigrations(url);
}
