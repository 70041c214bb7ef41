// Each checkout owns its port as it owns its cluster. Checkout A's stack holds B's default port:
// B's first db:up with PG_PORT set to that port fails (after initdb, as a user's first try would),
// and says what to do; doing it works: without PG_PORT db:up picks a free port and remembers it,
// and a PG_PORT given later wins on every start. B's db:down leaves A running.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, expect, it } from "vitest";
import { freePort } from "../lib/serve-function.ts";
import { copyCheckout } from "./checkout-copy.ts";

const run = promisify(execFile);
const outer = mkdtempSync(join(tmpdir(), "truthful-ports-"));
const a = join(outer, "a");
const b = join(outer, "b");
let portA = 0;

type Result = { code: number; stdout: string; stderr: string };
async function stack(
  checkout: string,
  script: "db-up.sh" | "db-down.sh",
  env: Record<string, string>,
): Promise<Result> {
  const full: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete full.DATABASE_URL;
  if (!env.PG_PORT) delete full.PG_PORT;
  try {
    const r = await run("bash", [join(checkout, "dev/stack", script)], { env: full, cwd: checkout, timeout: 150_000 });
    return { code: 0, ...r };
  } catch (error) {
    const e = error as Result;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
const urlOf = (r: Result) => /DATABASE_URL=(\S+)$/.exec(r.stdout.trim())?.[1] ?? null;
async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

afterAll(async () => {
  await stack(b, "db-down.sh", {});
  await stack(a, "db-down.sh", { PG_PORT: String(portA) });
  rmSync(outer, { recursive: true, force: true });
}, 120_000);

it("a second checkout gets its own port, remembered, and following db:up's advice works", async () => {
  copyCheckout(a, "symlink");
  copyCheckout(b, "symlink");
  portA = await freePort();
  const upA = await stack(a, "db-up.sh", { PG_PORT: String(portA) });
  expect(upA.code, upA.stderr).toBe(0);
  const urlA = urlOf(upA)!;
  // B's default port is the one A holds.
  const defaults = { TRUTHFUL_JOBS_DEFAULT_PG_PORT: String(portA) };

  // The first try: PG_PORT names the taken port. It fails, and says what to do.
  const taken = await stack(b, "db-up.sh", { ...defaults, PG_PORT: String(portA) });
  expect(taken.code).not.toBe(0);
  expect(taken.stderr).toContain(`port ${portA} is already taken`);
  expect(taken.stderr).toContain("or without PG_PORT and db:up picks a free one");

  // Without PG_PORT: a free port, said and remembered; every later db:up uses it.
  const picked = await stack(b, "db-up.sh", defaults);
  expect(picked.code, picked.stderr).toBe(0);
  expect(picked.stderr).toMatch(new RegExp(`port ${portA} is taken .*this checkout uses port \\d+ from now on`));
  const urlB = urlOf(picked)!;
  expect(urlB).not.toBe(urlA);
  expect(await answers(urlB)).toBe(true);
  const portB = Number(new URL(urlB).port);
  expect(Number(readFileSync(join(b, ".local/port"), "utf8"))).toBe(portB);
  expect(urlOf(await stack(b, "db-up.sh", defaults))).toBe(urlB);

  // A PG_PORT given later wins: the cluster moves to it, and it is remembered in turn.
  const chosen = await freePort();
  const moved = await stack(b, "db-up.sh", { ...defaults, PG_PORT: String(chosen) });
  expect(moved.code, moved.stderr).toBe(0);
  expect(urlOf(moved)).toBe(`postgresql://postgres:postgres@127.0.0.1:${chosen}/postgres`);
  expect(await answers(urlOf(moved)!)).toBe(true);
  expect(await answers(urlB)).toBe(false);
  expect(urlOf(await stack(b, "db-up.sh", defaults))).toBe(urlOf(moved));

  // B's db:down stops B's cluster only.
  expect((await stack(b, "db-down.sh", defaults)).code).toBe(0);
  expect(await answers(urlOf(moved)!)).toBe(false);
  expect(await answers(urlA)).toBe(true);
}, 600_000);
