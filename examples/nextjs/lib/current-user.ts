// Who is signed in. Production (the supabase store): the Supabase session cookie, checked by GoTrue.
//
// DEV ONLY (the pg store, DATABASE_URL set): the local stack has no GoTrue, so the user is taken
// from the `example_user_id` cookie, else EXAMPLE_USER_ID. Anyone can set a cookie: never run
// the pg store where real users can reach it.
import { cookies } from "next/headers";
import { storeMode } from "./jobs-store";
import { supabaseUserId } from "./supabase-session";

export const DEV_USER_COOKIE = "example_user_id";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function currentUserId(): Promise<string | null> {
  if (storeMode() === "supabase") return supabaseUserId();
  const fromCookie = (await cookies()).get(DEV_USER_COOKIE)?.value;
  const candidate = fromCookie ?? process.env.EXAMPLE_USER_ID ?? null;
  return candidate && UUID.test(candidate) ? candidate : null;
}
