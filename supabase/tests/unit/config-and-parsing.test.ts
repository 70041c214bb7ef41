import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  bearerMatches,
  canonicalJobId,
  loadCliEnv,
  loadFunctionConfig,
  parseJobEntry,
} from "../../functions/_shared/reconcile/mod.ts";
import { parseInterval, parseOverrides } from "../../../cli/reconcile.ts";

const env = {
  RECONCILE_SECRET: "s".repeat(32),
  BACKEND_URL: "http://127.0.0.1:8000/",
  SUPABASE_DB_URL: "postgresql://x@h/db",
};

describe("configuration", () => {
  it("keeps only what is secret or per host; BACKEND_URL is an optional fallback, without trailing slashes", () => {
    expect(loadFunctionConfig(env)).toEqual({
      ok: true,
      config: {
        secret: env.RECONCILE_SECRET,
        databaseUrl: env.SUPABASE_DB_URL,
        fallbackBackendUrl: "http://127.0.0.1:8000",
      },
    });
    expect(loadFunctionConfig({ ...env, BACKEND_URL: undefined })).toMatchObject({
      config: { fallbackBackendUrl: null },
    });
  });

  it.each([
    ["RECONCILE_SECRET", { RECONCILE_SECRET: undefined }, "configuration: RECONCILE_SECRET is not set"],
    ["a short secret", { RECONCILE_SECRET: "short" }, "configuration: RECONCILE_SECRET must be at least 16 characters"],
    ["a non-http BACKEND_URL", { BACKEND_URL: "ftp://x" }, "configuration: BACKEND_URL must be an http(s) URL"],
    ["SUPABASE_DB_URL", { SUPABASE_DB_URL: undefined }, "configuration: SUPABASE_DB_URL is not set"],
  ])("names the setting when %s is wrong, never its value", (_label, override, message) => {
    const loaded = loadFunctionConfig({ ...env, ...override });
    expect(loaded).toEqual({ ok: false, error: message });
    expect(message).not.toContain(env.RECONCILE_SECRET);
  });

  it("lets the CLI run without a secret or a backend", () => {
    expect(loadCliEnv({})).toEqual({ ok: true, config: { fallbackBackendUrl: null } });
  });

  it("reads the CLI's --set flags as overrides of the settings row", () => {
    expect(parseOverrides(["grace=30 seconds", "page_size=500"])).toEqual({ grace: "30 seconds", page_size: "500" });
    expect(parseOverrides(["grace"])).toBeNull();
    expect(parseOverrides(["Grace=1"])).toBeNull();
  });
});

describe("bearer secret", () => {
  it("accepts only the exact secret", () => {
    expect(bearerMatches(`Bearer ${env.RECONCILE_SECRET}`, env.RECONCILE_SECRET)).toBe(true);
    expect(bearerMatches(`Bearer ${env.RECONCILE_SECRET}x`, env.RECONCILE_SECRET)).toBe(false);
    expect(bearerMatches(env.RECONCILE_SECRET, env.RECONCILE_SECRET)).toBe(false);
    expect(bearerMatches(null, env.RECONCILE_SECRET)).toBe(false);
    expect(bearerMatches("Bearer ", "")).toBe(false);
  });
});

describe("parsing a backend's job entry", () => {
  it.each([
    [{ status: "running" }, { kind: "alive", status: "running", marker: null, progress: null }],
    [{ status: "running", progress: 0.5, current_step: 50, updated_at: "2026-11-29T10:00:00Z" }, {
      kind: "alive",
      status: "running",
      marker: '{"p":0.5,"s":50,"t":"2026-11-29T10:00:00Z"}',
      progress: 0.5,
    }],
    [{ status: "queued", progress: "half", step: 3 }, {
      kind: "alive",
      status: "queued",
      marker: '{"s":3}',
      progress: null,
    }],
    [{ status: "completed", completed_at: "2026-11-29T10:00:00Z" }, {
      kind: "terminal",
      status: "completed",
      error: null,
      finishedAt: "2026-11-29T10:00:00Z",
    }],
    [{ status: "failed", error: "OOM", completed_at: "not a date" }, {
      kind: "terminal",
      status: "failed",
      error: "OOM",
      finishedAt: null,
      note: 'completed_at ignored "not a date": not ISO 8601',
    }],
  ])("reads %j", (entry, expected) => expect(parseJobEntry(entry)).toEqual(expected));

  it("writes the marker rows already store: the JSON of {p, s, t} as they are present", () => {
    // Any code unit (NULs, lone surrogates) and texts long enough for the hashed form.
    const text = fc.string({ unit: "binary", maxLength: 300 });
    const value = fc.oneof(fc.double(), fc.integer(), text, fc.constant(null), fc.constant(undefined));
    fc.assert(
      fc.property(value, value, value, value, (progress, currentStep, step, updatedAt) => {
        const entry = { status: "running", progress, current_step: currentStep, step, updated_at: updatedAt };
        const stepValue = currentStep ?? step;
        const parts: Record<string, unknown> = {};
        if (typeof progress === "number" && Number.isFinite(progress)) parts.p = progress;
        if (typeof stepValue === "number" && Number.isFinite(stepValue)) parts.s = stepValue;
        if (typeof updatedAt === "string" && updatedAt) parts.t = updatedAt;
        const stored = Object.keys(parts).length === 0 ? null : JSON.stringify(parts);
        const seen = parseJobEntry(entry);
        expect(seen?.kind).toBe("alive");
        const marker = seen?.kind === "alive" ? seen.marker : undefined;
        if (stored === null || stored.length <= 200) expect(marker).toBe(stored);
        else expect(marker).toMatch(new RegExp(`^#[0-9a-f]{1,8}:${stored.length}$`));
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([[null], ["running"], [[]], [{ status: 42 }], [{ status: "RUNNING" }], [{ status: "stale" }], [{
    status: "failed",
    error: 7,
  }]])(
    "rejects %j as malformed",
    (entry) => expect(parseJobEntry(entry)).toBeNull(),
  );
});

describe("a job id as the database prints it", () => {
  const id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  it.each([
    [id, id],
    ["0F8FAD5B-D9CB-469F-A165-70867728950E", id],
    ["{0f8fad5b-d9cb-469f-a165-70867728950e}", id],
    ["urn:uuid:0f8fad5bd9cb469fa16570867728950e", id],
    ["job-42", "job-42"],
    [` ${id}`, ` ${id}`],
  ])("reads %j as %j", (raw, canonical) => expect(canonicalJobId(raw)).toBe(canonical));
});

describe("--every", () => {
  it("reads 30s, 10m and 1h, and rejects the rest", () => {
    expect([parseInterval("30s"), parseInterval("10m"), parseInterval("1h")]).toEqual([30_000, 600_000, 3_600_000]);
    expect([parseInterval("0m"), parseInterval("10"), parseInterval("ten minutes")]).toEqual([null, null, null]);
  });
});
