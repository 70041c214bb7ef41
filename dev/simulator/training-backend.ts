// A training-backend simulator that speaks the seed's API (lib/training/training_server.py):
//   POST /api/training/execute          {user_id, model_name, config} -> {job_id, status}
//   GET  /api/training/status/{id}      -> {job_id, status, progress, ...} | 404 {"detail"}
//   GET  /api/training/jobs             -> {jobs: [...]}  (contract only, and can be switched off)
//   GET  /api/training/jobs?cursor=C&limit=N  -> {jobs: [after C by job_id], next_cursor}  (contract paging)
//   POST /api/training/cancel/{id}      -> {job_id, status}  (contract only)
// Like the seed, it keeps jobs in memory and persists them to local_training_jobs every
// heartbeat through the service role (persist_job()). Tests and the demo drive its faults:
// finish/fail/lose a job, kill its process, crash, restart, hang, answer 500 or garbage.
//
// Two flavours (README "The backend contract"):
//   seed      exactly the seed's training_server.py: the jobs dict holds only active jobs (a job
//             is dropped the moment it finishes), a restart empties it, a dead monitor leaves it
//             saying "running" with frozen progress, no list or cancel endpoint, and persist_job()
//             upserts the whole job blindly, trying 3 times, then giving up.
//   contract  a backend following this project's contract: finished jobs are kept (tombstones),
//             a dead training process is reported failed, progress comes with step and timestamp,
//             list and cancel endpoints.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import type { JobStatus } from "../../supabase/functions/_shared/job-status.ts";

export type AnswerMode = "normal" | "hang" | "error500" | "garbage" | "wrong-types" | "huge";

export type BackendFlavor = "seed" | "contract";

export interface SimulatorOptions {
  databaseUrl: string;
  /** Default "contract". */
  flavor?: BackendFlavor;
  port?: number;
  heartbeatMs?: number;
  /** Offer GET /api/training/jobs (the one-request listing). */
  listEndpoint?: boolean;
  /** Written to each job's backend_url, for fleets. */
  advertisedUrl?: string;
  /** Delay before each status/list answer, to make passes overlap. */
  answerDelayMs?: number;
}

export interface SimJob {
  id: string;
  userId: string | null;
  modelName: string;
  status: JobStatus;
  progress: number;
  error: string | null;
  completedAt: string | null;
  config: Record<string, unknown>;
  step?: number;
  /** When progress last changed (the contract's updated_at). */
  progressAt?: string;
  /** Seed flavour: the monitor died with the training; the dict still says what it last said. */
  monitorDead?: boolean;
}

/** The jobs by id, with a version that moves when the set of ids does (so the sorted ids are cached). */
class JobMap extends Map<string, SimJob> {
  version = 0;
  override set(id: string, job: SimJob): this {
    if (!this.has(id)) this.version++;
    return super.set(id, job);
  }
  override delete(id: string): boolean {
    this.version++;
    return super.delete(id);
  }
  override clear(): void {
    this.version++;
    super.clear();
  }
}

/** How a paging list may misbehave (the hostile-cursor cases); null pages correctly. */
export type ListCursorFault = "loop" | "repeat" | "number" | "huge" | null;

/** Entries per list page when `?limit=` is absent or out of range. */
const DEFAULT_LIST_LIMIT = 1_000;
const MAX_LIST_LIMIT = 10_000;

export class TrainingBackendSimulator {
  readonly jobs = new JobMap();
  mode: AnswerMode = "normal";
  /** Scenario 3: the Next.js API (the persist path) is down; writes fail and are dropped. */
  persistenceDown = false;
  /** The same, for some jobs only. */
  readonly persistenceDownFor = new Set<string>();
  /** Called when a status request arrives, before answering (to interleave writes in tests). */
  onStatusRequest: ((jobId: string) => Promise<void>) | null = null;
  statusRequests = 0;
  listRequests = 0;
  /** Each list request's `limit` parameter, in order (null: none sent). */
  readonly listLimits: (string | null)[] = [];
  /** Whether `mode` also hits the list route (off: only status requests misbehave). */
  faultOnList = true;
  /** Offer GET /api/training/jobs; off, it answers 404 like an older backend. */
  listEndpoint: boolean;
  readonly flavor: BackendFlavor;
  cancelRequests = 0;
  /** Answer `?cursor=` with pages (the contract's optional paging); off, the whole list as an older backend. */
  listPaging = true;
  /** From the second page on (number and huge: every page), the cursor misbehaves this way. */
  listCursorFault: ListCursorFault = null;
  /** The most entries one page holds, whatever `?limit=` asks (servers cap it; tests make pages small). */
  listPageCap = MAX_LIST_LIMIT;
  private sortedIds: { version: number; ids: string[] } | null = null;

  private server: Server | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly db: pg.Pool;
  private port: number;

  constructor(private readonly options: SimulatorOptions) {
    this.port = options.port ?? 0;
    this.flavor = options.flavor ?? "contract";
    this.listEndpoint = this.flavor === "contract" && (options.listEndpoint ?? false);
    // persist_job() writes through the API with the service role key; this is that path.
    this.db = new pg.Pool({ connectionString: options.databaseUrl, max: 4, options: "-c role=service_role" });
    // A database restart kills idle connections; the next persist reconnects.
    this.db.on("error", () => undefined);
  }

  /**
   * Back to how the constructor left it, between tests: no jobs, answering normally, no hooks, the
   * request counters at zero. The server keeps running on its port.
   */
  reset(): void {
    this.jobs.clear();
    this.mode = "normal";
    this.persistenceDown = false;
    this.persistenceDownFor.clear();
    this.onStatusRequest = null;
    this.statusRequests = 0;
    this.listRequests = 0;
    this.listLimits.length = 0;
    this.cancelRequests = 0;
    this.faultOnList = true;
    this.listEndpoint = this.flavor === "contract" && (this.options.listEndpoint ?? false);
    this.listPaging = true;
    this.listCursorFault = null;
    this.listPageCap = MAX_LIST_LIMIT;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.route(req, res));
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    this.heartbeat = setInterval(() => void this.persistRunning(), this.options.heartbeatMs ?? 2_000);
    return this;
  }

  /** The process dies: no answers (connection refused), no heartbeats. Memory is lost. */
  async crash(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    const server = this.server;
    this.server = null;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    this.jobs.clear();
  }

  /** Starts again on the same port with empty memory, as the seed's backend restarts. */
  async restart(): Promise<void> {
    await this.crash();
    await this.start();
  }

  async stop(): Promise<void> {
    await this.crash();
    await this.db.end();
  }

  // --- jobs ---------------------------------------------------------------------------------

  async execute(
    input: { userId: string | null; modelName: string; config?: Record<string, unknown>; id?: string },
  ): Promise<SimJob> {
    const job: SimJob = {
      id: input.id ?? crypto.randomUUID(),
      userId: input.userId,
      modelName: input.modelName,
      status: "queued",
      progress: 0,
      error: null,
      completedAt: null,
      config: input.config ?? {},
    };
    this.jobs.set(job.id, job);
    await this.persist(job, true);
    return job;
  }

  /** The queue worker picks it up. */
  async run(id: string): Promise<void> {
    await this.transition(id, { status: "running" });
  }

  /** The training finishes: the final persist_job(); the seed then forgets the job at once. */
  async finish(id: string): Promise<void> {
    await this.end(id, { status: "completed", progress: 1, completedAt: new Date().toISOString() });
  }

  async fail(id: string, error: string): Promise<void> {
    await this.end(id, { status: "failed", error, completedAt: new Date().toISOString() });
  }

  private async end(id: string, change: Partial<SimJob>): Promise<void> {
    try {
      await this.transition(id, change);
    } finally {
      if (this.flavor === "seed") this.jobs.delete(id);
    }
  }

  /**
   * Scenario 2: the training process dies and its monitor with it; the DB is never told. The seed's
   * dict keeps saying what it said ("running", progress frozen); a contract backend says failed.
   */
  killProcess(id: string, error = "training process exited with signal SIGKILL"): void {
    const job = this.mustGet(id);
    if (this.flavor === "seed") job.monitorDead = true;
    else Object.assign(job, { status: "failed", error, completedAt: new Date().toISOString() });
  }

  /** The training makes progress (the monitor reads progress.json) without persisting it. */
  advance(id: string): void {
    const job = this.mustGet(id);
    if (job.monitorDead || job.status !== "running") return;
    job.progress = Math.min(0.99, Math.round((job.progress + 0.01) * 100) / 100);
    job.step = (job.step ?? 0) + 1;
    job.progressAt = new Date().toISOString();
  }

  /** A user's cancel, forwarded (contract only): the training stops, the writer reports it. */
  async cancel(id: string): Promise<SimJob | null> {
    const job = this.jobs.get(id);
    if (!job) return null;
    if (job.status === "queued" || job.status === "pending" || job.status === "running") {
      await this.end(id, { status: "cancelled", completedAt: new Date().toISOString() }).catch(() => undefined);
    }
    return job;
  }

  /** The backend forgets a job without a word (a stuck worker, a lost queue entry). */
  lose(id: string): void {
    this.jobs.delete(id);
  }

  /** Knows a job that already has a row (seeding tests without persisting). */
  adopt(job: Pick<SimJob, "id" | "status"> & Partial<SimJob>): void {
    this.jobs.set(job.id, {
      userId: null,
      modelName: "adopted",
      progress: 0,
      error: null,
      completedAt: null,
      config: {},
      ...job,
    });
  }

  private mustGet(id: string): SimJob {
    const job = this.jobs.get(id);
    if (!job) throw new Error(`simulator has no job ${id}`);
    return job;
  }

  private async transition(id: string, change: Partial<SimJob>): Promise<void> {
    const job = this.mustGet(id);
    Object.assign(job, change);
    await this.persist(job, false);
  }

  /** One heartbeat round now, instead of waiting for the interval. */
  async heartbeatNow(): Promise<void> {
    await this.persistRunning();
  }

  private async persistRunning(): Promise<void> {
    for (const job of this.jobs.values()) {
      if (job.status !== "running" || job.monitorDead) continue;
      this.advance(job.id);
      await this.persist(job, false).catch(() => undefined);
    }
  }

  /** persist_job(): the whole record, every time, tried 3 times as the seed's is. Dropped while the API is down. */
  private async persist(job: SimJob, insert: boolean): Promise<void> {
    if (this.persistenceDown || this.persistenceDownFor.has(job.id)) return;
    for (let attempt = 1;; attempt++) {
      try {
        return await this.persistOnce(job, insert);
      } catch (error) {
        if (attempt >= 3) throw error;
        await new Promise((r) => setTimeout(r, 20 * attempt));
      }
    }
  }

  private async persistOnce(job: SimJob, insert: boolean): Promise<void> {
    const config = { ...job.config, progress: job.progress, ...(job.error ? { error: job.error } : {}) };
    if (this.flavor === "seed") {
      // The seed's Next.js route upserts whatever persist_job() sends: status included, every time.
      await this.db.query(
        `insert into public.local_training_jobs (id, user_id, model_name, status, config, completed_at, backend_url)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (id) do update set status = excluded.status, config = excluded.config,
           completed_at = excluded.completed_at, model_name = excluded.model_name`,
        [job.id, job.userId, job.modelName, job.status, config, job.completedAt, this.options.advertisedUrl ?? null],
      );
    } else if (insert) {
      await this.db.query(
        `insert into public.local_training_jobs (id, user_id, model_name, status, config, backend_url)
         values ($1, $2, $3, $4, $5, $6)`,
        [job.id, job.userId, job.modelName, job.status, config, this.options.advertisedUrl ?? null],
      );
    } else {
      await this.db.query(
        `update public.local_training_jobs set status = $2, config = $3, completed_at = $4 where id = $1`,
        [job.id, job.status, config, job.completedAt],
      );
    }
  }

  // --- HTTP ---------------------------------------------------------------------------------

  private wire(job: SimJob) {
    const base = {
      job_id: job.id,
      status: job.status,
      progress: job.progress,
      error: job.error,
      completed_at: job.completedAt,
    };
    if (this.flavor === "seed") return base;
    return { ...base, current_step: job.step ?? 0, updated_at: job.progressAt ?? null };
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    try {
      if (req.method === "POST" && url.pathname === "/api/training/execute") {
        const body = JSON.parse(await readBody(req) || "{}");
        const job = await this.execute({
          userId: body.user_id ?? null,
          modelName: body.model_name ?? "model",
          config: body.config,
        });
        return send(200, { job_id: job.id, status: job.status });
      }
      const cancel = /^\/api\/training\/cancel\/([^/]+)$/.exec(url.pathname);
      if (req.method === "POST" && cancel && this.flavor === "contract") {
        this.cancelRequests++;
        const job = await this.cancel(decodeURIComponent(cancel[1]!));
        return job ? send(200, this.wire(job)) : send(404, { detail: "Job not found" });
      }
      const status = /^\/api\/training\/status\/([^/]+)$/.exec(url.pathname);
      const isList = url.pathname === "/api/training/jobs";
      if (req.method !== "GET" || (!status && !isList)) return send(404, { detail: "Not Found" });
      if (status) {
        this.statusRequests++;
        await this.onStatusRequest?.(decodeURIComponent(status[1]!));
      } else {
        this.listRequests++;
        this.listLimits.push(url.searchParams.get("limit"));
      }
      if (this.options.answerDelayMs) await new Promise((r) => setTimeout(r, this.options.answerDelayMs));
      if ((status || this.faultOnList) && this.answerFault(res)) return;
      if (isList) {
        if (!this.listEndpoint) return send(404, { detail: "Not Found" });
        const cursor = url.searchParams.get("cursor");
        if (cursor !== null && this.listPaging) {
          return send(200, this.listPage(cursor, Number(url.searchParams.get("limit"))));
        }
        return send(200, { jobs: [...this.jobs.values()].map((j) => this.wire(j)) });
      }
      const job = this.jobs.get(decodeURIComponent(status![1]!));
      return job ? send(200, this.wire(job)) : send(404, { detail: "Job not found" });
    } catch (error) {
      send(500, { detail: String(error) });
    }
  }

  /** Keyset paging: the jobs after `cursor` by job_id, and the last one's id as next_cursor (null at the end). */
  private listPage(cursor: string, limit: number) {
    if (this.sortedIds?.version !== this.jobs.version) {
      this.sortedIds = { version: this.jobs.version, ids: [...this.jobs.keys()].sort() };
    }
    const ids = this.sortedIds.ids;
    const size = Math.min(
      this.listPageCap,
      Number.isInteger(limit) && limit > 0 && limit <= MAX_LIST_LIMIT ? limit : DEFAULT_LIST_LIMIT,
    );
    let low = 0;
    let high = ids.length;
    while (low < high) { // the first id after the cursor
      const mid = (low + high) >> 1;
      if (ids[mid]! > cursor) high = mid;
      else low = mid + 1;
    }
    const fault = this.listCursorFault;
    const later = low > 0 && cursor !== "" && ids[low - 1] === cursor; // not the first page
    const from = fault === "repeat" && later ? low - 1 : low;
    const page = ids.slice(from, from + size);
    const end = from + size >= ids.length;
    let next: unknown = end ? null : page.at(-1)!;
    if (fault === "loop" && later) next = cursor;
    if (fault === "number") next = 42;
    if (fault === "huge") next = "f".repeat(100_000);
    return { jobs: page.map((id) => this.wire(this.jobs.get(id)!)), next_cursor: next };
  }

  /** Returns true when a fault answered (or swallowed) the request. */
  private answerFault(res: ServerResponse): boolean {
    switch (this.mode) {
      case "normal":
        return false;
      case "hang":
        return true; // never answers; the socket stays open until the client gives up
      case "error500":
        res.writeHead(500, { "content-type": "application/json" }).end('{"detail":"Internal Server Error"}');
        return true;
      case "garbage":
        res.writeHead(200, { "content-type": "application/json" }).end("<html>upstream says hi</html>");
        return true;
      case "wrong-types":
        res.writeHead(200, { "content-type": "application/json" }).end('{"status": 42, "jobs": "many"}');
        return true;
      case "huge": {
        res.writeHead(200, { "content-type": "application/json" });
        const chunk = `{"status":"running","pad":"${"x".repeat(1024 * 1024)}`;
        for (let i = 0; i < 10; i++) res.write(chunk);
        res.end('"}');
        return true;
      }
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => (data += chunk));
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });
}
