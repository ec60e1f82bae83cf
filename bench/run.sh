#!/usr/bin/env bash
# Builds and runs the whole heapcaps benchmark (issue 7's suite) on x86_64 and i686, then writes
# the tables (bench/results/results.md, also printed) and the plots (bench/results/*.png).
# Raw outputs (callgrind files, traces, logs) go to bench/results/raw/ (not committed).
# About 15-18 minutes on a 2-core machine (7 of them criterion's). HEAPCAPS_BENCH_QUICK=1 uses tiny
# op counts and short criterion runs: a smoke test of the whole pipeline in about 5 minutes
# (figures then mean little).
#
# Usage: bench/run.sh [ARCH...]   (ARCH: x86_64 i686; default both)
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
OUT=$BENCH/results
RAW=$OUT/raw
rm -rf "$RAW"
mkdir -p "$RAW"
ARCHS=("$@")
[ ${#ARCHS[@]} -eq 0 ] && ARCHS=(x86_64 i686)
QUICK=${HEAPCAPS_BENCH_QUICK:-0}
WORKLOADS=(w1 w2-64 w2-512 w2-2048 w6-one w6-two w8)
CONTENDERS=(heapcaps rlsf talc linked_list dlmalloc)
# Operations per trace: timing traces (W1: ESP-IDF's 5000 iterations) and callgrind traces.
time_ops() { [ "$1" = w1 ] && echo 5000 || echo $([ "$QUICK" = 1 ] && echo 5000 || echo 100000); }
cg_ops() { [ "$1" = w1 ] && echo 5000 || echo $([ "$QUICK" = 1 ] && echo 2000 || echo 20000); }
PT_REPS=5 # per-op timing: replays per trace (each op's figure is its median)

# One line per figure: ARCH METRIC WORKLOAD CONTENDER VALUES...
TSV=$RAW/results.tsv
: >"$TSV"
rec() { echo "$*" >>"$TSV"; }

for arch in "${ARCHS[@]}"; do
    case $arch in
        x86_64) triple=x86_64-unknown-linux-gnu; m=-m64 ;;
        i686) triple=i686-unknown-linux-gnu; m=-m32 ;;
        *) echo "unknown arch $arch" >&2; exit 2 ;;
    esac
    echo "== $arch: building" >&2
    (cd "$BENCH" && cargo build -q --release --target "$triple")
    bin=$BENCH/target/$triple/release/heapcaps-bench
    # The C driver links libheapcaps.a as shipped (release profile), built the way the project
    # builds C archives (cargo rustc --crate-type staticlib), plain and with c-malloc.
    # With HEAP_POISONING_LIGHT available, multi_heap_* is also measured with light poisoning.
    LIBS=(plain c-malloc)
    grep -q '^HEAP_POISONING_LIGHT' "$ROOT/Cargo.toml" && LIBS+=(poison)
    for lib in "${LIBS[@]}"; do
        tdir=$BENCH/target/lib-$lib
        feat=()
        [ $lib = c-malloc ] && feat=(--features c-malloc)
        [ $lib = poison ] && feat=(--features HEAP_POISONING_LIGHT)
        (cd "$ROOT" && cargo rustc -q --release --lib --crate-type staticlib "${feat[@]}" \
            --target "$triple" --target-dir "$tdir")
        gcc $m -O2 -g -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$ROOT/include" \
            "$BENCH/c/mh_bench.c" "$tdir/$triple/release/libheapcaps.a" -lpthread -ldl -lm \
            -o "$RAW/mh_bench-$arch-$lib"
    done
    cbin() { # MODE: the C driver linked with the library the mode needs
        case $1 in
            malloc | sys) echo "$RAW/mh_bench-$arch-c-malloc" ;;
            mh-poison) echo "$RAW/mh_bench-$arch-poison" ;;
            *) echo "$RAW/mh_bench-$arch-plain" ;;
        esac
    }
    cdrv() { "$(cbin "$1")" "$2" "${1%-poison}" "$3"; } # MODE TRACE REPS
    CMODES=(mh caps malloc baseline)
    [ -x "$RAW/mh_bench-$arch-poison" ] && CMODES+=(mh-poison)

    echo "== $arch: traces" >&2
    for w in "${WORKLOADS[@]}" w7-esp32 w7-s3; do
        "$bin" trace "$w" "$(time_ops "$w")" "$RAW/$w-$arch.trace" >/dev/null
        "$bin" trace "$w" "$(cg_ops "$w")" "$RAW/$w-$arch-cg.trace" >/dev/null
    done

    timing_pass() { # batch means; run twice per arch (the lower figure is reported)
        "$bin" timing "${WORKLOADS[@]}" | tee -a "$RAW/timing-$arch.txt" | while read -r _ w c ns ops fails; do
            rec "$arch ns $w $c $ns $fails"
        done
        for w in "${WORKLOADS[@]}"; do
            ops=$(time_ops "$w")
            reps=$(((50000 + ops - 1) / ops))
            for mode in "${CMODES[@]}"; do
                set -- $(cdrv "$mode" "$RAW/$w-$arch.trace" "$reps")
                rec "$arch ns $w c-$mode $6 $4"
            done
        done
    }
    echo "== $arch: timing (batch means), first pass" >&2
    timing_pass

    echo "== $arch: per-operation timing" >&2
    "$bin" pertime "${WORKLOADS[@]}" | while read -r _ w c k n mean p max; do
        rec "$arch pt $w $c $k $n $mean $p $max"
    done
    for w in "${WORKLOADS[@]}"; do
        for mode in "${CMODES[@]}"; do
            cdrv "$mode" "$RAW/$w-$arch.trace" "-$PT_REPS" | while read -r _ k n mean p max; do
                rec "$arch pt $w c-$mode $k $n $mean $p $max"
            done
        done
    done

    echo "== $arch: W7 (simulated chips through heap_caps_* and malloc)" >&2
    for chip in esp32:w7-esp32 esp32s3-psram:w7-s3; do
        c=${chip%%:*}
        w=${chip##*:}
        ops=$(time_ops "$w")
        set -- $(HEAPCAPS_CHIP=$c cdrv sys "$RAW/$w-$arch.trace" $(((50000 + ops - 1) / ops)) 2>/dev/null)
        rec "$arch ns $w c-sys $6 $4"
        HEAPCAPS_CHIP=$c cdrv sys "$RAW/$w-$arch.trace" "-$PT_REPS" 2>/dev/null | while read -r _ k n mean p max; do
            rec "$arch pt $w c-sys $k $n $mean $p $max"
        done
        set -- $(cdrv baseline "$RAW/$w-$arch.trace" $(((50000 + ops - 1) / ops)))
        rec "$arch ns $w c-baseline $6 $4"
    done

    echo "== $arch: callgrind (instructions/op)" >&2
    cg() { # NAME PATTERN WORKLOAD COMMAND...: records instructions/op of the collected function
        local name=$1 pat=$2 w=$3
        shift 3
        local f=$RAW/callgrind.out.$arch.$w.$name
        local ops
        ops=$(valgrind --tool=callgrind --callgrind-out-file="$f" --toggle-collect="$pat" "$@" 2>/dev/null | awk '{print $2}')
        local ir
        ir=$(awk '/^totals:/ {print $2}' "$f")
        rec "$arch ir $w $name $(awk -v a="$ir" -v b="$ops" 'BEGIN{printf "%.1f", a/b}') $ops"
    }
    for w in "${WORKLOADS[@]}"; do
        for c in baseline "${CONTENDERS[@]}"; do
            cg "$c" '*replay*' "$w" "$bin" one "$w" "$c" "$(cg_ops "$w")"
        done
        for mode in "${CMODES[@]}"; do
            cg "c-$mode" replay "$w" "$(cbin "$mode")" "$RAW/$w-$arch-cg.trace" "${mode%-poison}" 0
        done
    done
    for chip in esp32:w7-esp32 esp32s3-psram:w7-s3; do
        w=${chip##*:}
        HEAPCAPS_CHIP=${chip%%:*} cg c-sys replay "$w" "$(cbin sys)" "$RAW/$w-$arch-cg.trace" sys 0
        cg c-baseline replay "$w" "$(cbin baseline)" "$RAW/$w-$arch-cg.trace" baseline 0
    done

    echo "== $arch: timing (batch means), second pass" >&2
    timing_pass

    echo "== $arch: W3 efficiency, W4 overhead, largest free block after W1, W5" >&2
    "$bin" frag >"$RAW/frag-$arch.txt"
    "$bin" mem >"$RAW/mem-$arch.txt"
    "$bin" largest >"$RAW/largest-$arch.txt"
    "$bin" w5 >"$RAW/w5-$arch.txt"
    for c in "${CONTENDERS[@]}"; do
        for op in malloc free; do
            f=$RAW/callgrind.out.$arch.w5.$c.$op
            valgrind --tool=callgrind --callgrind-out-file="$f" --toggle-collect="heapcaps_bench::probe_$op" \
                "$bin" w5 "$c" >/dev/null 2>&1
            rec "$arch w5ir w5 $c $op $(awk '/^totals:/ {print $2}' "$f")"
        done
    done

    echo "== $arch: worst-case bound (one callgrind dump per malloc/free probe)" >&2
    for c in "${CONTENDERS[@]}"; do
        for op in malloc free; do
            d=$RAW/bound-$arch-$c-$op
            mkdir -p "$d"
            valgrind --tool=callgrind --callgrind-out-file="$d/cg" --toggle-collect="heapcaps_bench::probe_$op" \
                --dump-after="heapcaps_bench::probe_$op" "$bin" bound "$c" >/dev/null 2>&1
            stats=$(for f in "$d"/cg.*; do awk '/^(summary|totals):/ {print $2; exit}' "$f"; done |
                sort -n | awk '{a[NR] = $1; s += $1} END {printf "%d %d %.1f %d", NR, a[1], s / NR, a[NR]}')
            rec "$arch bound all $c $op $stats"
            rm -rf "$d"
        done
    done

    echo "== $arch: caps-layer cost against the number of heaps" >&2
    for n in 0 1 4 16 31; do
        for fn in caps_malloc_n caps_free_n; do
            f=$RAW/callgrind.out.$arch.scale.$n.$fn
            valgrind --tool=callgrind --callgrind-out-file="$f" --toggle-collect="heapcaps_bench::$fn" \
                "$bin" scale "$n" >/dev/null 2>&1
            rec "$arch scale $n $fn $(awk '/^totals:/ {printf "%.1f", $2 / 1000}' "$f")"
        done
    done
done

# Criterion: hot replays of the same traces with confidence intervals (bench/criterion.sh).
if [ "$QUICK" = 1 ]; then
    export HEAPCAPS_CRITERION_ARGS="--warm-up-time 0.1 --measurement-time 0.3 --sample-size 10"
fi
"$BENCH/criterion.sh" "${ARCHS[@]}" >"$RAW/criterion.md"
{ python3 "$BENCH/tables.py" "$RAW" "${ARCHS[@]}"; cat "$RAW/criterion.md"; } | tee "$OUT/results.md"
python3 "$BENCH/plots.py" "$RAW" "$OUT" "${ARCHS[@]}"
# The generated tables also go into BENCHMARKS.md, between its two marker lines.
python3 - "$ROOT/BENCHMARKS.md" "$OUT/results.md" <<'PY'
import sys
doc, res = sys.argv[1], open(sys.argv[2]).read()
text = open(doc).read()
a, b = "<!-- results:begin -->", "<!-- results:end -->"
if a in text and b in text:
    head, rest = text.split(a, 1)
    tail = rest.split(b, 1)[1]
    res = "\n".join("#" + l if l.startswith("#") else l for l in res.split("\n"))
    open(doc, "w").write(head + a + "\n\n" + res + "\n" + b + tail)
PY
