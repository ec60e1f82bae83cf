#!/usr/bin/env python3
"""What fragmentation test (a) can reach at all, with and without class rounding.

Test (a) of issue 2 (`heapcaps-bench frag`): fill a 256 KiB region with requests of 1..1024
bytes until one fails, free every other block, then refill with requests from the same
distribution until the first failure; the figure is the requested bytes live at that moment,
as a share of the region. The holes left by the fill have exactly the sizes of the blocks
freed, so a refill request fits only a hole at least as large as itself.

This script replays that test, with the benchmark's own random sizes (its xorshift64* generator
and seeds, so seed for seed the same requests), on an idealised allocator that always takes the
smallest hole that fits (perfect best fit, which no O(1) allocator does better than), with a
4-byte header, 4-byte rounding and a minimum payload of 8, and splits off any surplus of 12
bytes or more. It does so for exact block sizes (what heapcaps does: 4 bytes of overhead at
every size) and for block sizes of 64 bytes and more rounded up to 1/32, 1/16 or 1/8 of their
power of two (what a TLSF that rounds blocks to its classes does; ESP-IDF's TLSF rounds to 1/16
on a 256 KiB region, which costs it 28 bytes at a 1000-byte request). A model, not a
measurement of heapcaps: it checks what the test allows.

    python3 bench/frag_bound.py [SEEDS]     (default 8, the benchmark's; 64 for a wider sample)
"""

import bisect
import sys

REGION = 256 * 1024
CONTROL = 520  # heapcaps' control data + header + sentinel at 256 KiB
MASK = (1 << 64) - 1


class Rng:
    """The benchmark's generator (bench/src/workloads.rs, `Rng`)."""

    def __init__(self, seed):
        self.s = ((seed * 0x9E3779B97F4A7C15) & MASK) | 1

    def next(self):
        x = self.s
        x ^= x >> 12
        x ^= (x << 25) & MASK
        x ^= x >> 27
        self.s = x
        return ((x * 0x2545F4914F6CDD1D) & MASK) >> 32

    def range(self, lo, hi):
        """Uniform in lo..=hi."""
        return lo + ((self.next() * (hi - lo + 1)) >> 32)


def payload(n, div):
    """Block payload for a request of n bytes, rounded to 1/div of its power of two."""
    p = max(8, (n + 3) & ~3)
    if div and p >= 64:
        g = max(4, (1 << (p.bit_length() - 1)) // div)
        p = (p + g - 1) // g * g
    return p


def run(seed, div):
    """(fill, live at the first failed refill), % of the region."""
    r = Rng(seed)
    room = REGION - CONTROL
    used = 0
    blocks = []
    live = 0
    while True:
        n = r.range(1, 1024)
        p = payload(n, div)
        if used + p + 4 > room:
            break
        blocks.append((n, p))
        used += p + 4
        live += n
    fill = live
    holes = []
    for i, (n, p) in enumerate(blocks):
        if i % 2 == 1:
            holes.append(p)
            live -= n
    if room - used >= 12:
        holes.append(room - used - 4)
    holes.sort()
    while True:
        n = r.range(1, 1024)
        p = payload(n, div)
        i = bisect.bisect_left(holes, p)
        if i == len(holes):
            return 100.0 * fill / REGION, 100.0 * live / REGION
        h = holes.pop(i)
        if h - p >= 12:
            bisect.insort(holes, h - p - 4)
        live += n


def main():
    seeds = range(1, 1 + (int(sys.argv[1]) if len(sys.argv) > 1 else 8))
    print(f"Test (a) on a perfect best-fit allocator, 256 KiB, seeds 1-{seeds[-1]} (% of the region):\n")
    print("| block sizes | fill | live at the first failed refill | worst seed |")
    print("|---|---|---|---|")
    for div, name in [(0, "exact (4-byte overhead)"), (32, "rounded to 1/32"),
                      (16, "rounded to 1/16 (ESP-IDF's TLSF at 256 KiB)"), (8, "rounded to 1/8")]:
        v = [run(s, div) for s in seeds]
        fill = sum(f for f, _ in v) / len(v)
        first = [x for _, x in v]
        print(f"| {name} | {fill:.1f} | {sum(first) / len(first):.1f} | {min(first):.1f} |")


if __name__ == "__main__":
    main()
