-- The health view and the pruning, for the inputs of issue 11.
--
-- Finding 7: when pg_cron cannot connect it records a failed run with NULL start_time and
-- end_time. `order by start_time desc` put that run first forever (desc sorts NULLs first), the
-- view said `failing` after later successes, and pruning (`end_time < ...`) never removed it.
-- Now the last run is the one with the highest runid (pg_cron's sequence), and a run without
-- times is dated by the first later run that has one: it happened before that. A run without
-- times and without a later dated run is the newest there is, dated now(): it stays until cron
-- runs again, then ages out like any other.
--
-- Also: a held pass shows the pass's own counts->>'held_why' (why it was held, what releases it)
-- when it wrote one; a backend whose backend_url was refused shows as `misconfigured`; rows the
-- bulkhead rejected show as `degraded`, with the first reason.

create or replace function jobs_private.cron_run_time(p_run cron.job_run_details)
returns timestamptz
language sql stable
set search_path = ''
as $$
  select coalesce(
    p_run.start_time,
    p_run.end_time,
    (select min(coalesce(later.start_time, later.end_time)) from cron.job_run_details later
     where later.jobid is not distinct from p_run.jobid and later.runid > p_run.runid
       and coalesce(later.start_time, later.end_time) is not null),
    now())
$$;
revoke all on function jobs_private.cron_run_time(cron.job_run_details) from public, anon, authenticated;
comment on function jobs_private.cron_run_time(cron.job_run_details) is
  'When a cron run happened: its start or end, else (pg_cron could not connect and left both NULL) the first later dated run of the same job, else now().';

create or replace view jobs_private.reconcile_health as
with job as (
  select jobid, schedule, active from cron.job where jobname = 'reconcile-training-jobs'
),
secrets as (
  select
    exists (select from vault.decrypted_secrets where name = 'reconcile_jobs_url' and coalesce(decrypted_secret, '') <> '') as has_url,
    exists (select from vault.decrypted_secrets where name = 'reconcile_jobs_secret' and coalesce(decrypted_secret, '') <> '') as has_secret
),
last_success as (
  select max(finished_at) as at from jobs_private.reconcile_runs where outcome in ('applied', 'held')
),
last_pass as (
  select * from jobs_private.reconcile_runs where outcome <> 'running' order by started_at desc limit 1
),
calls as (
  select i.request_id, i.trigger, i.requested_at, r.status_code, r.timed_out, r.error_msg, r.content,
         r.created as answered_at
  from jobs_private.reconcile_invocations i
  left join net._http_response r on r.id = i.request_id
),
failed_calls as (
  select * from calls
  where answered_at is not null
    and (timed_out or error_msg is not null or status_code is null or status_code not between 200 and 299)
),
last_call as (
  select * from calls where answered_at is not null order by requested_at desc limit 1
),
cron_runs as (
  select d.runid, d.status, d.return_message, d.start_time, d.end_time, jobs_private.cron_run_time(d) as run_at
  from cron.job_run_details d join job on d.jobid = job.jobid
),
failed_cron_runs as (
  select runid, start_time, return_message, run_at from cron_runs where status = 'failed'
),
last_cron_run as (
  select status, return_message, start_time from cron_runs order by runid desc limit 1
),
misconfigured_backends as (
  select coalesce(jsonb_agg(b), '[]'::jsonb) as list
  from last_pass lp, jsonb_array_elements(case when jsonb_typeof(lp.backends) = 'array' then lp.backends else '[]'::jsonb end) b
  where b ->> 'mode' = 'misconfigured'
),
facts as (
  select
    (select count(*) from job where active) > 0 as scheduled,
    s.has_url, s.has_secret,
    ls.at as last_success_at,
    -- The schedule is */10: two intervals without a successful pass is overdue.
    interval '10 minutes' as expected_interval,
    (select lc.status_code from last_call lc) as last_call_status,
    (select coalesce(lc.timed_out, false) or lc.error_msg is not null
            or coalesce(lc.status_code not between 200 and 299, true) from last_call lc) as last_call_failed,
    (select lc.error_msg from last_call lc) as last_call_error,
    (select left(lc.content, 300) from last_call lc) as last_call_body,
    (select lcr.status = 'failed' from last_cron_run lcr) as last_cron_failed,
    (select lcr.return_message from last_cron_run lcr) as last_cron_message,
    (select lp.outcome from last_pass lp) as last_outcome,
    (select lp.backend_reachable from last_pass lp) as last_backend_reachable,
    (select nullif(lp.counts ->> 'held_why', '') from last_pass lp) as last_held_why,
    (select coalesce((lp.counts ->> 'rejected')::int, 0) from last_pass lp) as last_rejected,
    (select lp.counts -> 'rejected_rows' -> 0 from last_pass lp) as last_first_rejected,
    mb.list as misconfigured
  from secrets s, last_success ls, misconfigured_backends mb
)
select
  case
    when not f.scheduled then 'not_scheduled'
    when not (f.has_url and f.has_secret) then 'misconfigured'
    when f.last_cron_failed or f.last_call_failed then 'failing'
    when f.last_success_at is null then 'never_ran'
    when now() - f.last_success_at > 2 * f.expected_interval then 'stale'
    when f.last_outcome = 'held' then 'degraded'
    when jsonb_array_length(f.misconfigured) > 0 then 'misconfigured'
    when f.last_rejected > 0 or not f.last_backend_reachable then 'degraded'
    else 'healthy'
  end as status,
  case
    when not f.scheduled then 'cron job reconcile-training-jobs is missing or inactive'
    when not f.has_url then 'Vault secret reconcile_jobs_url is missing: no request is being sent'
    when not f.has_secret then 'Vault secret reconcile_jobs_secret is missing: no request is being sent'
    when f.last_cron_failed then 'last cron run failed: ' || coalesce(f.last_cron_message, '?')
    when f.last_call_failed then 'last call to the function failed: '
      || coalesce('HTTP ' || f.last_call_status, f.last_call_error, 'timed out')
      || coalesce(' ' || f.last_call_body, '')
    when f.last_success_at is null then 'no pass has completed yet'
    when now() - f.last_success_at > 2 * f.expected_interval then 'no successful pass for ' || date_trunc('second', now() - f.last_success_at)
    when f.last_outcome = 'held' then coalesce(f.last_held_why, 'last pass was held by the mass-outage guard: check the training backend')
    when jsonb_array_length(f.misconfigured) > 0 then 'last pass did not ask '
      || (select string_agg(format('%s (%s jobs): %s', b ->> 'url', b ->> 'jobs', b ->> 'error'), '; ')
          from jsonb_array_elements(f.misconfigured) b)
      || ': fix the backend_url of their jobs'
    when f.last_rejected > 0 then format('last pass rejected %s change(s) the database refused, first: job %s: %s',
      f.last_rejected, f.last_first_rejected ->> 'job_id', f.last_first_rejected ->> 'error')
    when not f.last_backend_reachable then 'last pass could not reach the training backend'
    else 'reconciling every ' || f.expected_interval
  end as why,
  f.last_success_at,
  now() - f.last_success_at as since_last_success,
  coalesce(now() - f.last_success_at > 2 * f.expected_interval, true) as overdue,
  (select count(*) from failed_calls where requested_at > now() - interval '24 hours') as failed_calls_24h,
  (select coalesce(jsonb_agg(to_jsonb(c) - 'content' order by c.requested_at desc), '[]'::jsonb)
     from (select * from failed_calls order by requested_at desc limit 5) c) as last_failed_calls,
  (select count(*) from failed_cron_runs where run_at > now() - interval '24 hours') as failed_cron_runs_24h,
  (select coalesce(jsonb_agg(to_jsonb(r) - 'run_at' order by r.runid desc), '[]'::jsonb)
     from (select * from failed_cron_runs order by runid desc limit 5) r) as last_failed_cron_runs,
  (select count(*) from jobs_private.reconcile_runs where outcome = 'held' and started_at > now() - interval '24 hours') as held_passes_24h,
  (select count(*) from jobs_private.reconcile_runs where backend_reachable = false and started_at > now() - interval '24 hours') as unreachable_passes_24h,
  (select to_jsonb(lp) from last_pass lp) as last_pass,
  (select coalesce(sum((counts ->> 'rejected')::int), 0) from jobs_private.reconcile_runs
     where started_at > now() - interval '24 hours' and jsonb_typeof(counts -> 'rejected') = 'number') as rejected_changes_24h,
  f.misconfigured as misconfigured_backends
from facts f;

comment on view jobs_private.reconcile_health is
  'One row: is reconciliation working? status is healthy, degraded (held, rows rejected, or backend unreachable), stale (no successful pass for two intervals), failing (last cron run or HTTP call failed), misconfigured (Vault secrets missing, or a backend_url refused), never_ran or not_scheduled; why says which.';
revoke all on table jobs_private.reconcile_health from public, anon, authenticated;

-- Pruning by the same dating, so a run pg_cron left without times ages out too.
create or replace function jobs_private.prune_reconcile_records()
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  keep jsonb := (select jsonb_object_agg(what, keep) from jobs_private.retention_policy);
  removed jsonb := '{}'::jsonb;
  n bigint;
begin
  delete from public.local_training_job_history h
  using public.local_training_jobs j
  where h.job_id = j.id
    and j.status in ('completed', 'failed', 'cancelled')
    and h.changed_at < now() - (keep ->> 'job_history')::interval;
  get diagnostics n = row_count;
  removed := removed || jsonb_build_object('job_history', n);

  delete from jobs_private.reconcile_runs
  where started_at < now() - (keep ->> 'reconcile_runs')::interval and outcome <> 'running';
  get diagnostics n = row_count;
  removed := removed || jsonb_build_object('reconcile_runs', n);

  delete from jobs_private.reconcile_invocations where requested_at < now() - (keep ->> 'reconcile_invocations')::interval;
  get diagnostics n = row_count;
  removed := removed || jsonb_build_object('reconcile_invocations', n);

  -- pg_net owns this table; where we may not delete from it, pg_net's own TTL applies.
  begin
    delete from net._http_response where created < now() - (keep ->> 'http_responses')::interval;
    get diagnostics n = row_count;
    removed := removed || jsonb_build_object('http_responses', n);
  exception when insufficient_privilege then
    removed := removed || jsonb_build_object('http_responses', 'left to pg_net');
  end;

  delete from cron.job_run_details d
  where jobs_private.cron_run_time(d) < now() - (keep ->> 'cron_run_details')::interval;
  get diagnostics n = row_count;
  removed := removed || jsonb_build_object('cron_run_details', n);

  return removed;
end $$;
revoke all on function jobs_private.prune_reconcile_records() from public, anon, authenticated;
