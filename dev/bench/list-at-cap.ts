// The function's peak memory when a backend's list answer is just under the size cap (issue 11,
// finding 2): real Deno serving the real function, a scripted backend sending the list.
//   npx tsx dev/bench/list-at-cap.ts [--cap-mib 8 ...] [--shape typical|minimal|empty ...]
//   (defaults: the configured default cap, every shape)
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import pg from "pg";
import { readPassSettings } from "../../supabase/functions/_shared/reconcile/mod.ts";
import { startScriptedBackend } from "../fuzz/scripted-backend.ts";
import { localStackUrl, recreateDatabase } from "../lib/local-stack.ts";
import { serveReconcileFunction } from "../lib/serve-function.ts";

const ACTIVE_JOBS = 10;

function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match![1]) / 1024;
}

/**
 * Fillers, from the seed's shape to the most objects per byte a hostile backend can send: memory
 * grows with the number of entries more than with bytes.
 */
export const FILLERS = {
  typical: '{"job_id":"00000000-0000-4000-8000-000000000000","status":"running","progress":0.5,"model":"m"}',
  minimal: '{"id":"x","status":"running"}',
  empty: "{}",
} as const;
export type Filler = keyof typeof FILLERS;

/** A list body of about `bytes` bytes: our jobs first, then entries of the given shape. */
function listBody(ourIds: string[], bytes: number, shape: Filler): { body: string; entries: number } {
  const entry = (id: string) => `{"job_id":"${id}","status":"running","progress":0.5,"model":"m"}`;
  const filler = FILLERS[shape];
  const parts = ourIds.map(entry);
  const room = bytes - 20 - parts.join(",").length;
  const count = Math.max(0, Math.floor(room / (filler.length + 1)));
  const body = `{"jobs":[${parts.join(",")}${",".concat(filler).repeat(count)}]}`;
  return { body, entries: ourIds.length + count };
}

export interface ListAtCapResult {
  capMib: number;
  shape: Filler;
  bodyBytes: number;
  entries: number;
  idleRssMb: number;
  peakRssMb: number;
  outcome: string;
}

/** The list cap a deployment runs with by default: the settings row's. */
export async function defaultListCap(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await readPassSettings(client)).maxListBytes;
  } finally {
    await client.end();
  }
}

export async function benchListAtCap(databaseUrl: string, capBytes: number, shape: Filler): Promise<ListAtCapResult> {
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const backend = await startScriptedBackend(() => ({ status: 200, body: '{"jobs":[]}' }));
  await db.query("delete from public.local_training_jobs");
  const { rows } = await db.query(
    "insert into public.local_training_jobs (model_name, status, backend_url) select 'cap', 'running', $1 from generate_series(1, $2) returning id",
    [backend.url, ACTIVE_JOBS],
  );
  const fn = await serveReconcileFunction(
    { RECONCILE_SECRET: `bench-${crypto.randomUUID()}`, SUPABASE_DB_URL: databaseUrl },
    { backend_url: backend.url, max_list_bytes: capBytes, request_timeout: "30 seconds" },
  );
  try {
    await fn.call({ query: "?dry_run=1" }); // compiled and connected, as a warm instance would be
    const idle = peakRssMb(fn.pid);
    // Just under the cap, so it is read and parsed in full.
    const { body, entries } = listBody(rows.map((r) => r.id as string), capBytes - 64, shape);
    backend.setScript(() => ({ status: 200, body }));
    const { status, body: summary } = await fn.call();
    if (status !== 200) throw new Error(`function answered ${status}: ${JSON.stringify(summary)}`);
    return {
      capMib: capBytes / 2 ** 20,
      shape,
      bodyBytes: Buffer.byteLength(body),
      entries,
      idleRssMb: idle,
      peakRssMb: peakRssMb(fn.pid),
      outcome: summary.outcome,
    };
  } finally {
    await fn.stop();
    await backend.stop();
    await db.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { "cap-mib": { type: "string", multiple: true }, shape: { type: "string", multiple: true } },
  });
  const shapes = (values.shape ?? Object.keys(FILLERS)) as Filler[];
  const url = process.env.DATABASE_URL ?? (await recreateDatabase(localStackUrl(), "truthful_jobs_bench_list"));
  const caps = values["cap-mib"]?.map((m) => Number(m) * 2 ** 20) ?? [await defaultListCap(url)];
  for (const cap of caps) {
    for (const shape of shapes) {
      const r = await benchListAtCap(url, cap, shape);
      console.log(
        `list at cap ${r.capMib} MiB, ${r.shape} entries: ${r.entries} entries, ${
          (r.bodyBytes / 2 ** 20).toFixed(2)
        } MiB body; function RSS ${r.idleRssMb.toFixed(0)} MB idle -> peak ${
          r.peakRssMb.toFixed(0)
        } MB (limit 256 MB); pass ${r.outcome}`,
      );
    }
  }
  process.exit(0);
}
