# shellcheck shell=bash
# Shared helpers for scripts/test, scripts/bench and bench/*.sh.
# Source it; it defines functions and a few variables, and runs nothing else.

# Swift lives in /opt/swift on the project's machines; make it findable even
# when the caller's PATH does not have it (CI runs with a reduced environment).
if ! command -v swift >/dev/null 2>&1 && [[ -x /opt/swift/usr/bin/swift ]]; then
    PATH="/opt/swift/usr/bin:$PATH"
fi

# ---------------------------------------------------------------- logging

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf '!!! %s\n' "$*" >&2; }
die() { warn "$*"; exit 1; }

# now_ms: wall clock in milliseconds (bash 5 EPOCHREALTIME, no fork).
now_ms() {
    local t=${EPOCHREALTIME/[.,]/}
    printf '%s\n' "$((t / 1000))"
}

# show_log FILE [LINES]: print the interesting part of a log after a failure:
# the error-looking lines first, then the tail.
show_log() {
    local file=$1 lines=${2:-60}
    [[ -s "$file" ]] || { warn "(log $file is empty or missing)"; return 0; }
    {
        printf -- '----- %s: error lines -----\n' "$file"
        grep -nE 'error:|: error|[Ff]atal|FAIL|failed|Assertion|Crash|panic|Traceback|✘|recorded an issue' "$file" | head -n 100 || true
        printf -- '----- %s: last %s lines (passing tests left out) -----\n' "$file" "$lines"
        grep -vE "^Test Case '.*' (started|passed)|^[◇✔] Test .* (started|passed)" "$file" | tail -n "$lines"
        printf -- '----- end of %s -----\n' "$file"
    } >&2
}

# run_logged LOG CMD...: run CMD with all output appended to LOG, stdin
# closed; on failure show the log and return CMD's exit code.
run_logged() {
    local logfile=$1 rc=0
    shift
    printf '$ %s\n' "$*" >>"$logfile"
    "$@" >>"$logfile" 2>&1 </dev/null || rc=$?
    if ((rc != 0)); then
        warn "command failed (exit $rc): $*"
        show_log "$logfile"
    fi
    return "$rc"
}

# ---------------------------------------------------------------- network

# free_port: a TCP port on 127.0.0.1 that nobody listens on right now.
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# http_status URL: the HTTP status code (000 when nothing answers).
http_status() {
    curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$1" 2>/dev/null || true
}

# wait_http URL SECONDS [PID]: poll until URL answers 200. Returns 1 on
# timeout, 2 at once if PID (the server) has died meanwhile.
wait_http() {
    local url=$1 seconds=$2 pid=${3:-} deadline code
    deadline=$(($(now_ms) + seconds * 1000))
    while :; do
        code=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$url" 2>/dev/null || true)
        [[ "$code" == 200 ]] && return 0
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
            warn "process $pid exited while waiting for $url"
            return 2
        fi
        if (($(now_ms) >= deadline)); then
            warn "timed out after ${seconds}s waiting for 200 from $url (last status: ${code:-none})"
            return 1
        fi
        sleep 0.02
    done
}

# ---------------------------------------------------------------- processes

# Background processes started by bg_start. BG_PIDS belongs to the current
# (sub)shell; GOV_PIDFILE, when set, also records them so that a parent
# shell's EXIT trap can kill what a stage subshell left behind.
BG_PIDS=()
BG_PID=

# bg_start LOGFILE CMD...: start CMD in the background, output to LOGFILE,
# stdin closed. Its pid goes to BG_PID.
bg_start() {
    local logfile=$1
    shift
    "$@" >"$logfile" 2>&1 </dev/null &
    BG_PID=$!
    BG_PIDS+=("$BG_PID")
    if [[ -n "${GOV_PIDFILE:-}" ]]; then
        printf '%s\n' "$BG_PID" >>"$GOV_PIDFILE"
    fi
}

# bg_stop PID: SIGTERM, up to 10 s for a graceful exit, then SIGKILL.
bg_stop() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        warn "process $pid ignored SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# bg_stop_all: stop this shell's background processes, and those recorded in
# GOV_PIDFILE (by subshells).
bg_stop_all() {
    local pid
    for pid in "${BG_PIDS[@]}"; do
        bg_stop "$pid"
    done
    BG_PIDS=()
    if [[ -n "${GOV_PIDFILE:-}" && -f "$GOV_PIDFILE" ]]; then
        while read -r pid; do
            [[ -n "$pid" ]] && bg_stop "$pid"
        done <"$GOV_PIDFILE"
        : >"$GOV_PIDFILE"
    fi
}

# ---------------------------------------------------------------- installs

# as_root CMD...: run CMD as root (sudo -n when we are not root: CI has no
# terminal to type a password into).
as_root() {
    if ((EUID == 0)); then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        warn "need root for: $* (not root and no sudo)"
        return 1
    fi
}

dpkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

_APT_UPDATED=

# ensure_apt PKG...: install the Debian packages that are missing; silent
# when all are there already.
ensure_apt() {
    local missing=() pkg out rc=0
    for pkg in "$@"; do
        dpkg_installed "$pkg" || missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0
    log "apt: installing ${missing[*]}"
    out=$(mktemp)
    if [[ -z "$_APT_UPDATED" ]]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >"$out" 2>&1 || rc=$?
        if ((rc != 0)); then
            warn "apt-get update failed (exit $rc)"
            cat "$out" >&2
            rm -f "$out"
            return "$rc"
        fi
        _APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
        install -y -qq --no-install-recommends "${missing[@]}" >"$out" 2>&1 || rc=$?
    if ((rc != 0)); then
        warn "apt-get install failed (exit $rc): ${missing[*]}"
        cat "$out" >&2
    fi
    rm -f "$out"
    return "$rc"
}

# pip_flags: extra flags pip needs here. Debian's own python3 is
# "externally managed" (PEP 668): installing into it needs an explicit opt-in;
# a virtualenv or pyenv interpreter does not.
pip_flags() {
    python3 - <<'PY'
import os, sys, sysconfig
flags = []
in_venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
if not in_venv and os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")):
    flags.append("--break-system-packages")
if os.geteuid() == 0:
    flags.append("--root-user-action=ignore")
elif not in_venv:
    flags.append("--user")
print(" ".join(flags))
PY
}

# ensure_pip MODULE:PKG...: pip-install PKG (a requirement, e.g.
# "selenium>=4.15,<5") when `import MODULE` fails; silent otherwise.
ensure_pip() {
    local spec module missing=() out rc=0 flags
    for spec in "$@"; do
        module=${spec%%:*}
        python3 -c "import $module" >/dev/null 2>&1 || missing+=("${spec#*:}")
    done
    ((${#missing[@]} == 0)) && return 0
    log "pip: installing ${missing[*]}"
    read -r -a flags <<<"$(pip_flags)"
    out=$(mktemp)
    python3 -m pip install -q --disable-pip-version-check "${flags[@]}" "${missing[@]}" >"$out" 2>&1 || rc=$?
    if ((rc != 0)); then
        warn "pip install failed (exit $rc): ${missing[*]}"
        cat "$out" >&2
    fi
    rm -f "$out"
    return "$rc"
}
