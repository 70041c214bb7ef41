// `npm run fuzz -- [--suite answers|rows] [--runs 10000] [--seed N] [--via node|deno]`: the hostile-backend
// (answers) or hostile-row (rows) fuzz suite, long. A few hundred cases of each run inside `npm test`.
import { parseArgs } from "node:util";
import { localStackUrl, recreateDatabase } from "../lib/local-stack.ts";
import { runHostileFuzz } from "./hostile-pass.ts";
import { runHostileRowFuzz } from "./hostile-rows.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "10000" },
    seed: { type: "string", default: "20261130" },
    via: { type: "string", default: "node" },
    suite: { type: "string", default: "answers" },
  },
});
const runs = Number(values.runs);
const seed = Number(values.seed);
const via = values.via;
const suite = values.suite;
if (
  !Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed) || (via !== "node" && via !== "deno") ||
  (suite !== "answers" && suite !== "rows")
) {
  console.error("usage: npm run fuzz -- [--suite answers|rows] [--runs N] [--seed N] [--via node|deno]");
  process.exit(2);
}
const url = process.env.DATABASE_URL ?? (await recreateDatabase(localStackUrl(), "truthful_jobs_fuzz"));
const started = Date.now();
const seconds = () => ((Date.now() - started) / 1000).toFixed(0);
try {
  const onProgress = (done: number) => done % 500 === 0 && console.error(`fuzz: ${done}/${runs} cases, ${seconds()} s`);
  let result: { runs: number };
  if (suite === "rows") {
    const rows = await runHostileRowFuzz({ databaseUrl: url, runs, seed, via, onProgress });
    console.log(`fuzz: ${rows.runs} hostile rows (seed ${seed}, via ${via}) held every invariant; ${seconds()} s`);
    console.log(
      `fuzz: pass outcomes ${JSON.stringify(rows.outcomes)}; rows rejected ${rows.rejected}; the odd row went ${
        JSON.stringify(rows.oddEnded)
      }`,
    );
    result = rows;
  } else {
    const answers = await runHostileFuzz({ databaseUrl: url, runs, seed, via, onProgress });
    console.log(
      `fuzz: ${answers.runs} hostile answers (seed ${seed}, via ${via}) held every invariant; ${seconds()} s`,
    );
    console.log(
      `fuzz: pass outcomes ${JSON.stringify(answers.outcomes)}; hostile jobs ended ${
        JSON.stringify(answers.hostileStatuses)
      }`,
    );
    result = answers;
  }
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
