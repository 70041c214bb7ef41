begin;
\ir _helpers.psql
set local search_path = extensions, public;
select plan(8);

select tests.create_user('owner@example.com') as owner \gset

select lives_ok(
  format($$insert into public.local_training_jobs (user_id, status) values
    ('%1$s','queued'),('%1$s','pending'),('%1$s','running'),
    ('%1$s','completed'),('%1$s','failed'),('%1$s','cancelled')$$, :'owner'),
  'all six statuses are accepted');

select throws_ok(
  format($$insert into public.local_training_jobs (user_id, status) values ('%s', 'stale')$$, :'owner'),
  '23514', null,
  'stale is a reading, never a stored status');

select throws_ok(
  format($$insert into public.local_training_jobs (user_id, status) values ('%s', 'RUNNING')$$, :'owner'),
  '23514', null,
  'statuses are case-sensitive');

select is(
  (select status from public.local_training_jobs where user_id = :'owner' and model_name is null
   order by created_at limit 1) is not null, true,
  'status defaults exist');

-- updated_at cannot be forged on insert...
insert into public.local_training_jobs (id, user_id, status, updated_at)
values ('00000000-0000-0000-0000-0000000000a1', :'owner', 'running', '2001-01-01');
select is(
  (select updated_at from public.local_training_jobs where id = '00000000-0000-0000-0000-0000000000a1'),
  now(), 'a forged updated_at on insert is replaced by the database clock');

-- ...nor on update, nor forgotten.
select tests.backdate('00000000-0000-0000-0000-0000000000a1', interval '1 hour');
update public.local_training_jobs set updated_at = '2001-01-01' where id = '00000000-0000-0000-0000-0000000000a1';
select is(
  (select updated_at from public.local_training_jobs where id = '00000000-0000-0000-0000-0000000000a1'),
  now(), 'a forged updated_at on update is replaced by the database clock');

select tests.backdate('00000000-0000-0000-0000-0000000000a1', interval '1 hour');
update public.local_training_jobs set config = '{"progress": 0.5}' where id = '00000000-0000-0000-0000-0000000000a1';
select is(
  (select updated_at from public.local_training_jobs where id = '00000000-0000-0000-0000-0000000000a1'),
  now(), 'a writer that forgets updated_at still refreshes it');

update public.local_training_jobs set status = 'completed' where id = '00000000-0000-0000-0000-0000000000a1';
select isnt(
  (select completed_at from public.local_training_jobs where id = '00000000-0000-0000-0000-0000000000a1'),
  null, 'a terminal status gets completed_at when the writer leaves it empty');

select * from finish();
rollback;
