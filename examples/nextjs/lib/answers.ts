// JSON answers shared by the routes, and how store failures map to HTTP for a caller that retries.
import { NextResponse } from "next/server";
import { ReportRefusedError, StoreUnavailableError } from "./jobs-store";

export const answer = (status: number, body: unknown) =>
  NextResponse.json(body, { status, headers: { "cache-control": "no-store" } });

/** 503 for an unreachable database (the backend retries from its journal), 400 for a refused value, else 500. */
export function failure(error: unknown) {
  if (error instanceof ReportRefusedError) return answer(400, { error: error.message });
  if (error instanceof StoreUnavailableError) return answer(503, { error: `database unavailable: ${error.message}` });
  console.error(error);
  return answer(500, { error: "internal error" });
}
