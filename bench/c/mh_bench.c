/* C driver of the heapcaps benchmark: replays a trace written by `heapcaps-bench trace` through
 * heapcaps' C API (linked with libheapcaps.a) on a 1 MiB region.
 *
 * Usage: mh_bench TRACE MODE REPS
 *   MODE   mh        multi_heap_* on the region (multi_heap.h)
 *          caps      heap_caps_*(..., MALLOC_CAP_8BIT) with the region added by
 *                    heap_caps_add_region_with_caps (runtime regions go first in the heap list)
 *          malloc    malloc/free/realloc (library built with --features c-malloc), region added
 *                    as DEFAULT|INTERNAL|8BIT|32BIT memory, so malloc takes it first
 *          sys       malloc/free/realloc and heap_caps_malloc on the simulated chip's own heaps
 *                    (HEAPCAPS_CHIP selects the chip; W7; c-malloc library)
 *          baseline  the harness alone, no allocator calls
 *   REPS > 0  replay once (warm-up, failure count), then 15 timed batches of REPS replays;
 *             prints "ops N fails F ns_per_op X" (X = best batch mean).
 *   REPS = 0  replay once: the callgrind mode (collect the function `replay`).
 *   REPS < 0  per-operation timing: -REPS timed replays, each op timed with rdtsc; per op the
 *             median over the replays; prints "pertime KIND N MEAN P99.9 MAX" (ns) per kind.
 * HEAPCAPS_BENCH_PAD=N adds N bytes to every request of the trace (bench/poisoning.sh: an
 * unpoisoned heap serving requests as large as light poisoning makes them, 12 bytes more).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <x86intrin.h>

#include "esp_heap_caps.h"
#include "esp_heap_caps_init.h"
#include "multi_heap.h"

/* Region size: 1 MiB, or HEAPCAPS_BENCH_REGION bytes (64 KiB..1 MiB), as in the Rust harness. */
#define REGION_MAX (1024 * 1024)
#define BATCHES 15

static _Alignas(16) uint8_t region[REGION_MAX];
static size_t region_size = REGION_MAX;
static multi_heap_handle_t heap;
static int mode;

/* Keeps the baseline's fake results observable, as black_box does in the Rust harness. */
static void *volatile sink;


/* Driver bookkeeping comes from mmap: with the c-malloc library, malloc is heapcaps on the
 * (small) simulated chip and must not be disturbed by the driver's own arrays. */
static void *big(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "mmap failed\n");
        exit(1);
    }
    return p;
}

#include "replay.h"

static inline uint64_t tsc(void)
{
    /* lfence by hand: -m32 builds do not enable SSE2 intrinsics by default. */
    __asm__ volatile("lfence" ::: "memory");
    uint64_t t = __rdtsc();
    __asm__ volatile("lfence" ::: "memory");
    return t;
}

__attribute__((noinline)) static void replay_timed(const op_t *ops, uint32_t n, void **slots,
                                                   uint32_t *ticks)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t t0 = tsc();
        step(&ops[i], slots);
        ticks[i] = (uint32_t)(tsc() - t0);
    }
}

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* TSC ticks per ns, against the monotonic clock over 30 ms. */
static double tsc_per_ns(void)
{
    double t0 = now_ns();
    uint64_t c0 = tsc();
    while (now_ns() - t0 < 30e6) {
    }
    return (double)(tsc() - c0) / (now_ns() - t0);
}

static void pertime(const op_t *ops, uint32_t n, void **slots, int reps)
{
    uint32_t *ticks = big(sizeof(uint32_t) * n * reps);
    uint32_t *col = big(sizeof(uint32_t) * reps);
    uint32_t *med = big(sizeof(uint32_t) * n);
    for (int r = 0; r < reps; r++) {
        replay_timed(ops, n, slots, ticks + (size_t)r * n);
    }
    for (uint32_t i = 0; i < n; i++) {
        for (int r = 0; r < reps; r++) {
            col[r] = ticks[(size_t)r * n + i];
        }
        qsort(col, reps, sizeof col[0], cmp_u32);
        med[i] = col[reps / 2];
    }
    double f = tsc_per_ns();
    static const char *names[] = {"malloc", "free", "realloc"};
    uint32_t *v = big(sizeof(uint32_t) * n);
    for (int k = 0; k < 4; k++) {
        uint32_t m = 0;
        double sum = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t kind = ops[i].kind;
            int kk = kind == OP_FREE ? 1 : kind == OP_REALLOC ? 2 : 0;
            if (k == 3 || kk == k) {
                v[m++] = med[i];
                sum += med[i];
            }
        }
        if (m == 0) {
            continue;
        }
        qsort(v, m, sizeof v[0], cmp_u32);
        uint32_t p = (uint32_t)((double)m * 0.999);
        if (p >= m) {
            p = m - 1;
        }
        printf("pertime %s %u %.2f %.2f %.2f\n", k == 3 ? "all" : names[k], m, sum / m / f,
               v[p] / f, v[m - 1] / f);
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s TRACE mh|caps|malloc|sys|baseline REPS\n", argv[0]);
        return 2;
    }
    const char *m = argv[2];
    mode = !strcmp(m, "mh")       ? M_MH
           : !strcmp(m, "caps")   ? M_CAPS
           : !strcmp(m, "malloc") ? M_MALLOC
           : !strcmp(m, "sys")    ? M_SYS
                                  : M_BASE;
    long reps = atol(argv[3]);
    const char *rs = getenv("HEAPCAPS_BENCH_REGION");
    if (rs != NULL && atol(rs) >= 64 * 1024 && atol(rs) <= REGION_MAX) {
        region_size = (size_t)atol(rs);
    }

    op_t *ops;
    uint32_t nops;
    void **slots;
    if (load_trace(argv[1], big, &ops, &nops, &slots) != 0 || setup_heap() != 0) {
        return 1;
    }
    const char *pad = getenv("HEAPCAPS_BENCH_PAD");
    if (pad != NULL) {
        uint32_t n = (uint32_t)atol(pad);
        for (uint32_t i = 0; i < nops; i++) {
            if (ops[i].kind != OP_FREE && ops[i].size != 0) {
                ops[i].size += n;
            }
        }
    }
    unsigned fails = replay(ops, nops, slots);
    if (mode == M_MH && !multi_heap_check(heap, true)) {
        fprintf(stderr, "warning: multi_heap_check failed after a full trace\n");
    }

    if (reps < 0) {
        pertime(ops, nops, slots, (int)-reps);
    } else if (reps > 0) {
        double batch[BATCHES];
        for (int b = 0; b < BATCHES; b++) {
            double t0 = now_ns();
            for (long r = 0; r < reps; r++) {
                replay(ops, nops, slots);
            }
            batch[b] = (now_ns() - t0) / ((double)reps * nops);
        }
        qsort(batch, BATCHES, sizeof batch[0], cmp_double);
        printf("ops %u fails %u ns_per_op %.2f\n", nops, fails, batch[0]);
    } else {
        printf("ops %u fails %u ns_per_op 0\n", nops, fails);
    }
    return 0;
}
