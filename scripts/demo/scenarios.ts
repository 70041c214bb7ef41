// The seed's four failure scenarios, plus a revival, as a timeline the demo plays.
// Each tracked job says what the truth is and when the table counts as fixed.

export interface TrackedJob {
  key: string;
  model: string;
  scenario: string;
  /** Seconds after the start when its fault happens (null: it was a ghost before the demo began). */
  faultAt: number | null;
  /** The row is fixed when this holds. */
  fixed: (row: { status: string; status_reason: string | null }, history: string[]) => boolean;
  /** What the summary says it became. */
  expected: string;
}

const lost = "lost: backend has no record";

export const TRACKED: TrackedJob[] = [
  { key: "ghost1", model: "ghost-since-11-11", scenario: "4 long-running server: ghost from 11/11", faultAt: null,
    fixed: (r) => r.status === "failed" && r.status_reason === lost, expected: `failed (${lost})` },
  { key: "ghost2", model: "ghost-since-11-12", scenario: "4 long-running server: pending ghost from 11/12", faultAt: null,
    fixed: (r) => r.status === "failed" && r.status_reason === lost, expected: `failed (${lost})` },
  { key: "crash", model: "on-crashed-backend", scenario: "1 backend crashes (and stays down)", faultAt: 3,
    fixed: (r) => r.status === "failed" && r.status_reason === "heartbeat lost", expected: "failed (heartbeat lost)" },
  { key: "killed", model: "process-killed", scenario: "2 training process and monitor die", faultAt: 3,
    fixed: (r) => r.status === "failed" && r.status_reason === "training process exited with signal SIGKILL",
    expected: "failed (the backend's own error)" },
  { key: "apidown", model: "api-down-persist", scenario: "3 API down: persist_job() fails", faultAt: 3,
    fixed: (r) => r.status === "completed", expected: "kept running by confirmations, then completed" },
  { key: "lost1", model: "lost-by-backend-1", scenario: "4 long-running server: job lost at t+3", faultAt: 3,
    fixed: (r) => r.status === "failed" && r.status_reason === lost, expected: `failed (${lost})` },
  { key: "lost2", model: "lost-by-backend-2", scenario: "4 long-running server: job lost at t+6", faultAt: 6,
    fixed: (r) => r.status === "failed" && r.status_reason === lost, expected: `failed (${lost})` },
  { key: "partition", model: "network-partition", scenario: "+ partition: presumed dead, then revived", faultAt: 3,
    fixed: (r, h) => r.status === "completed" && h.some((s) => s.startsWith("failed→running")),
    expected: "failed (heartbeat lost) → revived → completed" },
  { key: "live", model: "healthy-training", scenario: "  control: a healthy job (must not be touched)", faultAt: null,
    fixed: (r, h) => r.status === "completed" && !h.some((s) => s.includes("failed")), expected: "completed, never failed" },
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
