-- "Why is reconciliation not working?" as a checklist, read top to bottom, for the dashboard's SQL
-- editor and for `npm run doctor` (cli/doctor.ts, a thin reader of this function):
--   select * from jobs_private.reconcile_doctor();
-- Each row is one check: ok, what was found, and the one action that fixes it. The health view says
-- *whether* it works; this says *what to do*. plpgsql with one exception block per check, so a
-- missing extension (cron, net, vault) or a privilege we lack is a failed check, never an error.
-- Adding a check is one more block.

-- The checks, with check_name for the column: plpgsql_check (supabase db lint) refuses the reserved
-- word "check" as an out parameter; reconcile_doctor() below gives it the name people read.
create function jobs_private.reconcile_doctor_checks(expected_latest_migration text default null)
returns table ("position" integer, check_name text, ok boolean, detail text, fix text)
language plpgsql stable
set search_path = ''
as $$
declare
  missing text[];
  v_url text;
  v_has_secret boolean;
  v_job record;
  v_runs text;
  v_call record;
  v_pass record;
  v_bad text;
  v_latest text;
  v_count bigint;
  v_settings jobs_private.reconcile_settings;
  v_want text;
begin
  -- 1. Extensions: the schemas and relations they bring, as the other migrations use them.
  "position" := 1; check_name := 'extensions'; fix := null;
  missing := array_remove(array[
    case when to_regclass('cron.job') is null then 'pg_cron' end,
    case when to_regclass('net._http_response') is null then 'pg_net' end,
    case when to_regclass('vault.decrypted_secrets') is null then 'vault' end], null);
  ok := cardinality(missing) = 0;
  detail := case when ok then 'pg_cron, pg_net and vault present' else 'missing: ' || array_to_string(missing, ', ') end;
  if not ok then
    fix := 'enable ' || array_to_string(missing, ', ') || ' (dashboard: Database > Extensions), then npx supabase db push';
  end if;
  return next;

  -- 2. Migrations: what `supabase db push` recorded; the CLI passes the highest file's version.
  "position" := 2; check_name := 'migrations applied'; fix := null;
  begin
    if to_regclass('supabase_migrations.schema_migrations') is null then
      ok := false;
      detail := 'supabase_migrations.schema_migrations is missing: the migrations were not applied with supabase db push';
      fix := 'npx supabase db push';
    else
      execute 'select max(version), count(*) from supabase_migrations.schema_migrations' into v_latest, v_count;
      ok := expected_latest_migration is null or coalesce(v_latest, '') >= expected_latest_migration;
      detail := format('%s migrations applied, latest %s', v_count, coalesce(v_latest, 'none'))
        || case when expected_latest_migration is null then ''
                when ok then '' else format('; the project''s latest is %s', expected_latest_migration) end;
      if not ok then fix := 'npx supabase db push'; end if;
    end if;
  exception when others then
    ok := false; detail := 'cannot read the applied migrations: ' || sqlerrm; fix := 'npx supabase db push';
  end;
  return next;

  -- 3. Vault secrets. The URL is shown; the secret never is.
  "position" := 3; check_name := 'vault secrets'; fix := null;
  begin
    execute $q$select max(decrypted_secret) filter (where name = 'reconcile_jobs_url'),
                      coalesce(bool_or(name = 'reconcile_jobs_secret' and coalesce(decrypted_secret, '') <> ''), false)
               from vault.decrypted_secrets where name in ('reconcile_jobs_url', 'reconcile_jobs_secret')$q$
      into v_url, v_has_secret;
    ok := coalesce(v_url, '') <> '' and v_has_secret;
    detail := case when ok then 'reconcile_jobs_url = ' || v_url || '; reconcile_jobs_secret is set'
      else concat_ws('; ',
        case when coalesce(v_url, '') = '' then 'reconcile_jobs_url is missing or empty' else 'reconcile_jobs_url = ' || v_url end,
        case when not v_has_secret then 'reconcile_jobs_secret is missing or empty' end)
        || ': no request is being sent' end;
    if not ok then fix := 'RECONCILE_SECRET=<the function''s secret> npm run secrets:set -- --project-ref <ref>'; end if;
  exception when others then
    ok := false; detail := 'cannot read vault.decrypted_secrets: ' || sqlerrm;
    fix := 'enable Vault (dashboard: Database > Extensions), then npm run secrets:set';
  end;
  return next;

  -- 4. The cron job: scheduled and active.
  "position" := 4; check_name := 'cron job'; fix := null;
  begin
    execute $q$select jobid, schedule, active from cron.job where jobname = 'reconcile-training-jobs'$q$ into v_job;
    if v_job.jobid is null then
      ok := false; detail := 'cron job reconcile-training-jobs is not scheduled';
      fix := $f$select cron.schedule('reconcile-training-jobs', '*/10 * * * *', 'select jobs_private.invoke_reconcile_jobs(''cron'')');$f$;
    elsif not v_job.active then
      ok := false; detail := format('cron job reconcile-training-jobs (jobid %s, %s) is inactive', v_job.jobid, v_job.schedule);
      fix := format('select cron.alter_job(%s, active => true);', v_job.jobid);
    else
      ok := true; detail := format('reconcile-training-jobs scheduled %s, active (jobid %s)', v_job.schedule, v_job.jobid);
    end if;
  exception when others then
    ok := false; detail := 'cannot read cron.job: ' || sqlerrm; fix := 'enable pg_cron, then npx supabase db push';
  end;
  return next;

  -- 5. The last cron runs: the last one must not have failed; failed ones show their message.
  "position" := 5; check_name := 'cron runs'; fix := null;
  begin
    execute $q$
      with r as (
        select d.runid, d.status, split_part(d.return_message, E'\n', 1) as return_message, jobs_private.cron_run_time(d) as at
        from cron.job_run_details d join cron.job j on j.jobid = d.jobid
        where j.jobname = 'reconcile-training-jobs' order by d.runid desc limit 5)
      select (select status from r order by runid desc limit 1),
             (select string_agg(format('%s failed: %s', to_char(at, 'YYYY-MM-DD HH24:MI:SS'), return_message), '; ' order by runid desc)
              from r where status = 'failed'),
             (select count(*) from r)$q$
      into v_latest, v_runs, v_count;
    ok := coalesce(v_latest, '') <> 'failed';
    detail := case when v_count = 0 then 'no cron runs recorded yet'
      else format('last %s runs: last %s', v_count, v_latest) || coalesce('; ' || v_runs, '') end;
    if not ok then fix := 'fix what the failed run says (a missing Vault secret: npm run secrets:set)'; end if;
  exception when others then
    ok := false; detail := 'cannot read cron.job_run_details: ' || sqlerrm; fix := 'enable pg_cron, then npx supabase db push';
  end;
  return next;

  -- 6. The function's answer to the last request pg_net sent it (a green cron run only queued it).
  "position" := 6; check_name := 'function calls'; fix := null;
  begin
    execute $q$select i.request_id, i.requested_at, r.status_code, r.timed_out, r.error_msg, left(r.content, 300) as content
               from jobs_private.reconcile_invocations i join net._http_response r on r.id = i.request_id
               order by i.requested_at desc, i.request_id desc limit 1$q$ into v_call;
    if v_call.request_id is null then
      ok := true; detail := 'no answered call yet';
    elsif v_call.status_code between 200 and 299 then
      ok := true; detail := format('last call (request %s): HTTP %s', v_call.request_id, v_call.status_code);
    else
      ok := false;
      detail := format('last call (request %s) failed: %s', v_call.request_id,
        coalesce('HTTP ' || v_call.status_code, v_call.error_msg, 'timed out')) || coalesce(': ' || v_call.content, '');
      fix := case
        when v_call.status_code = 401 then 'the Vault secret and the function''s RECONCILE_SECRET differ: run npm run secrets:set'
        when v_call.status_code = 404 then 'function not deployed: supabase functions deploy reconcile-jobs'
        when v_call.status_code >= 500 then 'the function failed (its error is above): see its logs (dashboard: Edge Functions > reconcile-jobs)'
        when v_call.status_code is null then 'the function URL is wrong or the function is not deployed/reachable: check reconcile_jobs_url, run supabase functions deploy reconcile-jobs'
        else 'check reconcile_jobs_url and the function''s logs' end;
    end if;
  exception when others then
    ok := false; detail := 'cannot read net._http_response: ' || sqlerrm; fix := 'enable pg_net, then npx supabase db push';
  end;
  return next;

  -- 7. The last finished pass and its outcome.
  select * into v_pass from jobs_private.reconcile_passes where outcome <> 'running' order by started_at desc limit 1;
  "position" := 7; check_name := 'passes'; fix := null;
  if v_pass.id is null then
    ok := true; detail := 'no pass has finished yet';
  else
    ok := v_pass.outcome in ('applied', 'skipped');
    detail := format('last pass %s (%s, %s): %s', v_pass.id, v_pass.trigger,
      to_char(v_pass.started_at, 'YYYY-MM-DD HH24:MI:SS TZ'),
      -- held_why already begins "held: ...".
      coalesce(nullif(v_pass.counts ->> 'held_why', ''), v_pass.outcome || coalesce(': ' || v_pass.error, '')));
    if v_pass.outcome = 'held' then
      fix := 'check the training backend; the hold ends when the jobs are heard from or silent past the hard timeout';
    elsif not ok then
      fix := 'see the error; the function''s logs have the rest';
    end if;
  end if;
  return next;

  -- 8. The backends of that pass: misconfigured (a refused backend_url) or unreachable.
  "position" := 8; check_name := 'backends'; fix := null;
  select string_agg(format('%s (%s jobs): %s', b ->> 'url', b ->> 'jobs',
           case when b ->> 'mode' = 'misconfigured' then 'misconfigured' else 'unreachable' end
           || coalesce(', ' || (b ->> 'error'), '')), '; ')
    into v_bad
  from jsonb_array_elements(case when jsonb_typeof(v_pass.backends) = 'array' then v_pass.backends else '[]' end) b
  where b ->> 'mode' = 'misconfigured' or (b ->> 'reachable')::boolean is false;
  ok := v_bad is null;
  detail := case when v_pass.id is null then 'no pass yet'
    when ok and coalesce(jsonb_array_length(case when jsonb_typeof(v_pass.backends) = 'array' then v_pass.backends end), 0) = 0
      then 'the last pass asked no backend (no active jobs)'
    when ok then format('%s backend(s) reachable', jsonb_array_length(v_pass.backends)) else v_bad end;
  if not ok then fix := 'fix the backend_url of those jobs, or the default: select jobs_private.configure_reconciler(backend_url => ''<url>''), or bring the backend up'; end if;
  return next;

  -- 9. Settings: the one row every pass reads, valid by its own rules, and the cron job on its interval.
  "position" := 9; check_name := 'settings'; fix := null;
  select * into v_settings from jobs_private.reconcile_settings;
  if v_settings.id is null then
    ok := false; detail := 'jobs_private.reconcile_settings has no row: no pass can start';
    fix := 'insert into jobs_private.reconcile_settings default values;';
  else
    v_bad := jobs_private.reconcile_settings_error(v_settings);
    v_want := jobs_private.reconcile_cron_schedule(v_settings.pass_interval);
    ok := v_bad is null and (v_job.schedule is null or v_job.schedule = v_want);
    detail := case
      when v_bad is not null then v_bad
      when not ok then format('the cron job runs on %s, but pass_interval %s wants %s', v_job.schedule, v_settings.pass_interval, v_want)
      else format('every %s, hard timeout %s, grace %s, %s shard(s), default backend %s', v_settings.pass_interval,
        v_settings.hard_timeout, v_settings.grace, v_settings.shards,
        coalesce(v_settings.backend_url, 'none (the function''s BACKEND_URL, if it has one)')) end;
    if v_bad is not null then fix := 'select jobs_private.configure_reconciler(...) with values the rule allows';
    elsif not ok then fix := 'select jobs_private.schedule_reconciler();';
    end if;
  end if;
  return next;
end $$;
revoke all on function jobs_private.reconcile_doctor_checks(text) from public, anon, authenticated;
comment on function jobs_private.reconcile_doctor_checks(text) is
  'The checks behind jobs_private.reconcile_doctor(); read that one.';

create function jobs_private.reconcile_doctor(expected_latest_migration text default null)
returns table ("position" integer, "check" text, ok boolean, detail text, fix text)
language sql stable
set search_path = ''
as $$
  select * from jobs_private.reconcile_doctor_checks(expected_latest_migration)
$$;
revoke all on function jobs_private.reconcile_doctor(text) from public, anon, authenticated;
comment on function jobs_private.reconcile_doctor(text) is
  'Checklist for "is reconciliation working, and if not, what fixes it": one row per check (position, check, ok, detail, fix). select * from jobs_private.reconcile_doctor(); npm run doctor passes the latest migration file''s version.';
