import { describe, expect, it } from "vitest";
import {
  decide,
  isStoredMarker,
  markerProgress,
  OBSERVED_ROW_FIELDS,
  readObservedRow,
} from "../../functions/_shared/reconcile/mod.ts";

const ID = "00000000-0000-4000-8000-000000000001";
/** A row as observe_reconcile_page() sends it, built from the one field list. */
const row = (over: Partial<Record<(typeof OBSERVED_ROW_FIELDS)[number], unknown>> = {}) => {
  const values: Record<string, unknown> = {
    id: ID,
    status: "running",
    backendUrl: null,
    observedUpdatedAt: "2026-12-05 12:00:00+00",
    silentMs: 1000,
    writerSilentMs: 1000,
    progressSilentMs: null,
    marker: '{"p":0.5}',
    confirmationRunning: false,
    cancelPending: false,
    progress: null,
    presumedDead: false,
    ...over,
  };
  return OBSERVED_ROW_FIELDS.map((f) => values[f]);
};
const policy = { graceMs: 120_000, hardTimeoutMs: 600_000 };

describe("a stored row is input: an unusable value reads as absent", () => {
  it("reads a well-formed row as it is", () => {
    const read = readObservedRow(row());
    expect(read).toMatchObject({ ok: true, job: { id: ID, marker: '{"p":0.5}', silentMs: 1000 } });
  });

  it.each(["{not json", '{"p": "x"', "{".repeat(100_000), "[1]", "null", "#zz:1", ""])(
    "reads the marker %j as no marker",
    (marker) => {
      const read = readObservedRow(row({ marker }));
      expect(read.ok && read.job.marker).toBeNull();
    },
  );

  it("keeps the markers the pass itself writes: a short JSON object, or the hash of a long one", () => {
    expect(isStoredMarker('{"p":0.98,"s":12}')).toBe(true);
    expect(isStoredMarker("#811c9dc5:4096")).toBe(true);
  });

  it("reads a progress outside 0..1, or not a finite number, as none", () => {
    for (const progress of [2, -0.1, "NaN", "Infinity", "x", true, 1e308]) {
      const read = readObservedRow(row({ progress }));
      expect(read.ok && read.job.progress).toBeNull();
    }
    expect(markerProgress('{"p": 1e400}')).toBeNull();
    expect(markerProgress('{"p": 0.98}')).toBe(0.98);
  });

  it("reads a silence the database could not measure as unbounded, a writer's as unknown", () => {
    const read = readObservedRow(row({ silentMs: null, writerSilentMs: "x" }));
    expect(read.ok && [read.job.silentMs, read.job.writerSilentMs]).toEqual([Number.POSITIVE_INFINITY, null]);
  });

  it("rejects a row with no usable id, status or updated_at, and names the row when it can", () => {
    expect(readObservedRow(row({ id: "42" }))).toMatchObject({ ok: false, jobId: null });
    expect(readObservedRow(row({ status: "zombie" }))).toMatchObject({ ok: false, jobId: ID });
    expect(readObservedRow(row({ observedUpdatedAt: null }))).toMatchObject({ ok: false, jobId: ID });
    expect(readObservedRow([ID])).toMatchObject({ ok: false, error: expect.stringContaining("expected 12 fields") });
  });

  it("decides a lost job whose stored marker is not JSON (one such row used to fail every pass)", () => {
    const read = readObservedRow(row({ marker: "{not json", silentMs: 300_000 }));
    if (!read.ok) throw new Error(read.error);
    const action = decide(read.job, { kind: "unknown", via: "absent-from-list" }, policy);
    expect(action).toMatchObject({ type: "fail_lost", reason: expect.stringContaining("no progress seen") });
  });

  it("fails a job no witness was ever heard from once the backend has no record, and says so", () => {
    const read = readObservedRow(row({ silentMs: null, writerSilentMs: null }));
    if (!read.ok) throw new Error(read.error);
    const action = decide(read.job, { kind: "unknown", via: "status-404" }, policy);
    expect(action).toMatchObject({ type: "fail_lost", reason: expect.stringContaining("silent for an unknown time") });
  });
});
