-- How long each active status may go without a sign of life before readers see it as stale.
-- An operator changes a threshold with one UPDATE, e.g.
--   update public.job_staleness_policy set stale_after = interval '5 minutes' where status = 'running';

create table if not exists public.job_staleness_policy (
  status text primary key
    constraint job_staleness_policy_status_is_active check (status in ('queued', 'pending', 'running')),
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
  'Per active status: how long without a sign of life (updated_at) before local_training_jobs_effective reports the job as stale. Terminal statuses have no row and are never stale.';

revoke all on table public.job_staleness_policy from anon, authenticated, public;
-- Readers need it: the effective view runs with the caller's rights.
grant select on table public.job_staleness_policy to authenticated;
grant all on table public.job_staleness_policy to service_role;

alter table public.job_staleness_policy enable row level security;

drop policy if exists "Signed-in users can read the staleness policy" on public.job_staleness_policy;
create policy "Signed-in users can read the staleness policy"
  on public.job_staleness_policy for select
  to authenticated
  using (true);
