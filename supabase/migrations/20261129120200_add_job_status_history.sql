-- Every status change, by whoever makes it, leaves a row here: nothing a reconciler, a backend
-- or a user does to a status is invisible.
--
-- Writers may say who they are and why, per transaction:
--   set local jobs.actor = 'reconciler';  set local jobs.reason = 'heartbeat lost';
-- or per row, through the status_reason and status_evidence columns added below.

alter table public.local_training_jobs
  add column if not exists status_reason text,
  add column if not exists status_evidence jsonb;
comment on column public.local_training_jobs.status_reason is
  'Why the job has its current status, when whoever set it said so (e.g. "heartbeat lost").';
comment on column public.local_training_jobs.status_evidence is
  'What the status change was based on (pass id, backend answer, silence, threshold), when known.';

create table if not exists public.local_training_job_history (
  id bigint generated always as identity primary key,
  job_id uuid not null references public.local_training_jobs (id) on delete cascade,
  from_status text,
  to_status text not null,
  changed_at timestamptz not null default now(),
  actor text not null,
  reason text,
  evidence jsonb
);
create index if not exists local_training_job_history_job_idx
  on public.local_training_job_history (job_id, id);

comment on table public.local_training_job_history is
  'One row per status transition of local_training_jobs, written by a trigger. from_status is null for the insert that created the job.';
comment on column public.local_training_job_history.actor is
  'jobs.actor if the writer set it, else user:<auth.uid()>, else the JWT role, else the database login.';

-- A status change without a new reason must not inherit the previous one.
create or replace function jobs_private.reset_status_reason()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status_reason is not distinct from old.status_reason then
    new.status_reason := nullif(current_setting('jobs.reason', true), '');
  end if;
  if new.status_evidence is not distinct from old.status_evidence then
    new.status_evidence := null;
  end if;
  return new;
end $$;

drop trigger if exists reset_status_reason on public.local_training_jobs;
create trigger reset_status_reason
  before update of status on public.local_training_jobs
  for each row
  when (old.status is distinct from new.status)
  execute function jobs_private.reset_status_reason();

create or replace function jobs_private.current_actor()
returns text
language sql stable
set search_path = ''
as $$
  select coalesce(
    nullif(current_setting('jobs.actor', true), ''),
    'user:' || auth.uid()::text,
    auth.role(),
    session_user::text
  )
$$;

-- Statement-level with transition tables: one set-based insert per statement, so a reconciler
-- pass that fails 10k rows costs one INSERT, not 10k trigger calls.
-- Security definer: a signed-in user cancelling a job has no insert right on the history.
create or replace function jobs_private.record_status_transitions()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into public.local_training_job_history (job_id, from_status, to_status, actor, reason, evidence)
    select n.id, null, n.status, jobs_private.current_actor(),
           coalesce(n.status_reason, nullif(current_setting('jobs.reason', true), '')), n.status_evidence
    from new_rows n;
  else
    insert into public.local_training_job_history (job_id, from_status, to_status, actor, reason, evidence)
    select n.id, o.status, n.status, jobs_private.current_actor(), n.status_reason, n.status_evidence
    from new_rows n
    join old_rows o on o.id = n.id
    where o.status is distinct from n.status;
  end if;
  return null;
end $$;

drop trigger if exists record_status_insert on public.local_training_jobs;
create trigger record_status_insert
  after insert on public.local_training_jobs
  referencing new table as new_rows
  for each statement execute function jobs_private.record_status_transitions();

drop trigger if exists record_status_update on public.local_training_jobs;
create trigger record_status_update
  after update on public.local_training_jobs
  referencing old table as old_rows new table as new_rows
  for each statement execute function jobs_private.record_status_transitions();

revoke all on function jobs_private.record_status_transitions() from public;
revoke all on function jobs_private.reset_status_reason() from public;

revoke all on table public.local_training_job_history from anon, authenticated, public;
grant select on table public.local_training_job_history to authenticated;
grant all on table public.local_training_job_history to service_role;

alter table public.local_training_job_history enable row level security;

drop policy if exists "Users can see the history of their own training jobs" on public.local_training_job_history;
create policy "Users can see the history of their own training jobs"
  on public.local_training_job_history for select
  to authenticated
  using (exists (
    select from public.local_training_jobs j
    where j.id = job_id and j.user_id = (select auth.uid())
  ));
