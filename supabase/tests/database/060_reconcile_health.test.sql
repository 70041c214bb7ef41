-- The watcher watched: each status of jobs_private.reconcile_health, from the facts behind it.
-- Runs in the cron database, against the real pg_cron catalog; everything is rolled back.
begin;
\ir _helpers.psql
set local search_path = extensions, public;
select plan(12);

delete from cron.job_run_details;
delete from jobs_private.reconcile_passes;
delete from jobs_private.reconcile_invocations;
delete from vault.secrets;

create function pg_temp.health() returns text language sql as $$ select status from jobs_private.reconcile_health $$;
create function pg_temp.why() returns text language sql as $$ select why from jobs_private.reconcile_health $$;
create function pg_temp.pass(ago interval, outcome text default 'applied', reachable boolean default true) returns void
language sql as $$
  insert into jobs_private.reconcile_passes (id, trigger, started_at, finished_at, outcome, backend_reachable)
  values (gen_random_uuid(), 'cron', now() - ago, now() - ago, outcome, reachable)
$$;

select is(pg_temp.health(), 'misconfigured', 'no Vault secrets: misconfigured');
select is(pg_temp.why(), 'Vault secret reconcile_jobs_url is missing: no request is being sent', 'and it says which secret');

select vault.create_secret('http://127.0.0.1:1/functions/v1/reconcile-jobs', 'reconcile_jobs_url');
select vault.create_secret('a-secret-of-sixteen-chars', 'reconcile_jobs_secret');
select is(pg_temp.health(), 'never_ran', 'secrets set, no pass yet: never_ran');

select pg_temp.pass(interval '5 minutes');
select is(pg_temp.health(), 'healthy', 'a successful pass five minutes ago: healthy');

-- Just inside two intervals: must still be healthy. Just past: stale.
delete from jobs_private.reconcile_passes;
select pg_temp.pass(interval '19 minutes 59 seconds');
select is(pg_temp.health(), 'healthy', 'last success 19 min 59 s ago is within two intervals');
delete from jobs_private.reconcile_passes;
select pg_temp.pass(interval '20 minutes 1 second');
select is(pg_temp.health(), 'stale', 'last success 20 min 1 s ago: stale');
select is((select overdue from jobs_private.reconcile_health), true, 'and overdue');

select pg_temp.pass(interval '1 minute', 'held');
select is(pg_temp.health(), 'degraded', 'a pass held by the mass-outage guard: degraded');
select is((select held_passes_24h from jobs_private.reconcile_health), 1::bigint, 'held passes are counted');

select pg_temp.pass(interval '30 seconds', 'applied', false);
select is(pg_temp.why(), 'last pass could not reach the training backend', 'a pass that could not reach the backend says so');

-- A failed cron run hides behind nothing.
insert into cron.job_run_details (jobid, runid, status, return_message, start_time, end_time)
select jobid, 999999, 'failed', 'ERROR: boom', now(), now() from cron.job where jobname = 'reconcile-training-jobs';
select is(pg_temp.why(), 'last cron run failed: ERROR: boom', 'the last failed cron run: failing, with its message');

select cron.unschedule('reconcile-training-jobs');
select is(pg_temp.health(), 'not_scheduled', 'no cron job: not_scheduled');

select * from finish();
rollback;
