-- "Is reconciliation working?" in one row, for the dashboard's SQL editor:
--   select * from jobs_private.reconcile_health;
-- A stale reconciler must be as visible as a stale job: this reads the passes themselves,
-- the HTTP responses behind the cron runs, and the cron runs, not just cron's green ticks.

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
failed_cron_runs as (
  select d.runid, d.start_time, d.return_message
  from cron.job_run_details d join job on d.jobid = job.jobid
  where d.status = 'failed'
),
last_cron_run as (
  select d.status, d.return_message, d.start_time
  from cron.job_run_details d join job on d.jobid = job.jobid
  order by d.start_time desc limit 1
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
    (select lp.backend_reachable from last_pass lp) as last_backend_reachable
  from secrets s, last_success ls
)
select
  case
    when not f.scheduled then 'not_scheduled'
    when not (f.has_url and f.has_secret) then 'misconfigured'
    when f.last_cron_failed or f.last_call_failed then 'failing'
    when f.last_success_at is null then 'never_ran'
    when now() - f.last_success_at > 2 * f.expected_interval then 'stale'
    when f.last_outcome = 'held' or not f.last_backend_reachable then 'degraded'
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
    when f.last_outcome = 'held' then 'last pass was held by the mass-outage guard: check the training backend'
    when not f.last_backend_reachable then 'last pass could not reach the training backend'
    else 'reconciling every ' || f.expected_interval
  end as why,
  f.last_success_at,
  now() - f.last_success_at as since_last_success,
  coalesce(now() - f.last_success_at > 2 * f.expected_interval, true) as overdue,
  (select count(*) from failed_calls where requested_at > now() - interval '24 hours') as failed_calls_24h,
  (select coalesce(jsonb_agg(to_jsonb(c) - 'content' order by c.requested_at desc), '[]'::jsonb)
     from (select * from failed_calls order by requested_at desc limit 5) c) as last_failed_calls,
  (select count(*) from failed_cron_runs where start_time > now() - interval '24 hours') as failed_cron_runs_24h,
  (select coalesce(jsonb_agg(to_jsonb(r) order by r.start_time desc), '[]'::jsonb)
     from (select * from failed_cron_runs order by start_time desc limit 5) r) as last_failed_cron_runs,
  (select count(*) from jobs_private.reconcile_runs where outcome = 'held' and started_at > now() - interval '24 hours') as held_passes_24h,
  (select count(*) from jobs_private.reconcile_runs where backend_reachable = false and started_at > now() - interval '24 hours') as unreachable_passes_24h,
  (select to_jsonb(lp) from last_pass lp) as last_pass
from facts f;

comment on view jobs_private.reconcile_health is
  'One row: is reconciliation working? status is healthy, degraded (held or backend unreachable), stale (no successful pass for two intervals), failing (last cron run or HTTP call failed), misconfigured (Vault secrets missing), never_ran or not_scheduled; why says which.';
revoke all on table jobs_private.reconcile_health from public, anon, authenticated;
