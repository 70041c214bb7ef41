-- A pass whose memory does not grow with the fleet (issue 13), and shards of one tick.
--
-- begin_reconcile_pass() returned every active row in one JSON value, and finish applied every
-- change in one call: at 100k active jobs the function peaked at 351 MB RSS (npm run bench). Now
-- a pass claims its lease, then reads its rows in keyset pages by id (as River's rescuer does,
-- 1,000 at a time) and applies each page's decisions in one guarded call; only counts survive
-- between pages. The mass-outage guard still weighs a backend's whole picture before anything is
-- failed suddenly: sudden deaths (the only decisions it can hold) are parked in
-- reconcile_deferred_changes and applied, or dropped, once the last page is counted.
--
-- Shards: a tick may run N passes side by side, each over one range of job ids. Ids are random
-- (uuid v4), so equal ranges of the id space are equal shares of any fleet; a range is a plain
-- keyset bound on the index the pages already walk, so a shard costs nothing to select, two shards
-- never overlap, and every job is in exactly one (README "Shards").

-- The lease is per shard; the health view shows each shard's last pass.
alter table jobs_private.reconcile_runs add column if not exists shard integer not null default 0;
alter table jobs_private.reconcile_runs add column if not exists shards integer not null default 1;

-- Jobs the reconciler recently presumed dead are observed again; this finds them without a scan.
create index if not exists local_training_jobs_presumed_dead_idx
  on public.local_training_jobs (completed_at)
  where jobs_private.is_presumed_dead(status, status_evidence);

-- Shard p_shard of p_shards: ids in [lo, hi); hi is null for the last shard.
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

-- Claim a shard's lease, as begin_reconcile_pass() did for the whole table (20261130100100): a
-- 'running' pass of the same shard younger than p_lease makes this one 'skipped'. A dry run
-- claims nothing.
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
  select id into holder from jobs_private.reconcile_runs
  where outcome = 'running' and shard = p_shard and shards = p_shards and started_at > now() - p_lease
  order by started_at desc limit 1;
  if holder is not null then
    insert into jobs_private.reconcile_runs (id, trigger, outcome, finished_at, error, shard, shards)
    values (p_pass_id, p_trigger, 'skipped', now(), format('pass %s was still running', holder), p_shard, p_shards);
    return json_build_object('skipped', true, 'running_pass', holder);
  end if;
  -- A pass of this shard whose lease ran out died without finishing; say so.
  update jobs_private.reconcile_runs
  set outcome = 'failed', finished_at = now(), error = 'abandoned: lease expired before the pass finished'
  where outcome = 'running' and shard = p_shard and shards = p_shards;
  -- What such a pass parked is void: its rows are observed again by this one.
  delete from jobs_private.reconcile_deferred_changes d
  where not exists (select 1 from jobs_private.reconcile_runs r where r.id = d.pass_id and r.outcome = 'running');
  insert into jobs_private.reconcile_runs (id, trigger, shard, shards) values (p_pass_id, p_trigger, p_shard, p_shards);
  return json_build_object('skipped', false);
end $$;

-- One page of what a pass observes: rows after p_after (by id) in the shard, at most p_limit, as
-- the same json arrays begin_reconcile_pass() returned (see 20261130100100 for the fields).
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
  with bounds as (select * from jobs_private.reconcile_shard_bounds(p_shard, p_shards)),
  page as (
    (select j.* from public.local_training_jobs j, bounds b
     where j.status in ('queued', 'pending', 'running')
       and j.id > coalesce(p_after, b.lo) and j.id >= b.lo and (b.hi is null or j.id < b.hi)
     order by j.id limit p_limit)
    union all
    (select j.* from public.local_training_jobs j, bounds b
     where jobs_private.is_presumed_dead(j.status, j.status_evidence) and j.completed_at > now() - p_revive_window
       and j.id > coalesce(p_after, b.lo) and j.id >= b.lo and (b.hi is null or j.id < b.hi)
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
      coalesce(j.progress, case when jsonb_typeof(j.config -> 'progress') = 'number' then (j.config ->> 'progress')::float end),
      j.status = 'failed'
    ) order by j.id), '[]'::json)
  from page j
$$;

-- One page's changes, guarded as finish_reconcile_pass() guards them (status and updated_at as
-- observed), and the cancels forwarded for its jobs. Records nothing about the pass: the lease
-- stays held until finish_reconcile_pass() records the outcome after the last page.
create function jobs_private.apply_reconcile_changes(
  p_pass_id uuid,
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
  v_applied jsonb;
begin
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
        status_reason = case when d.evidence is not null then d.reason else j.status_reason end,
        status_evidence = case when d.evidence is not null
                               then d.evidence || jsonb_build_object('pass_id', p_pass_id)
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

  update public.local_training_jobs j
  set cancel_answer = c.answer,
      cancel_forwarded_at = case when c.delivered then now() end
  from unnest(p_cancel_job_ids, p_cancel_answers, p_cancel_delivered) as c(job_id, answer, delivered)
  where j.id = c.job_id;

  return jsonb_build_object(
    'applied', v_applied,
    'conflicts', coalesce(cardinality(p_job_ids), 0)
                 - coalesce((select sum(value::int) from jsonb_each_text(v_applied)), 0));
end $$;

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

create function jobs_private.defer_reconcile_changes(
  p_pass_id uuid,
  p_backend_urls text[],
  p_job_ids uuid[],
  p_observed_status text[],
  p_observed_updated_at timestamptz[],
  p_actions text[],
  p_new_status text[],
  p_reasons text[],
  p_completed_at timestamptz[],
  p_evidence jsonb[],
  p_markers text[]
) returns void
language sql
set search_path = ''
as $$
  insert into jobs_private.reconcile_deferred_changes
    (pass_id, backend_url, job_id, observed_status, observed_updated_at, action, new_status, reason, completed_at, evidence, marker)
  select p_pass_id, d.*
  from unnest(p_backend_urls, p_job_ids, p_observed_status, p_observed_updated_at, p_actions, p_new_status, p_reasons,
              p_completed_at, p_evidence, p_markers) as d
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
  c record;
  result jsonb;
begin
  select array_agg(job_id) as job_ids, array_agg(observed_status) as observed_status,
         array_agg(observed_updated_at) as observed_updated_at, array_agg(action) as actions,
         array_agg(new_status) as new_status, array_agg(reason) as reasons, array_agg(completed_at) as completed_at,
         array_agg(evidence) as evidence, array_agg(marker) as markers
  into c
  from jobs_private.reconcile_deferred_changes
  where pass_id = p_pass_id and backend_url = any (p_release);
  result := jobs_private.apply_reconcile_changes(p_pass_id, p_confirm_for,
    coalesce(c.job_ids, '{}'), coalesce(c.observed_status, '{}'), coalesce(c.observed_updated_at, '{}'),
    coalesce(c.actions, '{}'), coalesce(c.new_status, '{}'), coalesce(c.reasons, '{}'), coalesce(c.completed_at, '{}'),
    coalesce(c.evidence, '{}'), coalesce(c.markers, '{}'));
  delete from jobs_private.reconcile_deferred_changes where pass_id = p_pass_id;
  return result;
end $$;

revoke all on function jobs_private.reconcile_shard_bounds(integer, integer) from public;
revoke all on function jobs_private.claim_reconcile_pass(uuid, text, interval, boolean, integer, integer) from public;
revoke all on function jobs_private.observe_reconcile_page(uuid, integer, interval, integer, integer) from public;
revoke all on function jobs_private.apply_reconcile_changes(uuid, interval, uuid[], text[], timestamptz[], text[], text[],
  text[], timestamptz[], jsonb[], text[], uuid[], text[], boolean[]) from public;
revoke all on function jobs_private.defer_reconcile_changes(uuid, text[], uuid[], text[], timestamptz[], text[], text[],
  text[], timestamptz[], jsonb[], text[]) from public;
revoke all on function jobs_private.apply_deferred_reconcile_changes(uuid, interval, text[]) from public;
