-- The public interface (docs/public-interface.md): what apps, writers and operators may rely on.
-- A rename, a dropped column or a changed grant here is a breaking change, so it breaks this file.
begin;
\ir _helpers.psql
set local search_path = extensions, public;
select plan(33);

-- The effective view: its columns, and who may read it.
select has_view('public', 'local_training_jobs_effective', 'the effective view exists');
select columns_are('public', 'local_training_jobs_effective', array[
  'id', 'user_id', 'model_name', 'status', 'config', 'started_at', 'completed_at', 'created_at', 'updated_at',
  'status_reason', 'status_evidence', 'backend_url', 'attempt', 'progress', 'effective_status', 'stale_since',
  'last_heard_at', 'silent_for', 'heartbeat_at', 'confirmed_at', 'cancel_requested_at', 'cancel_answer'
], 'the effective view has the documented columns');
select col_type_is('public', 'local_training_jobs_effective', 'effective_status', 'text', 'effective_status is text');
select col_type_is('public', 'local_training_jobs_effective', 'stale_since', 'timestamp with time zone',
  'stale_since is a timestamptz');
select col_type_is('public', 'local_training_jobs_effective', 'last_heard_at', 'timestamp with time zone',
  'last_heard_at is a timestamptz');
select col_type_is('public', 'local_training_jobs_effective', 'silent_for', 'interval', 'silent_for is an interval');
select table_privs_are('public', 'local_training_jobs_effective', 'authenticated', array['SELECT'],
  'signed-in users may read the effective view');
select table_privs_are('public', 'local_training_jobs_effective', 'anon', array[]::text[], 'anon cannot read the effective view');

-- The writers' functions: signatures, results, and only the service role may call them.
select has_function('public', 'report_job_status', array['uuid', 'integer', 'bigint', 'text', 'double precision', 'text'],
  'report_job_status(job, attempt, seq, status, progress, error) exists');
select function_returns('public', 'report_job_status', array['uuid', 'integer', 'bigint', 'text', 'double precision', 'text'],
  'jsonb', 'report_job_status returns jsonb');
select function_privs_are('public', 'report_job_status', array['uuid', 'integer', 'bigint', 'text', 'double precision', 'text'],
  'service_role', array['EXECUTE'], 'the service role may report a status');
select function_privs_are('public', 'report_job_status', array['uuid', 'integer', 'bigint', 'text', 'double precision', 'text'],
  'anon', array[]::text[], 'anon cannot report a status');
select has_function('public', 'report_job_statuses',
  array['uuid[]', 'integer[]', 'bigint[]', 'text[]', 'double precision[]', 'text[]'], 'report_job_statuses exists');
select function_returns('public', 'report_job_statuses',
  array['uuid[]', 'integer[]', 'bigint[]', 'text[]', 'double precision[]', 'text[]'], 'setof record',
  'report_job_statuses returns a table');
select is(
  (select pg_get_function_result('public.report_job_statuses(uuid[], integer[], bigint[], text[], double precision[], text[])'::regprocedure)),
  'TABLE(ord integer, job_id uuid, outcome text, status text, attempt integer, seq bigint, cancel_requested boolean, error_code text, error text)',
  'report_job_statuses answers the documented columns');
select function_privs_are('public', 'report_job_statuses',
  array['uuid[]', 'integer[]', 'bigint[]', 'text[]', 'double precision[]', 'text[]'],
  'service_role', array['EXECUTE'], 'the service role may report statuses in a batch');
select function_privs_are('public', 'report_job_statuses',
  array['uuid[]', 'integer[]', 'bigint[]', 'text[]', 'double precision[]', 'text[]'],
  'authenticated', array[]::text[], 'signed-in users cannot report statuses');
select has_function('public', 'start_job_attempt', array['uuid'], 'start_job_attempt(job) exists');
select function_returns('public', 'start_job_attempt', array['uuid'], 'integer', 'start_job_attempt returns the new attempt');
select function_privs_are('public', 'start_job_attempt', array['uuid'], 'service_role', array['EXECUTE'],
  'the service role may resume a job');
select function_privs_are('public', 'start_job_attempt', array['uuid'], 'authenticated', array[]::text[],
  'signed-in users cannot resume a job');

-- The operator's tables.
select has_table('public', 'job_staleness_policy', 'the staleness policy exists');
select columns_are('public', 'job_staleness_policy', array['status', 'stale_after', 'reasoning'],
  'the staleness policy has status, stale_after and reasoning');
select table_privs_are('public', 'job_staleness_policy', 'authenticated', array['SELECT'],
  'signed-in users may only read the policy');
select table_privs_are('public', 'job_staleness_policy', 'anon', array[]::text[], 'anon has no rights on the policy');
select has_table('jobs_private', 'reconcile_settings', 'the reconcile settings exist');
select columns_are('jobs_private', 'reconcile_settings', array[
  'id', 'shards', 'pass_interval', 'hard_timeout', 'grace', 'guard_share', 'guard_min_jobs', 'page_size', 'concurrency',
  'request_timeout', 'deadline', 'max_status_bytes', 'max_list_bytes', 'backend_url'
], 'the reconcile settings hold every setting');
select function_returns('jobs_private', 'configure_reconciler',
  array['interval', 'interval', 'interval', 'double precision', 'integer', 'integer', 'integer', 'interval', 'interval',
        'integer', 'integer', 'integer', 'text'], 'jsonb', 'configure_reconciler() takes every setting and returns them');
select function_privs_are('jobs_private', 'configure_reconciler',
  array['interval', 'interval', 'interval', 'double precision', 'integer', 'integer', 'integer', 'interval', 'interval',
        'integer', 'integer', 'integer', 'text'], 'service_role', array[]::text[],
  'configure_reconciler() is the owner''s alone');
select table_privs_are('jobs_private', 'reconcile_settings', 'service_role', array[]::text[],
  'the reconcile settings are the owner''s alone');

-- The health view.
select has_view('jobs_private', 'reconcile_health', 'the health view exists');
select columns_are('jobs_private', 'reconcile_health', array[
  'status', 'why', 'last_success_at', 'since_last_success', 'overdue', 'failed_calls_24h', 'last_failed_calls',
  'failed_cron_runs_24h', 'last_failed_cron_runs', 'held_passes_24h', 'unreachable_passes_24h', 'last_pass',
  'rejected_changes_24h', 'misconfigured_backends', 'shard_passes'
], 'the health view has the documented columns');
select table_privs_are('jobs_private', 'reconcile_health', 'service_role', array[]::text[],
  'the health view is the owner''s alone (read it in the SQL editor)');

select * from finish();
rollback;
