// The Edge Function's npm dependencies (npm:pg and what it needs) in Deno's cache, fetched once,
// at set-up, on purpose. Left to itself Deno downloads them silently on the function's first start,
// with its own certificate store, and a failure there surfaces as Deno's raw error mid-demo.
// Here the download is one `deno install` of the function's entrypoints, pinned by its deno.lock,
// using the system certificate store (so a TLS-inspecting proxy whose CA the system trusts works),
// retried with backoff; what serves and checks the function afterwards runs with --cached-only.
import { spawn } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");
export const DENO = join(root, "node_modules", ".bin", "deno");
export const FUNCTION_CONFIG = join(root, "supabase/functions/reconcile-jobs/deno.json");
/** Everything Deno runs here: the function, and the benchmark's copy of its pass. */
export const DENO_ENTRYPOINTS = [
  join(root, "supabase/functions/reconcile-jobs/index.ts"),
  join(root, "dev/bench/pass-heap.ts"),
];
/** The one command that retries the download. */
export const RETRY_COMMAND = "npm run deno:cache";

/** The environment Deno runs in: the caller's (DENO_DIR, HTTPS_PROXY, NPM_CONFIG_REGISTRY, …),
 * with the system certificate store unless the caller chose another. */
export function denoEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, DENO_TLS_CA_STORE: base.DENO_TLS_CA_STORE ?? "system", NO_COLOR: "1" };
}

export class DenoDependenciesError extends Error {}

/** Why Deno failed, in words, from its stderr. */
export function explainDenoFailure(stderr: string): string {
  const said = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  const detail = said.findLast((l) => !/^Stack backtrace|^\d+: <unknown>$/.test(l)) ?? "no output";
  const first = said.find((l) => /error/i.test(l)) ?? detail;
  if (/certificate|UnknownIssuer|CaUsedAsEndEntity/i.test(stderr)) {
    return `the registry's TLS certificate is not trusted (${detail.replace(/^\d+: /, "")}). Deno uses the system ` +
      "certificate store here (DENO_TLS_CA_STORE=system): behind a TLS-inspecting proxy, add its CA to that store " +
      "(copy it to /usr/local/share/ca-certificates/ and run update-ca-certificates)";
  }
  if (/dns error|failed to lookup|Connection refused|timed out|Connect\)|network/i.test(stderr)) {
    return `the npm registry could not be reached (${detail.replace(/^\d+: /, "")}); check the network, or HTTPS_PROXY`;
  }
  return `Deno said: ${first}`;
}

export interface CacheOptions {
  attempts?: number;
  /** First pause between attempts; it doubles each time. */
  backoffMs?: number;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

function denoInstall(env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(DENO, [
      "install",
      "--quiet",
      "--frozen",
      "--config",
      FUNCTION_CONFIG,
      "--entrypoint",
      ...DENO_ENTRYPOINTS,
    ], { cwd: root, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", (error) => resolve({ code: -1, stderr: String(error) }));
    child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
  });
}

/** Fetches the dependencies into Deno's cache (a no-op when they are there); throws a
 * DenoDependenciesError that names the cause and the retry command. */
export async function cacheDenoDependencies(options: CacheOptions = {}): Promise<void> {
  const { attempts = 4, backoffMs = 2_000, env = denoEnv(), log = (l) => console.error(l) } = options;
  let stderr = "";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const r = await denoInstall(env);
    if (r.code === 0) return;
    stderr = r.stderr;
    if (attempt < attempts) {
      const pause = backoffMs * 2 ** (attempt - 1);
      log(
        `deno: downloading the function's npm dependencies failed (attempt ${attempt} of ${attempts}); retrying in ${
          pause / 1000
        } s`,
      );
      await new Promise((r) => setTimeout(r, pause));
    }
  }
  throw new DenoDependenciesError(
    `Deno could not download the Edge Function's npm dependencies (npm:pg, pinned by ` +
      `supabase/functions/reconcile-jobs/deno.lock) after ${attempts} attempts: ${explainDenoFailure(stderr)}.\n` +
      `Retry with: ${RETRY_COMMAND}`,
  );
}

let cached: Promise<void> | undefined;
/** cacheDenoDependencies once per process. */
export function ensureDenoDependencies(): Promise<void> {
  cached ??= cacheDenoDependencies();
  return cached;
}
