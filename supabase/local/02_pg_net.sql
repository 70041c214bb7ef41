-- LOCAL STAND-IN for pg_net (Supabase's async HTTP extension), the SQL half.
-- Not a migration: hosted projects enable the real `pg_net` extension. Same schema (`net`),
-- tables (net.http_request_queue, net._http_response) and function signatures as pg_net 0.x.
-- Like the real one, net.http_post only queues a row; nothing is sent until the queuing
-- transaction commits. The sender is dev/stack/pg-net-worker.ts, which a NOTIFY wakes
-- (the real extension's background worker polls the queue the same way).
-- Real: https://github.com/supabase/pg_net
-- Safe to re-run.

create schema if not exists net;
revoke all on schema net from public;
grant usage on schema net to postgres, service_role;

create unlogged table if not exists net.http_request_queue (
  id bigserial not null,
  method text not null,
  url text not null,
  headers jsonb not null,
  body bytea null,
  timeout_milliseconds integer not null
);

create unlogged table if not exists net._http_response (
  id bigint null,
  status_code integer null,
  content_type text null,
  headers jsonb null,
  content text null,
  timed_out boolean null,
  error_msg text null,
  created timestamptz not null default now()
);
create index if not exists _http_response_created_idx on net._http_response (created);

create or replace function net._encode_url_with_params(url text, params jsonb)
returns text
language sql immutable
as $$
  select case
    when params is null or params = '{}'::jsonb then url
    else url || case when strpos(url, '?') > 0 then '&' else '?' end || (
      select string_agg(format('%s=%s', key, value), '&') from jsonb_each_text(params)
    )
  end
$$;

create or replace function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language plpgsql volatile security definer set search_path = ''
as $$
declare
  request_id bigint;
begin
  if url is null or url = '' then
    raise exception 'net.http_post: url must not be empty';
  end if;
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values ('POST', net._encode_url_with_params(url, params), headers,
          convert_to(body::text, 'UTF8'), timeout_milliseconds)
  returning id into request_id;
  -- Delivered only on commit, which gives the worker pg_net's "sent after commit" behaviour.
  perform pg_notify('pg_net_stand_in', request_id::text);
  return request_id;
end $$;

create or replace function net.http_get(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language plpgsql volatile security definer set search_path = ''
as $$
declare
  request_id bigint;
begin
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values ('GET', net._encode_url_with_params(url, params), headers, null, timeout_milliseconds)
  returning id into request_id;
  perform pg_notify('pg_net_stand_in', request_id::text);
  return request_id;
end $$;

revoke all on all tables in schema net from public, anon, authenticated;
revoke all on all functions in schema net from public, anon, authenticated;
grant execute on function net.http_post(text, jsonb, jsonb, jsonb, integer), net.http_get(text, jsonb, jsonb, integer) to postgres, service_role;
grant select on net._http_response to postgres, service_role;
