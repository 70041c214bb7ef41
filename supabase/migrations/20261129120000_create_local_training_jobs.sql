-- The seed app's job table, made trustworthy without breaking its writers.
--
-- Created when absent. When a project already has it (the Python backend's persist_job(),
-- the Next.js route and the resume feature write it today), it is only extended: no column is
-- dropped, renamed or retyped, and existing writes keep working.

-- Machinery that API users must never call lives here: PostgREST exposes only `public`
-- (see [api].schemas in supabase/config.toml).
create schema if not exists jobs_private;
revoke all on schema jobs_private from public, anon, authenticated;
comment on schema jobs_private is
  'Trigger functions and reconciler internals for local_training_jobs. Not exposed through the API.';

create table if not exists public.local_training_jobs (
  id uuid primary key default gen_random_uuid(),
  user_id uuid references auth.users (id) on delete cascade,
  model_name text,
  status text not null default 'queued',
  config jsonb not null default '{}'::jsonb,
  started_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- An older table may lack some seed columns, or their defaults: add, never replace.
alter table public.local_training_jobs
  add column if not exists model_name text,
  add column if not exists config jsonb default '{}'::jsonb,
  add column if not exists started_at timestamptz,
  add column if not exists completed_at timestamptz,
  add column if not exists created_at timestamptz default now(),
  add column if not exists updated_at timestamptz default now();
alter table public.local_training_jobs alter column created_at set default now();
alter table public.local_training_jobs alter column updated_at set default now();

-- The one list of statuses. Mirrored by JOB_STATUSES in supabase/functions/_shared/job-status.ts.
-- Added NOT VALID first so a legacy row with an odd status cannot fail the migration; it is then
-- validated, and if old rows disagree the constraint still guards every new write.
do $$
begin
  if not exists (
    select from pg_constraint
    where conrelid = 'public.local_training_jobs'::regclass
      and conname = 'local_training_jobs_status_is_known'
  ) then
    alter table public.local_training_jobs
      add constraint local_training_jobs_status_is_known
      check (status in ('queued', 'pending', 'running', 'completed', 'failed', 'cancelled')) not valid;
  end if;
  begin
    alter table public.local_training_jobs validate constraint local_training_jobs_status_is_known;
  exception when check_violation then
    raise warning 'local_training_jobs has rows with unknown statuses; new writes are checked, old rows are left as they are';
  end;
end $$;

comment on table public.local_training_jobs is
  'Training jobs as their writers last reported them. Readers should query local_training_jobs_effective, which never shows a silent job as running.';
comment on column public.local_training_jobs.status is
  'queued | pending | running (active) or completed | failed | cancelled (terminal).';
comment on column public.local_training_jobs.updated_at is
  'Last sign of life. Set by the database on every write (trigger), so a writer can neither forget nor forge it.';

-- updated_at from the database clock on every write; completed_at filled when a writer forgets it.
create or replace function jobs_private.stamp_job_write()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  if new.status in ('completed', 'failed', 'cancelled') and new.completed_at is null then
    new.completed_at := now();
  end if;
  if new.status = 'running' and new.started_at is null then
    new.started_at := now();
  end if;
  return new;
end $$;
comment on function jobs_private.stamp_job_write() is
  'Before every insert/update of local_training_jobs: updated_at := now(), and the start/end times a writer left empty.';

drop trigger if exists stamp_job_write on public.local_training_jobs;
create trigger stamp_job_write
  before insert or update on public.local_training_jobs
  for each row execute function jobs_private.stamp_job_write();

-- The two hot reads. No index touches updated_at: heartbeats must stay HOT updates.
create index if not exists local_training_jobs_user_recent_idx
  on public.local_training_jobs (user_id, created_at desc);
create index if not exists local_training_jobs_active_idx
  on public.local_training_jobs (id)
  where status in ('queued', 'pending', 'running');

-- Privileges: start from nothing (Supabase grants everything in public by default), then grant.
revoke all on table public.local_training_jobs from anon, authenticated, public;
grant select on table public.local_training_jobs to authenticated;
-- A user may change one column of their own row, and the policy below only allows 'cancelled'.
grant update (status) on table public.local_training_jobs to authenticated;
grant all on table public.local_training_jobs to service_role;

alter table public.local_training_jobs enable row level security;

drop policy if exists "Users can see their own training jobs" on public.local_training_jobs;
create policy "Users can see their own training jobs"
  on public.local_training_jobs for select
  to authenticated
  using (user_id = (select auth.uid()));

drop policy if exists "Users can cancel their own active training jobs" on public.local_training_jobs;
create policy "Users can cancel their own active training jobs"
  on public.local_training_jobs for update
  to authenticated
  using (user_id = (select auth.uid()) and status in ('queued', 'pending', 'running'))
  with check (user_id = (select auth.uid()) and status = 'cancelled');
