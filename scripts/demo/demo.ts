// `npm run demo [-- --keep]`: the seed's four failure scenarios on the local stack, with
// compressed timings. Readers see `stale` at once through the view; the reconciler, called the
// way pg_cron calls it (the stored command -> pg_net -> the Edge Function under Deno), converges
// the table; a worker cut off by a network partition is presumed dead, then revived.
// DATABASE_URL points it at another database prepared like the local stack (stand-ins + migrations).
import pg from "pg";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { setVaultSecrets } from "../deploy/set-vault-secrets.ts";
import { backdateJob } from "../lib/backdate.ts";
import { ensureDenoDependencies } from "../lib/deno-deps.ts";
import { localStackUrl, recreateDatabase } from "../lib/local-stack.ts";
import { serveReconcileFunction, type ServedFunction } from "../lib/serve-function.ts";
import { StatusReporter } from "../reporter/reporter.ts";
import { pgTransport } from "../reporter/transport.ts";
import { TrainingBackendSimulator } from "../simulator/training-backend.ts";
import { startPgNetWorker, type PgNetWorker } from "../stack/pg-net-worker.ts";
import { formatSilence, renderTable } from "./render.ts";
import { DEMO_TIMINGS as T, TRACKED, type TrackedJob } from "./scenarios.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

const DEMO_DATABASE = "truthful_jobs_demo";
const TIMEOUT_S = 75;
const keep = process.argv.includes("--keep");
const tty = Boolean(process.stdout.isTTY);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const root = join(import.meta.dirname, "..", "..");

interface Progress { staleAt?: number; fixedAt?: number; final?: string }

function stackIsUp(): boolean {
  try {
    execFileSync("bash", ["-c", `source ${root}/scripts/stack/env.sh && [ -f "$PGDATA_DIR/postmaster.pid" ]`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  const started = Date.now();
  // Scenario time starts with the timeline, after everything is up.
  let t0 = Date.now();
  const elapsed = () => (Date.now() - t0) / 1000;
  const local = !process.env.DATABASE_URL;
  const stackWasUp = local && stackIsUp();
  // Before anything starts: a failed download then ends the demo with its cause and retry command.
  console.log("Fetching the Edge Function's npm dependencies for Deno (once; cached after)…");
  await ensureDenoDependencies();
  console.log(local ? "Starting the local stack (PostgreSQL 15 + pg_cron, stand-ins, migrations)…" : "Using DATABASE_URL…");
  const url = local ? await recreateDatabase(localStackUrl(), DEMO_DATABASE) : process.env.DATABASE_URL!;

  const pool = new pg.Pool({ connectionString: url, max: 6 });
  pool.on("error", () => undefined);
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  let exitCode = 1;
  try {
    // --- bring everything up ------------------------------------------------------------------
    const worker: PgNetWorker = await startPgNetWorker({ databaseUrl: url });
    cleanups.push(() => worker.stop());
    const simA = await new TrainingBackendSimulator({ databaseUrl: url, heartbeatMs: T.heartbeatMs, listEndpoint: true }).start();
    const simB = await new TrainingBackendSimulator({ databaseUrl: url, heartbeatMs: T.heartbeatMs }).start();
    const simC = await new TrainingBackendSimulator({ databaseUrl: url, heartbeatMs: 3_600_000 }).start();
    cleanups.push(() => simA.stop(), () => simB.stop(), () => simC.stop());
    const secret = `demo-${crypto.randomUUID()}`;
    const fn: ServedFunction = await serveReconcileFunction({
      RECONCILE_SECRET: secret, BACKEND_URL: simA.url, SUPABASE_DB_URL: url,
      RECONCILE_GRACE_SECONDS: String(T.graceSeconds), RECONCILE_HARD_TIMEOUT_SECONDS: String(T.hardTimeoutSeconds),
      RECONCILE_REQUEST_TIMEOUT_MS: "800", RECONCILE_DEADLINE_MS: "2500",
    });
    cleanups.push(() => fn.stop());
    await setVaultSecrets(url, fn.url, secret);
    const policy = (await pool.query("select status, stale_after from public.job_staleness_policy")).rows;
    cleanups.push(async () => {
      for (const p of policy) await pool.query("update public.job_staleness_policy set stale_after = $2 where status = $1", [p.status, p.stale_after]);
    });
    await pool.query("update public.job_staleness_policy set stale_after = $1 where status = 'running'", [T.runningStaleAfter]);
    await pool.query("update public.job_staleness_policy set stale_after = $1 where status in ('queued', 'pending')", [T.queuedStaleAfter]);
    const { rows: [cronJob] } = await pool.query("select command from cron.job where jobname = 'reconcile-training-jobs'");

    // --- the jobs ------------------------------------------------------------------------------
    const { rows: [user] } = await pool.query("insert into auth.users (email) values ($1) returning id", [`demo-${Date.now()}@example.com`]);
    const ids = new Map<string, string>();
    const model = (key: string) => TRACKED.find((t) => t.key === key)!.model;
    // The seed's ghosts: writers that died long ago (backdated, as a frozen row would be).
    for (const [key, status, days] of [["ghost1", "running", 18], ["ghost2", "pending", 17]] as const) {
      const { rows } = await pool.query(
        `insert into public.local_training_jobs (user_id, model_name, status) values ($1, $2, $3) returning id`, [user.id, model(key), status]);
      ids.set(key, rows[0].id);
      await backdateJob(pool, rows[0].id, days * 86_400, { createdToo: true });
    }
    for (const key of ["killed", "apidown", "lost1", "lost2", "live"]) {
      const job = await simA.execute({ userId: user.id, modelName: model(key) });
      await simA.run(job.id);
      ids.set(key, job.id);
    }
    const crashJob = await simB.execute({ userId: user.id, modelName: model("crash") });
    await pool.query("update public.local_training_jobs set backend_url = $2 where id = $1", [crashJob.id, simB.url]);
    await simB.run(crashJob.id);
    ids.set("crash", crashJob.id);
    // A worker whose reports go through the writer side, over a network we can cut.
    const { rows: [p] } = await pool.query(
      "insert into public.local_training_jobs (user_id, model_name, status, backend_url) values ($1, $2, 'running', $3) returning id",
      [user.id, model("partition"), simC.url]);
    ids.set("partition", p.id);
    simC.adopt({ id: p.id, status: "running" });
    const target = new URL(url);
    const proxy: TcpProxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    cleanups.push(() => proxy.close());
    const viaProxy = new URL(url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    const workerPool = new pg.Pool({ connectionString: viaProxy.toString(), connectionTimeoutMillis: 500, max: 1 });
    workerPool.on("error", () => undefined);
    cleanups.push(() => workerPool.end());
    const reporter = await StatusReporter.open({
      journalPath: join(mkdtempSync(join(tmpdir(), "demo-journal-")), "reports.jsonl"),
      transport: pgTransport(workerPool), backoff: { baseMs: 200, maxMs: 1_000 }, sendTimeoutMs: 1_000, onWarning: () => undefined,
    });
    cleanups.push(() => reporter.close(1_000));
    const partitioned = reporter.job(p.id, 1);
    let partitionProgress = 0;
    const heartbeat = setInterval(() => partitioned.progress((partitionProgress = Math.min(0.99, partitionProgress + 0.02))), T.heartbeatMs);
    cleanups.push(() => clearInterval(heartbeat));

    // --- the timeline --------------------------------------------------------------------------
    console.log(`Stack, function, simulators and schedule up in ${((Date.now() - started) / 1000).toFixed(1)} s. Playing the scenarios…`);
    t0 = Date.now();
    const events: string[] = [];
    const say = (text: string) => events.push(`t+${elapsed().toFixed(1)}s  ${text}`);
    const at = (s: number, text: string, action: () => Promise<unknown> | unknown) =>
      setTimeout(async () => { say(text); await action(); }, s * 1000);
    const timeline = [
      at(3, "backend B crashes (its job's heartbeats stop)", () => simB.crash()),
      at(3, "process-killed: the training process and its monitor die", () => simA.killProcess(ids.get("killed")!)),
      at(3, "api-down-persist: the Next.js API goes down; persist_job() fails", () => simA.persistenceDownFor.add(ids.get("apidown")!)),
      at(3, "lost-by-backend-1: backend A loses the job", () => simA.lose(ids.get("lost1")!)),
      at(3, "network-partition: worker and backend C cut off", () => { proxy.cut(); simC.mode = "hang"; }),
      at(6, "lost-by-backend-2: backend A loses the job", () => simA.lose(ids.get("lost2")!)),
      at(13, "api-down-persist finishes training; its final persist_job() fails too", () => simA.finish(ids.get("apidown")!)),
      at(16, "network-partition heals: the worker's journal is replayed", () => { proxy.restore(); simC.mode = "normal"; }),
      at(20, "network-partition finishes training", () => { simC.adopt({ id: p.id, status: "completed" }); return partitioned.complete(); }),
      at(20, "healthy-training finishes", () => simA.finish(ids.get("live")!)),
    ];
    cleanups.push(() => timeline.forEach(clearTimeout));
    // The schedule, compressed: pg_cron's stored command, every few seconds instead of ten minutes.
    let ticks = 0;
    const tick = setInterval(() => void pool.query(cronJob.command).then(() => ticks++).catch((e: Error) => say(`tick failed: ${e.message}`)), T.tickMs);
    cleanups.push(() => clearInterval(tick));
    void pool.query(cronJob.command).then(() => ticks++);

    // --- watch ---------------------------------------------------------------------------------
    const progress = new Map<string, Progress>(TRACKED.map((t) => [t.key, {}]));
    let lastFrame = 0;
    let frame = "";
    for (;;) {
      const { rows } = await pool.query(
        `select v.id, v.model_name, v.status, v.effective_status, v.status_reason,
                -- the seed's writer keeps progress in config; the writer side in its own column
                coalesce(v.progress, (v.config ->> 'progress')::float) as progress,
                extract(epoch from v.silent_for)::float as silent,
                (select array_agg(coalesce(h.from_status, '∅') || '→' || h.to_status order by h.id)
                   from public.local_training_job_history h where h.job_id = v.id) as history
         from public.local_training_jobs_effective v where v.user_id = $1 order by v.created_at`, [user.id]);
      const now = elapsed();
      for (const t of TRACKED) {
        const row = rows.find((r) => r.id === ids.get(t.key));
        const state = progress.get(t.key)!;
        if (!row) continue;
        if (row.effective_status === "stale" && state.staleAt === undefined) state.staleAt = now;
        if (state.fixedAt === undefined && t.fixed(row, row.history ?? [])) state.fixedAt = now;
        state.final = `${row.status}${row.status_reason ? ` (${row.status_reason})` : ""}`;
      }
      {
        const { rows: [run] } = await pool.query("select outcome, counts from jobs_private.reconcile_runs where outcome <> 'running' order by started_at desc limit 1");
        frame = renderTable(
          `t+${now.toFixed(1)}s   reconciler passes: ${ticks} (every ${T.tickMs / 1000} s; last: ${run ? `${run.outcome}, ${JSON.stringify(run.counts?.applied ?? {})}` : "none yet"})`,
          rows.map((r) => ({
            model: r.model_name, status: r.status, effective: r.effective_status, silent: formatSilence(r.silent),
            progress: r.progress, reason: r.status_reason,
          })), tty) + `\n\n${events.slice(-6).join("\n")}\n`;
      }
      // Live on a terminal; every 5 s in a log.
      if (tty || now - lastFrame >= 5) {
        lastFrame = now;
        if (tty) process.stdout.write("\x1b[2J\x1b[H");
        console.log(frame);
      }
      if (TRACKED.every((t) => progress.get(t.key)!.fixedAt !== undefined)) {
        if (!tty) console.log(frame);
        break;
      }
      if (now > TIMEOUT_S) {
        console.error(`demo: not every scenario converged within ${TIMEOUT_S} s`);
        printSummary(progress);
        return 1;
      }
      await sleep(tty ? 400 : 250);
    }
    printSummary(progress);
    const { rows: [health] } = await pool.query("select status, why from jobs_private.reconcile_health");
    console.log(`\nreconcile_health: ${health.status} (${health.why})`);
    console.log(`Scenarios converged in ${elapsed().toFixed(1)} s; ${((Date.now() - started) / 1000).toFixed(1)} s in all.`);
    exitCode = 0;
  } finally {
    for (const cleanup of cleanups.reverse()) await Promise.resolve().then(cleanup).catch(() => undefined);
    await pool.end();
    if (local && keep) {
      console.log(`\n--keep: the stack is still up.  psql ${url}`);
    } else if (local && !stackWasUp) {
      execFileSync("bash", [join(root, "scripts/stack/db-down.sh")], { stdio: "ignore" });
      console.log("Stopped the local stack (npm run demo -- --keep leaves it up).");
    }
  }
  return exitCode;
}

function printSummary(progress: Map<string, Progress>): void {
  const fmt = (v: number | undefined, from: number | null) =>
    v === undefined ? "—" : from === null ? `t+${v.toFixed(1)}s` : `+${(v - from).toFixed(1)}s`;
  console.log("\nWhat was fixed, and how long it took (from the fault):");
  console.log(`${"scenario".padEnd(48)} ${"fault".padEnd(7)} ${"stale in view".padEnd(14)} ${"fixed in table".padEnd(15)} result`);
  for (const t of TRACKED as TrackedJob[]) {
    const p = progress.get(t.key)!;
    console.log(
      `${t.scenario.padEnd(48)} ${(t.faultAt === null ? "before" : `t+${t.faultAt}s`).padEnd(7)} ` +
        `${fmt(p.staleAt, t.faultAt).padEnd(14)} ${fmt(p.fixedAt, t.faultAt).padEnd(15)} ${p.fixedAt !== undefined ? "✓" : "✗"} ${t.expected}`,
    );
  }
}

main().then((code) => process.exit(code)).catch((error) => {
  console.error(`demo: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
