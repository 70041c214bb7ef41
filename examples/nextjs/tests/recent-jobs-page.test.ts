// The "Recent Training Jobs" page in a real headless Chromium against the local stack: a ghost
// reads "stale" at once, then "failed — heartbeat lost" after one real reconciler pass; a cancel
// click reads "cancelling…". Saves .local/recent-jobs.png (docs/recent-jobs.png is a copy).
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { backdateJob, makeUser } from "../../../dev/lib/jobs.ts";
import { repoRoot } from "../../../dev/lib/stand-ins.ts";
import { freePort } from "../../../dev/lib/serve-function.ts";
import { type KitFixture, kitFixture } from "./support/app.ts";
import { launchChromium } from "./support/chromium.ts";

const run = promisify(execFile);
let kit: KitFixture;
let browser: Browser;
let page: Page;
let deadBackend: string;
const jobs: Record<string, string> = {};

async function job(
  name: string,
  opts: { status: string; userId?: string; progress?: number; startedMinutesAgo?: number },
) {
  const { rows } = await kit.db.pool.query(
    `insert into public.local_training_jobs (user_id, model_name, status, progress, backend_url, started_at)
     values ($1, $2, $3, $4, $5, now() - make_interval(mins => $6::int)) returning id`,
    [opts.userId ?? kit.userId, name, opts.status, opts.progress ?? null, deadBackend, opts.startedMinutesAgo ?? null],
  );
  return rows[0].id as string;
}

const statusOf = (id: string) => page.$eval(`[data-job-id="${id}"] [data-testid=status]`, (e) => e.textContent);
const lastHeardOf = (id: string) => page.$eval(`[data-job-id="${id}"] [data-testid=last-heard]`, (e) => e.textContent);
const waitForStatus = (id: string, text: string) =>
  page.waitForFunction(
    (sel, want) => document.querySelector(sel)?.textContent === want,
    { timeout: 15_000 },
    `[data-job-id="${id}"] [data-testid=status]`,
    text,
  );

beforeAll(async () => {
  kit = await kitFixture();
  // The training backend every job names: nothing listens there, so every answer is "unreachable".
  deadBackend = `http://127.0.0.1:${await freePort()}`;
  // Oldest first: the page lists newest first.
  jobs.completed = await job("bert-base-ner", { status: "completed", startedMinutesAgo: 95 });
  await backdateJob(kit.db.pool, jobs.completed, 3_600);
  jobs.ghost = await job("llama-3-8b-lora", { status: "running", progress: 0.61, startedMinutesAgo: 48 });
  jobs.silent = await job("mistral-7b-sft", { status: "running", progress: 0.18, startedMinutesAgo: 9 });
  jobs.toCancel = await job("whisper-small-asr", { status: "queued" });
  jobs.healthy = await job("resnet50-finetune", { status: "running", progress: 0.42, startedMinutesAgo: 21 });
  jobs.someoneElses = await job("not-yours", { status: "running", userId: await makeUser(kit.db.pool) });
  // Past the running threshold (2 min), short of the hard timeout (10 min): stale, not yet failed.
  await backdateJob(kit.db.pool, jobs.ghost, 5 * 60);
  await backdateJob(kit.db.pool, jobs.silent, 3 * 60);
  browser = await launchChromium();
  page = await browser.newPage();
  await page.setViewport({ width: 820, height: 600, deviceScaleFactor: 1 });
});
afterAll(async () => {
  await browser?.close();
  await kit?.teardown();
});

it("shows the ghost stale with when it was last heard, and only the user's own jobs", async () => {
  await page.goto(`${kit.app.url}/training`, { waitUntil: "networkidle0" });
  await waitForStatus(jobs.ghost!, "stale");
  expect(await lastHeardOf(jobs.ghost!)).toBe("last heard 5 min ago");
  expect(await statusOf(jobs.healthy!)).toBe("running");
  expect(await statusOf(jobs.completed!)).toBe("completed");
  expect(await page.$(`[data-job-id="${jobs.someoneElses}"]`)).toBeNull();
});

it("reads cancelling… after a cancel click, and the job keeps running until the backend stops it", async () => {
  await page.click(`[data-job-id="${jobs.toCancel}"] button`);
  await waitForStatus(jobs.toCancel!, "cancelling…");
  const { rows } = await kit.db.pool.query(
    "select status, cancel_requested_at from public.local_training_jobs where id = $1",
    [jobs.toCancel],
  );
  expect(rows[0].status).toBe("queued");
  expect(rows[0].cancel_requested_at).not.toBeNull();
  expect(await page.$(`[data-job-id="${jobs.toCancel}"] button`)).toBeNull();
});

it("reads failed — heartbeat lost once a real reconciler pass fails the ghost", async () => {
  // Past the hard timeout, with the backend unreachable: one pass of the real CLI fails it.
  await backdateJob(kit.db.pool, jobs.ghost!, 11 * 60);
  await run("npx", ["--no-install", "tsx", join(repoRoot, "cli/reconcile.ts"), "--once", "--json"], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: kit.db.url, BACKEND_URL: deadBackend },
  });
  // The backend's writer is alive for this one: its heartbeat goes through the persist route.
  await kit.persist({ job_id: jobs.healthy, status: "running", progress: 0.43 });
  await page.reload({ waitUntil: "networkidle0" });
  await waitForStatus(jobs.ghost!, "failed — heartbeat lost");
  expect(await statusOf(jobs.silent!)).toBe("stale");
  expect(await statusOf(jobs.healthy!)).toBe("running");
  expect(await lastHeardOf(jobs.healthy!)).toBe("last heard just now");

  mkdirSync(join(repoRoot, ".local"), { recursive: true });
  await page.screenshot({ path: join(repoRoot, ".local/recent-jobs.png"), fullPage: true });
});

it("refuses a cancel of another user's job (404, as if absent) and of a finished one (409)", async () => {
  const cancel = (id: string) => fetch(`${kit.app.url}/api/training/jobs/${id}/cancel`, { method: "POST" });
  expect((await cancel(jobs.someoneElses!)).status).toBe(404);
  const { rows } = await kit.db.pool.query("select cancel_requested_at from public.local_training_jobs where id = $1", [
    jobs.someoneElses,
  ]);
  expect(rows[0].cancel_requested_at).toBeNull();
  expect((await cancel(jobs.completed!)).status).toBe(409);
});
