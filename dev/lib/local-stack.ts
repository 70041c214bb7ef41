// Node helpers around the local stack scripts, shared by the demo, the CLI and benchmarks.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import pg from "pg";
import { loadStandIns, pushMigrations } from "./stand-ins.ts";

const root = join(import.meta.dirname, "..", "..");

/** Starts the local stack if needed and returns its DATABASE_URL. */
export function localStackUrl(): string {
  const out = execFileSync("bash", [join(root, "dev/stack/db-up.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = out.trim().split("\n").findLast((l) => l.startsWith("DATABASE_URL="));
  if (!line) throw new Error("db:up did not print DATABASE_URL");
  return line.slice("DATABASE_URL=".length);
}

/** The same server and credentials, another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** A database of its own on the local cluster, migrated from scratch; replaced if present. */
export async function recreateDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  loadStandIns(url);
  pushMigrations(url);
  return url;
}
