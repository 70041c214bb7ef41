// Runs PostgreSQL's own programs the way dev/stack/env.sh does: postgres refuses to run as
// root, so as root they run as the `postgres` OS user; anyone else runs them as themselves.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";
const isRoot = process.getuid?.() === 0;

export function asClusterUser(cmd: string, args: string[]): Buffer {
  const program = join(PG_BIN, cmd);
  return isRoot
    // From /: postgres may not be able to enter our working folder (see dev/stack/env.sh).
    ? execFileSync("runuser", ["-u", "postgres", "--", program, ...args], { stdio: "pipe", cwd: "/" })
    : execFileSync(program, args, { stdio: "pipe" });
}

/** A new folder the cluster's OS user owns. As root it is in /var/tmp, which `postgres` can
 * always enter (the checkout, or $TMPDIR, may sit in a mode-700 folder it cannot). */
export function clusterScratchDir(prefix: string): string {
  const dir = mkdtempSync(join(isRoot ? "/var/tmp" : tmpdir(), prefix));
  if (isRoot) execFileSync("chown", ["postgres:postgres", dir]);
  return dir;
}
