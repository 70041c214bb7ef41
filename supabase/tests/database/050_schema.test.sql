begin;
set local search_path = extensions, public;
select plan(8);

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
  '(status = ANY (ARRAY[''queued''::text, ''pending''::text, ''running''::text]))',
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

select * from finish();
rollback;
