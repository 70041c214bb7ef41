// The mass-outage guard (Kubernetes' "disruption mode"): when a pass would fail most active jobs
// at once, the detector is more likely wrong than the fleet dead, so it fails none of them.
import { type Action, isPresumedDeath } from "./decide.ts";

export interface GuardPolicy {
  /** Hold when more than this share of active jobs would be presumed dead... */
  share: number;
  /** ...and at least this many. */
  minJobs: number;
}

export interface Guarded<T> {
  held: boolean;
  presumedDeaths: number;
  decisions: T[];
}

export function applyMassOutageGuard<T extends { action: Action }>(
  decisions: T[],
  activeJobs: number,
  policy: GuardPolicy,
): Guarded<T> {
  const presumedDeaths = decisions.filter((d) => isPresumedDeath(d.action)).length;
  const held = presumedDeaths >= policy.minJobs && presumedDeaths > policy.share * activeJobs;
  if (!held) return { held, presumedDeaths, decisions };
  return {
    held,
    presumedDeaths,
    decisions: decisions.map((d) =>
      isPresumedDeath(d.action) ? { ...d, action: { type: "leave", why: "held by mass-outage guard" } } : d
    ),
  };
}
