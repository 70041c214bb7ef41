-- A heartbeat repeats its job's status ('running' while it trains), and report_job_status() wrote
-- that status back anyway: with `status` in its SET list, the two triggers declared UPDATE OF status
-- (reset_status_reason, record_status_update) had their WHEN conditions prepared and checked on every
-- report, only to find the status unchanged. A report of the status the job already has now takes an
-- UPDATE that leaves status (and status_reason, which only a failure sets) out of its SET list, so
-- those triggers are not considered at all, and it runs before the argument checks, under a condition
-- that holds only for arguments they accept: one test on the common path instead of four. The rows it
-- writes are the ones the old fast path wrote for such a report; every other report (a move forward,
-- a terminal status, anything this statement does not take) goes on as before
-- (20261129120300_add_report_job_status.sql). `npm run bench -- --only heartbeats`, twice each way,
-- alternating: 1.59x and 1.57x a bare UPDATE before, 1.50x and 1.49x after (docs/benchmarks.md).
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
  -- The heartbeat: the current attempt, a newer report, and the status the job already has. Status
  -- is left out of the SET list, so the triggers on UPDATE OF status are not even considered. Its
  -- condition holds only for arguments the checks below accept (a null id or seq matches no row),
  -- so those checks run for every report this statement does not take, before anything else does.
  if p_attempt >= 1 and p_seq >= 1 and p_status = any (jobs_private.active_statuses())
     and (p_progress is null or (p_progress >= 0 and p_progress <= 1)) then
    update public.local_training_jobs j
    set report_seq = p_seq, progress = coalesce(p_progress, j.progress)
    where j.id = p_job_id and j.attempt = p_attempt and j.report_seq < p_seq and j.status = p_status
    returning j.cancel_requested_at into cancel_at;
    if found then
      return jsonb_build_object('outcome', 'applied', 'status', p_status, 'attempt', p_attempt, 'seq', p_seq,
        'cancel_requested', cancel_at is not null);
    end if;
  end if;

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

  -- A move forward, one statement: the current attempt, a newer report, an active job.
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
