// One reconciler pass, as River's rescuer does it: observe (rows, then each backend), decide
// (pure), apply (one guarded set-based SQL call), report (counts). Shared unchanged by the
// Edge Function (Deno) and the operator CLI (Node).
import type { ReconcileConfig } from "./config.ts";
import { type BackendAskOptions, type BackendReport, forwardCancel } from "./backend-client.ts";
import { askCheckedBackend, checkBackendUrl, normalizeBackendUrl, withoutCredentials } from "./backend-url.ts";
import { type Action, type ActionType, decide, type ObservedJob } from "./decide.ts";
import { applyMassOutageGuard, describeHolds } from "./guard.ts";
import { beginPass, type CancelColumns, type ChangeColumns, emptyChangeColumns, failPass, finishPass, type Queryable } from "./database.ts";
import { finishPassWithBulkhead } from "./finish-with-bulkhead.ts";
import { describe } from "./http-json.ts";
import type { Observation } from "./observation.ts";

export interface PassDeps {
  db: Queryable;
  fetch: typeof fetch;
  config: ReconcileConfig;
  trigger: string;
  dryRun: boolean;
}

export interface PlannedDecision {
  job: ObservedJob;
  backendUrl: string;
  observation: Observation;
  action: Action;
}

export interface BackendSummary {
  url: string;
  mode: BackendReport["mode"];
  reachable: boolean;
  error: string | null;
  jobs: number;
}

export type PassSummary = Record<string, unknown> & { pass_id: string; outcome: string };

// Backends get most of the deadline; the rest is kept for the apply.
const BACKEND_SHARE_OF_DEADLINE = 0.8;

export async function runReconcilePass(deps: PassDeps): Promise<PassSummary> {
  const { db, config, trigger, dryRun } = deps;
  const passId = crypto.randomUUID();
  const started = Date.now();
  // The lease outlives the deadline, so a pass that hangs is never overlapped while it can still apply.
  const begun = await beginPass(db, {
    passId, trigger, leaseMs: config.deadlineMs + 30_000, dryRun, reviveWindowMs: config.hardTimeoutMs,
  });
  if (begun.skipped) {
    return { pass_id: passId, outcome: "skipped", trigger, dry_run: dryRun, running_pass: begun.runningPass };
  }

  try {
    const { decisions, backends, cancels } = await observeAndDecide(begun.jobs, deps);
    const guarded = applyMassOutageGuard(decisions, {
      share: config.guardShare, minJobs: config.guardMinJobs, hardTimeoutMs: config.hardTimeoutMs,
    });
    const planned = countByAction(guarded.decisions);
    const backendReachable = backends.every((b) => b.reachable);
    const heldWhy = describeHolds(guarded.holds, config.hardTimeoutMs);
    const report = {
      pass_id: passId, trigger, dry_run: dryRun, observed: begun.jobs.length, planned,
      held: guarded.held, ...(heldWhy ? { held_why: heldWhy } : {}), presumed_deaths: guarded.presumedDeaths,
      backend_reachable: backendReachable, backends,
    };
    if (dryRun) {
      return { ...report, outcome: "dry_run", plan: guarded.decisions.map(describeDecision), duration_ms: Date.now() - started };
    }
    const changes = emptyChangeColumns();
    for (const d of guarded.decisions) addChange(changes, d);
    const pass = {
      pass_id: passId, trigger, held: guarded.held, ...(heldWhy ? { held_why: heldWhy } : {}),
      backend_reachable: backendReachable, backends, observed: begun.jobs.length, planned,
    };
    // Cancels ride along with every part the bulkhead tries; recording one twice changes nothing.
    const summary = await finishPassWithBulkhead(db, pass, changes,
      (part) => finishPass(db, pass, config.passIntervalMs, part, cancels));
    return { ...report, ...summary, pass_id: passId, outcome: String(summary.outcome), duration_ms: Date.now() - started };
  } catch (error) {
    const message = describe(error);
    if (!dryRun) await failPass(db, passId, message).catch(() => undefined);
    throw new Error(`reconcile pass ${passId} failed: ${message}`, { cause: error });
  }
}

async function observeAndDecide(jobs: ObservedJob[], deps: PassDeps) {
  const { config } = deps;
  const byBackend = new Map<string, ObservedJob[]>();
  for (const job of jobs) {
    const url = normalizeBackendUrl(job.backendUrl ?? config.backendUrl);
    const owned = byBackend.get(url);
    if (owned) owned.push(job);
    else byBackend.set(url, [job]);
  }
  const options: BackendAskOptions = {
    fetch: deps.fetch, requestTimeoutMs: config.requestTimeoutMs, concurrency: config.concurrency,
    maxStatusBytes: config.maxStatusBytes, maxListBytes: config.maxListBytes,
    signal: AbortSignal.timeout(Math.floor(config.deadlineMs * BACKEND_SHARE_OF_DEADLINE)),
  };
  const cancels: CancelColumns = { jobIds: [], answers: [], delivered: [] };
  const reports = await Promise.all(
    [...byBackend].map(async ([url, owned]) => {
      // Cancels first, so the status asked next already shows a backend that stopped the job;
      // never to a backend_url that may not be fetched.
      if (!deps.dryRun && checkBackendUrl(url).ok) await forwardCancels(url, owned, options, cancels);
      return askCheckedBackend(url, owned.map((j) => j.id), options);
    }),
  );
  const decisions: PlannedDecision[] = [];
  const backends: BackendSummary[] = [];
  for (const report of reports) {
    const owned = byBackend.get(report.url) ?? [];
    // What the records show: a password in a misconfigured backend_url is never written anywhere.
    const shown = withoutCredentials(report.url);
    backends.push({ url: shown, mode: report.mode, reachable: report.reachable, error: report.error, jobs: owned.length });
    for (const job of owned) {
      const observation = report.observations.get(job.id) ?? { kind: "unreachable", detail: "not asked" };
      decisions.push({ job, backendUrl: shown, observation, action: decide(job, observation, config) });
    }
  }
  return { decisions, backends, cancels };
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

function countByAction(decisions: PlannedDecision[]): Partial<Record<ActionType, number>> {
  const counts: Partial<Record<ActionType, number>> = {};
  for (const d of decisions) counts[d.action.type] = (counts[d.action.type] ?? 0) + 1;
  return counts;
}

/** The evidence written with a change: what was seen, and by which rule it was judged. */
function evidenceOf(d: PlannedDecision, thresholdMs: number | null) {
  const seconds = (ms: number | null) => (ms === null ? null : Math.round(ms / 1000));
  return {
    rule: d.action.type,
    backend_url: d.backendUrl,
    backend_answer: d.observation,
    observed_status: d.job.status,
    silent_for_s: seconds(d.job.silentMs),
    // The two witnesses, apart: the writer's heartbeat, and the backend's progress seen moving.
    writer_silent_s: seconds(d.job.writerSilentMs),
    progress_silent_s: seconds(d.job.progressSilentMs),
    previous_progress: d.job.marker,
    threshold_s: thresholdMs === null ? null : thresholdMs / 1000,
  };
}

// The apply adds the pass id to every piece of evidence; a plain confirmation carries none,
// since the apply stores evidence only with a status change.
function addChange(c: ChangeColumns, d: PlannedDecision): void {
  const a = d.action;
  let change: {
    newStatus: string; reason: string | null; completedAt: string | null;
    evidence: ReturnType<typeof evidenceOf> | null; marker: string | null;
  };
  switch (a.type) {
    case "leave":
      return;
    case "confirm_alive":
    case "note_progress": {
      // A plain confirmation changes no status, so the apply stores no reason or evidence for it.
      const adopted = a.newStatus !== d.job.status;
      change = {
        newStatus: a.newStatus, reason: adopted ? `backend reports ${a.newStatus}` : null, completedAt: null,
        evidence: adopted ? evidenceOf(d, null) : null, marker: a.marker,
      };
      break;
    }
    case "revive":
      change = { newStatus: a.newStatus, reason: a.reason, completedAt: null, evidence: evidenceOf(d, null), marker: a.marker };
      break;
    case "record_backend_terminal":
      change = {
        newStatus: a.newStatus, reason: a.reason, completedAt: a.completedAt, evidence: evidenceOf(d, null), marker: null,
      };
      break;
    case "fail_lost":
    case "fail_stalled":
    case "fail_heartbeat_lost":
      change = {
        newStatus: a.newStatus, reason: a.reason, completedAt: null, evidence: evidenceOf(d, a.thresholdMs), marker: null,
      };
      break;
    default: {
      const unhandled: never = a;
      throw new Error(`unhandled action ${JSON.stringify(unhandled)}`);
    }
  }
  c.jobIds.push(d.job.id);
  c.observedStatus.push(d.job.status);
  c.observedUpdatedAt.push(d.job.observedUpdatedAt);
  c.actions.push(a.type);
  c.newStatus.push(change.newStatus);
  c.reasons.push(change.reason);
  c.completedAt.push(change.completedAt);
  c.evidence.push(change.evidence === null ? null : JSON.stringify(change.evidence));
  c.markers.push(change.marker);
}

function describeDecision(d: PlannedDecision) {
  return {
    job_id: d.job.id, status: d.job.status, backend_url: d.backendUrl,
    silent_for_s: Math.round(d.job.silentMs / 1000), backend_answer: d.observation, action: d.action,
  };
}
