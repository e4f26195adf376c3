#!/usr/bin/env bash
# The hub's benchmark (release build), on SQLite with durable commits and on a throwaway
# PostgreSQL: signed documents accepted per second over HTTP (10 KB, 100 KB attachment) with
# p50/p99 accept latency; the same pipeline in-process without HTTP and the ratio; status relay
# latency until the sender's long-poll returns at 100 documents/s; one document to 95 recipients;
# the duplicate check against 1 M stored messages. Prints a table and bench/results/exchange.json;
# never asserts.
#
# Knobs: GOVOFFICE_BENCH_SECONDS (default 4), GOVOFFICE_BENCH_STORED (default 1000000),
#        GOVOFFICE_BENCH_SKIP_PG=1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=scripts/lib/pg.sh
source scripts/lib/pg.sh

SECONDS_EACH=${GOVOFFICE_BENCH_SECONDS:-4}
STORED=${GOVOFFICE_BENCH_STORED:-1000000}

swift build -c release --product HubBench 2>&1 | grep -E "error|Build complete" || true
BIN=$(swift build -c release --show-bin-path)/HubBench
[[ -x "$BIN" ]] || die "exchange.sh: $BIN was not built"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/govoffice-exchange.XXXXXX")
cleanup() { pg_stop; rm -rf "$TMP"; }
trap cleanup EXIT
mkdir -p bench/results
ROWS=$TMP/rows.tsv

"$BIN" sqlite --seconds "$SECONDS_EACH" --stored "$STORED" | grep -P '\t' >"$ROWS"
if [[ "${GOVOFFICE_BENCH_SKIP_PG:-}" != 1 ]]; then
    PG_DURABLE=1 pg_start >&2 || die "exchange.sh: could not start a throwaway PostgreSQL"
    "$BIN" postgres --url "$PG_TEST_URL" --seconds "$SECONDS_EACH" --stored "$STORED" | grep -P '\t' >>"$ROWS"
fi

printf '%-92s | %10s | %-9s | %-8s\n' measure value unit target
printf '%s\n' "---------------------------------------------------------------------------------------------|------------|-----------|---------"
while IFS=$'\t' read -r measure value unit target; do
    printf '%-92s | %10s | %-9s | %-8s\n' "$measure" "$value" "$unit" "$target"
done <"$ROWS"
echo "(command: bench/exchange.sh → $BIN; machine: $(nproc) cores)"

python3 - "$ROWS" bench/results/exchange.json <<'PY'
import json, sys
rows = [dict(zip(["measure", "value", "unit", "target"], line.rstrip("\n").split("\t")))
        for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
for r in rows:
    r["value"] = float(r["value"])
    r["command"] = "bench/exchange.sh"
json.dump(rows, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False, indent=1)
PY
