// `npm test`: every suite against the local stack (started when it is not up), then one line
// "N passed, N failed". Suites: pgTAP (pg_prove), Supabase's own linters, tsc, deno check, vitest
// (with the Next.js kit's routes and page in headless Chromium), pytest (adapters/python), and the
// documentation's links.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cacheDenoDependencies, DenoDependenciesError, denoEnv } from "../lib/deno-deps.ts";
import { localStackUrl } from "../lib/local-stack.ts";
import { ensureNextExampleDeps } from "../lib/nextjs-example.ts";
import { committedSchema, dumpSchema } from "../schema/dump-schema.ts";

const root = join(import.meta.dirname, "..", "..");
const results: { suite: string; passed: number; failed: number }[] = [];

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  opts: { quietUnlessFailed?: boolean } = {},
) {
  // Output is shown as it comes and kept for counting; set-up steps show theirs only when they fail.
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (!opts.quietUnlessFailed || r.status !== 0) {
    process.stdout.write(r.stdout ?? "");
    process.stderr.write(r.stderr ?? "");
  }
  return { code: r.status ?? 1, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

function ensureStack(): string {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  try {
    return localStackUrl();
  } catch {
    console.error("could not start the local stack (npm run db:up); see the output above");
    process.exit(1);
  }
}

// Deno's download of the function's npm dependencies, first: when it fails, say why and how to
// retry, instead of every Deno-backed test failing on Deno's raw error.
try {
  await cacheDenoDependencies();
} catch (error) {
  console.error(error instanceof DenoDependenciesError ? error.message : String(error));
  console.log("0 passed, 1 failed");
  process.exit(1);
}

const databaseUrl = ensureStack();
const env = { ...process.env, DATABASE_URL: databaseUrl };
const cliUrl = `${databaseUrl}?sslmode=disable`;

// supabase/schema.sql: the committed dump must be what the migrations build.
{
  let same = false;
  try {
    same = dumpSchema(databaseUrl) === committedSchema();
  } catch (error) {
    console.error(`schema.sql: ${error instanceof Error ? error.message : error}`);
  }
  if (!same) {
    console.error(
      "supabase/schema.sql is out of date with supabase/migrations: run `npm run schema:dump` and commit it",
    );
  }
  results.push({ suite: "schema.sql up to date", passed: same ? 1 : 0, failed: same ? 0 : 1 });
}

// pgTAP: count assertions from pg_prove's summary.
{
  const files = readdirSync(join(root, "supabase/tests/database")).filter((f) => f.endsWith(".test.sql")).sort();
  const r = run("pg_prove", ["-d", databaseUrl, ...files.map((f) => join("supabase/tests/database", f))]);
  const total = Number(/Tests=(\d+)/.exec(r.out)?.[1] ?? 0);
  const failed = [...r.out.matchAll(/Failed: (\d+)\)/g)].reduce((n, m) => n + Number(m[1]), 0);
  const broken = r.code !== 0 && failed === 0 ? 1 : 0; // a file that died before its plan
  results.push({ suite: "pgTAP", passed: total - failed, failed: failed + broken });
}

// Supabase's linters on the migrated database: each is one check.
for (
  const [suite, args] of [
    ["supabase db lint", [
      "db",
      "lint",
      "--db-url",
      cliUrl,
      "--schema",
      "public,jobs_private",
      "--level",
      "warning",
      "--fail-on",
      "warning",
    ]],
    ["supabase db advisors", [
      "db",
      "advisors",
      "--db-url",
      cliUrl,
      "--type",
      "all",
      "--level",
      "warn",
      "--fail-on",
      "warn",
    ]],
  ] as const
) {
  const r = run("npx", ["--no-install", "supabase", ...args]);
  results.push({ suite, passed: r.code === 0 ? 1 : 0, failed: r.code === 0 ? 0 : 1 });
}

// Types: the Node side with tsc (strict).
{
  const r = run("npx", ["--no-install", "tsc", "-p", "tsconfig.json"]);
  results.push({ suite: "tsc --noEmit", passed: r.code === 0 ? 1 : 0, failed: r.code === 0 ? 0 : 1 });
}

// Types: the Next.js kit (its own TypeScript, its own dependencies: out of the root install,
// installed here on first use) and its tests (the root's settings, as they import its support).
{
  let ready = true;
  try {
    ensureNextExampleDeps();
  } catch (error) {
    console.error(`examples/nextjs: npm ci failed (${(error as Error).message}); its checks and tests fail`);
    ready = false;
  }
  const ok = ready &&
    run(process.execPath, [
        "examples/nextjs/node_modules/typescript/bin/tsc",
        "-p",
        "examples/nextjs/tsconfig.json",
        "--noEmit",
      ]).code === 0 &&
    run("npx", ["--no-install", "tsc", "-p", "examples/nextjs/tests/tsconfig.json"]).code === 0;
  results.push({ suite: "tsc examples/nextjs", passed: ok ? 1 : 0, failed: ok ? 0 : 1 });
}

// Types: the Edge Function as Deno (and the Supabase edge runtime) compiles it.
{
  const r = run("npx", [
    "--no-install",
    "deno",
    "check",
    "--quiet",
    "--cached-only",
    "--config",
    "supabase/functions/reconcile-jobs/deno.json",
    "supabase/functions/reconcile-jobs/index.ts",
    "dev/bench/pass-heap.ts",
  ], denoEnv());
  results.push({ suite: "deno check", passed: r.code === 0 ? 1 : 0, failed: r.code === 0 ? 0 : 1 });
}

// Formatting: deno fmt's check over the TypeScript (`npm run fmt` writes it).
{
  const r = run("npm", ["run", "-s", "fmt", "--", "--check"], denoEnv(), { quietUnlessFailed: true });
  if (r.code !== 0) console.error("some files are not formatted: run `npm run fmt` and commit the result");
  results.push({ suite: "deno fmt --check", passed: r.code === 0 ? 1 : 0, failed: r.code === 0 ? 0 : 1 });
}

// Documentation: every relative link and #anchor in README.md and docs/*.md resolves.
{
  const r = run("npx", ["--no-install", "tsx", "dev/docs/check-links.ts"], process.env, { quietUnlessFailed: true });
  results.push({ suite: "docs links", passed: r.code === 0 ? 1 : 0, failed: r.code === 0 ? 0 : 1 });
}

// vitest: counts from its JSON report.
{
  mkdirSync(join(root, ".local"), { recursive: true });
  const report = join(root, ".local/vitest-report.json");
  const r = run(
    "npx",
    [
      "--no-install",
      "vitest",
      "run",
      "--config",
      "dev/test/vitest.config.ts",
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${report}`,
    ],
    env,
  );
  try {
    const json = JSON.parse(readFileSync(report, "utf8"));
    const failed = json.numFailedTests + (r.code !== 0 && json.numFailedTests === 0 ? 1 : 0);
    results.push({ suite: "vitest", passed: json.numPassedTests, failed });
  } catch {
    results.push({ suite: "vitest", passed: 0, failed: 1 });
  }
}

// pytest: the Python backend adapter (adapters/python) in a venv of its own, against the stack.
// pip runs only when pyproject.toml changed since the last install.
{
  const venv = join(root, ".local/venv");
  const stamp = join(venv, ".truthful-jobs-installed");
  const wanted = readFileSync(join(root, "adapters/python/pyproject.toml"), "utf8");
  let ready = spawnSync("python3", ["--version"]).status === 0;
  if (!ready) {
    console.error("pytest: python3 is missing (apt-get install python3 python3-venv); adapters/python is untested");
  } else if (!existsSync(stamp) || readFileSync(stamp, "utf8") !== wanted) {
    mkdirSync(join(root, ".local"), { recursive: true });
    ready = run("python3", ["-m", "venv", venv]).code === 0 &&
      // Fail fast on an index that cannot be reached: a configured mirror (extra-index-url) still serves.
      run(
          join(venv, "bin/pip"),
          ["install", "-q", "--retries", "1", "--timeout", "15", "-e", "adapters/python[test]"],
          process.env,
          { quietUnlessFailed: true },
        ).code === 0;
    if (ready) writeFileSync(stamp, wanted);
  }
  const r = ready
    ? run(join(venv, "bin/python"), ["-m", "pytest", "-q", "-p", "no:cacheprovider", "adapters/python/tests"], env)
    : { code: 1, out: "" };
  const summary = r.out.trim().split("\n").findLast((l) => /\d+ (passed|failed|errors?)\b/.test(l)) ?? "";
  const count = (word: string) => Number(new RegExp(`(\\d+) ${word}\\b`).exec(summary)?.[1] ?? 0);
  const failed = count("failed") + count("errors?");
  results.push({ suite: "pytest", passed: count("passed"), failed: failed + (r.code !== 0 && failed === 0 ? 1 : 0) });
}

for (const r of results) console.log(`${r.suite.padEnd(22)} ${r.passed} passed, ${r.failed} failed`);
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
