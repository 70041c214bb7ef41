-- Liveness is progress, not a claim (README "How it works"; decide.ts). Two witnesses:
-- heartbeat_at (the writer's last write) and confirmed_at/until (a pass saw the backend's progress
-- move); a job is stale when neither vouched within its status's threshold. A user's cancel is a
-- request (cancel_requested_at), shown as `cancelling` until the training stops.

-- An operator changes a threshold with one UPDATE, e.g.
--   update public.job_staleness_policy set stale_after = interval '5 minutes' where status = 'running';
create table if not exists public.job_staleness_policy (
  status text primary key
    constraint job_staleness_policy_status_is_active check (status = any (jobs_private.active_statuses())),
  stale_after interval not null
    constraint job_staleness_policy_stale_after_is_positive check (stale_after > interval '0'),
  reasoning text not null default ''
);

insert into public.job_staleness_policy (status, stale_after, reasoning) values
  ('running', interval '2 minutes',
   'The backend writes every 2 s while a job runs; 2 minutes is 60 missed heartbeats, so a live job never trips it, yet a dead one is shown within minutes.'),
  ('queued', interval '30 minutes',
   'Queued jobs do not heartbeat; the reconciler confirms them with the backend every 10 minutes, so 30 minutes is three missed confirmations.'),
  ('pending', interval '30 minutes',
   'Same as queued: no heartbeat, confirmed by the reconciler every 10 minutes.')
on conflict (status) do nothing;

comment on table public.job_staleness_policy is
  'Per active status: how long without a sign of life (the writer''s heartbeat, or a pass that saw the backend''s progress move) before local_training_jobs_effective reports the job as stale. Terminal statuses have no row and are never stale.';

revoke all on table public.job_staleness_policy from anon, authenticated, public;
-- Readers need it: the effective view runs with the caller's rights.
grant select on table public.job_staleness_policy to authenticated;
grant all on table public.job_staleness_policy to service_role;

alter table public.job_staleness_policy enable row level security;

create policy "Signed-in users can read the staleness policy"
  on public.job_staleness_policy for select
  to authenticated
  using (true);

alter table public.local_training_jobs
  add column if not exists heartbeat_at timestamptz,
  add column if not exists confirmed_at timestamptz,
  add column if not exists confirmed_until timestamptz,
  add column if not exists progress_marker text,
  add column if not exists cancel_requested_at timestamptz,
  add column if not exists cancel_forwarded_at timestamptz,
  add column if not exists cancel_answer text;

-- Existing rows: their last write was the writer's. (No stamping trigger yet, so it keeps the time.)
update public.local_training_jobs set heartbeat_at = updated_at where heartbeat_at is null;
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

-- Failures the reconciler inferred rather than heard: the only terminal states a writer may undo.
-- Queries that need an index write the rule out (local_training_jobs_presumed_dead_idx): SET
-- search_path stops Postgres inlining this, and the index predicate must match the query's.
create function jobs_private.is_presumed_dead(status text, evidence jsonb)
returns boolean
language sql immutable
set search_path = ''
as $$
  select status = 'failed' and coalesce(evidence ->> 'rule', '') in ('fail_lost', 'fail_heartbeat_lost', 'fail_stalled')
$$;
revoke all on function jobs_private.is_presumed_dead(text, jsonb) from public;
-- report_job_status() runs with its caller's rights (the service role) and uses it.
-- The schema stays out of the API; usage here only lets the service role call what is granted.
grant usage on schema jobs_private to service_role;
grant execute on function jobs_private.is_presumed_dead(text, jsonb) to service_role;

-- Every write: the row version, the writer's heartbeat, the times a writer left empty; a user's
-- change becomes a cancel request; a writer contradicting a presumed death revives the job, and
-- a writer reporting that failure itself makes it no longer a presumption.
create function jobs_private.stamp_job_write()
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

  -- jobs.actor = 'reconciler' (set by the pass's apply): its writes are not the writer's heartbeat.
  if tg_op = 'INSERT' or current_setting('jobs.actor', true) is distinct from 'reconciler' then
    new.heartbeat_at := now();
    if tg_op = 'UPDATE' and jobs_private.is_presumed_dead(old.status, old.status_evidence) then
      if new.status is distinct from old.status then
        -- The reconciler only presumed it dead; the writer is alive. The truth wins, with a reason.
        new.status_reason := coalesce(new.status_reason,
          format('revived: a writer reported %s after %s', new.status, old.status_evidence ->> 'rule'));
        if new.status = any (jobs_private.active_statuses()) then new.completed_at := null; end if;
      elsif new.status_evidence is not distinct from old.status_evidence then
        -- The writer reports the failure itself: no longer a presumption anyone may undo.
        new.status_evidence := jsonb_build_object('rule', 'writer_report', 'was_presumed', old.status_evidence ->> 'rule');
      end if;
    end if;
  end if;
  if new.status <> all (jobs_private.active_statuses()) and new.completed_at is null then
    new.completed_at := now();
  end if;
  if new.status = 'running' and new.started_at is null then
    new.started_at := now();
  end if;
  return new;
end $$;
comment on function jobs_private.stamp_job_write() is
  'Before every insert/update of local_training_jobs: updated_at := now(), the writer''s heartbeat, the start/end times a writer left empty; an API user''s update becomes a cancel request.';
revoke all on function jobs_private.stamp_job_write() from public, anon, authenticated;

create trigger stamp_job_write
  before insert or update on public.local_training_jobs
  for each row execute function jobs_private.stamp_job_write();

-- Users request a cancel; they never set a status (the trigger above turns 'cancelled' into a request).
grant update (status, cancel_requested_at) on table public.local_training_jobs to authenticated;
create policy "Users can request a cancel of their own active training jobs"
  on public.local_training_jobs for update
  to authenticated
  using (user_id = (select auth.uid()) and status = any (jobs_private.active_statuses()))
  with check (user_id = (select auth.uid()) and cancel_requested_at is not null);
