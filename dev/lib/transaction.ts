// One transaction on a pooled client: committed when `work` resolves, rolled back when it throws.
import type pg from "pg";

export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const result = await work(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * A signed-in user's cancel, through RLS, as PostgREST runs the app's request: the user's JWT
 * claims and the `authenticated` role, for this transaction only. Returns the rows it changed.
 */
export async function requestCancelAsUser(pool: pg.Pool, userId: string, jobId: string): Promise<number> {
  return inTransaction(pool, async (client) => {
    await client.query("select set_config('request.jwt.claims', $1, true)", [
      JSON.stringify({ sub: userId, role: "authenticated" }),
    ]);
    await client.query("set local role authenticated");
    const { rowCount } = await client.query(
      "update public.local_training_jobs set status = 'cancelled' where id = $1",
      [jobId],
    );
    return rowCount ?? 0;
  });
}
