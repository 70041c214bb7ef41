// The tests' side of serving the function: a fixed secret, and the shared helper.
export { freePort, serveReconcileFunction, type ServedFunction } from "../../../scripts/lib/serve-function.ts";

export const TEST_SECRET = "test-secret-0123456789abcdef";
