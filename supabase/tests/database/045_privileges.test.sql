-- Who may do what, as grants (RLS, tested in 040, then narrows the rows). API roles reach only
-- public's tables, the view and the report functions; the machinery in jobs_private is the owner's.
begin;
\ir _helpers.psql
set local search_path = extensions, public;
select plan(32);

-- Tables and the view: signed-in users read (RLS narrows it), the service role writes, anon nothing.
select table_privs_are('public', 'local_training_jobs', 'anon', array[]::text[], 'anon has no rights on the jobs table');
select table_privs_are('public', 'local_training_jobs', 'authenticated', array['SELECT'],
  'signed-in users may only read the jobs table (as a table)');
select table_privs_are('public', 'local_training_jobs', 'service_role',
  array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'],
  'the service role (the backend''s writer) has every right on the jobs table');
select column_privs_are('public', 'local_training_jobs', 'status', 'authenticated', array['SELECT', 'UPDATE'],
  'signed-in users may update status (the trigger turns it into a cancel request)');
select column_privs_are('public', 'local_training_jobs', 'cancel_requested_at', 'authenticated', array['SELECT', 'UPDATE'],
  'signed-in users may request a cancel');
select column_privs_are('public', 'local_training_jobs', 'heartbeat_at', 'authenticated', array['SELECT'],
  'signed-in users cannot forge a heartbeat');
select column_privs_are('public', 'local_training_jobs', 'status_reason', 'authenticated', array['SELECT'],
  'signed-in users cannot write a reason');
select table_privs_are('public', 'local_training_jobs_effective', 'anon', array[]::text[], 'anon has no rights on the view');
select table_privs_are('public', 'local_training_jobs_effective', 'authenticated', array['SELECT'],
  'signed-in users may read the view');
select table_privs_are('public', 'local_training_job_history', 'anon', array[]::text[], 'anon has no rights on the history');
select table_privs_are('public', 'local_training_job_history', 'authenticated', array['SELECT'],
  'signed-in users may only read the history: only the trigger writes it');
select table_privs_are('public', 'job_staleness_policy', 'anon', array[]::text[], 'anon has no rights on the policy');
select table_privs_are('public', 'job_staleness_policy', 'authenticated', array['SELECT'],
  'signed-in users may only read the policy (the view needs it)');

-- The private schema: closed to API users; the service role may call what is granted to it.
select schema_privs_are('jobs_private', 'anon', array[]::text[], 'anon has no access to the private schema');
select schema_privs_are('jobs_private', 'authenticated', array[]::text[], 'signed-in users have no access to the private schema');
select schema_privs_are('jobs_private', 'service_role', array['USAGE'], 'the service role may use the private schema');
select table_privs_are('jobs_private', 'reconcile_passes', 'service_role', array[]::text[],
  'the pass records are the reconciler''s (the database owner''s) alone');
select table_privs_are('jobs_private', 'reconcile_health', 'authenticated', array[]::text[],
  'signed-in users cannot read the health view');

-- Functions: reports are the service role's; the pass's calls are the owner's.
select function_privs_are('public', 'report_job_status', array['uuid', 'integer', 'bigint', 'text', 'double precision', 'text'],
  'authenticated', array[]::text[], 'signed-in users cannot report a status');
select function_privs_are('public', 'report_job_status', array['uuid', 'integer', 'bigint', 'text', 'double precision', 'text'],
  'service_role', array['EXECUTE'], 'the service role may report a status');
select function_privs_are('public', 'report_job_statuses',
  array['uuid[]', 'integer[]', 'bigint[]', 'text[]', 'double precision[]', 'text[]'],
  'authenticated', array[]::text[], 'signed-in users cannot report statuses in a batch');
select function_privs_are('public', 'report_job_statuses',
  array['uuid[]', 'integer[]', 'bigint[]', 'text[]', 'double precision[]', 'text[]'],
  'service_role', array['EXECUTE'], 'the service role may report statuses in a batch');
select function_privs_are('public', 'start_job_attempt', array['uuid'], 'anon', array[]::text[], 'anon cannot resume a job');
select function_privs_are('public', 'start_job_attempt', array['uuid'], 'service_role', array['EXECUTE'],
  'the service role may resume a job');
select function_privs_are('jobs_private', 'claim_reconcile_pass',
  array['uuid', 'text', 'interval', 'boolean', 'integer', 'integer'], 'service_role', array[]::text[],
  'only the owner claims a pass');
select function_privs_are('jobs_private', 'finish_reconcile_pass', array['jsonb'], 'service_role', array[]::text[],
  'only the owner finishes a pass');
select function_privs_are('jobs_private', 'apply_reconcile_changes',
  array['uuid', 'interval', 'jsonb', 'uuid[]', 'text[]', 'boolean[]'], 'service_role', array[]::text[],
  'only the owner applies a page of changes');
select function_privs_are('jobs_private', 'reconcile_change_rows', array['jsonb'], 'authenticated', array[]::text[],
  'signed-in users cannot call the apply''s row reader');
select function_privs_are('jobs_private', 'invoke_reconcile_jobs', array['text'], 'service_role', array[]::text[],
  'only the owner (pg_cron) invokes the function');
select function_privs_are('jobs_private', 'is_presumed_dead', array['text', 'jsonb'], 'service_role', array['EXECUTE'],
  'report_job_status() may ask, as the service role, whether a failure was presumed');
-- A constant every writer's and reader's plan folds in (index predicate, RLS, the view).
select function_privs_are('jobs_private', 'active_statuses', array[]::text[], 'authenticated', array['EXECUTE'],
  'the list of active statuses is readable by whoever writes or reads jobs');
select function_privs_are('jobs_private', 'record_status_change', array[]::text[], 'authenticated', array[]::text[],
  'signed-in users cannot call the history trigger''s function');

select * from finish();
rollback;
