import { describe, expect, it } from "vitest";
import type { Action } from "../../functions/_shared/reconcile/decide.ts";
import { applyMassOutageGuard } from "../../functions/_shared/reconcile/guard.ts";

const lost: Action = { type: "fail_lost", newStatus: "failed", reason: "lost: backend has no record", thresholdMs: 1 };
const alive: Action = { type: "confirm_alive", newStatus: "running" };
const done: Action = { type: "record_backend_terminal", newStatus: "completed", reason: "backend reports completed", completedAt: null };
const decisions = (...actions: Action[]) => actions.map((action, i) => ({ id: i, action }));
const policy = { share: 0.5, minJobs: 5 };

describe("mass-outage guard", () => {
  it("holds when more than half the active jobs, and at least five, would be presumed dead", () => {
    const result = applyMassOutageGuard(decisions(lost, lost, lost, lost, lost, alive), 6, policy);
    expect(result.held).toBe(true);
    expect(result.decisions.map((d) => d.action.type)).toEqual(["leave", "leave", "leave", "leave", "leave", "confirm_alive"]);
  });

  it("lets exactly half through (must not hold)", () => {
    const result = applyMassOutageGuard(decisions(lost, lost, lost, lost, lost, alive, alive, alive, alive, alive), 10, policy);
    expect(result.held).toBe(false);
    expect(result.presumedDeaths).toBe(5);
  });

  it("lets four deaths through even when they are every active job (below the minimum)", () => {
    expect(applyMassOutageGuard(decisions(lost, lost, lost, lost), 4, policy).held).toBe(false);
  });

  it("never holds what the backend itself reported", () => {
    const result = applyMassOutageGuard(decisions(done, done, done, done, done, done), 6, policy);
    expect(result.held).toBe(false);
    expect(result.decisions.every((d) => d.action.type === "record_backend_terminal")).toBe(true);
  });
});
