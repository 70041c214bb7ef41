// The hostile-backend fuzz suite, a few hundred answers (npm run fuzz runs 10,000): real passes
// against a real database, a real healthy backend and a real hostile one over HTTP.
import { afterAll, beforeAll, expect, it } from "vitest";
import { runHostileFuzz } from "../../../dev/fuzz/hostile-pass.ts";
import { freshDatabase, type TestDatabase } from "../../../dev/lib/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => db?.drop());

it("holds every invariant for 300 generated hostile answers through the pass's core", async () => {
  const result = await runHostileFuzz({ databaseUrl: db.url, runs: 300, seed: 20261130 });
  expect(result.runs).toBe(300);
}, 120_000);

it("holds every invariant for 8 of them through the real function under Deno", async () => {
  const result = await runHostileFuzz({ databaseUrl: db.url, runs: 8, seed: 20261131, via: "deno" });
  expect(result.runs).toBe(8);
}, 120_000);
