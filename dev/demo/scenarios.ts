// What the demo plays, in two acts: the seed's four failure scenarios (plus a user's cancel) against
// the seed's backend exactly as it is, then against a backend that follows the contract (plus a
// network partition and a revival through the writer side). Each tracked job says what the truth
// is and when the table counts as fixed.
import type { BackendFlavor } from "../simulator/training-backend.ts";

export interface WatchedRow {
  status: string;
  effective_status: string;
  status_reason: string | null;
  cancel_answer: string | null;
}

export interface TrackedJob {
  key: string;
  model: string;
  scenario: string;
  /** Seconds after the start when its fault happens (null: it was a ghost before the demo began). */
  faultAt: number | null;
  /** The row is fixed when this holds. */
  fixed: (row: WatchedRow, history: string[]) => boolean;
  /** What the summary says it became. */
  expected: string;
}

export interface Act {
  title: string;
  flavor: BackendFlavor;
  intro: string;
  tracked: TrackedJob[];
}

const lost = (r: WatchedRow) =>
  r.status === "failed" && (r.status_reason ?? "").startsWith("lost: backend has no record");
const never = (h: string[], status: string) => !h.some((s) => s.includes(status));

const GHOSTS: TrackedJob[] = [
  {
    key: "ghost1",
    model: "ghost-since-11-11",
    scenario: "4 long-running server: ghost from 11/11",
    faultAt: null,
    fixed: lost,
    expected: "failed (lost) on the first pass",
  },
  {
    key: "ghost2",
    model: "ghost-since-11-12",
    scenario: "4 long-running server: pending ghost from 11/12",
    faultAt: null,
    fixed: lost,
    expected: "failed (lost) on the first pass",
  },
];
const COMMON: TrackedJob[] = [
  {
    key: "crash",
    model: "on-crashed-backend",
    scenario: "1 backend crashes (and stays down)",
    faultAt: 3,
    fixed: (r) => r.status === "failed" && r.status_reason === "heartbeat lost",
    expected: "failed (heartbeat lost)",
  },
  {
    key: "lost1",
    model: "lost-by-backend-1",
    scenario: "4 long-running server: job lost at t+3",
    faultAt: 3,
    fixed: lost,
    expected: "failed (lost)",
  },
  {
    key: "lost2",
    model: "lost-by-backend-2",
    scenario: "4 long-running server: job lost at t+6",
    faultAt: 6,
    fixed: lost,
    expected: "failed (lost)",
  },
  {
    key: "live",
    model: "healthy-training",
    scenario: "  control: a healthy job (must not be touched)",
    faultAt: null,
    fixed: (r, h) => r.status === "completed" && never(h, "failed"),
    expected: "completed, never failed",
  },
];

export const ACTS: Act[] = [
  {
    title: "Act 1: the seed's backend, unchanged",
    flavor: "seed",
    intro: "training_server.py as it is: it forgets finished jobs, a dead monitor leaves its dict saying " +
      '"running", it has no list or cancel endpoint, and persist_job() upserts blindly.',
    tracked: [
      ...GHOSTS,
      {
        key: "frozen",
        model: "frozen-since-11-13",
        scenario: "4 long-running server: dict says running",
        faultAt: null,
        fixed: (r) => r.status === "failed" && (r.status_reason ?? "").startsWith("stalled:"),
        expected: "failed (stalled: a claim with no progress)",
      },
      ...COMMON,
      {
        key: "killed",
        model: "process-killed",
        scenario: "2 training process and monitor die",
        faultAt: 3,
        fixed: (r) => r.status === "failed" && (r.status_reason ?? "").startsWith("stalled: backend says running"),
        expected: "stale at once, then failed (stalled)",
      },
      {
        key: "apidown",
        model: "api-down-persist",
        scenario: "3 API down, then completes during it",
        faultAt: 3,
        fixed: (r) => lost(r) && (r.status_reason ?? "").includes("it forgot the job"),
        expected: "running while progress moves; then failed, labelled forgotten",
      },
      {
        key: "cancel",
        model: "cancel-requested",
        scenario: "  a user cancels",
        faultAt: 3,
        fixed: (r) =>
          r.effective_status === "cancelling" && (r.cancel_answer ?? "").includes("did not take the cancel"),
        expected: "cancelling (the backend cannot cancel: said so)",
      },
    ],
  },
  {
    title: "Act 2: a backend that follows the contract",
    flavor: "contract",
    intro: "The same, with the Python adapter's changes: finished jobs kept for a while, progress with step and " +
      "timestamp, a list and a cancel endpoint. Plus a worker cut off by a network partition.",
    tracked: [
      ...GHOSTS,
      ...COMMON,
      {
        key: "killed",
        model: "process-killed",
        scenario: "2 training process and monitor die",
        faultAt: 3,
        fixed: (r) => r.status === "failed" && r.status_reason === "training process exited with signal SIGKILL",
        expected: "failed (the backend's own error)",
      },
      {
        key: "apidown",
        model: "api-down-persist",
        scenario: "3 API down, then completes during it",
        faultAt: 3,
        fixed: (r, h) => r.status === "completed" && never(h, "failed"),
        expected: "running while progress moves; then completed",
      },
      {
        key: "cancel",
        model: "cancel-requested",
        scenario: "  a user cancels",
        faultAt: 3,
        fixed: (r) => r.status === "cancelled",
        expected: "cancelling, then cancelled by the backend",
      },
      {
        key: "partition",
        model: "network-partition",
        scenario: "+ partition: presumed dead, then revived",
        faultAt: 3,
        fixed: (r, h) => r.status === "completed" && h.some((s) => s.startsWith("failed→running")),
        expected: "failed (heartbeat lost) → revived → completed",
      },
    ],
  },
];

/** Compressed timings: what takes minutes in production takes seconds here. */
export const DEMO_TIMINGS = {
  runningStaleAfter: "4 seconds", // production: 2 minutes
  queuedStaleAfter: "8 seconds", // production: 30 minutes
  graceSeconds: 2, // production: 120
  hardTimeoutSeconds: 8, // production: 600
  tickMs: 3_000, // production: pg_cron every 10 minutes
  heartbeatMs: 1_000, // the seed: every 2 s
};
