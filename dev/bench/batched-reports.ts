// Batched reports (issue 13): report_job_statuses() against the floor, and sustained capacity.
//   one call: 1,000 jobs' heartbeats in one report_job_statuses() call, against a bare
//             UPDATE ... FROM unnest(...) writing the same columns of the same 1,000 rows on
//             bench_plain_jobs (a copy of the table without triggers); alternating, median.
//   sustained: CLIENTS writers, each with its own share of the active jobs (a backend reports
//             its own jobs), sending one batch per tick as fast as the database takes them.
// synchronous_commit off on every side, as in heartbeats.ts (and for the same reason).
import pg from "pg";
import { median } from "./timing.ts";

const CLIENT_OPTIONS = "-c synchronous_commit=off";
const CLIENTS = 4;
export const BATCH = 1_000;

const BATCH_SQL = `select count(*) filter (where outcome = 'applied') as applied
  from public.report_job_statuses($1::uuid[], $2::int[], $3::bigint[], $4::text[], $5::float8[])`;
const FLOOR_SQL = `update bench_plain_jobs j set updated_at = now(), report_seq = u.seq, progress = u.p
  from unnest($1::uuid[], $2::bigint[], $3::float8[]) as u(id, seq, p) where j.id = u.id`;

function batchArgs(ids: string[], seq: { n: number }, round: number) {
  return [ids, ids.map(() => 1), ids.map(() => ++seq.n), ids.map(() => "running"), ids.map(() => (round % 100) / 100)];
}

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, options: CLIENT_OPTIONS });
  await c.connect();
  return c;
}

export async function benchBatchedReports(
  url: string,
  active: string[],
  rounds: number,
  sustainedSeconds: number,
  onProgress: (done: number, total: number) => void,
) {
  const db = await connect(url);
  await db.query("drop table if exists bench_plain_jobs");
  await db.query("create table bench_plain_jobs (like public.local_training_jobs including all)");
  await db.query("insert into bench_plain_jobs select * from public.local_training_jobs where id = any($1)", [active]);
  await db.query("vacuum analyze bench_plain_jobs");
  await db.query("update public.local_training_jobs set report_seq = 0, attempt = 1 where id = any($1)", [active]);
  const seq = { n: 1_000_000_000 };
  const ids = active.slice(0, BATCH);

  // One call, side by side.
  const batchMs: number[] = [];
  const floorMs: number[] = [];
  let applied = 0;
  for (let r = 0; r < rounds + 3; r++) {
    const args = batchArgs(ids, seq, r);
    const order = r % 2 ? ["floor", "batch"] : ["batch", "floor"];
    for (const side of order) {
      const t = process.hrtime.bigint();
      if (side === "batch") applied = Number((await db.query(BATCH_SQL, args)).rows[0].applied);
      else await db.query(FLOOR_SQL, [args[0], args[2], args[4]]);
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (r >= 3) (side === "batch" ? batchMs : floorMs).push(ms); // 3 warm-up rounds
    }
    onProgress(r + 1, rounds + 3 + sustainedSeconds);
  }

  // Sustained: each writer owns a share of the jobs and sends a batch of BATCH of them per call.
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => connect(url)));
  const share = Math.floor(active.length / CLIENTS);
  let written = 0;
  const until = Date.now() + sustainedSeconds * 1000;
  const ticker = setInterval(
    () =>
      onProgress(
        rounds + 3 + sustainedSeconds - Math.max(0, Math.ceil((until - Date.now()) / 1000)),
        rounds + 3 + sustainedSeconds,
      ),
    1000,
  );
  const start = process.hrtime.bigint();
  await Promise.all(clients.map(async (c, k) => {
    const mine = active.slice(k * share, (k + 1) * share);
    for (let i = 0; Date.now() < until; i++) {
      const from = (i * BATCH) % Math.max(1, mine.length - BATCH + 1);
      const batch = mine.slice(from, from + BATCH);
      await c.query(BATCH_SQL, batchArgs(batch, seq, i));
      written += batch.length;
    }
  }));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  clearInterval(ticker);
  await Promise.all(clients.map((c) => c.end()));
  await db.query("drop table bench_plain_jobs");
  await db.end();
  return {
    batch: BATCH,
    applied,
    batchMs: median(batchMs),
    floorMs: median(floorMs),
    sustainedPerSecond: written / seconds,
    clients: CLIENTS,
    seconds,
  };
}
