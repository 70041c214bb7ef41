-- The reconciler's database side: which backend owns a job, a record of every pass, and the calls
-- a pass makes: claim its lease, observe a page, apply a page's decisions (guarded), finish.
-- The decisions themselves are made in TypeScript (supabase/functions/_shared/reconcile/decide.ts).
-- Pages, shards and compact payloads keep a pass's memory flat at any fleet size: docs/benchmarks.md.

alter table public.local_training_jobs add column if not exists backend_url text;
comment on column public.local_training_jobs.backend_url is
  'Base URL of the training backend that owns this job (a fleet has several). Null: the reconciler''s default BACKEND_URL.';

-- Jobs the reconciler recently presumed dead are observed again; this finds them without a scan.
-- The predicate is jobs_private.is_presumed_dead() written out: queries must write it the same way.
create index if not exists local_training_jobs_presumed_dead_idx
  on public.local_training_jobs (completed_at)
  where status = 'failed' and status_evidence ->> 'rule' in ('fail_lost', 'fail_heartbeat_lost', 'fail_stalled');

create table if not exists jobs_private.reconcile_passes (
  id uuid primary key,
  trigger text not null default 'manual',
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  outcome text not null default 'running'
    constraint reconcile_passes_outcome_is_known check (outcome in ('running', 'applied', 'held', 'skipped', 'failed')),
  backend_reachable boolean,
  backends jsonb,
  counts jsonb,
  error text,
  -- The lease is per shard; the health view shows each shard's last pass.
  shard integer not null default 0,
  shards integer not null default 1
);
create index if not exists reconcile_passes_started_idx on jobs_private.reconcile_passes (started_at desc);
comment on table jobs_private.reconcile_passes is
  'One row per reconciler pass: applied, held (mass-outage guard withheld its failures), skipped (another pass was running) or failed.';
revoke all on table jobs_private.reconcile_passes from public, anon, authenticated;

-- Sudden deaths wait here until the pass has counted every page (the mass-outage guard).
create table if not exists jobs_private.reconcile_deferred_changes (
  pass_id uuid not null,
  job_id uuid not null,
  backend_url text not null,
  observed_status text not null,
  observed_updated_at timestamptz not null,
  action text not null,
  new_status text not null,
  reason text,
  completed_at timestamptz,
  evidence jsonb,
  marker text,
  primary key (pass_id, backend_url, job_id)
);
comment on table jobs_private.reconcile_deferred_changes is
  'Presumed deaths of recently-alive jobs a running pass decided, applied or dropped once the mass-outage guard has seen the whole pass.';
revoke all on table jobs_private.reconcile_deferred_changes from public, anon, authenticated;
alter table jobs_private.reconcile_deferred_changes enable row level security;

-- Shard p_shard of p_shards: ids in [lo, hi); hi is null for the last shard. Ids are random
-- (uuid v4), so equal ranges are equal shares of any fleet, and a range is a plain keyset bound.
create function jobs_private.reconcile_shard_bounds(p_shard integer, p_shards integer, out lo uuid, out hi uuid)
language plpgsql immutable
set search_path = ''
as $$
begin
  if p_shards is null or p_shards < 1 or p_shards > 256 or p_shard is null or p_shard < 0 or p_shard >= p_shards then
    raise exception 'reconcile shard % of % is not valid (shards: 1 to 256, shard: 0 to shards - 1)', p_shard, p_shards
      using errcode = 'invalid_parameter_value';
  end if;
  lo := (lpad(to_hex(p_shard::bigint * 4294967296 / p_shards), 8, '0') || '-0000-0000-0000-000000000000')::uuid;
  hi := case when p_shard = p_shards - 1 then null
             else (lpad(to_hex((p_shard + 1)::bigint * 4294967296 / p_shards), 8, '0') || '-0000-0000-0000-000000000000')::uuid end;
end $$;

-- Claim a shard's lease: a 'running' pass of the same shard younger than p_lease makes this one
-- 'skipped', so overlapping passes never apply twice. A dry run claims nothing.
create function jobs_private.claim_reconcile_pass(
  p_pass_id uuid,
  p_trigger text,
  p_lease interval,
  p_dry_run boolean default false,
  p_shard integer default 0,
  p_shards integer default 1
) returns json
language plpgsql
set search_path = ''
as $$
declare
  holder uuid;
begin
  perform jobs_private.reconcile_shard_bounds(p_shard, p_shards); -- refuses a bad shard before anything
  if p_dry_run then
    return json_build_object('skipped', false);
  end if;
  -- Serialises lease checks only; held for this short transaction, not for the pass.
  perform pg_advisory_xact_lock(hashtext('jobs_private.reconcile_pass_lease'), p_shard);
  select id into holder from jobs_private.reconcile_passes
  where outcome = 'running' and shard = p_shard and shards = p_shards and started_at > now() - p_lease
  order by started_at desc limit 1;
  if holder is not null then
    insert into jobs_private.reconcile_passes (id, trigger, outcome, finished_at, error, shard, shards)
    values (p_pass_id, p_trigger, 'skipped', now(), format('pass %s was still running', holder), p_shard, p_shards);
    return json_build_object('skipped', true, 'running_pass', holder);
  end if;
  -- A pass of this shard whose lease ran out died without finishing; say so.
  update jobs_private.reconcile_passes
  set outcome = 'failed', finished_at = now(), error = 'abandoned: lease expired before the pass finished'
  where outcome = 'running' and shard = p_shard and shards = p_shards;
  -- What such a pass parked is void: its rows are observed again by this one.
  delete from jobs_private.reconcile_deferred_changes d
  where not exists (select 1 from jobs_private.reconcile_passes r where r.id = d.pass_id and r.outcome = 'running');
  insert into jobs_private.reconcile_passes (id, trigger, shard, shards) values (p_pass_id, p_trigger, p_shard, p_shards);
  return json_build_object('skipped', false);
end $$;

-- One page of what a pass observes: active rows and recent presumed deaths after p_after (by id) in
-- the shard, at most p_limit. One json array per job (json arrays build about 3x faster than jsonb
-- objects): [id, status, backend_url, updated_at as text (the apply compares it exactly),
--  silent ms (either witness), writer silent ms, ms since the backend's progress last moved (null:
--  never), progress_marker, confirmation still running, cancel waiting to be forwarded, progress,
--  presumed dead]. Each bound is a scalar subquery (an InitPlan), so the index scan starts and
--  stops at it instead of filtering from the first row (docs/benchmarks.md).
create function jobs_private.observe_reconcile_page(
  p_after uuid,
  p_limit integer,
  p_revive_window interval,
  p_shard integer default 0,
  p_shards integer default 1
) returns json
language sql stable
set search_path = ''
as $$
  with recently_presumed_dead as materialized (
    -- The few recent presumed deaths, through local_training_jobs_presumed_dead_idx (its predicate
    -- written out the same way), before any order by id.
    select j.* from public.local_training_jobs j
    where j.status = 'failed' and j.status_evidence ->> 'rule' in ('fail_lost', 'fail_heartbeat_lost', 'fail_stalled')
      and j.completed_at > now() - p_revive_window
  ),
  page as (
    (select j.* from public.local_training_jobs j
     where j.status = any (jobs_private.active_statuses())
       and j.id >= coalesce(p_after, (select lo from jobs_private.reconcile_shard_bounds(p_shard, p_shards)))
       and j.id <= coalesce((select hi from jobs_private.reconcile_shard_bounds(p_shard, p_shards)), 'ffffffff-ffff-ffff-ffff-ffffffffffff')
       and j.id is distinct from p_after
       and j.id is distinct from (select hi from jobs_private.reconcile_shard_bounds(p_shard, p_shards))
     order by j.id limit p_limit)
    union all
    (select j.* from recently_presumed_dead j
     where j.id >= coalesce(p_after, (select lo from jobs_private.reconcile_shard_bounds(p_shard, p_shards)))
       and j.id <= coalesce((select hi from jobs_private.reconcile_shard_bounds(p_shard, p_shards)), 'ffffffff-ffff-ffff-ffff-ffffffffffff')
       and j.id is distinct from p_after
       and j.id is distinct from (select hi from jobs_private.reconcile_shard_bounds(p_shard, p_shards))
     order by j.id limit p_limit)
    order by id limit p_limit
  )
  select coalesce(json_agg(json_build_array(
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
    ) order by j.id), '[]'::json)
  from page j
$$;

-- The rows of a change set as apply_reconcile_changes() takes it (JSON nulls read as SQL nulls).
create function jobs_private.reconcile_change_rows(p_changes jsonb)
returns table (job_id uuid, observed_status text, observed_updated_at timestamptz, action text, new_status text,
               reason text, completed_at timestamptz, evidence jsonb, marker text)
language sql
stable
set search_path = ''
as $$
  select (r ->> 0)::uuid, r ->> 1, (r ->> 2)::timestamptz, r ->> 3, r ->> 4, r ->> 5, (r ->> 6)::timestamptz,
         nullif(r -> 7, 'null'::jsonb), r ->> 8
  from jsonb_array_elements(p_changes) r
$$;

-- One page's changes in one statement, and the cancels forwarded for its jobs. Each change is
-- guarded by the state the pass observed (status and updated_at): a heartbeat or a backend write
-- that lands in between wins, and the change counts as a conflict (river#1302 lacked this guard).
-- p_changes is a JSON array with one array per change: [job_id, observed_status,
-- observed_updated_at, action, new_status, reason, completed_at, evidence, marker]: one text
-- parameter for the page, the evidence inside it as JSON (nine array literals cost the client
-- several times more to build; docs/benchmarks.md, issue 13).
create function jobs_private.apply_reconcile_changes(
  p_pass_id uuid,
  p_confirm_for interval,
  p_changes jsonb,
  p_cancel_job_ids uuid[] default '{}',
  p_cancel_answers text[] default '{}',
  p_cancel_delivered boolean[] default '{}'
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_applied jsonb;
begin
  -- Read by the stamping trigger: the reconciler's writes are not the writer's heartbeat.
  perform set_config('jobs.actor', 'reconciler', true);

  with decision as (
    select d.*, p.stale_after
    from jobs_private.reconcile_change_rows(p_changes) d
    left join public.job_staleness_policy p on p.status = d.new_status
  ),
  changed as (
    update public.local_training_jobs j
    set status = d.new_status,
        -- A change that carries evidence carries its reason; a plain confirmation carries neither.
        status_reason = case when d.evidence is not null then d.reason else j.status_reason end,
        status_evidence = case when d.evidence is not null
                               then d.evidence || jsonb_build_object('pass_id', p_pass_id)
                               else j.status_evidence end,
        completed_at = case when d.new_status <> all (jobs_private.active_statuses())
                            then coalesce(d.completed_at, case when j.status = d.new_status then j.completed_at end, now())
                       end,
        -- A confirmation keeps the job fresh until the next pass is due plus its status's threshold.
        confirmed_at = case when d.action in ('confirm_alive', 'revive') then now() else j.confirmed_at end,
        confirmed_until = case
          when d.action in ('confirm_alive', 'revive') then now() + p_confirm_for + coalesce(d.stale_after, interval '0')
          when d.action = 'note_progress' or d.new_status <> all (jobs_private.active_statuses()) then null
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

  return jsonb_build_object(
    'applied', v_applied,
    'conflicts', coalesce(jsonb_array_length(p_changes), 0)
                 - coalesce((select sum(value::int) from jsonb_each_text(v_applied)), 0));
end $$;

-- Park sudden deaths until the mass-outage guard has weighed each backend's whole picture.
create function jobs_private.defer_reconcile_changes(
  p_pass_id uuid,
  p_backend_urls text[],
  p_changes jsonb
) returns void
language sql
set search_path = ''
as $$
  insert into jobs_private.reconcile_deferred_changes
    (pass_id, backend_url, job_id, observed_status, observed_updated_at, action, new_status, reason, completed_at, evidence, marker)
  select p_pass_id, u.backend_url, d.job_id, d.observed_status, d.observed_updated_at, d.action, d.new_status, d.reason,
         d.completed_at, d.evidence, d.marker
  from jobs_private.reconcile_change_rows(p_changes) with ordinality as d
    join unnest(p_backend_urls) with ordinality as u(backend_url, n) on u.n = d.ordinality
  on conflict do nothing
$$;

-- After the last page: the deferred changes of the backends the guard released are applied, in
-- one guarded call; the rest (held) are dropped. Either way nothing of the pass stays parked.
create function jobs_private.apply_deferred_reconcile_changes(p_pass_id uuid, p_confirm_for interval, p_release text[])
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_changes jsonb;
  result jsonb;
begin
  select jsonb_agg(jsonb_build_array(job_id, observed_status, observed_updated_at, action, new_status, reason,
                                     completed_at, evidence, marker))
  into v_changes
  from jobs_private.reconcile_deferred_changes
  where pass_id = p_pass_id and backend_url = any (p_release);
  result := jobs_private.apply_reconcile_changes(p_pass_id, p_confirm_for, coalesce(v_changes, '[]'));
  delete from jobs_private.reconcile_deferred_changes where pass_id = p_pass_id;
  return result;
end $$;

-- Finish a pass: record its outcome (which releases the lease). Its changes were applied page by page.
-- p_pass: pass_id, trigger, held, held_why, backend_reachable, backends, observed, planned.
create function jobs_private.finish_reconcile_pass(p_pass jsonb)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_pass_id uuid := (p_pass ->> 'pass_id')::uuid;
  v_outcome text := case when (p_pass ->> 'held')::boolean then 'held' else 'applied' end;
  v_counts jsonb := jsonb_build_object(
    'observed', coalesce((p_pass ->> 'observed')::int, 0),
    'planned', coalesce(p_pass -> 'planned', '{}'::jsonb))
    || case when p_pass ? 'held_why' then jsonb_build_object('held_why', p_pass -> 'held_why') else '{}'::jsonb end;
begin
  update jobs_private.reconcile_passes
  set finished_at = now(),
      outcome = v_outcome,
      backend_reachable = (p_pass ->> 'backend_reachable')::boolean,
      backends = p_pass -> 'backends',
      counts = v_counts
  where id = v_pass_id;
  if not found then
    -- The row is gone (pruned): record the pass anyway, the changes it applied still hold.
    insert into jobs_private.reconcile_passes (id, trigger, outcome, finished_at, backend_reachable, backends, counts)
    values (v_pass_id, coalesce(p_pass ->> 'trigger', 'manual'), v_outcome, now(),
            (p_pass ->> 'backend_reachable')::boolean, p_pass -> 'backends', v_counts);
  end if;
  return jsonb_build_object('pass_id', v_pass_id, 'outcome', v_outcome) || v_counts;
end $$;

-- Merges the pass's totals (applied, conflicts, cancels, and the rows the bulkhead rejected) into
-- its recorded counts, so the pass row and the health view show them.
create function jobs_private.record_pass_counts(p_pass_id uuid, p_counts jsonb)
returns void
language sql
set search_path = ''
as $$
  update jobs_private.reconcile_passes
  set counts = coalesce(counts, '{}'::jsonb) || p_counts
  where id = p_pass_id
$$;

-- Record a pass that could not finish (e.g. the database call failed half-way), so it shows.
create function jobs_private.fail_reconcile_pass(p_pass_id uuid, p_error text)
returns void
language sql
set search_path = ''
as $$
  update jobs_private.reconcile_passes
  set outcome = 'failed', finished_at = now(), error = left(p_error, 2000)
  where id = p_pass_id and outcome = 'running';
$$;

revoke all on function jobs_private.reconcile_shard_bounds(integer, integer) from public;
revoke all on function jobs_private.claim_reconcile_pass(uuid, text, interval, boolean, integer, integer) from public;
revoke all on function jobs_private.observe_reconcile_page(uuid, integer, interval, integer, integer) from public;
revoke all on function jobs_private.reconcile_change_rows(jsonb) from public;
revoke all on function jobs_private.apply_reconcile_changes(uuid, interval, jsonb, uuid[], text[], boolean[]) from public;
revoke all on function jobs_private.defer_reconcile_changes(uuid, text[], jsonb) from public;
revoke all on function jobs_private.apply_deferred_reconcile_changes(uuid, interval, text[]) from public;
revoke all on function jobs_private.finish_reconcile_pass(jsonb) from public;
revoke all on function jobs_private.record_pass_counts(uuid, jsonb) from public, anon, authenticated;
revoke all on function jobs_private.fail_reconcile_pass(uuid, text) from public;
