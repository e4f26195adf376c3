#!/usr/bin/env bash
# edXML codec benchmark (release build): read/write throughput for a 10 KB document, a document
# with a 1 MB attachment and a status message; the reader's speed relative to libxml2's own
# xmlReadMemory of the same bytes in the same run; peak RSS reading a 100 MB package in a
# process of its own. Prints a table and bench/results/edxml.json (bench/lib/results.py);
# never asserts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=bench/lib/common.sh
source bench/lib/common.sh

bench_build EdXMLBench
BIN=$(bench_bin EdXMLBench)
[[ -x "$BIN" ]] || die "edxml.sh: $BIN was not built"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/govoffice-edxml.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir -p bench/results

{
    "$BIN" throughput
    # 75 MB of file is about 100 MB of package once base64-encoded.
    "$BIN" make-big "$TMP/big.edxml" 75
    "$BIN" read-big "$TMP/big.edxml"
} >"$TMP/rows.tsv"

bench_results edxml "$TMP/rows.tsv" "bench/edxml.sh → $BIN" "binary=$BIN"
