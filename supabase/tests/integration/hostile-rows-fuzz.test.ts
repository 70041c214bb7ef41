// The hostile-row fuzz suite, a few hundred rows (npm run fuzz -- --suite rows runs 10,000): one row
// whose every column the pass reads holds a generated value, beside healthy rows, real passes.
import { afterAll, beforeAll, expect, it } from "vitest";
import { runHostileRowFuzz } from "../../../dev/fuzz/hostile-rows.ts";
import { freshDatabase, type TestDatabase } from "../../../dev/lib/database.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => db?.drop());

it("one odd row costs at most itself, for 300 generated rows through the pass's core", async () => {
  const result = await runHostileRowFuzz({ databaseUrl: db.url, runs: 300, seed: 20261205 });
  expect(result.runs).toBe(300);
}, 180_000);

it("and for 8 of them through the real function under Deno", async () => {
  const result = await runHostileRowFuzz({ databaseUrl: db.url, runs: 8, seed: 20261206, via: "deno" });
  expect(result.runs).toBe(8);
}, 120_000);
