// GET a JSON document with a timeout, an outer deadline and a size cap. Never throws: every
// failure becomes a short description, because the caller concludes nothing from failures.

export type JsonAnswer =
  | { ok: true; status: number; json: unknown }
  | { ok: false; status: number | null; detail: string };

export interface GetJsonOptions {
  fetch: typeof fetch;
  timeoutMs: number;
  maxBytes: number;
  /**
   * At most this many objects and arrays in the document. Memory after parsing grows with their
   * number more than with bytes: 8 MiB of `{},` is 2.8M objects and took the function to 388 MB
   * RSS (dev/bench/list-at-cap.ts). Counted on the raw bytes, before parsing.
   */
  maxContainers?: number;
  /** The pass's deadline: aborts this request too. */
  signal: AbortSignal;
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;

/**
 * Whether a JSON text may hold more than `max` objects and arrays (brackets inside strings count
 * too). indexOf is native, quicker than a loop over every byte of each list page (docs/benchmarks.md),
 * and a body of nothing but brackets stops at the first one over.
 */
function tooManyContainers(bytes: Uint8Array, max: number): boolean {
  let n = 0;
  for (const open of [OPEN_BRACE, OPEN_BRACKET]) {
    for (let i = bytes.indexOf(open); i !== -1; i = bytes.indexOf(open, i + 1)) if (++n > max) return true;
  }
  return false;
}

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array | null> {
  const declared = Number(response.headers.get("content-length") ?? "NaN");
  if (declared > maxBytes) {
    await response.body?.cancel();
    return null;
  }
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

export async function getJson(url: string, options: GetJsonOptions): Promise<JsonAnswer> {
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
  let response: Response;
  try {
    // Never followed: the answer must come from the backend the row names, and the evidence names that URL.
    response = await options.fetch(url, {
      method: "GET",
      headers: { accept: "application/json" },
      signal,
      redirect: "manual",
    });
  } catch (error) {
    if (options.signal.aborted) return { ok: false, status: null, detail: "pass deadline reached" };
    if (signal.aborted) return { ok: false, status: null, detail: `timed out after ${options.timeoutMs} ms` };
    return { ok: false, status: null, detail: `request failed: ${errorMessage(error)}` };
  }
  if (response.status >= 300 && response.status <= 399) {
    await response.body?.cancel().catch(() => undefined);
    const location = response.headers.get("location");
    return {
      ok: false,
      status: response.status,
      detail: `HTTP ${response.status} redirect${
        location === null ? "" : ` to ${location.slice(0, 300)}`
      } not followed`,
    };
  }
  let text: string | null;
  try {
    const bytes = await readCapped(response, options.maxBytes);
    if (bytes !== null && options.maxContainers !== undefined && tooManyContainers(bytes, options.maxContainers)) {
      return {
        ok: false,
        status: response.status,
        detail: `body has more than ${options.maxContainers} objects and arrays`,
      };
    }
    text = bytes === null ? null : new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    if (options.signal.aborted) return { ok: false, status: response.status, detail: "pass deadline reached" };
    if (signal.aborted) {
      return { ok: false, status: response.status, detail: `timed out after ${options.timeoutMs} ms` };
    }
    return { ok: false, status: response.status, detail: `unreadable body: ${errorMessage(error)}` };
  }
  if (text === null) {
    return { ok: false, status: response.status, detail: `body larger than ${options.maxBytes} bytes` };
  }
  const isJson = (response.headers.get("content-type") ?? "").includes("json");
  if (!isJson) return { ok: false, status: response.status, detail: `HTTP ${response.status}, not JSON` };
  try {
    return { ok: true, status: response.status, json: JSON.parse(text) };
  } catch {
    return { ok: false, status: response.status, detail: `HTTP ${response.status}, invalid JSON` };
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}
