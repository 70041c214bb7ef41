// A training backend that answers whatever it is told to, byte for byte: the hostile-input tests
// and the fuzz suite script it. Real HTTP on 127.0.0.1; it counts the requests it gets.
import { createServer, type Server } from "node:http";

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  /** Sent as is: a string is UTF-8 encoded, bytes go out untouched (invalid UTF-8 included). */
  body?: string | Uint8Array;
  /** Wait this long before the headers. */
  delayMs?: number;
  /** Send the body in this many pieces, `chunkDelayMs` apart: a slow body. */
  chunks?: number;
  chunkDelayMs?: number;
}

export type Script = (path: string) => ScriptedAnswer;

export interface ScriptedBackend {
  url: string;
  requests: string[];
  setScript(script: Script): void;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startScriptedBackend(script: Script): Promise<ScriptedBackend> {
  let current = script;
  const requests: string[] = [];
  const server: Server = createServer(async (req, res) => {
    // Scripts route on the path, as web frameworks do: the list's `?cursor=&limit=` does not change the route.
    const path = (req.url ?? "/").split("?")[0]!;
    requests.push(req.url ?? "/");
    let answer: ScriptedAnswer;
    try {
      answer = current(path);
    } catch (error) {
      answer = { status: 500, body: String(error) };
    }
    if (answer.delayMs) await sleep(answer.delayMs);
    if (res.destroyed) return;
    const body = typeof answer.body === "string"
      ? Buffer.from(answer.body, "utf8")
      : Buffer.from(answer.body ?? new Uint8Array());
    res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
    const pieces = Math.max(1, answer.chunks ?? 1);
    const size = Math.ceil(body.length / pieces);
    for (let i = 0; i < pieces && !res.destroyed; i++) {
      res.write(body.subarray(i * size, (i + 1) * size));
      if (answer.chunkDelayMs && i < pieces - 1) await sleep(answer.chunkDelayMs);
    }
    res.end();
  });
  // A client that gave up (timeout, size cap) resets the socket; that is expected here.
  server.on("clientError", (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setScript(next) {
      current = next;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A backend that knows these jobs and offers the list: the healthy one beside a hostile one. */
export function listScript(jobs: Record<string, string>): Script {
  const entries = Object.entries(jobs).map(([job_id, status]) => ({ job_id, status }));
  return (path) =>
    path === "/api/training/jobs"
      ? { status: 200, body: JSON.stringify({ jobs: entries }) }
      : { status: 404, body: JSON.stringify({ detail: "not found" }) };
}
