// The README's first command must keep working: the demo plays every scenario to the truth.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";

it("npm run demo converges every scenario, says how long each took, and exits 0", async () => {
  const root = join(import.meta.dirname, "..", "..");
  const env = { ...process.env };
  delete env.DATABASE_URL; // the demo's default: the local stack
  const { stdout } = await promisify(execFile)("npm", ["run", "--silent", "demo"], { cwd: root, env, timeout: 150_000 });
  const summary = stdout.slice(stdout.indexOf("What was fixed"));
  expect(summary.match(/ ✓ /g)).toHaveLength(9);
  expect(summary).not.toContain("✗");
  expect(summary).toMatch(/1 backend crashes.*✓ failed \(heartbeat lost\)/);
  expect(summary).toMatch(/partition: presumed dead, then revived.*✓/);
  expect(stdout).toMatch(/reconcile_health: healthy/);
}, 160_000);
