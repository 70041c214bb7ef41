// The randomized fault suite: seeded, reproducible interleavings of heartbeats, reports,
// resumes, reconciler passes, backend crashes, database restarts, orphaned and partitioned
// workers, and time passing; the invariants (./invariants.ts) are checked after every step.
//
// Real parts: Postgres, the migrations, report_job_status() through the reporter, the
// reconciler's core (the function's pass, run in-process for speed), the simulated backend over
// HTTP. Simulated: the outside world only (a backend, a network partition, time passing by
// backdating rows, a database restart as every client connection being killed).
import fc from "fast-check";
import pg from "pg";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runReconcilePass } from "../../supabase/functions/_shared/reconcile/mod.ts";
import { StatusReporter } from "../../reporter/src/reporter.ts";
import { isRetryable } from "../../reporter/src/retryable-errors.ts";
import { pgTransport, type ReportTransport } from "../../reporter/src/transport.ts";
import { TrainingBackendSimulator } from "../simulator/training-backend.ts";
import { checkInvariants, type Observed, type TrackedJob } from "./invariants.ts";

interface Worker extends TrackedJob {
  reporter: StatusReporter;
  /** The backend forgot the job, but the training process lives on. */
  orphaned: boolean;
}

interface Model {
  jobs: Worker[];
  backendUp: boolean;
}

interface Real {
  sim: TrainingBackendSimulator;
  writers: pg.Pool;
  reconciler: pg.Pool;
  checker: pg.Client;
  journals: string;
  observed: Map<string, Observed>;
  partitioned: Set<string>;
  passes: { ok: number; failed: number; outcomes: Record<string, number> };
  /** Steps actually run, by command. */
  executed: Record<string, number>;
}

const MAX_JOBS = 6;
type Cmd = fc.AsyncCommand<Model, Real, false>;

/** The network between a worker and the database, cut while the worker is partitioned. */
const partitionable = (inner: ReportTransport, real: Real): ReportTransport => ({
  async send(report) {
    if (real.partitioned.has(report.jobId)) throw Object.assign(new Error("partitioned"), { code: "ECONNREFUSED" });
    return inner.send(report);
  },
  async sendBatch(reports) {
    if (reports.some((r) => real.partitioned.has(r.jobId))) {
      throw Object.assign(new Error("partitioned"), { code: "ECONNREFUSED" });
    }
    return inner.sendBatch!(reports);
  },
});

async function openReporter(real: Real, id: string, attempt: number): Promise<StatusReporter> {
  return StatusReporter.open({
    journalPath: join(real.journals, `${id}-${attempt}.jsonl`),
    transport: partitionable(pgTransport(real.writers), real),
    backoff: { baseMs: 2, maxMs: 20 },
    sendTimeoutMs: 5_000,
    onWarning: () => undefined,
  });
}

const pick = (m: Model, i: number) => m.jobs[i % m.jobs.length]!;

/** A caller's own retry of a transient error (a connection the database restart just cut). */
async function retrying<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1;; i++) {
    try {
      return await fn();
    } catch (error) {
      if (i >= attempts || !isRetryable(error)) throw error;
      await new Promise((r) => setTimeout(r, 10 * i));
    }
  }
}
const deliver = (w: Worker) => (w.partitioned ? Promise.resolve(true) : w.reporter.flush(10_000));

abstract class Step implements Cmd {
  abstract check(m: Readonly<Model>): boolean;
  abstract act(m: Model, r: Real): Promise<void>;
  async run(m: Model, r: Real): Promise<void> {
    const name = this.constructor.name;
    r.executed[name] = (r.executed[name] ?? 0) + 1;
    await this.act(m, r);
    await checkInvariants(r.checker, m.jobs, r.observed);
  }
  abstract toString(): string;
}

class StartJob extends Step {
  check = (m: Readonly<Model>) => m.backendUp && m.jobs.length < MAX_JOBS;
  async act(m: Model, r: Real) {
    const id = crypto.randomUUID();
    const job = r.sim.jobs.get(id) ??
      await retrying(() => r.sim.execute({ id, userId: null, modelName: "fault-suite" }));
    await retrying(() => r.sim.run(job.id));
    m.jobs.push({
      id: job.id,
      attempt: 1,
      workerAlive: true,
      partitioned: false,
      orphaned: false,
      reporter: await openReporter(r, job.id, 1),
    });
  }
  toString = () => "StartJob";
}

class Heartbeat extends Step {
  constructor(readonly i: number) {
    super();
  }
  check = (m: Readonly<Model>) => m.jobs.length > 0;
  async act(m: Model) {
    const w = pick(m, this.i);
    if (!w.workerAlive) return;
    w.reporter.job(w.id, w.attempt).progress(Math.random());
    await deliver(w);
  }
  toString = () => `Heartbeat(${this.i})`;
}

class Finish extends Step {
  constructor(readonly i: number, readonly ok: boolean) {
    super();
  }
  check = (m: Readonly<Model>) => m.jobs.length > 0;
  async act(m: Model, r: Real) {
    const w = pick(m, this.i);
    if (!w.workerAlive || w.partitioned) return;
    const simJob = r.sim.jobs.get(w.id);
    if (simJob && !w.orphaned) {
      Object.assign(simJob, {
        status: this.ok ? "completed" : "failed",
        completedAt: new Date().toISOString(),
        error: this.ok ? null : "loss diverged",
      });
    }
    const handle = w.reporter.job(w.id, w.attempt);
    await (this.ok ? handle.complete() : handle.fail("loss diverged"));
    await deliver(w);
    w.workerAlive = false;
  }
  toString = () => `Finish(${this.i}, ${this.ok ? "completed" : "failed"})`;
}

class KillWorker extends Step {
  constructor(readonly i: number, readonly backendNotices: boolean) {
    super();
  }
  check = (m: Readonly<Model>) => m.jobs.length > 0;
  async act(m: Model, r: Real) {
    const w = pick(m, this.i);
    if (!w.workerAlive || !r.sim.jobs.has(w.id)) return;
    if (this.backendNotices) r.sim.killProcess(w.id);
    else r.sim.lose(w.id);
    w.workerAlive = false;
    w.partitioned = false;
    r.partitioned.delete(w.id);
  }
  toString = () => `KillWorker(${this.i}, ${this.backendNotices ? "backend notices" : "backend loses it"})`;
}

class OrphanWorker extends Step {
  constructor(readonly i: number) {
    super();
  }
  check = (m: Readonly<Model>) => m.jobs.length > 0;
  async act(m: Model, r: Real) {
    const w = pick(m, this.i);
    if (!w.workerAlive) return;
    r.sim.lose(w.id);
    w.orphaned = true;
  }
  toString = () => `OrphanWorker(${this.i})`;
}

class Partition extends Step {
  constructor(readonly i: number, readonly cut: boolean) {
    super();
  }
  check = (m: Readonly<Model>) => m.jobs.length > 0;
  async act(m: Model, r: Real) {
    const w = pick(m, this.i);
    if (!w.workerAlive) return;
    if (this.cut) {
      w.partitioned = true;
      r.partitioned.add(w.id);
    } else if (w.partitioned) {
      w.partitioned = false;
      r.partitioned.delete(w.id);
      w.reporter.job(w.id, w.attempt).heartbeat(); // the worker is alive: its next report says so
      await deliver(w);
    }
  }
  toString = () => `Partition(${this.i}, ${this.cut ? "cut" : "heal"})`;
}

class Resume extends Step {
  constructor(readonly i: number) {
    super();
  }
  check = (m: Readonly<Model>) => m.jobs.length > 0 && m.backendUp;
  async act(m: Model, r: Real) {
    const w = pick(m, this.i);
    if (w.workerAlive) return;
    const { rows } = await retrying(() => r.writers.query("select public.start_job_attempt($1) as attempt", [w.id]));
    await w.reporter.close(100);
    Object.assign(w, { attempt: rows[0].attempt, workerAlive: true, partitioned: false, orphaned: false });
    r.partitioned.delete(w.id);
    r.sim.adopt({ id: w.id, status: "running" });
    w.reporter = await openReporter(r, w.id, w.attempt);
  }
  toString = () => `Resume(${this.i})`;
}

class Pass extends Step {
  constructor(readonly raceWith: number | null) {
    super();
  }
  check = () => true;
  async act(m: Model, r: Real) {
    const overrides = { backend_url: r.sim.url, request_timeout: "500 milliseconds", deadline: "3 seconds" };
    // A heartbeat racing the pass: it lands between the pass's observation and its apply.
    const racer = this.raceWith !== null && m.jobs.length ? pick(m, this.raceWith) : null;
    // A cut-off racer heals mid-pass: its heartbeat lands after the pass saw it silent.
    r.sim.onStatusRequest = racer?.workerAlive
      ? async () => {
        if (racer.partitioned) {
          racer.partitioned = false;
          r.partitioned.delete(racer.id);
        }
        racer.reporter.job(racer.id, racer.attempt).heartbeat();
        await racer.reporter.flush(5_000);
        r.sim.onStatusRequest = null;
      }
      : null;
    r.sim.listEndpoint = this.raceWith === null;
    try {
      const summary = await runReconcilePass({
        db: r.reconciler,
        fetch,
        overrides,
        trigger: "fault-suite",
        dryRun: false,
      });
      r.passes.ok++;
      r.passes.outcomes[summary.outcome] = (r.passes.outcomes[summary.outcome] ?? 0) + 1;
    } catch {
      r.passes.failed++; // a pass cut short by a database restart: allowed, as long as it harmed nothing
    } finally {
      r.sim.onStatusRequest = null;
    }
  }
  toString = () => `Pass(${this.raceWith === null ? "list" : `per-job, raced by heartbeat ${this.raceWith}`})`;
}

class BackendCrash extends Step {
  check = (m: Readonly<Model>) => m.backendUp;
  async act(m: Model, r: Real) {
    await r.sim.crash();
    m.backendUp = false;
    // Its training processes die with it; orphans run elsewhere.
    for (const w of m.jobs) if (!w.orphaned) w.workerAlive = false;
  }
  toString = () => "BackendCrash";
}

class BackendRestart extends Step {
  check = (m: Readonly<Model>) => !m.backendUp;
  async act(m: Model, r: Real) {
    await r.sim.start();
    m.backendUp = true;
  }
  toString = () => "BackendRestart";
}

class DatabaseRestart extends Step {
  check = () => true;
  async act(_m: Model, r: Real) {
    // What clients see of a restart: every connection of theirs is cut at once.
    await r.checker.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name like 'fault-%' and pid <> pg_backend_pid()",
    );
  }
  toString = () => "DatabaseRestart";
}

class TimePasses extends Step {
  constructor(readonly minutes: number) {
    super();
  }
  check = () => true;
  async act(m: Model, r: Real) {
    // Every row's clock ages (backend confirmations, finish times); the heartbeats of dead or
    // cut-off workers age with it, while live workers kept heartbeating meanwhile.
    const silent = m.jobs.filter((w) => !w.workerAlive || w.partitioned).map((w) => w.id);
    await r.checker.query("begin");
    await r.checker.query("set local session_replication_role = replica");
    await r.checker.query(
      `update public.local_training_jobs
       set confirmed_at = confirmed_at - make_interval(mins => $2), confirmed_until = confirmed_until - make_interval(mins => $2),
           completed_at = completed_at - make_interval(mins => $2),
           updated_at = case when id = any($1) then updated_at - make_interval(mins => $2) else updated_at end,
           heartbeat_at = case when id = any($1) then heartbeat_at - make_interval(mins => $2) else heartbeat_at end`,
      [silent, this.minutes],
    );
    await r.checker.query("commit");
    for (const w of m.jobs.filter((j) => j.workerAlive && !j.partitioned)) {
      w.reporter.job(w.id, w.attempt).heartbeat();
      await deliver(w);
    }
  }
  toString = () => `TimePasses(${this.minutes} min)`;
}

const job = fc.nat({ max: MAX_JOBS * 3 });
const heartbeat = job.map((i) => new Heartbeat(i));
const pass = fc.option(job, { nil: null }).map((i) => new Pass(i));
const timePasses = fc.constantFrom(1, 3, 11, 45).map((min) => new TimePasses(min));
// Listed twice or three times: heartbeats, passes and time are the common events.
export const commands = [
  fc.constant(new StartJob()),
  heartbeat,
  heartbeat,
  heartbeat,
  pass,
  pass,
  pass,
  timePasses,
  timePasses,
  fc.tuple(job, fc.boolean()).map(([i, ok]) => new Finish(i, ok)),
  fc.tuple(job, fc.boolean()).map(([i, b]) => new KillWorker(i, b)),
  job.map((i) => new OrphanWorker(i)),
  fc.tuple(job, fc.boolean()).map(([i, cut]) => new Partition(i, cut)),
  job.map((i) => new Resume(i)),
  fc.constant(new BackendCrash()),
  fc.constant(new BackendRestart()),
  fc.constant(new DatabaseRestart()),
];
const INITIAL_JOBS = 3;

export interface SuiteResult {
  runs: number;
  steps: number;
  executed: Record<string, number>;
  passes: Real["passes"];
  seed: number;
}

export async function runFaultSuite(opts: {
  databaseUrl: string;
  runs: number;
  seed: number;
  maxCommands?: number;
  path?: string;
  onProgress?: (done: number) => void;
}): Promise<SuiteResult> {
  const withName = (name: string) => ({ connectionString: opts.databaseUrl, application_name: name });
  const sim = await new TrainingBackendSimulator({
    databaseUrl: opts.databaseUrl,
    heartbeatMs: 3_600_000,
    listEndpoint: true,
  }).start();
  const writers = new pg.Pool({ ...withName("fault-writers"), max: 8 });
  const reconciler = new pg.Pool({ ...withName("fault-reconciler"), max: 2 });
  for (const p of [writers, reconciler]) p.on("error", () => undefined);
  const checker = new pg.Client(withName("checker"));
  await checker.connect();
  const journals = mkdtempSync(join(tmpdir(), "fault-suite-"));
  const passes = { ok: 0, failed: 0, outcomes: {} as Record<string, number> };
  const executed: Record<string, number> = {};
  let runs = 0;
  let steps = 0;
  try {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: opts.maxCommands ?? 30, size: "large" }), async (cmds) => {
        // A clean world for each interleaving.
        await checker.query("delete from public.local_training_jobs");
        await checker.query("delete from jobs_private.reconcile_passes");
        if (!(await fetch(`${sim.url}/api/training/jobs`).then(() => true, () => false))) await sim.start();
        sim.jobs.clear();
        sim.mode = "normal";
        const model: Model = { jobs: [], backendUp: true };
        const real: Real = {
          sim,
          writers,
          reconciler,
          checker,
          journals,
          observed: new Map(),
          partitioned: new Set(),
          passes,
          executed,
        };
        try {
          for (let i = 0; i < INITIAL_JOBS; i++) await new StartJob().run(model, real);
          await fc.asyncModelRun(() => ({ model, real }), cmds);
        } finally {
          await Promise.all(model.jobs.map((w) => w.reporter.close(50).catch(() => undefined)));
          runs++;
          opts.onProgress?.(runs);
        }
      }),
      // Shrinking is on: a failure is reported as the shortest interleaving that still fails.
      { numRuns: opts.runs, seed: opts.seed, ...(opts.path ? { path: opts.path } : {}) },
    );
  } finally {
    await sim.stop();
    await writers.end();
    await reconciler.end();
    await checker.end();
    rmSync(journals, { recursive: true, force: true });
  }
  steps = Object.values(executed).reduce((a, b) => a + b, 0);
  return { runs, steps, executed, passes, seed: opts.seed };
}
