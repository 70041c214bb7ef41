// 1,000,000 active jobs (issue 13): one tick split into shards, each shard its own fresh function
// process (as each invocation is its own isolate on the platform), all started together; and the
// operator CLI's one pass over all of them. The backend is the simulator on 127.0.0.1, which
// pages its list (`?cursor=`); every row names it as its backend_url.
import { spawn } from "node:child_process";
import { join } from "node:path";
import pg from "pg";
import { serveReconcileFunction } from "../lib/serve-function.ts";
import type { TrainingBackendSimulator } from "../simulator/training-backend.ts";
import { cpuSeconds, peakRssMb } from "./function-limits.ts";

const root = join(import.meta.dirname, "..", "..");
export const MILLION = 1_000_000;

/**
 * Shards of the tick. The function's CPU is about 10 µs a job (1.04 s at 100k), so the 2 s limit
 * needs at most ~150k jobs an invocation; 16 shards give 62.5k, under half the limit, and leave
 * room for a fleet twice this size before N must change.
 */
export const MILLION_SHARDS = 16;

/** 1M running jobs heard from in the last 30 s, set-based (triggers off: a fixture, not a workload). */
export async function loadMillionActive(db: pg.Client, backendUrl: string): Promise<string[]> {
  await db.query("set session_replication_role = replica");
  await db.query(`insert into auth.users (id, email) values (gen_random_uuid(), 'bench-million@example.com')`);
  await db.query(
    `insert into public.local_training_jobs
      (id, user_id, model_name, status, config, backend_url, created_at, started_at, updated_at, heartbeat_at)
    select gen_random_uuid(), (select id from auth.users limit 1), 'model-' || g, 'running', '{}'::jsonb, $2,
           now() - interval '1 hour', now() - interval '1 hour', t, t
    from generate_series(1, $1) g, lateral (select now() - random() * interval '30 seconds' as t) s`,
    [MILLION, backendUrl],
  );
  await db.query("set session_replication_role = origin");
  await db.query("vacuum analyze public.local_training_jobs");
  const { rows } = await db.query("select id from public.local_training_jobs");
  return rows.map((r) => r.id as string);
}

/** Every job's progress moves, so the next pass writes every row (the heaviest steady tick). */
export function moveAllProgress(sim: TrainingBackendSimulator): void {
  const at = new Date().toISOString();
  for (const job of sim.jobs.values()) {
    job.progress = Math.min(1, job.progress + 0.01);
    job.progressAt = at;
  }
}

const passSettings = (backendUrl: string) => ({
  backend_url: backendUrl,
  deadline: "120 seconds",
  request_timeout: "60 seconds",
});

export interface ShardResult {
  shard: number;
  cpuSeconds: number;
  peakRssMb: number;
  wallSeconds: number;
  observed: number;
  outcome: string;
}

/**
 * One tick in `shards` invocations side by side, each in a fresh deno process warmed by a dry run of 1/256 of the jobs.
 */
export async function benchShardedTick(databaseUrl: string, backendUrl: string, shards: number) {
  const secret = `bench-${crypto.randomUUID()}`;
  const fns = await Promise.all(
    Array.from(
      { length: shards },
      () =>
        serveReconcileFunction({ RECONCILE_SECRET: secret, SUPABASE_DB_URL: databaseUrl }, passSettings(backendUrl)),
    ),
  );
  try {
    for (const fn of fns) {
      await fn.call({ query: "?dry_run=1", body: { shard: 0, shards: 256 } }).catch(() => undefined);
    }
    const started = Date.now();
    const results = await Promise.all(fns.map(async (fn, shard): Promise<ShardResult> => {
      const cpuBefore = cpuSeconds(fn.pid);
      const { status, body } = await fn.call({ body: { trigger: "cron", shard, shards } });
      if (status !== 200) throw new Error(`shard ${shard} answered ${status}: ${JSON.stringify(body).slice(0, 500)}`);
      return {
        shard,
        cpuSeconds: cpuSeconds(fn.pid) - cpuBefore,
        peakRssMb: peakRssMb(fn.pid),
        wallSeconds: (Date.now() - started) / 1000,
        observed: body.observed as number,
        outcome: String(body.outcome),
      };
    }));
    return { shards, tickSeconds: (Date.now() - started) / 1000, results };
  } finally {
    await Promise.all(fns.map((fn) => fn.stop()));
  }
}

/** The operator CLI (`cli/reconcile.ts --once --json`), one pass over every job, its peak RSS read as it exits. */
export async function benchCliPass(databaseUrl: string, backendUrl: string) {
  const started = Date.now();
  const child = spawn(process.execPath, [
    "--import",
    "tsx",
    "--import",
    join(root, "dev/bench/max-rss-on-exit.mjs"),
    join(root, "cli/reconcile.ts"),
    "--once",
    "--json",
    ...Object.entries(passSettings(backendUrl)).flatMap(([k, v]) => ["--set", `${k}=${v}`]),
  ], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const maxRss = /max-rss-kb (\d+)/.exec(err);
  if (code !== 0 || !maxRss) throw new Error(`the CLI exited ${code}: ${err.slice(-1000)}`);
  const summary = JSON.parse(out.trim().split("\n").at(-1)!);
  return {
    peakRssMb: Number(maxRss[1]) / 1024,
    wallSeconds: (Date.now() - started) / 1000,
    observed: summary.observed as number,
    outcome: String(summary.outcome),
  };
}
