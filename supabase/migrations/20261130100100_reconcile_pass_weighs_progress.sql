-- The pass's two calls, for the liveness rule (migration 20261130100000, decide.ts):
-- begin returns both silences, the progress marker to compare, pending cancels, and the jobs the
-- reconciler recently presumed dead (so a backend that contradicts it revives them);
-- finish writes confirmations (confirmed_at/until), markers and forwarded cancels with the changes.

-- The failures a pass looks at again (presumed, recent). Its columns are never touched by a
-- heartbeat, so heartbeats stay HOT.
create index if not exists local_training_jobs_presumed_dead_idx
  on public.local_training_jobs (completed_at)
  where status = 'failed' and status_evidence ->> 'rule' in ('fail_lost', 'fail_heartbeat_lost', 'fail_stalled');

drop function if exists jobs_private.begin_reconcile_pass(uuid, text, interval, boolean);
drop function if exists jobs_private.finish_reconcile_pass(jsonb, uuid[], text[], timestamptz[], text[], text[], text[], timestamptz[], jsonb[]);

-- Begin a pass: claim the lease (a 'running' row younger than p_lease; a second pass inside it is
-- recorded as skipped and gets no rows) and return what it observes. A dry run claims nothing.
-- p_revive_window: failures the reconciler presumed within it are observed again.
create function jobs_private.begin_reconcile_pass(
  p_pass_id uuid,
  p_trigger text,
  p_lease interval,
  p_dry_run boolean default false,
  p_revive_window interval default interval '10 minutes'
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

  -- One json array per job (json arrays build about 3x faster than jsonb objects; 20261129160300):
  -- [id, status, backend_url, updated_at as text (the apply compares it exactly),
  --  silent ms (since the last sign of life of either witness), writer silent ms,
  --  ms since the backend's progress was last seen moving (null: never), progress_marker,
  --  confirmation still running (bool), cancel waiting to be forwarded (bool), progress, presumed dead (bool)]
  return json_build_object(
    'skipped', false,
    'now', now(),
    'jobs', coalesce((
      select json_agg(json_build_array(
        j.id, j.status, j.backend_url, j.updated_at::text,
        floor(extract(epoch from now() - greatest(j.heartbeat_at, j.confirmed_at)) * 1000),
        floor(extract(epoch from now() - j.heartbeat_at) * 1000),
        floor(extract(epoch from now() - j.confirmed_at) * 1000),
        j.progress_marker,
        coalesce(j.confirmed_until > now(), false),
        j.cancel_requested_at is not null and j.cancel_forwarded_at is null,
        -- The writer side's progress column, else the seed's config.progress (when it is a number).
        coalesce(j.progress, case when jsonb_typeof(j.config -> 'progress') = 'number' then (j.config ->> 'progress')::float end),
        j.status = 'failed'
      ) order by j.id)
      from public.local_training_jobs j
      -- Written out, not through is_presumed_dead() (its SET search_path stops inlining), so the
      -- two partial indexes serve it as a BitmapOr: 6 ms instead of a 780 ms scan at 300k rows.
      where j.status in ('queued', 'pending', 'running')
         or (j.status = 'failed' and j.status_evidence ->> 'rule' in ('fail_lost', 'fail_heartbeat_lost', 'fail_stalled')
             and j.completed_at > now() - p_revive_window)
    ), '[]'::json)
  );
end $$;

-- Finish a pass: apply every decision in one statement, record the run, return the summary.
-- Each change is guarded by the state the pass observed (status and updated_at): a heartbeat or a
-- backend write that lands between observation and apply wins, and the change counts as a conflict
-- (River's rescuer once lacked this guard: river#1302).
-- p_pass: pass_id, trigger, held, held_why, backend_reachable, backends, observed, planned.
-- p_confirm_for: how long a confirmation lasts before the status's threshold (the pass interval).
-- The p_job_ids.. arrays are one column each of the changes, in the same order; p_cancel_* are the
-- cancel requests forwarded to backends this pass, with their answers.
create function jobs_private.finish_reconcile_pass(
  p_pass jsonb,
  p_confirm_for interval,
  p_job_ids uuid[],
  p_observed_status text[],
  p_observed_updated_at timestamptz[],
  p_actions text[],
  p_new_status text[],
  p_reasons text[],
  p_completed_at timestamptz[],
  p_evidence jsonb[],
  p_markers text[],
  p_cancel_job_ids uuid[] default '{}',
  p_cancel_answers text[] default '{}',
  p_cancel_delivered boolean[] default '{}'
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
  -- Read by the stamping trigger: the reconciler's writes are not the writer's heartbeat.
  perform set_config('jobs.actor', 'reconciler', true);

  with decision as (
    select d.*, p.stale_after
    from unnest(p_job_ids, p_observed_status, p_observed_updated_at, p_actions, p_new_status, p_reasons,
                p_completed_at, p_evidence, p_markers)
      as d(job_id, observed_status, observed_updated_at, action, new_status, reason, completed_at, evidence, marker)
    left join public.job_staleness_policy p on p.status = d.new_status
  ),
  changed as (
    update public.local_training_jobs j
    set status = d.new_status,
        -- A change that carries evidence carries its reason; a plain confirmation carries neither.
        status_reason = case when d.evidence is not null then d.reason else j.status_reason end,
        status_evidence = case when d.evidence is not null
                               then d.evidence || jsonb_build_object('pass_id', v_pass_id)
                               else j.status_evidence end,
        completed_at = case when d.new_status in ('completed', 'failed', 'cancelled')
                            then coalesce(d.completed_at, case when j.status = d.new_status then j.completed_at end, now())
                       end,
        confirmed_at = case when d.action in ('confirm_alive', 'revive') then now() else j.confirmed_at end,
        confirmed_until = case
          when d.action in ('confirm_alive', 'revive') then now() + p_confirm_for + coalesce(d.stale_after, interval '0')
          when d.action = 'note_progress' or d.new_status not in ('queued', 'pending', 'running') then null
          else j.confirmed_until end,
        progress_marker = coalesce(d.marker, j.progress_marker)
    from decision d
    where j.id = d.job_id
      and j.status = d.observed_status
      and j.updated_at = d.observed_updated_at
    returning d.action
  )
  select coalesce(jsonb_object_agg(action, n), '{}'::jsonb) into v_applied
  from (select action, count(*) as n from changed group by action) per_action;

  -- Forwarded cancels: the answer is kept; an undelivered one is tried again next pass.
  update public.local_training_jobs j
  set cancel_answer = c.answer,
      cancel_forwarded_at = case when c.delivered then now() end
  from unnest(p_cancel_job_ids, p_cancel_answers, p_cancel_delivered) as c(job_id, answer, delivered)
  where j.id = c.job_id;

  v_counts := jsonb_build_object(
    'observed', coalesce((p_pass ->> 'observed')::int, 0),
    'applied', v_applied,
    'conflicts', coalesce(cardinality(p_job_ids), 0)
                 - coalesce((select sum(value::int) from jsonb_each_text(v_applied)), 0),
    'planned', coalesce(p_pass -> 'planned', '{}'::jsonb),
    'cancels_forwarded', coalesce(cardinality(p_cancel_job_ids), 0))
    || case when p_pass ? 'held_why' then jsonb_build_object('held_why', p_pass -> 'held_why') else '{}'::jsonb end;

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

revoke all on function jobs_private.begin_reconcile_pass(uuid, text, interval, boolean, interval) from public;
revoke all on function jobs_private.finish_reconcile_pass(jsonb, interval, uuid[], text[], timestamptz[], text[], text[],
  text[], timestamptz[], jsonb[], text[], uuid[], text[], boolean[]) from public;
