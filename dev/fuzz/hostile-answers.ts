// Generators of what a hostile or sloppy training backend may answer: any JSON value where a field
// is expected; strings with every hazard (NUL, lone surrogates, very long, right-to-left,
// SQL-looking, an emoji across the 500th unit); numbers and nesting; duplicate and foreign ids in
// lists; 3xx, 5xx, wrong content types, invalid UTF-8, huge and slow bodies.
// Each generated answer also says which statuses it states for each job, for the invariants.
import fc from "fast-check";
import { JOB_STATUSES } from "../../supabase/functions/_shared/job-status.ts";
import type { ScriptedAnswer } from "./scripted-backend.ts";

/** The jobs the hostile backend owns, by id: fixed, so answers can name them. */
export const HOSTILE_JOB_IDS = [
  "00000000-0000-4000-8000-00000000000a",
  "00000000-0000-4000-8000-00000000000b",
  "00000000-0000-4000-8000-00000000000c",
] as const;

const hazard = fc.constantFrom(
  "\u0000",
  "a\u0000b",
  "\uD800",
  "\uDFFF",
  "x\uDBFFy",
  "😀",
  "\u202Eevil\u202C",
  "'; drop table public.local_training_jobs; --",
  "$1",
  "\\u0000",
  "null",
  "",
  " ",
  "\n\r\t",
  "\uFEFF",
  "\uFFFF",
  "𝕏".repeat(300),
  `${"x".repeat(499)}😀`,
  `${"y".repeat(100_000)}`,
  "%00",
  "<script>",
  "June 2024",
  "2024-02-30",
  "9999-12-31T23:59:59Z",
);

/** Strings of every kind: random code units (lone surrogates included) and known hazards, mixed. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: hazard },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      maxLength: 40,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(hazard, fc.string({ unit: "binary", maxLength: 10 }), hazard).map((p) => p.join("")),
  },
);

const hostileNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(1e308, -0, 2 ** 53 + 1, 1e-320));

/** Any JSON value, its strings hostile. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    hostileString,
    hostileNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(hostileString, tie("value"), { maxKeys: 4 }),
  ),
})).value;

const statusValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...JOB_STATUSES) },
  { weight: 1, arbitrary: fc.constantFrom("RUNNING", "stale", "done", "error", " running") },
  { weight: 1, arbitrary: hostileJson },
);

const timeValue = fc.oneof(
  fc.constantFrom(
    "2026-11-29T10:00:00Z",
    "2026-11-29T10:00:00.123456",
    "June 2024",
    "2024-02-30",
    "0001-01-01",
    "2024-02-29T24:00:00Z",
    "+275760-09-13T00:00:00Z",
    "2026-11-29T10:00:00+99:00",
    "1e12",
    "Tue, 01 Dec 2026 10:00:00 GMT",
  ),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  hostileJson,
);

/** One job's entry: the documented fields, each present or not, each any value; and extra keys. */
const entryFields = fc.record(
  { status: statusValue, error: fc.oneof(hostileString, hostileJson), completed_at: timeValue, extra: hostileJson },
  { requiredKeys: [] },
);

const ourId = fc.constantFrom(...HOSTILE_JOB_IDS);
const entryId = fc.oneof(
  { weight: 6, arbitrary: ourId },
  { weight: 1, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: hostileJson },
);
const listEntry = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.tuple(fc.constantFrom("job_id", "id"), entryId, entryFields).map(([key, id, fields]) => ({
      [key]: id,
      ...fields,
    })),
  },
  { weight: 1, arbitrary: hostileJson },
);

/** How the bytes go out: plain, or one of the transport hazards. */
export type Transport =
  | { kind: "plain"; status: number; contentType: string }
  | { kind: "redirect"; status: number; location: string }
  | { kind: "invalid-utf8" }
  | { kind: "huge" }
  | { kind: "slow" };

const transport: fc.Arbitrary<Transport> = fc.oneof(
  { weight: 20, arbitrary: fc.constant<Transport>({ kind: "plain", status: 200, contentType: "application/json" }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("plain" as const),
      status: fc.constantFrom(200, 201, 204, 400, 404, 409, 500, 502, 503),
      contentType: fc.constantFrom("application/json", "text/html", "application/problem+json; charset=utf-8", ""),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("redirect" as const),
      status: fc.constantFrom(301, 302, 303, 307, 308),
      location: fc.constantFrom(
        "http://127.0.0.1:9/api/training/jobs",
        "/elsewhere",
        "data:application/json,{}",
        "\u0000",
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant<Transport>({ kind: "invalid-utf8" }) },
  { weight: 1, arbitrary: fc.constant<Transport>({ kind: "huge" }) },
  { weight: 1, arbitrary: fc.constant<Transport>({ kind: "slow" }) },
);

/** The hostile backend's whole behaviour for one pass. */
export interface HostileBackend {
  /** "list": it offers GET /api/training/jobs; "per-job": only /status/{id}. */
  mode: "list" | "per-job";
  list: { body: unknown; transport: Transport };
  perJob: { body: unknown; transport: Transport }[];
  /** Seconds each hostile job has been silent: fresh, past the grace period, past the hard timeout. */
  silence: number[];
}

const answer = (body: fc.Arbitrary<unknown>) => fc.record({ body, transport });

export const hostileBackend: fc.Arbitrary<HostileBackend> = fc.record({
  mode: fc.constantFrom("list" as const, "per-job" as const),
  list: answer(fc.oneof(
    { weight: 6, arbitrary: fc.record({ jobs: fc.array(listEntry, { maxLength: 8 }) }) },
    { weight: 1, arbitrary: fc.record({ jobs: hostileJson }) },
    { weight: 1, arbitrary: hostileJson },
  )),
  perJob: fc.tuple(
    ...HOSTILE_JOB_IDS.map(() =>
      answer(fc.oneof({ weight: 5, arbitrary: entryFields }, { weight: 1, arbitrary: hostileJson }))
    ),
  ),
  silence: fc.tuple(...HOSTILE_JOB_IDS.map(() => fc.constantFrom(0, 300, 700))),
});

/** Bytes and headers for one answer. The size cap and timeout are the pass's (see hostile-pass.ts). */
export function toScriptedAnswer(
  body: unknown,
  t: Transport,
  limits: { maxBytes: number; timeoutMs: number },
): ScriptedAnswer {
  const json = JSON.stringify(body) ?? "null";
  switch (t.kind) {
    case "plain":
      return { status: t.status, headers: { "content-type": t.contentType }, body: json };
    case "redirect":
      return { status: t.status, headers: { location: encodeURI(t.location) }, body: json };
    case "invalid-utf8":
      return { status: 200, body: Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0xc3, 0x28, 0x7d]) };
    case "huge":
      return {
        status: 200,
        body: `{"jobs": [${'{"job_id": "x", "status": "running"},'.repeat(Math.ceil(limits.maxBytes / 30))} {}]}`,
      };
    case "slow":
      return { status: 200, body: json, chunks: 3, chunkDelayMs: Math.ceil(limits.timeoutMs * 0.7) };
  }
}

/** The statuses a hostile answer states for a job anywhere (duplicates included): what it may be set to. */
export function statedStatuses(backend: HostileBackend, jobId: string): Set<string> {
  const stated = new Set<string>();
  const add = (entry: unknown) => {
    const status = (entry as { status?: unknown } | null)?.status;
    if (typeof status === "string") stated.add(status);
  };
  // A list answered 404/405/501 means "not offered": the pass then asks job by job. Both count.
  {
    const jobs = (backend.list.body as { jobs?: unknown } | null)?.jobs;
    if (Array.isArray(jobs)) {
      for (const entry of jobs) {
        const e = entry as { job_id?: unknown; id?: unknown } | null;
        if (e && typeof e === "object" && (e.job_id ?? e.id) === jobId) add(entry);
      }
    }
  }
  {
    add(backend.perJob[HOSTILE_JOB_IDS.indexOf(jobId as (typeof HOSTILE_JOB_IDS)[number])]?.body);
  }
  return stated;
}
