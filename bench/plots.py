#!/usr/bin/env python3
"""Renders bench/run.sh's raw results as PNG charts in bench/results/ (matplotlib).

Usage: plots.py RAW_DIR OUT_DIR ARCH...
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
raw, out, archs = sys.argv[1], sys.argv[2], sys.argv[3:]

WORKLOADS = ["w1", "w2-64", "w2-512", "w2-2048", "w6-one", "w6-two", "w8"]
WNAME = {"w1": "W1\nESP-IDF", "w2-64": "W2\n64 B", "w2-512": "W2\n512 B", "w2-2048": "W2\n2048 B",
         "w6-one": "W6\none", "w6-two": "W6\ntwo", "w8": "W8\nfirmware"}
MAIN = ["heapcaps", "c-mh", "rlsf", "talc", "linked_list", "dlmalloc"]
LABEL = {"heapcaps": "heapcaps (Rust)", "c-mh": "heapcaps multi_heap_* (C)",
         "c-caps": "heapcaps heap_caps_* (C)", "c-malloc": "heapcaps malloc (C)"}
COLOR = {"heapcaps": "#d62728", "c-mh": "#ff7f0e", "c-caps": "#e377c2", "c-malloc": "#bcbd22",
         "rlsf": "#1f77b4", "talc": "#2ca02c", "linked_list": "#7f7f7f", "dlmalloc": "#9467bd"}


def rows():
    for line in open(f"{raw}/results.tsv"):
        f = line.split()
        if len(f) >= 5:
            yield f


def bars(ax, data, contenders, ylabel, title, log=False):
    """data: workload -> contender -> value."""
    ws = [w for w in WORKLOADS if w in data]
    n = len(contenders)
    width = 0.8 / n
    for i, c in enumerate(contenders):
        xs = [k + (i - (n - 1) / 2) * width for k in range(len(ws))]
        ys = [data[w].get(c, 0) for w in ws]
        ax.bar(xs, ys, width, label=LABEL.get(c, c), color=COLOR.get(c))
    ax.set_xticks(range(len(ws)))
    ax.set_xticklabels([WNAME[w] for w in ws], fontsize=9)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if log:
        ax.set_yscale("log")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncol=3)


def save(fig, name):
    fig.tight_layout()
    fig.savefig(os.path.join(out, name), dpi=110)
    plt.close(fig)
    print("wrote", os.path.join(out, name))


def timing(arch):
    ns, ir, p999 = {}, {}, {}
    for f in rows():
        if f[0] != arch:
            continue
        if f[1] == "ns":
            d = ns.setdefault(f[2], {})
            d[f[3]] = min(float(f[4]), d.get(f[3], float("inf")))
        elif f[1] == "ir":
            ir.setdefault(f[2], {})[f[3]] = float(f[4])
        elif f[1] == "pt" and f[4] == "all":
            p999.setdefault(f[2], {})[f[3]] = float(f[7])
    net = lambda d, hb, cb: {w: {c: v - (d[w].get(cb if c.startswith("c-") else hb, 0))
                                 for c, v in d[w].items()} for w in d}
    fig, axes = plt.subplots(3, 1, figsize=(11, 12))
    bars(axes[0], net(ns, "baseline", "c-baseline"), MAIN, "ns per operation (net of harness)",
         f"Mean time per operation ({arch}; lower is better)", log=True)
    bars(axes[1], net(ir, "baseline", "c-baseline"), MAIN, "instructions per operation",
         f"Instructions per operation, callgrind ({arch}; lower is better)", log=True)
    bars(axes[2], p999, MAIN, "ns (incl. ~35 ns timer cost)",
         f"p99.9 time of a single operation ({arch}; lower is better)", log=True)
    save(fig, f"timing-{arch}.png")

    # The caps layer and malloc against multi_heap (C API).
    fig, ax = plt.subplots(figsize=(11, 4.5))
    bars(ax, net(ir, "baseline", "c-baseline"), ["c-mh", "c-caps", "c-malloc"],
         "instructions per operation", f"heapcaps C entry points, callgrind ({arch})")
    save(fig, f"capi-{arch}.png")


def efficiency(arch):
    curves, eff = {}, {}
    try:
        for line in open(f"{raw}/frag-{arch}.txt"):
            f = line.split()
            if f and f[0] == "curve":
                curves.setdefault(f[1], []).append((int(f[2]), float(f[3])))
            elif f and f[0] == "eff":
                eff[f[1]] = [float(x) for x in f[2:]]
    except FileNotFoundError:
        return
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [2, 1]})
    for c, pts in curves.items():
        ys = sorted(p[1] for p in pts)
        a1.plot(range(1, len(ys) + 1), ys, label=c, color=COLOR.get(c), lw=1.5, marker=".")
    a1.set_xlabel("seed, sorted by result")
    a1.set_ylabel("live bytes at first failure, % of region")
    a1.set_title(f"W3 utilisation at the first failure, 64 seeds ({arch}; higher is better)")
    a1.grid(alpha=0.3)
    a1.legend(fontsize=8)
    cs = list(eff)
    a2.bar(range(len(cs)), [eff[c][3] for c in cs], color=[COLOR.get(c) for c in cs])
    for i, c in enumerate(cs):
        a2.text(i, eff[c][3] + 0.3, f"{eff[c][3]:.1f}", ha="center", fontsize=8)
    a2.set_xticks(range(len(cs)))
    a2.set_xticklabels(cs, rotation=30, fontsize=8)
    a2.set_ylim(80, 100)
    a2.set_ylabel("% of region live at first failure")
    a2.set_title("W3 efficiency (mean of 8 seeds)")
    a2.grid(axis="y", alpha=0.3)
    save(fig, f"efficiency-{arch}.png")


def overhead(arch):
    ov, ctl = [], []
    try:
        for line in open(f"{raw}/mem-{arch}.txt"):
            f = line.split()
            if f and f[0] == "overhead":
                ov.append([int(x) for x in f[1:]])
            elif f and f[0] == "control":
                ctl.append([int(x) for x in f[1:]])
    except FileNotFoundError:
        return
    names = ["heapcaps", "rlsf", "talc", "linked_list", "dlmalloc"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.5))
    n = len(names)
    for i, c in enumerate(names):
        xs = [k + (i - (n - 1) / 2) * 0.16 for k in range(len(ov))]
        a1.bar(xs, [r[i + 2] for r in ov], 0.16, label=c, color=COLOR.get(c))
    a1.set_xticks(range(len(ov)))
    a1.set_xticklabels([str(r[0]) for r in ov])
    a1.set_xlabel("request size (B)")
    a1.set_ylabel("bytes consumed beyond the request")
    a1.set_title(f"W4 overhead per allocation ({arch})")
    a1.legend(fontsize=8)
    a1.grid(axis="y", alpha=0.3)
    for i, c in enumerate(names):
        a2.plot([r[0] for r in ctl], [max(r[i + 1], 1) for r in ctl], marker="o", label=c,
                color=COLOR.get(c))
    a2.set_xscale("log", base=2)
    a2.set_yscale("log")
    a2.set_xlabel("region size (KiB)")
    a2.set_ylabel("control bytes (region - largest allocation)")
    a2.set_title("W4 control bytes per region size")
    a2.legend(fontsize=8)
    a2.grid(alpha=0.3)
    save(fig, f"overhead-{arch}.png")


def bounds(arch):
    bd, w5, sc = {}, {}, {}
    for f in rows():
        if f[0] != arch:
            continue
        if f[1] == "bound":
            bd[(f[3], f[4])] = int(f[8])
        elif f[1] == "w5ir":
            w5[(f[3], f[4])] = int(f[5])
        elif f[1] == "scale":
            sc.setdefault(f[3], []).append((int(f[2]) + 1, float(f[4])))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.5))
    names = ["heapcaps", "rlsf", "talc", "linked_list", "dlmalloc"]
    width = 0.2
    for j, (lab, d, op) in enumerate([("W5 malloc(2048)", w5, "malloc"), ("W5 free", w5, "free"),
                                      ("max malloc, all states", bd, "malloc"),
                                      ("max free, all states", bd, "free")]):
        xs = [k + (j - 1.5) * width for k in range(len(names))]
        a1.bar(xs, [d.get((c, op), 0) for c in names], width, label=lab,
               color=["#1f77b4", "#aec7e8", "#d62728", "#ff9896"][j])
    a1.set_xticks(range(len(names)))
    a1.set_xticklabels(names, fontsize=9)
    a1.set_yscale("log")
    a1.set_ylabel("instructions of one call (callgrind)")
    a1.set_title(f"Worst single operation ({arch}; lower is better)")
    a1.legend(fontsize=8)
    a1.grid(axis="y", alpha=0.3)
    for fn, lab in (("caps_malloc_n", "heap_caps_malloc(64, 8BIT)"), ("caps_free_n", "heap_caps_free")):
        pts = sorted(sc.get(fn, []))
        a2.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=lab + " (index)")
    before = os.path.join(os.path.dirname(os.path.abspath(__file__)), "listwalk-scale.txt")
    if os.path.exists(before):
        lw = {}
        for line in open(before):
            f = line.split()
            if len(f) == 4 and f[0] == arch:
                lw.setdefault(f[2], []).append((int(f[1]) + 1, float(f[3])))
        for fn, lab in (("caps_malloc_n", "heap_caps_malloc"), ("caps_free_n", "heap_caps_free")):
            pts = sorted(lw.get(fn, []))
            a2.plot([p[0] for p in pts], [p[1] for p in pts], marker="x", ls="--",
                    label=lab + " (list walk, before)")
    a2.set_xlabel("registered heaps")
    a2.set_ylabel("instructions per call")
    a2.set_title("Caps layer cost against the number of heaps")
    a2.legend(fontsize=8)
    a2.grid(alpha=0.3)
    save(fig, f"bounds-{arch}.png")


def criterion(arch):
    """bench/criterion.sh's table for `arch` (in RAW/criterion.md): bars with the 95 % interval."""
    try:
        lines = open(f"{raw}/criterion.md").read().split("\n")
    except FileNotFoundError:
        return
    names = ["heapcaps", "rlsf", "talc", "linked_list", "dlmalloc"]
    data, inside = {}, False
    for line in lines:
        if line.startswith("#"):
            inside = line.lstrip("# ").startswith(f"{arch}: criterion")
        elif inside and line.startswith("| w"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            d = data.setdefault(cells[0], {})
            for c, cell in zip(names, cells[1:1 + len(names)]):
                mean, ci = cell.split(" ", 1)
                lo, hi = ci.strip("[]").split("-")
                d[c] = (float(mean), float(lo), float(hi))
    if not data:
        return
    fig, ax = plt.subplots(figsize=(11, 5))
    ws = [w for w in WORKLOADS if w in data]
    width = 0.8 / len(names)
    for i, c in enumerate(names):
        xs = [k + (i - (len(names) - 1) / 2) * width for k in range(len(ws))]
        vals = [data[w][c] for w in ws]
        ax.bar(xs, [v[0] for v in vals], width, label=LABEL.get(c, c), color=COLOR.get(c),
               yerr=[[v[0] - v[1] for v in vals], [v[2] - v[0] for v in vals]], capsize=2)
    ax.set_xticks(range(len(ws)))
    ax.set_xticklabels([WNAME[w] for w in ws], fontsize=9)
    ax.set_yscale("log")
    ax.set_ylabel("ns per operation (net of harness)")
    ax.set_title(f"Criterion, hot replays, mean and 95 % interval ({arch}; lower is better)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncol=3)
    save(fig, f"criterion-{arch}.png")


for arch in archs:
    criterion(arch)
    timing(arch)
    efficiency(arch)
    overhead(arch)
    bounds(arch)
