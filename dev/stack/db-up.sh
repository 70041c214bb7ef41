#!/usr/bin/env bash
# Brings up the local stack: a throwaway PostgreSQL 15 cluster with pg_cron, the platform
# stand-ins (auth, Vault, pg_net), and supabase/migrations applied by the real Supabase CLI.
# Idempotent: a second run changes nothing and prints the same DATABASE_URL as its last line.
# Works from any folder the current user can write, as root or as a normal user.
set -euo pipefail
source "$(dirname "$0")/env.sh"
log() { echo "db:up: $*" >&2; }

ensure_packages() {
  local missing=()
  [ -x "$PG_BIN/postgres" ] || missing+=(postgresql-15)
  [ -f /usr/share/postgresql/15/extension/pg_cron.control ] || missing+=(postgresql-15-cron)
  [ -f /usr/share/postgresql/15/extension/pgtap.control ] || missing+=(postgresql-15-pgtap)
  [ -f /usr/share/postgresql/15/extension/plpgsql_check.control ] || missing+=(postgresql-15-plpgsql-check)
  command -v pg_prove >/dev/null || missing+=(postgresql-15-pgtap)
  [ ${#missing[@]} -eq 0 ] && return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" != 0 ]; then
    log "PostgreSQL 15 packages are missing. Install them as root, then run this again:"
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  log "installing ${missing[*]}"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

# The cluster's folder must be one its OS user can enter. Inside the checkout when it can; as root,
# when the checkout sits in a folder `postgres` cannot enter (a mode-700 home, any `mktemp -d`),
# in /var/tmp under a name derived from the checkout's path, so two checkouts never share one.
# /var/tmp, not /tmp: it is not a RAM disk and survives a reboot.
choose_cluster_dir() {
  mkdir -p "$STATE_DIR"
  if [ -n "$CLUSTER_DIR" ] && [ -d "$CLUSTER_DIR" ]; then return 0; fi
  if [ -f "$STATE_DIR/pgdata/PG_VERSION" ]; then
    CLUSTER_DIR="$STATE_DIR"   # a cluster made before this layout: keep using it
  elif [ "$(id -u)" != 0 ] || runuser -u postgres -- test -x "$STATE_DIR" 2>/dev/null; then
    CLUSTER_DIR="$STATE_DIR/cluster"
    mkdir -p -m 700 "$CLUSTER_DIR"
    [ "$(id -u)" != 0 ] || chown postgres:postgres "$CLUSTER_DIR"
  else
    CLUSTER_DIR="/var/tmp/truthful-job-status-$(printf '%s' "$STACK_ROOT" | sha256sum | cut -c1-16)"
    log "the postgres OS user cannot enter $STACK_ROOT (a mode-700 folder on its path),"
    log "so the cluster lives outside the checkout, in $CLUSTER_DIR"
    if [ -e "$CLUSTER_DIR" ] || [ -L "$CLUSTER_DIR" ]; then
      # /var/tmp is shared by every user: adopt only a real folder that postgres owns.
      if [ -L "$CLUSTER_DIR" ] || [ "$(stat -c %U "$CLUSTER_DIR")" != postgres ]; then
        log "$CLUSTER_DIR exists and is not a folder owned by postgres: remove it, or move the checkout"
        exit 1
      fi
    else
      mkdir -m 700 "$CLUSTER_DIR"
      chown postgres:postgres "$CLUSTER_DIR"
    fi
  fi
  echo "$CLUSTER_DIR" >"$CLUSTER_POINTER"
  PGDATA_DIR="$CLUSTER_DIR/pgdata"
}

init_cluster() {
  [ -f "$PGDATA_DIR/PG_VERSION" ] && return 0
  log "creating a cluster (runs as OS user $CLUSTER_USER)"
  as_cluster_user "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >>"$PGDATA_DIR/postgresql.conf" <<CONF
# --- truthful-job-status local stack ---
port = $PG_PORT
listen_addresses = '127.0.0.1'
# TCP only: a socket's path must fit in 107 bytes, and a checkout's path may not. Every client
# here connects with DATABASE_URL (127.0.0.1), and pg_ctl -w watches postmaster.pid.
unix_socket_directories = ''
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

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The port the running cluster listens on (line 4 of postmaster.pid).
running_port() { as_cluster_user sed -n 4p "$PGDATA_DIR/postmaster.pid" 2>/dev/null; }

start_cluster() {
  if as_cluster_user "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
    local running
    running="$(running_port)"
    if [ -z "$PG_PORT_GIVEN" ] || [ "$PG_PORT_GIVEN" = "$running" ]; then
      PG_PORT="$running"
      remember_port
      return 0
    fi
    log "the cluster runs on port $running; restarting it on PG_PORT=$PG_PORT_GIVEN"
    as_cluster_user "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null
  fi
  # Another checkout's stack (or any server) on the port would make pg_ctl fail with no reason given.
  if port_taken "$PG_PORT"; then
    if [ -n "$PG_PORT_GIVEN" ]; then
      log "port $PG_PORT is already taken (another checkout's stack?): run again with another PG_PORT=<port>," \
        "or without PG_PORT and db:up picks a free one"
      exit 1
    fi
    local wanted="$PG_PORT" candidate
    for candidate in $(seq $((wanted + 1)) $((wanted + 200))); do
      if ! port_taken "$candidate"; then PG_PORT="$candidate"; break; fi
    done
    if [ "$PG_PORT" = "$wanted" ]; then
      log "ports $wanted to $((wanted + 200)) are all taken: run with PG_PORT=<free port>"
      exit 1
    fi
    log "port $wanted is taken (another checkout's stack?); this checkout uses port $PG_PORT from now on"
  fi
  # The cluster's configuration follows the port, so a later start (or pg_ctl by hand) uses it too.
  as_cluster_user sed -i "s/^port = .*/port = $PG_PORT/" "$PGDATA_DIR/postgresql.conf"
  log "starting postgres on port $PG_PORT"
  if ! as_cluster_user "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$CLUSTER_DIR/postgres.log" -w -t 60 start >/dev/null; then
    log "postgres did not start; its log, $CLUSTER_DIR/postgres.log, ends with:"
    tail -n 20 "$CLUSTER_DIR/postgres.log" >&2 || true
    exit 1
  fi
  remember_port
  # A pg_net worker of an earlier start talks to the old port: start it anew.
  if [ -f "$STATE_DIR/pg-net-worker.pid" ]; then
    kill "$(cat "$STATE_DIR/pg-net-worker.pid")" 2>/dev/null || true
    rm -f "$STATE_DIR/pg-net-worker.pid"
  fi
}

remember_port() {
  echo "$PG_PORT" >"$PORT_FILE"
  set_database_urls
}

load_stand_ins() {
  log "loading the stand-ins for auth, Vault and pg_net"
  # Each stand-in is written to be re-run safely; a re-run's NOTICEs ("already exists") are noise.
  for f in "$STACK_ROOT"/supabase/local/*.sql; do
    PGOPTIONS="-c client_min_messages=warning" psql "$LOCAL_DATABASE_URL" -v ON_ERROR_STOP=1 -q -f "$f" >/dev/null
  done
}

apply_migrations() {
  log "applying supabase/migrations (supabase db push)"
  # The CLI's output (and the NOTICEs it relays) is shown only when it fails.
  local out
  if ! out=$(cd "$STACK_ROOT" && npx --no-install supabase db push --db-url "$LOCAL_DATABASE_URL_CLI" --yes 2>&1); then
    printf '%s\n' "$out" >&2
    log "supabase db push failed (its output is above)"
    exit 1
  fi
}

start_pg_net_worker() {
  # The pg_net stand-in's sender, for the `postgres` database (where pg_cron runs).
  local pidfile="$STATE_DIR/pg-net-worker.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then return 0; fi
  log "starting the pg_net stand-in worker"
  DATABASE_URL="$LOCAL_DATABASE_URL" setsid nohup "$STACK_ROOT/node_modules/.bin/tsx" \
    "$STACK_ROOT/dev/stack/pg-net-worker.ts" >>"$STATE_DIR/pg-net-worker.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

ensure_packages
choose_cluster_dir
init_cluster
start_cluster
load_stand_ins
apply_migrations
start_pg_net_worker
log "data in $PGDATA_DIR (npm run db:down stops the cluster and removes it)"
echo "DATABASE_URL=$LOCAL_DATABASE_URL"
