// The Edge Function's own cost for one pass, against Supabase's limits (2 s CPU, 256 MB):
// CPU time of the deno process during the request, and its peak resident memory.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { EDGE_WORKER_V8_FLAGS, serveReconcileFunction } from "../lib/serve-function.ts";

const root = join(import.meta.dirname, "..", "..");

/**
 * The V8 heap a pass runs in: "edge" as Supabase's runtime sizes a worker's (EDGE_WORKER_V8_FLAGS),
 * "deno" as plain Deno sizes it from the machine's memory, and two sizings of "edge" with V8's
 * adapting taken away (its young generation's growth, or its whole GC schedule), measured to show how
 * much of the difference between sizes is V8 adapting its heap as a program runs rather than what the
 * pass keeps. Those are flags the edge runtime's operator could set and a project cannot.
 */
export type HeapSizing = "edge" | "deno" | "edge-young-full" | "edge-fixed-schedule";

/** The flags each sizing adds after the edge runtime's ("deno" leaves out those too). */
const ADDED_V8_FLAGS: Record<HeapSizing, string> = {
  edge: "",
  deno: "",
  // Semi-spaces at their maximum for a 256 MB heap from the start (V8 makes a 16 MB new space of two
  // 8 MB halves), instead of grown to it as the program's objects survive.
  "edge-young-full": "--min-semi-space-size=8",
  // V8's "predictable garbage collection schedule" (flag-definitions.h): semi-spaces fixed at 4 MB
  // (half the edge maximum), a fixed growing factor of 1.3 for the old generation's limit (at this heap
  // size V8's 8 MB minimum step decides it anyway), no memory reducer. Several heuristics at once:
  // nothing in the heap's sizing depends on how long the program has run or how fast it allocated.
  "edge-fixed-schedule": "--predictable-gc-schedule",
};

/** The caller's environment without DENO_V8_FLAGS: the heap is sized by `heap` alone. */
function withoutV8Flags(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { DENO_V8_FLAGS: _, ...rest } = env;
  return rest;
}

/**
 * The same pass in Deno, in-process, with its V8 heap sampled (dev/bench/pass-heap.ts). Waited for
 * without blocking: the simulator answers from this process, and a blocked event loop left every
 * list request to time out (the pass measured was one against an unreachable backend).
 */
export async function passHeap(
  databaseUrl: string,
  backendUrl: string,
  { live = false, heap = "edge" as HeapSizing } = {},
): Promise<{
  observed: number;
  reachable: boolean;
  peakHeapMb: number;
  peakRssMb: number;
  peakYoungCommittedMb: number;
  peakOldUsedMb: number;
  /** What the edge runtime holds against the worker's memory limit: V8 heap in use + external memory. */
  peakCountedMb: number;
  /** The V8 heap's own limit, as its flags set it. */
  heapLimitMb: number;
  /** Times old space fell by 2 MB or more from its high point: the full collections seen (not in LIVE runs). */
  oldSpaceFalls: number;
}> {
  const flags = [
    ...(live ? ["--expose-gc"] : []),
    ...(heap === "deno" ? [] : [EDGE_WORKER_V8_FLAGS]),
    ...(ADDED_V8_FLAGS[heap] ? [ADDED_V8_FLAGS[heap]] : []),
  ];
  const { stdout } = await promisify(execFile)(join(root, "node_modules/.bin/deno"), [
    "run",
    "-A",
    "--quiet",
    ...(flags.length > 0 ? [`--v8-flags=${flags.join(",")}`] : []),
    "--config",
    join(root, "supabase/functions/reconcile-jobs/deno.json"),
    join(root, "dev/bench/pass-heap.ts"),
  ], {
    env: { ...withoutV8Flags(process.env), B: databaseUrl, SIM: backendUrl, LIVE: live ? "1" : "" },
    encoding: "utf8",
  });
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

/** One pass in a fresh `deno serve` process, its V8 heap sized as `heap` says. */
export async function benchFunction(databaseUrl: string, backendUrl: string, heap: HeapSizing = "edge") {
  const secret = `bench-${crypto.randomUUID()}`;
  const fn = await serveReconcileFunction(
    // serveReconcileFunction sizes the heap as the edge runtime does unless told "" (Deno's own sizing),
    // and adds a caller's flags after its own.
    {
      RECONCILE_SECRET: secret,
      SUPABASE_DB_URL: databaseUrl,
      ...(heap === "deno" || ADDED_V8_FLAGS[heap] ? { DENO_V8_FLAGS: ADDED_V8_FLAGS[heap] } : {}),
    },
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
