// The reporter's front door: what a job runner imports.
export { type JobHandle, type ReporterOptions, StatusReporter } from "./reporter.ts";
export { type BatchResult, pgTransport, type ReportTransport, type RpcClient, rpcTransport } from "./transport.ts";
export type { Report, ReportOutcome, ReportStatus } from "./report.ts";
export { isRetryable } from "./retryable-errors.ts";
