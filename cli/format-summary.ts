// A pass summary as a short, readable table for operators.
import type { PassSummary } from "../supabase/functions/_shared/reconcile/mod.ts";

export function formatSummary(s: PassSummary): string {
  const lines = [`pass ${s.pass_id}  outcome: ${s.outcome}${s.dry_run ? " (dry run: nothing written)" : ""}`];
  if (s.outcome === "skipped") return [...lines, `  another pass was running: ${String(s.running_pass)}`].join("\n");
  lines.push(`  active jobs observed: ${s.observed}`);
  const applied: Record<string, number | undefined> = s.outcome === "dry_run" ? {} : s.applied;
  const planned: Record<string, number | undefined> = s.planned;
  const actions = [...new Set([...Object.keys(planned), ...Object.keys(applied)])].sort();
  if (actions.length) {
    lines.push(`  ${"action".padEnd(26)} ${"planned".padStart(8)} ${"applied".padStart(8)}`);
    for (const a of actions) {
      const done = s.outcome === "dry_run" ? "-" : String(applied[a] ?? 0);
      lines.push(`  ${a.padEnd(26)} ${String(planned[a] ?? 0).padStart(8)} ${done.padStart(8)}`);
    }
  }
  if (s.outcome !== "dry_run" && s.conflicts) {
    lines.push(`  conflicts (row changed since observed, left alone): ${s.conflicts}`);
  }
  if (s.held) lines.push(`  HELD by the mass-outage guard: ${s.presumed_deaths} presumed deaths not applied`);
  for (const b of s.backends) {
    const how = `${b.reachable ? "reachable" : "UNREACHABLE"} (${b.mode}, ${b.jobs} jobs)${
      b.error ? `: ${b.error}` : ""
    }`;
    lines.push(`  backend ${b.url}: ${how}`);
  }
  if (s.outcome === "dry_run") {
    for (const p of s.plan) {
      lines.push(
        `  ${p.job_id}  ${p.status.padEnd(8)} silent ${String(p.silent_for_s).padStart(6)} s  -> ${p.action.type}`,
      );
    }
  }
  return lines.join("\n");
}
