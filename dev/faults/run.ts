// `npm run faults -- [--runs 10000] [--seed N]`: the randomized fault suite, long. The same
// suite runs with a few interleavings inside `npm test`.
import { parseArgs } from "node:util";
import { localStackUrl, recreateDatabase } from "../lib/local-stack.ts";
import { Progress } from "../lib/progress.ts";
import { runFaultSuite } from "./fault-suite.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "10000" },
    seed: { type: "string", default: "20261129" },
    path: { type: "string" },
  },
});
const runs = Number(values.runs);
const seed = Number(values.seed);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  console.error("usage: npm run faults -- [--runs N] [--seed N]");
  process.exit(2);
}
// Progress on stderr: a live line on a terminal, one line per phase otherwise (README "Benchmarks").
const progress = new Progress({ label: "faults", phases: 2 });
progress.start("a database of its own (stand-ins and migrations)");
const url = process.env.DATABASE_URL ?? (await recreateDatabase(localStackUrl(), "truthful_jobs_faults"));
const started = Date.now();
try {
  progress.start(`${runs} interleavings, seed ${seed}`);
  const result = await runFaultSuite({
    databaseUrl: url,
    runs,
    seed,
    path: values.path,
    onProgress: (done) => progress.tick(done, runs),
  });
  progress.finish();
  console.log(
    `faults: ${result.runs} interleavings (${result.steps} steps, seed ${seed}) held every invariant after every step`,
  );
  console.log(
    `faults: reconciler passes ${JSON.stringify(result.passes)}; ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  console.log(`${result.runs} passed, 0 failed`);
  process.exit(0);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  // fast-check keeps the failing step's own error as the cause.
  if (error instanceof Error && error.cause) {
    console.error("cause:", error.cause instanceof Error ? error.cause.stack : error.cause);
  }
  console.log("0 passed, 1 failed");
  process.exit(1);
}
