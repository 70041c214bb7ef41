// Renders job rows as a fixed-width terminal table.
export interface JobLine {
  model: string;
  status: string;
  effective: string;
  silent: string;
  progress?: number | null;
  reason: string | null;
}

const bar = (p: number | null | undefined) =>
  p === null || p === undefined
    ? " ".repeat(10)
    : `${"█".repeat(Math.round(p * 8)).padEnd(8, "·")}${String(Math.round(p * 100)).padStart(3)}%`;

const colour: Record<string, string> = {
  running: "\x1b[32m",
  queued: "\x1b[36m",
  pending: "\x1b[36m",
  stale: "\x1b[33m",
  failed: "\x1b[31m",
  completed: "\x1b[34m",
  cancelled: "\x1b[90m",
};
const reset = "\x1b[0m";
const paint = (s: string, tty: boolean) => (tty && colour[s] ? `${colour[s]}${s.padEnd(10)}${reset}` : s.padEnd(10));

export function renderTable(title: string, rows: JobLine[], tty = Boolean(process.stdout.isTTY)): string {
  const head = `${"model".padEnd(20)} ${"stored".padEnd(10)} ${"effective".padEnd(10)} ${"progress".padEnd(12)} ${
    "silent".padEnd(8)
  } reason`;
  const lines = rows.map(
    (r) =>
      `${r.model.padEnd(20)} ${paint(r.status, tty)} ${paint(r.effective, tty)} ${bar(r.progress).padEnd(12)} ${
        r.silent.padEnd(8)
      } ${r.reason ?? ""}`,
  );
  return [title, head, "-".repeat(head.length), ...lines].join("\n");
}

export function formatSilence(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}
