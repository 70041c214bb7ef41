#!/usr/bin/env bash
# Brings up the local stack: a throwaway PostgreSQL 15 cluster with pg_cron, the platform
# stand-ins (auth, Vault, pg_net), and supabase/migrations applied by the real Supabase CLI.
# Idempotent: a second run changes nothing and prints the same DATABASE_URL as its last line.
set -euo pipefail
source "$(dirname "$0")/env.sh"
log() { echo "db:up: $*" >&2; }

install_missing_packages() {
  local missing=()
  [ -x "$PG_BIN/postgres" ] || missing+=(postgresql-15)
  [ -f /usr/share/postgresql/15/extension/pg_cron.control ] || missing+=(postgresql-15-cron)
  [ -f /usr/share/postgresql/15/extension/pgtap.control ] || missing+=(postgresql-15-pgtap)
  [ -f /usr/share/postgresql/15/extension/plpgsql_check.control ] || missing+=(postgresql-15-plpgsql-check)
  command -v pg_prove >/dev/null || missing+=(postgresql-15-pgtap)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

init_cluster() {
  [ -f "$PGDATA_DIR/PG_VERSION" ] && return 0
  log "creating cluster in $PGDATA_DIR"
  mkdir -p "$STACK_DIR"
  chown postgres:postgres "$STACK_DIR"
  as_postgres "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >> "$PGDATA_DIR/postgresql.conf" <<CONF
# --- truthful-job-status local stack ---
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$STACK_DIR'
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
# Background workers: pg_cron runs jobs without a libpq login, as on Supabase.
cron.use_background_workers = on
max_worker_processes = 32
max_connections = 200
timezone = 'UTC'
fsync = on
CONF
}

start_cluster() {
  if as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then return 0; fi
  # Another checkout's stack (or any server) on the port would make pg_ctl fail with no reason given.
  if (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null; then
    log "port $PG_PORT is already taken (another checkout's stack?): stop it, or run with PG_PORT=<free port>"
    exit 1
  fi
  log "starting postgres on port $PG_PORT"
  as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$STACK_DIR/postgres.log" -w -t 60 start >/dev/null
}

load_stand_ins() {
  # Each stand-in is written to be re-run safely.
  for f in "$STACK_ROOT"/supabase/local/*.sql; do
    psql "$LOCAL_DATABASE_URL" -v ON_ERROR_STOP=1 -q -f "$f" >/dev/null
  done
}

apply_migrations() {
  (cd "$STACK_ROOT" && npx --no-install supabase db push --db-url "$LOCAL_DATABASE_URL_CLI" --yes) >&2
}

start_pg_net_worker() {
  # The pg_net stand-in's sender, for the `postgres` database (where pg_cron runs).
  local pidfile="$STACK_DIR/pg-net-worker.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then return 0; fi
  log "starting the pg_net stand-in worker"
  DATABASE_URL="$LOCAL_DATABASE_URL" setsid nohup "$STACK_ROOT/node_modules/.bin/tsx" \
    "$STACK_ROOT/scripts/stack/pg-net-worker.ts" >>"$STACK_DIR/pg-net-worker.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

install_missing_packages
init_cluster
start_cluster
load_stand_ins
apply_migrations
start_pg_net_worker
echo "DATABASE_URL=$LOCAL_DATABASE_URL"
