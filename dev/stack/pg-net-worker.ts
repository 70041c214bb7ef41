// LOCAL STAND-IN for pg_net's background worker (the sending half; the SQL half is
// supabase/local/02_pg_net.sql). Like the real one it takes requests from net.http_request_queue
// only after the queuing transaction committed, deletes them, sends them, and writes
// net._http_response (status_code, content_type, headers, content, timed_out, error_msg).
// A NOTIFY from net.http_post wakes it; it also polls, as the real worker does.
//
//   DATABASE_URL=... tsx dev/stack/pg-net-worker.ts      (started by db:up for `postgres`)
//   startPgNetWorker({ databaseUrl })                         (in-process, for tests and the demo)
import pg from "pg";

interface QueuedRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string> | null;
  body: Buffer | null;
  timeout_milliseconds: number;
}

export interface PgNetWorker {
  /** Requests sent so far. */
  sent(): number;
  stop(): Promise<void>;
}

const POLL_MS = 1_000;
const BATCH = 50;

async function send(request: QueuedRequest) {
  const started = Date.now();
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers ?? {},
      body: request.method === "GET" || !request.body ? undefined : new Uint8Array(request.body),
      signal: AbortSignal.timeout(request.timeout_milliseconds),
    });
    const content = await response.text();
    return {
      status_code: response.status,
      content_type: response.headers.get("content-type"),
      headers: Object.fromEntries(response.headers),
      content,
      timed_out: false,
      error_msg: null,
    };
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    // The real worker reports curl's messages; these say the same thing.
    const message = timedOut
      ? `Timeout of ${request.timeout_milliseconds} ms reached. Total time: ${Date.now() - started} ms`
      : `Couldn't connect to server: ${
        error instanceof Error ? (error.cause as Error | undefined)?.message ?? error.message : String(error)
      }`;
    return {
      status_code: null,
      content_type: null,
      headers: null,
      content: null,
      timed_out: timedOut,
      error_msg: message,
    };
  }
}

export async function startPgNetWorker(options: { databaseUrl: string }): Promise<PgNetWorker> {
  const listener = new pg.Client({ connectionString: options.databaseUrl });
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 4 });
  pool.on("error", () => undefined);
  listener.on("error", () => undefined);
  await listener.connect();
  await listener.query("listen pg_net_stand_in");

  let stopped = false;
  let draining: Promise<void> | null = null;
  let again = false;
  let sent = 0;

  async function drainOnce(): Promise<number> {
    const { rows } = await pool.query<QueuedRequest>(
      `delete from net.http_request_queue
       where id in (select id from net.http_request_queue order by id limit $1 for update skip locked)
       returning id, method, url, headers, body, timeout_milliseconds`,
      [BATCH],
    );
    await Promise.all(rows.map(async (request) => {
      const r = await send(request);
      await pool.query(
        `insert into net._http_response (id, status_code, content_type, headers, content, timed_out, error_msg)
         values ($1, $2, $3, $4, $5, $6, $7)`,
        [request.id, r.status_code, r.content_type, r.headers, r.content, r.timed_out, r.error_msg],
      );
      sent++;
    }));
    return rows.length;
  }

  // One drain at a time; a wake-up during a drain schedules one more.
  function wake(): void {
    if (stopped) return;
    if (draining) {
      again = true;
      return;
    }
    draining = (async () => {
      do {
        again = false;
        try {
          while (!stopped && (await drainOnce()) === BATCH);
        } catch (error) {
          if (!stopped) console.error(`pg-net-worker: ${error instanceof Error ? error.message : error}`);
        }
      } while (again && !stopped);
      draining = null;
    })();
  }

  listener.on("notification", wake);
  const poll = setInterval(wake, POLL_MS);
  wake();

  return {
    sent: () => sent,
    async stop() {
      stopped = true;
      clearInterval(poll);
      await draining;
      await listener.end().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    console.error("pg-net-worker: DATABASE_URL is not set");
    process.exit(2);
  }
  const worker = await startPgNetWorker({ databaseUrl });
  console.error(`pg-net-worker: sending queued requests for ${new URL(databaseUrl).pathname.slice(1)}`);
  const stop = async () => {
    await worker.stop();
    process.exit(0);
  };
  process.on("SIGTERM", stop).on("SIGINT", stop);
}
