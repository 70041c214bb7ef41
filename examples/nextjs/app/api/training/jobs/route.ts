// GET /api/training/jobs: the signed-in user's recent jobs, from the view (replaces the seed's
// route of the same path, which read the table and showed "running since 11/11" for ghosts).
// Render effective_status: 'stale' = no sign of life for longer than the policy allows;
// 'cancelling' = a cancel was requested and the training has not been seen to stop yet.
import { answer, failure } from "@/lib/answers";
import { currentUserId } from "@/lib/current-user";
import { jobsStore } from "@/lib/jobs-store";

export const dynamic = "force-dynamic";

export async function GET() {
  const userId = await currentUserId();
  if (!userId) return answer(401, { error: "sign in first" });
  try {
    const jobs = await (await jobsStore()).listRecentJobs(userId, 20);
    return answer(200, { jobs });
  } catch (error) {
    return failure(error);
  }
}
