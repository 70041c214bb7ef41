-- Issue 11: what API users and pg_cron's odd records could do to the history and the health view.
-- Everything is rolled back.
begin;
\ir _helpers.psql
set local search_path = extensions, public;
select plan(19);

-- Finding 5: the history's sequence is closed to API users.
select sequence_privs_are('public', 'local_training_job_history_id_seq', 'anon', array[]::text[],
  'anon has no rights on the history sequence');
select sequence_privs_are('public', 'local_training_job_history_id_seq', 'authenticated', array[]::text[],
  'authenticated has no rights on the history sequence (no setval(), no nextval())');
select sequence_privs_are('public', 'local_training_job_history_id_seq', 'service_role', array['USAGE', 'SELECT', 'UPDATE'],
  'the service role keeps its rights on the history sequence');

-- Finding 6: a signed-in user cannot label their own status change.
select tests.create_user('forger@example.com') as forger \gset
select tests.make_job(:'forger', 'running') as job \gset
select tests.authenticate_as(:'forger');
set local jobs.actor = 'reconciler';
set local jobs.reason = 'heartbeat lost';
update public.local_training_jobs set status = 'cancelled' where id = :'job';
select tests.clear_authentication();
set local jobs.actor = '';
set local jobs.reason = '';
select is((select count(*)::int from public.local_training_job_history where job_id = :'job' and actor <> 'postgres'), 0,
  'jobs.actor set by an authenticated session labels nothing: a user''s cancel is a request, with no history row to forge');
select is((select reason from public.local_training_job_history where job_id = :'job' order by id desc limit 1),
  null, 'jobs.reason set by an authenticated session is ignored');
select is((select status_reason from public.local_training_jobs where id = :'job'), null, 'and the row carries no forged reason');
-- A trusted writer (the database owner here, the service role in production) still may.
select tests.make_job(:'forger', 'running') as job2 \gset
set local jobs.actor = 'ops-script';
set local jobs.reason = 'decommissioned';
update public.local_training_jobs set status = 'failed' where id = :'job2';
set local jobs.actor = '';
set local jobs.reason = '';
select results_eq(format($$select actor, reason from public.local_training_job_history where job_id = '%s' order by id desc limit 1$$, :'job2'),
  $$values ('ops-script'::text, 'decommissioned'::text)$$, 'a trusted session still labels its changes');

-- Finding 8: an insert without a status, or with NULL, is queued and recorded.
insert into public.local_training_jobs (model_name, status) values ('null-status', null) returning id as nulljob \gset
select results_eq(format($$select status, status_reason from public.local_training_jobs where id = '%s'$$, :'nulljob'),
  $$values ('queued'::text, 'status missing at insert: defaulted to queued'::text)$$, 'an insert with a NULL status is queued, and says why');
select is((select to_status from public.local_training_job_history where job_id = :'nulljob'), 'queued', 'and its history is recorded');

-- Finding 7: pg_cron's runs without times.
delete from cron.job_run_details;
delete from jobs_private.reconcile_passes;
delete from vault.secrets;
select vault.create_secret('http://127.0.0.1:1/functions/v1/reconcile-jobs', 'reconcile_jobs_url');
select vault.create_secret('a-secret-of-sixteen-chars', 'reconcile_jobs_secret');
insert into jobs_private.reconcile_passes (id, trigger, started_at, finished_at, outcome, backend_reachable)
values (gen_random_uuid(), 'cron', now() - interval '1 minute', now() - interval '1 minute', 'applied', true);
create function pg_temp.cron_run(runid bigint, status text, at timestamptz) returns void language sql as $$
  insert into cron.job_run_details (jobid, runid, status, return_message, start_time, end_time)
  select jobid, runid, status, case when status = 'failed' then 'connection failed' else '1 row' end, at, at
  from cron.job where jobname = 'reconcile-training-jobs'
$$;
select pg_temp.cron_run(1000, 'succeeded', now() - interval '20 minutes');
select pg_temp.cron_run(1001, 'failed', null);
select is((select status from jobs_private.reconcile_health), 'failing', 'a cron run that could not connect (no times) is failing while it is the last');
select is((select failed_cron_runs_24h from jobs_private.reconcile_health), 1::bigint, 'and is counted once');
select pg_temp.cron_run(1002, 'succeeded', now() - interval '10 minutes');
select pg_temp.cron_run(1003, 'succeeded', now());
select is((select status from jobs_private.reconcile_health), 'healthy', 'later successes clear it');
select is((select failed_cron_runs_24h from jobs_private.reconcile_health), 1::bigint, 'it is still counted once in the last 24 h');
-- Eight days later: the untimed run is dated by the run after it, and ages out.
update cron.job_run_details set start_time = start_time - interval '8 days', end_time = end_time - interval '8 days' where runid in (1000, 1002);
select is((select failed_cron_runs_24h from jobs_private.reconcile_health), 0::bigint, 'a failure dated by its next run ages out of the 24 h count');
select is((jobs_private.prune_reconcile_records() ->> 'cron_run_details')::int, 3, 'pruning removes the untimed run with the old ones');
select is((select count(*)::int from cron.job_run_details where runid = 1001), 0, 'the untimed run is gone');

-- The health view says what a held pass said about itself, and names misconfigured backends and rejected rows.
insert into jobs_private.reconcile_passes (id, trigger, started_at, finished_at, outcome, backend_reachable, counts)
values (gen_random_uuid(), 'cron', now(), now(), 'held', true,
        '{"held_why": "held: 6 of 8 jobs would be presumed dead; released when a backend answers"}');
select is((select why from jobs_private.reconcile_health), 'held: 6 of 8 jobs would be presumed dead; released when a backend answers',
  'a held pass shows its own held_why');
insert into jobs_private.reconcile_passes (id, trigger, started_at, finished_at, outcome, backend_reachable, backends, counts)
values (gen_random_uuid(), 'cron', now() + interval '1 second', now(), 'applied', false,
        '[{"url": "file:///etc/passwd", "mode": "misconfigured", "reachable": false, "error": "backend_url must be http or https, not file:", "jobs": 1}]', '{}');
select results_eq($$select status, why from jobs_private.reconcile_health$$,
  $$values ('misconfigured'::text, 'last pass did not ask file:///etc/passwd (1 jobs): backend_url must be http or https, not file:: fix the backend_url of their jobs'::text)$$,
  'a refused backend_url makes the health view misconfigured, naming it');
insert into jobs_private.reconcile_passes (id, trigger, started_at, finished_at, outcome, backend_reachable, counts)
values (gen_random_uuid(), 'cron', now() + interval '2 seconds', now(), 'applied', true,
        '{"rejected": 2, "rejected_rows": [{"job_id": "00000000-0000-0000-0000-000000000001", "error": "22007: invalid input"}]}');
select results_eq($$select status, why from jobs_private.reconcile_health$$,
  $$values ('degraded'::text, 'last pass rejected 2 row(s) (each cost only itself), first: job 00000000-0000-0000-0000-000000000001: 22007: invalid input'::text)$$,
  'rejected rows make the health view degraded, with the first reason');

select * from finish();
rollback;
