import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ACTIVE_STATUSES, JOB_STATUSES } from "../../functions/_shared/job-status.ts";
import { freshDatabase, type TestDatabase } from "../../../dev/lib/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => db?.drop());

async function allowedByConstraint(client: pg.Pool, constraint: string): Promise<string[]> {
  const { rows } = await client.query<{ def: string }>(
    "select pg_get_constraintdef(oid) as def from pg_constraint where conname = $1",
    [constraint],
  );
  return [...rows[0]!.def.matchAll(/'([a-z]+)'::text/g)].map((m) => m[1]!);
}

it("JOB_STATUSES in TypeScript equals the statuses the database accepts", async () => {
  expect(await allowedByConstraint(db.pool, "local_training_jobs_status_is_known")).toEqual([...JOB_STATUSES]);
});

it("ACTIVE_STATUSES in TypeScript equals jobs_private.active_statuses(), the database's one list", async () => {
  const { rows } = await db.pool.query<{ statuses: string[] }>("select jobs_private.active_statuses() as statuses");
  expect(rows[0]!.statuses).toEqual([...ACTIVE_STATUSES]);
});
