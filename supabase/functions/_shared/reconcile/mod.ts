// The reconciler's front door: everything outside this folder (the Edge Function, the operator
// CLI, the tests, the dev tools) imports from here, so the files behind it can move freely.

// Running a pass, and what it reports.
export { type PassOptions, runReconcilePass } from "./pass.ts";
export type { DryRunPass, FinishedPass, PassSummary, SkippedPass } from "./pass-summary.ts";
export {
  type FunctionConfig,
  loadCliEnv,
  loadFunctionConfig,
  readPassSettings,
  type ReconcileConfig,
  type SettingsOverrides,
} from "./config.ts";
export { bearerMatches } from "./auth.ts";
export { errorMessage } from "./http-json.ts";

// The pure decisions, exported for their tests and for tools that explain a pass.
export {
  type Action,
  decide,
  type LeaveReason,
  type ObservedJob,
  PRESUMED_DEATHS,
  REASON_HEARTBEAT_LOST,
} from "./decide.ts";
export { describeHolds, GuardTally, holdSudden } from "./guard.ts";
export { addChange, type Decision } from "./changes.ts";
export { CHANGE_ROW_FIELDS, type ChangeColumns, changesJson, emptyChangeColumns } from "./database.ts";
export { type BackendAnswer, isStoredMarker, markerProgress, parseJobEntry } from "./backend-answer.ts";
export { OBSERVED_ROW_FIELDS, readObservedRow } from "./stored-row.ts";

// The input boundary: what a backend or a row may put into the pass.
export { checkBackendUrl, normalizeBackendUrl, withoutCredentials } from "./backend-url.ts";
export { storableDeep, storableText, strictTimestamp } from "./sanitize.ts";
export { applyWithBulkhead } from "./bulkhead.ts";
export { cursorBefore, type ListEntry, pageOrderError } from "./list-pages.ts";
export { type BackendSession, openBackend } from "./backend-client.ts";
export { canonicalJobId } from "./backend-answer.ts";
