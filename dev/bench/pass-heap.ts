// Run by Deno from the benchmark: one full pass of the Edge Function's core, in Deno, with the
// V8 heap and the process's RSS sampled every 5 ms. Prints one JSON line.
//   B=<database url> SIM=<backend url> deno run -A --config supabase/functions/reconcile-jobs/deno.json dev/bench/pass-
// heap.ts
import pg from "pg";
import { runReconcilePass } from "../../supabase/functions/_shared/reconcile/mod.ts";

const overrides = { backend_url: Deno.env.get("SIM")!, deadline: "120 seconds", request_timeout: "60 seconds" };
const pool = new pg.Pool({ connectionString: Deno.env.get("B"), max: 2 });
await pool.query("select 1");
let peakHeap = 0;
let peakRss = 0;
const sample = () => {
  const m = Deno.memoryUsage();
  peakHeap = Math.max(peakHeap, m.heapUsed);
  peakRss = Math.max(peakRss, m.rss);
};
const sampler = setInterval(sample, 5);
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
    peakHeapMb: peakHeap / 2 ** 20,
    peakRssMb: peakRss / 2 ** 20,
  }),
);
