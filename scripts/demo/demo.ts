// `npm run demo`: the seed's ghosts, shown the way a user sees them.
// The raw table says "running since 11/11"; the effective view says "stale", with no reconciler
// and no call to the backend. Runs in a database of its own on the local stack.
import pg from "pg";
import { localStackUrl, recreateDatabase } from "../lib/local-stack.ts";
import { formatSilence, renderTable, type JobLine } from "./render.ts";

const DEMO_DATABASE = "truthful_jobs_demo";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function snapshot(db: pg.Client): Promise<JobLine[]> {
  const { rows } = await db.query(`
    select model_name, status, effective_status, extract(epoch from silent_for) as silent, status_reason
    from public.local_training_jobs_effective order by created_at`);
  return rows.map((r) => ({
    model: r.model_name, status: r.status, effective: r.effective_status,
    silent: formatSilence(Number(r.silent)), reason: r.status_reason,
  }));
}

async function main(): Promise<void> {
  const started = Date.now();
  console.log("Starting the local stack…");
  const url = await recreateDatabase(localStackUrl(), DEMO_DATABASE);
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query("insert into auth.users (email) values ('demo@example.com') returning id");
    const user = rows[0].id as string;
    // The seed's ghosts: their writers died long ago. Backdated as a frozen row would be.
    await db.query(`
      set session_replication_role = replica;
      insert into public.local_training_jobs (user_id, model_name, status, created_at, started_at, updated_at) values
        ('${user}', 'ghost-since-11-11', 'running', now() - interval '18 days', now() - interval '18 days', now() - interval '18 days'),
        ('${user}', 'ghost-since-11-12', 'pending', now() - interval '17 days', null, now() - interval '17 days'),
        ('${user}', 'finished-last-week', 'completed', now() - interval '7 days', now() - interval '7 days', now() - interval '7 days');
      set session_replication_role = origin;`);
    await db.query(`insert into public.local_training_jobs (user_id, model_name, status) values
        ('${user}', 'live-training', 'running'), ('${user}', 'dies-in-a-moment', 'running')`);
    // Compressed timing for the demo: running is stale after 6 s instead of 2 min.
    await db.query("update public.job_staleness_policy set stale_after = interval '6 seconds' where status = 'running'");

    const frames = 6;
    for (let i = 0; i < frames; i++) {
      // live-training heartbeats every 2 s, as persist_job() does; dies-in-a-moment has stopped.
      await db.query("update public.local_training_jobs set config = jsonb_build_object('progress', $1::float) where model_name = 'live-training'", [i / frames]);
      if (process.stdout.isTTY) process.stdout.write("\x1b[2J\x1b[H");
      console.log(renderTable(`t+${i * 2}s  (running is stale after 6 s in this demo)`, await snapshot(db)));
      console.log();
      await sleep(2000);
    }
    const final = await snapshot(db);
    const stale = final.filter((r) => r.effective === "stale").map((r) => r.model);
    const active = final.filter((r) => ["queued", "pending", "running"].includes(r.status)).length;
    console.log(`Raw table: ${active} rows claim to be active.`);
    console.log(`Effective view: ${stale.length} of them are stale (${stale.join(", ")}); live-training still reads running.`);
    console.log(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  } finally {
    await db.end();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
