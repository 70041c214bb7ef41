// Heartbeat writes under load: K clients, each writing heartbeats for random active jobs.
//   bare:   UPDATE of updated_at on bench_plain_jobs, a copy of the table with no triggers
//   report: public.report_job_status(...) on the real table (the writer side)
//   legacy: the seed's persist_job() UPDATE on the real table (triggers on)
// And the share of HOT updates on the real table while it runs (pg_stat_user_tables).
// Every side runs with synchronous_commit off: with it on, each commit waits for a WAL fsync,
// whose latency on this disk varies more than the cost being measured (throughput of all three
// fell from ~2,600 to ~300 per second within one run), and hides the machinery's CPU cost.
import pg from "pg";

const CLIENT_OPTIONS = "-c synchronous_commit=off";

const CLIENTS = 4;

type Mode = "bare" | "report" | "legacy";

async function load(
  url: string,
  mode: Mode,
  active: string[],
  perClient: number,
  seqBase: { n: number },
): Promise<number> {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, async () => {
    const c = new pg.Client({ connectionString: url, options: CLIENT_OPTIONS });
    await c.connect();
    return c;
  }));
  const start = process.hrtime.bigint();
  await Promise.all(clients.map(async (c, k) => {
    for (let i = 0; i < perClient; i++) {
      const id = active[(k * 7919 + i * 104729) % active.length]!;
      if (mode === "bare") {
        await c.query("update bench_plain_jobs set updated_at = now() where id = $1", [id]);
      } else if (mode === "report") {
        await c.query("select public.report_job_status($1, 1, $2, 'running', $3)", [id, ++seqBase.n, (i % 100) / 100]);
      } else {
        await c.query(
          "update public.local_training_jobs set status = 'running', config = jsonb_build_object('progress', $2::float) where id = $1",
          [id, (i % 100) / 100],
        );
      }
    }
  }));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await Promise.all(clients.map((c) => c.end())); // a backend flushes its table stats as it exits
  return (CLIENTS * perClient) / seconds;
}

export async function benchHeartbeats(url: string, active: string[], perClient: number, rounds: number) {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  await db.query("drop table if exists bench_plain_jobs");
  await db.query("create table bench_plain_jobs (like public.local_training_jobs including all)");
  await db.query("insert into bench_plain_jobs select * from public.local_training_jobs");
  await db.query("vacuum analyze bench_plain_jobs");
  // On a client of its own, ended before the counters are reset: a backend flushes its table stats
  // only now and then, and this setup's 10,000 updates (not HOT) were counted after the reset.
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  await setup.query("update public.local_training_jobs set report_seq = 0, attempt = 1 where id = any($1)", [active]);
  await setup.end();
  // From a vacuumed table whichever steps ran before: the pass step rewrites every active row a few
  // times, and the dead versions it leaves (autovacuum's job in a real project) would cost HOT room.
  await db.query("vacuum public.local_training_jobs");
  const seq = { n: 0 };
  await load(url, "report", active, 500, seq); // warm-up
  await load(url, "bare", active, 500, seq);

  await db.query("select pg_stat_reset_single_table_counters('public.local_training_jobs'::regclass)");
  const rates: Record<Mode, number[]> = { bare: [], report: [], legacy: [] };
  for (let r = 0; r < rounds; r++) {
    for (const mode of (r % 2 ? ["legacy", "report", "bare"] : ["bare", "report", "legacy"]) as Mode[]) {
      rates[mode].push(await load(url, mode, active, perClient, seq));
    }
  }
  await new Promise((r) => setTimeout(r, 1_500));
  const { rows: [stats] } = await db.query(
    "select n_tup_upd::bigint as upd, n_tup_hot_upd::bigint as hot from pg_stat_user_tables where relid = 'public.local_training_jobs'::regclass",
  );
  await db.query("drop table bench_plain_jobs");
  await db.end();
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  // Each round's sides ran back to back, so a round's ratio is free of what the machine did between
  // rounds (the bare rate has moved from 9.3k to 15k per second between runs); the median of them is
  // the figure, their spread says how much to trust it.
  const perRound = (mode: Mode) => rates.bare.map((bare, r) => bare / rates[mode][r]!);
  return {
    bare: mean(rates.bare),
    report: mean(rates.report),
    legacy: mean(rates.legacy),
    reportRatios: perRound("report"),
    legacyRatios: perRound("legacy"),
    updates: Number(stats.upd),
    hot: Number(stats.hot),
    clients: CLIENTS,
  };
}
