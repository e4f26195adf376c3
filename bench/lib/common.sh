# shellcheck shell=bash
# What bench/*.sh share (sourced after scripts/lib/common.sh): the release build and the results.
#
#   GOVOFFICE_BENCH_SCRATCH  SwiftPM scratch directory of the release build (default .build); a
#                            separate one (.build-release) keeps debug builds of others unblocked.
#   GOVOFFICE_BENCH_BUILT=1  the products are built already (scripts/bench builds them once).

BENCH_SCRATCH=${GOVOFFICE_BENCH_SCRATCH:-.build}

# bench_build PRODUCT...: swift build -c release of each product (skipped when
# GOVOFFICE_BENCH_BUILT=1); output to a log shown on failure.
bench_build() {
    local product logfile
    [[ "${GOVOFFICE_BENCH_BUILT:-}" == 1 ]] && return 0
    logfile=$(mktemp "${TMPDIR:-/tmp}/govoffice-bench-build.XXXXXX")
    for product in "$@"; do
        log "swift build -c release --scratch-path $BENCH_SCRATCH --product $product"
        run_logged "$logfile" swift build -c release --scratch-path "$BENCH_SCRATCH" --product "$product" || return 1
    done
    rm -f "$logfile"
}

# bench_bin PRODUCT: the release binary's path.
bench_bin() {
    printf '%s/release/%s\n' "$BENCH_SCRATCH" "$1"
}

# bench_results NAME ROWS.TSV COMMAND [KEY=VALUE...]: bench/results/NAME.json (rows with `met`
# computed from the targets) and NAME.meta.json with the KEY=VALUE pairs; prints the table.
bench_results() {
    local name=$1 rows=$2 command=$3 kv args=()
    shift 3
    for kv in "$@"; do args+=(--meta "$kv"); done
    python3 bench/lib/results.py write "$name" "$rows" --command "$command" "${args[@]}"
}
