begin;
set local search_path = extensions, public;
select plan(7);

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

select * from finish();
rollback;
