import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Journal } from "../src/journal.ts";
import type { Report } from "../src/report.ts";

const path = () => join(mkdtempSync(join(tmpdir(), "journal-")), "journal.jsonl");
const r = (seq: number, status: Report["status"] = "running", jobId = "job-a"): Report => ({
  jobId,
  attempt: 1,
  seq,
  status,
  progress: null,
  error: null,
  at: "2026-11-29T12:00:00Z",
});
const quiet = { maxEntries: 100, onWarning: () => undefined };

describe("journal", () => {
  it("keeps only the newest heartbeat of a job's attempt, and every terminal report", async () => {
    const j = await Journal.open(path(), quiet);
    await j.append([r(1), r(2), r(3, "completed"), r(4)]);
    expect(j.pending().map((e) => e.seq)).toEqual([3, 4]);
  });

  it("keeps heartbeats of different jobs apart", async () => {
    const j = await Journal.open(path(), quiet);
    await j.append([r(1, "running", "a"), r(2, "running", "b"), r(3, "running", "a")]);
    expect(j.pending().map((e) => `${e.jobId}${e.seq}`)).toEqual(["b2", "a3"]);
  });

  it("survives a restart, and ignores a line torn by a crash", async () => {
    const file = path();
    const j = await Journal.open(file, quiet);
    await j.append([r(1), r(2, "failed")]);
    appendFileSync(file, '{"jobId":"job-a","attem');
    const reopened = await Journal.open(file, quiet);
    expect(reopened.pending().map((e) => [e.seq, e.status])).toEqual([[1, "running"], [2, "failed"]]);
    expect(readFileSync(file, "utf8")).not.toContain("attem\n");
  });

  it("warns once at its bound and drops the oldest heartbeats, never a terminal report", async () => {
    const warnings: string[] = [];
    const j = await Journal.open(path(), { maxEntries: 3, onWarning: (m) => warnings.push(m) });
    await j.append([
      r(1, "completed", "a"),
      r(2, "running", "b"),
      r(3, "running", "c"),
      r(4, "running", "d"),
      r(5, "failed", "e"),
    ]);
    expect(j.pending().map((e) => e.jobId)).toEqual(["a", "d", "e"]);
    await j.append([r(6, "running", "f")]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/reached its bound of 3 reports/);
  });

  it("removes delivered reports from the file", async () => {
    const file = path();
    const j = await Journal.open(file, quiet);
    await j.append([r(1, "completed", "a"), r(2, "completed", "b")]);
    await j.remove(new Set([1]));
    expect((await Journal.open(file, quiet)).pending().map((e) => e.seq)).toEqual([2]);
  });
});
