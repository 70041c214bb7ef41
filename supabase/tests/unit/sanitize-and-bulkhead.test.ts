import { describe, expect, it } from "vitest";
import {
  applyWithBulkhead,
  bearerMatches,
  checkBackendUrl,
  normalizeBackendUrl,
  storableDeep,
  storableText,
  strictTimestamp,
  withoutCredentials,
} from "../../functions/_shared/reconcile/mod.ts";

describe("storableText", () => {
  it("removes NULs and replaces lone surrogates", () => {
    expect(storableText("a\u0000b\uD800c\uDC00", 100)).toBe("ab\uFFFDc\uFFFD");
  });
  it("cuts by code point, never inside a pair, and says it cut", () => {
    const cut = storableText(`${"x".repeat(499)}😀 tail`, 500);
    expect(cut).toBe(`${"x".repeat(499)}…`);
    expect(storableText("😀😀😀", 2)).toBe("😀…");
    expect(storableText("😀😀", 2)).toBe("😀😀");
  });
  it("reads only the head of a huge string", () => {
    expect(storableText("y".repeat(10_000_000), 3)).toBe("yy…");
  });
  it("cleans keys and values deep inside, and returns the same object when nothing changed", () => {
    const clean = { a: ["ok", { b: 1 }] };
    expect(storableDeep(clean, 10)).toBe(clean);
    expect(storableDeep({ ["k\u0000"]: ["\uDBFF"] }, 10)).toEqual({ k: ["\uFFFD"] });
    expect(storableDeep({ ok: 1, ["k\u0000"]: "v" }, 10)).toEqual({ ok: 1, k: "v" }); // only a key dirty
  });
});

describe("strictTimestamp", () => {
  it.each(["2026-11-29T10:00:00Z", "2026-11-29T10:00:00.123456", "2024-02-29", "2026-11-29 10:00:00+05:30"])(
    "keeps %s",
    (raw) => expect(strictTimestamp(raw)).toEqual({ value: raw, note: null }),
  );
  it.each([
    ["June 2024", "not ISO 8601"],
    ["2024-02-30", "no such day"],
    ["2023-02-29", "no such day"],
    ["1969-12-31", "year outside 2000-2100"],
    ["2026-13-01", "no such month"],
    ["2026-01-01T24:00:00Z", "no such time of day"],
    ["2026-01-01T10:00:00+16:00", "no such time zone offset"],
    ["1e10", "not ISO 8601"],
    ["", "not ISO 8601"],
  ])(
    "refuses %s: %s",
    (raw, why) => expect(strictTimestamp(raw)).toEqual({ value: null, note: `ignored ${JSON.stringify(raw)}: ${why}` }),
  );
});

describe("checkBackendUrl", () => {
  it.each(["http://127.0.0.1:8000", "https://gpu.example.com/training"])(
    "accepts %s",
    (url) => expect(checkBackendUrl(url)).toEqual({ ok: true }),
  );
  it.each([
    ["data:,x", "backend_url must be http or https, not data:"],
    ["file:///etc/passwd", "backend_url must be http or https, not file:"],
    ["http://a:b@h", "backend_url must not carry credentials"],
    ["not a url", "backend_url is not a valid URL"],
    ["http://h/?x=1", "backend_url must not have a query or fragment"],
  ])("refuses %s", (url, reason) => expect(checkBackendUrl(url)).toEqual({ ok: false, reason }));
});

describe("applyWithBulkhead", () => {
  const dataError = Object.assign(new Error("bad row"), { code: "22007" });
  // Stands in for the database: refuses any part holding a row marked "bad".
  const apply = async (part: { ids: string[]; extra: number[]; label: string }) => {
    if (part.ids.includes("bad")) throw dataError;
    return part;
  };
  const policy = { isDataError: (e: unknown) => (e as { code?: string }).code === "22007", maxCalls: 100 };

  it("splits every array property by index, applies the rest, and rejects only the bad rows", async () => {
    const columns = { ids: ["a", "bad", "c", "d", "bad", "f"], extra: [1, 2, 3, 4, 5, 6], label: "not an array" };
    const outcome = await applyWithBulkhead(columns, apply, policy);
    expect(outcome.results.flatMap((r) => r.ids)).toEqual(["a", "c", "d", "f"]);
    expect(outcome.results.flatMap((r) => r.extra)).toEqual([1, 3, 4, 6]);
    expect(outcome.results.every((r) => r.label === "not an array")).toBe(true);
    expect(outcome.rejected.map((r) => [r.row.ids, r.row.extra])).toEqual([[["bad"], [2]], [["bad"], [5]]]);
  });

  it("passes on errors that are not about the data", async () => {
    const down = Object.assign(new Error("connection terminated"), { code: "08006" });
    await expect(applyWithBulkhead({ ids: ["a"] }, () => Promise.reject(down), policy)).rejects.toBe(down);
  });

  it("stops splitting past its call budget and rejects what is left", async () => {
    const columns = { ids: Array.from({ length: 64 }, () => "bad"), extra: [], label: "" };
    const outcome = await applyWithBulkhead(columns, apply, { ...policy, maxCalls: 5 });
    // Past the budget, each pending half is still tried once: at most log2(rows) more calls.
    expect(outcome.calls).toBeLessThanOrEqual(5 + 6);
    expect(outcome.rejected).toHaveLength(64);
  });
});

describe("bearer scheme", () => {
  it("is case-insensitive", () => {
    expect(bearerMatches("bearer s3cret-of-sixteen!", "s3cret-of-sixteen!")).toBe(true);
    expect(bearerMatches("BEARER s3cret-of-sixteen!", "s3cret-of-sixteen!")).toBe(true);
  });
});

describe("backend URLs in records and in the guard", () => {
  it("spells one backend one way, whatever the row wrote", () => {
    expect(
      ["http://TRAINER.example:80/", "http://trainer.example", "http://trainer.example//"].map(normalizeBackendUrl),
    )
      .toEqual(["http://trainer.example", "http://trainer.example", "http://trainer.example"]);
    expect(normalizeBackendUrl("http://u:p@h/")).toBe("http://u:p@h/"); // left for the check to refuse
  });
  it("never shows a password", () => {
    expect(withoutCredentials("http://user:secret@127.0.0.1:1/x")).toBe("http://***@127.0.0.1:1/x");
    expect(withoutCredentials("http://127.0.0.1:1")).toBe("http://127.0.0.1:1");
  });
});
