// Run by Deno from the benchmark: one full pass of the Edge Function's core, in Deno, with the
// V8 heap and the process's RSS sampled every 5 ms. Prints one JSON line. The heap's size is set by the
// caller's --v8-flags (function-limits.ts: as the edge runtime sizes a worker's, or Deno's defaults).
//   B=<database url> SIM=<backend url> deno run -A --config supabase/functions/reconcile-jobs/deno.json dev/bench/pass-
// heap.ts
// LIVE=1 (with --v8-flags=--expose-gc): a full collection before each sample, every 50 ms, so the
// heap in use is what the pass still holds, not garbage V8 has not collected yet.
import v8 from "node:v8";
import pg from "pg";
import { runReconcilePass } from "../../supabase/functions/_shared/reconcile/mod.ts";

const live = Deno.env.get("LIVE") === "1";
const collect = (globalThis as { gc?: () => void }).gc;
if (live && !collect) throw new Error("LIVE=1 needs deno run --v8-flags=--expose-gc");

const overrides = { backend_url: Deno.env.get("SIM")!, deadline: "120 seconds", request_timeout: "60 seconds" };
const pool = new pg.Pool({ connectionString: Deno.env.get("B"), max: 2 });
await pool.query("select 1");
const mb = (bytes: number) => bytes / 2 ** 20;
const peak = { heap: 0, rss: 0, youngCommitted: 0, oldUsed: 0, counted: 0 };
// Old space and large objects (a list page's body lands there): what survived the young generation.
const OLD_SPACES = new Set(["old_space", "large_object_space"]);
// Old space is emptied only by a full (mark-compact) collection: each fall of 2 MB or more from its
// high point since the last fall counts one. (Scavenges only add to it, by promoting.)
const FALL_BYTES = 2 * 2 ** 20;
let oldHigh = 0;
let oldFalls = 0;
const sample = () => {
  if (live) collect!();
  const m = Deno.memoryUsage();
  peak.heap = Math.max(peak.heap, m.heapUsed);
  peak.rss = Math.max(peak.rss, m.rss);
  // What the edge runtime's memory check adds up against the worker's limit (its MemCheck: before each
  // collection and after each turn of the event loop, so a 5 ms sample can miss its highest reading).
  peak.counted = Math.max(peak.counted, m.heapUsed + m.external);
  let old = 0;
  for (const space of v8.getHeapSpaceStatistics()) {
    if (space.space_name === "new_space") peak.youngCommitted = Math.max(peak.youngCommitted, space.space_size);
    else if (OLD_SPACES.has(space.space_name)) old += space.space_used_size;
  }
  peak.oldUsed = Math.max(peak.oldUsed, old);
  if (old <= oldHigh - FALL_BYTES) {
    oldFalls++;
    oldHigh = old;
  } else {
    oldHigh = Math.max(oldHigh, old);
  }
};
const sampler = setInterval(sample, live ? 50 : 5);
const summary = await runReconcilePass({
  db: pool,
  fetch,
  overrides,
  trigger: "bench-heap",
  dryRun: false,
});
sample();
clearInterval(sampler);
await pool.end();
console.log(
  JSON.stringify({
    observed: summary.outcome === "skipped" ? 0 : summary.observed,
    reachable: summary.outcome !== "skipped" && summary.backend_reachable,
    peakHeapMb: mb(peak.heap),
    peakRssMb: mb(peak.rss),
    peakYoungCommittedMb: mb(peak.youngCommitted),
    peakOldUsedMb: mb(peak.oldUsed),
    peakCountedMb: mb(peak.counted),
    heapLimitMb: mb(v8.getHeapStatistics().heap_size_limit),
    oldSpaceFalls: oldFalls,
  }),
);
