// POST /api/training/local/jobs: the seed's persist endpoint (training_server.py's persist_job()),
// now going through report_job_status() instead of a blind upsert.
//
// Body: the seed's job dict (id or job_id, status, user_id, model_name, config with progress and
// error, ...) plus `attempt` and `seq` when the backend sends them.
//   - No row yet and the body carries the job's fields (user_id, model_name or config): the row
//     is created (the job's first report; the seed sends them with every report).
//   - attempt absent: the row's current attempt (a backend that knows no attempts writes the current run).
//   - seq absent: this process's clock in µs (see fallbackSeq for why that is weaker).
// Answers, so that the backend's retries are safe:
//   200 {outcome, status, attempt, seq, cancel_requested, created} for every outcome: applied,
//       ignored_stale, ignored_terminal, revived, refused_fenced (the database already knows better);
//   400 malformed body or a value the database refuses, 401 wrong secret, 404 unknown job and a
//       bare report without the job's fields (all dropped by the Python adapter, never retried);
//   500/503 only for real failures (the adapter keeps the report in its journal and retries).
import { answer, failure } from "@/lib/answers";
import { checkBackendSecret } from "@/lib/backend-secret";
import { jobsStore } from "@/lib/jobs-store";
import { parsePersistBody } from "@/lib/persist-report";

export const dynamic = "force-dynamic";

export async function POST(request: Request) {
  const secret = checkBackendSecret(request.headers.get("authorization"));
  if (secret === "missing_config") {
    return answer(500, { error: "TRAINING_BACKEND_SECRET is not configured (16+ characters)" });
  }
  if (secret === "wrong") return answer(401, { error: "wrong or missing backend secret" });

  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return answer(400, { error: "the body is not JSON" });
  }
  const parsed = parsePersistBody(body);
  if (!parsed.ok) return answer(400, { error: parsed.message });

  try {
    const result = await (await jobsStore()).persistReport(parsed.report);
    if (result.kind === "unknown_job") {
      return answer(404, {
        error:
          `job ${parsed.report.jobId} does not exist and the report carries none of its fields (user_id, model_name, config) to create it`,
      });
    }
    return answer(200, { ...result.answer, created: result.created });
  } catch (error) {
    return failure(error);
  }
}
