// The pass settings both fuzz suites run with: short timeouts and small caps keep 10,000 passes
// fast, and the guard is off so each pass decides alone.
import type { SettingsOverrides } from "../../supabase/functions/_shared/reconcile/mod.ts";

export const GRACE_S = 120;

export const FUZZ_SETTINGS: SettingsOverrides = {
  request_timeout: "300 milliseconds",
  deadline: "5 seconds",
  concurrency: 4,
  grace: `${GRACE_S} seconds`,
  hard_timeout: "600 seconds",
  guard_min_jobs: 1_000_000,
  max_list_bytes: 65_536,
  max_status_bytes: 16_384,
};

/** The settings of a pass through the Node core: the fuzz settings, and this backend as the default. */
export const fuzzOverrides = (backendUrl: string): SettingsOverrides => ({ ...FUZZ_SETTINGS, backend_url: backendUrl });
