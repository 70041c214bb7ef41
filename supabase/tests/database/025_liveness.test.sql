-- Liveness: the writer's heartbeat and the backend's confirmed progress are kept apart; the view
-- reads stale only when neither vouches; a user's cancel is a request; a writer revives a presumed death.
begin;
\ir _helpers.psql
set local search_path = extensions, public;
select plan(16);

select tests.create_user('live@example.com') as owner \gset
select tests.make_job(:'owner', 'running', interval '5 minutes') as confirmed \gset
select tests.make_job(:'owner', 'running', interval '5 minutes') as expired \gset
select tests.make_job(:'owner', 'running') as beating \gset
select tests.make_job(:'owner', 'running', interval '5 minutes') as silent_cancel \gset

-- A pass saw progress move: it vouches until the next pass is due plus the threshold.
-- (the reconciler's writes, as apply_reconcile_changes() makes them)
set local jobs.actor = 'reconciler';
update public.local_training_jobs set confirmed_at = now() - interval '1 minute', confirmed_until = now() + interval '11 minutes'
where id = :'confirmed';
update public.local_training_jobs set confirmed_until = now() - interval '1 second' where id = :'expired';
reset jobs.actor;

select is((select effective_status from public.local_training_jobs_effective where id = :'confirmed'), 'running',
  'a job whose writer is silent past the threshold reads running while a backend confirmation vouches for it');
select is((select effective_status from public.local_training_jobs_effective where id = :'expired'), 'stale',
  'once the confirmation has run out, the silent job reads stale');
select cmp_ok((select heartbeat_at from public.local_training_jobs where id = :'confirmed'), '<', now() - interval '4 minutes',
  'the reconciler''s writes do not count as the writer''s heartbeat');
select is((select last_heard_at from public.local_training_jobs_effective where id = :'confirmed'), now() - interval '1 minute',
  'last_heard_at is the latest sign of life of either witness');

-- A user's cancel is a request.
select tests.authenticate_as(:'owner');
update public.local_training_jobs set status = 'cancelled' where id in (:'beating', :'silent_cancel');
select tests.clear_authentication();
select is((select effective_status from public.local_training_jobs_effective where id = :'beating'), 'cancelling',
  'a live job with a cancel request reads cancelling');
select is((select effective_status from public.local_training_jobs_effective where id = :'silent_cancel'), 'stale',
  'a silent job with a cancel request reads stale: nobody can say it stopped');
select tests.act_as_role('service_role');
insert into public.local_training_jobs (id, status) values (:'beating', 'running')
  on conflict (id) do update set status = excluded.status;
select tests.clear_authentication();
select is((select array[status, effective_status] from public.local_training_jobs_effective where id = :'beating'),
  array['running', 'cancelling'], 'the seed''s blind upsert of running cannot erase the request');
select is(public.report_job_status(:'beating', 1, 1, 'running') ->> 'cancel_requested', 'true',
  'report_job_status() tells the writer a cancel is requested');
select is(public.report_job_status(:'beating', 1, 2, 'cancelled') ->> 'status', 'cancelled',
  'the writer reports it stopped the training: the job is cancelled');

-- A writer contradicts a presumed death: revived, with a reason.
select tests.make_job(:'owner', 'running') as presumed \gset
set local jobs.actor = 'reconciler';
update public.local_training_jobs set status = 'failed', status_reason = 'lost: backend has no record',
  status_evidence = '{"rule": "fail_lost"}' where id = :'presumed';
reset jobs.actor;
select tests.act_as_role('service_role');
update public.local_training_jobs set status = 'running' where id = :'presumed';
select tests.clear_authentication();
select is((select array[status, status_reason, (completed_at is null)::text] from public.local_training_jobs where id = :'presumed'),
  array['running', 'revived: a writer reported running after fail_lost', 'true'],
  'a legacy writer''s heartbeat revives a presumed death, with a reason');
select is((select reason from public.local_training_job_history where job_id = :'presumed' order by id desc limit 1),
  'revived: a writer reported running after fail_lost', 'the revival is in the history');

-- A user's cancel request leaves the row's reason and evidence as they were.
select tests.make_job(:'owner', 'running') as explained \gset
update public.local_training_jobs set status_reason = 'revived: backend shows progress', status_evidence = '{"rule": "revive"}'
where id = :'explained';
select tests.authenticate_as(:'owner');
update public.local_training_jobs set status = 'cancelled' where id = :'explained';
select tests.clear_authentication();
select is((select array[status, status_reason, status_evidence ->> 'rule'] from public.local_training_jobs where id = :'explained'),
  array['running', 'revived: backend shows progress', 'revive'], 'a user''s cancel request does not wipe the reason or evidence');

-- A writer that reports the failure itself over a presumed death: no straggler can revive it.
select tests.make_job(:'owner', 'running') as refailed \gset
set local jobs.actor = 'reconciler';
update public.local_training_jobs set status = 'failed', status_reason = 'heartbeat lost',
  status_evidence = '{"rule": "fail_heartbeat_lost"}' where id = :'refailed';
reset jobs.actor;
select is(public.report_job_status(:'refailed', 1, 100, 'failed', null, 'CUDA out of memory') ->> 'status', 'failed',
  'the writer reports the failure itself');
select is(public.report_job_status(:'refailed', 1, 200, 'running') ->> 'outcome', 'ignored_terminal',
  'a later report cannot reopen a failure the writer itself reported');
select is((select array[status, status_reason] from public.local_training_jobs where id = :'refailed'),
  array['failed', 'CUDA out of memory'], 'the writer''s own reason is kept');

-- A resumed job starts clean: no cancel request, confirmation or marker of the old attempt.
select tests.make_job(:'owner', 'running') as resumed \gset
select tests.authenticate_as(:'owner');
update public.local_training_jobs set status = 'cancelled' where id = :'resumed';
select tests.clear_authentication();
select public.report_job_status(:'resumed', 1, 1, 'cancelled');
select public.start_job_attempt(:'resumed');
select is(public.report_job_status(:'resumed', 2, 1, 'running') ->> 'cancel_requested', 'false',
  'a resumed job does not inherit the old attempt''s cancel request');

select * from finish();
rollback;
