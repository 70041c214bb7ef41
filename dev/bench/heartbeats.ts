// Heartbeat writes under load: K clients, each writing heartbeats for random active jobs.
//   bare:   UPDATE of updated_at on bench_plain_jobs, a copy of the table with no triggers
//   report: public.report_job_status(...) on the real table (the writer side)
//   legacy: the seed's persist_job() UPDATE on the real table (triggers on)
// And the share of HOT updates on the real table while it runs (pg_stat_user_tables).
// Every side runs with synchronous_commit off: with it on, each commit waits for a WAL fsync,
// whose latency on this disk varies more than the cost being measured (throughput of all three
// fell from ~2,600 to ~300 per second within one run), and hides the machinery's CPU cost.
//
// The ratios come from pgbench, the three sides as scripts of one run (each client picks one per
// call), so every side meets the machine as it is at that instant and pays pgbench's C client, not
// this process's event loop. Runs of one side after another met the machine at different moments
// (their ratios ranged 1.15-2.28x within one run, wider than the changes they were to show); calls
// interleaved in this process measured mostly the event loop that serves all four clients (1.12x for
// a path pgbench puts at 1.53x). The rates (what 4 clients of this process sustain on one side alone,
// which the batched step compares with) come from one run per side after the rounds.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { PG_BIN } from "../lib/cluster-user.ts";

const CLIENT_OPTIONS = "-c synchronous_commit=off";

const CLIENTS = 4;

const MODES = ["bare", "report", "legacy"] as const;
type Mode = typeof MODES[number];

async function connectClients(url: string): Promise<pg.Client[]> {
  return await Promise.all(Array.from({ length: CLIENTS }, async () => {
    const c = new pg.Client({ connectionString: url, options: CLIENT_OPTIONS });
    await c.connect();
    return c;
  }));
}

// The three sides, written once: this process's clients pass the job, seq and progress as
// parameters; pgbench's scripts pick a random active job and make the rest in SQL.
const SIDES = {
  bare: (id: string) => `update bench_plain_jobs set updated_at = now() where id = ${id}`,
  report: (id: string, seq: string, progress: string) =>
    `select public.report_job_status(${id}, 1, ${seq}, 'running', ${progress})`,
  legacy: (id: string, progress: string) =>
    `update public.local_training_jobs set status = 'running', config = jsonb_build_object('progress', ${progress}) where id = ${id}`,
};

async function heartbeat(c: pg.Client, mode: Mode, id: string, i: number, seqBase: { n: number }) {
  const progress = (i % 100) / 100;
  if (mode === "bare") await c.query(SIDES.bare("$1"), [id]);
  else if (mode === "report") await c.query(SIDES.report("$1", "$2", "$3"), [id, ++seqBase.n, progress]);
  else await c.query(SIDES.legacy("$1", "$2::float"), [id, progress]);
}

const jobFor = (active: string[], k: number, i: number) => active[(k * 7919 + i * 104729) % active.length]!;

const PICK = "(select id from bench_heartbeat_ids where n = :n)";
const SCRIPTS: Record<Mode, string> = {
  bare: SIDES.bare(PICK),
  report: SIDES.report(PICK, "nextval('bench_heartbeat_seq')", "random()"),
  legacy: SIDES.legacy(PICK, "random()"),
};

// One round: a pgbench run of `seconds` with every side's script at equal weight. Returns each side's
// mean latency in ms, as pgbench reports it per script.
async function interleavedRound(url: string, dir: string, seconds: number): Promise<Record<Mode, number>> {
  const args = ["-n", "-M", "prepared", "-c", String(CLIENTS), "-j", "2", "-T", String(seconds)];
  for (const mode of MODES) args.push("-f", join(dir, `${mode}.sql`));
  const { stdout } = await promisify(execFile)(join(PG_BIN, "pgbench"), [...args, url], {
    env: { ...process.env, PGOPTIONS: CLIENT_OPTIONS },
  });
  // "SQL script 2: /tmp/…/report.sql" … " - latency average = 0.350 ms", one block per script.
  const latency = {} as Record<Mode, number>;
  for (const block of stdout.split("SQL script ").slice(1)) {
    const mode = MODES.find((m) => block.includes(`${m}.sql`))!;
    latency[mode] = Number(/latency average = ([\d.]+) ms/.exec(block)![1]);
  }
  if (MODES.some((m) => !(latency[m] > 0))) throw new Error(`pgbench gave no latency per script:\n${stdout}`);
  return latency;
}

// One side alone: the rate CLIENTS clients sustain.
async function load(
  url: string,
  mode: Mode,
  active: string[],
  perClient: number,
  seqBase: { n: number },
): Promise<number> {
  const clients = await connectClients(url);
  const start = process.hrtime.bigint();
  await Promise.all(clients.map(async (c, k) => {
    for (let i = 0; i < perClient; i++) await heartbeat(c, mode, jobFor(active, k, i), i, seqBase);
  }));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await Promise.all(clients.map((c) => c.end())); // a backend flushes its table stats as it exits
  return (CLIENTS * perClient) / seconds;
}

export async function benchHeartbeats(
  url: string,
  active: string[],
  { perClient, rounds, roundSeconds }: { perClient: number; rounds: number; roundSeconds: number },
) {
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
  await db.query("drop table if exists bench_heartbeat_ids");
  const ids = "select n::int, id from unnest($1::uuid[]) with ordinality as a(id, n)";
  await db.query(`create table bench_heartbeat_ids as ${ids}`, [active]);
  await db.query("alter table bench_heartbeat_ids add primary key (n)");
  // Above the seqs this process's warm-up sends: a report at or below the job's last seq is ignored
  // (and cheaper), so pgbench's must be newer; this process goes on from pgbench's after the rounds.
  await db.query("drop sequence if exists bench_heartbeat_seq");
  await db.query("create sequence bench_heartbeat_seq start 1000000000");
  const dir = await mkdtemp(join(tmpdir(), "bench-heartbeats-"));
  for (const mode of MODES) {
    await writeFile(join(dir, `${mode}.sql`), `\\set n random(1, ${active.length})\n${SCRIPTS[mode]};\n`);
  }
  const seq = { n: 0 };
  await load(url, "report", active, 500, seq); // warm-up
  await load(url, "bare", active, 500, seq);

  await db.query("select pg_stat_reset_single_table_counters('public.local_training_jobs'::regclass)");
  const latencies: Record<Mode, number>[] = [];
  for (let r = 0; r < rounds; r++) latencies.push(await interleavedRound(url, dir, roundSeconds));
  seq.n = Number((await db.query("select last_value from bench_heartbeat_seq")).rows[0].last_value);
  const rates = {} as Record<Mode, number>;
  for (const mode of MODES) rates[mode] = await load(url, mode, active, perClient, seq);
  await new Promise((r) => setTimeout(r, 1_500));
  const { rows: [stats] } = await db.query(
    "select n_tup_upd::bigint as upd, n_tup_hot_upd::bigint as hot from pg_stat_user_tables where relid = 'public.local_training_jobs'::regclass",
  );
  await db.query("drop table bench_plain_jobs");
  await db.query("drop table bench_heartbeat_ids");
  await db.query("drop sequence bench_heartbeat_seq");
  await rm(dir, { recursive: true, force: true });
  await db.end();
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  // A round's ratio compares calls made side by side; the median of them is the figure, their
  // spread says how much to trust it.
  const perRound = (mode: Mode) => latencies.map((l) => l[mode] / l.bare);
  const meanLatency = (mode: Mode) => mean(latencies.map((l) => l[mode]));
  return {
    ...rates,
    latencyMs: Object.fromEntries(MODES.map((mode) => [mode, meanLatency(mode)])) as Record<Mode, number>,
    reportRatios: perRound("report"),
    legacyRatios: perRound("legacy"),
    updates: Number(stats.upd),
    hot: Number(stats.hot),
    clients: CLIENTS,
  };
}
