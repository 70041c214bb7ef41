// Production sign-in: the signed-in user's Supabase session, from @supabase/ssr's cookies.
import { createServerClient } from "@supabase/ssr";
import type { SupabaseClient } from "@supabase/supabase-js";
import { cookies } from "next/headers";

/** A supabase-js client carrying the request's user session (their JWT, so RLS applies). */
export async function userSupabaseClient(): Promise<SupabaseClient> {
  const store = await cookies();
  return createServerClient(process.env.NEXT_PUBLIC_SUPABASE_URL!, process.env.NEXT_PUBLIC_SUPABASE_ANON_KEY!, {
    cookies: {
      getAll: () => store.getAll(),
      // Route handlers may refresh the session's cookies; server components cannot, and need not.
      setAll: (toSet) => {
        try {
          for (const { name, value, options } of toSet) store.set(name, value, options);
        } catch {
          /* called from a server component: the app's @supabase/ssr middleware refreshes the session */
        }
      },
    },
  });
}

/** The signed-in user's id, verified by GoTrue (getUser, not getSession: a cookie can be forged). */
export async function supabaseUserId(): Promise<string | null> {
  const client = await userSupabaseClient();
  const { data, error } = await client.auth.getUser();
  return error || !data.user ? null : data.user.id;
}
