-- Test helpers, in the manner of basejump's supabase_test_helpers. Runs first (file order) and,
-- unlike the other files, commits: it installs pgTAP and the `tests` schema the others use.
-- Test-only: nothing here is a migration.
create extension if not exists pgtap with schema extensions;
create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

-- A user in auth.users; returns its id.
create or replace function tests.create_user(email text) returns uuid
language sql set search_path = '' as $$
  insert into auth.users (email) values (email) returning id
$$;

-- Act as a signed-in user for the rest of the transaction, as PostgREST would.
create or replace function tests.authenticate_as(user_id uuid) returns void
language plpgsql set search_path = '' as $$
begin
  perform set_config('request.jwt.claims',
    json_build_object('sub', user_id, 'role', 'authenticated')::text, true);
  perform set_config('role', 'authenticated', true);
end $$;

create or replace function tests.act_as_role(role_name text) returns void
language plpgsql set search_path = '' as $$
begin
  perform set_config('request.jwt.claims', json_build_object('role', role_name)::text, true);
  perform set_config('role', role_name, true);
end $$;

create or replace function tests.clear_authentication() returns void
language plpgsql set search_path = '' as $$
begin
  perform set_config('role', 'postgres', true);
  perform set_config('request.jwt.claims', '', true);
end $$;

-- A job whose last sign of life was `silent_for` ago. Tests backdate rows instead of sleeping:
-- the stamping trigger would set updated_at to now(), so it is bypassed for this one write
-- (session_replication_role needs a superuser; writers cannot do this).
create or replace function tests.make_job(
  owner uuid, job_status text, silent_for interval default interval '0'
) returns uuid
language plpgsql set search_path = '' as $$
declare
  job_id uuid;
begin
  insert into public.local_training_jobs (user_id, model_name, status)
  values (owner, 'test-model', job_status) returning id into job_id;
  perform tests.backdate(job_id, silent_for);
  return job_id;
end $$;

create or replace function tests.backdate(job_id uuid, silent_for interval) returns void
language plpgsql set search_path = '' as $$
begin
  perform set_config('session_replication_role', 'replica', true);
  -- Both witnesses fall silent: the writer's heartbeat moves back, any backend confirmation is gone.
  update public.local_training_jobs
  set updated_at = now() - silent_for, heartbeat_at = now() - silent_for, confirmed_at = null, confirmed_until = null
  where id = job_id;
  perform set_config('session_replication_role', 'origin', true);
end $$;

grant execute on all functions in schema tests to anon, authenticated, service_role;

set search_path = extensions, public;
select plan(1);
select pass('test helpers installed');
select * from finish();
