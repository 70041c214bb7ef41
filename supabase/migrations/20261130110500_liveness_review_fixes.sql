-- Three holes an adversarial review found in the liveness and cancel rules (each has a test):
-- 1. A user's cancel is a request, but reset_status_reason still saw `status = 'cancelled'` and wiped
--    the row's reason and evidence before stamp_job_write put the status back: API users are skipped.
-- 2. A writer that reports `failed` itself over a presumed death left the presumed rule in the
--    evidence, so a later straggler could "revive" a job the writer had failed: the writer's word
--    now replaces the presumption.
-- 3. start_job_attempt() kept the old attempt's cancel request and backend confirmation, so a
--    resumed run read `cancelling` and was cancelled at once: a new attempt starts clean.

create or replace function jobs_private.reset_status_reason()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- An API user's update only ever becomes a cancel request (stamp_job_write): nothing to reset.
  if current_user::text in ('anon', 'authenticated') or session_user::text in ('anon', 'authenticated')
     or coalesce(current_setting('role', true), '') in ('anon', 'authenticated') then
    return new;
  end if;
  if new.status_reason is not distinct from old.status_reason then
    new.status_reason := nullif(current_setting('jobs.reason', true), '');
  end if;
  if new.status_evidence is not distinct from old.status_evidence then
    new.status_evidence := null;
  end if;
  return new;
end $$;
revoke all on function jobs_private.reset_status_reason() from public;

create or replace function jobs_private.stamp_job_write()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  by_user constant boolean := current_user in ('authenticated', 'anon');
begin
  new.updated_at := now();
  if by_user and tg_op = 'UPDATE' then
    if new.status is distinct from old.status and new.status <> 'cancelled' then
      raise exception 'a user may only request a cancel (status = ''cancelled''), not set %', new.status
        using errcode = 'insufficient_privilege';
    end if;
    if new.status is distinct from old.status or new.cancel_requested_at is distinct from old.cancel_requested_at then
      -- The request time is the database's, and a request cannot be withdrawn or backdated.
      new.cancel_requested_at := coalesce(old.cancel_requested_at, now());
    end if;
    new.status := old.status;
    return new;
  end if;

  if tg_op = 'INSERT' or current_setting('jobs.actor', true) is distinct from 'reconciler' then
    new.heartbeat_at := now();
    if tg_op = 'UPDATE' and jobs_private.is_presumed_dead(old.status, old.status_evidence) then
      if new.status is distinct from old.status then
        -- The reconciler only presumed it dead; the writer is alive. The truth wins, with a reason.
        new.status_reason := coalesce(new.status_reason,
          format('revived: a writer reported %s after %s', new.status, old.status_evidence ->> 'rule'));
        if new.status in ('queued', 'pending', 'running') then new.completed_at := null; end if;
      elsif new.status_evidence is not distinct from old.status_evidence then
        -- The writer reports the failure itself: no longer a presumption anyone may undo.
        new.status_evidence := jsonb_build_object('rule', 'writer_report', 'was_presumed', old.status_evidence ->> 'rule');
      end if;
    end if;
  end if;
  if new.status in ('completed', 'failed', 'cancelled') and new.completed_at is null then
    new.completed_at := now();
  end if;
  if new.status = 'running' and new.started_at is null then
    new.started_at := now();
  end if;
  return new;
end $$;

-- Resuming a job starts a new attempt, clean: reports from the old one are refused from now on, and
-- nothing of the old run (a cancel request, a backend confirmation or progress marker) carries over.
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
revoke all on function public.start_job_attempt(uuid) from public, anon, authenticated;
grant execute on function public.start_job_attempt(uuid) to service_role;
