-- observe_reconcile_page() reads the recent presumed deaths through local_training_jobs_presumed_dead_idx.
-- The index's predicate is the rule written out (20261130100100); the page query called
-- is_presumed_dead(), which Postgres cannot inline (SET search_path), so it scanned the whole table
-- on every page: 35 ms a page at 300k rows (EXPLAIN ANALYZE), now an index scan.

create or replace function jobs_private.observe_reconcile_page(
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
    -- The few recent presumed deaths, found through their own index, before any order by id.
    select j.* from public.local_training_jobs j
    -- Written out: is_presumed_dead() carries SET search_path, so it is never inlined and no index
    -- predicate can match it (the page read scanned the table: 35 ms a page at 300k rows).
    where j.status = 'failed' and j.status_evidence ->> 'rule' in ('fail_lost', 'fail_heartbeat_lost', 'fail_stalled')
      and j.completed_at > now() - p_revive_window
  ),
  page as (
    (select j.* from public.local_training_jobs j
     where j.status in ('queued', 'pending', 'running')
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
      coalesce(j.progress, case when jsonb_typeof(j.config -> 'progress') = 'number' then (j.config ->> 'progress')::float end),
      j.status = 'failed'
    ) order by j.id), '[]'::json)
  from page j
$$;

