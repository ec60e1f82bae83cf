/* The benchmark's trace replay, shared by the C drivers (bench/c/mh_bench.c on hosts,
 * bench/qemu/rv_bench.c on QEMU's riscv32 machine): the trace format, the operation of each
 * mode and the replay loop. The including file defines `region`, `heap`, `mode` and `sink`
 * (and includes the heap headers) before this one.
 */
#ifndef HEAPCAPS_BENCH_REPLAY_H
#define HEAPCAPS_BENCH_REPLAY_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { OP_MALLOC = 0, OP_FREE = 1, OP_REALLOC = 2, OP_ALIGNED = 3, OP_CAPS = 4 };
enum { M_MH, M_CAPS, M_MALLOC, M_SYS, M_BASE };

typedef struct {
    uint32_t kind, slot, size, align;
} op_t;

static inline void *do_malloc(size_t n)
{
    switch (mode) {
    case M_MH: return multi_heap_malloc(heap, n);
    case M_CAPS: return heap_caps_malloc(n, MALLOC_CAP_8BIT);
    case M_BASE: sink = region + n; return sink;
    default: return malloc(n);
    }
}

static inline void *do_caps(size_t n, uint32_t caps)
{
    switch (mode) {
    case M_MH: return multi_heap_malloc(heap, n);
    case M_BASE: sink = region + n + caps; return sink;
    default: return heap_caps_malloc(n, caps);
    }
}

static inline void *do_aligned(size_t n, size_t a)
{
    switch (mode) {
    case M_MH: return multi_heap_aligned_alloc(heap, n, a);
    case M_BASE: sink = region + n + a; return sink;
    case M_CAPS: return heap_caps_aligned_alloc(a, n, MALLOC_CAP_8BIT);
    default: return heap_caps_aligned_alloc(a, n, MALLOC_CAP_DEFAULT);
    }
}

static inline void do_free(void *p)
{
    switch (mode) {
    case M_MH: multi_heap_free(heap, p); return;
    case M_CAPS: heap_caps_free(p); return;
    case M_BASE: sink = p; return;
    default: free(p); return;
    }
}

static inline void *do_realloc(void *p, size_t n)
{
    switch (mode) {
    case M_MH: return multi_heap_realloc(heap, p, n);
    case M_CAPS: return heap_caps_realloc(p, n, MALLOC_CAP_8BIT);
    case M_BASE: sink = (uint8_t *)p + n; return sink;
    default: return realloc(p, n);
    }
}

static inline unsigned step(const op_t *o, void **slots)
{
    void **s = &slots[o->slot];
    switch (o->kind) {
    case OP_MALLOC: *s = do_malloc(o->size); return *s == NULL;
    case OP_CAPS: *s = do_caps(o->size, o->align); return *s == NULL;
    case OP_ALIGNED: *s = do_aligned(o->size, o->align); return *s == NULL;
    case OP_FREE:
        if (*s != NULL) {
            do_free(*s);
            *s = NULL;
        }
        return 0;
    case OP_REALLOC:
        if (*s == NULL) {
            return 1;
        } else {
            void *q = do_realloc(*s, o->size);
            if (q == NULL) {
                return 1;
            }
            *s = q;
        }
        return 0;
    }
    return 0;
}

/* The whole harness; not inlined so callgrind can collect exactly this function. */
__attribute__((noinline)) static unsigned replay(const op_t *ops, uint32_t n, void **slots)
{
    unsigned fails = 0;
    for (uint32_t i = 0; i < n; i++) {
        fails += step(&ops[i], slots);
    }
    return fails;
}

/* Reads the trace at `path` (a header {slots, ops}, then the ops) into memory from `zalloc`
 * (zeroed), checking every slot index. 0 on success; a message on stderr otherwise. */
static int load_trace(const char *path, void *(*zalloc)(size_t), op_t **ops, uint32_t *nops,
                      void ***slots)
{
    FILE *f = fopen(path, "rb");
    uint32_t hdr[2];
    if (f == NULL || fread(hdr, sizeof hdr, 1, f) != 1) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    uint32_t nslots = hdr[0];
    *nops = hdr[1];
    *ops = zalloc(sizeof(op_t) * *nops + 1);
    *slots = zalloc(nslots * sizeof(void *));
    if (*ops == NULL || *slots == NULL || fread(*ops, sizeof(op_t), *nops, f) != *nops) {
        fprintf(stderr, "bad trace %s\n", path);
        return 1;
    }
    fclose(f);
    for (uint32_t i = 0; i < *nops; i++) {
        if ((*ops)[i].slot >= nslots) {
            fprintf(stderr, "bad slot in trace\n");
            return 1;
        }
    }
    return 0;
}

/* The heap of `mode` over `region` (`region_size` bytes): a multi_heap, or the region added to
 * the caps registry as default internal memory (runtime regions go first in the heap list).
 * 0 on success. */
static int setup_heap(void)
{
    if (mode == M_MH) {
        heap = multi_heap_register(region, region_size);
        if (heap == NULL) {
            fprintf(stderr, "multi_heap_register failed\n");
            return 1;
        }
    } else if (mode == M_CAPS || mode == M_MALLOC) {
        uint32_t caps[3] = {MALLOC_CAP_DEFAULT | MALLOC_CAP_INTERNAL | MALLOC_CAP_8BIT |
                                MALLOC_CAP_32BIT,
                            0, 0};
        esp_err_t e = heap_caps_add_region_with_caps(caps, (intptr_t)region,
                                                     (intptr_t)(region + region_size));
        if (e != ESP_OK) {
            fprintf(stderr, "heap_caps_add_region_with_caps: %d\n", (int)e);
            return 1;
        }
    }
    return 0;
}

#endif
