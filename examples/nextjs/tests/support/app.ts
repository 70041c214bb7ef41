// One Next.js kit per test file: built once (only when a source changed), started with
// `next start` on a free port against a fresh database, with the dev-only sign-in and the
// backend secret set.
import { freePort } from "../../../../dev/lib/serve-function.ts";
import {
  ensureNextExampleBuilt,
  ensureNextExampleDeps,
  type RunningNextExample,
  startNextExample,
} from "../../../../dev/lib/nextjs-example.ts";
import { freshDatabase, type TestDatabase } from "../../../../dev/lib/database.ts";
import { makeUser } from "../../../../dev/lib/jobs.ts";

export const BACKEND_SECRET = "test-backend-secret-0123456789";

export interface KitFixture {
  db: TestDatabase;
  app: RunningNextExample;
  userId: string;
  /** POST to the persist route, as the training backend does. */
  persist(body: unknown, secret?: string | null): Promise<{ status: number; body: any }>;
  teardown(): Promise<void>;
}

export async function kitFixture(): Promise<KitFixture> {
  ensureNextExampleDeps();
  ensureNextExampleBuilt();
  const db = await freshDatabase();
  const userId = await makeUser(db.pool, "demo@example.com");
  const app = await startNextExample({
    port: await freePort(),
    env: { DATABASE_URL: db.url, EXAMPLE_USER_ID: userId, TRAINING_BACKEND_SECRET: BACKEND_SECRET },
  });
  return {
    db,
    app,
    userId,
    async persist(body, secret = BACKEND_SECRET) {
      const response = await fetch(`${app.url}/api/training/local/jobs`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(secret === null ? {} : { authorization: `Bearer ${secret}` }),
        },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    },
    async teardown() {
      await app.stop();
      await db.drop();
    },
  };
}
