# shellcheck shell=bash
# A throwaway PostgreSQL cluster for tests: pg_start / pg_stop.
# Needs scripts/lib/common.sh sourced first, and Debian's `postgresql`.
#
# pg_start exports:
#   PG_TEST_URL   postgres://govoffice@127.0.0.1:PORT/govoffice_test
#   PG_TEST_PORT  the TCP port (listens on 127.0.0.1 only)
#   PG_TEST_DIR   the temp folder (data, socket, log), removed by pg_stop
# Set PG_KEEP_LOG=/some/file before pg_stop to keep the server log.
# Set PG_DURABLE=1 before pg_start for durable commits (fsync on; benchmarks), off otherwise;
# pg_durable on|off switches a running cluster (the crash test runs durable, as production does).

# Not inherited: a cluster belongs to the shell that started it.
PG_TEST_DIR=
PG_TEST_PORT=
unset PG_TEST_URL
PG_RUN_USER=
PG_BIN=

# pg_bindir: the folder with initdb/pg_ctl/postgres; newest version wins.
pg_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir=$(pg_config --bindir 2>/dev/null || true)
        if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    fi
    # pg_config may come from libpq-dev (client only): look at the servers.
    dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$dir" && -x "$dir/initdb" ]]; then
        printf '%s\n' "$dir"
        return 0
    fi
    if command -v initdb >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
        return 0
    fi
    warn "no PostgreSQL server binaries found (install Debian's postgresql)"
    return 1
}

# initdb and postgres refuse to run as root: as root, run them as the
# `postgres` system user (from Debian's package), or a user of our own.
_pg_pick_user() {
    PG_RUN_USER=
    ((EUID == 0)) || return 0
    if id -u postgres >/dev/null 2>&1; then
        PG_RUN_USER=postgres
    else
        if ! id -u govoffice-pg >/dev/null 2>&1; then
            useradd --system --no-create-home --home-dir /nonexistent \
                --shell /usr/sbin/nologin govoffice-pg || return 1
        fi
        PG_RUN_USER=govoffice-pg
    fi
}

# _pg_as_user CMD...: run CMD as the cluster's owner, from inside the temp
# folder (the owner may not be allowed into the caller's cwd).
_pg_as_user() {
    if [[ -n "$PG_RUN_USER" ]]; then
        (cd "$PG_TEST_DIR" && runuser -u "$PG_RUN_USER" -- "$@")
    else
        (cd "$PG_TEST_DIR" && "$@")
    fi
}

_pg_psql() {
    local psql=psql
    [[ -x "$PG_BIN/psql" ]] && psql="$PG_BIN/psql"
    "$psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_TEST_PORT" -U govoffice "$@"
}

# pg_start: create, start and fill the cluster; returns non-zero (and cleans
# up) on failure. Does not rely on set -e, so callers may use `if pg_start`.
pg_start() {
    local base attempt rc
    if [[ -n "$PG_TEST_DIR" && -d "$PG_TEST_DIR" ]]; then
        warn "pg_start: a cluster is already running in $PG_TEST_DIR"
        return 1
    fi
    PG_BIN=$(pg_bindir) || return 1
    _pg_pick_user || { warn "pg_start: cannot find or create a user to run postgres"; return 1; }
    # The postgres user must reach the folder: root's TMPDIR may be private.
    base=${TMPDIR:-/tmp}
    [[ -n "$PG_RUN_USER" ]] && base=/tmp
    PG_TEST_DIR=$(mktemp -d "$base/govoffice-pg.XXXXXX") || return 1
    mkdir -p "$PG_TEST_DIR/sock"
    if [[ -n "$PG_RUN_USER" ]]; then
        chown -R "$PG_RUN_USER" "$PG_TEST_DIR" || { pg_stop; return 1; }
    fi

    # The bootstrap superuser is `govoffice` itself: no extra role needed.
    rc=0
    _pg_as_user "$PG_BIN/initdb" -D "$PG_TEST_DIR/data" -U govoffice -A trust \
        -E UTF8 --locale=C.UTF-8 >"$PG_TEST_DIR/initdb.log" 2>&1 || rc=$?
    if ((rc != 0)); then
        # Systems without the C.UTF-8 locale: plain C still stores UTF-8.
        rm -rf "$PG_TEST_DIR/data"
        rc=0
        _pg_as_user "$PG_BIN/initdb" -D "$PG_TEST_DIR/data" -U govoffice -A trust \
            -E UTF8 --locale=C >>"$PG_TEST_DIR/initdb.log" 2>&1 || rc=$?
    fi
    if ((rc != 0)); then
        warn "initdb failed"
        cat "$PG_TEST_DIR/initdb.log" >&2
        pg_stop
        return 1
    fi

    local durable=off
    [[ -n "${PG_DURABLE:-}" ]] && durable=on
    # Settings for a disposable test server: loopback only, socket in our
    # folder (not /var/run/postgresql), durability off for speed.
    cat >>"$PG_TEST_DIR/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_TEST_DIR/sock'
fsync = $durable
synchronous_commit = $durable
full_page_writes = $durable
max_connections = 500
logging_collector = off
EOF

    # A free port can be taken between the check and the bind: try a few.
    for attempt in 1 2 3; do
        PG_TEST_PORT=$(free_port) || { pg_stop; return 1; }
        rc=0
        _pg_as_user "$PG_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/postgres.log" \
            -o "-p $PG_TEST_PORT" -w -t 60 start >>"$PG_TEST_DIR/pg_ctl.log" 2>&1 || rc=$?
        ((rc == 0)) && break
        warn "postgres did not start on port $PG_TEST_PORT (attempt $attempt)"
    done
    if ((rc != 0)); then
        cat "$PG_TEST_DIR/pg_ctl.log" "$PG_TEST_DIR/postgres.log" >&2 2>/dev/null || true
        pg_stop
        return 1
    fi

    if ! _pg_psql -d postgres -c 'CREATE DATABASE govoffice_test' >>"$PG_TEST_DIR/pg_ctl.log" 2>&1; then
        warn "could not create database govoffice_test"
        cat "$PG_TEST_DIR/pg_ctl.log" >&2
        pg_stop
        return 1
    fi
    export PG_TEST_DIR PG_TEST_PORT
    export PG_TEST_URL="postgres://govoffice@127.0.0.1:$PG_TEST_PORT/govoffice_test"
}

# pg_durable on|off: fsync, synchronous_commit and full_page_writes of the running cluster,
# applied by a configuration reload (no restart). Prints what the server now says for fsync.
pg_durable() {
    local mode=$1
    [[ $mode == on || $mode == off ]] || { warn "pg_durable on|off"; return 1; }
    _pg_psql -d postgres -c "ALTER SYSTEM SET fsync = $mode" -c "ALTER SYSTEM SET synchronous_commit = $mode" \
        -c "ALTER SYSTEM SET full_page_writes = $mode" -c "SELECT pg_reload_conf()" >/dev/null || return 1
    # The reload is asynchronous: wait until the server reports the new value.
    local i
    for ((i = 0; i < 50; i++)); do
        [[ $(_pg_psql -d postgres -Atc "SHOW fsync") == "$mode" ]] && return 0
        sleep 0.1
    done
    warn "pg_durable: fsync did not become $mode"
    return 1
}

# pg_create_db NAME: a further empty database in the running cluster; prints
# its URL.
pg_create_db() {
    local name=$1
    _pg_psql -d postgres -c "CREATE DATABASE \"$name\"" >/dev/null || return 1
    printf 'postgres://govoffice@127.0.0.1:%s/%s\n' "$PG_TEST_PORT" "$name"
}

# pg_stop: stop the server (immediate: it is throwaway) and remove the
# folder. Safe to call twice, or when pg_start failed half-way.
pg_stop() {
    local pid=
    [[ -n "$PG_TEST_DIR" && -d "$PG_TEST_DIR" ]] || { PG_TEST_DIR=; return 0; }
    if [[ -f "$PG_TEST_DIR/data/postmaster.pid" ]]; then
        pid=$(head -n 1 "$PG_TEST_DIR/data/postmaster.pid" 2>/dev/null || true)
        [[ -n "$PG_BIN" ]] || PG_BIN=$(pg_bindir 2>/dev/null || true)
        if [[ -z "$PG_RUN_USER" ]] && ((EUID == 0)); then
            PG_RUN_USER=$(stat -c %U "$PG_TEST_DIR/data" 2>/dev/null || true)
        fi
        _pg_as_user "$PG_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate -w -t 30 stop \
            >/dev/null 2>&1 || true
        # If pg_ctl could not do it, do not leave a postmaster behind.
        if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
        fi
    fi
    if [[ -n "${PG_KEEP_LOG:-}" && -f "$PG_TEST_DIR/postgres.log" ]]; then
        cp "$PG_TEST_DIR/postgres.log" "$PG_KEEP_LOG" 2>/dev/null || true
    fi
    rm -rf "$PG_TEST_DIR"
    PG_TEST_DIR=
    PG_TEST_PORT=
    PG_TEST_URL=
    unset PG_TEST_URL
}
