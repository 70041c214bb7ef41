// How a job reads on the page: pure functions, so the wording is the same everywhere.
import type { RecentJob } from "./jobs-store";

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 days ago". */
export function ago(iso: string | null, now: number = Date.now()): string {
  if (!iso) return "never";
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3_600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3_600)} h ago`;
  const days = Math.floor(seconds / 86_400);
  return `${days} day${days === 1 ? "" : "s"} ago`;
}

/** The badge: effective_status, with a failure's reason ("failed — heartbeat lost"). */
export function statusLabel(job: RecentJob): string {
  if (job.effective_status === "failed" && job.status_reason) return `failed — ${job.status_reason}`;
  if (job.effective_status === "cancelling") return "cancelling…";
  return job.effective_status;
}

/** Badge colour class: what the user should feel, not the raw status. */
export function statusTone(job: RecentJob): "ok" | "active" | "warn" | "bad" | "muted" {
  switch (job.effective_status) {
    case "completed":
      return "ok";
    case "running":
    case "queued":
    case "pending":
      return "active";
    case "stale":
    case "cancelling":
      return "warn";
    case "failed":
      return "bad";
    default:
      return "muted";
  }
}

/** A cancel can still be requested: the job is active and nobody asked yet. */
export const canCancel = (job: RecentJob) =>
  ["queued", "pending", "running"].includes(job.status) && job.cancel_requested_at === null;
