-- Shards of one tick: ranges of job ids that never overlap and cover every id, a lease per shard,
-- one POST per shard from the cron command, and a health view that shows each shard.
begin;
\ir _helpers.psql
set local search_path = extensions, public;
select plan(14);

delete from cron.job_run_details;
delete from jobs_private.reconcile_passes;
delete from jobs_private.reconcile_invocations;
delete from vault.secrets;
delete from net.http_request_queue;

-- Ranges: contiguous, in order, the first from the lowest id, the last open-ended.
select is((select lo from jobs_private.reconcile_shard_bounds(0, 4)), '00000000-0000-0000-0000-000000000000'::uuid, 'shard 0 starts at the lowest id');
select is((select hi from jobs_private.reconcile_shard_bounds(0, 4)), (select lo from jobs_private.reconcile_shard_bounds(1, 4)),
  'a shard ends where the next begins (no gap, no overlap)');
select is((select hi from jobs_private.reconcile_shard_bounds(3, 4)), null, 'the last shard is open-ended');
select is((select hi from jobs_private.reconcile_shard_bounds(0, 1)), null, 'one shard covers everything');
select throws_ok($$select jobs_private.reconcile_shard_bounds(4, 4)$$, '22023', null, 'a shard outside 0..shards-1 is refused');

-- Every active job is observed by exactly one of 3 shards.
select tests.create_user('shards@example.com') as owner \gset
select tests.make_job(:'owner', 'running') from generate_series(1, 30);
select is(
  (select sum(json_array_length(jobs_private.observe_reconcile_page(null, 1000, interval '10 minutes', interval '10 minutes', s, 3)))::int
   from generate_series(0, 2) s),
  (select count(*)::int from public.local_training_jobs where status = 'running'),
  'three shards observe every active job once between them');
select is(
  (select count(distinct e ->> 0)::int from generate_series(0, 2) s,
     json_array_elements(jobs_private.observe_reconcile_page(null, 1000, interval '10 minutes', interval '10 minutes', s, 3)) e),
  (select count(*)::int from public.local_training_jobs where status = 'running'),
  'and no job twice');

-- Keyset pages: page 2 starts after page 1's last id.
select is(
  (select json_array_length(jobs_private.observe_reconcile_page(
     (select (jobs_private.observe_reconcile_page(null, 10, interval '10 minutes', interval '10 minutes', 0, 1) -> 9 ->> 0)::uuid),
     1000, interval '10 minutes', interval '10 minutes', 0, 1)))::int,
  (select count(*)::int - 10 from public.local_training_jobs where status = 'running'),
  'the page after the first ten holds the rest');

-- A lease per shard: shard 1 runs while shard 0 runs; a second shard-0 pass is skipped.
select is((jobs_private.claim_reconcile_pass(gen_random_uuid(), 'cron', interval '1 minute', false, 0, 2) ->> 'skipped')::boolean,
  false, 'shard 0 of 2 claims its lease');
select is((jobs_private.claim_reconcile_pass(gen_random_uuid(), 'cron', interval '1 minute', false, 1, 2) ->> 'skipped')::boolean,
  false, 'shard 1 of 2 claims its own lease at the same time');
select is((jobs_private.claim_reconcile_pass(gen_random_uuid(), 'cron', interval '1 minute', false, 0, 2) ->> 'skipped')::boolean,
  true, 'a second pass of shard 0 is skipped');

-- The cron command: one POST per shard, each saying which.
select vault.create_secret('http://127.0.0.1:1/functions/v1/reconcile-jobs', 'reconcile_jobs_url');
select vault.create_secret('a-secret-of-sixteen-chars', 'reconcile_jobs_secret');
update jobs_private.reconcile_settings set shards = 3;
select jobs_private.invoke_reconcile_jobs('cron');
select results_eq(
  $$select (convert_from(body, 'UTF8')::jsonb ->> 'shard')::int, (convert_from(body, 'UTF8')::jsonb ->> 'shards')::int from net.http_request_queue order by id$$,
  $$values (0, 3), (1, 3), (2, 3)$$,
  'one request per shard, with its shard and the count');

-- Health: the least healthy shard decides, and each shard is listed.
delete from jobs_private.reconcile_passes;
insert into jobs_private.reconcile_passes (id, trigger, started_at, finished_at, outcome, backend_reachable, shard, shards)
values (gen_random_uuid(), 'cron', now() - interval '1 minute', now() - interval '1 minute', 'applied', true, 0, 3),
       (gen_random_uuid(), 'cron', now() - interval '1 minute', now() - interval '1 minute', 'held', true, 1, 3),
       (gen_random_uuid(), 'cron', now() - interval '1 minute', now() - interval '1 minute', 'applied', true, 2, 3);
select is((select status from jobs_private.reconcile_health), 'degraded', 'one held shard makes the tick degraded');
select is((select jsonb_agg(e ->> 'outcome' order by (e ->> 'shard')::int) from jobs_private.reconcile_health, jsonb_array_elements(shard_passes) e),
  '["applied", "held", "applied"]'::jsonb, 'shard_passes shows each shard''s last outcome');

select * from finish();
rollback;
