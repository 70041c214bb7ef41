// Stores the reconcile-jobs URL and secret in a project's Vault, where the cron job reads them.
// Creates each secret, or updates it when it exists: safe to run again after rotating the secret.
//
//   DATABASE_URL=<the project's connection string> RECONCILE_SECRET=<same as `supabase secrets set`> \
//     npm run secrets:set -- --project-ref <ref>            (or --function-url <url>)
import pg from "pg";
import { parseArgs } from "node:util";

export const SECRET_NAMES = { url: "reconcile_jobs_url", secret: "reconcile_jobs_secret" } as const;

export function functionUrl(args: { projectRef?: string; functionUrl?: string }): string {
  if (args.functionUrl) {
    const url = new URL(args.functionUrl);
    const local = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
    if (url.protocol !== "https:" && !(local && url.protocol === "http:")) {
      throw new Error("--function-url must be https (http only for localhost)");
    }
    return url.toString().replace(/\/+$/, "");
  }
  if (args.projectRef && /^[a-z0-9]{20}$/.test(args.projectRef)) {
    return `https://${args.projectRef}.supabase.co/functions/v1/reconcile-jobs`;
  }
  throw new Error("give --project-ref <20-character ref> or --function-url <url>");
}

async function upsert(db: pg.Client, name: string, value: string, description: string): Promise<"created" | "updated"> {
  const { rows } = await db.query("select id from vault.decrypted_secrets where name = $1", [name]);
  if (rows[0]) {
    await db.query("select vault.update_secret($1, $2)", [rows[0].id, value]);
    return "updated";
  }
  await db.query("select vault.create_secret($1, $2, $3)", [value, name, description]);
  return "created";
}

export async function setVaultSecrets(
  databaseUrl: string,
  url: string,
  secret: string,
): Promise<Record<string, string>> {
  if (secret.length < 16) throw new Error("RECONCILE_SECRET must be at least 16 characters");
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query("begin");
    const result = {
      [SECRET_NAMES.url]: await upsert(
        db,
        SECRET_NAMES.url,
        url,
        "reconcile-jobs Edge Function URL (cron job reconcile-training-jobs)",
      ),
      [SECRET_NAMES.secret]: await upsert(
        db,
        SECRET_NAMES.secret,
        secret,
        "Bearer secret for reconcile-jobs (its RECONCILE_SECRET)",
      ),
    };
    await db.query("commit");
    return result;
  } catch (error) {
    await db.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    await db.end();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { "project-ref": { type: "string" }, "function-url": { type: "string" } } });
  const databaseUrl = process.env.DATABASE_URL;
  const secret = process.env.RECONCILE_SECRET;
  if (!databaseUrl) throw new Error("DATABASE_URL is not set");
  if (!secret) throw new Error("RECONCILE_SECRET is not set (use the value you gave `supabase secrets set`)");
  const url = functionUrl({ projectRef: values["project-ref"], functionUrl: values["function-url"] });
  const result = await setVaultSecrets(databaseUrl, url, secret);
  // The secret itself is never printed.
  for (const [name, what] of Object.entries(result)) console.log(`${name}: ${what}`);
  console.log(`reconcile-training-jobs will call ${url}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(`set-vault-secrets: ${error instanceof Error ? error.message : error}`);
    process.exit(2);
  });
}
