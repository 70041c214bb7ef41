"use client";
// "Recent Training Jobs": the signed-in user's jobs as the view tells them (effective_status),
// refreshed every few seconds, so a ghost turns 'stale' and then 'failed — heartbeat lost' on
// its own, without anyone asking the training backend.
import { useCallback, useEffect, useState } from "react";
import type { RecentJob } from "@/lib/jobs-store";
import { ago, canCancel, statusLabel, statusTone } from "@/lib/job-display";

const REFRESH_MS = 5_000;

export function RecentTrainingJobs() {
  const [jobs, setJobs] = useState<RecentJob[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());

  const load = useCallback(async () => {
    try {
      const response = await fetch("/api/training/jobs", { cache: "no-store" });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`);
      setJobs(body.jobs);
      setProblem(null);
    } catch (error) {
      setProblem(`Could not load jobs: ${(error as Error).message}`);
    }
    setNow(Date.now());
  }, []);

  useEffect(() => {
    void load();
    const timer = setInterval(load, REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);

  const cancel = async (job: RecentJob) => {
    const response = await fetch(`/api/training/jobs/${job.id}/cancel`, { method: "POST" });
    if (!response.ok) setProblem(`Cancel failed: ${(await response.json()).error ?? response.status}`);
    await load();
  };

  return (
    <section className="jobs" aria-busy={jobs === null}>
      <h1>Recent Training Jobs</h1>
      {problem && <p className="problem" role="alert">{problem}</p>}
      {jobs?.length === 0 && <p className="empty">No training jobs yet.</p>}
      <ul>
        {jobs?.map((job) => (
          <li key={job.id} className="job" data-job-id={job.id} data-status={job.effective_status}>
            <div className="head">
              <span className="model">{job.model_name ?? "untitled model"}</span>
              <span className={`badge ${statusTone(job)}`} data-testid="status">{statusLabel(job)}</span>
            </div>
            <div className="facts">
              <span data-testid="last-heard">last heard {ago(job.last_heard_at, now)}</span>
              {job.progress !== null && <span>{Math.round(job.progress * 100)}% done</span>}
              <span>
                {job.started_at ? `started ${ago(job.started_at, now)}` : `submitted ${ago(job.created_at, now)}`}
              </span>
              {job.completed_at && <span>ended {ago(job.completed_at, now)}</span>}
            </div>
            {job.effective_status === "stale" && (
              <p className="note">
                No sign of life for{" "}
                {ago(job.last_heard_at, now).replace(" ago", "")}: the training may have died. The reconciler fails it
                if the backend cannot vouch for it.
              </p>
            )}
            {job.cancel_requested_at && job.status !== "cancelled" && (
              <p className="note">
                Cancel requested {ago(job.cancel_requested_at, now)}
                {job.cancel_answer ? `. Backend: ${job.cancel_answer}` : ". Waiting for the backend to stop it."}
              </p>
            )}
            {canCancel(job) && <button type="button" onClick={() => cancel(job)}>Cancel</button>}
          </li>
        ))}
      </ul>
    </section>
  );
}
