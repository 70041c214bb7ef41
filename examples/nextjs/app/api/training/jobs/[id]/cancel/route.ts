// POST /api/training/jobs/{id}/cancel: the signed-in user asks to cancel their own active job.
// The database records a request (the job reads 'cancelling'); the reconciler forwards it to the
// backend, and the job becomes 'cancelled' only when the backend or its writer says it stopped.
import { answer, failure } from "@/lib/answers";
import { currentUserId } from "@/lib/current-user";
import { jobsStore } from "@/lib/jobs-store";

export const dynamic = "force-dynamic";

export async function POST(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const userId = await currentUserId();
  if (!userId) return answer(401, { error: "sign in first" });
  const { id } = await params;
  if (!/^[0-9a-f-]{36}$/i.test(id)) return answer(404, { error: "no such job" });
  try {
    const result = await (await jobsStore()).requestCancel(userId, id);
    switch (result.kind) {
      case "requested":
        return answer(202, { job: result.job });
      case "finished":
        return answer(409, {
          error: `the job already ${result.job.status === "cancelled" ? "was cancelled" : result.job.status}`,
          job: result.job,
        });
      case "not_found":
        return answer(404, { error: "no such job" });
    }
  } catch (error) {
    return failure(error);
  }
}
