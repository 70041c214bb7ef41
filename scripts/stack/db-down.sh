#!/usr/bin/env bash
# Stops the pg_net stand-in worker and the local cluster, and removes both: the stack is throwaway.
set -euo pipefail
source "$(dirname "$0")/env.sh"
if [ -f "$STACK_DIR/pg-net-worker.pid" ]; then
  kill "$(cat "$STACK_DIR/pg-net-worker.pid")" 2>/dev/null || true
fi
if [ -f "$PGDATA_DIR/PG_VERSION" ]; then
  as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1 || true
fi
rm -rf "$STACK_DIR"
echo "db:down: stopped and removed $STACK_DIR" >&2
