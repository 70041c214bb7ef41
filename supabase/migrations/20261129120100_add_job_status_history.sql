-- Every status change, by whoever makes it, leaves a row here. Trusted writers may say who they
-- are and why, per transaction (set local jobs.actor / jobs.reason) or per row (status_reason,
-- status_evidence); API users cannot: their changes are labelled with their user id.

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
  'jobs.actor if a trusted writer set it (ignored for anon and authenticated), else user:<auth.uid()>, else the JWT role, else the database login.';

-- Checked on the role setting too: PostgREST logs in as authenticator and switches with SET ROLE,
-- and inside a security definer trigger current_user is the owner.
create function jobs_private.session_is_api_user()
returns boolean
language sql stable
set search_path = ''
as $$
  select current_user::text in ('anon', 'authenticated')
      or session_user::text in ('anon', 'authenticated')
      or coalesce(current_setting('role', true), '') in ('anon', 'authenticated')
$$;

-- A jobs.* setting, unless the session is an API user's; '' reads as unset.
create function jobs_private.trusted_setting(p_name text)
returns text
language sql stable
set search_path = ''
as $$
  select case when jobs_private.session_is_api_user() then null
              else nullif(current_setting(p_name, true), '') end
$$;

create function jobs_private.current_actor()
returns text
language sql stable
set search_path = ''
as $$
  select coalesce(
    jobs_private.trusted_setting('jobs.actor'),
    'user:' || auth.uid()::text,
    auth.role(),
    session_user::text
  )
$$;

-- A status change without a new reason must not inherit the previous one.
-- Runs as the writer, who may have no access to jobs_private: the API-user check is inlined.
create function jobs_private.reset_status_reason()
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

create trigger reset_status_reason
  before update of status on public.local_training_jobs
  for each row
  when (old.status is distinct from new.status)
  execute function jobs_private.reset_status_reason();

-- Inserts: statement-level with a transition table, one set-based INSERT per statement.
-- Security definer: a signed-in user has no insert right on the history.
create function jobs_private.record_status_transitions()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.local_training_job_history (job_id, from_status, to_status, actor, reason, evidence)
  select n.id, null, n.status, jobs_private.current_actor(),
         coalesce(n.status_reason, jobs_private.trusted_setting('jobs.reason')), n.status_evidence
  from new_rows n;
  return null;
end $$;

create trigger record_status_insert
  after insert on public.local_training_jobs
  referencing new table as new_rows
  for each statement execute function jobs_private.record_status_transitions();

-- Updates: a row trigger whose WHEN skips heartbeats and confirmations, most writes by far
-- (a statement trigger joined OLD and NEW tables for every heartbeat; docs/benchmarks.md).
-- A report (report_seq went up: only report_job_status() does that) names the reporter.
create function jobs_private.record_status_change()
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

create trigger record_status_update
  after update of status on public.local_training_jobs
  for each row
  when (old.status is distinct from new.status)
  execute function jobs_private.record_status_change();

revoke all on function jobs_private.session_is_api_user() from public, anon, authenticated;
revoke all on function jobs_private.trusted_setting(text) from public, anon, authenticated;
revoke all on function jobs_private.current_actor() from public, anon, authenticated;
revoke all on function jobs_private.reset_status_reason() from public;
revoke all on function jobs_private.record_status_transitions() from public;
revoke all on function jobs_private.record_status_change() from public;

revoke all on table public.local_training_job_history from anon, authenticated, public;
grant select on table public.local_training_job_history to authenticated;
grant all on table public.local_training_job_history to service_role;

-- Supabase's default privileges grant API users UPDATE on every sequence in public: setval() to
-- its maximum would make every later status change fail. Only the trigger and the service role need it.
do $$
declare
  seq text := pg_get_serial_sequence('public.local_training_job_history', 'id');
begin
  execute format('revoke all on sequence %s from public, anon, authenticated', seq);
  execute format('grant usage, select on sequence %s to service_role', seq);
end $$;

alter table public.local_training_job_history enable row level security;

create policy "Users can see the history of their own training jobs"
  on public.local_training_job_history for select
  to authenticated
  using (exists (
    select from public.local_training_jobs j
    where j.id = job_id and j.user_id = (select auth.uid())
  ));
