#!/usr/bin/env bash
# edXML codec benchmark (release build): read/write throughput for a 10 KB document, a document
# with a 1 MB attachment and a status message; the reader's speed relative to libxml2's own
# xmlReadMemory of the same bytes in the same run; peak RSS reading a 100 MB package in a
# process of its own. Prints a table and bench/results/edxml.json; never asserts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

swift build -c release --product EdXMLBench 2>&1 | grep -E "error|Build complete" || true
BIN=$(swift build -c release --show-bin-path)/EdXMLBench
TMP=$(mktemp -d "${TMPDIR:-/tmp}/govoffice-edxml.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir -p bench/results

{
    "$BIN" throughput
    # 75 MB of file is about 100 MB of package once base64-encoded.
    "$BIN" make-big "$TMP/big.edxml" 75
    "$BIN" read-big "$TMP/big.edxml"
} >"$TMP/rows.tsv"

printf '%-58s | %10s | %-6s | %-8s\n' measure value unit target
printf '%s\n' "-----------------------------------------------------------|------------|--------|---------"
while IFS=$'\t' read -r measure value unit target; do
    printf '%-58s | %10s | %-6s | %-8s\n' "$measure" "$value" "$unit" "$target"
done <"$TMP/rows.tsv"
echo "(command: bench/edxml.sh → $BIN)"

python3 - "$TMP/rows.tsv" bench/results/edxml.json <<'PY'
import json, sys
rows = [dict(zip(["measure", "value", "unit", "target"], line.rstrip("\n").split("\t")))
        for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
for r in rows:
    r["value"] = float(r["value"])
    r["command"] = "bench/edxml.sh"
json.dump(rows, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False, indent=1)
PY
