#!/usr/bin/env bash
# Cost of heap poisoning: callgrind instructions per operation of heapcaps on W-a and W-f (i686,
# the 32-bit figures ESP-IDF's are compared with) for each poisoning mode, and the per-allocation
# memory of each mode. Prints a markdown table (BENCHMARKS.md quotes it). About a minute.
#
# Usage: bench/poisoning.sh [ARCH]   (x86_64 | i686, default i686)
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
arch=${1:-i686}
case $arch in
    x86_64) triple=x86_64-unknown-linux-gnu ;;
    i686) triple=i686-unknown-linux-gnu ;;
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
done
echo "### Heap poisoning cost ($arch, callgrind, allocator instructions per operation = replay - harness; raw in brackets)"
echo
echo "| mode | W-a Ir/op | vs disabled | W-f Ir/op | vs disabled |"
echo "|---|---|---|---|---|"
for mode in DISABLED LIGHT COMPREHENSIVE; do
    a=${IR[$mode,a]} f=${IR[$mode,f]}
    printf '| %s | %s (%s) | %s | %s (%s) | %s |\n' "$mode" "$a" "${IR[$mode,a,raw]}" \
        "$(awk -v x="$a" -v y="${IR[DISABLED,a]}" 'BEGIN{printf "%+.1f (x%.2f)", x-y, x/y}')" \
        "$f" "${IR[$mode,f,raw]}" \
        "$(awk -v x="$f" -v y="${IR[DISABLED,f]}" 'BEGIN{printf "%+.1f (x%.2f)", x-y, x/y}')"
done
echo
echo "Bytes consumed per allocation minus the request (free_size delta), request:overhead:"
echo
for mode in DISABLED LIGHT COMPREHENSIVE; do
    echo "- $mode: ${MEM[$mode]}"
done
