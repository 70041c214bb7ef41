// Watches one act until every tracked job reads the truth (or time runs out), drawing the table
// live on a terminal and every 5 s in a log. The schedule is compressed: pg_cron's stored command,
// every few seconds instead of ten minutes.
import { formatSilence, renderTable } from "./render.ts";
import { type Act, DEMO_TIMINGS as T } from "./scenarios.ts";
import type { Stage } from "./stage.ts";

export interface Progress {
  staleAt?: number;
  fixedAt?: number;
  final?: string;
}

const TIMEOUT_S = 75;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function watchAct(act: Act, s: Stage, elapsed: () => number, events: string[]) {
  const tty = Boolean(process.stdout.isTTY);
  let ticks = 0;
  const tickOnce = () => s.pool.query(s.cronCommand).then(() => ticks++).catch(() => undefined);
  const tick = setInterval(() => void tickOnce(), T.tickMs);
  void tickOnce();
  const progress = new Map<string, Progress>(act.tracked.map((t) => [t.key, {}]));
  let lastFrame = -Infinity;
  try {
    for (;;) {
      const { rows } = await s.pool.query(
        `select v.id, v.model_name, v.status, v.effective_status, v.status_reason, v.cancel_answer,
                -- the seed's writer keeps progress in config; the writer side in its own column
                coalesce(v.progress, (v.config ->> 'progress')::float) as progress,
                extract(epoch from v.silent_for)::float as silent,
                (select array_agg(coalesce(h.from_status, '∅') || '→' || h.to_status order by h.id)
                   from public.local_training_job_history h where h.job_id = v.id) as history
         from public.local_training_jobs_effective v where v.user_id = $1 order by v.created_at`,
        [s.userId],
      );
      const now = elapsed();
      for (const t of act.tracked) {
        const row = rows.find((r) => r.id === s.ids.get(t.key));
        const state = progress.get(t.key)!;
        if (!row) continue;
        if (row.effective_status === "stale" && state.staleAt === undefined) state.staleAt = now;
        if (state.fixedAt === undefined && t.fixed(row, row.history ?? [])) state.fixedAt = now;
        state.final = `${row.status}${row.status_reason ? ` (${row.status_reason})` : ""}`;
      }
      const { rows: [run] } = await s.pool.query(
        "select outcome, counts from jobs_private.reconcile_passes where outcome <> 'running' order by started_at desc limit 1",
      );
      const frame = renderTable(
        `${act.title} — t+${now.toFixed(1)}s   passes: ${ticks} (every ${T.tickMs / 1000} s; last: ${
          run ? `${run.outcome}, ${JSON.stringify(run.counts?.applied ?? {})}` : "none yet"
        })`,
        rows.map((r) => ({
          model: r.model_name,
          status: r.status,
          effective: r.effective_status,
          silent: formatSilence(r.silent),
          progress: r.progress,
          reason: r.status_reason ?? (r.cancel_answer ? `cancel: ${r.cancel_answer}` : null),
        })),
        tty,
      ) + `\n\n${events.slice(-6).join("\n")}\n`;
      const done = act.tracked.every((t) => progress.get(t.key)!.fixedAt !== undefined);
      if (tty || now - lastFrame >= 5 || done) {
        lastFrame = now;
        if (tty) process.stdout.write("\x1b[2J\x1b[H");
        console.log(frame);
      }
      if (done) return { converged: true, progress };
      if (now > TIMEOUT_S) return { converged: false, progress };
      await sleep(tty ? 400 : 250);
    }
  } finally {
    clearInterval(tick);
  }
}
