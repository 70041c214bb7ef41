// The paging rules of a backend's list (`?cursor=`), pure: entries after the cursor in job-id order,
// and a cursor that moves forward. Each rule broken is named; a correct page passes.
import { describe, expect, it } from "vitest";
import { cursorBefore, type ListEntry, pageOrderError } from "../../functions/_shared/reconcile/mod.ts";

const alive = { kind: "alive", status: "running", marker: null, progress: null } as const;
const entries = (...ids: string[]): ListEntry[] => ids.map((id) => [id, alive]);

describe("list paging rules", () => {
  it("accept ascending entries after the cursor, and a next_cursor at the last one (or null at the end)", () => {
    expect(pageOrderError("a", entries("b", "c"), "c")).toBeNull();
    expect(pageOrderError("a", entries("b", "c"), null)).toBeNull();
    expect(pageOrderError("a", [], null)).toBeNull(); // an empty list
  });

  it("refuse a page that repeats the cursor's job, or is out of order", () => {
    expect(pageOrderError("b", entries("b", "c"), "c")).toContain("repeated");
    expect(pageOrderError("a", entries("c", "b"), "c")).toContain("not ordered");
  });

  it("refuse a cursor that does not move forward, or is not the page's last job (behind it, or skipping ahead)", () => {
    expect(pageOrderError("c", [], "c")).toContain("a loop");
    expect(pageOrderError("c", [], "b")).toContain("a loop");
    expect(pageOrderError("a", [], "b")).toContain("empty page");
    expect(pageOrderError("a", entries("b", "d"), "c")).toContain("not the page's last");
    expect(pageOrderError("a", entries("b", "d"), "e")).toContain("not the page's last");
  });

  it("start just before a job id", () => {
    const id = "0f1e2d3c-0000-4000-8000-000000000000";
    expect(cursorBefore(id) < id).toBe(true);
  });
});
