import { describe, expect, it } from "vitest";
import {
  type Action,
  describeHolds,
  GuardTally,
  holdSudden,
  type LeaveReason,
} from "../../functions/_shared/reconcile/mod.ts";

const HARD = 600_000;
const write = { completedAt: null, marker: null, thresholdMs: null };
const lost: Action = {
  type: "fail_lost",
  newStatus: "failed",
  reason: "lost: backend has no record",
  ...write,
  thresholdMs: 1,
};
const alive: Action = { type: "confirm_alive", newStatus: "running", reason: null, ...write };
const done: Action = {
  type: "record_backend_terminal",
  newStatus: "completed",
  reason: "backend reports completed",
  ...write,
};
const policy = { share: 0.5, minJobs: 5, hardTimeoutMs: HARD };
/** Decisions on one backend, each job heard from `silentMs` ago. */
const on = (backendUrl: string, silentMs: number, ...actions: Action[]) =>
  actions.map((action) => ({ action, backendUrl, job: { silentMs, presumedDead: false } }));
type Guarded = ReturnType<typeof on>;

/** The guard as the pass runs it: every decision counted, then the held backends' sudden deaths left. */
function applyMassOutageGuard(decisions: Guarded, p: typeof policy) {
  const tally = new GuardTally(p);
  for (const d of decisions) tally.count(d);
  const holds = tally.holds();
  const held = new Map(holds.map((h): [string, LeaveReason] => [h.backendUrl, "held by mass-outage guard"]));
  return {
    held: holds.length > 0,
    presumedDeaths: tally.presumedDeaths,
    holds,
    decisions: holdSudden(decisions, held, p.hardTimeoutMs),
  };
}

describe("mass-outage guard: it weighs sudden deaths only", () => {
  it("holds when more than half of a backend's recently-alive jobs, and at least five, would be presumed dead", () => {
    const result = applyMassOutageGuard(on("a", 150_000, lost, lost, lost, lost, lost, alive), policy);
    expect(result.held).toBe(true);
    expect(result.decisions.map((d) => d.action.type)).toEqual([
      "leave",
      "leave",
      "leave",
      "leave",
      "leave",
      "confirm_alive",
    ]);
    expect(describeHolds(result.holds, HARD)).toContain("5 of 6 recently-alive jobs on a");
  });

  it("lets exactly half through (must not hold)", () => {
    const result = applyMassOutageGuard(
      on("a", 1_000, lost, lost, lost, lost, lost, alive, alive, alive, alive, alive),
      policy,
    );
    expect(result.held).toBe(false);
    expect(result.presumedDeaths).toBe(5);
  });

  it("lets four deaths through even when they are every active job (below the minimum)", () => {
    expect(applyMassOutageGuard(on("a", 1_000, lost, lost, lost, lost), policy).held).toBe(false);
  });

  it("never protects ghosts silent past the hard timeout: the first deploy onto days-old ghosts converges at once", () => {
    const ghosts = on("a", 3 * 86_400_000, lost, lost, lost, lost, lost, lost);
    const live = on("a", 1_000, alive, alive);
    const result = applyMassOutageGuard([...ghosts, ...live], policy);
    expect(result.held).toBe(false);
    expect(result.decisions.filter((d) => d.action.type === "fail_lost")).toHaveLength(6);
  });

  it("releases a hold once the held jobs are silent past the hard timeout", () => {
    expect(applyMassOutageGuard(on("a", HARD, lost, lost, lost, lost, lost), policy).held).toBe(true); // just inside
    expect(applyMassOutageGuard(on("a", HARD + 1, lost, lost, lost, lost, lost), policy).held).toBe(false);
  });

  it("is per backend: one backend's outage holds its own jobs, never another's", () => {
    const result = applyMassOutageGuard(
      [...on("a", 1_000, lost, lost, lost, lost, lost), ...on("b", 200_000, lost)],
      policy,
    );
    expect(result.holds.map((h) => h.backendUrl)).toEqual(["a"]);
    expect(result.decisions.map((d) => d.action.type)).toEqual([
      "leave",
      "leave",
      "leave",
      "leave",
      "leave",
      "fail_lost",
    ]);
  });

  it("never holds what the backend itself reported", () => {
    const result = applyMassOutageGuard(on("a", 1_000, done, done, done, done, done, done), policy);
    expect(result.held).toBe(false);
    expect(result.decisions.every((d) => d.action.type === "record_backend_terminal")).toBe(true);
  });
});
