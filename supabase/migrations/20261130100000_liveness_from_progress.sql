-- Liveness is progress, not a claim (README "How it works"; decide.ts).
--
-- Two witnesses, kept apart in the row:
--   heartbeat_at     the writer's last write (persist_job(), report_job_status(), any service-role
--                    write). Set by the database on every write that is not the reconciler's or a user's.
--   confirmed_at     the last pass that saw the backend's progress MOVE (progress, step or its own
--                    timestamp differing from what the previous pass saw). A bare "running" is a
--                    claim: it moves neither column.
--   confirmed_until  how long that confirmation keeps the job fresh: until the next pass is due plus
--                    the status's threshold, so a healthy job reads running through a writer outage.
-- updated_at stays the row version: any write moves it, and the pass's guarded apply compares it.
--
-- A user's cancel is a request (cancel_requested_at), shown as `cancelling` until the training
-- stops; a legacy upsert of status cannot erase it.

alter table public.local_training_jobs
  add column if not exists heartbeat_at timestamptz,
  add column if not exists confirmed_at timestamptz,
  add column if not exists confirmed_until timestamptz,
  add column if not exists progress_marker text,
  add column if not exists cancel_requested_at timestamptz,
  add column if not exists cancel_forwarded_at timestamptz,
  add column if not exists cancel_answer text;

-- Existing rows: their last write was the writer's. The stamping trigger would set now(), so it is
-- paused for this one backfill (the table's owner may; no superuser needed). A legacy row whose
-- status the check does not know cannot be updated at all; it is never active, so never stale,
-- and keeps a null heartbeat.
alter table public.local_training_jobs disable trigger stamp_job_write;
update public.local_training_jobs set heartbeat_at = updated_at
where heartbeat_at is null and status in ('queued', 'pending', 'running', 'completed', 'failed', 'cancelled');
alter table public.local_training_jobs enable trigger stamp_job_write;
alter table public.local_training_jobs alter column heartbeat_at set default now();

comment on column public.local_training_jobs.heartbeat_at is
  'The writer''s last sign of life: set by the database on every write except the reconciler''s and users''.';
comment on column public.local_training_jobs.confirmed_at is
  'When a reconcile pass last saw the backend''s progress move for this job (a claim of "running" alone does not count).';
comment on column public.local_training_jobs.confirmed_until is
  'The backend''s confirmation keeps the job fresh until then (next pass due + threshold); cleared by a pass that sees no movement.';
comment on column public.local_training_jobs.progress_marker is
  'The backend''s progress (progress, step, its own timestamp) as the last pass saw it; the next pass compares.';
comment on column public.local_training_jobs.cancel_requested_at is
  'A user asked to cancel. The job reads cancelling until the backend or the writer says it stopped.';
comment on column public.local_training_jobs.cancel_forwarded_at is
  'When the reconciler forwarded the cancel request to the backend (POST /api/training/cancel/{id}).';
comment on column public.local_training_jobs.cancel_answer is
  'What the backend answered to the forwarded cancel request.';
comment on column public.local_training_jobs.updated_at is
  'Row version: set by the database on every write. Liveness is heartbeat_at and confirmed_until, not this.';

-- Failures the reconciler inferred rather than heard: the only terminal states a writer may undo.
create or replace function jobs_private.is_presumed_dead(status text, evidence jsonb)
returns boolean
language sql immutable
set search_path = ''
as $$
  select status = 'failed' and coalesce(evidence ->> 'rule', '') in ('fail_lost', 'fail_heartbeat_lost', 'fail_stalled')
$$;

-- Every write: the row version, the writer's heartbeat, the times a writer left empty; a user's
-- change becomes a cancel request; a writer contradicting a presumed death revives the job.
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
    if tg_op = 'UPDATE' and new.status is distinct from old.status
       and jobs_private.is_presumed_dead(old.status, old.status_evidence) then
      -- The reconciler only presumed it dead; the writer is alive. The truth wins, with a reason.
      new.status_reason := coalesce(new.status_reason,
        format('revived: a writer reported %s after %s', new.status, old.status_evidence ->> 'rule'));
      if new.status in ('queued', 'pending', 'running') then new.completed_at := null; end if;
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

-- Users request a cancel; they never set a status (the trigger above turns 'cancelled' into a request).
grant update (status, cancel_requested_at) on table public.local_training_jobs to authenticated;
drop policy if exists "Users can cancel their own active training jobs" on public.local_training_jobs;
drop policy if exists "Users can request a cancel of their own active training jobs" on public.local_training_jobs;
create policy "Users can request a cancel of their own active training jobs"
  on public.local_training_jobs for update
  to authenticated
  using (user_id = (select auth.uid()) and status in ('queued', 'pending', 'running'))
  with check (user_id = (select auth.uid()) and cancel_requested_at is not null);

-- The view: stale when neither witness has vouched within the policy; cancelling while a request waits.
drop view if exists public.local_training_jobs_effective;
create view public.local_training_jobs_effective
with (security_invoker = true)
as
select
  j.id, j.user_id, j.model_name, j.status, j.config, j.started_at, j.completed_at, j.created_at,
  j.updated_at, j.status_reason, j.status_evidence, j.backend_url, j.attempt, j.progress,
  case
    when f.fresh_until is null then j.status
    when now() > f.fresh_until then 'stale'
    when j.cancel_requested_at is not null then 'cancelling'
    else j.status
  end as effective_status,
  case when now() > f.fresh_until then f.fresh_until end as stale_since,
  greatest(j.heartbeat_at, j.confirmed_at) as last_heard_at,
  now() - greatest(j.heartbeat_at, j.confirmed_at) as silent_for,
  j.heartbeat_at, j.confirmed_at, j.cancel_requested_at, j.cancel_answer
from public.local_training_jobs j
-- Terminal statuses get no threshold, so a finished job is never stale. Scalar subqueries become
-- InitPlans: the policy is read once per query, not once per row (migration 20261129160500).
cross join lateral (
  select greatest(j.heartbeat_at + case j.status
    when 'running' then (select stale_after from public.job_staleness_policy where status = 'running')
    when 'queued' then (select stale_after from public.job_staleness_policy where status = 'queued')
    when 'pending' then (select stale_after from public.job_staleness_policy where status = 'pending')
  end, case when j.status in ('queued', 'pending', 'running') then j.confirmed_until end) as fresh_until
) f;

comment on view public.local_training_jobs_effective is
  'local_training_jobs plus effective_status: the status; stale when an active job has had no sign of life (writer heartbeat, or backend progress seen moving) within job_staleness_policy; cancelling while a user''s cancel request waits. Query this, not the table.';
comment on column public.local_training_jobs_effective.effective_status is
  'queued | pending | running | completed | failed | cancelled, or stale (silent past the policy), or cancelling (cancel requested, training not yet stopped).';
comment on column public.local_training_jobs_effective.stale_since is
  'When the job became stale; null while it is not stale.';
comment on column public.local_training_jobs_effective.last_heard_at is
  'The last sign of life: the writer''s heartbeat, or a pass that saw the backend''s progress move.';
comment on column public.local_training_jobs_effective.silent_for is
  'Time since the last sign of life (now() - last_heard_at).';

revoke all on table public.local_training_jobs_effective from anon, authenticated, public;
grant select on table public.local_training_jobs_effective to authenticated, service_role;
