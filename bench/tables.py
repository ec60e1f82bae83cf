#!/usr/bin/env python3
"""Turns bench/run.sh's raw results (results.tsv, frag-*.md, mem-*.md) into markdown tables."""
import sys
from collections import defaultdict

raw, archs = sys.argv[1], sys.argv[2:]
WORKLOADS = {
    "a": "W-a malloc/free 1-256",
    "b": "W-b malloc/free 8-8192 (pow2 spread)",
    "c": "W-c mixed",
    "d": "W-d realloc churn",
    "e": "W-e aligned churn 4-256",
    "f": "W-f ESP-IDF timing pattern",
}
# ESP-IDF's C multi_heap + TLSF on i686, instructions/op including a minimal harness (issue 2).
ESPIDF = {"a": 240, "b": 240, "c": 265, "d": 395, "e": 370}

v = defaultdict(dict)  # (arch, metric, workload) -> contender -> value
fails = defaultdict(int)
for line in open(f"{raw}/results.tsv"):
    arch, metric, w, c, val, extra = line.rstrip("\n").split("\t")
    v[(arch, metric, w)][c] = float(val)
    if metric == "ns":
        fails[(arch, c)] += int(extra)

out = []
p = out.append
for arch in archs:
    p(f"## {arch}\n")
    p("### Time, ns/op (mean over a batch of ~50k operations (at least one whole trace); best of 40 batches, contenders interleaved batch by batch in the Rust harness)\n")
    p("Raw figures include the harness; `harness` is the same replay with no allocator calls. "
      "The last column compares allocator-only time (raw minus harness): heapcaps (Rust API) "
      "divided by the faster of rlsf and talc (< 1 means heapcaps is faster).\n")
    p("| workload | heapcaps C API (release, opt-s) | heapcaps C API (bench, opt-3) | heapcaps Rust API | rlsf | talc | harness (Rust) | harness (C) | heapcaps / best other (net) |")
    p("|---|---|---|---|---|---|---|---|---|")
    for w, name in WORKLOADS.items():
        d = v[(arch, "ns", w)]
        if not d:
            continue
        base = d.get("baseline", 0.0)
        best = min(d["rlsf"], d["talc"]) - base
        ratio = (d["heapcaps"] - base) / best if best > 0 else float("nan")
        p(f"| {name} | {d['heapcaps-c-release']:.1f} | {d['heapcaps-c-bench']:.1f} | {d['heapcaps']:.1f} "
          f"| {d['rlsf']:.1f} | {d['talc']:.1f} | {base:.1f} | {d['baseline-c']:.1f} | {ratio:.2f} |")
    if any(fails[(arch, c)] for c in ("heapcaps", "rlsf", "talc", "heapcaps-c-release")):
        p("\nFailed operations during timing: " + ", ".join(
            f"{c} {fails[(arch, c)]}" for c in ("heapcaps", "rlsf", "talc", "heapcaps-c-release")))
    p("")
    p("### Instructions/op (callgrind): allocator only = raw minus harness baseline; raw (incl. minimal harness) in brackets\n")
    p("| workload | heapcaps C API (release) | heapcaps C API (bench) | heapcaps Rust API | rlsf | talc | harness Rust / C | ESP-IDF i686 target (raw) | heapcaps C release raw / ESP-IDF |")
    p("|---|---|---|---|---|---|---|---|---|")
    for w, name in WORKLOADS.items():
        d = v[(arch, "ir", w)]
        if not d:
            continue
        br, bc = d["baseline"], d["baseline-c"]

        def cell(c, b):
            return f"{d[c] - b:.0f} ({d[c]:.0f})"

        t = ESPIDF.get(w)
        ratio = f"{d['heapcaps-c-release'] / t:.2f}" if t else "-"
        p(f"| {name} | {cell('heapcaps-c-release', bc)} | {cell('heapcaps-c-bench', bc)} | {cell('heapcaps', br)} "
          f"| {cell('rlsf', br)} | {cell('talc', br)} | {br:.0f} / {bc:.0f} | {t or '-'} | {ratio} |")
    p("")
    p(f"### Fragmentation ({arch})\n")
    p(open(f"{raw}/frag-{arch}.md").read())
    p(f"### Memory ({arch})\n")
    p(open(f"{raw}/mem-{arch}.md").read())
print("\n".join(out))
