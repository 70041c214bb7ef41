// db:up as a normal user (not root) with the packages installed: the cluster runs as that user,
// from its mode-700 home, with no runuser; with packages missing it stops with one apt-get line.
// It needs a throwaway OS user, which only root can make: skipped otherwise.
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../lib/serve-function.ts";
import { copyCheckout } from "./checkout-copy.ts";

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const user = `tjs${process.pid}`;
let outer = "";
let home = "";
let checkout = "";
let port = 0;

function asUser(script: string, env: Record<string, string>) {
  return run("runuser", [
    "-u",
    user,
    "--",
    "env",
    `HOME=${home}`,
    `PATH=${process.env.PATH}`,
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    "bash",
    join(checkout, "dev/stack", script),
  ], { cwd: checkout, timeout: 150_000 });
}

const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);

describe.skipIf(!isRoot)("db:up as a normal user (skipped unless root: making a throwaway OS user needs root)", () => {
  beforeAll(async () => {
    outer = mkdtempSync(join(tmpdir(), "truthful-user-"));
    chmodSync(outer, 0o755);
    home = join(outer, user);
    execFileSync("useradd", ["--create-home", "--home-dir", home, "--shell", "/bin/bash", user]);
    chmodSync(home, 0o700);
    checkout = join(home, "truthful");
    copyCheckout(checkout, "hardlink");
    // The user owns its checkout; node_modules stays shared read-only (hard links).
    execFileSync("bash", [
      "-c",
      `find "$1" -path "$1/node_modules" -prune -o -exec chown ${user}: {} +`,
      "_",
      checkout,
    ]);
    execFileSync("chown", [`${user}:`, checkout]);
    port = await freePort();
  }, 120_000);

  afterAll(async () => {
    if (!home) return;
    // Stop what the user's db:up started, by process id, then remove the user and its files.
    await asUser("db-down.sh", { PG_PORT: String(port) }).catch(() => undefined);
    for (
      const pidfile of [
        join(checkout, ".local/cluster/pgdata/postmaster.pid"),
        join(checkout, ".local/pg-net-worker.pid"),
      ]
    ) {
      if (existsSync(pidfile)) {
        try {
          process.kill(Number(readFileSync(pidfile, "utf8").split("\n")[0]), "SIGKILL");
        } catch { /* gone */ }
      }
    }
    execFileSync("userdel", ["--remove", user], { stdio: "ignore" });
    rmSync(outer, { recursive: true, force: true });
  }, 60_000);

  it("with packages missing, stops with the one apt-get line to run", async () => {
    const r = await asUser("db-up.sh", { PG_PORT: String(port), PG_BIN: "/nonexistent" }).then(
      () => {
        throw new Error("db:up succeeded without packages");
      },
      (error) => error as { code: number; stderr: string },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ {2}sudo apt-get install -y postgresql-15$/m);
    expect(r.stderr).not.toMatch(/runuser|apt-get update/);
  }, 60_000);

  it("runs the cluster as that user, inside its checkout, and db:down removes it", async () => {
    const up = await asUser("db-up.sh", { PG_PORT: String(port) });
    expect(up.stdout.trim().split("\n").at(-1)).toBe(
      `DATABASE_URL=postgresql://postgres:postgres@127.0.0.1:${port}/postgres`,
    );
    const data = join(checkout, ".local/cluster/pgdata");
    expect(up.stderr).toContain(`data in ${data}`);
    expect(up.stderr).toContain(`runs as OS user ${user}`);
    const postmaster = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
    expect(uidOf(postmaster)).toBe(Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim()));

    await asUser("db-down.sh", { PG_PORT: String(port) });
    expect(existsSync(join(checkout, ".local"))).toBe(false);
  }, 200_000);
});
