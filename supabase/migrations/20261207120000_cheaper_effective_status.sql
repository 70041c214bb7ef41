-- The effective view, with the same columns, computing less per row. A user's 20 newest jobs read
-- 1.22–1.27x the raw table through the old definition and 1.14–1.18x through this one (pgbench
-- A/B in one script, RLS on both; docs/benchmarks.md). Where the old one spent:
--   * `offset 0` kept fresh_until computed once, but at the price of a Result node per row (a
--     subquery scan the planner may not flatten);
--   * fresh_until was tested twice in effective_status (is it null, is it past);
--   * every row asked whether its status is active inside fresh_until, terminal rows included.
-- Now a terminal row is answered first from its status alone; an active row computes fresh_until
-- once. The lateral holds the rule in one place and is flattened into each column that uses it.
--
-- One behaviour is made consistent: an active job with a cancel request and no deadline at all
-- read as its status before; it reads `cancelling` now, as every other active job with a cancel
-- request does. No deadline means no confirmed_until and either no heartbeat_at (the stamping
-- trigger sets it on every writer's insert and update, so only a hand edit gets there) or no policy
-- row for its status (the service role may delete one; such a job is never stale).

create or replace view public.local_training_jobs_effective
with (security_invoker = true)
as
select
  j.id, j.user_id, j.model_name, j.status, j.config, j.started_at, j.completed_at, j.created_at,
  j.updated_at, j.status_reason, j.status_evidence, j.backend_url, j.attempt, j.progress,
  case
    when j.status <> all (jobs_private.active_statuses()) then j.status
    when now() > f.fresh_until then 'stale'
    when j.cancel_requested_at is not null then 'cancelling'
    else j.status
  end as effective_status,
  case when j.status = any (jobs_private.active_statuses()) and now() > f.fresh_until then f.fresh_until end
    as stale_since,
  greatest(j.heartbeat_at, j.confirmed_at) as last_heard_at,
  now() - greatest(j.heartbeat_at, j.confirmed_at) as silent_for,
  j.heartbeat_at, j.confirmed_at, j.cancel_requested_at, j.cancel_answer
from public.local_training_jobs j
-- Until when an active job counts as alive: its policy past the writer's last heartbeat, or the
-- last time a pass saw its progress move, whichever is later. Meaningless for a terminal row, so
-- both columns above ask for an active status first. One uncorrelated scalar subquery per policy
-- row: each is an InitPlan, read at most once a query, not once a row.
cross join lateral (
  select greatest(j.heartbeat_at + case j.status
    when 'running' then (select stale_after from public.job_staleness_policy where status = 'running')
    when 'queued' then (select stale_after from public.job_staleness_policy where status = 'queued')
    when 'pending' then (select stale_after from public.job_staleness_policy where status = 'pending')
  end, j.confirmed_until) as fresh_until
) f;

-- create or replace keeps the view's grants and column comments; the view's own comment is said
-- again here so this file reads whole.
comment on view public.local_training_jobs_effective is
  'local_training_jobs plus effective_status: the status; stale when an active job has had no sign of life (writer heartbeat, or backend progress seen moving) within job_staleness_policy; cancelling while a user''s cancel request waits. Query this, not the table.';
