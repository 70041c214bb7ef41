-- The reconciler's two calls, with compact payloads. At 100k active jobs one pass peaked at
-- 337 MB in the Edge Function (limit 256 MB; npm run bench), most of it JSON objects: the
-- observation comes back as json arrays instead of jsonb objects, and the apply takes typed
-- column arrays (unnest) instead of a JSON array of objects. Same behaviour, same guards.

drop function if exists jobs_private.begin_reconcile_pass(uuid, text, interval, boolean);
drop function if exists jobs_private.finish_reconcile_pass(jsonb);

-- Begin a pass: claim the pass lease and return what it observes, in one round trip.
-- The lease is a 'running' row younger than p_lease; a second pass inside it is recorded as
-- skipped and gets no rows, so overlapping passes never apply twice. A dry run claims nothing.
create function jobs_private.begin_reconcile_pass(
  p_pass_id uuid,
  p_trigger text,
  p_lease interval,
  p_dry_run boolean default false
) returns json
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
      return json_build_object('skipped', true, 'running_pass', holder);
    end if;
    -- A pass whose lease ran out died without finishing; say so instead of leaving it 'running'.
    update jobs_private.reconcile_runs
    set outcome = 'failed', finished_at = now(), error = 'abandoned: lease expired before the pass finished'
    where outcome = 'running';
    insert into jobs_private.reconcile_runs (id, trigger) values (p_pass_id, p_trigger);
  end if;

  -- One array per job, [id, status, backend_url, updated_at as text, silence in ms]: json arrays
  -- build in about a third of the time of jsonb objects (10k rows: 52-57 ms against 107-164 ms).
  return json_build_object(
    'skipped', false,
    'now', now(),
    'jobs', coalesce((
      select json_agg(json_build_array(
        j.id, j.status, j.backend_url,
        -- Text keeps microseconds; the apply compares it exactly.
        j.updated_at::text,
        floor(extract(epoch from now() - j.updated_at) * 1000)
      ) order by j.id)
      from public.local_training_jobs j
      where j.status in ('queued', 'pending', 'running')
    ), '[]'::json)
  );
end $$;

-- Finish a pass: apply every decision in one statement, record the run, return the summary.
-- Each change is guarded by the state the pass observed (status and updated_at): a heartbeat or
-- a backend write that lands between observation and apply wins, and the change is counted as
-- a conflict instead (River's rescuer once lacked this guard: river#1302).
-- p_pass: pass_id, trigger, held, backend_reachable, backends, observed, planned.
-- The arrays are one column each of the changes, in the same order.
create function jobs_private.finish_reconcile_pass(
  p_pass jsonb,
  p_job_ids uuid[],
  p_observed_status text[],
  p_observed_updated_at timestamptz[],
  p_actions text[],
  p_new_status text[],
  p_reasons text[],
  p_completed_at timestamptz[],
  p_evidence jsonb[]
) returns jsonb
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
    from unnest(p_job_ids, p_observed_status, p_observed_updated_at, p_actions, p_new_status, p_reasons, p_completed_at, p_evidence)
      as d(job_id, observed_status, observed_updated_at, action, new_status, reason, completed_at, evidence)
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
    'conflicts', coalesce(cardinality(p_job_ids), 0)
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

revoke all on function jobs_private.begin_reconcile_pass(uuid, text, interval, boolean) from public;
revoke all on function jobs_private.finish_reconcile_pass(jsonb, uuid[], text[], timestamptz[], text[], text[], text[], timestamptz[], jsonb[]) from public;
