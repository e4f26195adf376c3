#!/usr/bin/env bash
# The hub's crash soak: tests/crash/hub_crash.py with KILLS SIGKILLs (default 100) on SQLite, then
# on a throwaway PostgreSQL with durable commits (PG_DURABLE=1). Prints both summary lines
# (`crash: kills=… lost=0 … database=…`) and exits non-zero if either run fails.
#
#   tests/crash/soak.sh [KILLS]
#
# Environment:
#   GOVOFFICE_BIN=path         server binary (default .build/debug/govoffice; built if missing)
#   SOAK_SECONDS_BETWEEN="MIN MAX"  pause before each kill (default "0.5 2.5")
#   SOAK_VERIFY_EVERY=K        `exchange evidence verify` after every K-th restart (default 1)
#   SOAK_DATABASES="sqlite postgres"  which databases (default both)
#   SOAK_KEEP=1                keep the work folders (server logs, SQLite file) under $TMPDIR
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=scripts/lib/pg.sh
source scripts/lib/pg.sh

KILLS=${1:-100}
[[ "$KILLS" =~ ^[0-9]+$ ]] && ((KILLS > 0)) || die "usage: tests/crash/soak.sh [KILLS]"
read -r BETWEEN_MIN BETWEEN_MAX <<<"${SOAK_SECONDS_BETWEEN:-0.5 2.5}"
VERIFY_EVERY=${SOAK_VERIFY_EVERY:-1}
DATABASES=${SOAK_DATABASES:-sqlite postgres}
GOVOFFICE_BIN=${GOVOFFICE_BIN:-.build/debug/govoffice}

if [[ ! -x "$GOVOFFICE_BIN" ]]; then
    log "building govoffice (no $GOVOFFICE_BIN)"
    swift build --product govoffice || die "swift build failed"
fi

SOAK_TMP=$(mktemp -d "${TMPDIR:-/tmp}/govoffice-soak.XXXXXX")
cleanup() {
    pg_stop
    if [[ -n "${SOAK_KEEP:-}" ]]; then
        log "work folders kept in $SOAK_TMP"
    else
        rm -rf "$SOAK_TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

declare -a SUMMARIES=()
FAILED=0

# soak DATABASE [URL]: one run; its output goes to SOAK_TMP/DATABASE.log, the summary line is kept.
soak() {
    local db=$1 url=${2:-} dir logfile start rc=0 line
    dir="$SOAK_TMP/$db"
    logfile="$SOAK_TMP/$db.log"
    mkdir -p "$dir"
    start=$(now_ms)
    log "crash soak on $db: $KILLS kills, ${BETWEEN_MIN}–${BETWEEN_MAX} s apart (log $logfile)"
    python3 -u tests/crash/hub_crash.py --bin "$GOVOFFICE_BIN" --workdir "$dir" --kills "$KILLS" \
        --seconds-between "$BETWEEN_MIN" "$BETWEEN_MAX" --verify-every "$VERIFY_EVERY" \
        --database "$db" ${url:+--database-url "$url"} >"$logfile" 2>&1 </dev/null || rc=$?
    line=$(grep -E '^crash: ' "$logfile" | tail -n 1)
    # The figures behind the summary: retries, repeats dropped, checks after restarts.
    grep -E '^(submitted documents|retried after|statuses acknowledged|000\.|messages in the database|checks after restarts|evidence verify)' \
        "$logfile" | sed "s/^/  [$db] /" || true
    if ((rc != 0)); then
        FAILED=1
        warn "crash soak on $db FAILED (exit $rc)"
        grep -E 'FAIL|failure:|missing|half-written|stored .* times|arrived under' "$logfile" | head -n 40 >&2 || true
        tail -n 25 "$logfile" >&2
        SOAK_KEEP=1
    fi
    SUMMARIES+=("${line:-crash: database=$db FAILED before the summary (exit $rc)} wall=$(( ($(now_ms) - start) / 1000 ))s")
}

for db in $DATABASES; do
    case $db in
        sqlite)
            soak sqlite
            ;;
        postgres)
            export PG_DURABLE=1
            if pg_start; then
                url=$(pg_create_db govoffice_soak) || { FAILED=1; SUMMARIES+=("crash: database=postgres FAILED (no database)"); continue; }
                soak postgres "$url"
                PG_KEEP_LOG=$SOAK_TMP/postgres-server.log
                export PG_KEEP_LOG
                pg_stop
            else
                FAILED=1
                SUMMARIES+=("crash: database=postgres FAILED (PostgreSQL did not start)")
            fi
            ;;
        *)
            die "unknown database $db (sqlite, postgres)"
            ;;
    esac
done

printf '%s\n' "${SUMMARIES[@]}"
if ((FAILED)); then
    warn "crash soak FAILED; logs in $SOAK_TMP"
    exit 1
fi
