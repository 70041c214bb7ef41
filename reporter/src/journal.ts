// A durable local journal of reports not yet delivered: JSON lines, fsync'd on every write,
// read back after a restart. Heartbeats of one job's attempt are merged (only the newest is
// kept); terminal reports are never dropped. Past its bound it drops the oldest heartbeats and
// warns.
import { type FileHandle, open, readFile, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { isReport, isTerminal, type Report, sameStream } from "./report.ts";

export interface JournalOptions {
  maxEntries: number;
  onWarning: (message: string) => void;
}

export class Journal {
  private entries: Report[] = [];
  private lines = 0;
  private warned = false;

  private constructor(private readonly path: string, private readonly options: JournalOptions) {}

  static async open(path: string, options: JournalOptions): Promise<Journal> {
    const journal = new Journal(path, options);
    let text = "";
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`read journal ${path}`, { cause: error });
    }
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue; // a line torn by a crash mid-write: it was never acknowledged
      }
      if (isReport(parsed)) journal.merge(parsed);
    }
    journal.lines = journal.entries.length;
    if (text) await journal.rewrite();
    return journal;
  }

  /** Oldest first. */
  pending(): Report[] {
    return [...this.entries].sort((a, b) => a.seq - b.seq);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Appends and fsyncs; merges in memory, and compacts the file when it grows past the bound. */
  async append(reports: Report[]): Promise<void> {
    if (reports.length === 0) return;
    for (const r of reports) this.merge(r);
    this.enforceBound();
    if (this.lines + reports.length > this.options.maxEntries) {
      await this.rewrite();
      return;
    }
    await this.writeDurably(reports.map((r) => JSON.stringify(r) + "\n").join(""), "a");
    this.lines += reports.length;
  }

  /** Everything was delivered: forget it all. */
  async clear(): Promise<void> {
    this.entries = [];
    await this.rewrite();
  }

  /** Forgets delivered reports (by seq) and rewrites the file. */
  async remove(seqs: Set<number>): Promise<void> {
    const before = this.entries.length;
    this.entries = this.entries.filter((r) => !seqs.has(r.seq));
    if (this.entries.length !== before) await this.rewrite();
  }

  private merge(report: Report): void {
    if (!isTerminal(report)) {
      const older = this.entries.find((r) => !isTerminal(r) && sameStream(r, report));
      if (older && older.seq >= report.seq) return;
      if (older) this.entries = this.entries.filter((r) => r !== older);
    }
    if (!this.entries.some((r) => r.seq === report.seq)) this.entries.push(report);
  }

  private enforceBound(): void {
    if (this.entries.length <= this.options.maxEntries) return;
    if (!this.warned) {
      this.options.onWarning(
        `journal ${this.path} reached its bound of ${this.options.maxEntries} reports; dropping the oldest heartbeats (terminal reports are kept)`,
      );
      this.warned = true;
    }
    const heartbeats = this.entries.filter((r) => !isTerminal(r)).sort((a, b) => a.seq - b.seq);
    const excess = this.entries.length - this.options.maxEntries;
    const dropped = new Set(heartbeats.slice(0, excess));
    this.entries = this.entries.filter((r) => !dropped.has(r));
  }

  private async rewrite(): Promise<void> {
    if (this.entries.length === 0) {
      await rm(this.path, { force: true });
      this.lines = 0;
      return;
    }
    // Write aside, fsync, rename: a crash leaves either the old journal or the new one.
    const tmp = `${this.path}.tmp`;
    await this.writeDurably(this.pending().map((r) => JSON.stringify(r) + "\n").join(""), "w", tmp);
    await rename(tmp, this.path);
    await syncDirectory(dirname(this.path));
    this.lines = this.entries.length;
  }

  private async writeDurably(text: string, flags: "a" | "w", path = this.path): Promise<void> {
    let handle: FileHandle | null = null;
    try {
      handle = await open(path, flags);
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle?.close();
    }
  }
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
