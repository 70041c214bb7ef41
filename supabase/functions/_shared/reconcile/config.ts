// Reconciler settings live in one row, jobs_private.reconcile_settings (defaults, ranges and the rules
// that tie them together are written there once); a pass reads them at its start. The environment
// keeps only what is secret or per host, read and checked once at start-up: a bad one is reported by
// name, never with its value.
import type { Queryable } from "./database.ts";

/** What one pass runs with, wherever it runs (Edge Function or CLI): the settings row, durations in ms. */
export interface ReconcileConfig {
  /** Default training backend, for rows whose backend_url is null; null when none is set. */
  backendUrl: string | null;
  requestTimeoutMs: number;
  deadlineMs: number;
  concurrency: number;
  pageSize: number;
  graceMs: number;
  hardTimeoutMs: number;
  /** How often passes run: a confirmation keeps a job fresh until the next pass is due. */
  passIntervalMs: number;
  guardShare: number;
  guardMinJobs: number;
  maxStatusBytes: number;
  maxListBytes: number;
}

/** One run's own values for settings, by column name ({"grace": "30 seconds"}): a CLI flag. */
export type SettingsOverrides = Record<string, string | number>;

const NUMBERS = [
  "requestTimeoutMs",
  "deadlineMs",
  "concurrency",
  "pageSize",
  "graceMs",
  "hardTimeoutMs",
  "passIntervalMs",
  "guardShare",
  "guardMinJobs",
  "maxStatusBytes",
  "maxListBytes",
] as const satisfies readonly (keyof ReconcileConfig)[];

/**
 * The settings row with this run's overrides, checked by the database's rules
 * (jobs_private.reconcile_settings_for_pass). `fallbackBackendUrl` serves only when the row names no backend.
 */
export async function readPassSettings(
  db: Queryable,
  overrides: SettingsOverrides = {},
  fallbackBackendUrl: string | null = null,
): Promise<ReconcileConfig> {
  const { rows } = await db.query("select jobs_private.reconcile_settings_for_pass($1::jsonb) as settings", [
    JSON.stringify(overrides),
  ]);
  const raw = rows[0]?.settings as Record<string, unknown> | undefined;
  if (!raw) throw new Error("reconcile settings: the database returned none");
  const config = {
    backendUrl: typeof raw.backendUrl === "string" ? raw.backendUrl : fallbackBackendUrl,
  } as ReconcileConfig;
  for (const key of NUMBERS) {
    const value = Number(raw[key]);
    if (!Number.isFinite(value)) throw new Error(`reconcile settings: ${key} is not a number`);
    config[key] = value;
  }
  return config;
}

/** The Edge Function's environment: its caller's secret and the database. */
export interface FunctionConfig {
  /** Shared secret callers send as `Authorization: Bearer <secret>`. */
  secret: string;
  databaseUrl: string;
  /** BACKEND_URL, for deployments made before the settings row held it: used only when the row names none. */
  fallbackBackendUrl: string | null;
}

export type Loaded<T> = { ok: true; config: T } | { ok: false; error: string };

type Env = Record<string, string | undefined>;

class SettingError extends Error {}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new SettingError(`${name} is not set`);
  return value;
}

/** An optional http(s) URL from the environment, without trailing slashes. */
export function optionalHttpUrl(env: Env, name: string): string | null {
  const value = env[name]?.trim();
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SettingError(`${name} is not a valid URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new SettingError(`${name} must be an http(s) URL`);
  return value.replace(/\/+$/, "");
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

/** The CLI's environment: only the optional fallback backend (it reads DATABASE_URL itself). */
export function loadCliEnv(env: Env): Loaded<{ fallbackBackendUrl: string | null }> {
  return load(() => ({ fallbackBackendUrl: optionalHttpUrl(env, "BACKEND_URL") }));
}

/** Everything the Edge Function needs from its environment. SUPABASE_DB_URL is set by Supabase in every function. */
export function loadFunctionConfig(env: Env): Loaded<FunctionConfig> {
  return load(() => {
    const secret = required(env, "RECONCILE_SECRET");
    // Short secrets are guessable; the function is deployed without Supabase's JWT check.
    if (secret.length < 16) throw new SettingError("RECONCILE_SECRET must be at least 16 characters");
    return {
      secret,
      databaseUrl: postgresUrl(env, "SUPABASE_DB_URL"),
      fallbackBackendUrl: optionalHttpUrl(env, "BACKEND_URL"),
    };
  });
}
