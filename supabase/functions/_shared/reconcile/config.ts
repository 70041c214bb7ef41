// Reconciler settings, read and validated once at start-up. A bad setting is reported by name,
// never with its value: some of them are secrets.

/** What one pass needs, wherever it runs (Edge Function or CLI). */
export interface ReconcileConfig {
  /** Default training backend, for rows whose backend_url is null. */
  backendUrl: string;
  /** One backend request. */
  requestTimeoutMs: number;
  /** The whole pass; well inside Supabase's 150 s wall clock. */
  deadlineMs: number;
  /** Status requests in flight at once, per backend. */
  concurrency: number;
  /** Rows a pass observes, decides and applies at a time (its memory does not grow with the fleet). */
  pageSize?: number;
  /** A job unknown to the backend is failed only after this long without a sign of life. */
  graceMs: number;
  /** With no usable answer from the backend, or one that shows no progress, a job silent this long is failed anyway. */
  hardTimeoutMs: number;
  /** How often passes run (the cron schedule): a confirmation keeps a job fresh until the next pass is due. */
  passIntervalMs: number;
  /** Mass-outage guard: hold when more than this share of a backend's recently-alive jobs would be presumed dead... */
  guardShare: number;
  /** ...and at least this many. */
  guardMinJobs: number;
  maxStatusBytes: number;
  maxListBytes: number;
}

/** The Edge Function also needs its caller's secret and the database. */
export interface FunctionConfig extends ReconcileConfig {
  /** Shared secret callers send as `Authorization: Bearer <secret>`. */
  secret: string;
  databaseUrl: string;
}

export type Loaded<T> = { ok: true; config: T } | { ok: false; error: string };

type Env = Record<string, string | undefined>;

class SettingError extends Error {}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new SettingError(`${name} is not set`);
  return value;
}

function httpUrl(env: Env, name: string, fallback?: string): string {
  const value = env[name]?.trim() || fallback;
  if (!value) throw new SettingError(`${name} is not set`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SettingError(`${name} is not a valid URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new SettingError(`${name} must be an http(s) URL`);
  return value.replace(/\/+$/, "");
}

function number(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new SettingError(`${name} must be a number from ${min} to ${max}`);
  }
  return value;
}

/** River's rescuer takes 1,000 at a time; a page of 2,000 is a few MB and one guarded call. */
export const DEFAULT_PAGE_SIZE = 2_000;

function settings(env: Env): ReconcileConfig {
  const config: ReconcileConfig = {
    backendUrl: httpUrl(env, "BACKEND_URL"),
    requestTimeoutMs: number(env, "RECONCILE_REQUEST_TIMEOUT_MS", 5_000, 100, 60_000),
    deadlineMs: number(env, "RECONCILE_DEADLINE_MS", 60_000, 1_000, 120_000),
    concurrency: number(env, "RECONCILE_CONCURRENCY", 16, 1, 256),
    pageSize: number(env, "RECONCILE_PAGE_SIZE", DEFAULT_PAGE_SIZE, 100, 50_000),
    graceMs: number(env, "RECONCILE_GRACE_SECONDS", 120, 0, 86_400) * 1000,
    // The seed's own cleanup rule: 10 minutes without an update means the job is gone.
    hardTimeoutMs: number(env, "RECONCILE_HARD_TIMEOUT_SECONDS", 600, 1, 604_800) * 1000,
    // The schedule's interval: */10 in migration 20261129140000.
    passIntervalMs: number(env, "RECONCILE_INTERVAL_SECONDS", 600, 1, 86_400) * 1000,
    guardShare: number(env, "RECONCILE_GUARD_SHARE", 0.5, 0, 1),
    guardMinJobs: number(env, "RECONCILE_GUARD_MIN_JOBS", 5, 1, 1_000_000),
    maxStatusBytes: number(env, "RECONCILE_MAX_STATUS_BYTES", 64 * 1024, 1_024, 16 * 1024 * 1024),
    // 8 MiB: at 32 MiB a list just under the cap took the function to 223 MB RSS (limit 256 MB);
    // at 8 MiB, 101-118 MB (dev/bench/list-at-cap.ts, numbers in docs/reliability.md).
    maxListBytes: number(env, "RECONCILE_MAX_LIST_BYTES", 8 * 1024 * 1024, 1_024, 128 * 1024 * 1024),
  };
  if (config.requestTimeoutMs >= config.deadlineMs) {
    throw new SettingError("RECONCILE_REQUEST_TIMEOUT_MS must be shorter than RECONCILE_DEADLINE_MS");
  }
  return config;
}

function postgresUrl(env: Env, name: string): string {
  const value = required(env, name);
  if (!/^postgres(ql)?:\/\//.test(value)) throw new SettingError(`${name} must be a postgres:// URL`);
  return value;
}

function load<T>(build: () => T): Loaded<T> {
  try {
    return { ok: true, config: build() };
  } catch (error) {
    if (error instanceof SettingError) return { ok: false, error: `configuration: ${error.message}` };
    throw error;
  }
}

/** The pass settings alone (the CLI, which reads DATABASE_URL itself). */
export function loadPassConfig(env: Env): Loaded<ReconcileConfig> {
  return load(() => settings(env));
}

/** Everything the Edge Function needs. SUPABASE_DB_URL is set by Supabase in every function. */
export function loadFunctionConfig(env: Env): Loaded<FunctionConfig> {
  return load(() => {
    const secret = required(env, "RECONCILE_SECRET");
    // Short secrets are guessable; the function is deployed without Supabase's JWT check.
    if (secret.length < 16) throw new SettingError("RECONCILE_SECRET must be at least 16 characters");
    return { secret, databaseUrl: postgresUrl(env, "SUPABASE_DB_URL"), ...settings(env) };
  });
}
