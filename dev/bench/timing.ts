// Timing helpers: side-by-side measurements in one run, reported as ratios.
export const ms = (ns: bigint) => Number(ns) / 1e6;

export async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return ms(process.hrtime.bigint() - start);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `run` done `n` times (odd), one after another; the run whose `key` is the median, whole: its other figures stay its own. */
export async function medianRun<T>(n: number, run: () => Promise<T>, key: (run: T) => number): Promise<T> {
  if (n % 2 === 0) throw new Error("medianRun needs an odd number of runs");
  const runs: T[] = [];
  for (let i = 0; i < n; i++) runs.push(await run());
  return runs.sort((a, b) => key(a) - key(b))[(n - 1) / 2]!;
}

/** Runs a and b alternately, `rounds` times each, so drift hits both alike; returns per-call times. */
export async function interleave(
  rounds: number,
  a: (i: number) => Promise<unknown>,
  b: (i: number) => Promise<unknown>,
) {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      ta.push(await timeIt(() => a(i)));
      tb.push(await timeIt(() => b(i)));
    } else {
      tb.push(await timeIt(() => b(i)));
      ta.push(await timeIt(() => a(i)));
    }
  }
  return { a: ta, b: tb };
}

export interface Row {
  what: string;
  comparedWith: string;
  measured: string;
  ratio: string;
  target: string;
  met: boolean | null;
}
