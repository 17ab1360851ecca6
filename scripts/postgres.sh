#!/usr/bin/env bash
# A throwaway PostgreSQL server for the storage tests, from Debian's packages.
#
#   bash scripts/postgres.sh start   # installs the server if missing, starts it on
#                                    # 127.0.0.1:54329, prints its URL on the last line
#   bash scripts/postgres.sh stop    # stops it and removes its data directory
#
# The server runs as the `postgres` user (initdb refuses root); its data lives under /tmp.
set -euo pipefail

PORT=${FERROTUNE_PG_PORT:-54329}
DATA=${FERROTUNE_PG_DATA:-/tmp/ferrotune-pg-$PORT}
DB=ferrotune_test
ROLE=ferrotune
PASS=ferrotune

pg_bin() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then
        echo "$d"
    fi
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

start() {
    local bin
    bin=$(pg_bin)
    if [ -z "$bin" ]; then
        echo "installing postgresql from Debian's packages" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq postgresql >&2
        bin=$(pg_bin)
    fi
    if [ -z "$bin" ]; then
        echo "postgresql server binaries not found" >&2
        exit 1
    fi
    if [ -f "$DATA/postmaster.pid" ] && as_postgres "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        echo "postgresql already running on port $PORT" >&2
    else
        rm -rf "$DATA"
        mkdir -p "$DATA"
        if [ "$(id -u)" -eq 0 ]; then
            chown postgres:postgres "$DATA"
        fi
        chmod 700 "$DATA"
        as_postgres "$bin/initdb" -D "$DATA" -A trust -U postgres >/dev/null
        # Tuned for throwaway test data: no fsync, small memory.
        as_postgres "$bin/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 \
            -o "-h 127.0.0.1 -p $PORT -k $DATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >&2
        "$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
            -c "CREATE ROLE $ROLE LOGIN PASSWORD '$PASS'" \
            -c "CREATE DATABASE $DB OWNER $ROLE" >&2
    fi
    echo "postgresql+psycopg://$ROLE:$PASS@127.0.0.1:$PORT/$DB"
}

stop() {
    local bin
    bin=$(pg_bin)
    if [ -n "$bin" ] && [ -f "$DATA/postmaster.pid" ]; then
        as_postgres "$bin/pg_ctl" -D "$DATA" -m fast -w stop >&2 || true
    fi
    rm -rf "$DATA"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
