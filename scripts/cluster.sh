#!/usr/bin/env bash
# The local PostgreSQL cluster of `make run`, `make test` and `make bench`.
#   scripts/cluster.sh start|stop|psql|status|url
# Environment: SK_RUN_DIR (default .run), SK_PGPORT (default 54329), SK_PG_FAST=1 for
# a throwaway cluster without fsync (tests).
set -euo pipefail
cd "$(dirname "$0")/.."

PGBIN=$(pg_config --bindir)
RUN_DIR=$(mkdir -p "${SK_RUN_DIR:-.run}" && cd "${SK_RUN_DIR:-.run}" && pwd)
PORT=${SK_PGPORT:-54329}
DATA="$RUN_DIR/data"
LOG="$RUN_DIR/postgres.log"

# PostgreSQL refuses to run as root: as root, run it as the postgres user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

psql_admin() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$RUN_DIR" -p "$PORT" -U postgres "$@"; }

start() {
  if [ ! -s "$DATA/PG_VERSION" ]; then
    [ "$(id -u)" -eq 0 ] && chown postgres "$RUN_DIR"
    # Byte-order collation: ids, keys and SKUs compare with memcmp instead of strcoll in
    # every index lookup; text is still UTF-8 and classified by C.UTF-8.
    as_pg "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --lc-collate=C >/dev/null
    cat >>"$DATA/postgresql.conf" <<CONF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$RUN_DIR'
shared_preload_libraries = 'sk_inventory'
max_connections = 200
shared_buffers = 512MB
log_min_messages = warning
# Fewer, smaller full-page images: checkpoints by time rather than by WAL volume (a
# batch of 1000 movements writes ~2 MB), and the images compressed.
max_wal_size = 4GB
wal_compression = lz4
CONF
    if [ "${SK_PG_FAST:-0}" = 1 ]; then
      # Only an OS crash could lose data without fsync; every commit still reaches the
      # WAL before it is acknowledged, so tests that kill PostgreSQL see what they wrote.
      printf 'fsync = off\nfull_page_writes = off\n' >>"$DATA/postgresql.conf"
    fi
  fi
  if ! as_pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] && chown postgres "$RUN_DIR" && touch "$LOG" && chown postgres "$LOG"
    as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null
  fi
  psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'sk'" | grep -q 1 ||
    psql_admin -d postgres -c "CREATE DATABASE sk"
  psql_admin -d sk <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS sk_inventory;
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sk_shim') THEN
    CREATE ROLE sk_shim LOGIN IN ROLE sk_api;
  END IF;
END $$;
SQL
}

case "${1:-}" in
  start) start ;;
  stop)
    if [ -s "$DATA/PG_VERSION" ]; then as_pg "$PGBIN/pg_ctl" -D "$DATA" -m "${2:-fast}" -w stop >/dev/null 2>&1 || true; fi ;;
  status) as_pg "$PGBIN/pg_ctl" -D "$DATA" status ;;
  psql) shift; exec "$PGBIN/psql" -h "$RUN_DIR" -p "$PORT" -U postgres -d sk "$@" ;;
  url) echo "host=$RUN_DIR port=$PORT dbname=sk user=sk_shim" ;;
  *) echo "usage: $0 start|stop [mode]|status|psql|url" >&2; exit 2 ;;
esac
