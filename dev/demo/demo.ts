// `npm run demo [-- --keep]`: the seed's four failure scenarios on the local stack, with compressed
// timings, in two acts: first against the seed's backend exactly as it is (what an unchanged
// backend gets), then against one that follows the contract. Readers see `stale` at once through
// the view; the reconciler, called the way pg_cron calls it (the stored command -> pg_net -> the
// Edge Function under Deno), converges the table.
// DATABASE_URL points it at another database prepared like the local stack (stand-ins + migrations);
// then only the first act runs, since each act needs a fresh database.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { ensureDenoDependencies } from "../lib/deno-deps.ts";
import { localStackUrl, recreateDatabase } from "../lib/local-stack.ts";
import { type Act, ACTS, type TrackedJob } from "./scenarios.ts";
import { setUpStage } from "./stage.ts";
import { playTimeline } from "./timeline.ts";
import { type Progress, watchAct } from "./watch.ts";

const keep = process.argv.includes("--keep");
const root = join(import.meta.dirname, "..", "..");

function stackIsUp(): boolean {
  try {
    execFileSync("bash", ["-c", `source "${root}/dev/stack/env.sh" && [ -f "$PGDATA_DIR/postmaster.pid" ]`], {
      stdio: "ignore",
    });
    return true;
  } catch {
    return false;
  }
}

interface ActResult {
  act: Act;
  converged: boolean;
  progress: Map<string, Progress>;
  seconds: number;
}

async function playAct(act: Act, url: string): Promise<ActResult> {
  console.log(`\n${act.title}\n${act.intro}\nSetting up…`);
  const stage = await setUpStage(url, act);
  try {
    const t0 = Date.now();
    const elapsed = () => (Date.now() - t0) / 1000;
    const events: string[] = [];
    const stop = playTimeline(act, stage, (text) => events.push(`t+${elapsed().toFixed(1)}s  ${text}`));
    try {
      const { converged, progress } = await watchAct(act, stage, elapsed, events);
      const { rows: [health] } = await stage.pool.query("select status, why from jobs_private.reconcile_health");
      printSummary(act, progress);
      console.log(`reconcile_health: ${health.status} (${health.why})`);
      if (!converged) console.error(`demo: ${act.title}: not every scenario converged`);
      return { act, converged, progress, seconds: elapsed() };
    } finally {
      stop();
    }
  } finally {
    await stage.teardown();
  }
}

function printSummary(act: Act, progress: Map<string, Progress>): void {
  const fmt = (v: number | undefined, from: number | null) =>
    v === undefined ? "—" : from === null ? `t+${v.toFixed(1)}s` : `+${(v - from).toFixed(1)}s`;
  console.log(`\n${act.title}: what became of each job, and how long it took (from the fault):`);
  console.log(
    `${"scenario".padEnd(48)} ${"fault".padEnd(7)} ${"stale in view".padEnd(14)} ${"fixed in table".padEnd(15)} result`,
  );
  for (const t of act.tracked as TrackedJob[]) {
    const p = progress.get(t.key)!;
    console.log(
      `${t.scenario.padEnd(48)} ${(t.faultAt === null ? "before" : `t+${t.faultAt}s`).padEnd(7)} ` +
        `${fmt(p.staleAt, t.faultAt).padEnd(14)} ${fmt(p.fixedAt, t.faultAt).padEnd(15)} ${
          p.fixedAt !== undefined ? "✓" : "✗"
        } ${t.expected}`,
    );
  }
}

async function main(): Promise<number> {
  const started = Date.now();
  const local = !process.env.DATABASE_URL;
  const stackWasUp = local && stackIsUp();
  const results: ActResult[] = [];
  try {
    // Before anything starts: a failed download then ends the demo with its cause and retry command.
    console.log("Fetching the Edge Function's npm dependencies for Deno (once; cached after)…");
    await ensureDenoDependencies();
    console.log(
      local ? "Starting the local stack (PostgreSQL 15 + pg_cron, stand-ins, migrations)…" : "Using DATABASE_URL…",
    );
    const admin = local ? localStackUrl() : null;
    for (const [i, act] of (local ? ACTS : ACTS.slice(0, 1)).entries()) {
      const url = admin ? await recreateDatabase(admin, `truthful_jobs_demo_${i + 1}`) : process.env.DATABASE_URL!;
      results.push(await playAct(act, url));
    }
  } finally {
    if (local && keep) {
      console.log("\n--keep: the stack is still up (databases truthful_jobs_demo_1 and _2).");
    } else if (local && !stackWasUp) {
      execFileSync("bash", [join(root, "dev/stack/db-down.sh")], { stdio: "ignore" });
      console.log("\nStopped the local stack (npm run demo -- --keep leaves it up).");
    }
  }
  for (const r of results) {
    console.log(
      `${r.act.title}: ${r.converged ? "every job reads the truth" : "NOT converged"} after ${r.seconds.toFixed(1)} s`,
    );
  }
  console.log(`${((Date.now() - started) / 1000).toFixed(1)} s in all.`);
  return results.every((r) => r.converged) ? 0 : 1;
}

main().then((code) => process.exit(code)).catch((error) => {
  console.error(`demo: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
