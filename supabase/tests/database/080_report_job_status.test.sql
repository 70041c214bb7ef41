begin;
\ir _helpers.psql
set local search_path = extensions, public;
select plan(30);

select tests.create_user('writer@example.com') as owner \gset
select tests.make_job(:'owner', 'queued') as job \gset

create function pg_temp.report(job uuid, attempt int, seq bigint, status text default 'running', progress float default null, error text default null)
returns text language sql as $$ select public.report_job_status(job, attempt, seq, status, progress, error) ->> 'outcome' $$;
create function pg_temp.status(job uuid) returns text language sql as $$ select status from public.local_training_jobs where id = job $$;

\ir _report_ordering.psql

-- Fencing: after a resume, the old attempt is refused.
select is(public.start_job_attempt(:'job'), 2, 'resuming starts attempt 2');
select is(
  (select actor from public.local_training_job_history where job_id = :'job' order by id desc limit 1),
  'postgres', 'a resume is recorded with its caller as actor, not the reporter');
select is(pg_temp.report(:'job', 1, 70, 'running'), 'refused_fenced', 'a report from the superseded attempt is refused');
select is(pg_temp.report(:'job', 2, 1, 'running'), 'applied', 'the new attempt reports from seq 1');

-- Revival: a presumed death is undone by the current attempt, and the history says so.
set local jobs.actor = 'reconciler';
update public.local_training_jobs set status = 'failed', status_reason = 'heartbeat lost',
  status_evidence = '{"rule": "fail_heartbeat_lost"}' where id = :'job';
reset jobs.actor;
select is(pg_temp.report(:'job', 2, 2, 'running', 0.5), 'revived', 'a presumed-dead job reporting again is revived');
select results_eq(
  format($$select from_status, to_status, reason from public.local_training_job_history where job_id = '%s' order by id desc limit 1$$, :'job'),
  $$values ('failed'::text, 'running'::text, 'revived: attempt 2 reported running after fail_heartbeat_lost'::text)$$,
  'history records the revival and what it undid');

-- What the backend itself reported is never revived.
update public.local_training_jobs set status = 'failed', status_reason = 'CUDA OOM',
  status_evidence = '{"rule": "record_backend_terminal"}' where id = :'job';
select is(pg_temp.report(:'job', 2, 3, 'running'), 'ignored_terminal', 'a failure the backend reported is never revived');

-- A user's cancel is final too.
select tests.make_job(:'owner', 'running') as cancelled \gset
update public.local_training_jobs set status = 'cancelled' where id = :'cancelled';
select is(pg_temp.report(:'cancelled', 1, 1, 'running'), 'ignored_terminal', 'a cancelled job is not reopened by its worker');

-- Bad input: a clear error, nothing changed.
select throws_ok($$select public.report_job_status(gen_random_uuid(), 1, 1)$$, 'P0002', null, 'an unknown job is an error');
select throws_ok(format($$select public.report_job_status('%s', 2, 9, 'stale')$$, :'job'), '22023',
  'report_job_status: status must be queued, pending, running, completed, failed or cancelled, not stale', 'an unknown status is an error');
select throws_ok(format($$select public.report_job_status('%s', 2, 0)$$, :'job'), '22023', null, 'seq must be positive');

-- A heartbeat (a report of the status the job already has) takes a statement of its own; its
-- arguments are checked as every report's are, and a refused one changes nothing.
select tests.make_job(:'owner', 'running') as beating \gset
select is(pg_temp.report(:'beating', 1, 1, 'running', 0.4), 'applied', 'a heartbeat on a running job is applied');
select throws_ok(format($$select public.report_job_status('%s', 1, 2, 'running', 'NaN')$$, :'beating'), '22023',
  'report_job_status: progress must be between 0 and 1', 'a heartbeat with a NaN progress is an error');
select throws_ok(format($$select public.report_job_status('%s', 1, 2, 'running', 1.5)$$, :'beating'), '22023',
  'report_job_status: progress must be between 0 and 1', 'a heartbeat with a progress above 1 is an error');
select throws_ok($$select public.report_job_status(null, 1, 2, 'running')$$, '22023', null, 'a heartbeat without a job id is an error');
select results_eq(format($$select progress, report_seq from public.local_training_jobs where id = '%s'$$, :'beating'),
  $$values (0.4::float, 1::bigint)$$, 'the refused heartbeats changed nothing');

-- Only the service role (the backend's path) may call it.
select tests.authenticate_as(:'owner');
select throws_ok(format($$select public.report_job_status('%s', 2, 99)$$, :'job'), '42501', null, 'signed-in users cannot report');
select tests.clear_authentication();
select tests.act_as_role('service_role');
select is(pg_temp.report(:'cancelled', 1, 2, 'running'), 'ignored_terminal', 'the service role can');
select tests.clear_authentication();

select * from finish();
rollback;
