#!/usr/bin/env bash
# A private PostgreSQL server for the run store's tests and local distributed runs.
#
#   scripts/postgres.sh start  [--dir DIR] [--port P]   initdb (first time), start, create database `tinyforge`, print the URL
#   scripts/postgres.sh stop   [--dir DIR] [--port P]   fast shutdown (no-op when not running)
#   scripts/postgres.sh status [--dir DIR] [--port P]   exit 0 when running, 3 when not
#   scripts/postgres.sh url    [--dir DIR] [--port P]   print postgres://postgres@127.0.0.1:P/tinyforge
#
# Defaults: port 55432, data directory /tmp/tinyforge-pg-PORT. The server listens on 127.0.0.1
# only, with trust authentication (a test server: anyone on this machine may connect; never use
# it for data that matters). initdb and postgres refuse to run as root, so as root the data
# directory is owned by, and the server runs as, the `postgres` user. `start` is idempotent: a
# running server is left alone and its URL printed. Needs Debian's `postgresql` package
# (scripts/install-deps.sh installs it).
set -euo pipefail

cmd="${1:-}"; shift || true
PORT=55432
DIR=""
while [ $# -gt 0 ]; do
    case "$1" in
        --port) PORT="${2:?--port needs a value}"; shift 2 ;;
        --dir) DIR="${2:?--dir needs a value}"; shift 2 ;;
        *) echo "postgres.sh: unknown argument '$1' (usage: postgres.sh start|stop|status|url [--dir DIR] [--port P])" >&2; exit 2 ;;
    esac
done
case "$PORT" in ''|*[!0-9]*) echo "postgres.sh: --port $PORT is not a number" >&2; exit 2 ;; esac
DIR="${DIR:-${TMPDIR:-/tmp}/tinyforge-pg-$PORT}"
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
DB=tinyforge
URL="postgres://postgres@127.0.0.1:$PORT/$DB"

BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
need_bin() {
    [ -n "$BIN" ] && [ -x "$BIN/pg_ctl" ] || {
        echo "postgres.sh: PostgreSQL server binaries not found under /usr/lib/postgresql; install them: apt-get install -y postgresql (or scripts/install-deps.sh)" >&2
        exit 1
    }
}

# Runs a server binary as the data directory's owner (the `postgres` user when we are root).
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

running() { [ -f "$DIR/PG_VERSION" ] && as_owner "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; }

psql_q() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }

start() {
    need_bin
    if running; then echo "$URL"; return 0; fi
    if [ ! -f "$DIR/PG_VERSION" ]; then
        mkdir -p "$DIR"
        [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
        chmod 700 "$DIR"
        as_owner "$BIN/initdb" -D "$DIR" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$DIR.initdb.log" 2>&1 || {
            echo "postgres.sh: initdb failed (log: $DIR.initdb.log):" >&2; tail -5 "$DIR.initdb.log" >&2; exit 1
        }
    fi
    as_owner "$BIN/pg_ctl" -D "$DIR" -w -t 60 -l "$DIR/server.log" \
        -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1" start >/dev/null || {
        echo "postgres.sh: the server did not start (log: $DIR/server.log):" >&2; tail -5 "$DIR/server.log" >&2 || true; exit 1
    }
    if [ "$(psql_q -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
        psql_q -d postgres -c "CREATE DATABASE $DB" >/dev/null
    fi
    echo "$URL"
}

stop() {
    need_bin
    if running; then as_owner "$BIN/pg_ctl" -D "$DIR" -m fast -w stop >/dev/null; echo "postgres.sh: stopped the server in $DIR"; fi
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    status)
        need_bin
        if running; then echo "running: $URL (data $DIR)"; else echo "not running (data $DIR)"; exit 3; fi ;;
    url) echo "$URL" ;;
    *) echo "usage: scripts/postgres.sh start|stop|status|url [--dir DIR] [--port P]" >&2; exit 2 ;;
esac
