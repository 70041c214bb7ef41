// One reconciler pass, as River's rescuer does it, in bounded pages: claim the shard's lease, then
// per page of rows (by id): ask each backend, decide (pure), apply (one guarded set-based call
// behind the bulkhead), the next page already being read; finally let the mass-outage guard
// release or drop the sudden deaths it parked, and record the pass. Only counts survive between
// pages (and at most two pages of rows are held), so memory does not grow with the fleet. Shared
// unchanged by the Edge Function (Deno) and the operator CLI (Node).
import { readPassSettings, type ReconcileConfig, type SettingsOverrides } from "./config.ts";
import { type BackendAskOptions, type BackendReport, type BackendSession, forwardCancel } from "./backend-client.ts";
import { NO_DEFAULT_BACKEND, normalizeBackendUrl, openCheckedBackend, withoutCredentials } from "./backend-url.ts";
import { addChange, type Decision } from "./changes.ts";
import { type Action, decide, type LeaveReason, type ObservedJob } from "./decide.ts";
import { describeHolds, GuardTally, holdSudden, isSudden } from "./guard.ts";
import {
  applyChanges,
  applyDeferred,
  type CancelColumns,
  type ChangeColumns,
  claimPass,
  deferChanges,
  emptyChangeColumns,
  failPass,
  finishPass,
  observePage,
  type Queryable,
  recordPassCounts,
  type Shard,
  WHOLE_FLEET,
} from "./database.ts";
import { applyWithBulkhead, isDataError } from "./bulkhead.ts";
import { listPageLimit } from "./list-pages.ts";
import { errorMessage } from "./http-json.ts";
import {
  type ActionCounts,
  type ApplyTotals,
  type BackendSummary,
  type PassRecord,
  type PassSummary,
  planEntry,
  type RejectedRow,
} from "./pass-summary.ts";
import { storableText } from "./sanitize.ts";

export interface PassOptions {
  db: Queryable;
  fetch: typeof fetch;
  trigger: string;
  dryRun: boolean;
  /** The part of the fleet this pass covers; the whole fleet when absent. */
  shard?: Shard;
  /** This run's own values for some settings (a CLI flag); the pass record names them. */
  overrides?: SettingsOverrides;
  /** The default backend when the settings row names none (the function's BACKEND_URL). */
  fallbackBackendUrl?: string | null;
}

/** A pass's options with the settings it read at its start. */
interface PassDeps extends PassOptions {
  config: ReconcileConfig;
}

export type { PassSummary } from "./pass-summary.ts";

// Backends get most of the deadline; the rest is kept for the apply.
const BACKEND_SHARE_OF_DEADLINE = 0.8;
/** Rejected rows named in the pass record; the count is always exact. */
const MAX_REJECTED_LISTED = 20;
/** Apply calls per page at most, when the bulkhead isolates refused rows (about 2·log2(n) each). */
const MAX_APPLY_CALLS_PER_PAGE = 100;

type Counts = Partial<Record<string, number>>;
const bump = (counts: Counts, key: string, n = 1) => (counts[key] = (counts[key] ?? 0) + n);

export async function runReconcilePass(options: PassOptions): Promise<PassSummary> {
  const { db, trigger, dryRun } = options;
  // Read at the start of every pass: a change made with configure_reconciler() holds from the next pass on.
  const overrides = options.overrides ?? {};
  const config = await readPassSettings(db, overrides, options.fallbackBackendUrl ?? null);
  const deps: PassDeps = { ...options, config };
  const shard = deps.shard ?? WHOLE_FLEET;
  const identity = {
    pass_id: crypto.randomUUID(),
    trigger,
    dry_run: dryRun,
    ...(shard.shards > 1 ? { shard: shard.shard, shards: shard.shards } : {}),
    ...(Object.keys(overrides).length > 0 ? { overrides } : {}),
  };
  const started = Date.now();
  // The lease outlives the deadline, so a pass that hangs is never overlapped while it can still apply.
  const claimed = await claimPass(db, {
    passId: identity.pass_id,
    trigger,
    leaseMs: config.deadlineMs + 30_000,
    dryRun,
    ...shard,
  });
  if (claimed.skipped) return { ...identity, outcome: "skipped", running_pass: claimed.runningPass };

  try {
    const run = new PagedPass(deps, identity.pass_id, shard);
    await run.observeAll();
    const holds = run.tally.holds();
    // A list that broke off mid-way may have made absences of jobs it never got to: their deaths
    // wait too, as a held backend's do. One map of held backends serves the record, the plan and the apply.
    const brokeOff = run.listsBrokenOff();
    const held = new Map<string, LeaveReason>([
      ...[...brokeOff].map((url): [string, LeaveReason] => [url, "held: the backend's list broke off"]),
      ...holds.map((h): [string, LeaveReason] => [h.backendUrl, "held by mass-outage guard"]),
    ]);
    const heldWhy = [
      describeHolds(holds, config.hardTimeoutMs),
      ...[...brokeOff].map((url) => `the list of ${url} broke off`),
    ]
      .filter((why) => why !== null).join("; ") || null;
    const backends = run.backendSummaries();
    const record: PassRecord = {
      ...identity,
      observed: run.observed,
      planned: run.plannedAfterGuard(new Set(held.keys())),
      held: held.size > 0,
      ...(heldWhy ? { held_why: heldWhy } : {}),
      presumed_deaths: run.tally.presumedDeaths,
      backend_reachable: backends.every((b) => b.reachable),
      backends,
    };
    if (dryRun) {
      // A dry run returns the plan, so it holds every decision: it is for people, not fleets.
      const plan = holdSudden(run.dryRunDecisions, held, config.hardTimeoutMs);
      return { ...record, outcome: "dry_run", plan: plan.map(planEntry), duration_ms: Date.now() - started };
    }
    if (run.tally.presumedDeaths > 0) await run.applyParked(run.tally.released().filter((url) => !held.has(url)));
    // Records the outcome (and releases the lease); the totals of every page are merged in after.
    const { outcome } = await finishPass(db, record);
    const totals = run.totals();
    await recordPassCounts(db, identity.pass_id, { ...totals, ...(identity.overrides ? { overrides } : {}) });
    return {
      ...record,
      ...totals,
      outcome: outcome === "held" ? "held" : "applied",
      duration_ms: Date.now() - started,
    };
  } catch (error) {
    const message = errorMessage(error);
    if (!dryRun) await failPass(db, identity.pass_id, message).catch(() => undefined);
    throw new Error(`reconcile pass ${identity.pass_id} failed: ${message}`, { cause: error });
  }
}

const emptyCancels = (): CancelColumns => ({ jobIds: [], answers: [], delivered: [] });

/** One pass's state between pages: backends (a list is fetched once), counts, nothing per job. */
class PagedPass {
  readonly tally: GuardTally;
  observed = 0;
  /** Only in a dry run, which answers with the plan. */
  readonly dryRunDecisions: Decision[] = [];
  private readonly backends = new Map<string, { session: BackendSession; jobs: number }>();
  private readonly options: BackendAskOptions;
  /** Planned actions, sudden deaths apart (the guard decides what they become). */
  private readonly planned: Counts = {};
  private readonly suddenPlanned = new Map<string, Counts>();
  private readonly applied: Counts = {};
  private conflicts = 0;
  private cancelsForwarded = 0;
  private changes = 0;
  private applyCalls = 0;
  private rejected = 0;
  private readonly rejectedRows: RejectedRow[] = [];

  constructor(private readonly deps: PassDeps, private readonly passId: string, private readonly shard: Shard) {
    const { config } = deps;
    this.tally = new GuardTally({
      share: config.guardShare,
      minJobs: config.guardMinJobs,
      hardTimeoutMs: config.hardTimeoutMs,
    });
    this.options = {
      fetch: deps.fetch,
      requestTimeoutMs: config.requestTimeoutMs,
      concurrency: config.concurrency,
      maxStatusBytes: config.maxStatusBytes,
      maxListBytes: config.maxListBytes,
      listPageLimit: listPageLimit(config.pageSize),
      signal: AbortSignal.timeout(Math.floor(config.deadlineMs * BACKEND_SHARE_OF_DEADLINE)),
    };
  }

  async observeAll(): Promise<void> {
    const { db, config } = this.deps;
    const limit = config.pageSize;
    const observe = (after: string | null) =>
      observePage(db, {
        after,
        limit,
        reviveWindowMs: config.hardTimeoutMs,
        confirmForMs: config.passIntervalMs,
        ...this.shard,
      });
    let next = observe(null);
    for (;;) {
      const page = await next;
      if (page.size === 0) return;
      this.observed += page.size;
      // A full page may have a next one: it is read now, on the pool's other connection, while this one
      // is decided and written (a single connection queues it behind this page's apply, as before).
      // Pages are disjoint by id, so what this page writes cannot change it.
      const more = page.size === limit;
      if (more) {
        next = observe(page.lastId);
        // Awaited at the top of the loop; until then a failure must not count as unhandled.
        next.catch(() => undefined);
      }
      for (const { jobId, error } of page.unreadable) this.reject({ job_id: jobId, action: null, error });
      // With more pages to come, a paged list may also send its next request while this page is written.
      const { decisions, cancels } = await this.decidePage(page.jobs, more);
      if (this.deps.dryRun) this.dryRunDecisions.push(...decisions);
      else await this.applyPage(decisions, cancels);
      if (!more) return;
    }
  }

  private async decidePage(jobs: ObservedJob[], moreFollow: boolean) {
    const { config } = this.deps;
    const byBackend = groupByBackend(jobs, config.backendUrl);
    const cancels = emptyCancels();
    const reports = await Promise.all([...byBackend].map(async ([url, owned]) => {
      let backend = this.backends.get(url);
      if (!backend) this.backends.set(url, backend = { session: openCheckedBackend(url, this.options), jobs: 0 });
      backend.jobs += owned.length;
      // Cancels first, so the status asked next already shows a backend that stopped the job (a list
      // page read ahead was asked for before them: such a stop shows one pass later, as any newer news).
      if (!this.deps.dryRun && backend.session.summary().mode !== "misconfigured") {
        await forwardCancels(url, owned, this.options, cancels);
      }
      return backend.session.ask(owned.map((j) => j.id), { moreFollow });
    }));
    const decisions: Decision[] = [];
    for (const report of reports) {
      // What the records show: a password in a misconfigured backend_url is never written anywhere.
      const backendUrl = withoutCredentials(report.url);
      for (const job of byBackend.get(report.url) ?? []) {
        const answer = report.answers.get(job.id) ?? { kind: "unreachable", detail: "not asked" };
        let action: Action;
        try {
          action = decide(job, answer, config);
        } catch (error) {
          // A row no rule can read costs that row: recorded as rejected, the page goes on.
          this.reject({ job_id: job.id, action: null, error: storableText(`decide: ${errorMessage(error)}`, 300) });
          continue;
        }
        const d = { job, backendUrl, answer, action };
        this.tally.count(d);
        if (isSudden(d, config.hardTimeoutMs)) bump(this.suddenOf(d.backendUrl), d.action.type);
        else bump(this.planned, d.action.type);
        decisions.push(d);
      }
    }
    return { decisions, cancels };
  }

  private suddenOf(url: string): Counts {
    let counts = this.suddenPlanned.get(url);
    if (!counts) this.suddenPlanned.set(url, counts = {});
    return counts;
  }

  /**
   * The page's changes in one guarded call (split by the bulkhead only if Postgres refuses a row); sudden deaths
   * parked.
   */
  private async applyPage(decisions: Decision[], cancels: CancelColumns): Promise<void> {
    const { db, config } = this.deps;
    const changes = emptyChangeColumns();
    const parked = emptyChangeColumns();
    const parkedBackends: string[] = [];
    for (const d of decisions) {
      if (isSudden(d, config.hardTimeoutMs)) {
        addChange(parked, d);
        parkedBackends.push(d.backendUrl);
      } else {
        addChange(changes, d);
      }
    }
    this.changes += changes.jobIds.length;
    this.cancelsForwarded += cancels.jobIds.length;
    if (changes.jobIds.length > 0 || cancels.jobIds.length > 0) {
      // Cancels ride along with every part the bulkhead tries; recording one twice changes nothing.
      const outcome = await applyWithBulkhead(
        changes,
        (part) => applyChanges(db, this.passId, config.passIntervalMs, part, cancels),
        { isDataError, maxCalls: MAX_APPLY_CALLS_PER_PAGE },
      );
      this.applyCalls += outcome.calls;
      for (const r of outcome.results) this.addApplied(r);
      for (const { row, error } of outcome.rejected) {
        this.reject({
          job_id: row.jobIds[0] ?? null,
          action: row.actions[0] ?? null,
          error: storableText(`${sqlState(error)}${errorMessage(error)}`, 300),
        });
      }
    }
    if (parked.jobIds.length > 0) await deferChanges(db, this.passId, parkedBackends, parked);
  }

  /** A row that cost only itself: unreadable, undecidable, or refused by the apply. Counted exactly, a few named. */
  private reject(row: RejectedRow): void {
    this.rejected++;
    if (this.rejectedRows.length < MAX_REJECTED_LISTED) this.rejectedRows.push(row);
  }

  /** After the last page: the guard's verdict on the parked sudden deaths. */
  async applyParked(release: string[]): Promise<void> {
    const { db, config } = this.deps;
    this.addApplied(await applyDeferred(db, this.passId, config.passIntervalMs, release));
    for (const url of release) {
      for (const n of Object.values(this.suddenPlanned.get(url) ?? {})) this.changes += n ?? 0;
    }
  }

  private addApplied(r: { applied: Record<string, number>; conflicts: number }): void {
    for (const [action, n] of Object.entries(r.applied ?? {})) bump(this.applied, action, Number(n));
    this.conflicts += Number(r.conflicts ?? 0);
  }

  /** Planned actions as the guard leaves them: a held backend's sudden deaths are left alone. */
  plannedAfterGuard(heldBackends: Set<string>): ActionCounts {
    const planned: Counts = { ...this.planned };
    for (const [url, counts] of this.suddenPlanned) {
      for (const [action, n] of Object.entries(counts)) bump(planned, heldBackends.has(url) ? "leave" : action, n ?? 0);
    }
    return planned as ActionCounts;
  }

  /** Backends (as decisions name them) whose paged list failed after part of it was read. */
  listsBrokenOff(): Set<string> {
    return new Set(
      [...this.backends].filter(([, b]) => b.session.listBrokeOff()).map(([url]) => withoutCredentials(url)),
    );
  }

  backendSummaries(): BackendSummary[] {
    return [...this.backends].map(([url, b]) => ({
      url: withoutCredentials(url),
      ...b.session.summary(),
      jobs: b.jobs,
    }));
  }

  /** What the pass record's counts hold after every page (each page's call recorded nothing). */
  totals(): ApplyTotals {
    return {
      applied: this.applied,
      conflicts: this.conflicts,
      cancels_forwarded: this.cancelsForwarded,
      ...(this.rejected > 0
        ? {
          rejected: this.rejected,
          rejected_rows: this.rejectedRows,
          apply_calls: this.applyCalls,
          changes: this.changes,
        }
        : {}),
    };
  }
}

function sqlState(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? `${code}: ` : "";
}

/** A page's jobs by the backend they are asked of, its URL in one spelling (normalizeBackendUrl). */
function groupByBackend(jobs: ObservedJob[], defaultUrl: string | null): Map<string, ObservedJob[]> {
  const byBackend = new Map<string, ObservedJob[]>();
  // A page's rows name a few backends, each many times: each spelling is parsed once a page, not once a row.
  const normalized = new Map<string, string>();
  for (const job of jobs) {
    const raw = job.backendUrl ?? defaultUrl ?? NO_DEFAULT_BACKEND;
    let url = normalized.get(raw);
    if (url === undefined) normalized.set(raw, url = normalizeBackendUrl(raw));
    const owned = byBackend.get(url);
    if (owned) owned.push(job);
    else byBackend.set(url, [job]);
  }
  return byBackend;
}

async function forwardCancels(url: string, owned: ObservedJob[], options: BackendAskOptions, out: CancelColumns) {
  const waiting = owned.filter((j) => j.cancelPending && !j.presumedDead);
  for (const job of waiting) {
    const { delivered, answer } = await forwardCancel(url, job.id, options);
    out.jobIds.push(job.id);
    out.answers.push(answer);
    out.delivered.push(delivered);
  }
}
