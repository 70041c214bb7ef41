-- The reconciler's database side: which backend owns a job, a record of every pass, and the two
-- calls a pass makes (begin: observe; finish: apply in one set-based, guarded statement).
-- The decisions themselves are made in TypeScript (supabase/functions/_shared/reconcile/decide.ts).

alter table public.local_training_jobs add column if not exists backend_url text;
comment on column public.local_training_jobs.backend_url is
  'Base URL of the training backend that owns this job (a fleet has several). Null: the reconciler''s default BACKEND_URL.';

create table if not exists jobs_private.reconcile_runs (
  id uuid primary key,
  trigger text not null default 'manual',
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  outcome text not null default 'running'
    constraint reconcile_runs_outcome_is_known check (outcome in ('running', 'applied', 'held', 'skipped', 'failed')),
  backend_reachable boolean,
  backends jsonb,
  counts jsonb,
  error text
);
create index if not exists reconcile_runs_started_idx on jobs_private.reconcile_runs (started_at desc);
comment on table jobs_private.reconcile_runs is
  'One row per reconciler pass: applied, held (mass-outage guard withheld its failures), skipped (another pass was running) or failed.';
revoke all on table jobs_private.reconcile_runs from public, anon, authenticated;

-- Begin a pass: claim the pass lease and return what it observes, in one round trip.
-- The lease is a 'running' row younger than p_lease; a second pass inside it is recorded as
-- skipped and gets no rows, so overlapping passes never apply twice. A dry run claims nothing.
create or replace function jobs_private.begin_reconcile_pass(
  p_pass_id uuid,
  p_trigger text,
  p_lease interval,
  p_dry_run boolean default false
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  holder uuid;
begin
  if not p_dry_run then
    -- Serialises lease checks only; held for this short transaction, not for the pass.
    perform pg_advisory_xact_lock(hashtext('jobs_private.reconcile_pass_lease'));
    select id into holder from jobs_private.reconcile_runs
    where outcome = 'running' and started_at > now() - p_lease
    order by started_at desc limit 1;
    if holder is not null then
      insert into jobs_private.reconcile_runs (id, trigger, outcome, finished_at, error)
      values (p_pass_id, p_trigger, 'skipped', now(), format('pass %s was still running', holder));
      return jsonb_build_object('skipped', true, 'running_pass', holder);
    end if;
    -- A pass whose lease ran out died without finishing; say so instead of leaving it 'running'.
    update jobs_private.reconcile_runs
    set outcome = 'failed', finished_at = now(), error = 'abandoned: lease expired before the pass finished'
    where outcome = 'running';
    insert into jobs_private.reconcile_runs (id, trigger) values (p_pass_id, p_trigger);
  end if;

  return jsonb_build_object(
    'skipped', false,
    'now', now(),
    'jobs', coalesce((
      select jsonb_agg(jsonb_build_object(
        'id', j.id,
        'status', j.status,
        'backend_url', j.backend_url,
        -- Text keeps microseconds; the apply compares it exactly.
        'observed_updated_at', j.updated_at::text,
        'silent_ms', floor(extract(epoch from now() - j.updated_at) * 1000)
      ) order by j.id)
      from public.local_training_jobs j
      where j.status in ('queued', 'pending', 'running')
    ), '[]'::jsonb)
  );
end $$;

-- Finish a pass: apply every decision in one statement, record the run, return the summary.
-- Each change is guarded by the state the pass observed (status and updated_at): a heartbeat or
-- a backend write that lands between observation and apply wins, and the change is counted as
-- a conflict instead (River's rescuer once lacked this guard: river#1302).
create or replace function jobs_private.finish_reconcile_pass(p_pass jsonb)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_pass_id uuid := (p_pass ->> 'pass_id')::uuid;
  v_applied jsonb;
  v_counts jsonb;
  v_outcome text := case when (p_pass ->> 'held')::boolean then 'held' else 'applied' end;
begin
  perform set_config('jobs.actor', 'reconciler', true);

  with decision as (
    select *
    from jsonb_to_recordset(coalesce(p_pass -> 'changes', '[]'::jsonb)) as d(
      job_id uuid, observed_status text, observed_updated_at timestamptz,
      action text, new_status text, reason text, completed_at timestamptz, evidence jsonb)
  ),
  changed as (
    update public.local_training_jobs j
    set status = d.new_status,
        status_reason = case when d.new_status is distinct from j.status then d.reason else j.status_reason end,
        status_evidence = case when d.new_status is distinct from j.status
                               then d.evidence || jsonb_build_object('pass_id', v_pass_id)
                               else j.status_evidence end,
        completed_at = case when d.new_status in ('completed', 'failed', 'cancelled')
                            then coalesce(d.completed_at, j.completed_at, now()) else j.completed_at end
    from decision d
    where j.id = d.job_id
      and j.status = d.observed_status
      and j.updated_at = d.observed_updated_at
    returning d.action
  )
  select coalesce(jsonb_object_agg(action, n), '{}'::jsonb) into v_applied
  from (select action, count(*) as n from changed group by action) per_action;

  v_counts := jsonb_build_object(
    'observed', coalesce((p_pass ->> 'observed')::int, 0),
    'applied', v_applied,
    'conflicts', jsonb_array_length(coalesce(p_pass -> 'changes', '[]'::jsonb))
                 - coalesce((select sum(value::int) from jsonb_each_text(v_applied)), 0),
    'planned', coalesce(p_pass -> 'planned', '{}'::jsonb));

  update jobs_private.reconcile_runs
  set finished_at = now(),
      outcome = v_outcome,
      backend_reachable = (p_pass ->> 'backend_reachable')::boolean,
      backends = p_pass -> 'backends',
      counts = v_counts
  where id = v_pass_id;
  if not found then
    -- The lease ran out and the row was marked abandoned; the guarded changes above still hold.
    insert into jobs_private.reconcile_runs (id, trigger, outcome, finished_at, backend_reachable, backends, counts)
    values (v_pass_id, coalesce(p_pass ->> 'trigger', 'manual'), v_outcome, now(),
            (p_pass ->> 'backend_reachable')::boolean, p_pass -> 'backends', v_counts);
  end if;

  return jsonb_build_object('pass_id', v_pass_id, 'outcome', v_outcome) || v_counts;
end $$;

-- Record a pass that could not finish (e.g. the database call failed half-way), so it shows.
create or replace function jobs_private.fail_reconcile_pass(p_pass_id uuid, p_error text)
returns void
language sql
set search_path = ''
as $$
  update jobs_private.reconcile_runs
  set outcome = 'failed', finished_at = now(), error = left(p_error, 2000)
  where id = p_pass_id and outcome = 'running';
$$;

revoke all on function jobs_private.begin_reconcile_pass(uuid, text, interval, boolean) from public;
revoke all on function jobs_private.finish_reconcile_pass(jsonb) from public;
revoke all on function jobs_private.fail_reconcile_pass(uuid, text) from public;

-- The view gains the owning backend; it is recreated because its column list changes.
drop view if exists public.local_training_jobs_effective;
create view public.local_training_jobs_effective
with (security_invoker = true)
as
select
  j.id, j.user_id, j.model_name, j.status, j.config, j.started_at, j.completed_at, j.created_at,
  j.updated_at, j.status_reason, j.status_evidence, j.backend_url,
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
