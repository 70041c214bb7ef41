import { RecentTrainingJobs } from "@/components/recent-training-jobs";

export const metadata = { title: "Recent Training Jobs" };

export default function TrainingPage() {
  return <RecentTrainingJobs />;
}
