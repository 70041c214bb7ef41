-- Two ways an API user could tamper with the history (issue 11, findings 5 and 6).
--
-- 5. Supabase's default privileges grant anon and authenticated USAGE and UPDATE on every
--    sequence postgres creates in public, the history's identity sequence included: setval() to
--    its maximum would make every later status change fail. Only the history trigger (security
--    definer, owned by postgres) and the service role need it.
do $$
declare
  seq text := pg_get_serial_sequence('public.local_training_job_history', 'id');
begin
  execute format('revoke all on sequence %s from public, anon, authenticated', seq);
  execute format('grant usage, select on sequence %s to service_role', seq);
end $$;

-- 6. `set local jobs.actor = 'reconciler'` and `jobs.reason` let any session label its own status
--    change. The labels are for trusted writers (the reconciler, report_job_status, the backend's
--    service role); in a session of anon or authenticated they are ignored, and the history names
--    the signed-in user. Checked on the role setting too: PostgREST logs in as authenticator and
--    switches with SET ROLE, and inside a security definer trigger current_user is the owner.
create or replace function jobs_private.session_is_api_user()
returns boolean
language sql stable
set search_path = ''
as $$
  select current_user::text in ('anon', 'authenticated')
      or session_user::text in ('anon', 'authenticated')
      or coalesce(current_setting('role', true), '') in ('anon', 'authenticated')
$$;

-- A jobs.* setting, unless the session is an API user's; '' reads as unset.
create or replace function jobs_private.trusted_setting(p_name text)
returns text
language sql stable
set search_path = ''
as $$
  select case when jobs_private.session_is_api_user() then null
              else nullif(current_setting(p_name, true), '') end
$$;

create or replace function jobs_private.current_actor()
returns text
language sql stable
set search_path = ''
as $$
  select coalesce(
    jobs_private.trusted_setting('jobs.actor'),
    'user:' || auth.uid()::text,
    auth.role(),
    session_user::text
  )
$$;

-- Runs as the writer, who may have no access to jobs_private: the check is inlined.
create or replace function jobs_private.reset_status_reason()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status_reason is not distinct from old.status_reason then
    new.status_reason := case
      when current_user::text in ('anon', 'authenticated') or session_user::text in ('anon', 'authenticated')
        or coalesce(current_setting('role', true), '') in ('anon', 'authenticated') then null
      else nullif(current_setting('jobs.reason', true), '') end;
  end if;
  if new.status_evidence is not distinct from old.status_evidence then
    new.status_evidence := null;
  end if;
  return new;
end $$;

create or replace function jobs_private.record_status_transitions()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into public.local_training_job_history (job_id, from_status, to_status, actor, reason, evidence)
    select n.id, null, n.status, jobs_private.current_actor(),
           coalesce(n.status_reason, jobs_private.trusted_setting('jobs.reason')), n.status_evidence
    from new_rows n;
  else
    insert into public.local_training_job_history (job_id, from_status, to_status, actor, reason, evidence)
    select n.id, o.status, n.status, jobs_private.current_actor(), n.status_reason, n.status_evidence
    from new_rows n
    join old_rows o on o.id = n.id
    where o.status is distinct from n.status;
  end if;
  return null;
end $$;

revoke all on function jobs_private.session_is_api_user() from public, anon, authenticated;
revoke all on function jobs_private.trusted_setting(text) from public, anon, authenticated;
revoke all on function jobs_private.record_status_transitions() from public;
revoke all on function jobs_private.reset_status_reason() from public;
comment on column public.local_training_job_history.actor is
  'jobs.actor if a trusted writer set it (ignored for anon and authenticated), else user:<auth.uid()>, else the JWT role, else the database login.';
