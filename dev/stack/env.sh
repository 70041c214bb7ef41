# Shared settings for the local throwaway stack. Sourced, not run.
# The port is deliberately not 54322: the Supabase CLI treats that one as its own Docker stack.
STACK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
# The checkout's own state, owned by whoever runs db:up: where the cluster lives (CLUSTER_POINTER),
# the pg_net worker's pid and log, test reports.
STATE_DIR="$STACK_ROOT/.local"
CLUSTER_POINTER="$STATE_DIR/cluster-dir"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_PORT="${PG_PORT:-55432}"
LOCAL_DATABASE_URL="postgresql://postgres:postgres@127.0.0.1:${PG_PORT}/postgres"
# The Supabase CLI wants TLS unless told otherwise; the local cluster has none.
LOCAL_DATABASE_URL_CLI="${LOCAL_DATABASE_URL}?sslmode=disable"

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
