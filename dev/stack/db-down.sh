#!/usr/bin/env bash
# Stops the pg_net stand-in worker and the local cluster, and removes what db:up made: the
# cluster's folder (inside the checkout or in /var/tmp) and the checkout's .local.
set -euo pipefail
source "$(dirname "$0")/env.sh"
log() { echo "db:down: $*" >&2; }
if [ -f "$STATE_DIR/pg-net-worker.pid" ]; then
  kill "$(cat "$STATE_DIR/pg-net-worker.pid")" 2>/dev/null || true
fi
if [ -n "$PGDATA_DIR" ] && [ -f "$PGDATA_DIR/PG_VERSION" ]; then
  as_cluster_user "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1 || true
  if as_cluster_user "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
    log "the cluster in $PGDATA_DIR is still running (started by another OS user?); nothing removed"
    exit 1
  fi
fi
# The pointer is a file anyone could edit: remove only a folder db:up could have made.
case "$CLUSTER_DIR" in
  "" | "$STATE_DIR" | "$STATE_DIR"/*) ;;
  /var/tmp/truthful-job-status-*) rm -rf "$CLUSTER_DIR" ;;
  *) log "not removing $CLUSTER_DIR: db:up never puts a cluster there" ;;
esac
rm -rf "$STATE_DIR"
log "stopped and removed ${CLUSTER_DIR:+$CLUSTER_DIR and }$STATE_DIR"
