#!/usr/bin/env python3
"""Turns bench/run.sh's raw results (results.tsv and the per-arch text files) into markdown."""
import sys
from collections import defaultdict

raw, archs = sys.argv[1], sys.argv[2:]
WORKLOADS = {
    "w1": "W1 ESP-IDF timing pattern",
    "w2-64": "W2 random, max 64 B",
    "w2-512": "W2 random, max 512 B",
    "w2-2048": "W2 random, max 2048 B",
    "w6-one": "W6 realloc growth, one buffer",
    "w6-two": "W6 realloc growth, two + small",
    "w8": "W8 firmware trace",
}
RUST = ["heapcaps", "rlsf", "talc", "linked_list", "dlmalloc"]
C = ["c-mh", "c-caps", "c-malloc"]
LABEL = {
    "heapcaps": "heapcaps multi_heap (Rust)",
    "c-mh": "heapcaps multi_heap_* (C)",
    "c-caps": "heapcaps heap_caps_* (C)",
    "c-malloc": "heapcaps malloc (C)",
    "c-sys": "heapcaps heap_caps_*/malloc (C)",
    "c-mh-poison": "heapcaps multi_heap_* (C), HEAP_POISONING_LIGHT",
}
OTHERS = ["rlsf", "talc", "linked_list", "dlmalloc"]


def load(raw):
    ns = defaultdict(dict)  # (arch, w) -> c -> (ns, fails)
    pt = defaultdict(dict)  # (arch, w, kind) -> c -> (mean, p999, max)
    ir = defaultdict(dict)  # (arch, w) -> c -> ir/op
    w5ir = defaultdict(dict)  # arch -> (c, op) -> ir
    bound = defaultdict(dict)  # arch -> (c, op) -> (n, min, mean, max)
    scale = defaultdict(dict)  # arch -> (n, fn) -> ir
    for line in open(f"{raw}/results.tsv"):
        f = line.split()
        if len(f) < 5:
            continue
        arch, metric = f[0], f[1]
        if metric == "ns":
            # Timing runs twice per arch; the lower (less disturbed) figure counts.
            old = ns[(arch, f[2])].get(f[3])
            v = (float(f[4]), int(f[5]))
            ns[(arch, f[2])][f[3]] = v if old is None or v[0] < old[0] else old
        elif metric == "pt":
            pt[(arch, f[2], f[4])][f[3]] = tuple(map(float, f[6:9]))
        elif metric == "ir":
            ir[(arch, f[2])][f[3]] = float(f[4])
        elif metric == "w5ir":
            w5ir[arch][(f[3], f[4])] = int(f[5])
        elif metric == "bound":
            bound[arch][(f[3], f[4])] = (int(f[5]), int(f[6]), float(f[7]), int(f[8]))
        elif metric == "scale":
            scale[arch][(int(f[2]), f[3])] = float(f[4])
    return ns, pt, ir, w5ir, bound, scale


def lines(path, tag):
    try:
        return [l.split()[1:] for l in open(path) if l.startswith(tag + " ")]
    except FileNotFoundError:
        return []


def markdown(path):
    try:
        return "".join(l for l in open(path) if not l.split(" ", 1)[0] in
                       ("eff", "curve", "overhead", "control"))
    except FileNotFoundError:
        return ""


def main():
    ns, pt, ir, w5ir, bound, scale = load(raw)
    if any("c-mh-poison" in d for d in ir.values()):
        C.append("c-mh-poison")
    out = []
    p = out.append
    for arch in archs:
        p(f"## {arch}\n")
        p("### Mean time per operation, ns (batch means: best of 2 x 15 batches of >= 50k ops, two passes minutes apart)\n")
        p("Allocator time = raw minus the harness's own time (same replay, no allocator). "
          "`harness` columns are that raw harness time.\n")
        cols = ["heapcaps"] + C + OTHERS
        p("| workload | " + " | ".join(LABEL.get(c, c) for c in cols) + " | harness Rust / C |")
        p("|---" * (len(cols) + 2) + "|")
        for w, name in WORKLOADS.items():
            d = ns[(arch, w)]
            if not d:
                continue
            hb, cb = d.get("baseline", (0, 0))[0], d.get("c-baseline", (0, 0))[0]
            cells = []
            for c in cols:
                if c not in d:
                    cells.append("-")
                    continue
                b = cb if c.startswith("c-") else hb
                cells.append(f"{d[c][0] - b:.1f}")
            p(f"| {name} | " + " | ".join(cells) + f" | {hb:.1f} / {cb:.1f} |")
        fails = {c: sum(ns[(arch, w)].get(c, (0, 0))[1] for w in WORKLOADS) for c in cols}
        if any(fails.values()):
            p("\nFailed operations (whole trace, counted once): " +
              ", ".join(f"{c} {n}" for c, n in fails.items() if n))
        p("")
        p("Ratio heapcaps (Rust multi_heap, net) / contender (net); < 1 means heapcaps is faster:\n")
        p("| workload | " + " | ".join(OTHERS) + " |")
        p("|---" * (len(OTHERS) + 1) + "|")
        for w, name in WORKLOADS.items():
            d = ns[(arch, w)]
            if not d:
                continue
            hb = d.get("baseline", (0, 0))[0]
            h = d["heapcaps"][0] - hb
            p(f"| {name} | " + " | ".join(
                f"{h / (d[c][0] - hb):.2f}" if d[c][0] - hb > 0 else "-" for c in OTHERS) + " |")
        p("")

        p("### Per-operation time (rdtsc around each op; per op the median of 5 replays), ns\n")
        p("Each figure includes the ~30-40 ns the two fenced rdtsc reads cost (see `harness`); "
          "the timer advances in steps of ~10 ns on this VM. p99.9 and max are over all ops of "
          "the workload (after taking each op's median over the replays, which removes most "
          "interrupts and page faults).\n")
        cols2 = ["baseline", "heapcaps"] + C + OTHERS
        for kind in ("malloc", "free", "realloc"):
            p(f"#### {kind}: mean / p99.9 / max\n")
            p("| workload | " + " | ".join(LABEL.get(c, "harness" if c == "baseline" else c)
                                         for c in cols2) + " |")
            p("|---" * (len(cols2) + 1) + "|")
            for w, name in WORKLOADS.items():
                d = pt[(arch, w, kind)]
                if not d:
                    continue
                cells = []
                for c in cols2:
                    k = "c-baseline" if c == "baseline" and c not in d else c
                    v = d.get(k)
                    cells.append(f"{v[0]:.0f} / {v[1]:.0f} / {v[2]:.0f}" if v else "-")
                p(f"| {name} | " + " | ".join(cells) + " |")
            p("")

        p("### Instructions per operation (callgrind; allocator only = raw minus harness)\n")
        p("| workload | " + " | ".join(LABEL.get(c, c) for c in cols) + " | harness Rust / C |")
        p("|---" * (len(cols) + 2) + "|")
        for w, name in WORKLOADS.items():
            d = ir[(arch, w)]
            if not d:
                continue
            hb, cb = d.get("baseline", 0), d.get("c-baseline", 0)
            cells = [f"{d[c] - (cb if c.startswith('c-') else hb):.0f}" if c in d else "-"
                     for c in cols]
            p(f"| {name} | " + " | ".join(cells) + f" | {hb:.0f} / {cb:.0f} |")
        p("")
        p("Ratio heapcaps (Rust multi_heap) / contender, instructions (net):\n")
        p("| workload | " + " | ".join(OTHERS) + " |")
        p("|---" * (len(OTHERS) + 1) + "|")
        for w, name in WORKLOADS.items():
            d = ir[(arch, w)]
            if not d:
                continue
            hb = d.get("baseline", 0)
            p(f"| {name} | " + " | ".join(
                f"{(d['heapcaps'] - hb) / (d[c] - hb):.2f}" for c in OTHERS) + " |")
        p("")

        if "c-mh-poison" in C:
            p("Light poisoning cost (C API, multi_heap_*): instructions and time with "
              "HEAP_POISONING_LIGHT / without, net of harness:\n")
            p("| workload | instructions | time |")
            p("|---|---|---|")
            for w, name in WORKLOADS.items():
                d, t = ir[(arch, w)], ns[(arch, w)]
                if "c-mh-poison" not in d:
                    continue
                cb, tb = d.get("c-baseline", 0), t.get("c-baseline", (0, 0))[0]
                p(f"| {name} | {(d['c-mh-poison'] - cb) / (d['c-mh'] - cb):.3f} | "
                  f"{(t['c-mh-poison'][0] - tb) / (t['c-mh'][0] - tb):.3f} |")
            p("")
        p("### W7: multi-region caps on simulated chips (C driver, malloc/realloc/free and "
          "heap_caps_malloc with 8BIT, DMA, 32BIT, INTERNAL|8BIT, DEFAULT (+ SPIRAM on S3))\n")
        p("| chip | mean ns/op (net) | instructions/op (net) | malloc mean / p99.9 / max ns | "
          "free mean / p99.9 / max ns | failed ops |")
        p("|---|---|---|---|---|---|")
        for w, chip in (("w7-esp32", "ESP32"), ("w7-s3", "ESP32-S3 + PSRAM")):
            d, di = ns[(arch, w)], ir[(arch, w)]
            if "c-sys" not in d:
                continue
            m = pt[(arch, w, "malloc")].get("c-sys", (0, 0, 0))
            fr = pt[(arch, w, "free")].get("c-sys", (0, 0, 0))
            p(f"| {chip} | {d['c-sys'][0] - d.get('c-baseline', (0, 0))[0]:.1f} | "
              f"{di.get('c-sys', 0) - di.get('c-baseline', 0):.0f} | "
              f"{m[0]:.0f} / {m[1]:.0f} / {m[2]:.0f} | {fr[0]:.0f} / {fr[1]:.0f} / {fr[2]:.0f} | "
              f"{d['c-sys'][1]} |")
        p("")

        p("### W3 efficiency and fragmentation (256 KiB region)\n")
        p(markdown(f"{raw}/frag-{arch}.txt"))
        p("### W4 overhead\n")
        p(markdown(f"{raw}/mem-{arch}.txt"))
        p("### Largest free block as a share of free space after W1 (256 KiB region)\n")
        p("Free space = the sum of a greedy fill (largest possible allocation, repeated), "
          "so every allocator is measured the same way; `heapcaps-info` is multi_heap_get_info's "
          "own largest_free_block / total_free_bytes.\n")
        p("| contender | largest / free | largest (B) | free (B) |")
        p("|---|---|---|---|")
        for f in lines(f"{raw}/largest-{arch}.txt", "largest"):
            p(f"| {f[0]} | {f[1]} | {f[2]} | {f[3]} |")
        p("")
        p("### W5 adversarial: 1500 unusable 32-byte holes, then malloc(2048) and its free\n")
        p("| contender | malloc instructions | free instructions | malloc ns median / max "
          "(21 fresh setups) | free ns median / max |")
        p("|---|---|---|---|---|")
        times = {f[0]: f[1:] for f in lines(f"{raw}/w5-{arch}.txt", "w5time")}
        for c in RUST:
            t = times.get(c, ["-"] * 4)
            p(f"| {c} | {w5ir[arch].get((c, 'malloc'), '-')} | {w5ir[arch].get((c, 'free'), '-')} "
              f"| {t[0]} / {t[1]} | {t[2]} / {t[3]} |")
        p("")
        p("### Worst-case bound: instructions of single malloc / free calls over many heap states\n")
        p("States: empty heap, W5's holes, every 1000 ops of W2 (max 512 B) and of W1, a heap "
          "filled with 1-1024 B blocks and half freed; in each, malloc of 1, 16, 64, 200, 1000, "
          "2048 and 6000 B and the free of each block (callgrind dump after every call).\n")
        p("| contender | malloc calls | malloc min / mean / max | free calls | free min / mean / max |")
        p("|---|---|---|---|---|")
        for c in RUST:
            m = bound[arch].get((c, "malloc"))
            f_ = bound[arch].get((c, "free"))
            if not m or not f_:
                continue
            p(f"| {c} | {m[0]} | {m[1]} / {m[2]:.0f} / {m[3]} | {f_[0]} | "
              f"{f_[1]} / {f_[2]:.0f} / {f_[3]} |")
        p("")
        p("### Caps layer against the number of heaps (instructions per call)\n")
        p("One 256 KiB DRAM boot heap plus N runtime 4 KiB IRAM-type regions (they sit at the "
          "head of the list and never match the 8BIT request); 1000 heap_caps_malloc(64, 8BIT), "
          "then 1000 heap_caps_free.\n")
        p("| runtime regions added | heaps | heap_caps_malloc | heap_caps_free |")
        p("|---|---|---|---|")
        for n in sorted({k[0] for k in scale[arch]}):
            p(f"| {n} | {n + 1} | {scale[arch].get((n, 'caps_malloc_n'), 0):.0f} | "
              f"{scale[arch].get((n, 'caps_free_n'), 0):.0f} |")
        p("")
    print("\n".join(out))


main()
