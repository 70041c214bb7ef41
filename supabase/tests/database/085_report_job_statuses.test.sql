-- report_job_statuses(): 080_report_job_status's cases, each as one row of a batch, plus what only
-- a batch can do (several jobs at once, one job twice, one bad report among good ones).
begin;
\ir _helpers.psql
set local search_path = extensions, public;
select plan(31);

select tests.create_user('batch-writer@example.com') as owner \gset
select tests.make_job(:'owner', 'queued') as job \gset
select tests.make_job(:'owner', 'running') as other \gset

-- One report through the batch function; returns its outcome.
create function pg_temp.report(job uuid, attempt int, seq bigint, status text default 'running', progress float default null, error text default null)
returns text language sql as $$
  select outcome from public.report_job_statuses(array[job], array[attempt], array[seq], array[status], array[progress], array[error])
$$;
create function pg_temp.status(job uuid) returns text language sql as $$ select status from public.local_training_jobs where id = job $$;

\ir _report_ordering.psql

-- Fencing: after a resume, the old attempt is refused.
select is(public.start_job_attempt(:'job'), 2, 'resuming starts attempt 2');
select is(pg_temp.report(:'job', 1, 70, 'running'), 'refused_fenced', 'a report from the superseded attempt is refused');
select is(pg_temp.report(:'job', 2, 1, 'running'), 'applied', 'the new attempt reports from seq 1');

-- Revival of each presumed death, and the history says so.
create function pg_temp.presume_dead(job uuid, rule text) returns void language sql as $$
  select set_config('jobs.actor', 'reconciler', true);
  update public.local_training_jobs set status = 'failed', status_reason = rule,
    status_evidence = jsonb_build_object('rule', rule) where id = job;
  select set_config('jobs.actor', '', true);
$$;
select pg_temp.presume_dead(:'job', 'fail_heartbeat_lost');
select is(pg_temp.report(:'job', 2, 2, 'running', 0.5), 'revived', 'a job presumed dead (heartbeat lost) reporting again is revived');
select results_eq(
  format($$select from_status, to_status, reason, actor from public.local_training_job_history where job_id = '%s' order by id desc limit 1$$, :'job'),
  $$values ('failed'::text, 'running'::text, 'revived: attempt 2 reported running after fail_heartbeat_lost'::text, 'reporter:attempt-2'::text)$$,
  'history records the revival, what it undid, and the reporter');
select pg_temp.presume_dead(:'job', 'fail_lost');
select is(pg_temp.report(:'job', 2, 3, 'running'), 'revived', 'a job presumed lost is revived');
select pg_temp.presume_dead(:'job', 'fail_stalled');
select is(pg_temp.report(:'job', 2, 4, 'completed', 1), 'revived', 'a job presumed stalled that completed is revived as completed');
select is(pg_temp.status(:'job'), 'completed', 'and reads completed');

-- What the backend itself reported is never revived.
update public.local_training_jobs set status = 'failed', status_reason = 'CUDA OOM',
  status_evidence = '{"rule": "record_backend_terminal"}' where id = :'job';
select is(pg_temp.report(:'job', 2, 5, 'running'), 'ignored_terminal', 'a failure the backend reported is never revived');

-- A user's cancel: the writer hears of it, may report 'cancelled', and the job stays cancelled.
update public.local_training_jobs set cancel_requested_at = now() where id = :'other';
select is((select cancel_requested from public.report_job_statuses(array[:'other'::uuid], '{1}', '{1}', '{running}')),
  true, 'a heartbeat learns that a cancel is requested');
select is(pg_temp.report(:'other', 1, 2, 'cancelled'), 'applied', 'the writer reports cancelled');
select is(pg_temp.report(:'other', 1, 3, 'running'), 'ignored_terminal', 'a cancelled job is not reopened by its worker');

-- A batch: several jobs, one job twice (applied in array order), one bad report among them.
select tests.make_job(:'owner', 'running') as a \gset
select tests.make_job(:'owner', 'running') as b \gset
select results_eq(
  format($$select ord, outcome, error_code from public.report_job_statuses(
    array['%1$s', '%2$s', '%1$s', '%3$s', '%1$s']::uuid[], '{1,1,1,1,1}', '{5,5,4,1,6}',
    '{running,running,running,running,completed}', '{0.5,0.6,null,null,1}', null) order by ord$$, :'a', :'b', :'job'),
  $$values (1, 'applied'::text, null::text), (2, 'applied', null), (3, 'ignored_stale', null),
           (4, 'refused_fenced', null), (5, 'applied', null)$$,
  'each report of a batch gets its own outcome, in array order');
select is(pg_temp.status(:'a'), 'completed', 'the later report of the same job wins');
select is((select progress from public.local_training_jobs where id = :'b'), 0.6::float, 'the other job took its own report');
select results_eq(
  format($$select outcome, error_code from public.report_job_statuses(
    array[gen_random_uuid(), '%1$s']::uuid[], '{1,1}', '{9,9}', '{running,stale}') order by ord$$, :'b'),
  $$values ('rejected'::text, 'P0002'::text), ('rejected', '22023')$$,
  'an unknown job and an unknown status are rejected per row, with the SQLSTATE');
select throws_ok($$select * from public.report_job_statuses('{}'::uuid[], '{1}', '{1}', '{running}')$$, '22023', null,
  'arrays of different lengths are an error');

-- Only the service role may call it.
select tests.authenticate_as(:'owner');
select throws_ok(format($$select * from public.report_job_statuses(array['%s'::uuid], '{2}', '{99}', '{running}')$$, :'job'),
  '42501', null, 'signed-in users cannot report');
select tests.clear_authentication();
select tests.act_as_role('service_role');
select is(pg_temp.report(:'other', 1, 4, 'running'), 'ignored_terminal', 'the service role can');
select tests.clear_authentication();

select * from finish();
rollback;
