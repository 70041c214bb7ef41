-- Every ten minutes, pg_cron asks pg_net to POST to the reconcile-jobs Edge Function (one POST per
-- shard), with the URL and secret read from Vault: Supabase's recipe, with its weak spots closed
-- (missing secrets fail loudly, every request id is recorded, the timeout covers the deadline).
-- Vault secrets reconcile_jobs_url and reconcile_jobs_secret: `npm run secrets:set` (cli/set-vault-secrets.ts).

-- On Supabase both are available; pg_cron lives in the `cron` schema, pg_net in `net`.
-- An existing schema means the extension (or, off Supabase, a stand-in) is already there.
do $$
begin
  if exists (select from pg_available_extensions where name = 'pg_cron')
     and not exists (select from pg_namespace where nspname = 'cron') then
    create extension pg_cron with schema pg_catalog;
  end if;
  if exists (select from pg_available_extensions where name = 'pg_net')
     and not exists (select from pg_namespace where nspname = 'net') then
    create extension pg_net with schema extensions;
  end if;
end $$;

-- How many passes one tick runs side by side, each over one range of job ids:
--   update jobs_private.reconcile_settings set shards = 4;
create table if not exists jobs_private.reconcile_settings (
  id boolean primary key default true constraint reconcile_settings_one_row check (id),
  shards integer not null default 1 constraint reconcile_settings_shards_in_range check (shards between 1 and 256)
);
comment on table jobs_private.reconcile_settings is
  'One row. shards: how many reconcile passes one tick runs side by side, each over 1/shards of the job ids (README "Size").';
revoke all on table jobs_private.reconcile_settings from public, anon, authenticated;
alter table jobs_private.reconcile_settings enable row level security;
insert into jobs_private.reconcile_settings (id, shards) values (true, 1) on conflict (id) do nothing;

create table if not exists jobs_private.reconcile_invocations (
  request_id bigint primary key,
  trigger text not null,
  requested_at timestamptz not null default now()
);
comment on table jobs_private.reconcile_invocations is
  'Each HTTP request queued to the reconcile-jobs function (pg_net request id), so the health view can join net._http_response: a green cron run only means a request was queued.';
revoke all on table jobs_private.reconcile_invocations from public, anon, authenticated;

-- A Vault secret by name, or a clear error: never an empty URL or secret on the wire.
create function jobs_private.reconcile_vault_secret(secret_name text)
returns text
language plpgsql stable
set search_path = ''
as $$
declare
  value text;
begin
  select decrypted_secret into value from vault.decrypted_secrets where name = secret_name;
  if coalesce(value, '') = '' then
    raise exception 'reconcile-training-jobs: Vault secret % is missing or empty; no request was sent', secret_name
      using hint = 'Set it with vault.create_secret(...) as shown in the README, section Deploy.';
  end if;
  return value;
end $$;
revoke all on function jobs_private.reconcile_vault_secret(text) from public, anon, authenticated;

-- What the cron job runs. Only HTTP calls: the reconciliation itself is the function's.
-- 70 s: the function's default deadline is 60 s, plus the apply and the round trip.
-- Returns the first request id (the only one when shards = 1).
create function jobs_private.invoke_reconcile_jobs(trigger text default 'cron')
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  url text := jobs_private.reconcile_vault_secret('reconcile_jobs_url');
  secret text := jobs_private.reconcile_vault_secret('reconcile_jobs_secret');
  n integer := coalesce((select shards from jobs_private.reconcile_settings), 1);
  request_id bigint;
  first_id bigint;
begin
  for i in 0 .. n - 1 loop
    select net.http_post(
      url := url,
      body := case when n = 1 then jsonb_build_object('trigger', trigger)
                   else jsonb_build_object('trigger', trigger, 'shard', i, 'shards', n) end,
      headers := jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || secret),
      timeout_milliseconds := 70000
    ) into request_id;
    insert into jobs_private.reconcile_invocations (request_id, trigger) values (request_id, trigger);
    first_id := coalesce(first_id, request_id);
  end loop;
  return first_id;
end $$;
revoke all on function jobs_private.invoke_reconcile_jobs(text) from public, anon, authenticated;
comment on function jobs_private.invoke_reconcile_jobs(text) is
  'Queues one POST to the reconcile-jobs Edge Function (pg_net), with URL and secret from Vault. Run by the cron job reconcile-training-jobs; call it by hand to reconcile now.';

-- Re-running cron.schedule with the same name updates the job instead of adding another.
select cron.schedule('reconcile-training-jobs', '*/10 * * * *', 'select jobs_private.invoke_reconcile_jobs(''cron'')');
