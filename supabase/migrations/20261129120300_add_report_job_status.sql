-- The writer's path: one call for status, heartbeat and progress that survives reordering,
-- retries and resumes. Legacy writers that UPDATE the table keep working; this is the better path.
--   select public.report_job_status(job_id, attempt, seq, 'running', progress => 0.42);
-- attempt fences a resumed job's old run; seq rises per attempt, so an older report is ignored.

alter table public.local_training_jobs
  add column if not exists attempt integer not null default 1,
  add column if not exists report_seq bigint not null default 0,
  add column if not exists progress double precision;
comment on column public.local_training_jobs.attempt is
  'Current attempt (run) of the job. start_job_attempt() increments it; reports from other attempts are refused.';
comment on column public.local_training_jobs.report_seq is
  'Sequence number of the last report applied for the current attempt; older reports are ignored.';
comment on column public.local_training_jobs.progress is 'Last reported progress, 0..1.';

-- A writer may report 'cancelled' (it stopped the training after a user's request), and every
-- answer says whether a cancel is requested, so the writer learns of it on its next heartbeat.
create function public.report_job_status(
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
  cancel_at timestamptz;
begin
  if p_job_id is null or p_attempt is null or p_attempt < 1 or p_seq is null or p_seq < 1 then
    raise exception 'report_job_status: job id, attempt (>= 1) and seq (>= 1) are required'
      using errcode = 'invalid_parameter_value';
  end if;
  if p_status is null or p_status not in ('queued', 'pending', 'running', 'completed', 'failed', 'cancelled') then
    raise exception 'report_job_status: status must be queued, pending, running, completed, failed or cancelled, not %', coalesce(p_status, 'null')
      using errcode = 'invalid_parameter_value';
  end if;
  if p_progress is not null and (p_progress < 0 or p_progress > 1 or p_progress = 'NaN') then
    raise exception 'report_job_status: progress must be between 0 and 1' using errcode = 'invalid_parameter_value';
  end if;

  -- Fast path, one statement: the current attempt, a newer report, an active job.
  -- Active statuses only move forward (queued < pending < running < terminal). The rank is
  -- written inline: a helper with SET search_path is not inlined, and costs every heartbeat two calls.
  update public.local_training_jobs j
  set status = case
        when (case p_status when 'queued' then 1 when 'pending' then 2 when 'running' then 3 else 4 end)
          >= (case j.status when 'queued' then 1 when 'pending' then 2 else 3 end)
        then p_status else j.status end,
      report_seq = p_seq,
      progress = coalesce(p_progress, j.progress),
      status_reason = case when p_status = 'failed' then coalesce(p_error, 'failed (no error text)') else j.status_reason end
  where j.id = p_job_id and j.attempt = p_attempt and j.report_seq < p_seq
    and j.status = any (jobs_private.active_statuses())
  returning j.status, j.cancel_requested_at into next_status, cancel_at;
  if found then
    return jsonb_build_object('outcome', 'applied', 'status', next_status, 'attempt', p_attempt, 'seq', p_seq,
      'cancel_requested', cancel_at is not null);
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
        completed_at = case when p_status <> all (jobs_private.active_statuses()) then now() end,
        -- Left as it is unless failed, so the reset trigger records jobs.reason ("revived: ...").
        status_reason = case when p_status = 'failed' then coalesce(p_error, 'failed (no error text)') else status_reason end
    where id = p_job_id;
    perform set_config('jobs.reason', '', true);
    outcome := 'revived';
  else
    -- Completed, failed or cancelled by the backend, the writer or a user: final.
    outcome := 'ignored_terminal';
  end if;

  select status, cancel_requested_at into next_status, cancel_at from public.local_training_jobs where id = p_job_id;
  return jsonb_build_object('outcome', outcome, 'status', next_status, 'attempt', job.attempt, 'seq', p_seq,
    'cancel_requested', cancel_at is not null);
end $$;
comment on function public.report_job_status(uuid, integer, bigint, text, double precision, text) is
  'Report a job''s status/heartbeat/progress. Returns {outcome: applied | ignored_stale | refused_fenced | ignored_terminal | revived, status, attempt, seq}. Service role only.';

-- Resuming a job starts a new attempt, clean: reports from the old one are refused from now on, and
-- nothing of the old run (a cancel request, a backend confirmation or progress marker) carries over.
create function public.start_job_attempt(p_job_id uuid)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  next_attempt integer;
begin
  perform set_config('jobs.reason', 'resumed as a new attempt', true);
  update public.local_training_jobs
  set attempt = attempt + 1, report_seq = 0, status = 'queued', completed_at = null, progress = null,
      cancel_requested_at = null, cancel_forwarded_at = null, cancel_answer = null,
      confirmed_at = null, confirmed_until = null, progress_marker = null
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
