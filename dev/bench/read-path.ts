// Read path: a user's 20 newest jobs, as the Next.js route loads them, through RLS as that user.
//   view:  local_training_jobs_effective (staleness derived at read time)
//   table: local_training_jobs (raw rows, the seed's route today)
//   fix 2: the raw rows, then one backend status call per running row (the seed's proposed Fix 2)
import pg from "pg";
import type { TrainingBackendSimulator } from "../simulator/training-backend.ts";
import { interleave, median, timeIt } from "./timing.ts";

const COLUMNS = "id, model_name, status, started_at, completed_at, created_at";
const VIEW =
  `select ${COLUMNS}, effective_status from public.local_training_jobs_effective where user_id = $1 order by created_at desc limit 20`;
const TABLE = `select ${COLUMNS} from public.local_training_jobs where user_id = $1 order by created_at desc limit 20`;

// Named, so each is planned once per connection, as PostgREST prepares its statements.
const view = (userId: string) => ({ name: "bench-view-page", text: VIEW, values: [userId] });
const table = (userId: string) => ({ name: "bench-table-page", text: TABLE, values: [userId] });

async function asUser(db: pg.Client, userId: string): Promise<void> {
  await db.query("select set_config('request.jwt.claims', $1, false)", [
    JSON.stringify({ sub: userId, role: "authenticated" }),
  ]);
}

export async function explainUserPage(db: pg.Client, userId: string): Promise<string> {
  await db.query("set role authenticated");
  await asUser(db, userId);
  const { rows } = await db.query(
    `explain (analyze, buffers, costs off, timing off) ${VIEW.replace("$1", `'${userId}'`)}`,
  );
  await db.query("reset role");
  return rows.map((r) => r["QUERY PLAN"]).join("\n");
}

export async function benchReadPath(url: string, users: string[], sim: TrainingBackendSimulator, rounds: number) {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  await db.query("set role authenticated");
  const user = (i: number) => users[i % users.length]!;
  // Warm both paths before measuring.
  for (let i = 0; i < 200; i++) {
    await asUser(db, user(i));
    await db.query(view(user(i)));
    await db.query(table(user(i)));
  }
  // Each user's rows are read once untimed first, so neither side pays for bringing the pages into
  // shared buffers (1M rows do not all fit); then both orders, view first and table first.
  const viewVsTable = { view: [] as number[], table: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    await asUser(db, user(i));
    await db.query(table(user(i)));
    const pair = await interleave(2, () => db.query(view(user(i))), () => db.query(table(user(i))));
    viewVsTable.view.push(...pair.a);
    viewVsTable.table.push(...pair.b);
  }

  const fix2 = async (i: number) => {
    const { rows } = await db.query(table(user(i)));
    for (const row of rows.filter((r) => r.status === "running")) {
      const response = await fetch(`${sim.url}/api/training/status/${row.id}`);
      await response.json();
    }
  };
  const page = { view: [] as number[], fix2: [] as number[] };
  let calls = 0;
  const before = sim.statusRequests;
  for (let i = 0; i < Math.min(rounds, 1_000); i++) {
    await asUser(db, user(i));
    await db.query(table(user(i))); // warm, as above: neither side pays for the user's pages
    page.view.push(await timeIt(() => db.query(view(user(i)))));
    page.fix2.push(await timeIt(() => fix2(i)));
  }
  calls = sim.statusRequests - before;
  await db.end();
  return {
    viewMs: median(viewVsTable.view),
    tableMs: median(viewVsTable.table),
    pageViewMs: median(page.view),
    fix2Ms: median(page.fix2),
    callsPerPage: calls / page.fix2.length,
  };
}
