-- The stamping trigger runs on every heartbeat, so its cost is the heartbeat's cost. It asked
-- jobs_private.is_presumed_dead() of every UPDATE: a SQL function with its own search_path is never
-- inlined, so each call sets up a function call of its own, the largest part of what the trigger added
-- to a heartbeat (docs/benchmarks.md, "Heartbeats"). Only a failed row can be a presumed death, so the
-- call now runs only for one: the rule stays written once, in is_presumed_dead(), and a heartbeat on a
-- running job never reaches it. Everything else is as before (20261129120200_add_job_liveness.sql).
create or replace function jobs_private.stamp_job_write()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  by_user constant boolean := current_user in ('authenticated', 'anon');
begin
  new.updated_at := now();
  if by_user and tg_op = 'UPDATE' then
    if new.status is distinct from old.status and new.status <> 'cancelled' then
      raise exception 'a user may only request a cancel (status = ''cancelled''), not set %', new.status
        using errcode = 'insufficient_privilege';
    end if;
    if new.status is distinct from old.status or new.cancel_requested_at is distinct from old.cancel_requested_at then
      -- The request time is the database's, and a request cannot be withdrawn or backdated.
      new.cancel_requested_at := coalesce(old.cancel_requested_at, now());
    end if;
    new.status := old.status;
    return new;
  end if;

  -- jobs.actor = 'reconciler' (set by the pass's apply): its writes are not the writer's heartbeat.
  if tg_op = 'INSERT' or current_setting('jobs.actor', true) is distinct from 'reconciler' then
    new.heartbeat_at := now();
    -- "old.status = 'failed'" first: plpgsql's AND stops there for every row that is not failed.
    if tg_op = 'UPDATE' and old.status = 'failed' and jobs_private.is_presumed_dead(old.status, old.status_evidence) then
      if new.status is distinct from old.status then
        -- The reconciler only presumed it dead; the writer is alive. The truth wins, with a reason.
        new.status_reason := coalesce(new.status_reason,
          format('revived: a writer reported %s after %s', new.status, old.status_evidence ->> 'rule'));
        if new.status = any (jobs_private.active_statuses()) then new.completed_at := null; end if;
      elsif new.status_evidence is not distinct from old.status_evidence then
        -- The writer reports the failure itself: no longer a presumption anyone may undo.
        new.status_evidence := jsonb_build_object('rule', 'writer_report', 'was_presumed', old.status_evidence ->> 'rule');
      end if;
    end if;
  end if;
  if new.status <> all (jobs_private.active_statuses()) and new.completed_at is null then
    new.completed_at := now();
  end if;
  if new.status = 'running' and new.started_at is null then
    new.started_at := now();
  end if;
  return new;
end $$;
