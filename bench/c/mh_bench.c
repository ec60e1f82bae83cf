/* C driver of the heapcaps benchmark: replays a trace written by `heapcaps-bench trace` through
 * the multi_heap C API (include/multi_heap.h, linked with libheapcaps.a) on a 256 KiB region.
 *
 * Usage: mh_bench TRACE [REPS] [baseline]
 *   Replays the trace once (warm-up, failure count), then 40 timed batches of REPS replays,
 *   and prints "ops N fails F ns_per_op X" (X = best batch mean; the machine may be shared, and
 *   the best batch is the one least disturbed by other load). REPS 0 replays once only:
 *   the callgrind mode (collect the function `replay`). "baseline" runs the same harness with
 *   no allocator calls, to subtract the harness's own cost.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "multi_heap.h"

enum { OP_MALLOC = 0, OP_FREE = 1, OP_REALLOC = 2, OP_ALIGNED = 3 };
#define REGION (256 * 1024)
#define BATCHES 40

typedef struct {
    uint32_t kind, slot, size, align;
} op_t;

static _Alignas(16) uint8_t region[REGION];
static multi_heap_handle_t heap;
static int baseline;

/* Keeps the baseline's fake results observable, as black_box does in the Rust harness. */
static void *volatile sink;

static inline void *do_malloc(size_t n)
{
    if (baseline) {
        sink = region + n;
        return sink;
    }
    return multi_heap_malloc(heap, n);
}

static inline void *do_aligned(size_t n, size_t a)
{
    if (baseline) {
        sink = region + n + a;
        return sink;
    }
    return multi_heap_aligned_alloc(heap, n, a);
}

static inline void do_free(void *p)
{
    if (baseline) {
        sink = p;
        return;
    }
    multi_heap_free(heap, p);
}

static inline void *do_realloc(void *p, size_t n)
{
    if (baseline) {
        sink = (uint8_t *)p + n;
        return sink;
    }
    return multi_heap_realloc(heap, p, n);
}

/* The whole harness; not inlined so callgrind can collect exactly this function. */
__attribute__((noinline)) static unsigned replay(const op_t *ops, uint32_t n, void **slots)
{
    unsigned fails = 0;
    for (uint32_t i = 0; i < n; i++) {
        const op_t *o = &ops[i];
        void **s = &slots[o->slot];
        switch (o->kind) {
        case OP_MALLOC:
            *s = do_malloc(o->size);
            fails += *s == NULL;
            break;
        case OP_ALIGNED:
            *s = do_aligned(o->size, o->align);
            fails += *s == NULL;
            break;
        case OP_FREE:
            if (*s != NULL) {
                do_free(*s);
                *s = NULL;
            }
            break;
        case OP_REALLOC:
            if (*s == NULL) {
                fails++;
            } else {
                void *q = do_realloc(*s, o->size);
                if (q == NULL) {
                    fails++;
                } else {
                    *s = q;
                }
            }
            break;
        }
    }
    return fails;
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

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s TRACE [REPS] [baseline]\n", argv[0]);
        return 2;
    }
    long reps = argc > 2 ? atol(argv[2]) : 0;
    baseline = argc > 3 && strcmp(argv[3], "baseline") == 0;

    FILE *f = fopen(argv[1], "rb");
    uint32_t hdr[2];
    if (f == NULL || fread(hdr, sizeof hdr, 1, f) != 1) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }
    uint32_t nslots = hdr[0], nops = hdr[1];
    op_t *ops = malloc(sizeof(op_t) * nops);
    void **slots = calloc(nslots, sizeof(void *));
    if (ops == NULL || slots == NULL || fread(ops, sizeof(op_t), nops, f) != nops) {
        fprintf(stderr, "bad trace %s\n", argv[1]);
        return 1;
    }
    fclose(f);
    for (uint32_t i = 0; i < nops; i++) {
        if (ops[i].slot >= nslots) {
            fprintf(stderr, "bad slot in trace\n");
            return 1;
        }
    }

    heap = multi_heap_register(region, REGION);
    if (heap == NULL) {
        fprintf(stderr, "multi_heap_register failed\n");
        return 1;
    }
    size_t free_before = multi_heap_free_size(heap);
    unsigned fails = replay(ops, nops, slots);
    if (!baseline && !multi_heap_check(heap, true)) {
        fprintf(stderr, "warning: multi_heap_check failed after a full trace\n");
    }
    if (!baseline && multi_heap_free_size(heap) != free_before) {
        fprintf(stderr, "warning: free size %zu -> %zu after a full trace\n", free_before,
                multi_heap_free_size(heap));
    }

    double ns = 0;
    if (reps > 0) {
        double batch[BATCHES];
        for (int b = 0; b < BATCHES; b++) {
            double t0 = now_ns();
            for (long r = 0; r < reps; r++) {
                replay(ops, nops, slots);
            }
            batch[b] = (now_ns() - t0) / ((double)reps * nops);
        }
        qsort(batch, BATCHES, sizeof batch[0], cmp_double);
        ns = batch[0];
    }
    printf("ops %u fails %u ns_per_op %.2f\n", nops, fails, ns);
    free(ops);
    free(slots);
    return 0;
}
