// Progress of a long run (npm run bench, npm run faults): which phase, how far, about how long is
// left. On a terminal one live line, redrawn at most 10 times a second; otherwise (CI, a log
// file) one line per phase when it ends, so logs stay short and still show where time went.
export interface ProgressOptions {
  label: string;
  phases: number;
  stream?: NodeJS.WriteStream;
}

export class Progress {
  private phase = 0;
  private name = "";
  private phaseStarted = Date.now();
  private readonly started = Date.now();
  private lastDraw = 0;
  private readonly stream: NodeJS.WriteStream;
  private readonly live: boolean;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.live = Boolean(this.stream.isTTY);
  }

  /** A new phase starts (the previous one, if any, is done). */
  start(name: string): void {
    this.endPhase();
    this.phase++;
    this.name = name;
    this.phaseStarted = Date.now();
    this.draw(`${this.prefix()} ${name}…`, true);
  }

  /** How far the phase is: `done` of `total` units (runs, rounds, seconds). */
  tick(done: number, total: number): void {
    if (!this.live) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && done < total) return;
    const elapsed = (now - this.phaseStarted) / 1000;
    const left = done > 0 ? (elapsed * (total - done)) / done : NaN;
    const pct = total > 0 ? Math.floor((100 * done) / total) : 0;
    this.draw(
      `${this.prefix()} ${this.name}: ${done}/${total} (${pct}%), ${elapsed.toFixed(0)} s, ~${
        Number.isFinite(left) ? left.toFixed(0) : "?"
      } s left`,
    );
  }

  /** Writes a line that stays (a finding, a warning) without breaking the live line. */
  note(message: string): void {
    if (this.live) this.stream.write("\r\x1b[2K");
    this.stream.write(`${this.options.label}: ${message}\n`);
  }

  /** The run is over: the last phase ends, and the total time is printed. */
  finish(): void {
    this.endPhase();
    this.phase = 0;
    this.note(`done in ${((Date.now() - this.started) / 1000).toFixed(0)} s`);
  }

  private endPhase(): void {
    if (this.phase === 0) return;
    const took = ((Date.now() - this.phaseStarted) / 1000).toFixed(1);
    if (this.live) this.stream.write("\r\x1b[2K");
    this.stream.write(`${this.prefix()} ${this.name}: done in ${took} s\n`);
  }

  private prefix(): string {
    return `${this.options.label}: [${this.phase}/${this.options.phases}]`;
  }

  private draw(text: string, force = false): void {
    if (!this.live) return;
    if (!force && Date.now() - this.lastDraw < 100) return;
    this.lastDraw = Date.now();
    const width = (this.stream.columns ?? 120) - 1;
    this.stream.write(`\r\x1b[2K${text.slice(0, width)}`);
  }
}
