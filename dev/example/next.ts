// `npm run example:next`: the Next.js kit (examples/nextjs) against the local stack, with the
// pg store, a seeded demo user and a few jobs, signed in as that user (dev-only sign-in).
//   npm run example:next               next dev on http://127.0.0.1:3000 (PORT= for another)
//   npm run example:next -- --build    next build, then next start (what the tests run)
// DATABASE_URL points it at another database prepared like the local stack.
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import pg from "pg";
import { backdateJob } from "../lib/backdate.ts";
import { localStackUrl } from "../lib/local-stack.ts";
import { ensureNextExampleBuilt, ensureNextExampleDeps, nextBin, nextExampleDir } from "../lib/nextjs-example.ts";

const DEMO_USER_ID = "00000000-0000-4000-8000-00000000de30";
const build = process.argv.includes("--build");
const port = process.env.PORT ?? "3000";
const databaseUrl = process.env.DATABASE_URL ?? localStackUrl();
const secret = process.env.TRAINING_BACKEND_SECRET ?? randomBytes(16).toString("hex");

/** The demo user and, the first time, a few jobs: one alive, two ghosts, two finished. */
async function seedDemo(): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl });
  try {
    await pool.query("insert into auth.users (id, email) values ($1, 'demo@example.com') on conflict (id) do nothing", [
      DEMO_USER_ID,
    ]);
    const { rows } = await pool.query("select count(*)::int as n from public.local_training_jobs where user_id = $1", [
      DEMO_USER_ID,
    ]);
    if (rows[0].n > 0) return;
    const add = async (model: string, status: string, silentSeconds: number, reason: string | null = null) => {
      const { rows: [job] } = await pool.query(
        `insert into public.local_training_jobs (user_id, model_name, status, status_reason, started_at, backend_url)
         values ($1, $2, $3, $4, now() - make_interval(secs => $5 + 600), 'http://127.0.0.1:9') returning id`,
        [DEMO_USER_ID, model, status, reason, silentSeconds],
      );
      if (silentSeconds > 0) await backdateJob(pool, job.id, silentSeconds, { createdToo: true });
    };
    await add("bert-base-ner", "completed", 3 * 86_400);
    await add("gpt2-distill", "failed", 86_400, "CUDA out of memory");
    await add("llama-3-8b-lora", "running", 3 * 86_400); // the seed's "running since 11/11"
    await add("mistral-7b-sft", "running", 5 * 60); // stale: past the 2-minute threshold
    await add("resnet50-finetune", "running", 0); // alive (until it stays silent 2 min)
  } finally {
    await pool.end();
  }
}

ensureNextExampleDeps();
await seedDemo();
if (build) ensureNextExampleBuilt();
console.log(`example:next: http://127.0.0.1:${port}/training as demo@example.com (dev-only sign-in, pg store)`);
console.log(
  `example:next: persist route POST http://127.0.0.1:${port}/api/training/local/jobs with Authorization: Bearer ${secret}`,
);
execFileSync(process.execPath, [nextBin, build ? "start" : "dev", "-p", port, "-H", "127.0.0.1"], {
  cwd: nextExampleDir,
  stdio: "inherit",
  env: {
    ...process.env,
    NEXT_TELEMETRY_DISABLED: "1",
    DATABASE_URL: databaseUrl,
    EXAMPLE_USER_ID: DEMO_USER_ID,
    TRAINING_BACKEND_SECRET: secret,
  },
});
