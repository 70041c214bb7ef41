-- "Is reconciliation working?" in one row, for the dashboard's SQL editor:
--   select * from jobs_private.reconcile_health;
-- A stale reconciler must be as visible as a stale job: this reads the passes themselves, the HTTP
-- responses behind the cron runs and the cron runs, not just cron's green ticks. With shards, the
-- least healthy shard decides.

-- When a cron run happened. pg_cron records a run it could not start with NULL times; ordering by
-- start_time put that run first forever. Such a run happened before the next dated one.
create function jobs_private.cron_run_time(p_run cron.job_run_details)
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

create view jobs_private.reconcile_health as
with job as (
  select jobid, schedule, active from cron.job where jobname = 'reconcile-training-jobs'
),
secrets as (
  select
    exists (select from vault.decrypted_secrets where name = 'reconcile_jobs_url' and coalesce(decrypted_secret, '') <> '') as has_url,
    exists (select from vault.decrypted_secrets where name = 'reconcile_jobs_secret' and coalesce(decrypted_secret, '') <> '') as has_secret
),
setting as (
  select coalesce((select shards from jobs_private.reconcile_settings), 1) as shards
),
-- Each shard of the current setting, with its last pass and its last success.
shard_state as (
  select s.shard,
         (select r from jobs_private.reconcile_passes r
          where r.shard = s.shard and r.shards = setting.shards and r.outcome <> 'running'
          order by r.started_at desc limit 1) as last_run,
         (select max(r.finished_at) from jobs_private.reconcile_passes r
          where r.shard = s.shard and r.shards = setting.shards and r.outcome in ('applied', 'held')) as last_success
  from setting, generate_series(0, setting.shards - 1) as s(shard)
),
-- Overall: the tick is as healthy as its least healthy shard, so the oldest success counts.
last_success as (
  select case when bool_and(last_success is not null) then min(last_success) end as at from shard_state
),
-- The one pass that explains the status: the worst of the shards' last passes.
last_pass as (
  select (st.last_run).* from shard_state st
  where (st.last_run).id is not null -- (a row "is not null" only when every field is)
  order by ((st.last_run).outcome = 'held') desc,
           coalesce(jsonb_path_exists((st.last_run).backends, '$[*] ? (@.mode == "misconfigured")'), false) desc,
           (coalesce(((st.last_run).counts ->> 'rejected')::int, 0) > 0) desc,
           (not coalesce((st.last_run).backend_reachable, true)) desc,
           (st.last_run).started_at desc
  limit 1
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
-- The last run is the one with the highest runid (pg_cron's sequence), whatever its times say.
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
  verdict.v[1] as status,
  verdict.v[2] as why,
  f.last_success_at,
  now() - f.last_success_at as since_last_success,
  coalesce(now() - f.last_success_at > 2 * f.expected_interval, true) as overdue,
  (select count(*) from failed_calls where requested_at > now() - interval '24 hours') as failed_calls_24h,
  (select coalesce(jsonb_agg(to_jsonb(c) - 'content' order by c.requested_at desc), '[]'::jsonb)
     from (select * from failed_calls order by requested_at desc limit 5) c) as last_failed_calls,
  (select count(*) from failed_cron_runs where run_at > now() - interval '24 hours') as failed_cron_runs_24h,
  (select coalesce(jsonb_agg(to_jsonb(r) - 'run_at' order by r.runid desc), '[]'::jsonb)
     from (select * from failed_cron_runs order by runid desc limit 5) r) as last_failed_cron_runs,
  (select count(*) from jobs_private.reconcile_passes where outcome = 'held' and started_at > now() - interval '24 hours') as held_passes_24h,
  (select count(*) from jobs_private.reconcile_passes where backend_reachable = false and started_at > now() - interval '24 hours') as unreachable_passes_24h,
  (select to_jsonb(lp) from last_pass lp) as last_pass,
  (select coalesce(sum((counts ->> 'rejected')::int), 0) from jobs_private.reconcile_passes
     where started_at > now() - interval '24 hours' and jsonb_typeof(counts -> 'rejected') = 'number') as rejected_changes_24h,
  f.misconfigured as misconfigured_backends,
  (select jsonb_agg(jsonb_build_object('shard', st.shard, 'outcome', (st.last_run).outcome,
            'started_at', (st.last_run).started_at, 'backend_reachable', (st.last_run).backend_reachable,
            'held_why', (st.last_run).counts ->> 'held_why', 'last_success_at', st.last_success) order by st.shard)
     from shard_state st) as shard_passes
from facts f
-- One ladder, first match wins: each rung gives the status and the sentence that explains it.
cross join lateral (select case
  when not f.scheduled then array['not_scheduled', 'cron job reconcile-training-jobs is missing or inactive']
  when not f.has_url then array['misconfigured', 'Vault secret reconcile_jobs_url is missing: no request is being sent']
  when not f.has_secret then array['misconfigured', 'Vault secret reconcile_jobs_secret is missing: no request is being sent']
  when f.last_cron_failed then array['failing', 'last cron run failed: ' || coalesce(f.last_cron_message, '?')]
  when f.last_call_failed then array['failing', 'last call to the function failed: '
    || coalesce('HTTP ' || f.last_call_status, f.last_call_error, 'timed out')
    || coalesce(' ' || f.last_call_body, '')]
  when f.last_success_at is null then array['never_ran', 'no pass has completed yet']
  when now() - f.last_success_at > 2 * f.expected_interval
    then array['stale', 'no successful pass for ' || date_trunc('second', now() - f.last_success_at)]
  when f.last_outcome = 'held'
    then array['degraded', coalesce(f.last_held_why, 'last pass was held by the mass-outage guard: check the training backend')]
  when jsonb_array_length(f.misconfigured) > 0 then array['misconfigured', 'last pass did not ask '
    || (select string_agg(format('%s (%s jobs): %s', b ->> 'url', b ->> 'jobs', b ->> 'error'), '; ')
        from jsonb_array_elements(f.misconfigured) b)
    || ': fix the backend_url of their jobs']
  when f.last_rejected > 0 then array['degraded', format('last pass rejected %s change(s) the database refused, first: job %s: %s',
    f.last_rejected, f.last_first_rejected ->> 'job_id', f.last_first_rejected ->> 'error')]
  when not f.last_backend_reachable then array['degraded', 'last pass could not reach the training backend']
  else array['healthy', 'reconciling every ' || f.expected_interval]
end as v) verdict;

comment on view jobs_private.reconcile_health is
  'One row: is reconciliation working? status is healthy, degraded (held, rows rejected, or backend unreachable), stale (no successful pass for two intervals), failing (last cron run or HTTP call failed), misconfigured (Vault secrets missing, or a backend_url refused), never_ran or not_scheduled; why says which. With shards, the least healthy shard decides; shard_passes lists each shard''s last pass.';
revoke all on table jobs_private.reconcile_health from public, anon, authenticated;
