begin;
\ir _helpers.psql
set local search_path = extensions, public;
select plan(10);

select tests.create_user('history@example.com') as owner \gset
select tests.make_job(:'owner', 'queued') as job \gset

select results_eq(
  format($$select from_status, to_status from public.local_training_job_history where job_id = '%s'$$, :'job'),
  $$values (null::text, 'queued'::text)$$,
  'creating a job records its first status');

update public.local_training_jobs set status = 'running' where id = :'job';
update public.local_training_jobs set config = '{"progress": 0.1}' where id = :'job';
update public.local_training_jobs set status = 'running', config = '{"progress": 0.2}' where id = :'job';
select is(
  (select count(*)::int from public.local_training_job_history where job_id = :'job'), 2,
  'heartbeats that keep the status write no history');

select is(
  (select actor from public.local_training_job_history where job_id = :'job' and to_status = 'running'),
  'postgres', 'a direct database writer is recorded by its login');

set local jobs.actor = 'reconciler';
set local jobs.reason = 'heartbeat lost';
update public.local_training_jobs set status = 'failed' where id = :'job';
select results_eq(
  format($$select from_status, to_status, actor, reason from public.local_training_job_history
           where job_id = '%s' order by id desc limit 1$$, :'job'),
  $$values ('running'::text, 'failed'::text, 'reconciler'::text, 'heartbeat lost'::text)$$,
  'actor and reason given by the writer are recorded');
select is(
  (select status_reason from public.local_training_jobs where id = :'job'), 'heartbeat lost',
  'the reason is also on the row, where a reader sees it');
reset jobs.actor;
reset jobs.reason;

-- A later change without a reason does not inherit the old one.
update public.local_training_jobs set status = 'running' where id = :'job';
select is(
  (select status_reason from public.local_training_jobs where id = :'job'), null,
  'a status change without a reason clears the previous reason');

-- Per-row reason and evidence, as the reconciler writes them.
update public.local_training_jobs
set status = 'failed', status_reason = 'lost: backend has no record', status_evidence = '{"pass": 7}'
where id = :'job';
select results_eq(
  format($$select reason, evidence from public.local_training_job_history where job_id = '%s' order by id desc limit 1$$, :'job'),
  $$values ('lost: backend has no record'::text, '{"pass": 7}'::jsonb)$$,
  'per-row reason and evidence reach the history');

-- One statement changing many rows writes one history row per changed row.
select tests.make_job(:'owner', 'running') as a \gset
select tests.make_job(:'owner', 'running') as b \gset
select tests.make_job(:'owner', 'completed') as c \gset
update public.local_training_jobs set status = 'failed' where id in (:'a', :'b', :'c') and status <> 'failed';
select is(
  (select count(*)::int from public.local_training_job_history where job_id in (:'a', :'b', :'c') and to_status = 'failed'),
  3, 'a multi-row status change writes one history row per job');

-- A user's cancel is a request: the status (and so the history) waits for the training to stop.
select tests.make_job(:'owner', 'running') as mine \gset
select tests.authenticate_as(:'owner');
update public.local_training_jobs set status = 'cancelled' where id = :'mine';
select tests.clear_authentication();
select is(
  (select array[status, (cancel_requested_at is not null)::text, (select count(*)::text from public.local_training_job_history h where h.job_id = :'mine')]
   from public.local_training_jobs where id = :'mine'),
  array['running', 'true', '1'], 'a user''s cancel is recorded as a request; the status and history wait for the training to stop');

select tests.act_as_role('service_role');
update public.local_training_jobs set status = 'completed' where id = :'a';
select tests.clear_authentication();
select is(
  (select actor from public.local_training_job_history where job_id = :'a' order by id desc limit 1),
  'service_role', 'a service-role write (the backend''s path today) is recorded as service_role');

select * from finish();
rollback;
