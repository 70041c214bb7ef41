#!/usr/bin/env bash
# Stops the local cluster and removes it: the stack is throwaway by design.
set -euo pipefail
source "$(dirname "$0")/env.sh"
if [ -f "$PGDATA_DIR/PG_VERSION" ]; then
  as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1 || true
fi
rm -rf "$STACK_DIR"
echo "db:down: stopped and removed $STACK_DIR" >&2
