#!/usr/bin/env bash
# The hub's benchmark (release build), on SQLite (durable commits) and on a throwaway PostgreSQL
# (fsync on).
#
# Over HTTP, load from a second process: `govoffice serve` (release) runs on loopback with the demo
# data, the demo PKI (`pki demo`) and system credentials for 000.00.00.G22 (`systems issue
# --env`); `HubBench load` (another process) submits signed documents of about 10 KB and with a
# 100 KB attachment for GOVOFFICE_BENCH_SECONDS each, 32 in flight: accepted documents per second,
# p50/p99 accept latency, failures.
# In-process (`HubBench sqlite|postgres`, the hub inside the benchmark's process): the same
# pipeline without HTTP (HubService) for the ratio HTTP / in-process; status relay latency until
# the sender's long-poll returns at 100 documents/s; one document to 95 recipients; the duplicate
# check against GOVOFFICE_BENCH_STORED stored messages.
# Prints a table and bench/results/exchange.json (bench/lib/results.py); never asserts.
#
# Knobs: GOVOFFICE_BENCH_SECONDS (default 4), GOVOFFICE_BENCH_STORED (default 1000000),
#        GOVOFFICE_BENCH_CONCURRENCY (default 32), GOVOFFICE_BENCH_SKIP_PG=1,
#        GOVOFFICE_BENCH_SKIP_INPROCESS=1 (only the second-process HTTP figures),
#        GOVOFFICE_BENCH_SCRATCH (bench/lib/common.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=scripts/lib/pg.sh
source scripts/lib/pg.sh
# shellcheck source=bench/lib/common.sh
source bench/lib/common.sh

SECONDS_EACH=${GOVOFFICE_BENCH_SECONDS:-4}
STORED=${GOVOFFICE_BENCH_STORED:-1000000}
CONCURRENCY=${GOVOFFICE_BENCH_CONCURRENCY:-32}
SENDER=000.00.00.G22

bench_build govoffice HubBench
GOV=$(bench_bin govoffice)
HB=$(bench_bin HubBench)
[[ -x "$GOV" && -x "$HB" ]] || die "exchange.sh: $GOV or $HB was not built"
command -v curl >/dev/null || ensure_apt curl
TMP=$(mktemp -d "${TMPDIR:-/tmp}/govoffice-exchange.XXXXXX")
cleanup() {
    local rc=$?
    bg_stop_all
    pg_stop
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ROWS=$TMP/rows.tsv
: >"$ROWS"

# over_http LABEL ENV...: a fresh hub (`govoffice serve` with ENV, e.g. GOVOFFICE_SQLITE_PATH=...),
# prepared and loaded from a second process; rows go to $ROWS.
over_http() {
    local label=$1 dir=$TMP/$1 port pid size
    shift
    mkdir -p "$dir"
    # Not a demo: the hub's seal (written by `pki demo`) and the secrets key are configured.
    local run=(env -u DATABASE_URL -u GOVOFFICE_SQLITE_PATH -u GOVOFFICE_UNSIGNED GOVOFFICE_PKI_DIR="$dir/pki"
        GOVOFFICE_HUB_SEAL_KEY="$dir/pki/hub/hub-seal.key" GOVOFFICE_HUB_SEAL_CERT="$dir/pki/hub/hub-seal.pem"
        GOVOFFICE_SECRETS_KEY="$(openssl rand -base64 32)" GOVOFFICE_DEMO=off LOG_LEVEL=warning "$@")
    log "[$label] migrate, demo seed, pki demo, systems issue"
    run_logged "$dir/setup.log" "${run[@]}" "$GOV" migrate --yes
    run_logged "$dir/setup.log" "${run[@]}" "$GOV" demo seed
    run_logged "$dir/setup.log" "${run[@]}" "$GOV" pki demo
    "${run[@]}" "$GOV" systems issue --agency "$SENDER" --id bench-g22 --name "HubBench load" --env \
        2>>"$dir/setup.log" | grep '^GOVOFFICE_' >"$dir/g22.env"
    port=$(free_port)
    bg_start "$dir/serve.log" "${run[@]}" "$GOV" serve --hostname 127.0.0.1 --port "$port"
    pid=$BG_PID
    if ! wait_http "http://127.0.0.1:$port/readyz" 120 "$pid"; then
        show_log "$dir/serve.log"
        return 1
    fi
    local cpu0 cpu1 accepted name
    for size in 10k 100k; do
        log "[$label] HubBench load --size $size --seconds $SECONDS_EACH --concurrency $CONCURRENCY (second process)"
        cpu0=$(cpu_ticks "$pid")
        # shellcheck disable=SC2046
        env $(cat "$dir/g22.env") "$HB" load --url "http://127.0.0.1:$port" --label "$label" --size "$size" \
            --seconds "$SECONDS_EACH" --concurrency "$CONCURRENCY" --sender "$SENDER" \
            --key "$dir/pki/agencies/$SENDER.key" --cert "$dir/pki/agencies/$SENDER.pem" |
            grep -P '\t' | sed "s|\$|\tHubBench load --size $size → govoffice serve ($label)|" >"$dir/load-$size.tsv"
        cpu1=$(cpu_ticks "$pid")
        cat "$dir/load-$size.tsv" >>"$ROWS"
        # The server's CPU time (user + system) per accepted document, warm-up included: what the
        # machine's cores allow at most, whatever the load generator takes.
        accepted=$(awk -F'\t' '$1 ~ /documents accepted in the timed run/ {print $2}' "$dir/load-$size.tsv")
        name=$([[ $size == 10k ]] && echo "10 KB" || echo "100 KB attachment")
        # Without a count of accepted documents (the load generator failed) or CPU time there is no
        # figure: the rows say n/a (null), never a number computed from a made-up 0.
        awk -v t0="$cpu0" -v t1="$cpu1" -v n="$accepted" -v warm=$((2 * CONCURRENCY)) -v hz="$(getconf CLK_TCK)" \
            -v label="$label" -v name="$name" -v cores="$(nproc)" 'BEGIN {
                ms = (n != "" && t1 > t0) ? (t1 - t0) * 1000 / hz / (n + warm) : 0
                cost = ms > 0 ? sprintf("%.2f", ms) : "n/a"
                rate = ms > 0 ? sprintf("%.0f", cores * 1000 / ms) : "n/a"
                printf "[%s] govoffice serve CPU time per accepted document, %s\t%s\tms\t-\t/proc/PID/stat utime+stime\n", label, name, cost
                printf "[%s] accepted/s the server CPU allows on %d cores at that cost, %s\t%s\tmsg/s\t-\t%d cores × 1000 / (CPU ms per document)\n", label, cores, name, rate, cores
            }' >>"$ROWS"
    done
    printf '[%s] govoffice serve RSS after the load\t%s\tMB\t-\tVmRSS of govoffice serve\n' "$label" \
        "$(awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")" >>"$ROWS"
    grep -iE 'error|fatal' "$dir/serve.log" | head -n 5 >&2 || true
    bg_stop "$pid"
}

cpu_ticks() { # PID: user + system CPU time in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat"
}

in_process() { # LABEL ARGS...
    local label=$1
    shift
    [[ "${GOVOFFICE_BENCH_SKIP_INPROCESS:-}" == 1 ]] && return 0
    log "[$label] HubBench $label (in-process) --seconds $SECONDS_EACH --stored $STORED"
    "$HB" "$label" "$@" --seconds "$SECONDS_EACH" --stored "$STORED" | grep -P '\t' |
        sed "s|\$|\tHubBench $label (hub in the benchmark's process)|" >>"$ROWS"
}

over_http sqlite GOVOFFICE_SQLITE_PATH="$TMP/sqlite/hub.sqlite"
in_process sqlite
if [[ "${GOVOFFICE_BENCH_SKIP_PG:-}" != 1 ]]; then
    PG_DURABLE=1 pg_start >&2 || die "exchange.sh: could not start a throwaway PostgreSQL"
    HUB_PG_URL=$(pg_create_db hubserve) || die "exchange.sh: could not create the hub's database"
    over_http postgres DATABASE_URL="$HUB_PG_URL"
    in_process postgres --url "$PG_TEST_URL"
fi

# HTTP from a second process / in-process, per database and size.
python3 - "$ROWS" <<'PY'
import re, sys
path = sys.argv[1]
rows = [line.rstrip("\n").split("\t") for line in open(path, encoding="utf-8") if "\t" in line]
http = {}
local = {}
for r in rows:
    m = re.match(r"\[(\w+)\] accepted over HTTP, load from a second process, (.*)$", r[0])
    if m: http[m.groups()] = float(r[1])
    m = re.match(r"\[(\w+)\] accepted in-process \(HubService, no HTTP.*\), (.*)$", r[0])
    if m: local[m.groups()] = float(r[1])
with open(path, "a", encoding="utf-8") as out:
    for key in http:
        if key in local and local[key] > 0:
            out.write(f"[{key[0]}] HTTP from a second process / in-process, {key[1]}\t{http[key] / local[key]:.3f}\tratio\t≥ 0.6"
                      f"\tbench/exchange.sh: the second-process rate / the in-process rate\n")
PY

bench_results exchange "$ROWS" bench/exchange.sh "hub=$GOV" "load=$HB" "seconds=$SECONDS_EACH" \
    "stored=$STORED" "concurrency=$CONCURRENCY" "cores=$(nproc)"
