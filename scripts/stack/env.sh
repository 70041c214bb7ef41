# Shared settings for the local throwaway stack. Sourced, not run.
# The port is deliberately not 54322: the Supabase CLI treats that one as its own Docker stack.
STACK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK_DIR="${STACK_DIR:-$STACK_ROOT/.local}"
PGDATA_DIR="$STACK_DIR/pgdata"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_PORT="${PG_PORT:-55432}"
LOCAL_DATABASE_URL="postgresql://postgres:postgres@127.0.0.1:${PG_PORT}/postgres"
# The Supabase CLI wants TLS unless told otherwise; the local cluster has none.
LOCAL_DATABASE_URL_CLI="${LOCAL_DATABASE_URL}?sslmode=disable"
as_postgres() { runuser -u postgres -- "$@"; }
