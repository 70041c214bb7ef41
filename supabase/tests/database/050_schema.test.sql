begin;
\ir _helpers.psql
set local search_path = extensions, public;
select plan(11);

select has_table('public', 'local_training_jobs', 'the jobs table exists');
select has_view('public', 'local_training_jobs_effective', 'the effective view exists');
select ok(
  (select 'security_invoker=true' = any(reloptions) from pg_class where oid = 'public.local_training_jobs_effective'::regclass),
  'the view runs with the caller''s rights (security_invoker)');
select ok(
  (select relrowsecurity from pg_class where oid = 'public.local_training_jobs'::regclass),
  'RLS is enabled on the jobs table');
select has_index('public', 'local_training_jobs', 'local_training_jobs_user_recent_idx', array['user_id', 'created_at'],
  'a user''s newest jobs are indexed');
select is(
  (select pg_get_expr(indpred, indrelid) from pg_index where indexrelid = 'public.local_training_jobs_active_idx'::regclass),
  '(status = ANY (jobs_private.active_statuses()))',
  'active jobs have a partial index');
select is(
  (select count(*)::int from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
   where i.indrelid = 'public.local_training_jobs'::regclass and a.attname = 'updated_at'),
  0, 'no index covers updated_at, so heartbeats stay HOT updates');
select is(
  (select count(*)::int from pg_index i
   where i.indrelid = 'public.local_training_jobs'::regclass
     and (exists (select from pg_attribute a where a.attrelid = i.indrelid and a.attnum = any(i.indkey)
                  and a.attname in ('heartbeat_at', 'confirmed_at', 'confirmed_until', 'progress_marker', 'progress', 'config'))
          or coalesce(pg_get_expr(i.indpred, i.indrelid), '') ~ '(heartbeat_at|confirmed_|progress|config)'
          or coalesce(pg_get_expr(i.indexprs, i.indrelid), '') ~ '(heartbeat_at|confirmed_|progress|config)')),
  0, 'no index reads what a heartbeat or a confirmation writes, so both stay HOT updates');

-- The planner folds active_statuses() to a constant, so the partial indexes serve queries written
-- either way (seq scans off: with so few rows the planner would rightly prefer them).
create function pg_temp.plan_of(query text) returns text language plpgsql as $$
declare
  line text;
  result text := '';
begin
  for line in execute 'explain ' || query loop result := result || line || e'\n'; end loop;
  return result;
end $$;
set local enable_seqscan = off;
select matches(
  pg_temp.plan_of($$select id from public.local_training_jobs where status = any (jobs_private.active_statuses()) order by id limit 10$$),
  'local_training_jobs_active_idx', 'a query written with active_statuses() reads the active index');
select matches(
  pg_temp.plan_of($$select id from public.local_training_jobs where status in ('queued', 'pending', 'running') order by id limit 10$$),
  'local_training_jobs_active_idx', 'a query with the statuses written out reads the active index too');
select matches(
  pg_temp.plan_of($$select id from public.local_training_jobs where status = 'failed'
    and status_evidence ->> 'rule' in ('fail_lost', 'fail_heartbeat_lost', 'fail_stalled') and completed_at > now() - interval '10 minutes'$$),
  'local_training_jobs_presumed_dead_idx', 'recent presumed deaths are read through their index');
reset enable_seqscan;

select * from finish();
rollback;
