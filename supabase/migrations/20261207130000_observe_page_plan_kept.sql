-- observe_reconcile_page() in PL/pgSQL, same body. As a SQL function it was parsed and planned again
-- on every call (Postgres 15 keeps a SQL function's plan only for the statement that calls it),
-- planning about 1.3 ms of each page's 9-10. PL/pgSQL keeps the parsed statement for the session,
-- and its plan once a connection has run it five times (until then each call is planned for its
-- values): a connection that lives across passes gains most, a fresh one only the parsing. Measured
-- on one long-lived connection, both definitions alternately, 5 pages of the bench's 10k active among
-- 1M, 30 rounds: 49.8 ms against 43.7 ms (docs/benchmarks.md). Same signature, result, grants; the
-- rules are those of 20261205120000_observe_stored_rows_safely.sql.

create or replace function jobs_private.observe_reconcile_page(
  p_after uuid,
  p_limit integer,
  p_revive_window interval,
  p_confirm_for interval,
  p_shard integer default 0,
  p_shards integer default 1
) returns json
language plpgsql stable
set search_path = ''
as $$
begin
  return (
    with recently_presumed_dead as materialized (
      -- The few recent presumed deaths, through local_training_jobs_presumed_dead_idx (its predicate
      -- written out the same way), before any order by id.
      select j.* from public.local_training_jobs j
      where j.status = 'failed' and j.status_evidence ->> 'rule' in ('fail_lost', 'fail_heartbeat_lost', 'fail_stalled')
        and j.completed_at > now() - p_revive_window and j.completed_at <= now()
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
        j.id, j.status, left(j.backend_url, 4096), j.updated_at::text,
        floor(extract(epoch from now() - greatest(t.heartbeat_at, t.confirmed_at)) * 1000),
        floor(extract(epoch from now() - t.heartbeat_at) * 1000),
        floor(extract(epoch from now() - t.confirmed_at) * 1000),
        left(j.progress_marker, 4096),
        coalesce(j.confirmed_until > now()
                 and j.confirmed_until <= now() + p_confirm_for
                                          + coalesce((select max(stale_after) from public.job_staleness_policy), interval '0'),
                 false),
        j.cancel_requested_at is not null and j.cancel_forwarded_at is null,
        -- The writer side's progress column, else the seed's config.progress (NaN and infinities fail both
        -- tests; rounding keeps 1e-400, which no float holds, from throwing).
        case when j.progress >= 0 and j.progress <= 1 then j.progress
             when jsonb_typeof(j.config -> 'progress') = 'number' and (j.config -> 'progress')::numeric between 0 and 1
               then round((j.config -> 'progress')::numeric, 9)::double precision end,
        j.status = 'failed'
      ) order by j.id), '[]'::json)
    from page j
    cross join lateral (select
      case when isfinite(j.heartbeat_at) and j.heartbeat_at <= now() + interval '1 minute' then j.heartbeat_at end as heartbeat_at,
      case when isfinite(j.confirmed_at) and j.confirmed_at <= now() + interval '1 minute' then j.confirmed_at end as confirmed_at
    ) t
  );
end $$;
