-- What every reader should query instead of the table: the stored status, `stale` when an active
-- job has had no sign of life within its policy, `cancelling` while a user's cancel request waits.
-- Derived at read time, so it is true even when no reconciler runs. security_invoker: the caller's
-- RLS applies, so a user sees only their own jobs here too.

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
-- Terminal statuses get no threshold, so a finished job is never stale. One uncorrelated scalar
-- subquery per policy row: each is an InitPlan, read once per query, not once per row (a join
-- looked the policy up for every row). `offset 0` keeps fresh_until computed once per row: without
-- it the planner copies the expression into each use, with its InitPlans (0.137 against 0.108 ms
-- a page in a pgbench A/B; docs/benchmarks.md).
cross join lateral (
  select greatest(j.heartbeat_at + case j.status
    when 'running' then (select stale_after from public.job_staleness_policy where status = 'running')
    when 'queued' then (select stale_after from public.job_staleness_policy where status = 'queued')
    when 'pending' then (select stale_after from public.job_staleness_policy where status = 'pending')
  end, case when j.status = any (jobs_private.active_statuses()) then j.confirmed_until end) as fresh_until
  offset 0
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
