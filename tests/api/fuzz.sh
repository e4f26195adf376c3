#!/usr/bin/env bash
# API fuzzing of the document-exchange hub with Schemathesis against docs/openapi.yaml.
#
#   tests/api/fuzz.sh [MAX_EXAMPLES]      (default 20 per operation and phase; soak: 500 or more)
#
# Starts `govoffice serve` on a fresh SQLite database (demo seed, demo PKI, GOVOFFICE_UNSIGNED=warn),
# gives three agencies system credentials, puts a signed document, a status reply and a dead
# delivery on the hub, then runs Schemathesis on every operation of the served /openapi.yaml three
# times: as G22's system (the sender), as H41's (a recipient) and without any credentials. Checks:
# every built-in check but four that flag correct refusals and the response-time limit (see below
# and tests/api/README.md), plus
# the project's own (tests/api/hooks.py): every 4xx has the error body, and without credentials
# every answer is 401 system_credentials_*. Exits non-zero on any failure.
#
# Knobs: GOVOFFICE_BIN (default .build/debug/govoffice), GOVOFFICE_FUZZ_SEED (default 20261123;
# "random" for a fresh seed each run), GOVOFFICE_FUZZ_WORKERS (default 1: deterministic),
# GOVOFFICE_FUZZ_MAX_TIME (seconds per credential mode; unset in the quick run),
# GOVOFFICE_TEST_SIGNATURES=production: the server runs with production signature settings
# (GOVOFFICE_UNSIGNED=refuse, GOVOFFICE_OCSP=hard), so the fuzzed and the hooks' unsigned
# documents go down the refusal path; reports then go to test-artifacts/api-production/.
# Reports: test-artifacts/api/<mode>/ (JUnit XML, Schemathesis JSON report, its output), server logs.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO_ROOT"
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

MAX_EXAMPLES=${1:-20}
[[ "$MAX_EXAMPLES" =~ ^[1-9][0-9]*$ ]] || die "usage: tests/api/fuzz.sh [MAX_EXAMPLES]"
SEED=${GOVOFFICE_FUZZ_SEED:-20261123}
WORKERS=${GOVOFFICE_FUZZ_WORKERS:-1}
GOVOFFICE_BIN=${GOVOFFICE_BIN:-.build/debug/govoffice}
[[ "$GOVOFFICE_BIN" == /* ]] || GOVOFFICE_BIN=$REPO_ROOT/$GOVOFFICE_BIN
[[ -x "$GOVOFFICE_BIN" ]] || die "no server binary at $GOVOFFICE_BIN (swift build --product govoffice)"
ART=$REPO_ROOT/test-artifacts/api
UNSIGNED=warn OCSP=off
if [[ "${GOVOFFICE_TEST_SIGNATURES:-}" == production ]]; then
    ART=$REPO_ROOT/test-artifacts/api-production UNSIGNED=refuse OCSP=hard
fi

ensure_pip "schemathesis:schemathesis>=4.3,<5"
command -v schemathesis >/dev/null 2>&1 || die "schemathesis is installed but not on PATH"

unset DATABASE_URL GOVOFFICE_TEST_POSTGRES_URL
WORK=$(mktemp -d "${TMPDIR:-/tmp}/govoffice-api-fuzz.XXXXXX")
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    bg_stop_all
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -rf "$ART"
mkdir -p "$ART"
SETUP_LOG=$ART/setup.log
: >"$SETUP_LOG"

export GOVOFFICE_SQLITE_PATH=$WORK/db.sqlite GOVOFFICE_PKI_DIR=$WORK/pki GOVOFFICE_BCRYPT_COST=4
export GOVOFFICE_UNSIGNED=$UNSIGNED GOVOFFICE_DEMO=off GOVOFFICE_OCSP=$OCSP GOVOFFICE_HOME=$REPO_ROOT
# Not a demo: the hub's seal that `pki demo` writes is configured, as production configures its own.
export GOVOFFICE_HUB_SEAL_KEY=$WORK/pki/hub/hub-seal.key GOVOFFICE_HUB_SEAL_CERT=$WORK/pki/hub/hub-seal.pem
# The setup's webhook and the rewritten fuzzed ones point at a dead loopback port: list loopback.
export GOVOFFICE_WEBHOOK_ALLOW=127.0.0.0/8
PKI=$WORK/pki/agencies

# A port nobody listens on: webhook pushes (setup) and fuzzed webhook URLs (hooks.py) go there.
DEAD_PORT=$(free_port)
DEAD_URL="http://127.0.0.1:$DEAD_PORT/hook"

fail_setup() {
    warn "setup: $*"
    show_log "$SETUP_LOG"
    [[ -f "$ART/server-setup.log" ]] && show_log "$ART/server-setup.log"
    exit 1
}

run_logged "$SETUP_LOG" "$GOVOFFICE_BIN" demo seed || fail_setup "demo seed failed"
run_logged "$SETUP_LOG" "$GOVOFFICE_BIN" pki demo || fail_setup "pki demo failed"
for a in G22 H41 H37; do
    printf '$ govoffice systems issue --agency 000.00.00.%s --id api-fuzz-%s --env\n' "$a" "$a" >>"$SETUP_LOG"
    "$GOVOFFICE_BIN" systems issue --agency "000.00.00.$a" --id "api-fuzz-$a" --name "Hệ thống kiểm thử API $a" --env \
        >"$WORK/$a.env" 2>>"$SETUP_LOG" </dev/null || fail_setup "systems issue for $a failed"
    grep -q '^GOVOFFICE_SECRET_KEY=.' "$WORK/$a.env" || fail_setup "systems issue --env printed no secret for $a"
done
creds() { # creds AGENCY VAR: the system id or secret key of AGENCY
    sed -n "s/^GOVOFFICE_$2=//p" "$WORK/$1.env"
}

# ---------------------------------------------------------------- setup server (pushes on)
# Pushes give up after a second, so H37's webhook to a closed port makes a dead delivery.
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
bg_start "$ART/server-setup.log" env GOVOFFICE_WEBHOOK_MAX_AGE_SECONDS=1 GOVOFFICE_WEBHOOK_BASE_DELAY_MS=50 \
    "$GOVOFFICE_BIN" serve --hostname 127.0.0.1 --port "$PORT"
wait_http "$BASE/readyz" 60 "$BG_PID" || fail_setup "the server did not become ready"
SETUP_PID=$BG_PID

api() { # api AGENCY METHOD PATH [JSON]: one call as AGENCY's system; body on stdout, fails on non-2xx
    local who=$1 method=$2 path=$3 data=${4:-}
    curl -sS --fail-with-body --max-time 20 -X "$method" \
        -H "X-SystemId: $(creds "$who" SYSTEM_ID)" -H "X-SecretKey: $(creds "$who" SECRET_KEY)" \
        ${data:+-H 'Content-Type: application/json' --data "$data"} "$BASE$path"
}
client() { # client AGENCY ARGS...: `govoffice client` as AGENCY's system
    local who=$1
    shift
    env GOVOFFICE_HUB_URL="$BASE" GOVOFFICE_SYSTEM_ID="$(creds "$who" SYSTEM_ID)" \
        GOVOFFICE_SECRET_KEY="$(creds "$who" SECRET_KEY)" "$GOVOFFICE_BIN" client "$@" 2>&1 </dev/null
}

api H37 POST /api/v1/exchange/webhooks "{\"url\":\"$DEAD_URL\",\"secret\":\"api-fuzz-secret-0123456789\"}" \
    >>"$SETUP_LOG" 2>&1 || fail_setup "H37 could not register its webhook"
cat >"$WORK/spec.json" <<'JSON'
{"from": {"organId": "000.00.00.G22", "organName": "Văn phòng Chính phủ"},
 "to": [{"organId": "000.00.00.H41"}, {"organId": "000.00.00.H37"}],
 "codeNumber": "31", "codeNotation": "VPCP-API", "place": "Hà Nội", "typeName": "Công văn",
 "subject": "Công văn thử nghiệm API của trục liên thông",
 "files": [{"name": "cv.pdf", "contentType": "application/pdf", "data": "JVBERi0xLjQK"}]}
JSON
run_logged "$SETUP_LOG" "$GOVOFFICE_BIN" edxml build --from "$WORK/spec.json" -o "$WORK/doc.edxml" \
    || fail_setup "edxml build failed"
out=$(client G22 send --quiet --key "$PKI/000.00.00.G22.key" --cert "$PKI/000.00.00.G22.pem" "$WORK/doc.edxml") \
    || { printf '%s\n' "$out" >>"$SETUP_LOG"; fail_setup "client send failed"; }
printf '%s\n' "$out" >>"$SETUP_LOG"
DOC_ID=$(sed -n 's#^Trục đã nhận / accepted: \([0-9a-f-]\{36\}\)$#\1#p' <<<"$out")
[[ -n "$DOC_ID" ]] || fail_setup "client send printed no message id"
# H41 fetches it and answers with status 01 (a status message back to G22).
client H41 fetch "$DOC_ID" -o "$WORK/received.edxml" >>"$SETUP_LOG" || fail_setup "H41 could not fetch $DOC_ID"
out=$(client H41 status "$WORK/received.edxml" --code 01 --key "$PKI/000.00.00.H41.key" --cert "$PKI/000.00.00.H41.pem") \
    || { printf '%s\n' "$out" >>"$SETUP_LOG"; fail_setup "H41 could not send status 01"; }
printf '%s\n' "$out" >>"$SETUP_LOG"
# A second document, G22 -> H41 only, left waiting in H41's inbox.
sed -e 's/"codeNumber": "31"/"codeNumber": "32"/' -e 's/{"organId": "000.00.00.H41"}, {"organId": "000.00.00.H37"}/{"organId": "000.00.00.H41"}/' \
    "$WORK/spec.json" >"$WORK/spec2.json"
run_logged "$SETUP_LOG" "$GOVOFFICE_BIN" edxml build --from "$WORK/spec2.json" -o "$WORK/doc2.edxml" || fail_setup "edxml build 2 failed"
out=$(client G22 send --quiet --key "$PKI/000.00.00.G22.key" --cert "$PKI/000.00.00.G22.pem" "$WORK/doc2.edxml") \
    || { printf '%s\n' "$out" >>"$SETUP_LOG"; fail_setup "client send 2 failed"; }
DOC2_ID=$(sed -n 's#^Trục đã nhận / accepted: \([0-9a-f-]\{36\}\)$#\1#p' <<<"$out")
[[ -n "$DOC2_ID" ]] || fail_setup "client send 2 printed no message id"

# Wait for H37's push of the first document to die (max age 1 s).
DELIVERY_ID=
for ((i = 0; i < 300; i++)); do
    DELIVERY_ID=$(api G22 GET /api/v1/exchange/dead-letters 2>/dev/null | python3 -c '
import json, sys
items = json.load(sys.stdin).get("items", [])
print(items[0]["delivery_id"] if items else "")' 2>/dev/null || true)
    [[ -n "$DELIVERY_ID" ]] && break
    sleep 0.1
done
[[ -n "$DELIVERY_ID" ]] || fail_setup "no dead delivery appeared for H37's webhook"
# H37 stops pushes; the dead delivery stays for G22 to see (and redeliver).
hook_id=$(api H37 GET /api/v1/exchange/webhooks | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
api H37 DELETE "/api/v1/exchange/webhooks/$hook_id" >>"$SETUP_LOG" 2>&1 || fail_setup "H37 could not delete its webhook"
STATUS_ID=$(api G22 GET /api/v1/exchange/inbox | python3 -c '
import json, sys
print(" ".join(i["message_id"] for i in json.load(sys.stdin)["items"] if i["kind"] == "status"))')
[[ -n "$STATUS_ID" ]] || fail_setup "G22's inbox has no status message"
bg_stop "$SETUP_PID"
log "api-fuzz setup: documents $DOC_ID $DOC2_ID, status $STATUS_ID, dead delivery $DELIVERY_ID"

# ---------------------------------------------------------------- the fuzzed server (pushes off)
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
bg_start "$ART/server.log" env GOVOFFICE_HUB_WORKERS=false "$GOVOFFICE_BIN" serve --hostname 127.0.0.1 --port "$PORT"
SERVER_PID=$BG_PID
wait_http "$BASE/readyz" 60 "$SERVER_PID" || { show_log "$ART/server.log"; exit 1; }
curl -sS --fail "$BASE/openapi.yaml" -o "$WORK/openapi.yaml" || die "the server does not serve /openapi.yaml"
cmp -s "$WORK/openapi.yaml" docs/openapi.yaml || die "/openapi.yaml differs from docs/openapi.yaml"

export PYTHONPATH="$REPO_ROOT/tests/api${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=hooks
export GOVOFFICE_FUZZ_MESSAGE_IDS="$DOC_ID $DOC2_ID $STATUS_ID" GOVOFFICE_FUZZ_DELIVERY_IDS=$DELIVERY_ID
export GOVOFFICE_FUZZ_WEBHOOK_URL=$DEAD_URL GOVOFFICE_FUZZ_EDXML=$WORK/doc.edxml
# Every built-in check is named (rather than `--checks all`, which also adds a 10 s response-time
# limit: our tests never assert on timing), and hooks.py's own two. Left out, and why
# (tests/api/README.md says more):
#   positive_data_acceptance: schema-valid is not hub-valid — any bytes are a `format: binary`
#     edXML body, a random UUID names no message; the hub rightly answers 400/404/422;
#   unsupported_method: Vapor answers an unrouted method 404 (not 405), documented as the
#     project's JSON 404 for any unknown route;
#   missing_required_header: no operation has a required header parameter; the credentials
#     are covered by ignored_auth and the anonymous run;
#   ensure_resource_availability: it follows the links Schemathesis infers and calls a 404 after
#     a 201 a lost resource, but by design a sender may not ack its own message (recipients only)
#     and registering a webhook replaces the system's previous one (whose id then is 404).
#   max_response_time: a timing assertion.
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance
CHECKS+=,response_schema_conformance,negative_data_rejection,use_after_free,ignored_auth
CHECKS+=,object_level_authorization,allow_header_conformance
CHECKS+=,error_body,credentials_required # tests/api/hooks.py

TOTAL_OPS=0 TOTAL_CASES=0 TOTAL_FAILURES=0 RUN_FAILED=0
# fuzz_mode MODE [AGENCY]: one Schemathesis run; AGENCY's credentials, or none.
fuzz_mode() {
    local mode=$1 who=${2:-} dir=$ART/$1 rc=0 auth=() summary
    mkdir -p "$dir"
    if [[ -n "$who" ]]; then
        auth=(-H "X-SystemId: $(creds "$who" SYSTEM_ID)" -H "X-SecretKey: $(creds "$who" SECRET_KEY)")
    fi
    # A fixed seed and deterministic generation (no example database) for the quick run.
    local seed=(--seed "$SEED" --generation-deterministic)
    [[ "$SEED" == random ]] && seed=(--generation-database none)
    # From $ART: Schemathesis keeps its crash cache (.schemathesis/) in the working directory.
    (cd "$ART" && GOVOFFICE_FUZZ_MODE=$mode GOVOFFICE_FUZZ_STATS=$dir/statuses.txt exec schemathesis --no-color run "$WORK/openapi.yaml" --url "$BASE" \
        "${auth[@]}" --generation-with-security-parameters false \
        --checks "$CHECKS" \
        --max-examples "$MAX_EXAMPLES" "${seed[@]}" --workers "$WORKERS" \
        ${GOVOFFICE_FUZZ_MAX_TIME:+--max-time "$GOVOFFICE_FUZZ_MAX_TIME"} \
        --request-timeout 30 --output-sanitize true --warnings off \
        --report junit,json --report-dir "$dir" \
        --report-junit-path "$dir/junit.xml" --report-json-path "$dir/report.json" >"$dir/schemathesis.log" 2>&1 </dev/null) || rc=$?
    summary=$(python3 "$REPO_ROOT/tests/api/summary.py" "$dir" "$mode" "$rc") || true
    printf '%s\n' "$summary"
    read -r ops cases failures <<<"$(sed -n 's/^api-fuzz\[[a-z0-9-]*\]: operations=\([0-9]*\) examples=\([0-9]*\) failures=\([0-9]*\).*/\1 \2 \3/p' <<<"$summary")"
    TOTAL_OPS=${ops:-0}
    TOTAL_CASES=$((TOTAL_CASES + ${cases:-0}))
    TOTAL_FAILURES=$((TOTAL_FAILURES + ${failures:-0}))
    if ((rc != 0)); then
        RUN_FAILED=1
        warn "schemathesis ($mode) exited $rc; its output: $dir/schemathesis.log"
        grep -vE '^\s*$' "$dir/schemathesis.log" | tail -n 120 >&2
    fi
}

fuzz_mode sender G22
fuzz_mode recipient H41
fuzz_mode anonymous

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    warn "the server died during the fuzzing"
    RUN_FAILED=1
fi
if grep -qE 'unhandled error|Fatal error|fatalError' "$ART/server.log"; then
    warn "the server logged unhandled errors:"
    grep -E 'unhandled error|Fatal error|fatalError' "$ART/server.log" | head -n 20 >&2
    RUN_FAILED=1
fi
bg_stop "$SERVER_PID"
if ((RUN_FAILED)) && ((TOTAL_FAILURES == 0)); then TOTAL_FAILURES=1; fi
printf 'api-fuzz: operations=%s examples=%s failures=%s\n' "$TOTAL_OPS" "$TOTAL_CASES" "$TOTAL_FAILURES"
((TOTAL_FAILURES == 0))
