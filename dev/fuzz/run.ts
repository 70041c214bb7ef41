// `npm run fuzz -- [--runs 10000] [--seed N] [--via node|deno]`: the hostile-backend fuzz suite,
// long. A few hundred answers of it run inside `npm test`.
import { parseArgs } from "node:util";
import { localStackUrl, recreateDatabase } from "../lib/local-stack.ts";
import { runHostileFuzz } from "./hostile-pass.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "10000" },
    seed: { type: "string", default: "20261130" },
    via: { type: "string", default: "node" },
  },
});
const runs = Number(values.runs);
const seed = Number(values.seed);
const via = values.via;
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed) || (via !== "node" && via !== "deno")) {
  console.error("usage: npm run fuzz -- [--runs N] [--seed N] [--via node|deno]");
  process.exit(2);
}
const url = process.env.DATABASE_URL ?? (await recreateDatabase(localStackUrl(), "truthful_jobs_fuzz"));
const started = Date.now();
const seconds = () => ((Date.now() - started) / 1000).toFixed(0);
try {
  const result = await runHostileFuzz({
    databaseUrl: url,
    runs,
    seed,
    via,
    onProgress: (done) => done % 500 === 0 && console.error(`fuzz: ${done}/${runs} answers, ${seconds()} s`),
  });
  console.log(`fuzz: ${result.runs} hostile answers (seed ${seed}, via ${via}) held every invariant; ${seconds()} s`);
  console.log(
    `fuzz: pass outcomes ${JSON.stringify(result.outcomes)}; hostile jobs ended ${
      JSON.stringify(result.hostileStatuses)
    }`,
  );
  console.log(`${result.runs} passed, 0 failed`);
  process.exit(0);
} catch (error) {
  console.error((error instanceof Error ? error.message : String(error)).slice(0, 6000));
  // fast-check keeps the failing answer's own error as the cause: which invariant broke, and how.
  if (error instanceof Error && error.cause) {
    console.error("cause:", (error.cause instanceof Error ? error.cause.message : String(error.cause)).slice(0, 3000));
  }
  console.log(`0 passed, 1 failed (${seconds()} s)`);
  process.exit(1);
}
