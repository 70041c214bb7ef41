// The Edge Function's own cost for one pass, against Supabase's limits (2 s CPU, 256 MB):
// CPU time of the deno process during the request, and its peak resident memory.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { serveReconcileFunction } from "../lib/serve-function.ts";

const root = join(import.meta.dirname, "..", "..");

/**
 * The same pass in Deno, in-process, with its V8 heap sampled (dev/bench/pass-heap.ts). Waited for
 * without blocking: the simulator answers from this process, and a blocked event loop left every
 * list request to time out (the pass measured was one against an unreachable backend).
 */
export async function passHeap(
  databaseUrl: string,
  backendUrl: string,
  { live = false } = {},
): Promise<{
  observed: number;
  reachable: boolean;
  peakHeapMb: number;
  peakRssMb: number;
  peakYoungCommittedMb: number;
  peakOldUsedMb: number;
}> {
  const { stdout } = await promisify(execFile)(join(root, "node_modules/.bin/deno"), [
    "run",
    "-A",
    "--quiet",
    ...(live ? ["--v8-flags=--expose-gc"] : []),
    "--config",
    join(root, "supabase/functions/reconcile-jobs/deno.json"),
    join(root, "dev/bench/pass-heap.ts"),
  ], { env: { ...process.env, B: databaseUrl, SIM: backendUrl, LIVE: live ? "1" : "" }, encoding: "utf8" });
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

const TICKS_PER_SECOND = 100; // Linux USER_HZ

export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime + stime
}

export function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match![1]) / 1024;
}

/**
 * V8's young generation, capped at 1 MB a semi-space: the context row that shows where the RSS
 * growth of a long pass goes. Under a steady stream of short-lived objects V8 grows its
 * semi-spaces towards their maximum, so the process's RSS grows with the pass's length, not with
 * what it holds (its heap in use stays at one page's worth).
 */
export const SMALL_YOUNG_GENERATION = { DENO_V8_FLAGS: "--max-semi-space-size=1" };

/** One pass in a fresh `deno serve` process (extraEnv: e.g. DENO_V8_FLAGS). */
export async function benchFunction(databaseUrl: string, backendUrl: string, extraEnv: Record<string, string> = {}) {
  const secret = `bench-${crypto.randomUUID()}`;
  const fn = await serveReconcileFunction(
    { RECONCILE_SECRET: secret, SUPABASE_DB_URL: databaseUrl, ...extraEnv },
    { backend_url: backendUrl, deadline: "120 seconds", request_timeout: "60 seconds" },
  );
  try {
    // Compile and connect first, as a warm instance would be: a dry run of 1/256 of the jobs. (A dry
    // run of all of them holds its whole plan, and the peak RSS it leaves was counted against the
    // pass: 231 of the 241 MB first measured at 100k were the warm-up's.)
    await fn.call({ query: "?dry_run=1", body: { shard: 0, shards: 256 } }).catch(() => undefined);
    const cpuBefore = cpuSeconds(fn.pid);
    const rssBefore = peakRssMb(fn.pid);
    const started = Date.now();
    const { status, body } = await fn.call();
    if (status !== 200) throw new Error(`function answered ${status}: ${JSON.stringify(body)}`);
    return {
      cpuSeconds: cpuSeconds(fn.pid) - cpuBefore,
      wallSeconds: (Date.now() - started) / 1000,
      peakRssMb: peakRssMb(fn.pid),
      idleRssMb: rssBefore,
      observed: body.observed as number,
    };
  } finally {
    await fn.stop();
  }
}
