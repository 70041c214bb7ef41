-- What every reader should query instead of the table: the stored status, or 'stale' when an
-- active job has been silent longer than its policy allows. Derived at read time, so it is
-- true even when no reconciler runs, and it costs no call to the training backend.
--
-- security_invoker: the caller's RLS applies, so a user sees only their own jobs here too.

create or replace view public.local_training_jobs_effective
with (security_invoker = true)
as
select
  j.id,
  j.user_id,
  j.model_name,
  j.status,
  j.config,
  j.started_at,
  j.completed_at,
  j.created_at,
  j.updated_at,
  j.status_reason,
  j.status_evidence,
  case when now() - j.updated_at > p.stale_after then 'stale' else j.status end as effective_status,
  case when now() - j.updated_at > p.stale_after then j.updated_at + p.stale_after end as stale_since,
  now() - j.updated_at as silent_for
from public.local_training_jobs j
-- Only active statuses have a policy row, so terminal jobs are never stale.
left join public.job_staleness_policy p on p.status = j.status;

comment on view public.local_training_jobs_effective is
  'local_training_jobs plus effective_status (status, or stale when an active job is silent longer than job_staleness_policy allows), stale_since and silent_for. Query this, not the table.';
comment on column public.local_training_jobs_effective.effective_status is
  'The stored status, or ''stale'' when an active job''s last sign of life (updated_at) is older than its policy''s stale_after.';
comment on column public.local_training_jobs_effective.stale_since is
  'When the job became stale (updated_at + stale_after); null while it is not stale.';
comment on column public.local_training_jobs_effective.silent_for is
  'Time since the last sign of life (now() - updated_at).';

revoke all on table public.local_training_jobs_effective from anon, authenticated, public;
grant select on table public.local_training_jobs_effective to authenticated, service_role;
