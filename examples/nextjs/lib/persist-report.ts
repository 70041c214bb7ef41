// The persist route's body, read and checked before anything touches the database.
//
// It is the seed's job dict, as training_server.py's persist_job() POSTs it (id or job_id,
// status, model_name, user_id, config with progress and error, completed_at, ...), plus `attempt`
// and `seq` when the backend sends them (the Python adapter always does).

export const REPORTABLE_STATUSES = ["queued", "pending", "running", "completed", "failed", "cancelled"] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface PersistReport {
  jobId: string;
  status: (typeof REPORTABLE_STATUSES)[number];
  /** null: the backend did not say; the row's current attempt is used (see resolveAttempt). */
  attempt: number | null;
  /** null: the backend did not say; the route's clock stands in (see fallbackSeq). */
  seq: number | null;
  /** 0..1 (a seed that counts in percent is scaled down, as the Python adapter does). */
  progress: number | null;
  error: string | null;
  /**
   * Present when the report carries any of the job's fields (user_id, model_name, config): then a
   * missing row is created from it, as the seed's upsert did. A bare report (id, status, attempt,
   * seq, progress, error) for a missing row is an unknown job.
   */
  newRow: { userId: string | null; modelName: string | null; config: Record<string, unknown> } | null;
}

export type ParseResult = { ok: true; report: PersistReport } | { ok: false; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function positiveInteger(value: unknown, name: string): number | null | string {
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    return `${name} must be a positive integer when present, not ${JSON.stringify(value)}`;
  }
  return value;
}

/** report_job_status() takes 0..1; the seed's progress.json may count in percent (42.0). */
export function progressFraction(value: unknown): number | null | string {
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    return `progress must be a number, not ${JSON.stringify(value)}`;
  }
  return Math.min(1, Math.max(0, value > 1 ? value / 100 : value));
}

export function parsePersistBody(body: unknown): ParseResult {
  if (!isObject(body)) return { ok: false, message: "the body must be a JSON object (the job)" };
  const jobId = body.job_id ?? body.id;
  if (typeof jobId !== "string" || !UUID.test(jobId)) {
    return { ok: false, message: "job_id (or id) must be the job's uuid" };
  }
  if (body.job_id !== undefined && body.id !== undefined && body.job_id !== body.id) {
    return { ok: false, message: "id and job_id disagree" };
  }
  const status = body.status;
  if (typeof status !== "string" || !(REPORTABLE_STATUSES as readonly string[]).includes(status)) {
    return { ok: false, message: `status must be one of ${REPORTABLE_STATUSES.join(", ")}` };
  }
  const attempt = positiveInteger(body.attempt, "attempt");
  if (typeof attempt === "string") return { ok: false, message: attempt };
  const seq = positiveInteger(body.seq, "seq");
  if (typeof seq === "string") return { ok: false, message: seq };

  const carriesJobFields = ["user_id", "model_name", "config"].some((k) => body[k] !== undefined && body[k] !== null);
  const config = body.config ?? {};
  if (!isObject(config)) return { ok: false, message: "config must be an object when present" };
  // The adapter sends progress at the top level; the seed keeps it in config.
  const progress = progressFraction(body.progress ?? config.progress);
  if (typeof progress === "string") return { ok: false, message: progress };
  const error = body.error ?? config.error ?? null;
  if (error !== null && typeof error !== "string") return { ok: false, message: "error must be a string when present" };

  const userId = body.user_id;
  if (userId !== undefined && userId !== null && (typeof userId !== "string" || !UUID.test(userId))) {
    return { ok: false, message: "user_id must be a uuid when present" };
  }
  const modelName = body.model_name;
  if (modelName !== undefined && modelName !== null && typeof modelName !== "string") {
    return { ok: false, message: "model_name must be a string when present" };
  }
  return {
    ok: true,
    report: {
      jobId: jobId.toLowerCase(),
      status: status as PersistReport["status"],
      attempt,
      seq,
      progress,
      error,
      newRow: carriesJobFields
        ? {
          userId: (userId as string | undefined) ?? null,
          modelName: (modelName as string | undefined) ?? null,
          config,
        }
        : null,
    },
  };
}

let lastFallbackSeq = 0;

/**
 * The seq for a report that came without one: the route's clock in microseconds, pushed past the
 * last one it handed out (the Python adapter's scale, so both kinds of report compare sensibly).
 *
 * Weaker than a backend's own seq: it orders reports by when they reach this process, not by when
 * the backend made them. A retry of an old heartbeat that arrives after a newer one is applied
 * (report_job_status() still never moves an active job backwards nor reopens a finished one), and
 * two Next.js instances with skewed clocks can order two reports wrongly. Send seq to avoid both.
 */
export function fallbackSeq(nowMicros: number = Date.now() * 1000): number {
  lastFallbackSeq = Math.max(lastFallbackSeq + 1, Math.floor(nowMicros));
  return lastFallbackSeq;
}
