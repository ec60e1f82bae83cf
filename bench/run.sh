#!/usr/bin/env bash
# Builds and runs the whole heapcaps benchmark on x86_64 and i686: timing (Rust harness for
# heapcaps/rlsf/talc, C driver for heapcaps' C API), callgrind instruction counts, fragmentation
# and memory figures. Writes bench/results/results.md (also printed) and raw outputs to
# bench/results/raw/. Takes a few minutes on a 2-core machine.
#
# Usage: bench/run.sh [ARCH...]   (ARCH: x86_64 i686; default both)
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
OUT=$BENCH/results
RAW=$OUT/raw
mkdir -p "$RAW"
ARCHS=("$@")
[ ${#ARCHS[@]} -eq 0 ] && ARCHS=(x86_64 i686)
WORKLOADS=(a b c d e f)
# Operations per trace: timing replays the trace repeatedly (~50k ops per batch); callgrind
# replays it once. W-f is ESP-IDF's loop of 5000 iterations either way.
time_ops() { [ "$1" = f ] && echo 5000 || echo 100000; }
cg_ops() { [ "$1" = f ] && echo 5000 || echo 20000; }

TSV=$RAW/results.tsv
: >"$TSV"
for arch in "${ARCHS[@]}"; do
    case $arch in
        x86_64) triple=x86_64-unknown-linux-gnu; m=-m64 ;;
        i686) triple=i686-unknown-linux-gnu; m=-m32 ;;
        *) echo "unknown arch $arch" >&2; exit 2 ;;
    esac
    echo "== $arch: building" >&2
    (cd "$BENCH" && cargo build -q --release --target "$triple")
    bin=$BENCH/target/$triple/release/heapcaps-bench
    # The C driver links libheapcaps.a as shipped (--release: opt-level s, LTO) and as built
    # with the root crate's profile.bench (opt-level 3).
    # Cargo puts profile.bench output in release/, so that build gets its own target dir.
    for prof in release bench; do
        tdir=$ROOT/target
        [ "$prof" = bench ] && tdir=$BENCH/target/root-bench
        (cd "$ROOT" && cargo build -q --lib --profile "$prof" --target "$triple" --target-dir "$tdir")
        gcc $m -O2 -g -std=c11 -D_POSIX_C_SOURCE=200809L -I"$ROOT/include" "$BENCH/c/mh_bench.c" \
            "$tdir/$triple/release/libheapcaps.a" -lpthread -ldl -o "$RAW/mh_bench-$arch-$prof"
    done

    echo "== $arch: timing" >&2
    "$bin" timing | tee "$RAW/timing-$arch.txt" | while read -r _ w c ns ops fails; do
        printf '%s\tns\t%s\t%s\t%s\t%s\n' "$arch" "$w" "$c" "$ns" "$fails" >>"$TSV"
    done
    for w in "${WORKLOADS[@]}"; do
        "$bin" trace "$w" "$(time_ops "$w")" "$RAW/$w-$arch.trace" >/dev/null
        "$bin" trace "$w" "$(cg_ops "$w")" "$RAW/$w-$arch-cg.trace" >/dev/null
        ops=$(time_ops "$w")
        reps=$(( (50000 + ops - 1) / ops ))
        for prof in release bench; do
            set -- $("$RAW/mh_bench-$arch-$prof" "$RAW/$w-$arch.trace" "$reps")
            printf '%s\tns\t%s\theapcaps-c-%s\t%s\t%s\n' "$arch" "$w" "$prof" "$6" "$4" >>"$TSV"
        done
        set -- $("$RAW/mh_bench-$arch-release" "$RAW/$w-$arch.trace" "$reps" baseline)
        printf '%s\tns\t%s\tbaseline-c\t%s\t%s\n' "$arch" "$w" "$6" "$4" >>"$TSV"
    done

    echo "== $arch: callgrind" >&2
    cg() { # name, collect-pattern, command...: appends Ir/op of the collected function
        local name=$1 pat=$2 w=$3
        shift 3
        local f=$RAW/callgrind.out.$arch.$w.$name
        local ops
        ops=$(valgrind --tool=callgrind --callgrind-out-file="$f" --toggle-collect="$pat" "$@" 2>/dev/null | awk '{print $2}')
        local ir
        ir=$(awk '/^totals:/ {print $2}' "$f")
        printf '%s\tir\t%s\t%s\t%s\t%s\n' "$arch" "$w" "$name" "$(awk -v a="$ir" -v b="$ops" 'BEGIN{printf "%.1f", a/b}')" "$ops" >>"$TSV"
    }
    for w in "${WORKLOADS[@]}"; do
        for c in heapcaps rlsf talc baseline; do
            cg "$c" '*replay*' "$w" "$bin" one "$w" "$c" "$(cg_ops "$w")"
        done
        for prof in release bench; do
            cg "heapcaps-c-$prof" replay "$w" "$RAW/mh_bench-$arch-$prof" "$RAW/$w-$arch-cg.trace" 0
        done
        cg baseline-c replay "$w" "$RAW/mh_bench-$arch-release" "$RAW/$w-$arch-cg.trace" 0 baseline
    done

    echo "== $arch: fragmentation and memory" >&2
    "$bin" frag >"$RAW/frag-$arch.md"
    "$bin" mem >"$RAW/mem-$arch.md"
done

python3 "$BENCH/tables.py" "$RAW" "${ARCHS[@]}" | tee "$OUT/results.md"
