begin;
\ir _helpers.psql
set local search_path = extensions, public;
select plan(21);

select tests.create_user('viewer@example.com') as owner \gset

create temp table boundary (label text primary key, job_id uuid) on commit drop;
insert into boundary values
  ('running 1m59s', tests.make_job(:'owner', 'running', interval '1 minute 59 seconds')),
  ('running 2m00s', tests.make_job(:'owner', 'running', interval '2 minutes')),
  ('running 2m01s', tests.make_job(:'owner', 'running', interval '2 minutes 1 second')),
  ('queued 29m59s', tests.make_job(:'owner', 'queued', interval '29 minutes 59 seconds')),
  ('queued 30m01s', tests.make_job(:'owner', 'queued', interval '30 minutes 1 second')),
  ('pending 29m59s', tests.make_job(:'owner', 'pending', interval '29 minutes 59 seconds')),
  ('pending 30m01s', tests.make_job(:'owner', 'pending', interval '30 minutes 1 second')),
  ('completed 10d', tests.make_job(:'owner', 'completed', interval '10 days')),
  ('failed 10d', tests.make_job(:'owner', 'failed', interval '10 days')),
  ('cancelled 10d', tests.make_job(:'owner', 'cancelled', interval '10 days'));

create function pg_temp.effective(label text) returns text language sql as $$
  select v.effective_status from public.local_training_jobs_effective v
  join boundary b on b.job_id = v.id where b.label = $1
$$;

-- Just inside each threshold: must not be touched.
select is(pg_temp.effective('running 1m59s'), 'running', 'running silent 1 min 59 s is still running');
select is(pg_temp.effective('running 2m00s'), 'running', 'running silent exactly 2 min is still running (stale means older than)');
select is(pg_temp.effective('running 2m01s'), 'stale', 'running silent 2 min 1 s reads stale');
select is(pg_temp.effective('queued 29m59s'), 'queued', 'queued silent 29 min 59 s is still queued');
select is(pg_temp.effective('queued 30m01s'), 'stale', 'queued silent 30 min 1 s reads stale');
select is(pg_temp.effective('pending 29m59s'), 'pending', 'pending silent 29 min 59 s is still pending');
select is(pg_temp.effective('pending 30m01s'), 'stale', 'pending silent 30 min 1 s reads stale');
select is(pg_temp.effective('completed 10d'), 'completed', 'a completed job is never stale');
select is(pg_temp.effective('failed 10d'), 'failed', 'a failed job is never stale');
select is(pg_temp.effective('cancelled 10d'), 'cancelled', 'a cancelled job is never stale');

select is(
  (select v.stale_since from public.local_training_jobs_effective v join boundary b on b.job_id = v.id
   where b.label = 'running 2m01s'),
  now() - interval '1 second',
  'stale_since is the moment the threshold passed');
select is(
  (select v.stale_since from public.local_training_jobs_effective v join boundary b on b.job_id = v.id
   where b.label = 'running 1m59s'),
  null, 'stale_since is empty while a job is not stale');
select is(
  (select v.silent_for from public.local_training_jobs_effective v join boundary b on b.job_id = v.id
   where b.label = 'queued 30m01s'),
  interval '30 minutes 1 second', 'silent_for is the time since the last sign of life');
select is(
  (select v.status from public.local_training_jobs_effective v join boundary b on b.job_id = v.id
   where b.label = 'running 2m01s'),
  'running', 'the stored status is still there beside effective_status');

-- A finished job keeps its last backend confirmation on record; that confirmation has run out, but
-- a terminal job is never stale, so it has no stale_since either.
set local jobs.actor = 'reconciler';
update public.local_training_jobs set confirmed_until = now() - interval '9 days'
where id = (select job_id from boundary where label = 'completed 10d');
reset jobs.actor;
select is(
  (select array[v.effective_status, v.stale_since::text] from public.local_training_jobs_effective v
   join boundary b on b.job_id = v.id where b.label = 'completed 10d'),
  array['completed', null], 'a terminal job with a run-out confirmation is neither stale nor stale since');

-- An active job with a cancel request and no deadline at all reads cancelling, as any other active
-- job with a cancel request does: no heartbeat on record (a hand edit, made here as the stamping
-- trigger lets only the reconciler's writes through unstamped), or no policy row for its status.
select tests.make_job(:'owner', 'running') as unheard \gset
set local jobs.actor = 'reconciler';
update public.local_training_jobs set heartbeat_at = null, confirmed_until = null, cancel_requested_at = now()
where id = :'unheard';
reset jobs.actor;
select is((select array[heartbeat_at::text, effective_status, stale_since::text] from public.local_training_jobs_effective
           where id = :'unheard'),
  array[null, 'cancelling', null], 'an active job with no heartbeat on record and a cancel request reads cancelling');
select tests.make_job(:'owner', 'pending') as unruled \gset
update public.local_training_jobs set cancel_requested_at = now() where id = :'unruled';
savepoint without_pending_policy;
delete from public.job_staleness_policy where status = 'pending';
select is((select array[effective_status, stale_since::text] from public.local_training_jobs_effective where id = :'unruled'),
  array['cancelling', null], 'an active job whose status has no policy row and a cancel request reads cancelling');
rollback to savepoint without_pending_policy;

-- An operator changes a threshold with one UPDATE, and readers see it at once: a fresh query, and a
-- statement prepared before the change (PostgREST prepares its statements per connection).
prepare effective_page as
  select v.effective_status from public.local_training_jobs_effective v
  join boundary b on b.job_id = v.id where b.label = 'running 1m59s';
select results_eq('effective_page', $$values ('running')$$, 'the prepared page reads running under the 2 minute policy');
update public.job_staleness_policy set stale_after = interval '1 minute' where status = 'running';
select is(pg_temp.effective('running 1m59s'), 'stale', 'a tighter running policy takes effect on the next read');
select results_eq('effective_page', $$values ('stale')$$, 'and on the next run of a statement prepared before it');

-- A heartbeat brings a stale job back: staleness is a reading, not a verdict.
update public.local_training_jobs set config = '{"progress": 0.9}'
where id = (select job_id from boundary where label = 'running 2m01s');
select is(pg_temp.effective('running 2m01s'), 'running', 'a heartbeat makes a stale job read running again');

select * from finish();
rollback;
