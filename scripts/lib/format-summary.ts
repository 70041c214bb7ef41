// A pass summary as a short, readable table for operators.
import type { PassSummary } from "../../supabase/functions/_shared/reconcile/pass.ts";

export function formatSummary(s: PassSummary): string {
  const lines = [`pass ${s.pass_id}  outcome: ${s.outcome}${s.dry_run ? " (dry run: nothing written)" : ""}`];
  if (s.outcome === "skipped") return [...lines, `  another pass was running: ${String(s.running_pass)}`].join("\n");
  lines.push(`  active jobs observed: ${String(s.observed)}`);
  const planned = (s.planned ?? {}) as Record<string, number>;
  const applied = (s.applied ?? {}) as Record<string, number>;
  const actions = [...new Set([...Object.keys(planned), ...Object.keys(applied)])].sort();
  if (actions.length) {
    lines.push(`  ${"action".padEnd(26)} ${"planned".padStart(8)} ${"applied".padStart(8)}`);
    for (const a of actions) {
      lines.push(`  ${a.padEnd(26)} ${String(planned[a] ?? 0).padStart(8)} ${s.dry_run ? "       -" : String(applied[a] ?? 0).padStart(8)}`);
    }
  }
  if (s.conflicts) lines.push(`  conflicts (row changed since observed, left alone): ${String(s.conflicts)}`);
  if (s.held) lines.push(`  HELD by the mass-outage guard: ${String(s.presumed_deaths)} presumed deaths not applied`);
  for (const b of (s.backends ?? []) as { url: string; mode: string; reachable: boolean; error: string | null; jobs: number }[]) {
    lines.push(`  backend ${b.url}: ${b.reachable ? "reachable" : "UNREACHABLE"} (${b.mode}, ${b.jobs} jobs)${b.error ? `: ${b.error}` : ""}`);
  }
  if (Array.isArray(s.plan)) {
    for (const p of s.plan as { job_id: string; status: string; silent_for_s: number; action: { type: string } }[]) {
      lines.push(`  ${p.job_id}  ${p.status.padEnd(8)} silent ${String(p.silent_for_s).padStart(6)} s  -> ${p.action.type}`);
    }
  }
  return lines.join("\n");
}
