// The randomized fault suite, a quick seed count (npm run faults runs 10,000 interleavings).
import { afterAll, beforeAll, expect, it } from "vitest";
import { runFaultSuite } from "../../../dev/faults/fault-suite.ts";
import { freshDatabase, type TestDatabase } from "../../../dev/lib/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => db?.drop());

it("holds every invariant after every step of 40 seeded interleavings of faults", async () => {
  const result = await runFaultSuite({ databaseUrl: db.url, runs: 40, seed: 20261129 });
  expect(result.runs).toBe(40);
  console.log(JSON.stringify(result));
  expect(result.passes.ok).toBeGreaterThan(0);
}, 300_000);
