-- Who made a status change is asked once per history row: by the row trigger for each status change
-- (a pass's apply changes up to a page of them in one statement) and per inserted row. The three
-- helpers were SQL functions with their own search_path, which Postgres never inlines: each call
-- built an executor for its body, and current_actor() nests three of them, so one call cost several
-- times a PL/pgSQL function's (docs/benchmarks.md, "Reconcile pass"). Same rules, same signatures, in
-- PL/pgSQL, whose compiled body is kept per session. As in 20261129120100_add_job_status_history.sql.

-- Checked on the role setting too: PostgREST logs in as authenticator and switches with SET ROLE,
-- and inside a security definer trigger current_user is the owner.
create or replace function jobs_private.session_is_api_user()
returns boolean
language plpgsql stable
set search_path = ''
as $$
begin
  return current_user::text in ('anon', 'authenticated')
      or session_user::text in ('anon', 'authenticated')
      or coalesce(current_setting('role', true), '') in ('anon', 'authenticated');
end $$;

-- A jobs.* setting, unless the session is an API user's; '' reads as unset.
create or replace function jobs_private.trusted_setting(p_name text)
returns text
language plpgsql stable
set search_path = ''
as $$
begin
  if jobs_private.session_is_api_user() then
    return null;
  end if;
  return nullif(current_setting(p_name, true), '');
end $$;

create or replace function jobs_private.current_actor()
returns text
language plpgsql stable
set search_path = ''
as $$
begin
  return coalesce(
    jobs_private.trusted_setting('jobs.actor'),
    'user:' || auth.uid()::text,
    auth.role(),
    session_user::text
  );
end $$;
