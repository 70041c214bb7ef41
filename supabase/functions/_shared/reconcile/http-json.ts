// GET a JSON document with a timeout, an outer deadline and a size cap. Never throws: every
// failure becomes a short description, because the caller concludes nothing from failures.

export type JsonAnswer =
  | { ok: true; status: number; json: unknown }
  | { ok: false; status: number | null; detail: string };

export interface GetJsonOptions {
  fetch: typeof fetch;
  timeoutMs: number;
  maxBytes: number;
  /** The pass's deadline: aborts this request too. */
  signal: AbortSignal;
}

async function readCapped(response: Response, maxBytes: number): Promise<string | null> {
  const declared = Number(response.headers.get("content-length") ?? "NaN");
  if (declared > maxBytes) {
    await response.body?.cancel();
    return null;
  }
  if (!response.body) return "";
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
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

export async function getJson(url: string, options: GetJsonOptions): Promise<JsonAnswer> {
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
  let response: Response;
  try {
    // Never followed: the answer must come from the backend the row names, and the evidence names that URL.
    response = await options.fetch(url, { method: "GET", headers: { accept: "application/json" }, signal, redirect: "manual" });
  } catch (error) {
    if (options.signal.aborted) return { ok: false, status: null, detail: "pass deadline reached" };
    if (signal.aborted) return { ok: false, status: null, detail: `timed out after ${options.timeoutMs} ms` };
    return { ok: false, status: null, detail: `request failed: ${describe(error)}` };
  }
  if (response.status >= 300 && response.status <= 399) {
    await response.body?.cancel().catch(() => undefined);
    const location = response.headers.get("location");
    return { ok: false, status: response.status, detail: `HTTP ${response.status} redirect${location === null ? "" : ` to ${location.slice(0, 300)}`} not followed` };
  }
  let text: string | null;
  try {
    text = await readCapped(response, options.maxBytes);
  } catch (error) {
    if (options.signal.aborted) return { ok: false, status: response.status, detail: "pass deadline reached" };
    if (signal.aborted) return { ok: false, status: response.status, detail: `timed out after ${options.timeoutMs} ms` };
    return { ok: false, status: response.status, detail: `unreadable body: ${describe(error)}` };
  }
  if (text === null) return { ok: false, status: response.status, detail: `body larger than ${options.maxBytes} bytes` };
  const isJson = (response.headers.get("content-type") ?? "").includes("json");
  if (!isJson) return { ok: false, status: response.status, detail: `HTTP ${response.status}, not JSON` };
  try {
    return { ok: true, status: response.status, json: JSON.parse(text) };
  } catch {
    return { ok: false, status: response.status, detail: `HTTP ${response.status}, invalid JSON` };
  }
}

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}
