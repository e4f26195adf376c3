#!/usr/bin/env bash
# The document office's benchmark (issue 7), release build on SQLite, with 1 M documents: the
# incoming list page and search p95 (target ≤ 100 ms), the server's RSS (target ≤ 300 MB), paper
# registration throughput (with a check that the year's numbers have no duplicate or gap), and the
# time from a document's acceptance at the hub to status 01 at its sender.
#
# Setup (one fresh SQLite file, GOVOFFICE_DEMO=off): `migrate --yes`, `demo seed`, `pki demo`,
# hub systems for 000.00.00.G22 (the sender, a raw API client here) and 000.00.00.H41 (its office),
# `office connect --hub local` for H41, then bench/office_seed.py writes GOVOFFICE_BENCH_DOCS
# documents of H41 straight into office_documents (FTS triggers on; 80 % incoming). The release
# `govoffice serve` (LOG_LEVEL=warning) then runs on that file on a free port and
# bench/office_load.py (a second process) loads it: list and search pages as the signed-in clerk
# h41.vanthu (GOVOFFICE_BENCH_REQUESTS each, GOVOFFICE_BENCH_CONCURRENCY in flight), paper
# registrations (GOVOFFICE_BENCH_REG_SESSIONS sessions, GOVOFFICE_BENCH_REG_SECONDS), then
# GOVOFFICE_BENCH_ARRIVALS signed documents G22 → H41 through the hub while G22 long-polls its inbox
# for the 01 statuses. RSS is VmRSS of /proc/PID/status. Prints a table and bench/results/office.json
# (bench/lib/results.py); never asserts. The query plans of the list and search queries are printed
# at the end (stderr) to explain the figures. Then the same list and search load on a throwaway
# PostgreSQL (scripts/lib/pg.sh, fsync on) seeded with the same rows by COPY, rows marked [postgres].
#
# Knobs: GOVOFFICE_BENCH_DOCS (1000000), GOVOFFICE_BENCH_REQUESTS (200),
#        GOVOFFICE_BENCH_CONCURRENCY (4), GOVOFFICE_BENCH_REG_SESSIONS (6),
#        GOVOFFICE_BENCH_REG_SECONDS (20), GOVOFFICE_BENCH_ARRIVALS (100),
#        GOVOFFICE_BENCH_SKIP_PG=1 (no PostgreSQL part),
#        GOVOFFICE_BENCH_KEEP=1 (keep the temporary directory with the database and logs),
#        GOVOFFICE_BENCH_SCRATCH (bench/lib/common.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=scripts/lib/pg.sh
source scripts/lib/pg.sh
# shellcheck source=bench/lib/common.sh
source bench/lib/common.sh

DOCS=${GOVOFFICE_BENCH_DOCS:-1000000}
REQUESTS=${GOVOFFICE_BENCH_REQUESTS:-200}
CONCURRENCY=${GOVOFFICE_BENCH_CONCURRENCY:-4}
REG_SESSIONS=${GOVOFFICE_BENCH_REG_SESSIONS:-6}
REG_SECONDS=${GOVOFFICE_BENCH_REG_SECONDS:-20}
ARRIVALS=${GOVOFFICE_BENCH_ARRIVALS:-100}
SENDER=000.00.00.G22
OFFICE=000.00.00.H41

bench_build govoffice
GOV=$(bench_bin govoffice)
[[ -x "$GOV" ]] || die "office.sh: $GOV was not built"
command -v curl >/dev/null || ensure_apt curl
command -v sqlite3 >/dev/null || ensure_apt sqlite3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/govoffice-office.XXXXXX")
cleanup() {
    local rc=$?
    bg_stop_all
    pg_stop
    if [[ "${GOVOFFICE_BENCH_KEEP:-}" == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ROWS=$TMP/rows.tsv
: >"$ROWS"
DB=$TMP/office.sqlite
PKI=$TMP/pki
# Not a demo: the hub's seal (written by `pki demo`) and the secrets key are configured.
SEAL=(GOVOFFICE_HUB_SEAL_KEY="$PKI/hub/hub-seal.key" GOVOFFICE_HUB_SEAL_CERT="$PKI/hub/hub-seal.pem"
    GOVOFFICE_SECRETS_KEY="$(openssl rand -base64 32)")
run=(env -u DATABASE_URL -u GOVOFFICE_UNSIGNED -u GOVOFFICE_DEMO_OFFICES GOVOFFICE_SQLITE_PATH="$DB"
    GOVOFFICE_PKI_DIR="$PKI" "${SEAL[@]}" GOVOFFICE_DEMO=off LOG_LEVEL=warning)

row() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWS"; }
rss_mb() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

log "office: migrate, demo seed, pki demo, systems issue ($SENDER, $OFFICE), office connect --hub local"
run_logged "$TMP/setup.log" "${run[@]}" "$GOV" migrate --yes
run_logged "$TMP/setup.log" "${run[@]}" "$GOV" demo seed
run_logged "$TMP/setup.log" "${run[@]}" "$GOV" pki demo
"${run[@]}" "$GOV" systems issue --agency "$SENDER" --id bench-g22 --name "Office bench sender" --env \
    2>>"$TMP/setup.log" | grep '^GOVOFFICE_' >"$TMP/g22.env"
"${run[@]}" "$GOV" systems issue --agency "$OFFICE" --id bench-h41-office --name "Sổ văn bản H41" --env \
    2>>"$TMP/setup.log" | grep '^GOVOFFICE_' >"$TMP/h41.env"
h41_id=$(sed -n 's/^GOVOFFICE_SYSTEM_ID=//p' "$TMP/h41.env")
h41_secret=$(sed -n 's/^GOVOFFICE_SECRET_KEY=//p' "$TMP/h41.env")
[[ -n "$h41_id" && -n "$h41_secret" && -s "$TMP/g22.env" ]] || die "office.sh: systems issue printed no credentials"
# The secret on standard input: a command line is visible to every user of the machine.
printf '%s\n' "$h41_secret" | "${run[@]}" "$GOV" office connect --agency "$OFFICE" --hub local \
    --system-id "$h41_id" --secret-stdin \
    --key "$PKI/agencies/$OFFICE.key" --cert "$PKI/agencies/$OFFICE.pem" >>"$TMP/setup.log" 2>&1 ||
    die "office.sh: office connect failed (see $TMP/setup.log)"

log "office: bench/office_seed.py $DOCS documents"
t0=$(now_ms)
python3 bench/office_seed.py "$DB" --count "$DOCS" --agency "$OFFICE" 2>"$TMP/seed.log" | tee "$TMP/seed.out" >&2
seed_s=$(awk -v t="$(($(now_ms) - t0))" 'BEGIN {printf "%.1f", t / 1000}')
row "seed $DOCS documents (Python sqlite3, FTS triggers on)" "$seed_s" s - "bench/office_seed.py (synchronous=OFF for the seed)"
row "database file after the seed" "$(awk -v b="$(stat -c %s "$DB")" 'BEGIN {printf "%.0f", b / 1048576}')" MB - "stat office.sqlite"

log "office: $ARRIVALS signed documents $SENDER → $OFFICE (govoffice sign)"
python3 bench/office_load.py sign --bin "$GOV" --key "$PKI/agencies/$SENDER.key" --cert "$PKI/agencies/$SENDER.pem" \
    --out "$TMP/docs" --count "$ARRIVALS"

port=$(free_port)
bg_start "$TMP/serve.log" "${run[@]}" "$GOV" serve --hostname 127.0.0.1 --port "$port"
pid=$BG_PID
t0=$(now_ms)
if ! wait_http "http://127.0.0.1:$port/readyz" 300 "$pid"; then
    show_log "$TMP/serve.log"
    die "office.sh: the server did not become ready"
fi
row "server start on the seeded file (→ first 200 on /readyz)" "$(($(now_ms) - t0))" ms - "govoffice serve"
row "RSS after start" "$(rss_mb "$pid")" MB - "VmRSS of govoffice serve"

log "office: list and search pages ($REQUESTS requests per variant, $CONCURRENCY in flight)"
python3 bench/office_load.py pages --port "$port" --requests "$REQUESTS" --concurrency "$CONCURRENCY" >>"$ROWS"
row "server RSS after the list and search load" "$(rss_mb "$pid")" MB "≤ 300" "VmRSS of govoffice serve"

log "office: paper registrations ($REG_SESSIONS sessions, $REG_SECONDS s)"
python3 bench/office_load.py register --port "$port" --db "$DB" --seconds "$REG_SECONDS" \
    --concurrency "$REG_SESSIONS" >>"$ROWS"

log "office: hub arrival → 01 at the sender ($ARRIVALS documents)"
python3 bench/office_load.py arrival --port "$port" --env "$TMP/g22.env" --docs "$TMP/docs" >>"$ROWS"
row "server RSS at the end" "$(rss_mb "$pid")" MB "≤ 300" "VmRSS of govoffice serve after all the load"
grep -iE 'error|fatal' "$TMP/serve.log" | head -n 5 >&2 || true
bg_stop "$pid"

# Why the figures are what they are: the plans of the list and search queries the service runs.
{
    echo "== query plans (sqlite3 EXPLAIN QUERY PLAN) =="
    w="d.agency_code = '$OFFICE' AND d.direction = 'in'"
    m="d.rowid IN (SELECT rowid FROM office_documents_fts WHERE office_documents_fts MATCH '\"bao\"* AND \"cao\"*')"
    for q in "SELECT COUNT(*) FROM office_documents d WHERE $w" \
        "SELECT d.id FROM office_documents d WHERE $w ORDER BY d.created_at DESC LIMIT 50 OFFSET 24950" \
        "SELECT d.id FROM office_documents d WHERE $w AND d.state = 'processing' ORDER BY d.created_at DESC LIMIT 50" \
        "SELECT COUNT(*) FROM office_documents d WHERE $w AND $m" \
        "SELECT d.id FROM office_documents d WHERE $w AND $m ORDER BY d.created_at DESC LIMIT 20"; do
        echo "-- $q"
        sqlite3 "$DB" "EXPLAIN QUERY PLAN $q"
    done
} >&2

# The same list and search figures on a throwaway PostgreSQL (fsync on), the rows COPYed in.
if [[ "${GOVOFFICE_BENCH_SKIP_PG:-}" != 1 ]]; then
    PG_DURABLE=1 pg_start >&2 || die "office.sh: could not start a throwaway PostgreSQL"
    PG_URL=$(pg_create_db officebench) || die "office.sh: could not create the database"
    pg_run=(env -u GOVOFFICE_SQLITE_PATH -u GOVOFFICE_UNSIGNED -u GOVOFFICE_DEMO_OFFICES DATABASE_URL="$PG_URL"
        GOVOFFICE_PKI_DIR="$TMP/pg-pki" "${SEAL[@]}" GOVOFFICE_DEMO=off LOG_LEVEL=warning)
    log "office [postgres]: migrate, demo seed, $DOCS documents by COPY"
    run_logged "$TMP/pg-setup.log" "${pg_run[@]}" "$GOV" migrate --yes
    run_logged "$TMP/pg-setup.log" "${pg_run[@]}" "$GOV" demo seed
    t0=$(now_ms)
    python3 bench/office_seed.py - --postgres-csv "$TMP/pgcsv" --count "$DOCS" --agency "$OFFICE" >&2
    run_logged "$TMP/pg-setup.log" psql -X -q -v ON_ERROR_STOP=1 "$PG_URL" -f "$TMP/pgcsv/load.sql"
    # What autovacuum does soon after a bulk load; without it the planner knows no row counts.
    run_logged "$TMP/pg-setup.log" psql -X -q -v ON_ERROR_STOP=1 "$PG_URL" -c "VACUUM ANALYZE office_documents"
    rm -f "$TMP/pgcsv/office_documents.csv"
    row "[postgres] seed $DOCS documents (CSV + COPY + VACUUM ANALYZE)" \
        "$(awk -v t="$(($(now_ms) - t0))" 'BEGIN {printf "%.1f", t / 1000}')" s - "bench/office_seed.py --postgres-csv; psql \\copy"
    port=$(free_port)
    bg_start "$TMP/pg-serve.log" "${pg_run[@]}" "$GOV" serve --hostname 127.0.0.1 --port "$port"
    pid=$BG_PID
    if ! wait_http "http://127.0.0.1:$port/readyz" 300 "$pid"; then
        show_log "$TMP/pg-serve.log"
        die "office.sh: the server on PostgreSQL did not become ready"
    fi
    log "office [postgres]: list and search pages ($REQUESTS requests per variant, $CONCURRENCY in flight)"
    python3 bench/office_load.py pages --port "$port" --requests "$REQUESTS" --concurrency "$CONCURRENCY" \
        --prefix "[postgres] " >>"$ROWS"
    row "[postgres] server RSS after the list and search load" "$(rss_mb "$pid")" MB "≤ 300" "VmRSS of govoffice serve"
    bg_stop "$pid"
    {
        echo "== [postgres] query plans =="
        w="d.agency_code = '$OFFICE' AND d.direction = 'in'"
        m="to_tsvector('simple', d.search_text) @@ to_tsquery('simple', 'bao:* & cao:*')"
        for q in "SELECT COUNT(*) FROM office_documents d WHERE $w" \
            "SELECT d.id FROM office_documents d WHERE $w ORDER BY d.created_at DESC LIMIT 50" \
            "SELECT COUNT(*) FROM office_documents d WHERE $w AND $m" \
            "SELECT d.id FROM office_documents d WHERE $w AND $m ORDER BY d.created_at DESC LIMIT 20"; do
            echo "-- $q"
            psql -X -At "$PG_URL" -c "EXPLAIN ANALYZE $q"
        done
    } >&2 || true
    pg_stop
fi

bench_results office "$ROWS" bench/office.sh "binary=$GOV" "documents=$DOCS" "requests=$REQUESTS" \
    "concurrency=$CONCURRENCY" "registration_sessions=$REG_SESSIONS" "registration_seconds=$REG_SECONDS" \
    "arrivals=$ARRIVALS" "cores=$(nproc)" "postgres=$([[ "${GOVOFFICE_BENCH_SKIP_PG:-}" == 1 ]] && echo skipped || echo yes)"
