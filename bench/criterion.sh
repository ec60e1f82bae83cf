#!/usr/bin/env bash
# Criterion measurement of issue 7's traces (bench/benches/traces.rs) on i686 and x86_64: every
# contender replays each trace on its own heap, hot (the same heap, trace after trace), and
# criterion gives the mean time per replay with its 95 % confidence interval. Prints a markdown
# table per arch: ns per operation net of the harness (the `baseline` replay), the interval, and
# heapcaps' ratio to rlsf and talc. Criterion's own reports stay in bench/target/criterion/
# (saved as baseline `i686` / `x86_64`). A benchmark, not a test. About 4 minutes per arch.
#
# Usage: bench/criterion.sh [ARCH...]   (x86_64 | i686; default both)
# HEAPCAPS_CRITERION_ARGS: more criterion options (bench/run.sh's quick mode shortens the runs).
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
RAW=$BENCH/results/raw/criterion
mkdir -p "$RAW"
ARCHS=("$@")
[ ${#ARCHS[@]} -eq 0 ] && ARCHS=(i686 x86_64)
for arch in "${ARCHS[@]}"; do
    case $arch in
        x86_64) triple=x86_64-unknown-linux-gnu ;;
        i686) triple=i686-unknown-linux-gnu ;;
        *) echo "unknown arch $arch" >&2; exit 2 ;;
    esac
    echo "== $arch: cargo bench (criterion)" >&2
    (cd "$BENCH" && cargo bench -q --target "$triple" --bench traces -- --save-baseline "$arch" \
        ${HEAPCAPS_CRITERION_ARGS:-}) \
        >"$RAW/$arch.log" 2>&1 || { tail -20 "$RAW/$arch.log" >&2; exit 1; }
    python3 - "$BENCH/target/criterion" "$arch" <<'PY'
import json, os, sys
root, arch = sys.argv[1:3]
traces = ["w1", "w2-64", "w2-512", "w2-2048", "w6-one", "w6-two", "w8"]
peers = ["heapcaps", "rlsf", "talc", "linked_list", "dlmalloc"]
def est(w, c):
    d = os.path.join(root, w, c, arch)
    m = json.load(open(os.path.join(d, "estimates.json")))["mean"]
    n = json.load(open(os.path.join(d, "benchmark.json")))["throughput"]["Elements"]
    ci = m["confidence_interval"]
    return m["point_estimate"] / n, ci["lower_bound"] / n, ci["upper_bound"] / n
print(f"\n### {arch}: criterion, ns per operation net of the harness (mean [95 % interval])\n")
print("| trace | " + " | ".join(peers) + " | heapcaps / rlsf | heapcaps / talc | harness |")
print("|---" * (len(peers) + 4) + "|")
for w in traces:
    base = est(w, "baseline")[0]
    net = {c: tuple(x - base for x in est(w, c)) for c in peers}
    cells = [f"{m:.2f} [{lo:.2f}-{hi:.2f}]" for m, lo, hi in (net[c] for c in peers)]
    r = lambda o: net["heapcaps"][0] / net[o][0]
    print(f"| {w} | " + " | ".join(cells) + f" | {r('rlsf'):.2f} | {r('talc'):.2f} | {base:.2f} |")
PY
done
