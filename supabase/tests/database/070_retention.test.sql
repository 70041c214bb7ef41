-- Retention: old records go, recent ones and the history of active jobs stay.
begin;
\ir _helpers.psql
set local search_path = extensions, public;
select plan(7);

select tests.create_user('retention@example.com') as owner \gset
select tests.make_job(:'owner', 'completed') as done \gset
select tests.make_job(:'owner', 'running') as active \gset

insert into public.local_training_job_history (job_id, from_status, to_status, changed_at, actor) values
  (:'done', 'running', 'completed', now() - interval '91 days', 'test'),
  (:'done', 'queued', 'running', now() - interval '89 days', 'test'),  -- must not be touched
  (:'active', 'queued', 'running', now() - interval '200 days', 'test'); -- active job: must not be touched
insert into jobs_private.reconcile_passes (id, started_at, outcome) values
  (gen_random_uuid(), now() - interval '31 days', 'applied'),
  (gen_random_uuid(), now() - interval '29 days', 'applied');
insert into jobs_private.reconcile_invocations (request_id, trigger, requested_at) values
  (-1, 'cron', now() - interval '31 days'), (-2, 'cron', now() - interval '1 day');
insert into net._http_response (id, status_code, created) values (-1, 200, now() - interval '25 hours'), (-2, 200, now());
insert into cron.job_run_details (jobid, runid, status, start_time, end_time) values
  (0, 999998, 'succeeded', now() - interval '8 days', now() - interval '8 days'),
  (0, 999999, 'succeeded', now() - interval '6 days', now() - interval '6 days');

select is(
  jobs_private.prune_reconcile_records() - 'job_history' - 'reconcile_passes',
  '{"reconcile_invocations": 1, "http_responses": 1, "cron_run_details": 1}'::jsonb,
  'one old invocation, response and cron run are pruned');

select is((select count(*)::int from public.local_training_job_history where job_id = :'done' and actor = 'test'), 1,
  'history of a finished job older than 90 days is pruned, newer kept');
select is((select count(*)::int from public.local_training_job_history where job_id = :'active' and actor = 'test'), 1,
  'history of an active job is never pruned');
select is((select count(*)::int from jobs_private.reconcile_passes where started_at < now() - interval '30 days'), 0,
  'runs older than 30 days are pruned');
select is((select count(*)::int from jobs_private.reconcile_passes where started_at > now() - interval '30 days'), 1,
  'newer runs are kept');

update jobs_private.retention_policy set keep = interval '1 hour' where what = 'http_responses';
select is((jobs_private.prune_reconcile_records() ->> 'http_responses')::int, 0, 'nothing more to prune at first');
update net._http_response set created = now() - interval '2 hours' where id = -2;
select is((jobs_private.prune_reconcile_records() ->> 'http_responses')::int, 1, 'a shorter period, set with one UPDATE, takes effect');

select * from finish();
rollback;
