-- Records the reconciler leaves behind are pruned daily, so nothing grows without bound.
-- Change a period with one UPDATE, e.g.
--   update jobs_private.retention_policy set keep = interval '1 year' where what = 'job_history';

create table if not exists jobs_private.retention_policy (
  what text primary key
    constraint retention_policy_what_is_known check (what in (
      'job_history', 'reconcile_passes', 'reconcile_invocations', 'http_responses', 'cron_run_details')),
  keep interval not null constraint retention_policy_keep_is_positive check (keep > interval '0'),
  reasoning text not null default ''
);
insert into jobs_private.retention_policy (what, keep, reasoning) values
  ('job_history', interval '90 days', 'Transitions of finished jobs: long enough to answer "why did this fail?" for a quarter. History of active jobs is never pruned.'),
  ('reconcile_passes', interval '30 days', 'One row per pass, 144 a day: a month shows trends without growing past ~4,500 rows.'),
  ('reconcile_invocations', interval '30 days', 'Request ids of cron calls; kept as long as the passes they started.'),
  ('http_responses', interval '1 day', 'pg_net prunes its own responses after 6 h by default; this is a backstop.'),
  ('cron_run_details', interval '7 days', 'Supabase recommends pruning cron.job_run_details; a week covers the health view''s 24 h window with room.')
on conflict (what) do nothing;
comment on table jobs_private.retention_policy is 'How long each kind of reconciler record is kept (pruned daily by the cron job prune-reconcile-records).';
revoke all on table jobs_private.retention_policy from public, anon, authenticated;

create function jobs_private.prune_reconcile_records()
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  keep jsonb := (select jsonb_object_agg(what, keep) from jobs_private.retention_policy);
  removed jsonb := '{}'::jsonb;
  n bigint;
begin
  delete from public.local_training_job_history h
  using public.local_training_jobs j
  where h.job_id = j.id
    and j.status <> all (jobs_private.active_statuses())
    and h.changed_at < now() - (keep ->> 'job_history')::interval;
  get diagnostics n = row_count;
  removed := removed || jsonb_build_object('job_history', n);

  delete from jobs_private.reconcile_passes
  where started_at < now() - (keep ->> 'reconcile_passes')::interval and outcome <> 'running';
  get diagnostics n = row_count;
  removed := removed || jsonb_build_object('reconcile_passes', n);

  delete from jobs_private.reconcile_invocations where requested_at < now() - (keep ->> 'reconcile_invocations')::interval;
  get diagnostics n = row_count;
  removed := removed || jsonb_build_object('reconcile_invocations', n);

  -- pg_net owns this table; where we may not delete from it, pg_net's own TTL applies.
  begin
    delete from net._http_response where created < now() - (keep ->> 'http_responses')::interval;
    get diagnostics n = row_count;
    removed := removed || jsonb_build_object('http_responses', n);
  exception when insufficient_privilege then
    removed := removed || jsonb_build_object('http_responses', 'left to pg_net');
  end;

  -- Dated as the health view dates them, so a run pg_cron left without times ages out too.
  delete from cron.job_run_details d
  where jobs_private.cron_run_time(d) < now() - (keep ->> 'cron_run_details')::interval;
  get diagnostics n = row_count;
  removed := removed || jsonb_build_object('cron_run_details', n);

  return removed;
end $$;
revoke all on function jobs_private.prune_reconcile_records() from public, anon, authenticated;

select cron.schedule('prune-reconcile-records', '17 3 * * *', 'select jobs_private.prune_reconcile_records()');
