// Which failures are worth retrying. Everything not listed is permanent: retrying a bad id or a
// refused permission only repeats the refusal, so such a report is dropped with a warning.
const RETRYABLE_SQLSTATES: Record<string, string> = {
  "08000": "connection exception",
  "08003": "connection does not exist",
  "08006": "connection failure",
  "08001": "client could not establish a connection",
  "08004": "server rejected the connection",
  "57P01": "admin shutdown: the server is restarting",
  "57P02": "crash shutdown",
  "57P03": "cannot connect now: the server is starting up",
  "53300": "too many connections",
  "40001": "serialization failure",
  "40P01": "deadlock detected",
};

const RETRYABLE_NODE_CODES: Record<string, string> = {
  ECONNREFUSED: "nothing listening: the database or API is down",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "connection timed out",
  EPIPE: "connection closed while writing",
  ENOTFOUND: "DNS lookup failed",
  EAI_AGAIN: "DNS lookup failed, temporarily",
  EHOSTUNREACH: "host unreachable",
};

export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string") {
    if (code in RETRYABLE_SQLSTATES || code in RETRYABLE_NODE_CODES) return true;
    // A five-character code is a SQLSTATE the database chose to send: the report itself is at fault.
    if (/^[0-9A-Z]{5}$/.test(code)) return false;
  }
  // No code at all: the connection died under us ("Connection terminated unexpectedly", fetch failed).
  return true;
}
