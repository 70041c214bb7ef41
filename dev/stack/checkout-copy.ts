// Test support: a copy of this checkout somewhere else (its tracked and new files, as they are on
// disk, not as committed), with node_modules shared instead of a second `npm ci`.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";

export const repoRoot = join(import.meta.dirname, "..", "..");

export function copyCheckout(to: string, nodeModules: "symlink" | "hardlink"): void {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: repoRoot,
    encoding: "utf8",
  })
    .split("\0").filter(Boolean);
  for (const file of files) {
    const from = join(repoRoot, file);
    if (!existsSync(from)) continue; // deleted, not yet committed
    mkdirSync(dirname(join(to, file)), { recursive: true });
    if (lstatSync(from).isSymbolicLink()) symlinkSync(readlinkSync(from), join(to, file));
    else copyFileSync(from, join(to, file));
  }
  if (nodeModules === "symlink") {
    symlinkSync(join(repoRoot, "node_modules"), join(to, "node_modules"));
  } else {
    // For another OS user, who may not be able to reach this checkout's node_modules at all
    // (a checkout in a mode-700 folder): hard links cost no copy (same filesystem), else copy.
    try {
      execFileSync("cp", ["-al", join(repoRoot, "node_modules"), join(to, "node_modules")], { stdio: "pipe" });
    } catch {
      execFileSync("rm", ["-rf", join(to, "node_modules")]);
      execFileSync("cp", ["-a", join(repoRoot, "node_modules"), join(to, "node_modules")], { stdio: "pipe" });
    }
  }
}
