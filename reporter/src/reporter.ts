// The writer side for job runners: heartbeat, progress, complete and fail never wait for the
// network. Reports are sent in order, everything queued in one call to report_job_statuses()
// (one call per flush however many jobs run here; one report_job_status() call each when the
// transport cannot batch); while the database or API
// cannot be reached they go to a durable journal, and are replayed in order, with backoff and
// jitter, when it is back, or after a restart.
//
//   const reporter = await StatusReporter.open({ journalPath, transport: pgTransport(pool) });
//   const job = reporter.job(jobId, attempt);
//   job.heartbeat(); job.progress(0.4); await job.complete();
//   await reporter.close();
import { Journal } from "./journal.ts";
import { isTerminal, type Report, type ReportOutcome, type ReportStatus, sameStream } from "./report.ts";
import { isRetryable } from "./retryable-errors.ts";
import type { BatchResult, ReportTransport } from "./transport.ts";

export interface ReporterOptions {
  journalPath: string;
  transport: ReportTransport;
  /** Journal bound, in reports (heartbeats are merged first). */
  maxJournalEntries?: number;
  backoff?: { baseMs: number; maxMs: number };
  /** A send that takes longer is abandoned and retried (seq makes a duplicate harmless). */
  sendTimeoutMs?: number;
  /** Reports per call at most, when the transport can batch. */
  maxBatch?: number;
  onWarning?: (message: string) => void;
  /** Every delivered report and what the database made of it. */
  onOutcome?: (report: Report, outcome: ReportOutcome) => void;
  random?: () => number;
}

export interface JobHandle {
  heartbeat(): void;
  progress(fraction: number): void;
  /** Resolves once the report is durable (journaled or delivered), never waiting on a dead network. */
  complete(): Promise<void>;
  fail(error: string): Promise<void>;
}

interface Pending {
  report: Report;
  journaled: boolean;
}

export class StatusReporter {
  private queue: Pending[] = [];
  /** The reports being sent right now: the only ones a merge must not remove. */
  private inFlight = new Set<Pending>();
  /** The batch call was refused as a whole (say, an older database without it): one by one from then on. */
  private singleOnly = false;
  private lastSeq = 0;
  private draining: Promise<void> | null = null;
  private failures = 0;
  private closed = false;
  private wakeUp: (() => void) | null = null;
  private readonly fenced = new Set<string>();
  private readonly backoff: { baseMs: number; maxMs: number };
  private readonly warn: (message: string) => void;

  private constructor(private readonly journal: Journal, private readonly options: ReporterOptions) {
    this.backoff = options.backoff ?? { baseMs: 200, maxMs: 30_000 };
    this.warn = options.onWarning ?? ((m) => console.warn(`reporter: ${m}`));
  }

  static async open(options: ReporterOptions): Promise<StatusReporter> {
    const warn = options.onWarning ?? ((m: string) => console.warn(`reporter: ${m}`));
    const journal = await Journal.open(options.journalPath, {
      maxEntries: options.maxJournalEntries ?? 10_000,
      onWarning: warn,
    });
    const reporter = new StatusReporter(journal, options);
    // A backlog left by an earlier process is replayed first, in order.
    reporter.queue = journal.pending().map((report) => ({ report, journaled: true }));
    reporter.lastSeq = Math.max(0, ...reporter.queue.map((p) => p.report.seq));
    reporter.kick();
    return reporter;
  }

  job(jobId: string, attempt: number): JobHandle {
    return {
      heartbeat: () => void this.enqueue(jobId, attempt, "running", null, null),
      progress: (fraction) => void this.enqueue(jobId, attempt, "running", fraction, null),
      complete: () => this.enqueue(jobId, attempt, "completed", 1, null),
      fail: (error) => this.enqueue(jobId, attempt, "failed", null, error),
    };
  }

  /** Reports not yet delivered. */
  get backlog(): number {
    return this.queue.length;
  }

  /** Waits until everything is delivered, or the time is up (then false). */
  async flush(timeoutMs = 30_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < until) {
      this.wakeUp?.(); // skip the current backoff wait
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.queue.length === 0;
  }

  /** Tries to deliver for a while, then leaves the rest in the journal for the next start. */
  async close(timeoutMs = 5_000): Promise<void> {
    await this.flush(timeoutMs);
    this.closed = true;
    this.wakeUp?.();
    await this.draining;
    await this.journal.append(this.queue.filter((p) => !p.journaled).map((p) => p.report));
  }

  private nextSeq(): number {
    // The clock in µs keeps seq increasing across restarts; the counter keeps it strict.
    this.lastSeq = Math.max(this.lastSeq + 1, Date.now() * 1000);
    return this.lastSeq;
  }

  private async enqueue(
    jobId: string,
    attempt: number,
    status: ReportStatus,
    progress: number | null,
    error: string | null,
  ) {
    if (this.closed) throw new Error(`reporter is closed: report for job ${jobId} not taken`);
    if (this.fenced.has(`${jobId}:${attempt}`)) return; // a newer attempt owns the job: stay quiet
    const report: Report = {
      jobId,
      attempt,
      seq: this.nextSeq(),
      status,
      progress,
      error,
      at: new Date().toISOString(),
    };
    const pending: Pending = { report, journaled: false };
    if (isTerminal(report)) {
      // A terminal report must survive a crash from the moment the caller is told it is taken.
      await this.journal.append([report]);
      pending.journaled = true;
    } else {
      // Merge: an unsent heartbeat of the same attempt is worthless once a newer one exists.
      this.queue = this.queue.filter((p) =>
        this.inFlight.has(p) || isTerminal(p.report) || !sameStream(p.report, report)
      );
    }
    this.queue.push(pending);
    this.kick();
  }

  private kick(): void {
    // Started on the next turn of the event loop, so the reports a worker queues in one tick (a
    // heartbeat per job) leave together, in one call.
    if (!this.draining && !this.closed) {
      this.draining = new Promise((resolve) => setImmediate(resolve)).then(() => this.drain())
        .finally(() => (this.draining = null));
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      const batching = this.options.transport.sendBatch !== undefined && !this.singleOnly;
      // The head of the queue, in order: a job's terminal report and a later heartbeat of it may
      // share a batch, and the database applies them in array order.
      const batch = this.queue.slice(0, batching ? (this.options.maxBatch ?? 1_000) : 1);
      this.inFlight = new Set(batch);
      let results: BatchResult[];
      try {
        results = await this.sendWithTimeout(batch.map((p) => p.report), batching);
      } catch (error) {
        this.inFlight.clear();
        if (!isRetryable(error)) {
          if (batching) {
            // The batch call itself is refused (not a report in it): deliver one at a time instead.
            this.singleOnly = true;
            this.warn(`batched reports refused (${(error as Error).message}); sending one report per call`);
            continue;
          }
          const head = batch[0]!;
          await this.forget([head]);
          this.warn(`dropped a ${head.report.status} report for job ${head.report.jobId}: ${(error as Error).message}`);
          continue;
        }
        await this.backOff();
        continue;
      }
      this.inFlight.clear();
      this.failures = 0;
      const done: Pending[] = [];
      let retryLater = false;
      for (const [i, pending] of batch.entries()) {
        const result = results[i]!;
        if (typeof result === "string") {
          done.push(pending);
          if (result === "refused_fenced") this.fence(pending.report);
          this.options.onOutcome?.(pending.report, result);
        } else if (!isRetryable(result.error)) {
          done.push(pending);
          this.warn(
            `dropped a ${pending.report.status} report for job ${pending.report.jobId}: ${result.error.message}`,
          );
        } else {
          retryLater = true; // kept in the queue, in its place
        }
      }
      await this.forget(done);
      if (retryLater) await this.backOff();
    }
  }

  /** Delivered or refused for good: out of the queue and the journal. */
  private async forget(done: Pending[]): Promise<void> {
    if (done.length === 0) return;
    const gone = new Set(done);
    this.queue = this.queue.filter((p) => !gone.has(p));
    if (this.queue.length === 0 && this.journal.size > 0) await this.journal.clear();
    else if (done.some((p) => p.journaled)) {
      await this.journal.remove(new Set(done.filter((p) => p.journaled).map((p) => p.report.seq)));
    }
  }

  /** Unreachable: make the backlog durable, then wait with backoff and jitter. */
  private async backOff(): Promise<void> {
    const unsaved = this.queue.filter((p) => !p.journaled);
    await this.journal.append(unsaved.map((p) => p.report));
    for (const p of unsaved) p.journaled = true;
    this.failures++;
    const ceiling = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** (this.failures - 1));
    await this.sleep(ceiling * (0.5 + (this.options.random ?? Math.random)() / 2));
  }

  private sendWithTimeout(reports: Report[], batching: boolean): Promise<BatchResult[]> {
    const ms = this.options.sendTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: "ETIMEDOUT" })),
        ms,
      );
    });
    const { transport } = this.options;
    const sent: Promise<BatchResult[]> = batching
      ? transport.sendBatch!(reports)
      : transport.send(reports[0]!).then((outcome) => [outcome]);
    return Promise.race([sent, timeout]).finally(() => clearTimeout(timer));
  }

  private fence(report: Report): void {
    if (this.fenced.has(`${report.jobId}:${report.attempt}`)) return; // a batch can carry several of its reports
    this.fenced.add(`${report.jobId}:${report.attempt}`);
    this.queue = this.queue.filter((p) => !sameStream(p.report, report));
    this.warn(`job ${report.jobId} was resumed by a newer attempt; reports from attempt ${report.attempt} are refused`);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}
