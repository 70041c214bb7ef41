import { describe, expect, it } from "vitest";
import {
  addChange,
  type BackendAnswer,
  decide,
  emptyChangeColumns,
  type ObservedJob,
} from "../../functions/_shared/reconcile/mod.ts";

const policy = { graceMs: 120_000, hardTimeoutMs: 600_000 };
const job = (over: Partial<ObservedJob> = {}): ObservedJob => ({
  id: "00000000-0000-0000-0000-000000000001",
  status: "running",
  backendUrl: null,
  observedUpdatedAt: "2026-11-29 12:00:00+00",
  silentMs: 180_000,
  writerSilentMs: 180_000,
  progressSilentMs: null,
  marker: '{"p":0.5}',
  confirmationRunning: false,
  cancelPending: false,
  progress: null,
  presumedDead: false,
  ...over,
});
const columnsFor = (j: ObservedJob, answer: BackendAnswer) => {
  const c = emptyChangeColumns();
  addChange(c, { job: j, backendUrl: "http://127.0.0.1:8000", answer, action: decide(j, answer, policy) });
  return c;
};

describe("addChange: the apply writes what decide said, nothing else", () => {
  it("a presumed death: its status, reason and evidence with the threshold it was judged by", () => {
    const c = columnsFor(job(), { kind: "unknown", via: "status-404" });
    expect(c).toMatchObject({ actions: ["fail_lost"], newStatus: ["failed"], completedAt: [null], markers: [null] });
    expect(c.reasons[0]).toMatch(/^lost: backend has no record/);
    expect(c.evidence[0]).toMatchObject({
      rule: "fail_lost",
      backend_url: "http://127.0.0.1:8000",
      observed_status: "running",
      silent_for_s: 180,
      threshold_s: 120,
    });
  });

  it("a plain confirmation: no reason and no evidence, only the marker", () => {
    const c = columnsFor(job(), { kind: "alive", status: "running", marker: '{"p":0.6}', progress: 0.6 });
    expect(c).toMatchObject({ actions: ["confirm_alive"], reasons: [null], evidence: [null], markers: ['{"p":0.6}'] });
  });

  it("an adopted status: the reason decide gave, with evidence", () => {
    const c = columnsFor(job({ status: "queued" }), {
      kind: "alive",
      status: "running",
      marker: '{"p":0.6}',
      progress: 0.6,
    });
    expect(c.reasons).toEqual(["backend reports running"]);
    expect(c.evidence[0]).toMatchObject({ rule: "confirm_alive", threshold_s: null });
  });

  it("leave: nothing", () => {
    const c = columnsFor(job({ silentMs: 1_000 }), { kind: "unknown", via: "status-404" });
    expect(c.jobIds).toEqual([]);
  });
});
