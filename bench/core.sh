#!/usr/bin/env bash
# Issue 2's core benchmark: the multi_heap C API on a 256 KiB region with the standard workloads
# (W-a random malloc/free 1-256 B, W-b sizes 8-8192 spread by powers of two, W-c mixed, W-d
# realloc churn, W-e aligned churn with alignments 4-256, W-f ESP-IDF's own timing pattern),
# with rlsf and talc (and heapcaps' Rust API) over the same region and the same traces.
# Prints instructions per operation (callgrind, net of the driver's own harness) and ns per
# operation (best batch mean, net of the harness), for x86_64 and i686, as markdown tables.
# A benchmark, not a test: it never fails on figures. About 2-3 minutes.
#
# Usage: bench/core.sh [ARCH...]   (x86_64 | i686; default both)
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
RAW=$BENCH/results/raw/core
mkdir -p "$RAW"
ARCHS=("$@")
[ ${#ARCHS[@]} -eq 0 ] && ARCHS=(i686 x86_64)
export HEAPCAPS_BENCH_REGION=$((256 * 1024))
WORKLOADS=(a b c d e f)
# ESP-IDF's multi_heap + TLSF, i686, instructions per operation including a minimal harness of
# about 21 instructions (the issue's figures; W-f has none).
declare -A ESP=([a]=240 [b]=240 [c]=265 [d]=395 [e]=370)
MINIMAL_HARNESS=21
ops_for() { [ "$1" = f ] && echo 5000 || echo 20000; }
per_op() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", a/b}'; }
cg() { # OUT CMD... -> instructions collected in the replay function
    valgrind --tool=callgrind --callgrind-out-file="$1" --toggle-collect='*replay*' "${@:2}" \
        >"$1.stdout" 2>/dev/null
    awk '/^totals:/ {print $2}' "$1"
}

for arch in "${ARCHS[@]}"; do
    case $arch in
        x86_64) triple=x86_64-unknown-linux-gnu m=-m64 ;;
        i686) triple=i686-unknown-linux-gnu m=-m32 ;;
        *) echo "unknown arch $arch" >&2; exit 2 ;;
    esac
    echo "== $arch: building" >&2
    (cd "$BENCH" && cargo build -q --release --target "$triple")
    bin=$BENCH/target/$triple/release/heapcaps-bench
    tdir=$BENCH/target/lib-plain
    (cd "$ROOT" && cargo rustc -q --release --lib --crate-type staticlib --target "$triple" \
        --target-dir "$tdir")
    drv=$RAW/mh_bench-$arch
    gcc $m -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$ROOT/include" \
        "$BENCH/c/mh_bench.c" "$tdir/$triple/release/libheapcaps.a" -lpthread -ldl -lm -o "$drv"

    declare -A IR NS
    for w in "${WORKLOADS[@]}"; do
        echo "== $arch: W-$w" >&2
        n=$(ops_for "$w")
        tr=$RAW/$w-$arch.trace
        "$bin" trace "$w" "$n" "$tr" >/dev/null
        # C API under callgrind: the driver prints "ops N fails F ...".
        for mode in mh baseline; do
            ir=$(cg "$RAW/cg.$arch.$w.c-$mode" "$drv" "$tr" "$mode" 0)
            ops=$(awk '{print $2}' "$RAW/cg.$arch.$w.c-$mode.stdout")
            fails=$(awk '{print $4}' "$RAW/cg.$arch.$w.c-$mode.stdout")
            [ "$fails" = 0 ] || echo "warning: W-$w $mode: $fails failed operations" >&2
            IR[$w,c-$mode]=$(per_op "$ir" "$ops")
        done
        # Rust harness under callgrind ("ops N fails F").
        for c in heapcaps rlsf talc baseline; do
            ir=$(cg "$RAW/cg.$arch.$w.$c" "$bin" one "$w" "$c" "$n")
            ops=$(awk '{print $2}' "$RAW/cg.$arch.$w.$c.stdout")
            IR[$w,$c]=$(per_op "$ir" "$ops")
        done
        # Time: C driver batch means (best of 15), Rust harness batch means (best of 15).
        for mode in mh baseline; do
            NS[$w,c-$mode]=$("$drv" "$tr" "$mode" 20 | awk '{print $6}')
        done
        while read -r _ _ c ns _ _; do
            NS[$w,$c]=$ns
        done < <("$bin" timing "$w")
    done

    net() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", a-b}'; }
    echo
    echo "### $arch, 256 KiB region: instructions per operation (callgrind, net of the harness)"
    echo
    echo "| workload | heapcaps multi_heap_* (C) | + ${MINIMAL_HARNESS}-instruction harness / ESP-IDF's | heapcaps (Rust API) | rlsf | talc |"
    echo "|---|---|---|---|---|---|"
    for w in "${WORKLOADS[@]}"; do
        c=$(net "${IR[$w,c-mh]}" "${IR[$w,c-baseline]}")
        ratio=-
        if [ -n "${ESP[$w]:-}" ] && [ "$arch" = i686 ]; then
            ratio=$(awk -v c="$c" -v h=$MINIMAL_HARNESS -v e="${ESP[$w]}" \
                'BEGIN{printf "%.1f / %d = %.2fx", c+h, e, (c+h)/e}')
        fi
        printf '| W-%s | %s | %s | %s | %s | %s |\n' "$w" "$c" "$ratio" \
            "$(net "${IR[$w,heapcaps]}" "${IR[$w,baseline]}")" \
            "$(net "${IR[$w,rlsf]}" "${IR[$w,baseline]}")" \
            "$(net "${IR[$w,talc]}" "${IR[$w,baseline]}")"
    done
    echo
    echo "### $arch, 256 KiB region: ns per operation (best batch mean, net of the harness; noisy on a shared machine)"
    echo
    echo "| workload | heapcaps multi_heap_* (C) | heapcaps (Rust API) | rlsf | talc |"
    echo "|---|---|---|---|---|"
    for w in "${WORKLOADS[@]}"; do
        printf '| W-%s | %s | %s | %s | %s |\n' "$w" \
            "$(net "${NS[$w,c-mh]}" "${NS[$w,c-baseline]}")" \
            "$(net "${NS[$w,heapcaps]}" "${NS[$w,baseline]}")" \
            "$(net "${NS[$w,rlsf]}" "${NS[$w,baseline]}")" \
            "$(net "${NS[$w,talc]}" "${NS[$w,baseline]}")"
    done
    unset IR NS
done
