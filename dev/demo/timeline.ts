// The faults of one act, at fixed times after it starts. Returns a stop function.
import type { Act } from "./scenarios.ts";
import { requestCancelAsUser } from "../lib/transaction.ts";
import type { Stage } from "./stage.ts";

export function playTimeline(act: Act, s: Stage, say: (text: string) => void): () => void {
  const id = (key: string) => s.ids.get(key)!;
  const has = (key: string) => act.tracked.some((t) => t.key === key);
  const seed = act.flavor === "seed";
  const events: [number, string, () => unknown][] = [
    [3, "backend B crashes (its job's heartbeats stop)", () => s.simB.crash()],
    [
      3,
      seed
        ? "process-killed: training and monitor die; the seed's dict still says running"
        : "process-killed: the training process and its monitor die",
      () => s.simA.killProcess(id("killed")),
    ],
    [
      3,
      "api-down-persist: the Next.js API goes down; persist_job() fails",
      () => s.simA.persistenceDownFor.add(id("apidown")),
    ],
    [3, "lost-by-backend-1: backend A loses the job", () => s.simA.lose(id("lost1"))],
    [3, "cancel-requested: the user presses cancel", () => requestCancelAsUser(s.pool, s.userId, id("cancel"))],
    [6, "lost-by-backend-2: backend A loses the job", () => s.simA.lose(id("lost2"))],
    [13, "api-down-persist finishes training; its final persist_job() fails too", () => s.simA.finish(id("apidown"))],
    [20, "healthy-training finishes", () => s.simA.finish(id("live"))],
  ];
  if (has("partition")) {
    events.push(
      [3, "network-partition: worker and backend C cut off", () => {
        s.proxy.cut();
        s.simC.mode = "hang";
      }],
      [16, "network-partition heals: the worker's journal is replayed", () => {
        s.proxy.restore();
        s.simC.mode = "normal";
      }],
      [20, "network-partition finishes training", () => {
        s.simC.adopt({ id: id("partition"), status: "completed" });
        return s.partitioned!.complete();
      }],
    );
  }
  const timers = events.map(([at, text, action]) =>
    setTimeout(async () => {
      say(text);
      await Promise.resolve().then(action).catch((e: Error) => say(`  (failed: ${e.message})`));
    }, at * 1000)
  );
  return () => timers.forEach(clearTimeout);
}
