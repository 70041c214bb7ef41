begin;
\ir _helpers.psql
set local search_path = extensions, public;
select plan(20);

select tests.create_user('a@example.com') as user_a \gset
select tests.create_user('b@example.com') as user_b \gset
select tests.make_job(:'user_a', 'running') as job_a \gset
select tests.make_job(:'user_a', 'running', interval '1 hour') as ghost_a \gset
select tests.make_job(:'user_b', 'queued') as job_b \gset

-- User B
select tests.authenticate_as(:'user_b');
select is((select count(*)::int from public.local_training_jobs_effective where user_id = :'user_a'), 0,
  'user B sees none of user A''s jobs through the view');
select is((select count(*)::int from public.local_training_jobs where user_id = :'user_a'), 0,
  'user B sees none of user A''s jobs through the table');
select is((select count(*)::int from public.local_training_job_history h where h.job_id = :'job_a'), 0,
  'user B sees none of user A''s history');
select is((select count(*)::int from public.local_training_jobs_effective), 1,
  'user B sees exactly their own job');
select is_empty(
  format($$update public.local_training_jobs set status = 'cancelled' where id = '%s' returning id$$, :'job_a'),
  'user B cannot cancel user A''s job');
select throws_ok(
  format($$update public.local_training_jobs set status = 'failed' where id = '%s'$$, :'job_b'),
  '42501', null, 'user B cannot set their own job to failed');
select throws_ok(
  format($$update public.local_training_jobs set model_name = 'x' where id = '%s'$$, :'job_b'),
  '42501', null, 'user B cannot change other columns of their own job');
select throws_ok(
  format($$insert into public.local_training_jobs (user_id, status) values ('%s', 'running')$$, :'user_b'),
  '42501', null, 'user B cannot insert jobs');
select throws_ok(
  format($$delete from public.local_training_jobs where id = '%s'$$, :'job_b'),
  '42501', null, 'user B cannot delete jobs');
select throws_ok($$update public.job_staleness_policy set stale_after = interval '1 year'$$,
  '42501', null, 'users cannot change the staleness policy');
select throws_ok($$insert into public.local_training_job_history (job_id, to_status, actor) values (gen_random_uuid(), 'failed', 'me')$$,
  '42501', null, 'users cannot forge history');
select results_eq(
  format($$update public.local_training_jobs set status = 'cancelled' where id = '%s' returning status, cancel_requested_at is not null$$, :'job_b'),
  $$values ('queued'::text, true)$$, 'user B can request a cancel of their own active job; the status waits for the training to stop');
select is((select effective_status from public.local_training_jobs_effective where id = :'job_b'), 'cancelling',
  'user B sees their job as cancelling');
select lives_ok(
  format($$update public.local_training_jobs set cancel_requested_at = null where id = '%s'$$, :'job_b'),
  'a later update by the user is allowed...');
select isnt((select cancel_requested_at from public.local_training_jobs where id = :'job_b'), null,
  '...but cannot withdraw or backdate the request');
select tests.clear_authentication();

-- User A reads the truth about their ghost through the view.
select tests.authenticate_as(:'user_a');
select is((select effective_status from public.local_training_jobs_effective where id = :'ghost_a'), 'stale',
  'user A sees their own ghost as stale');
select tests.clear_authentication();

-- anon reads nothing.
select tests.act_as_role('anon');
select throws_ok($$select * from public.local_training_jobs_effective$$, '42501', null, 'anon cannot read the view');
select throws_ok($$select * from public.local_training_jobs$$, '42501', null, 'anon cannot read the table');
select tests.clear_authentication();

-- service_role: the backend's write path today.
select tests.act_as_role('service_role');
select results_eq(
  format($$update public.local_training_jobs set status = 'completed' where id = '%s' returning status$$, :'job_a'),
  $$values ('completed'::text)$$, 'service_role can change any status');
select tests.clear_authentication();

-- Machinery is not reachable by API roles.
select schema_privs_are('jobs_private', 'authenticated', array[]::text[],
  'signed-in users have no access to the private schema');

select * from finish();
rollback;
