// Loads the local platform stand-ins (auth, Vault, pg_net) into a database, and applies the
// migrations with the real Supabase CLI, as db:up does.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

export const repoRoot = join(import.meta.dirname, "..", "..");

export function loadStandIns(url: string): void {
  const dir = join(repoRoot, "supabase", "local");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    execFileSync("psql", [url, "-v", "ON_ERROR_STOP=1", "-q", "-f", join(dir, file)], { stdio: "pipe" });
  }
}

/** Runs `supabase db push` and returns what it printed (stdout and stderr). */
export function pushMigrations(url: string): string {
  return execFileSync(
    "npx",
    ["--no-install", "supabase", "db", "push", "--db-url", `${url}?sslmode=disable`, "--yes"],
    { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
}
