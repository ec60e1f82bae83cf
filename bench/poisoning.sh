#!/usr/bin/env bash
# Cost of heap poisoning: callgrind instructions per operation of heapcaps on W-a and W-f (i686,
# the 32-bit figures ESP-IDF's are compared with) for each poisoning mode, through the Rust API
# (the bench binary, opt-level 3) and through the C API (multi_heap_* of libheapcaps.a built as C
# programs link it: release profile, opt-level s; driver bench/c/mh_bench.c), and the
# per-allocation memory of each mode; and light poisoning on issue 7's traces in instructions and
# time (C API). Prints markdown tables (BENCHMARKS.md quotes them).
# About four minutes.
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
# Light poisoning on issue 7's traces, C API: instructions (callgrind) and time. Time: the
# drivers of both builds and the harness alone run in turn, ROUNDS times, and each keeps its
# lowest "best batch mean" (the least disturbed run on a shared machine); the ratio is net of the
# harness. One run per build, as `bench/run.sh` does, scattered by +-20 % on this machine.
# A fourth driver run, the unpoisoned build with every request 12 bytes larger
# (HEAPCAPS_BENCH_PAD), splits light's cost in two: what the larger blocks cost (heap state,
# memory: the canaries' bytes, ESP-IDF's layout) and what the canary code costs on top.
ROUNDS=${ROUNDS:-7}
light_rows=()
for w in w1 w2-64 w2-512 w2-2048 w6-one w6-two w8; do
    tr=$RAW/$w-time.trace trc=$RAW/$w-cg.trace
    ops=100000 cops=20000
    [ $w = w1 ] && ops=5000 cops=5000
    "$BENCH/target/poison-DISABLED/$triple/release/heapcaps-bench" trace "$w" $ops "$tr" >/dev/null
    "$BENCH/target/poison-DISABLED/$triple/release/heapcaps-bench" trace "$w" $cops "$trc" >/dev/null
    plain=$RAW/mh_bench-$arch-DISABLED light=$RAW/mh_bench-$arch-LIGHT
    h=$(c_ir_per_op "$plain" "$trc" baseline)
    ip=$(c_ir_per_op "$plain" "$trc" mh)
    il=$(c_ir_per_op "$light" "$trc" mh)
    reps=$(((50000 + ops - 1) / ops))
    tb=1e9 tp=1e9 tl=1e9 t12=1e9
    for _ in $(seq "$ROUNDS"); do
        tb=$(awk -v a="$tb" -v b="$("$plain" "$tr" baseline $reps | awk '{print $6}')" 'BEGIN{print (b < a ? b : a)}')
        tp=$(awk -v a="$tp" -v b="$("$plain" "$tr" mh $reps | awk '{print $6}')" 'BEGIN{print (b < a ? b : a)}')
        t12=$(awk -v a="$t12" -v b="$(HEAPCAPS_BENCH_PAD=12 "$plain" "$tr" mh $reps | awk '{print $6}')" 'BEGIN{print (b < a ? b : a)}')
        tl=$(awk -v a="$tl" -v b="$("$light" "$tr" mh $reps | awk '{print $6}')" 'BEGIN{print (b < a ? b : a)}')
    done
    light_rows+=("$(awk -v w="$w" -v h="$h" -v ip="$ip" -v il="$il" -v tb="$tb" -v tp="$tp" -v tl="$tl" -v t12="$t12" 'BEGIN{
        printf "| %s | %.1f | %.1f | %.3f | %.2f | %.2f | %.3f | %.2f (%.3f) | %.3f |", w, ip-h, il-h, (il-h)/(ip-h), tp-tb, tl-tb, (tl-tb)/(tp-tb), t12-tb, (t12-tb)/(tp-tb), (tl-tb)/(t12-tb)}')")
done
table "" "Heap poisoning cost, Rust API ($arch, callgrind, allocator instructions per operation = replay - harness; raw in brackets)"
table ",c" "Heap poisoning cost, C API multi_heap_* ($arch, libheapcaps.a release build, C driver; same measure)"
echo "Bytes consumed per allocation minus the request (free_size delta), request:overhead:"
echo
for mode in DISABLED LIGHT COMPREHENSIVE; do
    echo "- $mode: ${MEM[$mode]}"
done
echo
echo "### Light poisoning on issue 7's traces, C API multi_heap_* ($arch; instructions: callgrind, net of the harness; time: lowest best-batch mean of $ROUNDS interleaved runs, ns/op net of the harness)"
echo
echo "| trace | instructions, disabled | light | ratio | ns/op, disabled | light | ratio | disabled, requests + 12 B (ratio) | light / disabled + 12 B |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${light_rows[@]}"
