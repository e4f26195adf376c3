# shellcheck shell=bash
# libFuzzer builds and runs shared by scripts/fuzz-edxml and scripts/fuzz-xmlsig.
#
# fuzz_build PRODUCT: builds PRODUCT with -sanitize=fuzzer,address into .build-fuzz and prints
# the path of the binary just built. A failed build fails (its output is shown); nothing that an
# earlier build left in the folder is ever run instead.
# fuzz_run BIN CORPUS SECONDS ARTIFACTS [libFuzzer options…]: runs it; a crash, a hang (10 s on
# one input) or a leak fails, and the input that did it is kept in ARTIFACTS.

FUZZ_SCRATCH=.build-fuzz

fuzz_build() {
    local product=$1 log bin
    log=$(mktemp "${TMPDIR:-/tmp}/fuzz-build.XXXXXX")
    # Sanitizer flags apply to every Swift target compiled, so the fuzz build has its own folder;
    # lld because gold crashes on the sanitizer runtime here. GOVOFFICE_FUZZ_C=1 (Package.swift)
    # instruments the C shim of the XML-signature verifier too.
    if ! GOVOFFICE_FUZZ_C=1 swift build --scratch-path "$FUZZ_SCRATCH" --product "$product" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld >"$log" 2>&1; then
        grep -E "error|warning: unre" "$log" >&2 || tail -n 40 "$log" >&2
        rm -f "$log"
        echo "fuzz build of $product failed" >&2
        return 1
    fi
    grep -E "Compiling $product|Build complete" "$log" >&2 || true
    rm -f "$log"
    bin=$(GOVOFFICE_FUZZ_C=1 swift build --scratch-path "$FUZZ_SCRATCH" --show-bin-path)/$product
    [[ -x $bin ]] || { echo "fuzz build of $product left no binary at $bin" >&2; return 1; }
    printf '%s\n' "$bin"
}

fuzz_run() {
    local bin=$1 corpus=$2 seconds=$3 art=$4
    shift 4
    # -detect_leaks needs ptrace, which some sandboxes forbid; LeakSanitizer then stops the run
    # with an explicit message rather than passing silently.
    "$bin" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$art/" -print_final_stats=1 "$@"
}
