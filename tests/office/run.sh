#!/usr/bin/env bash
# The three-process office test (tests/office/office_flow.py): a hub and two agency offices
# (G22, H41) as `govoffice serve` processes, documents through the office's forms.
# Builds nothing: uses BIN (default .build/debug/govoffice; GOVOFFICE_BIN works too).
# Logs: test-artifacts/office/ (hub.log, office-a.log, office-b.log, setup.log).
#   tests/office/run.sh [pytest args...]
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO_ROOT"
BIN=${BIN:-${GOVOFFICE_BIN:-.build/debug/govoffice}}
[[ -x "$BIN" ]] || { echo "tests/office: $BIN is not an executable (swift build first)" >&2; exit 3; }
# A developer's shell must not point the servers at another database.
unset DATABASE_URL GOVOFFICE_SQLITE_PATH GOVOFFICE_TEST_POSTGRES_URL
exec env GOVOFFICE_BIN="$BIN" python3 -m pytest -q tests/office "$@" </dev/null
