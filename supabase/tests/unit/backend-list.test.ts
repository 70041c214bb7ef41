// How a backend session reads a list from backends that page it oddly or not at all. The backend
// is a fetch function that answers as such a backend would; no job it knows may ever read absent.
import { describe, expect, it } from "vitest";
import { type BackendSession, cursorBefore, openBackend } from "../../functions/_shared/reconcile/mod.ts";
import { listPageLimit } from "../../functions/_shared/reconcile/list-pages.ts";

const uuid = (n: number) => `${n.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`;
const ids = Array.from({ length: 3_000 }, (_, i) => uuid(i + 1));
const entry = (id: string) => ({ job_id: id, status: "running", progress: 0.5 });

type Answer = { status?: number; body: unknown };
/** `pageLimit`: the entries a paged list is asked for per request (the pass's listPageLimit(page_size)). */
function session(answer: (url: URL) => Answer, pageLimit = 2_000): { backend: BackendSession; asked: URL[] } {
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
    listPageLimit: pageLimit,
    signal: new AbortController().signal,
  });
  return { backend, asked };
}
/** A backend paging `list` by cursor: 1,000 entries when no limit is sent, else as many as asked; `failCursor` gets a 500. */
const paging = (list: string[], failCursor?: string) => (url: URL): Answer => {
  const cursor = url.searchParams.get("cursor") ?? "";
  if (cursor === failCursor) return { status: 500, body: { detail: "down" } };
  const page = list.filter((id) => id > cursor).slice(0, Number(url.searchParams.get("limit") ?? 1_000));
  return {
    body: { jobs: page.map(entry), next_cursor: page.length > 0 && page.at(-1) !== list.at(-1) ? page.at(-1) : null },
  };
};
const kinds = async (backend: BackendSession, jobIds: string[]) =>
  new Set([...(await backend.ask(jobIds)).answers.values()].map((a) => a.kind));

describe("entries asked per list page", () => {
  it("are the pass's page_size, from 1,000 to 2,000", () => {
    // Smaller pages of rows would make a list request per few rows; larger ones near max_list_bytes.
    expect([100, 999, 1_000, 1_500, 2_000, 2_001, 50_000].map(listPageLimit))
      .toEqual([1_000, 1_000, 1_000, 1_500, 2_000, 2_000, 2_000]);
  });
});

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

  it("from a paging backend: `limit` (the pass's page size) only after it answered with a next_cursor", async () => {
    const { backend, asked } = session(paging(ids), 1_500);
    expect(await kinds(backend, ids.slice(0, 2_000))).toEqual(new Set(["alive"]));
    expect(await kinds(backend, ids.slice(2_000))).toEqual(new Set(["alive"]));
    expect(asked[0]!.searchParams.has("limit")).toBe(false);
    expect(asked.slice(1).every((u) => u.searchParams.get("limit") === "1500")).toBe(true);
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

  const fleet = Array.from({ length: 6_000 }, (_, i) => uuid(i + 1));
  const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

  it("paged, while more pages of rows follow: the next list page is asked for before the pass needs it, once", async () => {
    const { backend, asked } = session(paging(fleet));
    const cursors = () => asked.map((u) => u.searchParams.get("cursor"));
    const alive = async (jobIds: string[], moreFollow: boolean) => {
      const report = await backend.ask(jobIds, { moreFollow });
      await settled();
      return new Set([...report.answers.values()].map((a) => a.kind));
    };
    expect(await alive(fleet.slice(0, 2_000), true)).toEqual(new Set(["alive"]));
    // The first two list pages answer these rows; the third is already on its way.
    expect(cursors()).toEqual([cursorBefore(fleet[0]!), fleet[999], fleet[2_999]]);
    expect(await alive(fleet.slice(2_000, 4_000), true)).toEqual(new Set(["alive"]));
    expect(await alive(fleet.slice(4_000), false)).toEqual(new Set(["alive"]));
    // Every list page asked for exactly once, and none after the last page of rows.
    expect(cursors()).toEqual([cursorBefore(fleet[0]!), fleet[999], fleet[2_999], fleet[4_999]]);
  });

  it("paged, on the last page of rows: no read-ahead", async () => {
    const { backend, asked } = session(paging(fleet));
    await backend.ask(fleet.slice(0, 2_000), { moreFollow: false });
    await settled();
    expect(asked.length).toBe(2);
  });

  it("paged, a read-ahead the backend fails: that backend's error when its page is needed, as without it", async () => {
    // It fails once only: an answer asked for again would succeed, so a second request would show.
    let failures = 0;
    const failOnce = paging(fleet, fleet[2_999]);
    const { backend, asked } = session((url) => {
      const answer = failOnce(url);
      if (answer.status === 500 && failures++ > 0) return paging(fleet)(url);
      return answer;
    });
    await backend.ask(fleet.slice(0, 2_000), { moreFollow: true });
    await settled();
    const report = await backend.ask(fleet.slice(2_000, 4_000), { moreFollow: true });
    expect(new Set([...report.answers.values()].map((a) => a.kind))).toEqual(new Set(["unreachable"]));
    expect(report.error).toMatch(/^list: HTTP 500/);
    expect(asked.filter((u) => u.searchParams.get("cursor") === fleet[2_999]).length).toBe(1);
  });

  it("with a next_cursor no URL can carry (a lone surrogate): that backend's error, not the pass's", async () => {
    const hostile = `${ids[0]!.slice(0, -1)}\ud800`;
    const { backend } = session(() => ({ body: { jobs: [entry(hostile)], next_cursor: hostile } }));
    const report = await backend.ask([ids[0]!, ids[5]!]);
    expect(new Set([...report.answers.values()].map((a) => a.kind))).toEqual(new Set(["unreachable"]));
    expect(report.error).toMatch(/^list: /);
  });
});
