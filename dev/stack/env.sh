# Shared settings for the local throwaway stack. Sourced, not run.
# The port is deliberately not 54322: the Supabase CLI treats that one as its own Docker stack.
STACK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
# The checkout's own state, owned by whoever runs db:up: where the cluster lives (CLUSTER_POINTER),
# the pg_net worker's pid and log, test reports.
STATE_DIR="$STACK_ROOT/.local"
CLUSTER_POINTER="$STATE_DIR/cluster-dir"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
# The checkout owns its port as it owns its cluster: PG_PORT when given (it wins on every start),
# else the port db:up chose and remembered beside the cluster pointer, else the default. When the
# default is taken, db:up picks a free one and remembers it.
PORT_FILE="$STATE_DIR/port"
PG_PORT_GIVEN="${PG_PORT:-}"
DEFAULT_PG_PORT="${TRUTHFUL_JOBS_DEFAULT_PG_PORT:-55432}"
if [ -n "$PG_PORT_GIVEN" ]; then
  PG_PORT="$PG_PORT_GIVEN"
elif [ -f "$PORT_FILE" ]; then
  PG_PORT="$(cat "$PORT_FILE")"
else
  PG_PORT="$DEFAULT_PG_PORT"
fi
set_database_urls() {
  LOCAL_DATABASE_URL="postgresql://postgres:postgres@127.0.0.1:${PG_PORT}/postgres"
  # The Supabase CLI wants TLS unless told otherwise; the local cluster has none.
  LOCAL_DATABASE_URL_CLI="${LOCAL_DATABASE_URL}?sslmode=disable"
}
set_database_urls

# postgres refuses to run as root, so as root the cluster runs as the `postgres` OS user (as
# Debian's own clusters do); any other user runs it as themselves, with no runuser or sudo.
if [ "$(id -u)" = 0 ]; then
  CLUSTER_USER=postgres
  # From /: postgres cannot enter the caller's folder when it sits in a mode-700 one, and
  # initdb/pg_ctl would say so ("could not change directory"). Every path given is absolute.
  as_cluster_user() { (cd / && runuser -u postgres -- "$@"); }
else
  CLUSTER_USER="$(id -un)"
  as_cluster_user() { "$@"; }
fi

# Where db:up put the cluster (see choose_cluster_dir in db-up.sh); empty before the first db:up.
CLUSTER_DIR=""
if [ -f "$CLUSTER_POINTER" ]; then CLUSTER_DIR="$(cat "$CLUSTER_POINTER")"; fi
PGDATA_DIR="${CLUSTER_DIR:+$CLUSTER_DIR/pgdata}"
