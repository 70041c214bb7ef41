// Sets up one act of the demo on its own database: the pg_net stand-in worker, the simulated
// backends of the act's flavour, the real function under Deno, the Vault secrets the cron job
// reads, compressed policy timings, and the jobs. Returns what the timeline drives and one teardown.
import pg from "pg";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setVaultSecrets } from "../../cli/set-vault-secrets.ts";
import { backdateJob } from "../lib/backdate.ts";
import { serveReconcileFunction } from "../lib/serve-function.ts";
import { type JobHandle, StatusReporter } from "../../reporter/src/reporter.ts";
import { pgTransport } from "../../reporter/src/transport.ts";
import { TrainingBackendSimulator } from "../simulator/training-backend.ts";
import { startPgNetWorker } from "../stack/pg-net-worker.ts";
import { type Act, DEMO_TIMINGS as T } from "./scenarios.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

export interface Stage {
  pool: pg.Pool;
  userId: string;
  ids: Map<string, string>;
  /** A: most jobs. B: crashes. C: the partitioned worker's backend (contract act only). */
  simA: TrainingBackendSimulator;
  simB: TrainingBackendSimulator;
  simC: TrainingBackendSimulator;
  proxy: TcpProxy;
  partitioned: JobHandle | null;
  cronCommand: string;
  teardown(): Promise<void>;
}

export async function setUpStage(url: string, act: Act): Promise<Stage> {
  const pool = new pg.Pool({ connectionString: url, max: 6 });
  pool.on("error", () => undefined);
  const cleanups: (() => Promise<unknown> | unknown)[] = [() => pool.end()];
  const teardown = async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve().then(cleanup).catch(() => undefined);
  };
  try {
    const worker = await startPgNetWorker({ databaseUrl: url });
    cleanups.push(() => worker.stop());
    const sim = (heartbeatMs: number, listEndpoint = false) =>
      new TrainingBackendSimulator({ databaseUrl: url, heartbeatMs, listEndpoint, flavor: act.flavor }).start();
    const simA = await sim(T.heartbeatMs, true);
    const simB = await sim(T.heartbeatMs);
    const simC = await new TrainingBackendSimulator({ databaseUrl: url, heartbeatMs: 3_600_000 }).start();
    cleanups.push(() => simA.stop(), () => simB.stop(), () => simC.stop());

    const secret = `demo-${crypto.randomUUID()}`;
    const fn = await serveReconcileFunction({ RECONCILE_SECRET: secret, SUPABASE_DB_URL: url }, {
      backend_url: simA.url,
      grace: `${T.graceSeconds} seconds`,
      hard_timeout: `${T.hardTimeoutSeconds} seconds`,
      pass_interval: `${T.tickMs / 1000} seconds`,
      request_timeout: "800 milliseconds",
      deadline: "2500 milliseconds",
    });
    cleanups.push(() => fn.stop());
    await setVaultSecrets(url, fn.url, secret);
    await pool.query("update public.job_staleness_policy set stale_after = $1 where status = 'running'", [
      T.runningStaleAfter,
    ]);
    await pool.query("update public.job_staleness_policy set stale_after = $1 where status in ('queued', 'pending')", [
      T.queuedStaleAfter,
    ]);
    const { rows: [cronJob] } = await pool.query(
      "select command from cron.job where jobname = 'reconcile-training-jobs'",
    );

    const { rows: [user] } = await pool.query("insert into auth.users (email) values ($1) returning id", [
      `demo-${Date.now()}@example.com`,
    ]);
    const ids = new Map<string, string>();
    const model = (key: string) => act.tracked.find((t) => t.key === key)!.model;
    const has = (key: string) => act.tracked.some((t) => t.key === key);

    // The seed's ghosts: writers that died long ago (backdated, as a frozen row would be).
    for (
      const [key, status, days] of [["ghost1", "running", 18], ["ghost2", "pending", 17], [
        "frozen",
        "running",
        16,
      ]] as const
    ) {
      if (!has(key)) continue;
      const { rows } = await pool.query(
        "insert into public.local_training_jobs (user_id, model_name, status) values ($1, $2, $3) returning id",
        [user.id, model(key), status],
      );
      ids.set(key, rows[0].id);
      await backdateJob(pool, rows[0].id, days * 86_400, { createdToo: true });
    }
    // A monitor that died on 11/13: the seed's dict still says running, with frozen progress.
    if (has("frozen")) simA.adopt({ id: ids.get("frozen")!, status: "running", progress: 0.37, monitorDead: true });
    for (const key of ["killed", "apidown", "lost1", "lost2", "live", "cancel"]) {
      const job = await simA.execute({ userId: user.id, modelName: model(key) });
      await simA.run(job.id);
      ids.set(key, job.id);
    }
    const crashJob = await simB.execute({ userId: user.id, modelName: model("crash") });
    await pool.query("update public.local_training_jobs set backend_url = $2 where id = $1", [crashJob.id, simB.url]);
    await simB.run(crashJob.id);
    ids.set("crash", crashJob.id);

    // A worker whose reports go through the writer side, over a network we can cut.
    const target = new URL(url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    cleanups.push(() => proxy.close());
    let partitioned: JobHandle | null = null;
    if (has("partition")) {
      const { rows: [p] } = await pool.query(
        "insert into public.local_training_jobs (user_id, model_name, status, backend_url) values ($1, $2, 'running', $3) returning id",
        [user.id, model("partition"), simC.url],
      );
      ids.set("partition", p.id);
      simC.adopt({ id: p.id, status: "running" });
      const viaProxy = new URL(url);
      viaProxy.hostname = "127.0.0.1";
      viaProxy.port = String(proxy.port);
      const workerPool = new pg.Pool({ connectionString: viaProxy.toString(), connectionTimeoutMillis: 500, max: 1 });
      workerPool.on("error", () => undefined);
      cleanups.push(() => workerPool.end());
      const reporter = await StatusReporter.open({
        journalPath: join(mkdtempSync(join(tmpdir(), "demo-journal-")), "reports.jsonl"),
        transport: pgTransport(workerPool),
        backoff: { baseMs: 200, maxMs: 1_000 },
        sendTimeoutMs: 1_000,
        onWarning: () => undefined,
      });
      cleanups.push(() => reporter.close(1_000));
      partitioned = reporter.job(p.id, 1);
      let progress = 0;
      const beat = setInterval(() => partitioned!.progress(progress = Math.min(0.99, progress + 0.02)), T.heartbeatMs);
      cleanups.push(() => clearInterval(beat));
    }
    return { pool, userId: user.id, ids, simA, simB, simC, proxy, partitioned, cronCommand: cronJob.command, teardown };
  } catch (error) {
    await teardown();
    throw error;
  }
}
