// A tiny job runner built on the reporter, as a training worker would use it. Tests start it as
// a real process (and kill it); it is also the reference for wiring the reporter into a runner.
//
//   DATABASE_URL=... tsx reporter/tests/run-job.ts --job ID --attempt N --journal PATH \
//     [--heartbeats K] [--complete] [--hold]      (--hold: stay alive after reporting, until killed)
import pg from "pg";
import { parseArgs } from "node:util";
import { StatusReporter } from "../src/reporter.ts";
import { pgTransport } from "../src/transport.ts";

const { values } = parseArgs({
  options: {
    job: { type: "string" },
    attempt: { type: "string", default: "1" },
    journal: { type: "string" },
    heartbeats: { type: "string", default: "0" },
    complete: { type: "boolean", default: false },
    hold: { type: "boolean", default: false },
  },
});
if (!values.job || !values.journal || !process.env.DATABASE_URL) {
  console.error(
    "usage: DATABASE_URL=... run-job.ts --job ID --journal PATH [--attempt N] [--heartbeats K] [--complete] [--hold]",
  );
  process.exit(2);
}

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 2_000, max: 2 });
pool.on("error", () => undefined);
const reporter = await StatusReporter.open({
  journalPath: values.journal,
  transport: pgTransport(pool),
  backoff: { baseMs: 50, maxMs: 500 },
  onOutcome: (r, outcome) => console.log(JSON.stringify({ event: "outcome", seq: r.seq, status: r.status, outcome })),
  onWarning: (m) => console.log(JSON.stringify({ event: "warning", message: m })),
});
console.log(JSON.stringify({ event: "opened", backlog: reporter.backlog }));
const job = reporter.job(values.job, Number(values.attempt));
for (let i = 1; i <= Number(values.heartbeats); i++) {
  job.progress(i / (Number(values.heartbeats) + 1));
  await new Promise((r) => setTimeout(r, 5));
}
if (values.complete) await job.complete();
console.log(JSON.stringify({ event: "reported", backlog: reporter.backlog }));
if (values.hold) {
  setInterval(() => undefined, 1_000); // until killed
} else {
  const delivered = await reporter.flush(15_000);
  await reporter.close();
  await pool.end();
  console.log(JSON.stringify({ event: "closed", delivered }));
}
