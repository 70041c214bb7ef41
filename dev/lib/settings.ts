// Writes reconciler settings into a database's settings row for a test, the demo or a benchmark,
// as configure_reconciler() would: the row's own trigger checks them (and reschedules on a new
// interval). The function reads them at the start of each pass; its environment holds none.
import pg from "pg";
import type { SettingsOverrides } from "../../supabase/functions/_shared/reconcile/mod.ts";

export async function applySettings(databaseUrl: string, settings: SettingsOverrides): Promise<void> {
  const columns = Object.keys(settings);
  if (columns.length === 0) return;
  for (const c of columns) {
    if (!/^[a-z_]+$/.test(c)) throw new Error(`applySettings: ${JSON.stringify(c)} is not a setting`);
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `update jobs_private.reconcile_settings s set (${columns.join(", ")}) =
         (select ${columns.map((c) => `x.${c}`).join(", ")} from jsonb_populate_record(s, $1::jsonb) x)`,
      [JSON.stringify(settings)],
    );
  } finally {
    await client.end();
  }
}
