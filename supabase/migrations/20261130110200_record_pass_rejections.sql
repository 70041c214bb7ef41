-- The bulkhead's record (issue 11): when the one-call apply was refused because of data, the pass
-- applied every other row in smaller calls (supabase/functions/_shared/reconcile/bulkhead.ts).
-- Each call wrote the counts of its own part; this writes the totals and the rejected rows, so
-- the pass row and the health view say `rejected: N` and why.
create or replace function jobs_private.record_pass_rejections(p_pass_id uuid, p_counts jsonb)
returns void
language sql
set search_path = ''
as $$
  update jobs_private.reconcile_runs
  set counts = coalesce(counts, '{}'::jsonb) || p_counts
  where id = p_pass_id
$$;
revoke all on function jobs_private.record_pass_rejections(uuid, jsonb) from public, anon, authenticated;
