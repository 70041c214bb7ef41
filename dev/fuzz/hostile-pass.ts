// The hostile-backend fuzz suite: one healthy backend that has lost a job, one hostile backend
// answering generated answers (hostile-answers.ts), and a real pass against the real database
// after each. Invariants, after every pass:
//   - it ends `applied` or `held`, and no change is rejected (every answer was made storable);
//   - the healthy backend's rows converge: its lost job is failed in that same pass, its running
//     job stays running, its completed job is completed;
//   - no hostile job gets a status that neither the backend stated for it nor the rules allow
//     (failed, only when silent past the grace period).
// Passes run through the Node core (runReconcilePass, as `npm run reconcile` does) or through the
// real Edge Function under Deno.
import fc from "fast-check";
import pg from "pg";
import { isJobStatus } from "../../supabase/functions/_shared/job-status.ts";
import { inTransaction } from "../lib/transaction.ts";
import {
  HOSTILE_JOB_IDS,
  type HostileBackend,
  hostileBackend,
  statedStatuses,
  toScriptedAnswer,
} from "./hostile-answers.ts";
import { listScript, type Script, startScriptedBackend } from "./scripted-backend.ts";
import { GRACE_S, startFuzzPasses } from "./fuzz-passes.ts";

const HEALTHY = {
  running: "00000000-0000-4000-8000-0000000000a1",
  completed: "00000000-0000-4000-8000-0000000000a2",
  lost: "00000000-0000-4000-8000-0000000000a3",
};
const LIMITS = { maxBytes: 65_536, timeoutMs: 300 };

export interface FuzzOptions {
  databaseUrl: string;
  runs: number;
  seed: number;
  /** "node": the CLI's core in this process; "deno": the real function, served. */
  via?: "node" | "deno";
  onProgress?: (done: number) => void;
}

export interface FuzzResult {
  runs: number;
  outcomes: Record<string, number>;
  hostileStatuses: Record<string, number>;
}

function hostileScript(b: HostileBackend): Script {
  return (path) => {
    if (path === "/api/training/jobs") {
      return b.mode === "list"
        ? toScriptedAnswer(b.list.body, b.list.transport, LIMITS)
        : { status: 404, body: JSON.stringify({ detail: "Not Found" }) };
    }
    const index = HOSTILE_JOB_IDS.findIndex((id) => path === `/api/training/status/${id}`);
    const answer = b.perJob[index];
    return answer
      ? toScriptedAnswer(answer.body, answer.transport, LIMITS)
      : { status: 404, body: JSON.stringify({ detail: "no such job" }) };
  };
}

async function resetJobs(pool: pg.Pool, hostileUrl: string, silence: number[]): Promise<void> {
  const rows: [string, string, string | null, number][] = [
    [HEALTHY.running, "running", null, 0],
    [HEALTHY.completed, "running", null, 0],
    [HEALTHY.lost, "running", null, 300],
    ...HOSTILE_JOB_IDS.map((id, i) => [id, "running", hostileUrl, silence[i] ?? 0] as [string, string, string, number]),
  ];
  await inTransaction(pool, async (client) => {
    await client.query("delete from public.local_training_jobs");
    // Rows whose last sign of life is in the past: the stamping trigger is bypassed for this write.
    await client.query("set local session_replication_role = replica");
    await client.query(
      `insert into public.local_training_jobs (id, model_name, status, backend_url, updated_at, heartbeat_at)
       select id, 'fuzz', status, backend_url, now() - make_interval(secs => silence), now() - make_interval(secs => silence)
       from unnest($1::uuid[], $2::text[], $3::text[], $4::int[]) as r(id, status, backend_url, silence)`,
      [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3])],
    );
  });
}

function check(condition: boolean, message: string, context: unknown): void {
  if (!condition) throw new Error(`invariant broken: ${message}; ${JSON.stringify(context).slice(0, 2000)}`);
}

export async function runHostileFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const healthy = await startScriptedBackend(
    listScript({ [HEALTHY.running]: "running", [HEALTHY.completed]: "completed" }),
  );
  const hostile = await startScriptedBackend(() => ({ status: 503, body: "{}" }));
  const { pool, pass, stop } = await startFuzzPasses(options.databaseUrl, healthy.url, options.via);
  const result: FuzzResult = { runs: 0, outcomes: {}, hostileStatuses: {} };

  const property = fc.asyncProperty(hostileBackend, async (backend) => {
    await resetJobs(pool, hostile.url, backend.silence);
    hostile.setScript(hostileScript(backend));
    const summary = await pass();
    const { rows } = await pool.query("select id, status, status_reason from public.local_training_jobs");
    const byId = new Map(rows.map((r) => [r.id as string, r as { status: string; status_reason: string | null }]));

    check(summary.outcome === "applied" || summary.outcome === "held", "the pass ends applied or held", summary);
    check(!summary.rejected, "no change is rejected: every answer was made storable", summary.rejected_rows);
    check(
      byId.get(HEALTHY.lost)?.status === "failed" &&
        String(byId.get(HEALTHY.lost)?.status_reason).startsWith("lost: backend has no record"),
      "the healthy backend's lost job is failed in the same pass",
      byId.get(HEALTHY.lost),
    );
    check(
      byId.get(HEALTHY.running)?.status === "running",
      "the healthy backend's running job stays running",
      byId.get(HEALTHY.running),
    );
    check(
      byId.get(HEALTHY.completed)?.status === "completed",
      "the healthy backend's completed job is completed",
      byId.get(HEALTHY.completed),
    );
    HOSTILE_JOB_IDS.forEach((id, i) => {
      const status = byId.get(id)?.status ?? "missing";
      const stated = [...statedStatuses(backend, id)].filter(isJobStatus);
      const byRule = (backend.silence[i] ?? 0) > GRACE_S ? ["failed"] : [];
      check(
        status === "running" || stated.includes(status as never) || byRule.includes(status),
        `hostile job ${id} got ${status}, which neither the backend stated (${stated}) nor the rules allow (${byRule})`,
        backend,
      );
      result.hostileStatuses[status] = (result.hostileStatuses[status] ?? 0) + 1;
    });
    result.outcomes[String(summary.outcome)] = (result.outcomes[String(summary.outcome)] ?? 0) + 1;
    result.runs++;
    options.onProgress?.(result.runs);
  });

  try {
    await fc.assert(property, { numRuns: options.runs, seed: options.seed, endOnFailure: false });
    return result;
  } finally {
    await stop();
    await Promise.all([healthy.stop(), hostile.stop()]);
  }
}
