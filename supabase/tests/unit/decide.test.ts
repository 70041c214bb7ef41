import { describe, expect, it } from "vitest";
import { decide, type ObservedJob, REASON_HEARTBEAT_LOST, REASON_LOST } from "../../functions/_shared/reconcile/decide.ts";

const policy = { graceMs: 120_000, hardTimeoutMs: 600_000 };
const makeJob = (over: Partial<ObservedJob> = {}): ObservedJob => ({
  id: "job-1", status: "running", backendUrl: null, observedUpdatedAt: "2026-11-29 12:00:00+00", silentMs: 0, ...over,
});

describe("decide", () => {
  it("confirms a job the backend says is alive, whatever its silence", () => {
    expect(decide(makeJob({ silentMs: 86_400_000 }), { kind: "alive", status: "running" }, policy))
      .toEqual({ type: "confirm_alive", newStatus: "running" });
  });

  it("adopts the backend's active status when it moved on (queued row, running job)", () => {
    expect(decide(makeJob({ status: "queued" }), { kind: "alive", status: "running" }, policy))
      .toEqual({ type: "confirm_alive", newStatus: "running" });
  });

  it("writes a terminal status the backend reports, with its error text and time", () => {
    expect(decide(makeJob(), { kind: "terminal", status: "failed", error: "CUDA out of memory", finishedAt: "2026-11-29T11:00:00Z" }, policy))
      .toEqual({ type: "record_backend_terminal", newStatus: "failed", reason: "CUDA out of memory", completedAt: "2026-11-29T11:00:00Z" });
  });

  it("says which terminal status the backend reported when it gave no error text", () => {
    expect(decide(makeJob(), { kind: "terminal", status: "completed", error: null, finishedAt: null }, policy))
      .toMatchObject({ reason: "backend reports completed", completedAt: null });
  });

  it("leaves a job unknown to the backend while it is within the grace period (must not be touched)", () => {
    expect(decide(makeJob({ silentMs: 120_000 }), { kind: "unknown", via: "status-404" }, policy))
      .toEqual({ type: "leave", why: "within grace period" });
  });

  it("fails a job unknown to the backend once it is past the grace period", () => {
    expect(decide(makeJob({ silentMs: 120_001 }), { kind: "unknown", via: "absent-from-list" }, policy))
      .toEqual({ type: "fail_lost", newStatus: "failed", reason: REASON_LOST, thresholdMs: 120_000 });
  });

  it("concludes nothing from an unreachable backend within the hard timeout (must not be touched)", () => {
    expect(decide(makeJob({ silentMs: 600_000 }), { kind: "unreachable", detail: "timed out" }, policy))
      .toEqual({ type: "leave", why: "backend unreachable, within hard timeout" });
  });

  it("fails a job silent past the hard timeout even when the backend cannot be asked", () => {
    expect(decide(makeJob({ silentMs: 600_001 }), { kind: "unreachable", detail: "HTTP 502" }, policy))
      .toEqual({ type: "fail_heartbeat_lost", newStatus: "failed", reason: REASON_HEARTBEAT_LOST, thresholdMs: 600_000 });
  });
});
