#!/usr/bin/env bash
# Cost of heap poisoning: callgrind instructions per operation of heapcaps on W-a and W-f (i686,
# the 32-bit figures ESP-IDF's are compared with) for each poisoning mode, through the Rust API
# (the bench binary, opt-level 3) and through the C API (multi_heap_* of libheapcaps.a built as C
# programs link it: release profile, opt-level s; driver bench/c/mh_bench.c), and the
# per-allocation memory of each mode. Prints markdown tables (BENCHMARKS.md quotes them).
# About two minutes.
#
# Usage: bench/poisoning.sh [ARCH]   (x86_64 | i686, default i686)
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
arch=${1:-i686}
case $arch in
    x86_64) triple=x86_64-unknown-linux-gnu m=-m64 ;;
    i686) triple=i686-unknown-linux-gnu m=-m32 ;;
    *) echo "unknown arch $arch" >&2; exit 2 ;;
esac
RAW=$BENCH/results/raw/poisoning
mkdir -p "$RAW"
ops_for() { [ "$1" = f ] && echo 5000 || echo 20000; }
ir_per_op() { # bin workload contender -> instructions per op of the replay function
    local f=$RAW/cg.$arch.$(basename "$(dirname "$(dirname "$(dirname "$1")")")").$2.$3
    local ops
    ops=$(valgrind --tool=callgrind --callgrind-out-file="$f" --toggle-collect='*replay*' \
        "$1" one "$2" "$3" "$(ops_for "$2")" 2>/dev/null | awk '{print $2}')
    awk -v a="$(awk '/^totals:/ {print $2}' "$f")" -v b="$ops" 'BEGIN{printf "%.1f", a/b}'
}
c_ir_per_op() { # driver trace mode -> instructions per op of the driver's replay function
    local f=$RAW/cg.$arch.$(basename "$1").$(basename "$2").$3
    valgrind --tool=callgrind --callgrind-out-file="$f" --toggle-collect='*replay*' \
        "$1" "$2" "$3" 0 >"$f.stdout" 2>/dev/null
    awk -v a="$(awk '/^totals:/ {print $2}' "$f")" -v b="$(awk '{print $2}' "$f.stdout")" \
        'BEGIN{printf "%.1f", a/b}'
}
declare -A IR MEM
for mode in DISABLED LIGHT COMPREHENSIVE; do
    feat=()
    [ "$mode" != DISABLED ] && feat=(--features "HEAP_POISONING_$mode")
    tdir=$BENCH/target/poison-$mode
    echo "== $mode: building" >&2
    (cd "$BENCH" && cargo build -q --release --target "$triple" --target-dir "$tdir" "${feat[@]}")
    bin=$tdir/$triple/release/heapcaps-bench
    for w in a f; do
        raw=$(ir_per_op "$bin" "$w" heapcaps)
        harness=$(ir_per_op "$bin" "$w" baseline)
        IR[$mode,$w]=$(awk -v r="$raw" -v h="$harness" 'BEGIN{printf "%.1f", r-h}')
        IR[$mode,$w,raw]=$raw
    done
    # Bytes consumed minus request (heapcaps by free_size delta) for a few request sizes.
    MEM[$mode]=$("$bin" mem | awk -F'|' '/^\| [0-9]+ \|/ {gsub(/ /,"",$2); gsub(/ /,"",$3); printf "%s:%s ", $2, $3}')
    # The C API: the library as C programs link it, the C driver, the same traces.
    ldir=$BENCH/target/poison-lib-$mode
    (cd "$ROOT" && cargo rustc -q --release --lib --crate-type staticlib --target "$triple" \
        --target-dir "$ldir" "${feat[@]}")
    drv=$RAW/mh_bench-$arch-$mode
    gcc $m -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$ROOT/include" \
        "$BENCH/c/mh_bench.c" "$ldir/$triple/release/libheapcaps.a" -lpthread -ldl -lm -o "$drv"
    for w in a f; do
        tr=$RAW/$w.trace
        "$bin" trace "$w" "$(ops_for "$w")" "$tr" >/dev/null
        raw=$(c_ir_per_op "$drv" "$tr" mh)
        harness=$(c_ir_per_op "$drv" "$tr" baseline)
        IR[$mode,$w,c]=$(awk -v r="$raw" -v h="$harness" 'BEGIN{printf "%.1f", r-h}')
        IR[$mode,$w,c,raw]=$raw
    done
done
table() { # KEY-SUFFIX TITLE
    echo "### $2"
    echo
    echo "| mode | W-a Ir/op | vs disabled | W-f Ir/op | vs disabled |"
    echo "|---|---|---|---|---|"
    for mode in DISABLED LIGHT COMPREHENSIVE; do
        a=${IR[$mode,a$1]} f=${IR[$mode,f$1]}
        printf '| %s | %s (%s) | %s | %s (%s) | %s |\n' "$mode" "$a" "${IR[$mode,a$1,raw]}" \
            "$(awk -v x="$a" -v y="${IR[DISABLED,a$1]}" 'BEGIN{printf "%+.1f (x%.2f)", x-y, x/y}')" \
            "$f" "${IR[$mode,f$1,raw]}" \
            "$(awk -v x="$f" -v y="${IR[DISABLED,f$1]}" 'BEGIN{printf "%+.1f (x%.2f)", x-y, x/y}')"
    done
    echo
}
table "" "Heap poisoning cost, Rust API ($arch, callgrind, allocator instructions per operation = replay - harness; raw in brackets)"
table ",c" "Heap poisoning cost, C API multi_heap_* ($arch, libheapcaps.a release build, C driver; same measure)"
echo "Bytes consumed per allocation minus the request (free_size delta), request:overhead:"
echo
for mode in DISABLED LIGHT COMPREHENSIVE; do
    echo "- $mode: ${MEM[$mode]}"
done
