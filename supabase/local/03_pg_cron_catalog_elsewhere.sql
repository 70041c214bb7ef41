-- LOCAL STAND-IN for pg_cron's catalog, in databases other than the cluster's cron database.
-- pg_cron runs in exactly one database per cluster (cron.database_name = 'postgres' here), where
-- db:up's migrations enable the REAL extension. Test and demo databases are clones that cannot
-- host it, yet the migrations schedule jobs and the health view reads cron.job and
-- cron.job_run_details. Here they get pg_cron 1.4's tables and cron.schedule/unschedule with the
-- same signatures; jobs are stored, never run (the real scheduler in `postgres` can still run
-- commands here with cron.schedule_in_database).
-- Real: https://github.com/citusdata/pg_cron
-- Safe to re-run. Skipped in the cron database itself.
select current_database() <> coalesce(current_setting('cron.database_name', true), '') as is_elsewhere \gset
\if :is_elsewhere
create schema if not exists cron;
revoke all on schema cron from public;

create table if not exists cron.job (
  jobid bigserial primary key,
  schedule text not null,
  command text not null,
  nodename text not null default 'localhost',
  nodeport integer not null default 5432,
  database text not null default current_database(),
  username text not null default current_user,
  active boolean not null default true,
  jobname name unique -- name, as in pg_cron (views that compare it deparse alike)
);

create table if not exists cron.job_run_details (
  jobid bigint,
  runid bigserial primary key,
  job_pid integer,
  database text,
  username text,
  command text,
  status text,
  return_message text,
  start_time timestamptz,
  end_time timestamptz
);

create or replace function cron.schedule(job_name text, schedule text, command text)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  id bigint;
begin
  -- As pg_cron >= 1.3: scheduling an existing name updates that job.
  insert into cron.job (jobname, schedule, command) values (job_name, schedule, command)
  on conflict (jobname) do update set schedule = excluded.schedule, command = excluded.command, active = true
  returning jobid into id;
  return id;
end $$;

create or replace function cron.unschedule(job_name name)
returns boolean
language plpgsql
set search_path = ''
as $$
begin
  delete from cron.job where jobname = job_name;
  if not found then
    raise exception 'could not find valid entry for job ''%''', job_name;
  end if;
  return true;
end $$;
\endif
