// The README's first command must keep working: the demo plays every scenario to the truth, first
// against the seed's backend as it is, then against one that follows the contract.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";

it("npm run demo converges every scenario in both acts, says how long each took, and exits 0", async () => {
  const root = join(import.meta.dirname, "..", "..");
  const env = { ...process.env };
  delete env.DATABASE_URL; // the demo's default: the local stack
  const { stdout } = await promisify(execFile)("npm", ["run", "--silent", "demo"], {
    cwd: root,
    env,
    timeout: 200_000,
  });
  const [act1, act2] = stdout.split("what became of each job").slice(1);
  expect(act1!.match(/ ✓ /g)).toHaveLength(10);
  expect(act2!.match(/ ✓ /g)).toHaveLength(10);
  expect(stdout).not.toContain("✗");
  // The seed's backend, unchanged: no ghost reads running, and the forgotten completion is labelled.
  expect(act1).toMatch(
    /2 training process and monitor die\s+t\+3s\s+\+\d+\.\ds\s+\+\d+\.\ds\s+✓ stale at once, then failed \(stalled\)/,
  );
  expect(act1).toMatch(/dict says running.*✓ failed \(stalled/);
  expect(act1).toMatch(
    /3 API down, then completes during it.*✓ running while progress moves; then failed, labelled forgotten/,
  );
  // The contract: the same completion is recorded, and a partitioned worker is revived.
  expect(act2).toMatch(/3 API down, then completes during it.*✓ running while progress moves; then completed/);
  expect(act2).toMatch(/partition: presumed dead, then revived.*✓/);
  expect(stdout).toMatch(/Act 1: the seed's backend, unchanged: every job reads the truth/);
  expect(stdout).toMatch(/Act 2: a backend that follows the contract: every job reads the truth/);
  expect(stdout).toMatch(/reconcile_health: (healthy|degraded)/);
}, 210_000);
