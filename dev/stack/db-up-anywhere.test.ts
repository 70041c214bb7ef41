// db:up from a checkout in a mode-700 folder (a home directory, any `mktemp -d`), at a path with
// spaces, next to this checkout's own stack: its own cluster, where the cluster's OS user can
// reach it, and db:down removes it all.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, expect, it } from "vitest";
import { freePort } from "../lib/serve-function.ts";
import { copyCheckout } from "./checkout-copy.ts";

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const outer = mkdtempSync(join(tmpdir(), "truthful-anywhere-")); // mode 0700, as mktemp -d makes it
const checkout = join(outer, "a checkout with spaces");
let port = 0;

afterAll(async () => {
  // Whatever happened above, leave no cluster running and no folder behind.
  if (existsSync(join(checkout, ".local"))) {
    await run("bash", [join(checkout, "dev/stack/db-down.sh")], { env: { ...process.env, PG_PORT: String(port) } })
      .catch(() => undefined);
  }
  rmSync(outer, { recursive: true, force: true });
}, 60_000);

it("starts its own cluster from a mode-700 folder, says where the data lives, and db:down removes it", async () => {
  expect(statSync(outer).mode & 0o777).toBe(0o700);
  copyCheckout(checkout, "symlink");
  port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PG_PORT: String(port) };
  delete env.DATABASE_URL;

  const up = await run("bash", [join(checkout, "dev/stack/db-up.sh")], { env, cwd: checkout, timeout: 150_000 });
  expect(up.stdout.trim().split("\n").at(-1)).toBe(
    `DATABASE_URL=postgresql://postgres:postgres@127.0.0.1:${port}/postgres`,
  );
  expect(up.stderr).not.toMatch(/NOTICE|Permission denied/);
  const data = /^db:up: data in (.+) \(npm run db:down/m.exec(up.stderr)?.[1];
  expect(data, up.stderr).toBeDefined();
  expect(existsSync(join(data!, "PG_VERSION"))).toBe(true);
  if (isRoot) {
    // postgres cannot enter the checkout, so the cluster lives outside it, one per checkout path.
    expect(data!.startsWith(checkout)).toBe(false);
    expect(up.stderr).toContain("cannot enter");
  } else {
    expect(data!.startsWith(checkout)).toBe(true);
  }

  const client = new pg.Client({ connectionString: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres` });
  await client.connect();
  try {
    const { rows } = await client.query(
      "select count(*)::int as n from cron.job where jobname = 'reconcile-training-jobs'",
    );
    expect(rows[0].n).toBe(1); // the migrations ran
  } finally {
    await client.end();
  }

  const down = await run("bash", [join(checkout, "dev/stack/db-down.sh")], { env, timeout: 60_000 });
  expect(down.stderr).toContain(data!.replace(/\/pgdata$/, ""));
  expect(existsSync(data!)).toBe(false);
  expect(existsSync(join(checkout, ".local"))).toBe(false);
}, 200_000);
