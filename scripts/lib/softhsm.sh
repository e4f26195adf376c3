# shellcheck shell=bash
# Throwaway SoftHSM2 tokens for tests and local trials of PKCS#11 signing.
#
# Source it and call the functions, or run it:
#   bash scripts/lib/softhsm.sh token DIR TOKEN_LABEL SO_PIN PIN
#   bash scripts/lib/softhsm.sh key   DIR TOKEN_LABEL PIN KEY_PEM CERT OBJECT_LABEL ID_HEX
#   bash scripts/lib/softhsm.sh cert  DIR TOKEN_LABEL PIN CERT OBJECT_LABEL ID_HEX
# Everything lives under DIR (its own softhsm2.conf and token directory), so no root is needed
# and the user's or system's tokens are never touched. Every step is idempotent: a token or
# object that already exists is left alone. Each function prints what it made (or found).
# The caller must export SOFTHSM2_CONF=DIR/softhsm2.conf before loading the module itself.

SOFTHSM_MODULE=${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}

_softhsm_need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || {
            printf 'softhsm.sh: %s is missing (apt-get install softhsm2 opensc openssl)\n' "$tool" >&2
            return 1
        }
    done
}

# softhsm_env DIR: create DIR/softhsm2.conf and DIR/tokens, export SOFTHSM2_CONF.
softhsm_env() {
    local dir=$1
    [[ -n "$dir" ]] || { printf 'softhsm_env: DIR is required\n' >&2; return 1; }
    mkdir -p "$dir/tokens" || return 1
    dir=$(cd "$dir" && pwd) || return 1
    if [[ ! -f "$dir/softhsm2.conf" ]]; then
        printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
            "$dir" >"$dir/softhsm2.conf" || return 1
        printf 'softhsm: made %s/softhsm2.conf\n' "$dir"
    fi
    export SOFTHSM2_CONF="$dir/softhsm2.conf"
}

# _softhsm_field_is KEY VALUE: stdin has a "KEY: VALUE" line (labels compared exactly, not as
# patterns).
_softhsm_field_is() {
    awk -v key="$1" -v want="$2" '
        { line = $0; sub(/^[[:space:]]+/, "", line) }
        index(line, key ":") == 1 {
            value = substr(line, length(key) + 2); sub(/^[[:space:]]+/, "", value); sub(/[[:space:]]+$/, "", value)
            if (value == want) found = 1
        }
        END { exit !found }'
}

_softhsm_has_token() {
    softhsm2-util --show-slots 2>/dev/null | _softhsm_field_is Label "$1"
}

# softhsm_token DIR TOKEN_LABEL SO_PIN PIN: an initialised token with that label.
softhsm_token() {
    local dir=$1 label=$2 so_pin=$3 pin=$4
    _softhsm_need softhsm2-util || return 1
    softhsm_env "$dir" >/dev/null || return 1
    if _softhsm_has_token "$label"; then
        printf 'softhsm: token "%s" already in %s\n' "$label" "$dir"
        return 0
    fi
    softhsm2-util --init-token --free --label "$label" --so-pin "$so_pin" --pin "$pin" >/dev/null || return 1
    printf 'softhsm: made token "%s" in %s\n' "$label" "$dir"
}

_softhsm_has_object() { # TOKEN_LABEL PIN TYPE LABEL
    pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "$1" --login --pin "$2" \
        --list-objects --type "$3" 2>/dev/null | _softhsm_field_is label "$4"
}

# _softhsm_der CERT OUT: the certificate (PEM or DER) as DER in OUT.
_softhsm_der() {
    if grep -q -- '-----BEGIN CERTIFICATE-----' "$1" 2>/dev/null; then
        openssl x509 -in "$1" -outform DER -out "$2"
    else
        cp "$1" "$2"
    fi
}

# softhsm_cert DIR TOKEN_LABEL PIN CERT OBJECT_LABEL ID_HEX: a certificate object (PEM or DER).
softhsm_cert() {
    local dir=$1 token=$2 pin=$3 cert=$4 label=$5 id=$6 der
    _softhsm_need pkcs11-tool openssl || return 1
    softhsm_env "$dir" >/dev/null || return 1
    if _softhsm_has_object "$token" "$pin" cert "$label"; then
        printf 'softhsm: certificate "%s" already on token "%s"\n' "$label" "$token"
        return 0
    fi
    der=$(mktemp "${TMPDIR:-/tmp}/softhsm-cert.XXXXXX") || return 1
    if ! _softhsm_der "$cert" "$der" ||
        ! pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "$token" --login --pin "$pin" \
            --write-object "$der" --type cert --label "$label" --id "$id" >/dev/null 2>&1; then
        rm -f "$der"
        printf 'softhsm: could not write certificate "%s" to token "%s"\n' "$label" "$token" >&2
        return 1
    fi
    rm -f "$der"
    printf 'softhsm: made certificate "%s" (id %s) on token "%s"\n' "$label" "$id" "$token"
}

# softhsm_key DIR TOKEN_LABEL PIN KEY_PEM CERT OBJECT_LABEL ID_HEX: a private key (PKCS#8 PEM,
# as `openssl req -newkey` writes) and its certificate, under one label and id.
softhsm_key() {
    local dir=$1 token=$2 pin=$3 key=$4 cert=$5 label=$6 id=$7
    _softhsm_need softhsm2-util || return 1
    softhsm_env "$dir" >/dev/null || return 1
    if _softhsm_has_object "$token" "$pin" privkey "$label"; then
        printf 'softhsm: key "%s" already on token "%s"\n' "$label" "$token"
    else
        softhsm2-util --import "$key" --token "$token" --label "$label" --id "$id" --pin "$pin" >/dev/null || return 1
        printf 'softhsm: made key "%s" (id %s) on token "%s"\n' "$label" "$id" "$token"
    fi
    softhsm_cert "$dir" "$token" "$pin" "$cert" "$label" "$id"
}

# softhsm_make_token DIR TOKEN_LABEL SO_PIN PIN [KEY_PEM CERT OBJECT_LABEL ID_HEX]...:
# the token and every key + certificate quadruple given.
softhsm_make_token() {
    local dir=$1 token=$2 so_pin=$3 pin=$4
    shift 4 || return 1
    softhsm_token "$dir" "$token" "$so_pin" "$pin" || return 1
    while (($# >= 4)); do
        softhsm_key "$dir" "$token" "$pin" "$1" "$2" "$3" "$4" || return 1
        shift 4
    done
    (($# == 0)) || { printf 'softhsm_make_token: keys come as KEY_PEM CERT LABEL ID quadruples\n' >&2; return 1; }
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    command=${1:-}
    shift || true
    case "$command" in
        token) softhsm_make_token "$@" ;;
        key) softhsm_key "$@" ;;
        cert) softhsm_cert "$@" ;;
        *)
            printf 'usage: %s token|key|cert DIR ...  (see the header of this file)\n' "$0" >&2
            exit 2
            ;;
    esac
fi
