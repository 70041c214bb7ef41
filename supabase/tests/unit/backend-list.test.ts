// How a backend session reads a list from backends that page it oddly or not at all. The backend
// is a fetch function that answers as such a backend would; no job it knows may ever read absent.
import { describe, expect, it } from "vitest";
import { type BackendSession, openBackend } from "../../functions/_shared/reconcile/mod.ts";

const uuid = (n: number) => `${n.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;
const ids = Array.from({ length: 3_000 }, (_, i) => uuid(i + 1));
const entry = (id: string) => ({ job_id: id, status: "running", progress: 0.5 });

type Answer = { status?: number; body: unknown };
function session(answer: (url: URL) => Answer): { backend: BackendSession; asked: URL[] } {
  const asked: URL[] = [];
  const fetch = (async (input: string) => {
    const url = new URL(input);
    asked.push(url);
    const { status = 200, body } = answer(url);
    return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  }) as unknown as typeof globalThis.fetch;
  const backend = openBackend("http://127.0.0.1:9", {
    fetch,
    requestTimeoutMs: 5_000,
    concurrency: 4,
    maxStatusBytes: 1e6,
    maxListBytes: 8e6,
    signal: new AbortController().signal,
  });
  return { backend, asked };
}
const kinds = async (backend: BackendSession, jobIds: string[]) =>
  new Set([...(await backend.ask(jobIds)).answers.values()].map((a) => a.kind));

describe("a backend's list", () => {
  it("from a backend with a `limit` of its own but no cursor paging: read whole, never truncated", async () => {
    const { backend, asked } = session((url) => {
      const limit = Number(url.searchParams.get("limit") ?? Infinity);
      return { body: { jobs: ids.slice(0, limit).map(entry) } };
    });
    expect(await kinds(backend, ids.slice(0, 2_000))).toEqual(new Set(["alive"]));
    expect(await kinds(backend, ids.slice(2_000))).toEqual(new Set(["alive"]));
    expect(asked.map((u) => u.searchParams.has("limit"))).toEqual([false]);
  });

  it("from a paging backend: `limit` only after it answered with a next_cursor", async () => {
    const { backend, asked } = session((url) => {
      const cursor = url.searchParams.get("cursor") ?? "";
      const page = ids.filter((id) => id > cursor).slice(0, Number(url.searchParams.get("limit") ?? 1_000));
      return {
        body: {
          jobs: page.map(entry),
          next_cursor: page.length > 0 && page.at(-1) !== ids.at(-1) ? page.at(-1) : null,
        },
      };
    });
    expect(await kinds(backend, ids.slice(0, 2_000))).toEqual(new Set(["alive"]));
    expect(await kinds(backend, ids.slice(2_000))).toEqual(new Set(["alive"]));
    expect(asked[0]!.searchParams.has("limit")).toBe(false);
    expect(asked.slice(1).every((u) => u.searchParams.get("limit") === "2000")).toBe(true);
  });

  it("from a backend that refuses unknown parameters: asked again without them, read whole", async () => {
    const { backend } = session((url) =>
      url.search ? { status: 422, body: { detail: "unknown query parameter" } } : { body: { jobs: ids.map(entry) } }
    );
    expect(await kinds(backend, ids.slice(0, 3))).toEqual(new Set(["alive"]));
  });

  it("with UUIDs in another spelling: matched as the database prints them when read whole", async () => {
    const { backend } = session(() => ({ body: { jobs: ids.map((id) => entry(`{${id.toUpperCase()}}`)) } }));
    expect(await kinds(backend, ids.slice(0, 3))).toEqual(new Set(["alive"]));
  });

  it("paged with UUIDs in another spelling: that backend's error, never an absence", async () => {
    const { backend } = session((url) => {
      const page = ids.slice(0, 2).map((id) => id.toUpperCase());
      return { body: { jobs: url.searchParams.has("cursor") ? page.map(entry) : [], next_cursor: page.at(-1) } };
    });
    expect(await kinds(backend, ids.slice(0, 3))).toEqual(new Set(["unreachable"]));
  });

  it("with a next_cursor no URL can carry (a lone surrogate): that backend's error, not the pass's", async () => {
    const hostile = `${ids[0]!.slice(0, -1)}\ud800`;
    const { backend } = session(() => ({ body: { jobs: [entry(hostile)], next_cursor: hostile } }));
    const report = await backend.ask([ids[0]!, ids[5]!]);
    expect(new Set([...report.answers.values()].map((a) => a.kind))).toEqual(new Set(["unreachable"]));
    expect(report.error).toMatch(/^list: /);
  });
});
