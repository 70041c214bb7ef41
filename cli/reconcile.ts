// `npm run reconcile -- --once | --every 10m [--dry-run] [--json] [--trigger NAME] [--set SETTING=VALUE ...]`
// The Edge Function's pass, run from Node against DATABASE_URL: for backends the cloud cannot reach
// (a laptop, a GPU box on a private network). Same core, same settings row, same results. --set
// overrides one setting of jobs_private.reconcile_settings for this run only (checked by the same
// rules; the pass record names it), e.g. --set grace='30 seconds' --set backend_url=http://gpu:8000.
import pg from "pg";
import { parseArgs } from "node:util";
import {
  errorMessage,
  loadCliEnv,
  type PassSummary,
  runReconcilePass,
  type SettingsOverrides,
} from "../supabase/functions/_shared/reconcile/mod.ts";
import { formatSummary } from "./format-summary.ts";

const usage =
  "usage: npm run reconcile -- (--once | --every 10m) [--dry-run] [--json] [--trigger NAME] [--set SETTING=VALUE ...]";

/** `--set name=value` flags as overrides of the settings row; null when one is not of that form. */
export function parseOverrides(flags: string[]): SettingsOverrides | null {
  const overrides: SettingsOverrides = {};
  for (const flag of flags) {
    const m = /^([a-z_]+)=(.*)$/s.exec(flag);
    if (!m) return null;
    overrides[m[1]!] = m[2]!;
  }
  return overrides;
}

export function parseInterval(text: string): number | null {
  const m = /^(\d+)(s|m|h)$/.exec(text.trim());
  if (!m) return null;
  const ms = Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as "s" | "m" | "h"];
  return ms > 0 ? ms : null;
}

function fail(message: string): never {
  console.error(`reconcile: ${message}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        once: { type: "boolean", default: false },
        every: { type: "string" },
        "dry-run": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        trigger: { type: "string", default: "cli" },
        set: { type: "string", multiple: true, default: [] },
      },
      strict: true,
    }).values;
  } catch (error) {
    fail(`${errorMessage(error)}\n${usage}`);
  }
  if (args.once === Boolean(args.every)) fail(`give exactly one of --once and --every\n${usage}`);
  const everyMs = args.every ? parseInterval(args.every) : null;
  if (args.every && everyMs === null) fail(`--every takes a duration such as 30s, 10m or 1h\n${usage}`);

  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) fail("DATABASE_URL is not set");
  const overrides = parseOverrides(args.set ?? []);
  if (!overrides) fail(`--set takes SETTING=VALUE, e.g. --set grace='30 seconds'\n${usage}`);
  // With --every, the pass interval is the ticker's unless set: a confirmation lasts until the next pass.
  if (everyMs && overrides.pass_interval === undefined) overrides.pass_interval = `${everyMs / 1000} seconds`;
  const loaded = loadCliEnv(process.env);
  if (!loaded.ok) fail(loaded.error);

  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  // --every outlives database restarts: an idle connection's death is reported, not fatal.
  pool.on("error", (error) => console.error(`reconcile: idle database connection lost: ${error.message}`));
  const print = (summary: PassSummary) => console.log(args.json ? JSON.stringify(summary) : formatSummary(summary));
  const once = async (): Promise<boolean> => {
    try {
      print(
        await runReconcilePass({
          db: pool,
          fetch,
          overrides,
          fallbackBackendUrl: loaded.config.fallbackBackendUrl,
          trigger: args.trigger!,
          dryRun: args["dry-run"]!,
        }),
      );
      return true;
    } catch (error) {
      console.error(`reconcile: ${errorMessage(error)}`);
      return false;
    }
  };

  if (args.once) {
    const ok = await once();
    await pool.end();
    process.exit(ok ? 0 : 1);
  }
  // --every: a ticker around the same pass; a failed pass is reported and the next one runs.
  let stopping = false;
  const stop = () => (stopping = true);
  process.on("SIGINT", stop).on("SIGTERM", stop);
  // Passes start every everyMs by the wall clock (a pass's own duration does not push the next one).
  let next = Date.now();
  while (!stopping) {
    await once();
    next = Math.max(next + everyMs!, Date.now());
    while (!stopping && Date.now() < next) await new Promise((r) => setTimeout(r, Math.min(500, next - Date.now())));
  }
  await pool.end();
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
