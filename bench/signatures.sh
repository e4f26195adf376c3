#!/usr/bin/env bash
# XML-signature benchmark (release build): signs/s and verifies/s of an edXML document of about
# 10 KB and of one with a 1 MB attachment, with a software key and with the same key on a SoftHSM2
# token; our verification time relative to `xmlsec1 --verify` of the same signed files in the same
# run. xmlsec1 is timed as whole processes, so its start-up (process, OpenSSL, CA loading) is
# measured on its own and also subtracted. Prints a table and bench/results/signatures.json
# (bench/lib/results.py); never asserts.
#
# Knobs: GOVOFFICE_BENCH_XMLSEC_RUNS_10K (default 50), GOVOFFICE_BENCH_XMLSEC_RUNS_1M (default 20).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=bench/lib/common.sh
source bench/lib/common.sh
# shellcheck source=scripts/lib/softhsm.sh
source scripts/lib/softhsm.sh

for tool in xmlsec1 openssl softhsm2-util pkcs11-tool python3; do
    command -v "$tool" >/dev/null 2>&1 || die "signatures.sh: $tool is missing (apt-get install xmlsec1 openssl softhsm2 opensc python3)"
done
[[ -r "$SOFTHSM_MODULE" ]] || die "signatures.sh: SoftHSM2 module $SOFTHSM_MODULE is missing (apt-get install softhsm2)"

RUNS_10K=${GOVOFFICE_BENCH_XMLSEC_RUNS_10K:-50}
RUNS_1M=${GOVOFFICE_BENCH_XMLSEC_RUNS_1M:-20}

bench_build SignBench
BIN=$(bench_bin SignBench)
[[ -x "$BIN" ]] || die "signatures.sh: $BIN was not built"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/govoffice-signatures.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir -p bench/results
ROWS=$TMP/rows.tsv
DIR=$TMP/files

"$BIN" make "$DIR"

# The signer's key on a throw-away token. softhsm2-util imports PKCS#8 only; SignBench writes
# PKCS#1.
TOKEN=govoffice-bench
PIN=123456
openssl pkcs8 -topk8 -nocrypt -in "$DIR/signer.key" -out "$TMP/signer.pk8.pem"
softhsm_make_token "$TMP/hsm" "$TOKEN" 87654321 "$PIN" "$TMP/signer.pk8.pem" "$DIR/signer.pem" signer 01 >&2

GOVOFFICE_PKCS11_PIN=$PIN "$BIN" run "$DIR" --pkcs11 "$SOFTHSM_MODULE" --token "$TOKEN" --key signer >"$ROWS"

xmlsec_verify() {
    xmlsec1 --verify --trusted-pem "$DIR/ca.pem" --enabled-reference-uris empty "$1" >/dev/null 2>&1
}

# Each file must give the expected exit status once before it is timed, so that a broken set-up
# is never timed as a fast failure.
xmlsec_verify "$DIR/trivial.xml" && die "signatures.sh: xmlsec1 unexpectedly verified trivial.xml"
for file in trivial.signed.xml doc-10k.signed.edxml doc-1m.signed.edxml; do
    xmlsec_verify "$DIR/$file" || die "signatures.sh: xmlsec1 --verify refused $file"
done

# Start-up: --verify of an unsigned trivial file loads OpenSSL, xmlsec1 and the trusted CA, parses
# the file and stops at "no Signature". The signed trivial file adds one certificate check and
# one RSA verification of a tiny document: all of xmlsec1's fixed costs. The four files take
# turns, round after round, so that a neighbour's load on the machine touches them alike; each
# run is timed on its own and the median is kept.
TIMES=$TMP/xmlsec-times.tsv
: >"$TIMES"
time_one() { # LABEL FILE
    local start end
    start=${EPOCHREALTIME/[.,]/}
    xmlsec_verify "$2" || true
    end=${EPOCHREALTIME/[.,]/}
    printf '%s\t%s\n' "$1" "$((end - start))" >>"$TIMES"
}
rounds=$((RUNS_10K > RUNS_1M ? RUNS_10K : RUNS_1M))
for ((i = 0; i < rounds; i++)); do
    if ((i < RUNS_10K)); then
        time_one startup "$DIR/trivial.xml"
        time_one trivial "$DIR/trivial.signed.xml"
        time_one doc-10k "$DIR/doc-10k.signed.edxml"
    fi
    if ((i < RUNS_1M)); then time_one doc-1m "$DIR/doc-1m.signed.edxml"; fi
done

# xmlsec1 rows and the ratios, from the timings and SignBench's rows.
python3 - "$ROWS" "$TIMES" <<'PY'
import statistics, sys
path, times_path = sys.argv[1], sys.argv[2]
times = {}
for line in open(times_path, encoding="utf-8"):
    label, micros = line.split("\t")
    times.setdefault(label, []).append(int(micros) / 1000)
rows = [line.rstrip("\n").split("\t") for line in open(path, encoding="utf-8") if line.strip()]
def value(prefix, unit):
    return next(float(r[1]) for r in rows if r[0].startswith(prefix) and r[2] == unit)
def fmt(v):
    return "%.0f" % v if abs(v) >= 100 else "%.2f" % v if abs(v) >= 1 else "%.3f" % v
def median(label):
    return statistics.median(times[label]), len(times[label])
with open(path, "a", encoding="utf-8") as out:
    startup, n = median("startup")
    out.write(f"xmlsec1 start-up: --verify of an unsigned trivial file (median of {n})\t{fmt(startup)}\tms\t-\n")
    trivial, n = median("trivial")
    out.write(f"xmlsec1 --verify of a signed trivial file (median of {n})\t{fmt(trivial)}\tms\t-\n")
    for name in ("doc-10k", "doc-1m"):
        theirs, n = median(name)
        ours = value(f"verify {name} signed with software key", "ms")
        net = theirs - startup
        out.write(f"xmlsec1 --verify {name}, whole process (median of {n})\t{fmt(theirs)}\tms\t-\n")
        out.write(f"xmlsec1 --verify {name} minus start-up\t{fmt(net)}\tms\t-\n")
        out.write(f"GovOffice verify ms / xmlsec1 --verify ms (whole process), {name}\t{fmt(ours / theirs)}\tratio\t-\n")
        if net > 0:
            out.write(f"GovOffice verify ms / (xmlsec1 --verify - start-up) ms, {name}\t{fmt(ours / net)}\tratio\t-\n")
        else:
            # Not measurable (xmlsec1's run is not longer than its start-up): no value, not 0.
            out.write(f"GovOffice verify ms / (xmlsec1 --verify - start-up) ms, {name} (xmlsec1 not above start-up)\tn/a\tratio\t-\n")
PY

bench_results signatures "$ROWS" "bench/signatures.sh → $BIN" "binary=$BIN" \
    "xmlsec1=$(xmlsec1 --version | head -n 1 | awk '{print $2}')"
