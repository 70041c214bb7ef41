// A row's backend_url decides where the pass sends requests, so it is checked before any request:
// a data: URL would answer its own job's status, a file: URL would make the function read a local
// file, and credentials in a URL end up in logs and evidence. A refused URL makes its backend
// "misconfigured" in the pass summary and the health view; its jobs are treated as unreachable
// (only the hard timeout applies) and it is never fetched.
import { type BackendAskOptions, type BackendSession, openBackend } from "./backend-client.ts";
import { storableText } from "./sanitize.ts";

/** A base URL longer than this is refused: it would only bloat every record that names its backend. */
const MAX_BACKEND_URL = 2_048;

export type BackendUrlCheck = { ok: true } | { ok: false; reason: string };

/** Pure: why `raw` may not be fetched, or ok. Never echoes the URL (it may hold a password). */
/** What a row without backend_url is sent to when the settings name no default backend: nowhere. */
export const NO_DEFAULT_BACKEND = "(no default backend_url)";

export function checkBackendUrl(raw: string): BackendUrlCheck {
  if (raw === NO_DEFAULT_BACKEND) {
    return {
      ok: false,
      reason: "the job has no backend_url and reconcile_settings names no default: " +
        "select jobs_private.configure_reconciler(backend_url => '<your backend>')",
    };
  }
  if (raw.length > MAX_BACKEND_URL) {
    return { ok: false, reason: `backend_url is longer than ${MAX_BACKEND_URL} characters` };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "backend_url is not a valid URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { ok: false, reason: `backend_url must be http or https, not ${url.protocol.slice(0, 20)}` };
  }
  if (url.username !== "" || url.password !== "") {
    return { ok: false, reason: "backend_url must not carry credentials" };
  }
  if (url.search !== "" || url.hash !== "") {
    return { ok: false, reason: "backend_url must not have a query or fragment" };
  }
  return { ok: true };
}

/** openBackend, for a URL that passes checkBackendUrl; a "misconfigured" session, never fetched, otherwise. */
export function openCheckedBackend(url: string, options: BackendAskOptions): BackendSession {
  const check = checkBackendUrl(url);
  if (check.ok) return openBackend(url, options);
  const answer = { kind: "unreachable", detail: `misconfigured: ${check.reason}` } as const;
  return {
    ask: async (jobIds) => ({
      url,
      mode: "misconfigured",
      reachable: false,
      error: check.reason,
      answers: new Map(jobIds.map((id) => [id, answer])),
    }),
    summary: () => ({ mode: "misconfigured", reachable: false, error: check.reason }),
    listBrokeOff: () => false,
  };
}

/** The URL as records may show it: user and password replaced by "***" (an unparsable one is cut short). */
export function withoutCredentials(raw: string): string {
  if (raw.length > MAX_BACKEND_URL) return storableText(raw, 200);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return storableText(raw, 200);
  }
  if (url.username === "" && url.password === "") return raw;
  url.username = "***";
  url.password = "";
  return url.toString().replace(/\/+$/, "");
}

/**
 * One spelling per backend, so the guard counts a backend's jobs together whichever way rows spell
 * its URL (case of the host, a default port, trailing slashes). Anything odd is left as it is, for
 * checkBackendUrl to refuse.
 */
export function normalizeBackendUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.username || url.password || url.search || url.hash || !/^https?:$/.test(url.protocol)) return raw;
    return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
  } catch {
    return raw;
  }
}
