// Serves the real reconcile-jobs function with real Deno (`deno serve`), as the edge runtime
// would, and stops it afterwards. Used by the tests, the demo and the benchmarks.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import type { SettingsOverrides } from "../../supabase/functions/_shared/reconcile/mod.ts";
import { DENO, denoEnv, ensureDenoDependencies, FUNCTION_CONFIG } from "./deno-deps.ts";
import { applySettings } from "./settings.ts";

const repoRoot = join(import.meta.dirname, "..", "..");
// What Deno itself reads (its cache, certificates, proxies); the function sees nothing else of ours.
const DENO_SETTINGS = [
  "DENO_DIR",
  "DENO_TLS_CA_STORE",
  "DENO_CERT",
  "XDG_CACHE_HOME",
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "NO_PROXY",
  "https_proxy",
  "http_proxy",
  "no_proxy",
];

/**
 * V8's heap as Supabase's edge runtime sizes it for a user worker: `heap_limits(0, memory_limit)` with
 * the 256 MB limit (supabase/edge-runtime crates/base/src/runtime/mod.rs). V8 derives the young and
 * old generations' maxima from that size (ResourceConstraints::ConfigureDefaultsFromHeapSize), as it
 * does from `--max-heap-size` (Heap::ConfigureHeap): both call Heap::GenerationSizesFromHeapSize. Plain
 * `deno serve` sizes them from the machine's memory instead (a 4 GB heap here), and lets its young
 * generation grow three times larger than a worker's. Same call, not the same V8: the edge runtime
 * pins its own (V8 13.0 at b1edf453), Deno 2.9.6 brings V8 15.0, and how V8 splits a heap size
 * between its generations has changed between versions. A caller's DENO_V8_FLAGS are added after
 * these (a later flag wins); an empty one leaves Deno's own defaults.
 */
export const EDGE_WORKER_V8_FLAGS = "--max-heap-size=256";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ServedFunction {
  url: string;
  logs: () => string;
  /** deno's process id, to read its CPU time and memory. */
  pid: number;
  call(
    init?: { method?: string; secret?: string | null; body?: unknown; query?: string },
  ): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

/**
 * `env` is the function's environment (RECONCILE_SECRET, SUPABASE_DB_URL, optionally BACKEND_URL);
 * `settings` go into that database's settings row first, where every pass reads them.
 */
export async function serveReconcileFunction(
  env: Record<string, string>,
  settings: SettingsOverrides = {},
): Promise<ServedFunction> {
  const stray = Object.keys(env).filter((k) => k.startsWith("RECONCILE_") && k !== "RECONCILE_SECRET");
  if (stray.length > 0) {
    throw new Error(`serveReconcileFunction: ${stray.join(", ")} are settings now: pass them as settings`);
  }
  const secret = env.RECONCILE_SECRET ?? "";
  if (env.SUPABASE_DB_URL) await applySettings(env.SUPABASE_DB_URL, settings);
  // Fetched at set-up, retried, with a clear error; then served from the cache only, so a first
  // start never downloads anything on its own.
  await ensureDenoDependencies();
  const port = await freePort();
  const entry = join(repoRoot, "supabase/functions/reconcile-jobs/index.ts");
  const passed = Object.fromEntries(
    DENO_SETTINGS.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]),
  );
  const child: ChildProcess = spawn(
    DENO,
    [
      "serve",
      "--quiet",
      "--cached-only",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--config",
      FUNCTION_CONFIG,
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      entry,
    ],
    {
      cwd: repoRoot,
      env: withV8Flags(denoEnv({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...passed, ...env })),
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let logs = "";
  child.stdout?.on("data", (d) => (logs += d));
  child.stderr?.on("data", (d) => (logs += d));
  const url = `http://127.0.0.1:${port}/functions/v1/reconcile-jobs`;

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`deno exited early (${child.exitCode}): ${logs}`);
    try {
      await fetch(url, { method: "OPTIONS" });
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`deno did not start serving: ${logs}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  return {
    url,
    logs: () => logs,
    pid: child.pid!,
    async call({ method = "POST", secret: bearer = secret, body, query = "" } = {}) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
      const response = await fetch(`${url}${query}`, {
        method,
        headers,
        body: method === "GET" || body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch { /* keep the text */ }
      return { status: response.status, body: parsed };
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** The worker's heap sizing, then the caller's DENO_V8_FLAGS; an empty value means Deno's defaults. */
function withV8Flags(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { DENO_V8_FLAGS: caller, ...rest } = env;
  if (caller === "") return rest;
  return { ...rest, DENO_V8_FLAGS: caller === undefined ? EDGE_WORKER_V8_FLAGS : `${EDGE_WORKER_V8_FLAGS},${caller}` };
}
