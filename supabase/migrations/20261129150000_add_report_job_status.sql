-- The writer's path: one function for status, heartbeat and progress reports that survives
-- reordering, retries and resumes. Legacy writers that UPDATE the table keep working; this is
-- the better path, not a breaking change.
--
--   select public.report_job_status(job_id, attempt, seq, 'running', progress => 0.42);
--   supabase.rpc('report_job_status', { p_job_id, p_attempt, p_seq, p_status, p_progress })  -- service role
--
-- attempt: which run of the job is reporting (fencing: a resumed job refuses the old attempt).
-- seq:     strictly increasing per attempt (a counter, or the report time in microseconds);
--          a report not newer than the last applied one is ignored, so reordering, duplicates
--          and replays never regress a job.

alter table public.local_training_jobs
  add column if not exists attempt integer not null default 1,
  add column if not exists report_seq bigint not null default 0,
  add column if not exists progress double precision;
comment on column public.local_training_jobs.attempt is
  'Current attempt (run) of the job. start_job_attempt() increments it; reports from other attempts are refused.';
comment on column public.local_training_jobs.report_seq is
  'Sequence number of the last report applied for the current attempt; older reports are ignored.';
comment on column public.local_training_jobs.progress is 'Last reported progress, 0..1.';

-- Failures the reconciler inferred rather than heard: the only terminal states a report may undo.
create or replace function jobs_private.is_presumed_dead(status text, evidence jsonb)
returns boolean
language sql immutable
set search_path = ''
as $$
  select status = 'failed' and coalesce(evidence ->> 'rule', '') in ('fail_lost', 'fail_heartbeat_lost')
$$;

-- Active statuses only move forward within an attempt.
create or replace function jobs_private.status_rank(status text)
returns integer
language sql immutable
set search_path = ''
as $$
  select case status when 'queued' then 1 when 'pending' then 2 when 'running' then 3 else 4 end
$$;

create or replace function public.report_job_status(
  p_job_id uuid,
  p_attempt integer,
  p_seq bigint,
  p_status text default 'running',
  p_progress double precision default null,
  p_error text default null
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  job record;
  outcome text;
  next_status text;
begin
  if p_job_id is null or p_attempt is null or p_attempt < 1 or p_seq is null or p_seq < 1 then
    raise exception 'report_job_status: job id, attempt (>= 1) and seq (>= 1) are required'
      using errcode = 'invalid_parameter_value';
  end if;
  if p_status is null or p_status not in ('queued', 'pending', 'running', 'completed', 'failed') then
    raise exception 'report_job_status: status must be queued, pending, running, completed or failed, not %', coalesce(p_status, 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  if p_progress is not null and (p_progress < 0 or p_progress > 1 or p_progress = 'NaN') then
    raise exception 'report_job_status: progress must be between 0 and 1' using errcode = 'invalid_parameter_value';
  end if;

  perform set_config('jobs.actor', format('reporter:attempt-%s', p_attempt), true);

  -- Fast path, one statement: the current attempt, a newer report, an active job.
  update public.local_training_jobs j
  set status = case when jobs_private.status_rank(p_status) >= jobs_private.status_rank(j.status) then p_status else j.status end,
      report_seq = p_seq,
      progress = coalesce(p_progress, j.progress),
      status_reason = case when p_status = 'failed' then coalesce(p_error, 'failed (no error text)') else j.status_reason end
  where j.id = p_job_id and j.attempt = p_attempt and j.report_seq < p_seq
    and j.status in ('queued', 'pending', 'running')
  returning j.status into next_status;
  if found then
    return jsonb_build_object('outcome', 'applied', 'status', next_status, 'attempt', p_attempt, 'seq', p_seq);
  end if;

  -- Everything else, decided on the locked row.
  select id, status, attempt, report_seq, status_evidence into job
  from public.local_training_jobs where id = p_job_id for update;
  if not found then
    raise exception 'report_job_status: job % does not exist', p_job_id using errcode = 'no_data_found';
  end if;

  if p_attempt <> job.attempt then
    outcome := 'refused_fenced';
  elsif p_seq <= job.report_seq then
    outcome := 'ignored_stale';
  elsif jobs_private.is_presumed_dead(job.status, job.status_evidence) then
    -- The reconciler's verdict was wrong: the current attempt is alive. The truth wins.
    perform set_config('jobs.reason', format('revived: attempt %s reported %s after %s', p_attempt, p_status,
      coalesce(job.status_evidence ->> 'rule', 'a presumed death')), true);
    update public.local_training_jobs
    set status = p_status, report_seq = p_seq, progress = coalesce(p_progress, progress),
        completed_at = case when p_status in ('completed', 'failed') then now() end,
        -- Left as it is unless failed, so the reset trigger records jobs.reason ("revived: ...").
        status_reason = case when p_status = 'failed' then coalesce(p_error, 'failed (no error text)') else status_reason end
    where id = p_job_id;
    perform set_config('jobs.reason', '', true);
    outcome := 'revived';
  else
    -- Completed, failed or cancelled by the backend, the writer or a user: final.
    outcome := 'ignored_terminal';
  end if;

  return jsonb_build_object('outcome', outcome, 'status',
    (select status from public.local_training_jobs where id = p_job_id),
    'attempt', job.attempt, 'seq', p_seq);
end $$;
comment on function public.report_job_status(uuid, integer, bigint, text, double precision, text) is
  'Report a job''s status/heartbeat/progress. Returns {outcome: applied | ignored_stale | refused_fenced | ignored_terminal | revived, status, attempt, seq}. Service role only.';

-- Resuming a job starts a new attempt: reports from the old one are refused from now on.
create or replace function public.start_job_attempt(p_job_id uuid)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  next_attempt integer;
begin
  perform set_config('jobs.reason', 'resumed as a new attempt', true);
  update public.local_training_jobs
  set attempt = attempt + 1, report_seq = 0, status = 'queued', completed_at = null, progress = null
  where id = p_job_id
  returning attempt into next_attempt;
  perform set_config('jobs.reason', '', true);
  if next_attempt is null then
    raise exception 'start_job_attempt: job % does not exist', p_job_id using errcode = 'no_data_found';
  end if;
  return next_attempt;
end $$;
comment on function public.start_job_attempt(uuid) is
  'Resume a job: increments attempt, resets it to queued, and fences off reports from earlier attempts. Returns the new attempt. Service role only.';

revoke all on function public.report_job_status(uuid, integer, bigint, text, double precision, text) from public, anon, authenticated;
revoke all on function public.start_job_attempt(uuid) from public, anon, authenticated;
grant execute on function public.report_job_status(uuid, integer, bigint, text, double precision, text) to service_role;
grant execute on function public.start_job_attempt(uuid) to service_role;
revoke all on function jobs_private.is_presumed_dead(text, jsonb) from public;
revoke all on function jobs_private.status_rank(text) from public;
-- The report function runs with its caller's rights (the service role) and uses these two helpers.
-- The schema stays out of the API; usage here only lets the service role call what is granted.
grant usage on schema jobs_private to service_role;
grant execute on function jobs_private.is_presumed_dead(text, jsonb), jobs_private.status_rank(text) to service_role;

-- The view gains the writer's columns; recreated because its column list changes.
drop view if exists public.local_training_jobs_effective;
create view public.local_training_jobs_effective
with (security_invoker = true)
as
select
  j.id, j.user_id, j.model_name, j.status, j.config, j.started_at, j.completed_at, j.created_at,
  j.updated_at, j.status_reason, j.status_evidence, j.backend_url, j.attempt, j.progress,
  case when now() - j.updated_at > p.stale_after then 'stale' else j.status end as effective_status,
  case when now() - j.updated_at > p.stale_after then j.updated_at + p.stale_after end as stale_since,
  now() - j.updated_at as silent_for
from public.local_training_jobs j
-- Only active statuses have a policy row, so terminal jobs are never stale.
left join public.job_staleness_policy p on p.status = j.status;

comment on view public.local_training_jobs_effective is
  'local_training_jobs plus effective_status (status, or stale when an active job is silent longer than job_staleness_policy allows), stale_since and silent_for. Query this, not the table.';
comment on column public.local_training_jobs_effective.effective_status is
  'The stored status, or ''stale'' when an active job''s last sign of life (updated_at) is older than its policy''s stale_after.';
comment on column public.local_training_jobs_effective.stale_since is
  'When the job became stale (updated_at + stale_after); null while it is not stale.';
comment on column public.local_training_jobs_effective.silent_for is
  'Time since the last sign of life (now() - updated_at).';

revoke all on table public.local_training_jobs_effective from anon, authenticated, public;
grant select on table public.local_training_jobs_effective to authenticated, service_role;
