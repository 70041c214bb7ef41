// The pass settings both fuzz suites run with: short timeouts and small caps keep 10,000 passes
// fast, and the guard is off so each pass decides alone.
import { loadPassConfig, type ReconcileConfig } from "../../supabase/functions/_shared/reconcile/mod.ts";

export const GRACE_S = 120;

export const FUZZ_SETTINGS = {
  RECONCILE_REQUEST_TIMEOUT_MS: "300",
  RECONCILE_DEADLINE_MS: "5000",
  RECONCILE_CONCURRENCY: "4",
  RECONCILE_GRACE_SECONDS: String(GRACE_S),
  RECONCILE_HARD_TIMEOUT_SECONDS: "600",
  RECONCILE_GUARD_MIN_JOBS: "1000000",
  RECONCILE_MAX_LIST_BYTES: "65536",
  RECONCILE_MAX_STATUS_BYTES: "16384",
};

export function fuzzPassConfig(backendUrl: string): ReconcileConfig {
  const loaded = loadPassConfig({ BACKEND_URL: backendUrl, ...FUZZ_SETTINGS });
  if (!loaded.ok) throw new Error(loaded.error);
  return loaded.config;
}
