// The doctor's rows as a checklist a person reads top to bottom: ✓/✗, what was found, the fix.
export interface DoctorRow {
  position: number;
  check: string;
  ok: boolean;
  detail: string | null;
  fix: string | null;
}

export function formatDoctor(rows: DoctorRow[]): string {
  const width = Math.max(...rows.map((r) => r.check.length));
  const lines = rows.map((r) =>
    `${r.ok ? "✓" : "✗"} ${r.check.padEnd(width)}  ${r.detail ?? ""}${
      r.ok || !r.fix ? "" : `\n  ${" ".repeat(width)}  fix: ${r.fix}`
    }`
  );
  const bad = rows.filter((r) => !r.ok).length;
  lines.push(bad ? `${bad} check(s) failed` : "all checks passed");
  return lines.join("\n");
}
