-- report_job_status(): a writer may report 'cancelled' (it stopped the training after a user's
-- request), and every answer says whether a cancel is requested, so the writer learns of it on its
-- next heartbeat without another round trip. Otherwise as in 20261129160400.

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
  -- Active statuses only move forward (queued < pending < running < terminal).
  update public.local_training_jobs j
  set status = case
        when (case p_status when 'queued' then 1 when 'pending' then 2 when 'running' then 3 else 4 end)
          >= (case j.status when 'queued' then 1 when 'pending' then 2 else 3 end)
        then p_status else j.status end,
      report_seq = p_seq,
      progress = coalesce(p_progress, j.progress),
      status_reason = case when p_status = 'failed' then coalesce(p_error, 'failed (no error text)') else j.status_reason end
  where j.id = p_job_id and j.attempt = p_attempt and j.report_seq < p_seq
    and j.status in ('queued', 'pending', 'running')
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
        completed_at = case when p_status in ('completed', 'failed', 'cancelled') then now() end,
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

revoke all on function public.report_job_status(uuid, integer, bigint, text, double precision, text) from public, anon, authenticated;
grant execute on function public.report_job_status(uuid, integer, bigint, text, double precision, text) to service_role;
