#!/usr/bin/env bash
# Foundation benchmark of the release server on SQLite: start time, idle
# memory, and throughput/latency of a trivial and a database-backed page.
# It prints what it measured next to the targets; it never asserts.
# Output: a table on stdout and bench/results/foundation.json (rows, bench/lib/results.py) with
# bench/results/foundation.meta.json (binary, wrk duration).
#
# Knobs: GOVOFFICE_BENCH_BIN=path uses that binary and skips the release build;
#        GOVOFFICE_BENCH_DURATION=10s sets wrk's duration.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=bench/lib/common.sh
source bench/lib/common.sh

BIN=${GOVOFFICE_BENCH_BIN:-$(bench_bin govoffice)}
DURATION=${GOVOFFICE_BENCH_DURATION:-10s}
RUNS=3

TMP=$(mktemp -d "${TMPDIR:-/tmp}/govoffice-bench.XXXXXX")
ROWS=$TMP/rows.tsv
: >"$ROWS"
cleanup() {
    local rc=$?
    bg_stop_all
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# row MEASURE VALUE UNIT TARGET COMMAND
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWS"; }

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}'; }

# start_server SQLITE_PATH LOG: start `govoffice serve`, wait for /readyz.
# Sets SERVER_PID, SERVER_PORT, START_MS (launch → first 200 from /readyz).
start_server() {
    local db=$1 logfile=$2 t0
    SERVER_PORT=$(free_port)
    t0=$(now_ms)
    bg_start "$logfile" env -u DATABASE_URL GOVOFFICE_SQLITE_PATH="$db" LOG_LEVEL=warning \
        "$BIN" serve --hostname 127.0.0.1 --port "$SERVER_PORT"
    SERVER_PID=$BG_PID
    if ! wait_http "http://127.0.0.1:$SERVER_PORT/readyz" 120 "$SERVER_PID"; then
        show_log "$logfile"
        return 1
    fi
    START_MS=$(($(now_ms) - t0))
}

rss_mb() { # rss_mb PID: resident memory in MB, one decimal
    awk '/^VmRSS:/ {printf "%.1f\n", $2 / 1024}' "/proc/$1/status"
}

# run_wrk PATH: load one URL; adds rows for requests/s, p99 latency, errors.
run_wrk() {
    local path=$1 out rps p99 errors cmd
    cmd="wrk -t2 -c32 -d$DURATION --latency"
    if ! out=$($cmd "http://127.0.0.1:$SERVER_PORT$path" 2>&1); then
        warn "wrk failed on $path"
        printf '%s\n' "$out" >&2
        row "$path requests/s" n/a req/s - "$cmd $path"
        return 0
    fi
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    # The 99% line reads like "99%  3.21ms"; units us, ms, s or m.
    p99=$(awk '$1 == "99%" {
            v = $2; n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
            f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : 0
            printf "%.2f\n", n * f }' <<<"$out")
    errors=$(awk '/Non-2xx or 3xx responses:/ {n += $NF}
                  /Socket errors:/ {gsub(/[^0-9 ]/, " "); for (i = 1; i <= NF; i++) n += $i}
                  END {print n + 0}' <<<"$out")
    row "$path requests/s" "${rps:-n/a}" req/s - "$cmd $path"
    row "$path latency p99" "${p99:-n/a}" ms - "$cmd $path"
    row "$path errors (non-2xx/3xx, socket)" "$errors" count 0 "$cmd $path"
}

main() {
    local i times=() warm=() seeded
    if [[ -z "${GOVOFFICE_BENCH_BIN:-}" ]]; then
        bench_build govoffice
    fi
    [[ -x "$BIN" ]] || die "$BIN not found"
    ensure_apt wrk curl

    # Cold start: a new SQLite file each time, so migration + demo seed run.
    log "cold start x$RUNS (fresh SQLite file)"
    for ((i = 1; i <= RUNS; i++)); do
        mkdir -p "$TMP/cold-$i"
        start_server "$TMP/cold-$i/govoffice.sqlite" "$TMP/cold-$i.log"
        times+=("$START_MS")
        bg_stop "$SERVER_PID"
    done
    row "cold start (fresh SQLite: migrate + seed)" "$(median "${times[@]}")" ms "≤ 2000" \
        "govoffice serve → first 200 on /readyz, median of $RUNS (${times[*]} ms)"

    # Warm-file start: the file already migrated and seeded.
    seeded=$TMP/cold-1/govoffice.sqlite
    log "warm-file start x$RUNS (seeded SQLite file)"
    for ((i = 1; i <= RUNS; i++)); do
        start_server "$seeded" "$TMP/warm-$i.log"
        warm+=("$START_MS")
        ((i == RUNS)) || bg_stop "$SERVER_PID"
    done
    row "warm-file start (seeded SQLite)" "$(median "${warm[@]}")" ms - \
        "govoffice serve → first 200 on /readyz, median of $RUNS (${warm[*]} ms)"

    # The last warm server stays up for the memory and load measures.
    log "idle RSS (5 s after start)"
    sleep 5
    row "idle RSS" "$(rss_mb "$SERVER_PID")" MB "≤ 100" "VmRSS of govoffice serve, 5 s after /readyz"

    log "wrk on /healthz and /agencies ($DURATION each)"
    run_wrk /healthz
    run_wrk /agencies
    row "RSS after load" "$(rss_mb "$SERVER_PID")" MB - "VmRSS after the wrk runs"
    bg_stop "$SERVER_PID"

    report
}

# report: the table on stdout, the JSON file for later comparison.
report() {
    bench_results foundation "$ROWS" bench/foundation.sh "binary=$BIN" "wrk_duration=$DURATION" "runs=$RUNS"
}

main "$@"
