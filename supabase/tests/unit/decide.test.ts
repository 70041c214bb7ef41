import { describe, expect, it } from "vitest";
import {
  type BackendAnswer,
  decide,
  type ObservedJob,
  REASON_HEARTBEAT_LOST,
} from "../../functions/_shared/reconcile/mod.ts";

const policy = { graceMs: 120_000, hardTimeoutMs: 600_000 };
const makeJob = (over: Partial<ObservedJob> = {}): ObservedJob => ({
  id: "job-1",
  status: "running",
  backendUrl: null,
  observedUpdatedAt: "2026-11-29 12:00:00+00",
  silentMs: 0,
  writerSilentMs: 0,
  progressSilentMs: null,
  marker: null,
  confirmationRunning: false,
  cancelPending: false,
  progress: null,
  presumedDead: false,
  ...over,
});
/** What an action that changes no finish time and judges by no threshold carries. */
const noWrite = { completedAt: null, thresholdMs: null };
const running = (marker: string | null, status: "running" | "queued" = "running"): BackendAnswer => ({
  kind: "alive",
  status,
  marker,
  progress: null,
});

describe("decide: a backend's 'running' is a claim, movement is a sign of life", () => {
  it("confirms a job whose progress moved since the previous pass, whatever its silence", () => {
    expect(decide(makeJob({ silentMs: 86_400_000, marker: '{"p":0.4}' }), running('{"p":0.5}'), policy))
      .toEqual({ type: "confirm_alive", newStatus: "running", reason: null, marker: '{"p":0.5}', ...noWrite });
  });

  it("does not confirm a first sighting: it only notes the marker to compare with next time", () => {
    expect(decide(makeJob({ marker: null }), running('{"p":0.5}'), policy))
      .toEqual({ type: "note_progress", newStatus: "running", reason: null, marker: '{"p":0.5}', ...noWrite });
  });

  it("leaves a claim with no movement while the job is within the hard timeout (must not be touched)", () => {
    expect(decide(makeJob({ silentMs: 600_000, marker: '{"p":0.5}' }), running('{"p":0.5}'), policy))
      .toEqual({ type: "leave", why: "no progress shown, within hard timeout" });
  });

  it("withdraws a running confirmation when the next pass sees no movement", () => {
    expect(decide(makeJob({ marker: '{"p":0.5}', confirmationRunning: true }), running('{"p":0.5}'), policy))
      .toMatchObject({ type: "note_progress" });
  });

  it("fails a job as stalled when the backend claims it runs without movement and both witnesses are silent past the hard timeout", () => {
    const action = decide(
      makeJob({ silentMs: 600_001, writerSilentMs: 720_000, progressSilentMs: 660_000, marker: '{"p":0.5}' }),
      running('{"p":0.5}'),
      policy,
    );
    expect(action).toEqual({
      type: "fail_stalled",
      newStatus: "failed",
      completedAt: null,
      marker: null,
      thresholdMs: 600_000,
      reason: "stalled: backend says running, no progress for 11 min, writer silent 12 min",
    });
  });

  it("fails a bare claim (no progress fields at all) once silent past the hard timeout", () => {
    expect(decide(makeJob({ silentMs: 600_001, writerSilentMs: 600_001 }), running(null), policy))
      .toMatchObject({
        type: "fail_stalled",
        reason: "stalled: backend says running, no progress ever seen, writer silent 10 min",
      });
  });

  it("adopts the backend's active status without counting the claim as life (queued row, running job)", () => {
    expect(decide(makeJob({ status: "queued" }), running(null), policy))
      .toEqual({
        type: "note_progress",
        newStatus: "running",
        reason: "backend reports running",
        marker: null,
        ...noWrite,
      });
  });

  it("gives an adopted status its reason and a plain confirmation none: the apply writes what decide says", () => {
    expect(decide(makeJob({ status: "queued", marker: '{"p":0.1}' }), running('{"p":0.2}'), policy))
      .toMatchObject({ type: "confirm_alive", newStatus: "running", reason: "backend reports running" });
    expect(decide(makeJob({ marker: '{"p":0.1}' }), running('{"p":0.2}'), policy)).toMatchObject({ reason: null });
  });

  it("counts a job waiting in the backend's queue as alive: nothing moves while a job waits", () => {
    expect(decide(makeJob({ status: "queued", silentMs: 3_600_000 }), running(null, "queued"), policy))
      .toEqual({ type: "confirm_alive", newStatus: "queued", reason: null, marker: null, ...noWrite });
  });
});

describe("decide: a job the previous pass saw moving is vouched for until the next pass is due", () => {
  const vouched = makeJob({
    silentMs: 605_000,
    writerSilentMs: 1_800_000,
    marker: '{"p":0.5}',
    confirmationRunning: true,
  });

  it("one unusable answer at the next pass fails nothing (its silence is one interval by design)", () => {
    expect(decide(vouched, { kind: "unreachable", detail: "HTTP 502" }, policy))
      .toEqual({ type: "leave", why: "vouched for by the previous pass" });
  });

  it("one 404 at the next pass fails nothing either", () => {
    expect(decide(vouched, { kind: "unknown", via: "status-404" }, policy)).toMatchObject({ type: "leave" });
  });

  it("no movement withdraws the confirmation instead of failing at once; the pass after decides", () => {
    expect(decide(vouched, running('{"p":0.5}'), policy)).toMatchObject({ type: "note_progress" });
    expect(decide({ ...vouched, confirmationRunning: false }, running('{"p":0.5}'), policy)).toMatchObject({
      type: "fail_stalled",
    });
  });

  it("once the confirmation has run out, an unreachable backend fails the silent job", () => {
    expect(decide({ ...vouched, confirmationRunning: false }, { kind: "unreachable", detail: "HTTP 502" }, policy))
      .toMatchObject({ type: "fail_heartbeat_lost" });
  });
});

describe("decide: answers the backend gives for sure", () => {
  it("writes a terminal status the backend reports, with its error text and time", () => {
    expect(
      decide(makeJob(), {
        kind: "terminal",
        status: "failed",
        error: "CUDA out of memory",
        finishedAt: "2026-11-29T11:00:00Z",
      }, policy),
    )
      .toEqual({
        type: "record_backend_terminal",
        newStatus: "failed",
        reason: "CUDA out of memory",
        completedAt: "2026-11-29T11:00:00Z",
        marker: null,
        thresholdMs: null,
      });
  });

  it("says which terminal status the backend reported when it gave no error text", () => {
    expect(decide(makeJob(), { kind: "terminal", status: "completed", error: null, finishedAt: null }, policy))
      .toMatchObject({ reason: "backend reports completed", completedAt: null });
  });

  it("leaves a job unknown to the backend while it is within the grace period (must not be touched)", () => {
    expect(decide(makeJob({ silentMs: 120_000 }), { kind: "unknown", via: "status-404" }, policy))
      .toEqual({ type: "leave", why: "within grace period" });
  });

  it("fails a job unknown to the backend past the grace period, saying it forgot it and the progress last seen", () => {
    expect(
      decide(
        makeJob({ silentMs: 180_000, marker: '{"p":0.98,"s":980}' }),
        { kind: "unknown", via: "absent-from-list" },
        policy,
      ),
    )
      .toEqual({
        type: "fail_lost",
        newStatus: "failed",
        completedAt: null,
        marker: null,
        thresholdMs: 120_000,
        reason: "lost: backend has no record (it forgot the job; last progress seen 98%, silent 3 min)",
      });
  });

  it("concludes nothing from an unreachable backend within the hard timeout (must not be touched)", () => {
    expect(decide(makeJob({ silentMs: 600_000 }), { kind: "unreachable", detail: "timed out" }, policy))
      .toEqual({ type: "leave", why: "backend unreachable, within hard timeout" });
  });

  it("fails a job silent past the hard timeout even when the backend cannot be asked", () => {
    expect(decide(makeJob({ silentMs: 600_001 }), { kind: "unreachable", detail: "HTTP 502" }, policy))
      .toEqual({
        type: "fail_heartbeat_lost",
        newStatus: "failed",
        reason: REASON_HEARTBEAT_LOST,
        completedAt: null,
        marker: null,
        thresholdMs: 600_000,
      });
  });
});

describe("decide: a presumed death the backend contradicts", () => {
  const presumed = makeJob({ status: "failed", presumedDead: true, marker: '{"p":0.5}', silentMs: 700_000 });

  it("revives a job whose progress moves again", () => {
    expect(decide(presumed, running('{"p":0.6}'), policy)).toMatchObject({ type: "revive", newStatus: "running" });
  });

  it("records a completion the backend reports, as a revival", () => {
    expect(decide(presumed, { kind: "terminal", status: "completed", error: null, finishedAt: null }, policy))
      .toMatchObject({
        type: "record_backend_terminal",
        newStatus: "completed",
        reason: "revived: backend reports completed after a presumed death",
      });
  });

  it("leaves it when the backend only claims it runs, or does not know it", () => {
    expect(decide(presumed, running('{"p":0.5}'), policy)).toMatchObject({ type: "leave" });
    expect(decide(presumed, { kind: "unknown", via: "status-404" }, policy)).toMatchObject({ type: "leave" });
  });
});
