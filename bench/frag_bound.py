#!/usr/bin/env python3
"""What fragmentation test (a) can reach at all, with and without class rounding.

Test (a) of issue 2 (`heapcaps-bench frag`): fill a 256 KiB region with requests of 1..1024
bytes until one fails, free every other block, then refill with requests from the same
distribution until the first failure; the figure is the requested bytes live at that moment,
as a share of the region. The holes left by the fill have exactly the sizes of the blocks
freed, so a refill request fits only a hole at least as large as itself.

This script replays that test on an idealised allocator that always takes the smallest hole
that fits (perfect best fit, which no O(1) allocator does better than), with a 4-byte header,
4-byte rounding and a minimum payload of 8, and splits off any surplus of 16 bytes or more.
It does so for exact block sizes (what heapcaps does: 4 bytes of overhead at every size) and
for block sizes rounded up to 1/8, 1/16 or 1/32 of their power of two (what a TLSF that rounds
blocks to their class does; ESP-IDF's rounding costs 28 bytes at 1000 B). Averages over 64
seeds; a model, not a measurement of heapcaps.

    python3 bench/frag_bound.py
"""

import bisect
import random

REGION = 256 * 1024
CONTROL = 520  # heapcaps' control data + header + sentinel at 256 KiB
SEEDS = range(1, 65)


def payload(n, div):
    """Block payload for a request of n bytes, rounded to 1/div of its power of two."""
    p = max(8, (n + 3) & ~3)
    if div:
        t = p.bit_length() - 1
        g = max(4, (1 << t) // div)
        p = (p + g - 1) // g * g
    return p


def refill_share(seed, div):
    r = random.Random(seed)
    room = REGION - CONTROL
    used = 0
    blocks = []
    live = 0
    while True:
        n = r.randint(1, 1024)
        p = payload(n, div)
        if used + p + 4 > room:
            break
        blocks.append((n, p))
        used += p + 4
        live += n
    holes = []
    for i, (n, p) in enumerate(blocks):
        if i % 2 == 1:
            holes.append(p)
            live -= n
    if room - used >= 12:
        holes.append(room - used - 4)
    holes.sort()
    while True:
        n = r.randint(1, 1024)
        p = payload(n, div)
        i = bisect.bisect_left(holes, p)
        if i == len(holes):
            return 100.0 * live / REGION
        h = holes.pop(i)
        if h - p >= 16:
            bisect.insort(holes, h - p - 4)
        live += n


def main():
    print("Test (a) on a perfect best-fit allocator, 256 KiB, 64 seeds (% of the region live at")
    print("the first failed refill):\n")
    print("| block sizes | mean | worst seed |")
    print("|---|---|---|")
    for div, name in [(0, "exact (4-byte overhead)"), (32, "rounded to 1/32"),
                      (16, "rounded to 1/16"), (8, "rounded to 1/8")]:
        v = [refill_share(s, div) for s in SEEDS]
        print(f"| {name} | {sum(v) / len(v):.1f} | {min(v):.1f} |")


if __name__ == "__main__":
    main()
