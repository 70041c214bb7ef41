// Builds the template database every vitest file clones: the platform stand-ins plus
// supabase/migrations applied by the real Supabase CLI, exactly as db:up does for `postgres`.
import { recreateDatabase } from "../lib/local-stack.ts";
import { adminUrl, TEMPLATE_DATABASE } from "../lib/database.ts";

export async function setup(): Promise<void> {
  await recreateDatabase(adminUrl(), TEMPLATE_DATABASE);
}
