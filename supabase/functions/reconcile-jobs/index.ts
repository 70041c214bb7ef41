// reconcile-jobs: HTTP and auth only. The pass itself is ../_shared/reconcile/ (mod.ts), which
// the operator CLI (cli/reconcile.ts) runs unchanged from Node.
//
//   POST /functions/v1/reconcile-jobs[?dry_run=1]
//   Authorization: Bearer <RECONCILE_SECRET>
//   body (optional): {"trigger": "cron" | "startup" | ..., "dry_run": true, "shard": 0, "shards": 4}
//   (shard i of N covers 1/N of the job ids; the cron command sends one POST per shard)
import pg from "pg";
import { bearerMatches, errorMessage, loadFunctionConfig, runReconcilePass } from "../_shared/reconcile/mod.ts";

// Read once at start-up: a bad setting fails every request loudly, by name, never by value. The
// reconciler's settings are not here: each pass reads them from jobs_private.reconcile_settings.
const loaded = loadFunctionConfig(Deno.env.toObject());
const pool = loaded.ok ? new pg.Pool({ connectionString: loaded.config.databaseUrl, max: 2 }) : null;
// An idle connection cut by a database restart must not take the worker down; the next query reconnects.
pool?.on("error", (error: Error) => console.error(`reconcile-jobs: idle database connection lost: ${error.message}`));
if (!loaded.ok) console.error(`reconcile-jobs: ${loaded.error}`);

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

const TRIGGER = /^[a-z0-9_.:-]{1,40}$/i;

type Options = { trigger: string; dryRun: boolean; shard?: { shard: number; shards: number } };

async function readOptions(request: Request): Promise<Options | string> {
  const url = new URL(request.url);
  let body: Record<string, unknown> = {};
  const text = await request.text();
  if (text.trim()) {
    try {
      const parsed = JSON.parse(text);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return "body must be a JSON object";
      body = parsed;
    } catch {
      return "body is not valid JSON";
    }
  }
  const trigger = body.trigger ?? "manual";
  if (typeof trigger !== "string" || !TRIGGER.test(trigger)) return "trigger must be 1-40 letters, digits or _.:-";
  // Given twice, the first or the last could win depending on who reads it: refuse instead.
  const flags = url.searchParams.getAll("dry_run");
  if (flags.length > 1) return "dry_run given more than once";
  const flag = flags[0] ?? null;
  if (flag !== null && !["0", "1", "true", "false"].includes(flag)) return "dry_run must be 1 or 0";
  if (body.dry_run !== undefined && typeof body.dry_run !== "boolean") return "dry_run must be a boolean";
  const dryRun = flag === "1" || flag === "true" || body.dry_run === true;
  if (body.shard === undefined && body.shards === undefined) return { trigger, dryRun };
  const { shard, shards } = body;
  if (!Number.isInteger(shards) || (shards as number) < 1 || (shards as number) > 256) {
    return "shards must be an integer from 1 to 256";
  }
  if (!Number.isInteger(shard) || (shard as number) < 0 || (shard as number) >= (shards as number)) {
    return "shard must be an integer from 0 to shards - 1";
  }
  return { trigger, dryRun, shard: { shard: shard as number, shards: shards as number } };
}

export default {
  async fetch(request: Request): Promise<Response> {
    if (!loaded.ok || !pool) {
      return json(500, { error: loaded.ok ? "configuration: database pool missing" : loaded.error });
    }
    if (request.method !== "POST") return json(405, { error: "method not allowed: use POST" }, { allow: "POST" });
    if (!bearerMatches(request.headers.get("authorization"), loaded.config.secret)) {
      return json(401, { error: "unauthorized: send Authorization: Bearer <RECONCILE_SECRET>" });
    }
    const options = await readOptions(request);
    if (typeof options === "string") return json(400, { error: options });
    try {
      const summary = await runReconcilePass({
        db: pool,
        fetch,
        fallbackBackendUrl: loaded.config.fallbackBackendUrl,
        ...options,
      });
      return json(200, summary);
    } catch (error) {
      // Coerced once, here. The message names the pass; it never carries a secret.
      console.error(`reconcile-jobs: ${errorMessage(error)}`);
      return json(500, { error: errorMessage(error) });
    }
  },
};
