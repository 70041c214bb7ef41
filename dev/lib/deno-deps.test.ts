// Deno's download of the function's npm dependencies, failing as it did in the issue (a registry
// whose certificate Deno does not trust, from an empty cache): it ends with the cause in words and
// the one command that retries, never with Deno's raw error.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cacheDenoDependencies, denoEnv, explainDenoFailure } from "./deno-deps.ts";

const dir = mkdtempSync(join(tmpdir(), "truthful-deno-deps-"));
let registry: Server;
let registryUrl = "";

beforeAll(async () => {
  // A self-signed registry: what Deno sees behind a TLS-inspecting proxy whose CA nobody trusts.
  execFileSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    join(dir, "key.pem"),
    "-out",
    join(dir, "cert.pem"),
  ], { stdio: "ignore" });
  registry = createServer(
    { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) },
    (_req, res) => res.end("{}"),
  );
  await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve));
  registryUrl = `https://127.0.0.1:${(registry.address() as { port: number }).port}/`;
});

afterAll(async () => {
  await new Promise((resolve) => registry.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

it("an untrusted certificate, from an empty cache: retried, then the cause and `npm run deno:cache`", async () => {
  const logs: string[] = [];
  const env = denoEnv({ ...process.env, DENO_DIR: mkdtempSync(join(dir, "deno-")), NPM_CONFIG_REGISTRY: registryUrl });
  const error = await cacheDenoDependencies({ attempts: 2, backoffMs: 10, env, log: (l) => logs.push(l) }).catch((
    e: Error,
  ) => e);
  expect(error).toBeInstanceOf(Error);
  const message = (error as Error).message;
  expect(message).toContain("TLS certificate is not trusted");
  expect(message).toContain("update-ca-certificates");
  expect(message.split("\n").at(-1)).toBe("Retry with: npm run deno:cache");
  expect(message).not.toMatch(/Stack backtrace|\x1b\[/);
  expect(logs).toEqual([expect.stringContaining("attempt 1 of 2")]);
}, 60_000);

it("names an unreachable registry as such", () => {
  const said =
    "error: Failed caching npm package 'pg@8.23.1'\n    0: error sending request for url (https://registry.npmjs.org/pg): client error (Connect)\n    1: tcp connect error: Connection refused (os error 111)";
  expect(explainDenoFailure(said)).toBe(
    "the npm registry could not be reached (tcp connect error: Connection refused (os error 111)); check the network, or HTTPS_PROXY",
  );
});
