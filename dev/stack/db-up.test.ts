import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";

const dbUp = join(import.meta.dirname, "db-up.sh");

it("db:up is idempotent: run again, it applies nothing and prints the same DATABASE_URL last", () => {
  const run = () => execFileSync("bash", [dbUp], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  const first = run().split("\n").at(-1);
  const second = run().split("\n").at(-1);
  expect(first).toMatch(/^DATABASE_URL=postgresql:\/\/.+:\d+\/postgres$/);
  expect(second).toBe(first);
});
