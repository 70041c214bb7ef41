// What a pass answers (the function's JSON body, the CLI's --json) and records. One type per
// outcome, so readers narrow on `outcome` instead of casting.
import type { Decision } from "./changes.ts";
import type { BackendReport } from "./backend-client.ts";
import type { ActionType } from "./decide.ts";

export type ActionCounts = Partial<Record<ActionType, number>>;

export interface BackendSummary {
  url: string;
  mode: BackendReport["mode"];
  reachable: boolean;
  error: string | null;
  jobs: number;
}

/** Who ran the pass and over which part of the fleet (shard fields only when sharded). */
interface PassIdentity {
  pass_id: string;
  trigger: string;
  dry_run: boolean;
  shard?: number;
  shards?: number;
  /** Settings this run gave itself (CLI flags), over the settings row. */
  overrides?: Record<string, string | number>;
}

/** What every pass that ran knows after its last page: the pass record, built once. */
export interface PassRecord extends PassIdentity {
  observed: number;
  /** Planned actions as the guard leaves them: a held backend's sudden deaths count as "leave". */
  planned: ActionCounts;
  held: boolean;
  held_why?: string;
  presumed_deaths: number;
  backend_reachable: boolean;
  backends: BackendSummary[];
}

/** A row the database refused, named in the record (the first few; the count is exact). */
export interface RejectedRow {
  job_id: string | null;
  action: string | null;
  error: string;
}

/** The totals of every page's apply. */
export interface ApplyTotals {
  applied: ActionCounts;
  conflicts: number;
  cancels_forwarded: number;
  rejected?: number;
  rejected_rows?: RejectedRow[];
  apply_calls?: number;
  changes?: number;
}

export interface SkippedPass extends PassIdentity {
  outcome: "skipped";
  /** The pass holding this shard's lease. */
  running_pass: unknown;
}

export interface PlanEntry {
  job_id: string;
  status: string;
  backend_url: string;
  silent_for_s: number;
  backend_answer: Decision["answer"];
  action: Decision["action"];
}

export interface DryRunPass extends PassRecord {
  outcome: "dry_run";
  plan: PlanEntry[];
  duration_ms: number;
}

export interface FinishedPass extends PassRecord, ApplyTotals {
  outcome: "applied" | "held";
  duration_ms: number;
}

export type PassSummary = SkippedPass | DryRunPass | FinishedPass;

export function planEntry(d: Decision): PlanEntry {
  return {
    job_id: d.job.id,
    status: d.job.status,
    backend_url: d.backendUrl,
    silent_for_s: Math.round(d.job.silentMs / 1000),
    backend_answer: d.answer,
    action: d.action,
  };
}
