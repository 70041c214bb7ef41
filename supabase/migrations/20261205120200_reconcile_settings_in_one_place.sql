-- Every reconciler setting in one row, jobs_private.reconcile_settings: the pass reads it at its
-- start (the Edge Function and the CLI alike), the cron schedule follows its pass_interval, the
-- health view's overdue threshold and each confirmation's length derive from it. One call changes
-- them, validated together:
--   select jobs_private.configure_reconciler(every => '30 minutes', hard_timeout => '45 minutes');
-- A plain UPDATE is checked by the same rules (a trigger), with the same messages.
-- The function's environment keeps only what is secret or per host: RECONCILE_SECRET, the database URL.

alter table jobs_private.reconcile_settings
  add column if not exists pass_interval interval not null default interval '10 minutes',
  -- The seed's own cleanup rule: 10 minutes without an update means the job is gone.
  add column if not exists hard_timeout interval not null default interval '10 minutes',
  add column if not exists grace interval not null default interval '2 minutes',
  add column if not exists guard_share double precision not null default 0.5,
  add column if not exists guard_min_jobs integer not null default 5,
  -- River's rescuer takes 1,000 at a time; a page of 2,000 is a few MB and one guarded call.
  add column if not exists page_size integer not null default 2000,
  add column if not exists concurrency integer not null default 16,
  add column if not exists request_timeout interval not null default interval '5 seconds',
  -- Well inside Supabase's 150 s wall clock for a function.
  add column if not exists deadline interval not null default interval '60 seconds',
  add column if not exists max_status_bytes integer not null default 65536,
  -- 8 MiB: at 32 MiB a list just under the cap took the function to 223 MB RSS (limit 256 MB);
  -- at 8 MiB, 101-118 MB (dev/bench/list-at-cap.ts, docs/reliability.md).
  add column if not exists max_list_bytes integer not null default 8388608,
  add column if not exists backend_url text;

comment on table jobs_private.reconcile_settings is
  'One row: every reconciler setting. Change them with jobs_private.configure_reconciler(...); any write is checked by jobs_private.reconcile_settings_error().';
comment on column jobs_private.reconcile_settings.shards is
  'How many passes one cron tick runs side by side, each over 1/shards of the job ids.';
comment on column jobs_private.reconcile_settings.pass_interval is
  'How often a pass runs: the cron schedule follows it, a confirmation keeps a job fresh until the next pass is due, and the health view says stale after two of them.';
comment on column jobs_private.reconcile_settings.hard_timeout is
  'With no usable answer, or a running claim that shows no progress, a job silent this long is failed anyway. At least pass_interval.';
comment on column jobs_private.reconcile_settings.grace is
  'A job the backend does not know is failed only after this long without a sign of life (it may not have reached the backend yet). Shorter than hard_timeout.';
comment on column jobs_private.reconcile_settings.guard_share is
  'Mass-outage guard: a pass holds a backend''s presumed deaths when they are more than this share of its recently-alive jobs...';
comment on column jobs_private.reconcile_settings.guard_min_jobs is
  '...and at least this many.';
comment on column jobs_private.reconcile_settings.page_size is
  'Rows a pass observes, decides and applies at a time: its memory does not grow with the fleet.';
comment on column jobs_private.reconcile_settings.concurrency is 'Status requests in flight at once, per backend.';
comment on column jobs_private.reconcile_settings.request_timeout is 'One request to a backend. Shorter than deadline.';
comment on column jobs_private.reconcile_settings.deadline is 'A whole pass.';
comment on column jobs_private.reconcile_settings.max_status_bytes is 'The largest status answer read from a backend.';
comment on column jobs_private.reconcile_settings.max_list_bytes is 'The largest list page read from a backend.';
comment on column jobs_private.reconcile_settings.backend_url is
  'The training backend of rows whose backend_url is null. Null: the function''s BACKEND_URL, if it has one.';

-- What cron runs for a pass interval, or null when cron cannot keep it evenly.
create function jobs_private.reconcile_cron_schedule(p_every interval)
returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  exact numeric := extract(epoch from p_every);
  s bigint;
begin
  if exact is null or exact <> trunc(exact) or exact < 1 or exact > 86400 then return null; end if;
  s := exact::bigint;
  if s < 60 then return s || ' seconds'; end if; -- pg_cron 1.5 and later (Supabase has 1.6)
  if s % 60 = 0 and s <= 3600 and 3600 % s = 0 then
    return case when s = 60 then '* * * * *' when s = 3600 then '0 * * * *' else '*/' || (s / 60) || ' * * * *' end;
  end if;
  if s % 3600 = 0 and 86400 % s = 0 then
    return case when s = 86400 then '0 0 * * *' else '0 */' || (s / 3600) || ' * * *' end;
  end if;
  return null;
end $$;

-- The first rule a settings row breaks, as a sentence naming it; null when the row is valid.
create function jobs_private.reconcile_settings_error(s jobs_private.reconcile_settings)
returns text
language sql stable
set search_path = ''
as $$
  select case
    when jobs_private.reconcile_cron_schedule(s.pass_interval) is null then format(
      'pass_interval (%s) must be whole seconds under a minute, minutes that divide an hour, or hours that divide a day (e.g. 30 seconds, 10 minutes, 2 hours), so cron keeps it evenly',
      s.pass_interval)
    when s.hard_timeout < s.pass_interval then format(
      'hard_timeout (%s) must be at least pass_interval (%s): a job must get a pass before it can time out',
      s.hard_timeout, s.pass_interval)
    when s.hard_timeout > interval '7 days' then format('hard_timeout (%s) must be at most 7 days', s.hard_timeout)
    when s.grace < interval '0' then format('grace (%s) must not be negative', s.grace)
    when s.grace >= s.hard_timeout then format(
      'grace (%s) must be shorter than hard_timeout (%s): a job the backend forgot is failed by grace, one it cannot be asked about by hard_timeout',
      s.grace, s.hard_timeout)
    when s.guard_share is null or s.guard_share < 0 or s.guard_share > 1 or s.guard_share = 'NaN'
      then format('guard_share (%s) must be from 0 to 1', s.guard_share)
    when s.guard_min_jobs not between 1 and 1000000 then format('guard_min_jobs (%s) must be from 1 to 1000000', s.guard_min_jobs)
    when s.page_size not between 100 and 50000 then format('page_size (%s) must be from 100 to 50000', s.page_size)
    when s.concurrency not between 1 and 256 then format('concurrency (%s) must be from 1 to 256', s.concurrency)
    when s.request_timeout < interval '100 milliseconds' or s.request_timeout > interval '60 seconds'
      then format('request_timeout (%s) must be from 100 milliseconds to 60 seconds', s.request_timeout)
    when s.deadline < interval '1 second' or s.deadline > interval '120 seconds'
      then format('deadline (%s) must be from 1 to 120 seconds: a Supabase function is stopped at 150 s', s.deadline)
    when s.request_timeout >= s.deadline then format(
      'request_timeout (%s) must be shorter than deadline (%s)', s.request_timeout, s.deadline)
    when s.max_status_bytes not between 1024 and 16777216
      then format('max_status_bytes (%s) must be from 1024 to 16777216', s.max_status_bytes)
    when s.max_list_bytes not between 1024 and 134217728
      then format('max_list_bytes (%s) must be from 1024 to 134217728', s.max_list_bytes)
    when s.shards not between 1 and 256 then format('shards (%s) must be from 1 to 256', s.shards)
    when s.backend_url is not null and s.backend_url !~ '^https?://[^/?#@\s]+(/[^?#\s]*)?$'
      then 'backend_url must be an http(s) URL with no credentials, query or fragment'
  end
$$;

-- Schedules the cron job from the row: pass_interval is the only place the cadence is written.
-- Where pg_cron is not installed there is nothing to schedule (the doctor says so).
create function jobs_private.schedule_reconciler()
returns void
language plpgsql
set search_path = ''
as $$
begin
  if to_regprocedure('cron.schedule(text, text, text)') is null then
    raise notice 'pg_cron is not installed: the reconcile-training-jobs cron job was not scheduled';
    return;
  end if;
  perform cron.schedule('reconcile-training-jobs',
    (select jobs_private.reconcile_cron_schedule(pass_interval) from jobs_private.reconcile_settings),
    'select jobs_private.invoke_reconcile_jobs(''cron'')');
end $$;

create function jobs_private.check_reconcile_settings()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  problem text := jobs_private.reconcile_settings_error(new);
begin
  if problem is not null then
    raise exception 'reconcile settings: %', problem using errcode = 'check_violation';
  end if;
  return new;
end $$;

create function jobs_private.reschedule_reconciler()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform jobs_private.schedule_reconciler();
  return null;
end $$;

create trigger reconcile_settings_are_valid
  before insert or update on jobs_private.reconcile_settings
  for each row execute function jobs_private.check_reconcile_settings();
create trigger reconcile_schedule_follows_interval
  after update of pass_interval on jobs_private.reconcile_settings
  for each row when (old.pass_interval is distinct from new.pass_interval)
  execute function jobs_private.reschedule_reconciler();

-- The one call to change settings. Arguments left out keep their value; all are checked together.
create function jobs_private.configure_reconciler(
  every interval default null,
  hard_timeout interval default null,
  grace interval default null,
  guard_share double precision default null,
  guard_min_jobs integer default null,
  page_size integer default null,
  concurrency integer default null,
  request_timeout interval default null,
  deadline interval default null,
  max_status_bytes integer default null,
  max_list_bytes integer default null,
  shards integer default null,
  backend_url text default null
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  result jsonb;
begin
  update jobs_private.reconcile_settings s set
    pass_interval = coalesce(configure_reconciler.every, s.pass_interval),
    hard_timeout = coalesce(configure_reconciler.hard_timeout, s.hard_timeout),
    grace = coalesce(configure_reconciler.grace, s.grace),
    guard_share = coalesce(configure_reconciler.guard_share, s.guard_share),
    guard_min_jobs = coalesce(configure_reconciler.guard_min_jobs, s.guard_min_jobs),
    page_size = coalesce(configure_reconciler.page_size, s.page_size),
    concurrency = coalesce(configure_reconciler.concurrency, s.concurrency),
    request_timeout = coalesce(configure_reconciler.request_timeout, s.request_timeout),
    deadline = coalesce(configure_reconciler.deadline, s.deadline),
    max_status_bytes = coalesce(configure_reconciler.max_status_bytes, s.max_status_bytes),
    max_list_bytes = coalesce(configure_reconciler.max_list_bytes, s.max_list_bytes),
    shards = coalesce(configure_reconciler.shards, s.shards),
    backend_url = coalesce(configure_reconciler.backend_url, s.backend_url)
  returning to_jsonb(s) - 'id' into result;
  return result;
end $$;
comment on function jobs_private.configure_reconciler is
  'Changes reconciler settings (arguments left out keep their value), checked together, and reschedules the cron job in the same transaction. Returns the new settings.';

-- What one pass runs with: the row, with a run's own overrides ({"grace": "30 seconds", ...}: a CLI
-- flag), checked by the same rules; durations in milliseconds, named as the TypeScript config.
create function jobs_private.reconcile_settings_for_pass(p_overrides jsonb default '{}')
returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  s jobs_private.reconcile_settings;
  unknown text;
  problem text;
begin
  if jsonb_typeof(coalesce(p_overrides, '{}')) <> 'object' then
    raise exception 'reconcile settings: overrides must be a JSON object' using errcode = 'invalid_parameter_value';
  end if;
  select string_agg(k, ', ') into unknown from jsonb_object_keys(coalesce(p_overrides, '{}')) k
  where k = 'id' or k not in (select attname from pg_attribute
                              where attrelid = 'jobs_private.reconcile_settings'::regclass and attnum > 0 and not attisdropped);
  if unknown is not null then
    raise exception 'reconcile settings: no such setting: %', unknown using errcode = 'invalid_parameter_value';
  end if;
  select * into s from jobs_private.reconcile_settings;
  if not found then
    raise exception 'reconcile settings: jobs_private.reconcile_settings has no row' using errcode = 'no_data_found';
  end if;
  begin
    s := jsonb_populate_record(s, p_overrides);
  exception when data_exception then
    raise exception 'reconcile settings: an override is not of its setting''s type: %', sqlerrm
      using errcode = 'invalid_parameter_value';
  end;
  problem := jobs_private.reconcile_settings_error(s);
  if problem is not null then
    raise exception 'reconcile settings: %', problem using errcode = 'check_violation';
  end if;
  return jsonb_build_object(
    'passIntervalMs', extract(epoch from s.pass_interval) * 1000,
    'hardTimeoutMs', extract(epoch from s.hard_timeout) * 1000,
    'graceMs', extract(epoch from s.grace) * 1000,
    'guardShare', s.guard_share,
    'guardMinJobs', s.guard_min_jobs,
    'pageSize', s.page_size,
    'concurrency', s.concurrency,
    'requestTimeoutMs', extract(epoch from s.request_timeout) * 1000,
    'deadlineMs', extract(epoch from s.deadline) * 1000,
    'maxStatusBytes', s.max_status_bytes,
    'maxListBytes', s.max_list_bytes,
    'backendUrl', s.backend_url);
end $$;

-- The health view: its overdue threshold is the settings' pass interval (it was a copy of the
-- schedule's ten minutes); a rejected row may now also be one the pass could not read.
create or replace view jobs_private.reconcile_health as
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
    -- Two pass intervals without a successful pass is overdue.
    (select pass_interval from jobs_private.reconcile_settings) as expected_interval,
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
  when f.last_rejected > 0 then array['degraded', format('last pass rejected %s row(s) (each cost only itself), first: job %s: %s',
    f.last_rejected, f.last_first_rejected ->> 'job_id', f.last_first_rejected ->> 'error')]
  when not f.last_backend_reachable then array['degraded', 'last pass could not reach the training backend']
  else array['healthy', 'reconciling every ' || f.expected_interval]
end as v) verdict;


revoke all on function jobs_private.reconcile_cron_schedule(interval) from public, anon, authenticated;
revoke all on function jobs_private.reconcile_settings_error(jobs_private.reconcile_settings) from public, anon, authenticated;
revoke all on function jobs_private.schedule_reconciler() from public, anon, authenticated;
revoke all on function jobs_private.check_reconcile_settings() from public, anon, authenticated;
revoke all on function jobs_private.reschedule_reconciler() from public, anon, authenticated;
revoke all on function jobs_private.configure_reconciler(interval, interval, interval, double precision, integer, integer,
  integer, interval, interval, integer, integer, integer, text) from public, anon, authenticated;
revoke all on function jobs_private.reconcile_settings_for_pass(jsonb) from public, anon, authenticated;

-- The cron job, from the row (it replaces the schedule written when the job was first created).
select jobs_private.schedule_reconciler();
