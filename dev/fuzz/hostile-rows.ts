// The hostile-row fuzz suite: one row whose columns hold generated values (of the column's type,
// and of any shape through jsonb), beside three healthy rows of a healthy backend, and a real pass
// against the real database after each. Any service-role writer can set those columns, so none of
// them may cost more than its own row. Invariants, after every pass:
//   - it ends `applied` or `held`, and a rejected row, if any, is the odd one;
//   - the healthy backend's lost job is failed in that same pass, its running job stays running,
//     its completed job is completed;
//   - the odd row is untouched when it is not active (a pass never observes a finished job, but a
//     presumed death in its revive window), and otherwise ends as it was or failed: the healthy
//     backend does not know it, so nothing else can be concluded.
// Rows are written with the stamping trigger bypassed, as an old table's rows or a buggy writer would leave them.
import fc from "fast-check";
import pg from "pg";
import { JOB_STATUSES } from "../../supabase/functions/_shared/job-status.ts";
import { inTransaction } from "../lib/transaction.ts";
import { listScript, startScriptedBackend } from "./scripted-backend.ts";
import { GRACE_S, startFuzzPasses } from "./fuzz-passes.ts";

const HEALTHY = {
  running: "00000000-0000-4000-8000-0000000000b1",
  completed: "00000000-0000-4000-8000-0000000000b2",
  lost: "00000000-0000-4000-8000-0000000000b3",
};
const ODD = "00000000-0000-4000-8000-0000000000bf";

/** A time as Postgres reads it: absent, infinite, anywhere in its range, or near now. */
const timestamp = fc.oneof(
  fc.constant(null),
  fc.constantFrom("infinity", "-infinity", "4713-01-01 00:00:00+00 BC", "294276-12-31 23:59:59+00"),
  fc.integer({ min: -10 * 365 * 86_400, max: 10 * 365 * 86_400 }).map((s) => `now:${s}`),
  fc.integer({ min: -7200, max: 7200 }).map((s) => `now:${s}`),
);

/** JSON text of any shape, and the shapes the pass looks into (evidence rules, config.progress), as Postgres reads them. */
const anyJson = fc.oneof(
  fc.jsonValue().map(storableJson),
  fc.constantFrom("fail_lost", "fail_heartbeat_lost", "fail_stalled", "confirm_alive").map((rule) =>
    storableJson({ rule })
  ),
  fc.double().map((progress) => storableJson({ progress })),
  fc.constantFrom(
    '{"progress": 1e400}',
    '{"progress": -1e400}',
    '{"progress": 1e-400}',
    '{"progress": "0.5"}',
    '{"progress": 0.98}',
    '{"rule": 7}',
    "[1, 2]",
    '"x"',
    "5",
    "null",
  ),
);

const text = fc.oneof(
  fc.constant(null),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: "binary", maxLength: 100 }),
  fc.constantFrom("{not json", '{"p": "x"', '{"p": 0.5}', '{"p": 1e400}', '["p"]', "#", "#zz:1", "null"),
  fc.integer({ min: 1, max: 100_000 }).map((n) => "{".repeat(n)),
);

/** Where the odd row's backend lives: only ever this machine (a closed port, the healthy backend) or nowhere. */
function backendUrl(healthyUrl: string) {
  return fc.oneof(
    fc.constant(null),
    fc.constant(healthyUrl),
    fc.constant(`${healthyUrl}/`),
    fc.constant("http://127.0.0.1:9"),
    fc.constant("http://user:secret@127.0.0.1:9"),
    fc.constant(`http://127.0.0.1:9/${"a".repeat(5000)}`),
    fc.constantFrom("", "not a url", "file:///etc/passwd", "data:,{}", "http://127.0.0.1:9/?q=1", "javascript:1"),
    fc.string({ maxLength: 50 }).filter((s) => !/^[a-z][a-z0-9+.-]*:/i.test(s.trim())),
  );
}

export interface OddRow {
  status: string;
  progressMarker: string | null;
  /** JSON texts. */
  statusEvidence: string | null;
  config: string;
  progress: number | null;
  statusReason: string | null;
  cancelAnswer: string | null;
  backendUrl: string | null;
  attempt: number;
  reportSeq: string;
  times: Record<(typeof TIME_COLUMNS)[number], string | null>;
}

const TIME_COLUMNS = [
  "heartbeat_at",
  "confirmed_at",
  "confirmed_until",
  "completed_at",
  "started_at",
  "cancel_requested_at",
  "cancel_forwarded_at",
  "updated_at",
  "created_at",
] as const;
const NOT_NULL = new Set<string>(["updated_at", "created_at"]);

export function oddRow(healthyUrl: string): fc.Arbitrary<OddRow> {
  return fc.record({
    status: fc.constantFrom(...JOB_STATUSES, "running", "running"),
    progressMarker: text,
    statusEvidence: fc.oneof(fc.constant(null), anyJson),
    config: anyJson,
    progress: fc.oneof(fc.constant(null), fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, 0.98, 2)),
    statusReason: text,
    cancelAnswer: text,
    backendUrl: backendUrl(healthyUrl),
    attempt: fc.integer({ min: -2147483648, max: 2147483647 }),
    reportSeq: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
    times: fc.record(Object.fromEntries(TIME_COLUMNS.map((c) => [c, timestamp])) as never),
  });
}

/** A generated time as SQL: `now:<seconds>` is that far from now; the rest is a timestamptz literal. */
const TIME_SQL = (i: number) =>
  `case when $${i}::text like 'now:%' then now() + make_interval(secs => split_part($${i}::text, ':', 2)::int)
        else $${i}::timestamptz end`;

/** Text without what Postgres cannot store (NUL); everything else goes in as it is. */
const storable = (s: string | null) => (s === null ? null : s.replaceAll("\u0000", ""));
/** JSON Postgres can store: no NUL escapes, no lone surrogates (jsonb refuses both). */
function storableJson(value: unknown): string {
  return JSON.stringify(value ?? null).replace(/\\u0000/g, "").replace(/\\ud[89a-f][0-9a-f]{2}/gi, "");
}

async function resetRows(pool: pg.Pool, healthyUrl: string, odd: OddRow): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query("delete from public.local_training_jobs");
    await client.query("set local session_replication_role = replica");
    await client.query(
      `insert into public.local_training_jobs (id, model_name, status, backend_url, updated_at, heartbeat_at)
       select id, 'fuzz', 'running', $2, now() - make_interval(secs => silence), now() - make_interval(secs => silence)
       from unnest($1::uuid[], $3::int[]) as r(id, silence)`,
      [[HEALTHY.running, HEALTHY.completed, HEALTHY.lost], healthyUrl, [0, 0, GRACE_S + 180]],
    );
    // updated_at and created_at are not null: a null drawn for them reads as now.
    const timeParams = TIME_COLUMNS.map((
      c,
      i,
    ) => (NOT_NULL.has(c) ? `coalesce(${TIME_SQL(12 + i)}, now())` : TIME_SQL(12 + i)));
    await client.query(
      `insert into public.local_training_jobs (id, model_name, status, progress_marker, status_evidence, config, progress,
         status_reason, cancel_answer, backend_url, attempt, report_seq, ${TIME_COLUMNS.join(", ")})
       values ($1, 'odd', $2, $3, $4::jsonb, $5::jsonb, $6::double precision, $7, $8, $9, $10, $11::bigint,
         ${timeParams.join(", ")})`,
      [
        ODD,
        odd.status,
        storable(odd.progressMarker),
        odd.statusEvidence,
        odd.config,
        odd.progress === null ? null : String(odd.progress),
        storable(odd.statusReason),
        storable(odd.cancelAnswer),
        storable(odd.backendUrl),
        odd.attempt,
        odd.reportSeq,
        ...TIME_COLUMNS.map((c) => odd.times[c]),
      ],
    );
  });
}

function check(condition: boolean, message: string, context: unknown): void {
  if (!condition) throw new Error(`invariant broken: ${message}; ${JSON.stringify(context).slice(0, 2000)}`);
}

export interface RowFuzzResult {
  runs: number;
  outcomes: Record<string, number>;
  oddEnded: Record<string, number>;
  rejected: number;
}

export async function runHostileRowFuzz(options: {
  databaseUrl: string;
  runs: number;
  seed: number;
  via?: "node" | "deno";
  onProgress?: (done: number) => void;
}): Promise<RowFuzzResult> {
  const healthy = await startScriptedBackend(
    listScript({ [HEALTHY.running]: "running", [HEALTHY.completed]: "completed" }),
  );
  const { pool, pass, stop } = await startFuzzPasses(options.databaseUrl, healthy.url, options.via);
  const result: RowFuzzResult = { runs: 0, outcomes: {}, oddEnded: {}, rejected: 0 };

  const property = fc.asyncProperty(oddRow(healthy.url), async (odd) => {
    await resetRows(pool, healthy.url, odd);
    const before =
      (await pool.query("select to_jsonb(j) as row from public.local_training_jobs j where id = $1", [ODD]))
        .rows[0]?.row as Record<string, unknown>;
    const summary = await pass();
    const { rows } = await pool.query(
      "select id, status, status_reason, to_jsonb(j) as row from public.local_training_jobs j",
    );
    const byId = new Map(rows.map((r) => [r.id as string, r as { status: string; status_reason: string | null }]));
    const after = (rows.find((r) => r.id === ODD)?.row ?? null) as Record<string, unknown> | null;
    const context = { odd, summary };

    check(summary.outcome === "applied" || summary.outcome === "held", "the pass ends applied or held", context);
    const rejectedRows = (summary.rejected_rows ?? []) as { job_id: string | null }[];
    check(rejectedRows.every((r) => r.job_id === ODD), "only the odd row may be rejected", context);
    check(
      byId.get(HEALTHY.lost)?.status === "failed" &&
        String(byId.get(HEALTHY.lost)?.status_reason).startsWith("lost: backend has no record"),
      "the healthy backend's lost job is failed in the same pass",
      { ...context, lost: byId.get(HEALTHY.lost) },
    );
    check(byId.get(HEALTHY.running)?.status === "running", "the healthy running job stays running", context);
    check(byId.get(HEALTHY.completed)?.status === "completed", "the healthy completed job is completed", context);
    const active = ["queued", "pending", "running"].includes(odd.status);
    if (!active && odd.status !== "failed") {
      check(JSON.stringify(after) === JSON.stringify(before), "a finished odd row is not touched", context);
    } else {
      const status = String(after?.status);
      check(status === odd.status || status === "failed", `the odd row ended ${status}`, context);
    }
    result.oddEnded[`${odd.status}->${after?.status}`] = (result.oddEnded[`${odd.status}->${after?.status}`] ?? 0) +
      1;
    result.rejected += Number(summary.rejected ?? 0);
    result.outcomes[String(summary.outcome)] = (result.outcomes[String(summary.outcome)] ?? 0) + 1;
    result.runs++;
    options.onProgress?.(result.runs);
  });

  try {
    await fc.assert(property, { numRuns: options.runs, seed: options.seed, endOnFailure: false });
    return result;
  } finally {
    await stop();
    await healthy.stop();
  }
}
