// The Next.js kit (examples/nextjs) from the root: its dependencies stay out of the root install
// and are installed on first use (`npm ci --prefix examples/nextjs`), again only when its
// lockfile changes; it is rebuilt only when a source file is newer than the last build.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const nextExampleDir = join(import.meta.dirname, "..", "..", "examples", "nextjs");
const stamp = join(nextExampleDir, "node_modules", ".installed-from-lockfile");
export const nextBin = join(nextExampleDir, "node_modules", "next", "dist", "bin", "next");

export function ensureNextExampleDeps(log: (line: string) => void = console.error): void {
  const lockfile = readFileSync(join(nextExampleDir, "package-lock.json"), "utf8");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === lockfile) return;
  log("examples/nextjs: installing its dependencies (npm ci --prefix examples/nextjs)");
  execFileSync("npm", ["ci", "--prefix", nextExampleDir, "--no-audit", "--no-fund"], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  writeFileSync(stamp, lockfile);
}

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    // Not sources: build output, dependencies, tests, and files tsc and next write themselves.
    if (
      [".next", "node_modules", "tests", "next-env.d.ts"].includes(entry.name) || entry.name.endsWith(".tsbuildinfo")
    ) continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** `next build` unless .next holds a build newer than every source file. */
export function ensureNextExampleBuilt(log: (line: string) => void = console.error): void {
  const buildId = join(nextExampleDir, ".next", "BUILD_ID");
  if (existsSync(buildId) && statSync(buildId).mtimeMs > newestSourceMtime(nextExampleDir)) return;
  log("examples/nextjs: next build");
  execFileSync(process.execPath, [nextBin, "build"], {
    cwd: nextExampleDir,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
}

export interface RunningNextExample {
  url: string;
  logs: () => string;
  stop(): Promise<void>;
}

/** `next start` (or `next dev`) on 127.0.0.1:port, resolved once it answers HTTP. */
export async function startNextExample(
  opts: { port: number; env: Record<string, string>; command?: "start" | "dev"; timeoutMs?: number },
): Promise<RunningNextExample> {
  const { spawn } = await import("node:child_process");
  const child = spawn(
    process.execPath,
    [nextBin, opts.command ?? "start", "-p", String(opts.port), "-H", "127.0.0.1"],
    {
      cwd: nextExampleDir,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const url = `http://127.0.0.1:${opts.port}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  };
  const until = Date.now() + (opts.timeoutMs ?? 60_000);
  while (Date.now() < until) {
    if (child.exitCode !== null) {
      throw new Error(`next ${opts.command ?? "start"} exited (${child.exitCode}):\n${output}`);
    }
    try {
      await fetch(`${url}/api/training/jobs`, { signal: AbortSignal.timeout(2_000) });
      return { url, logs: () => output, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await stop();
  throw new Error(`next did not answer on ${url} within ${opts.timeoutMs ?? 60_000} ms:\n${output}`);
}
