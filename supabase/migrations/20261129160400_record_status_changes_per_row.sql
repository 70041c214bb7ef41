-- Status history from a row trigger that fires only for rows whose status changed.
--
-- The statement-level trigger (transition tables) ran for every UPDATE, heartbeats included,
-- building OLD/NEW tuplestores and joining them to find no change: a heartbeat through the seed's
-- UPDATE cost 1.26x a bare UPDATE, most of it that trigger (npm run bench). A row trigger with
-- WHEN (old.status is distinct from new.status) is not even called for a heartbeat, nor for the
-- reconciler's confirmations, which are most of a pass.
-- The trade-off, measured: a single statement that changes the status of 10k rows pays about
-- 110 us a row instead of one set-based insert (1.5 s against 0.6 s). Such statements are rare
-- and guarded (the mass-outage guard); heartbeats are thousands a second.
-- Measured with pgbench (2 clients, synchronous_commit off, 3 interleaved rounds of 5 s) on the
-- benchmark database: the seed's heartbeat UPDATE went from 1.20x to 1.17x a bare UPDATE, and
-- report_job_status() from 1.53x to 1.35x.
--
-- The reporter's actor now comes from the row (report_seq went up: only report_job_status() does that),
-- so report_job_status() no longer pays a set_config() on every heartbeat.

create or replace function jobs_private.record_status_change()
returns trigger
language plpgsql
security definer -- a signed-in user cancelling a job has no insert right on the history
set search_path = ''
as $$
begin
  insert into public.local_training_job_history (job_id, from_status, to_status, actor, reason, evidence)
  values (new.id, old.status, new.status,
          case when new.report_seq > old.report_seq then 'reporter:attempt-' || new.attempt
               else jobs_private.current_actor() end,
          new.status_reason, new.status_evidence);
  return null;
end $$;
revoke all on function jobs_private.record_status_change() from public;

drop trigger if exists record_status_update on public.local_training_jobs;
create trigger record_status_update
  after update of status on public.local_training_jobs
  for each row
  when (old.status is distinct from new.status)
  execute function jobs_private.record_status_change();

-- Inserts keep the statement-level trigger: one set-based INSERT per statement, no join.

-- report_job_status(), as before but without setting jobs.actor: the trigger above names the reporter.
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

revoke all on function public.report_job_status(uuid, integer, bigint, text, double precision, text) from public, anon, authenticated;
grant execute on function public.report_job_status(uuid, integer, bigint, text, double precision, text) to service_role;
