// The mass-outage guard (Kubernetes' "disruption mode"), per backend: when a pass would presume
// most of a backend's recently-alive jobs dead at once, the detector is more likely wrong than the
// fleet dead, so those deaths wait.
//
// A mass outage is sudden; accumulated ghosts are not. Only presumed deaths of jobs heard from
// within the hard timeout count, and only they are held. Jobs silent longer are decided whatever
// happens, so every hold ends: a held job is either heard from or silent past the hard timeout.
import { type Action, isPresumedDeath, type LeaveReason } from "./decide.ts";

export interface GuardPolicy {
  /** Hold when more than this share of a backend's recently-alive jobs would be presumed dead... */
  share: number;
  /** ...and at least this many. */
  minJobs: number;
  /** "Recently alive": a sign of life within this long. */
  hardTimeoutMs: number;
}

export interface GuardedDecision {
  action: Action;
  backendUrl: string;
  job: { silentMs: number; presumedDead: boolean };
}

export interface Hold {
  backendUrl: string;
  held: number;
  recentlyAlive: number;
}

/** A presumed death of a job heard from within the hard timeout: the only kind the guard holds. */
export const isSudden = (d: GuardedDecision, hardTimeoutMs: number) =>
  isPresumedDeath(d.action) && d.job.silentMs <= hardTimeoutMs;

/**
 * What the guard needs to know of a pass, as counts per backend, so a pass that decides page by
 * page keeps only these between pages.
 */
export class GuardTally {
  private readonly perBackend = new Map<string, { sudden: number; recentlyAlive: number }>();
  presumedDeaths = 0;

  constructor(private readonly policy: GuardPolicy) {}

  count(d: GuardedDecision): void {
    const counts = this.perBackend.get(d.backendUrl) ?? { sudden: 0, recentlyAlive: 0 };
    if (!d.job.presumedDead && d.job.silentMs <= this.policy.hardTimeoutMs) counts.recentlyAlive++;
    if (isSudden(d, this.policy.hardTimeoutMs)) counts.sudden++;
    if (isPresumedDeath(d.action)) this.presumedDeaths++;
    this.perBackend.set(d.backendUrl, counts);
  }

  /**
   * The backends whose sudden deaths are held: more than `share` of their recently-alive jobs, and at least `minJobs`.
   */
  holds(): Hold[] {
    const holds: Hold[] = [];
    for (const [backendUrl, c] of this.perBackend) {
      if (c.sudden >= this.policy.minJobs && c.sudden > this.policy.share * c.recentlyAlive) {
        holds.push({ backendUrl, held: c.sudden, recentlyAlive: c.recentlyAlive });
      }
    }
    return holds;
  }

  /** Backends with sudden deaths that are not held: theirs are applied. */
  released(): string[] {
    const held = new Set(this.holds().map((h) => h.backendUrl));
    return [...this.perBackend].filter(([url, c]) => c.sudden > 0 && !held.has(url)).map(([url]) => url);
  }
}

/** The decisions with each held backend's sudden deaths turned into "leave", saying why. */
export function holdSudden<T extends GuardedDecision>(
  decisions: T[],
  held: ReadonlyMap<string, LeaveReason>,
  hardTimeoutMs: number,
): T[] {
  if (held.size === 0) return decisions;
  return decisions.map((d) => {
    const why = held.get(d.backendUrl);
    return why !== undefined && isSudden(d, hardTimeoutMs) ? { ...d, action: { type: "leave", why } } : d;
  });
}

/** For the pass record and the health view: why it was held, and what releases it. */
export function describeHolds(holds: Hold[], hardTimeoutMs: number): string | null {
  if (holds.length === 0) return null;
  const each = holds.map((h) => `${h.held} of ${h.recentlyAlive} recently-alive jobs on ${h.backendUrl}`).join("; ");
  return `held: ${each} would be presumed dead at once (a mass outage is more likely the detector's). ` +
    `Released when they are heard from, or once they are silent for the hard timeout (${
      Math.round(hardTimeoutMs / 1000)
    } s).`;
}
