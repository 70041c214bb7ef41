-- The seed app's job table, made trustworthy without breaking its writers: created when absent,
-- only extended when a project has it (no column dropped, renamed or retyped).

-- A row with a status outside the list could not be written once the check below exists, and a
-- WARNING during `supabase db push` is shown to nobody: so the push stops before it changes
-- anything, names the statuses, and gives the SQL that maps them (run it, then push again).
do $$
declare
  found_statuses text;
begin
  if to_regclass('public.local_training_jobs') is null then
    return;
  end if;
  execute $q$
    select string_agg(format('%L (%s rows)', status, n), ', ' order by n desc)
    from (select status, count(*) as n from public.local_training_jobs
          where status not in ('queued', 'pending', 'running', 'completed', 'failed', 'cancelled')
          group by status) unknown
  $q$ into found_statuses;
  if found_statuses is not null then
    -- All in the message: the CLI prints the message, not always the hint.
    raise exception '%', 'local_training_jobs has rows with unknown statuses: ' || found_statuses
      || '. Map them, then run supabase db push again. To mark them failed, run: '
      || 'alter table public.local_training_jobs add column if not exists status_reason text; '
      || 'update public.local_training_jobs set status = ''failed'', status_reason = ''legacy status: '' || status '
      || 'where status not in (''queued'', ''pending'', ''running'', ''completed'', ''failed'', ''cancelled'');'
      using errcode = 'check_violation';
  end if;
end $$;

-- Machinery that API users must never call lives here: PostgREST exposes only `public`
-- (see [api].schemas in supabase/config.toml).
create schema if not exists jobs_private;
revoke all on schema jobs_private from public, anon, authenticated;
comment on schema jobs_private is
  'Trigger functions and reconciler internals for local_training_jobs. Not exposed through the API.';

-- The active statuses, written once. Immutable and argument-free, so the planner folds each call
-- to a constant: partial-index predicates and queries written with it still match each other.
create function jobs_private.active_statuses()
returns text[]
language sql immutable
set search_path = ''
as $$
  select array['queued', 'pending', 'running']
$$;
comment on function jobs_private.active_statuses() is
  'queued, pending, running: the statuses a job can leave. Everything else is terminal.';
-- Every role that writes or reads jobs evaluates it (index predicates, RLS, the view): a constant, no secret.
grant execute on function jobs_private.active_statuses() to public;

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

-- Why the job has its status, for whoever reads it: written by the reconciler, a report, a trigger.
alter table public.local_training_jobs
  add column if not exists status_reason text,
  add column if not exists status_evidence jsonb;
comment on column public.local_training_jobs.status_reason is
  'Why the job has its current status, when whoever set it said so (e.g. "heartbeat lost").';
comment on column public.local_training_jobs.status_evidence is
  'What the status change was based on (pass id, backend answer, silence, threshold), when known.';

-- The one list of statuses. Mirrored by JOB_STATUSES in supabase/functions/_shared/job-status.ts.
alter table public.local_training_jobs
  add constraint local_training_jobs_status_is_known
  check (status in ('queued', 'pending', 'running', 'completed', 'failed', 'cancelled'));

comment on table public.local_training_jobs is
  'Training jobs as their writers last reported them. Readers should query local_training_jobs_effective, which never shows a silent job as running.';
comment on column public.local_training_jobs.status is
  'queued | pending | running (active) or completed | failed | cancelled (terminal).';
comment on column public.local_training_jobs.updated_at is
  'Row version: set by the database on every write. Liveness is heartbeat_at and confirmed_until, not this.';

-- An insert that leaves status out, or sets it NULL, worked on the seed's table and keeps working.
-- A trigger, because an explicit NULL bypasses a default. Its name sorts before stamp_job_write,
-- so it runs first (BEFORE triggers fire in name order).
create function jobs_private.default_missing_status()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status is null then
    new.status := 'queued';
    new.status_reason := coalesce(new.status_reason, 'status missing at insert: defaulted to queued');
  end if;
  return new;
end $$;
revoke all on function jobs_private.default_missing_status() from public, anon, authenticated;

create trigger default_missing_status
  before insert on public.local_training_jobs
  for each row execute function jobs_private.default_missing_status();

-- The two hot reads. No index touches a column a heartbeat writes: heartbeats must stay HOT updates.
create index if not exists local_training_jobs_user_recent_idx
  on public.local_training_jobs (user_id, created_at desc);
create index if not exists local_training_jobs_active_idx
  on public.local_training_jobs (id)
  where status = any (jobs_private.active_statuses());

-- 10% of each page left free, so a heartbeat's new row version fits on the same page (HOT).
-- docs/benchmarks.md
alter table public.local_training_jobs set (fillfactor = 90);

-- Privileges: start from nothing (Supabase grants everything in public by default), then grant.
revoke all on table public.local_training_jobs from anon, authenticated, public;
grant select on table public.local_training_jobs to authenticated;
grant all on table public.local_training_jobs to service_role;

alter table public.local_training_jobs enable row level security;

drop policy if exists "Users can see their own training jobs" on public.local_training_jobs;
create policy "Users can see their own training jobs"
  on public.local_training_jobs for select
  to authenticated
  using (user_id = (select auth.uid()));
