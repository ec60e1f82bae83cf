#!/usr/bin/env bash
# Heap poisoning from C: builds libheapcaps.a once per poisoning mode (cargo features
# HEAP_POISONING_LIGHT / _COMPREHENSIVE, none = disabled) on x86_64 and i686, and runs
# tests/c/poisoning/test_poisoning.c against each (ASan + UBSan) with POISON_MODE set to match.
# The Rust corruption matrix (tests/poisoning.rs) covers the damage cases; this checks what C
# callers see: layout, sizes, block addresses, integrity messages.
#
#   tests/c/run-poisoning.sh [FILTER...]
set -u -o pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
CFLAGS=(-std=c11 -Wall -Wextra -Werror -g -Iinclude -Itests/unity -fsanitize=address,undefined -fno-sanitize-recover=undefined)
HARNESS=(tests/unity/unity.c tests/unity/unity_runner.c)
fail=0
summary=()
for mode in 0 1 2; do
    case $mode in
        0) feat=() name=disabled ;;
        1) feat=(--features HEAP_POISONING_LIGHT) name=light ;;
        2) feat=(--features HEAP_POISONING_COMPREHENSIVE) name=comprehensive ;;
    esac
    tdir=target/poison-$name
    for arch in x86_64 i686; do
        tgt=() m=() libdir=$tdir/release
        if [ $arch = i686 ]; then
            tgt=(--target i686-unknown-linux-gnu) m=(-m32) libdir=$tdir/i686-unknown-linux-gnu/release
        fi
        echo "== $arch $name: building"
        if ! cargo rustc --quiet --release --crate-type staticlib --target-dir "$tdir" "${tgt[@]}" "${feat[@]}"; then
            summary+=("$arch $name: LIBRARY BUILD FAILED"); fail=1; continue
        fi
        exe=$tdir/test_poisoning-$arch
        if ! gcc "${CFLAGS[@]}" "${m[@]}" -DPOISON_MODE=$mode -o "$exe" "${HARNESS[@]}" \
            tests/c/poisoning/test_poisoning.c "$libdir/libheapcaps.a" -lpthread -ldl -lm; then
            summary+=("$arch $name: BUILD FAILED"); fail=1; continue
        fi
        log=$tdir/test_poisoning-$arch.log
        ASAN_OPTIONS="detect_leaks=0" "$exe" "$@" 2>&1 | tee "$log"
        rc=$?
        line="$(grep -E '^[0-9]+ Tests [0-9]+ Failures' "$log" | tail -1)"
        if [ $rc -ne 0 ] || [ -z "$line" ]; then
            summary+=("$arch $name: FAIL (exit $rc) $line"); fail=1
        else
            summary+=("$arch $name: $line")
        fi
    done
done
echo
echo "== summary"
for s in "${summary[@]}"; do echo "$s"; done
[ $fail -eq 0 ] && echo OK || { echo FAIL; exit 1; }
