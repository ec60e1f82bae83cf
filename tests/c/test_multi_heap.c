/*
 * C tests of the multi_heap API (include/multi_heap.h), run through the Unity-style harness.
 *
 * The scenarios follow the intent of ESP-IDF's host multi_heap tests (simple allocations,
 * fragmentation, defrag, random allocations, get_info, minimum-size allocations, realloc,
 * aligned allocations, overhead, corruption detection), written anew for heapcaps, plus bad
 * input, abort-on-invalid-free, dump format and locking tests.
 *
 * Heap payloads are only 4-byte aligned (as in ESP-IDF), so these tests store bytes and 32-bit
 * words in heap blocks, never 8-byte types: UBSan's alignment check stays on on every target.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#include "multi_heap.h"
#include "unity.h"

#ifdef __linux__
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fork_capture.h"
#endif
#include "walk_log.h"

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */
/* ------------------------------------------------------------------------------------------ */

#define SMALL_HEAP 4096
#ifdef __linux__
#define BIG_HEAP (8191 * 1024)
#else
/* On a chip the random-allocation test only runs the region sizes that fit in RAM. */
#define BIG_HEAP (64 * 1024)
#endif

static uint8_t small_mem[SMALL_HEAP] __attribute__((aligned(16)));
static uint8_t other_mem[SMALL_HEAP] __attribute__((aligned(16)));
static uint8_t big_mem[BIG_HEAP] __attribute__((aligned(16)));

/* Deterministic PRNG (xorshift32) so failures reproduce. */
static uint32_t rng_state = 0x12345678u;
static uint32_t rnd(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rng_state = x;
    return x;
}

static multi_heap_handle_t new_heap(void *mem, size_t size)
{
    memset(mem, 0xEE, size);
    multi_heap_handle_t h = multi_heap_register(mem, size);
    TEST_ASSERT_NOT_NULL(h);
    TEST_ASSERT_TRUE(multi_heap_check(h, true));
    return h;
}

static bool in_region(const void *p, const void *mem, size_t size)
{
    uintptr_t a = (uintptr_t)p;
    uintptr_t s = (uintptr_t)mem;
    return a >= s && a < s + size;
}

/* Sum of (payload + 4-byte header) over free blocks, via the walker. */
typedef struct {
    size_t free_bytes;
    size_t used_bytes;
    size_t used_blocks;
    size_t free_blocks;
    size_t visited;
    size_t stop_after;
} walk_sum_t;

static bool sum_walker(void *block_ptr, size_t block_size, int block_used, void *user_data)
{
    walk_sum_t *w = (walk_sum_t *)user_data;
    (void)block_ptr;
    w->visited++;
    if (block_used) {
        w->used_bytes += block_size;
        w->used_blocks++;
    } else {
        w->free_bytes += block_size;
        w->free_blocks++;
    }
    return w->stop_after == 0 || w->visited < w->stop_after;
}

/* Cross-checks every counter the API exposes; call after every operation. */
static void check_accounting(multi_heap_handle_t h)
{
    multi_heap_info_t info;
    walk_sum_t w;
    memset(&w, 0, sizeof w);
    TEST_ASSERT_TRUE(multi_heap_check(h, true));
    multi_heap_get_info(h, &info);
    multi_heap_walk(h, sum_walker, &w);
    TEST_ASSERT_EQUAL_size_t(multi_heap_free_size(h), info.total_free_bytes);
    TEST_ASSERT_EQUAL_size_t(multi_heap_minimum_free_size(h), info.minimum_free_bytes);
    TEST_ASSERT_LESS_OR_EQUAL_size_t(info.total_free_bytes, info.minimum_free_bytes);
    TEST_ASSERT_EQUAL_size_t(w.used_bytes, info.total_allocated_bytes);
    TEST_ASSERT_EQUAL_size_t(w.used_blocks, info.allocated_blocks);
    TEST_ASSERT_EQUAL_size_t(w.free_blocks, info.free_blocks);
    TEST_ASSERT_EQUAL_size_t(w.used_blocks + w.free_blocks, info.total_blocks);
    /* Free bytes count each free block's 4-byte header, as ESP-IDF's TLSF accounting does. */
    TEST_ASSERT_EQUAL_size_t(w.free_bytes + 4 * w.free_blocks, info.total_free_bytes);
    TEST_ASSERT_LESS_OR_EQUAL_size_t(info.total_free_bytes, info.largest_free_block);
}

static void fill(void *p, size_t n, uint8_t seed)
{
    memset(p, seed, n);
}

static bool filled(const void *p, size_t n, uint8_t seed)
{
    const uint8_t *b = (const uint8_t *)p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != seed) {
            return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Ports of the intent of ESP-IDF's host multi_heap tests                                    */
/* ------------------------------------------------------------------------------------------ */

TEST_CASE("multi_heap simple allocations", "[multi_heap]")
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    size_t start_free = multi_heap_free_size(h);
    size_t test_alloc_size = (start_free + 4) / 2;

    uint8_t *buf = (uint8_t *)multi_heap_malloc(h, test_alloc_size);
    TEST_ASSERT_NOT_NULL(buf);
    TEST_ASSERT_TRUE(in_region(buf, small_mem, sizeof small_mem));
    TEST_ASSERT_TRUE(in_region(buf + test_alloc_size - 1, small_mem, sizeof small_mem));
    TEST_ASSERT_GREATER_OR_EQUAL_size_t(test_alloc_size, multi_heap_get_allocated_size(h, buf));
    fill(buf, test_alloc_size, 0xA5);
    check_accounting(h);

    /* More than half the heap is taken: a second block of the same size cannot fit. */
    TEST_ASSERT_NULL(multi_heap_malloc(h, test_alloc_size));
    check_accounting(h);

    multi_heap_free(h, buf);
    check_accounting(h);
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_free_size(h));

    buf = (uint8_t *)multi_heap_malloc(h, test_alloc_size);
    TEST_ASSERT_NOT_NULL(buf);
    multi_heap_free(h, buf);
    TEST_ASSERT_GREATER_THAN_size_t(multi_heap_minimum_free_size(h), multi_heap_free_size(h));
    check_accounting(h);
}

TEST_CASE("multi_heap fragmentation", "[multi_heap]")
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    size_t start_free = multi_heap_free_size(h);
    void *p[4];
    for (int i = 0; i < 4; i++) {
        p[i] = multi_heap_malloc(h, 500);
        TEST_ASSERT_NOT_NULL(p[i]);
        fill(p[i], 500, (uint8_t)i);
        check_accounting(h);
    }
    TEST_ASSERT_NULL(multi_heap_malloc(h, 2500));

    /* Free two neighbours: they merge into one block big enough for ~1000 bytes. */
    multi_heap_free(h, p[1]);
    check_accounting(h);
    TEST_ASSERT_NULL(multi_heap_malloc(h, 2500));
    multi_heap_free(h, p[2]);
    check_accounting(h);
    void *big = multi_heap_malloc(h, 1000);
    TEST_ASSERT_NOT_NULL(big);
    TEST_ASSERT_TRUE(filled(p[0], 500, 0));
    TEST_ASSERT_TRUE(filled(p[3], 500, 3));
    check_accounting(h);
    multi_heap_free(h, big);
    multi_heap_free(h, p[0]);
    check_accounting(h);
    multi_heap_free(h, p[3]);
    check_accounting(h);
    /* Everything merged back: the big request fits again. */
    big = multi_heap_malloc(h, 2500);
    TEST_ASSERT_NOT_NULL(big);
    multi_heap_free(h, big);
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_free_size(h));
    check_accounting(h);
}

/* ESP-IDF expects exact address reuse here (TLSF placement). heapcaps' TLSF reuses the freed
 * block the same way: a freed block at the start of the heap is the best fit found first. */
TEST_CASE("multi_heap defrag", "[multi_heap]")
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    multi_heap_info_t info0, info;
    multi_heap_get_info(h, &info0);

    void *p0 = multi_heap_malloc(h, 128);
    void *p1 = multi_heap_malloc(h, 32);
    TEST_ASSERT_NOT_NULL(p0);
    TEST_ASSERT_NOT_NULL(p1);
    multi_heap_free(h, p0);
    void *p2 = multi_heap_malloc(h, 64);
    TEST_ASSERT_EQUAL_PTR(p0, p2);
    multi_heap_free(h, p2);
    void *p3 = multi_heap_malloc(h, 32);
    TEST_ASSERT_EQUAL_PTR(p0, p3);
    check_accounting(h);

    multi_heap_get_info(h, &info);
    TEST_ASSERT_EQUAL_size_t(2, info.allocated_blocks);
    TEST_ASSERT_EQUAL_size_t(2, info.free_blocks);

    multi_heap_free(h, p1);
    multi_heap_free(h, p3);
    multi_heap_get_info(h, &info);
    TEST_ASSERT_EQUAL_size_t(0, info.allocated_blocks);
    TEST_ASSERT_EQUAL_size_t(1, info.free_blocks);
    TEST_ASSERT_EQUAL_size_t(info0.total_free_bytes, info.total_free_bytes);
    check_accounting(h);
}

TEST_CASE("multi_heap defrag realloc", "[multi_heap]")
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    multi_heap_info_t info0, info;
    multi_heap_get_info(h, &info0);

    void *p0 = multi_heap_malloc(h, 128);
    void *p1 = multi_heap_malloc(h, 32);
    TEST_ASSERT_NOT_NULL(p0);
    TEST_ASSERT_NOT_NULL(p1);
    /* Shrinking in place keeps the address and splits off a free remainder. */
    void *p2 = multi_heap_realloc(h, p0, 64);
    TEST_ASSERT_EQUAL_PTR(p0, p2);
    void *p3 = multi_heap_realloc(h, p2, 32);
    TEST_ASSERT_EQUAL_PTR(p0, p3);
    check_accounting(h);

    multi_heap_get_info(h, &info);
    TEST_ASSERT_EQUAL_size_t(2, info.allocated_blocks);
    TEST_ASSERT_EQUAL_size_t(2, info.free_blocks);

    multi_heap_free(h, p1);
    multi_heap_free(h, p3);
    multi_heap_get_info(h, &info);
    TEST_ASSERT_EQUAL_size_t(0, info.allocated_blocks);
    TEST_ASSERT_EQUAL_size_t(1, info.free_blocks);
    TEST_ASSERT_EQUAL_size_t(info0.total_free_bytes, info.total_free_bytes);
    check_accounting(h);
}

#define NUM_POINTERS 64
#define ITERATIONS 5000

static void random_allocations(size_t heap_size)
{
    multi_heap_handle_t h = new_heap(big_mem, heap_size);
    size_t start_free = multi_heap_free_size(h);
    size_t lowest = start_free;
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_minimum_free_size(h));
    void *p[NUM_POINTERS];
    size_t s[NUM_POINTERS];
    memset(p, 0, sizeof p);
    memset(s, 0, sizeof s);

    for (int i = 0; i < ITERATIONS; i++) {
        unsigned n = rnd() % NUM_POINTERS;
        size_t new_size = rnd() % 1024;
        uint8_t seed = (uint8_t)(n + 1);
        uint32_t op = rnd() % 4;

        if (p[n] != NULL) {
            TEST_ASSERT_TRUE(filled(p[n], s[n], seed));
            TEST_ASSERT_GREATER_OR_EQUAL_size_t(s[n], multi_heap_get_allocated_size(h, p[n]));
        }
        if (op == 0 && p[n] != NULL) {
            /* realloc keeps the common prefix. */
            size_t before = multi_heap_free_size(h);
            size_t old_full = multi_heap_get_allocated_size(h, p[n]);
            void *np = multi_heap_realloc(h, p[n], new_size);
            if (new_size == 0) {
                TEST_ASSERT_NULL(np);
                /* realloc(p, 0) frees p and credits its bytes (ESP-IDF forgets the credit). */
                TEST_ASSERT_EQUAL_size_t(before + old_full + 4, multi_heap_free_size(h));
                p[n] = NULL;
                s[n] = 0;
            } else if (np != NULL) {
                size_t keep = s[n] < new_size ? s[n] : new_size;
                TEST_ASSERT_TRUE(filled(np, keep, seed));
                /* In place or moved, the free size changes by exactly the size difference. */
                TEST_ASSERT_EQUAL_size_t(before + old_full - multi_heap_get_allocated_size(h, np),
                                         multi_heap_free_size(h));
                p[n] = np;
                s[n] = new_size;
                fill(np, new_size, seed);
            } else {
                /* Failed realloc leaves the old block alone. */
                TEST_ASSERT_EQUAL_size_t(before, multi_heap_free_size(h));
                TEST_ASSERT_TRUE(filled(p[n], s[n], seed));
            }
        } else if (op == 1 || p[n] != NULL) {
            size_t before = multi_heap_free_size(h);
            size_t full = p[n] ? multi_heap_get_allocated_size(h, p[n]) : 0;
            multi_heap_free(h, p[n]);
            if (full) {
                TEST_ASSERT_EQUAL_size_t(before + full + 4, multi_heap_free_size(h));
            } else {
                TEST_ASSERT_EQUAL_size_t(before, multi_heap_free_size(h));
            }
            p[n] = NULL;
            s[n] = 0;
        } else {
            size_t before = multi_heap_free_size(h);
            p[n] = multi_heap_malloc(h, new_size);
            if (p[n] != NULL) {
                s[n] = new_size;
                TEST_ASSERT_TRUE(in_region(p[n], big_mem, heap_size));
                TEST_ASSERT_TRUE(in_region((uint8_t *)p[n] + new_size - 1, big_mem, heap_size));
                TEST_ASSERT_EQUAL_size_t(0, (uintptr_t)p[n] % 4);
                TEST_ASSERT_EQUAL_size_t(before - multi_heap_get_allocated_size(h, p[n]) - 4,
                                         multi_heap_free_size(h));
                fill(p[n], new_size, seed);
            } else {
                TEST_ASSERT_EQUAL_size_t(before, multi_heap_free_size(h));
                s[n] = 0;
            }
        }
        TEST_ASSERT_TRUE(multi_heap_check(h, true));
        /* The low-water mark is exactly the lowest free size seen after any operation (a
         * moving realloc counts its net change, as in ESP-IDF). */
        if (multi_heap_free_size(h) < lowest) {
            lowest = multi_heap_free_size(h);
        }
        TEST_ASSERT_EQUAL_size_t(lowest, multi_heap_minimum_free_size(h));
        if (i % 256 == 0) {
            check_accounting(h);
        }
    }
    for (int i = 0; i < NUM_POINTERS; i++) {
        multi_heap_free(h, p[i]);
    }
    check_accounting(h);
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_free_size(h));
}

TEST_CASE("multi_heap many random allocations", "[multi_heap]")
{
    static const size_t sizes[] = {15 * 1024, 255 * 1024, 4095 * 1024, 8191 * 1024};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0] && sizes[i] <= BIG_HEAP; i++) {
        random_allocations(sizes[i]);
    }
}

TEST_CASE("multi_heap_get_info() function", "[multi_heap]")
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    multi_heap_info_t before, after, freed;

    multi_heap_get_info(h, &before);
    TEST_ASSERT_EQUAL_size_t(0, before.allocated_blocks);
    TEST_ASSERT_EQUAL_size_t(0, before.total_allocated_bytes);
    TEST_ASSERT_EQUAL_size_t(before.total_free_bytes, before.minimum_free_bytes);

    void *x = multi_heap_malloc(h, 32);
    TEST_ASSERT_NOT_NULL(x);
    multi_heap_get_info(h, &after);
    TEST_ASSERT_EQUAL_size_t(1, after.allocated_blocks);
    TEST_ASSERT_EQUAL_size_t(32, after.total_allocated_bytes);
    TEST_ASSERT_LESS_THAN_size_t(before.minimum_free_bytes, after.minimum_free_bytes);
    TEST_ASSERT_GREATER_THAN_size_t(0, after.minimum_free_bytes);
    TEST_ASSERT_LESS_THAN_size_t(before.total_free_bytes, after.total_free_bytes);

    multi_heap_free(h, x);
    multi_heap_get_info(h, &freed);
    TEST_ASSERT_EQUAL_size_t(0, freed.allocated_blocks);
    TEST_ASSERT_EQUAL_size_t(0, freed.total_allocated_bytes);
    TEST_ASSERT_EQUAL_size_t(before.total_free_bytes, freed.total_free_bytes);
    TEST_ASSERT_EQUAL_size_t(before.largest_free_block, freed.largest_free_block);
    TEST_ASSERT_EQUAL_size_t(after.minimum_free_bytes, freed.minimum_free_bytes);
    check_accounting(h);
}

TEST_CASE("multi_heap minimum-size allocations", "[multi_heap]")
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    size_t start_free = multi_heap_free_size(h);
    static void *p[1024];
    size_t n = 0;
    while (n < 1024) {
        void *q = multi_heap_malloc(h, 1);
        if (q == NULL) {
            break;
        }
        TEST_ASSERT_GREATER_OR_EQUAL_size_t(1, multi_heap_get_allocated_size(h, q));
        *(uint8_t *)q = (uint8_t)n;
        p[n++] = q;
    }
    TEST_ASSERT_LESS_THAN_size_t(1024, n);
    TEST_ASSERT_GREATER_THAN_size_t(100, n);
    check_accounting(h);
    /* Free in random order, checking after each. */
    for (size_t left = n; left > 0; left--) {
        size_t k = rnd() % left;
        void *q = p[k];
        p[k] = p[left - 1];
        multi_heap_free(h, q);
        TEST_ASSERT_TRUE(multi_heap_check(h, true));
    }
    check_accounting(h);
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_free_size(h));
}

/* ESP-IDF's version pins TLSF merge/placement decisions; this keeps the ones any TLSF makes
 * (in-place shrink, in-place growth into a free neighbour, data preserved on moves). */
TEST_CASE("multi_heap_realloc()", "[multi_heap]")
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    size_t start_free = multi_heap_free_size(h);

    uint8_t *a = (uint8_t *)multi_heap_malloc(h, 64);
    uint8_t *b = (uint8_t *)multi_heap_malloc(h, 32);
    TEST_ASSERT_NOT_NULL(a);
    TEST_ASSERT_NOT_NULL(b);
    TEST_ASSERT_TRUE(b > a);
    fill(a, 64, 0xAA);
    fill(b, 32, 0xBB);

    /* a cannot grow in place (b follows it): it moves and keeps its data. */
    uint8_t *c = (uint8_t *)multi_heap_realloc(h, a, 72);
    TEST_ASSERT_NOT_NULL(c);
    TEST_ASSERT_NOT_EQUAL(a, c);
    TEST_ASSERT_TRUE(filled(c, 64, 0xAA));
    TEST_ASSERT_TRUE(filled(b, 32, 0xBB));
    check_accounting(h);

    /* Shrinking stays in place. */
    uint8_t *d = (uint8_t *)multi_heap_realloc(h, c, 36);
    TEST_ASSERT_EQUAL_PTR(c, d);
    TEST_ASSERT_TRUE(filled(d, 36, 0xAA));
    check_accounting(h);

    /* Growing into a free neighbour stays in place. e, f and the guard are bigger than any
     * hole, so they are carved one after the other from the free tail. */
    uint8_t *e = (uint8_t *)multi_heap_malloc(h, 200);
    uint8_t *f = (uint8_t *)multi_heap_malloc(h, 100);
    uint8_t *guard = (uint8_t *)multi_heap_malloc(h, 100);
    TEST_ASSERT_NOT_NULL(e);
    TEST_ASSERT_NOT_NULL(f);
    TEST_ASSERT_NOT_NULL(guard);
    TEST_ASSERT_EQUAL_PTR(e + multi_heap_get_allocated_size(h, e) + 4, f);
    multi_heap_free(h, f);
    fill(e, 200, 0xEE);
    uint8_t *g = (uint8_t *)multi_heap_realloc(h, e, 300);
    TEST_ASSERT_EQUAL_PTR(e, g);
    TEST_ASSERT_TRUE(filled(g, 200, 0xEE));
    TEST_ASSERT_GREATER_OR_EQUAL_size_t(300, multi_heap_get_allocated_size(h, g));
    check_accounting(h);
    multi_heap_free(h, guard);

    /* Too large: NULL, block untouched, no accounting change. */
    size_t before = multi_heap_free_size(h);
    TEST_ASSERT_NULL(multi_heap_realloc(h, b, SMALL_HEAP + 1));
    TEST_ASSERT_EQUAL_size_t(before, multi_heap_free_size(h));
    TEST_ASSERT_TRUE(filled(b, 32, 0xBB));

    /* realloc(NULL, n) allocates. */
    uint8_t *n = (uint8_t *)multi_heap_realloc(h, NULL, 40);
    TEST_ASSERT_NOT_NULL(n);
    check_accounting(h);

    multi_heap_free(h, n);
    multi_heap_free(h, g);
    multi_heap_free(h, d);
    multi_heap_free(h, b);
    check_accounting(h);
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_free_size(h));
}

TEST_CASE("multi_heap_realloc(p, 0) frees and credits the bytes", "[multi_heap]")
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    size_t start_free = multi_heap_free_size(h);
    void *p = multi_heap_malloc(h, 100);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_LESS_THAN_size_t(start_free, multi_heap_free_size(h));
    TEST_ASSERT_NULL(multi_heap_realloc(h, p, 0));
    /* ESP-IDF's multi_heap_realloc(p, 0) forgot to add the bytes back; heapcaps credits them. */
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_free_size(h));
    check_accounting(h);
}

TEST_CASE("multi_heap aligned allocations", "[multi_heap]")
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    size_t start_free = multi_heap_free_size(h);

    for (size_t align = 0; align <= 256; align++) {
        size_t before = multi_heap_free_size(h);
        uint8_t *p = (uint8_t *)multi_heap_aligned_alloc(h, align + 137, align);
        if (align == 0 || (align & (align - 1)) != 0) {
            TEST_ASSERT_NULL(p);
            TEST_ASSERT_EQUAL_size_t(before, multi_heap_free_size(h));
            continue;
        }
        TEST_ASSERT_NOT_NULL(p);
        TEST_ASSERT_EQUAL_size_t(0, (uintptr_t)p % align);
        TEST_ASSERT_TRUE(in_region(p, small_mem, sizeof small_mem));
        TEST_ASSERT_TRUE(in_region(p + align + 137 - 1, small_mem, sizeof small_mem));
        TEST_ASSERT_GREATER_OR_EQUAL_size_t(align + 137, multi_heap_get_allocated_size(h, p));
        fill(p, align + 137, 0x5C);
        check_accounting(h);
        multi_heap_free(h, p);
        check_accounting(h);
    }
    /* Nothing leaked by padding. */
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_free_size(h));

    /* As in ESP-IDF: ask for exactly the distance between two neighbours after freeing the
     * first. That is more than the freed block holds (its header is part of the distance), so
     * the result must not overlap the second block, must be big enough, and nothing may leak. */
    uint8_t *x = (uint8_t *)multi_heap_aligned_alloc(h, 50, 4);
    uint8_t *y = (uint8_t *)multi_heap_aligned_alloc(h, 50, 4);
    TEST_ASSERT_NOT_NULL(x);
    TEST_ASSERT_NOT_NULL(y);
    TEST_ASSERT_TRUE(y > x);
    size_t gap = (size_t)(y - x);
    fill(y, 50, 0x99);
    multi_heap_free(h, x);
    uint8_t *x2 = (uint8_t *)multi_heap_aligned_alloc(h, gap, 4);
    TEST_ASSERT_NOT_NULL(x2);
    TEST_ASSERT_GREATER_OR_EQUAL_size_t(gap, multi_heap_get_allocated_size(h, x2));
    TEST_ASSERT_TRUE(x2 + gap <= y || x2 >= y + 50);
    fill(x2, gap, 0x66);
    TEST_ASSERT_TRUE(filled(y, 50, 0x99));
    check_accounting(h);
    multi_heap_free(h, x2);
    multi_heap_free(h, y);
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_free_size(h));

    /* A hole of exactly one block is reused when nothing else fits. (ESP-IDF's TLSF would also
     * pick it while the tail is free, its small classes being exact; heapcaps' per-region class
     * geometry may round the search up past it, which is a legitimate good-fit choice.) */
    void *a = multi_heap_malloc(h, 52);
    void *b = multi_heap_malloc(h, 52);
    void *c = multi_heap_malloc(h, 52);
    TEST_ASSERT_NOT_NULL(c);
    multi_heap_free(h, b);
    multi_heap_info_t info;
    multi_heap_get_info(h, &info);
    void *rest = multi_heap_malloc(h, info.largest_free_block);
    TEST_ASSERT_NOT_NULL(rest);
    multi_heap_get_info(h, &info);
    TEST_ASSERT_EQUAL_size_t(52, info.largest_free_block);
    void *b2 = multi_heap_aligned_alloc(h, 52, 4);
    TEST_ASSERT_EQUAL_PTR(b, b2);
    multi_heap_free(h, a);
    multi_heap_free(h, b2);
    multi_heap_free(h, c);
    multi_heap_free(h, rest);
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_free_size(h));

    /* aligned_alloc_offs: p + offset is aligned. Offsets are multiples of 4 here: payloads are
     * 4-byte aligned, and the library rounds other offsets up to a multiple of 4 (as ESP-IDF's
     * TLSF does), so for those p + offset itself is not aligned. */
    for (size_t align = 8; align <= 128; align *= 2) {
        for (size_t offs = 0; offs < 3 * align; offs += 4) {
            uint8_t *p = (uint8_t *)multi_heap_aligned_alloc_offs(h, 64 + offs, align, offs);
            TEST_ASSERT_NOT_NULL(p);
            TEST_ASSERT_EQUAL_size_t(0, ((uintptr_t)p + offs) % align);
            TEST_ASSERT_GREATER_OR_EQUAL_size_t(64 + offs, multi_heap_get_allocated_size(h, p));
            fill(p, 64 + offs, 0x3C);
            TEST_ASSERT_TRUE(multi_heap_check(h, true));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
            multi_heap_aligned_free(h, p);
#pragma GCC diagnostic pop
        }
    }
    check_accounting(h);
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_free_size(h));
}

TEST_CASE("multi_heap allocation overhead", "[multi_heap]")
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    size_t before = multi_heap_free_size(h);
    void *p = multi_heap_malloc(h, 256);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_GREATER_THAN_size_t(256, before - multi_heap_free_size(h));
    /* Full block size covers at least the usable size. */
    TEST_ASSERT_GREATER_OR_EQUAL_size_t(multi_heap_get_allocated_size(h, p),
                                        multi_heap_get_full_block_size(h, p));
    TEST_ASSERT_GREATER_OR_EQUAL_size_t(256, multi_heap_get_full_block_size(h, p));
    multi_heap_free(h, p);
    TEST_ASSERT_EQUAL_size_t(before, multi_heap_free_size(h));
}

/* ESP-IDF's version reads TLSF's control_t to find the free block and flips bytes in it; it only
 * expects detection with comprehensive poisoning. heapcaps' checker validates the block header,
 * the free-list links and the boundary tag structurally, so corrupting any of those words must
 * make multi_heap_check fail in every configuration, and restoring them must make it pass. */
TEST_CASE("multi_heap corruption detection", "[multi_heap]")
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    void *a = multi_heap_malloc(h, 64);
    void *b = multi_heap_malloc(h, 64);
    void *c = multi_heap_malloc(h, 64);
    TEST_ASSERT_NOT_NULL(a);
    TEST_ASSERT_NOT_NULL(b);
    TEST_ASSERT_NOT_NULL(c);
    multi_heap_free(h, b);
    TEST_ASSERT_TRUE(multi_heap_check(h, false));

    /* Locate the free block between a and c with the block iterator. */
    multi_heap_block_handle_t blk = multi_heap_get_first_block(h);
    multi_heap_block_handle_t freeblk = NULL;
    while (blk != NULL) {
        if (multi_heap_get_block_address(blk) == b) {
            freeblk = blk;
        }
        blk = multi_heap_get_next_block(h, blk);
    }
    TEST_ASSERT_NOT_NULL(freeblk);
    TEST_ASSERT_TRUE(multi_heap_is_free(freeblk));

    /* Words to damage: the header in front of the payload, the two link words at the start of
     * the free payload, and the boundary tag in the last payload word. */
    uint32_t *words[4];
    size_t free_payload = 0;
    words[0] = (uint32_t *)((uint8_t *)b - 4);
    words[1] = (uint32_t *)b;
    words[2] = (uint32_t *)b + 1;
    free_payload = *words[0] & ~(uint32_t)3;
    TEST_ASSERT_GREATER_OR_EQUAL_size_t(64, free_payload);
    words[3] = (uint32_t *)((uint8_t *)b + free_payload - 4);

    for (int w = 0; w < 4; w++) {
        for (int byte = 0; byte < 4; byte++) {
            uint32_t saved = *words[w];
            *words[w] ^= (uint32_t)0xA5 << (8 * byte);
            TEST_ASSERT_FALSE_MESSAGE(multi_heap_check(h, false), "corruption not detected");
            *words[w] = saved;
            TEST_ASSERT_TRUE(multi_heap_check(h, false));
        }
    }

    /* The same for an allocated block's header (its size). */
    uint32_t *ahdr = (uint32_t *)((uint8_t *)a - 4);
    uint32_t saved = *ahdr;
    *ahdr += 4;
    TEST_ASSERT_FALSE(multi_heap_check(h, false));
    *ahdr = saved;
    TEST_ASSERT_TRUE(multi_heap_check(h, true));
    multi_heap_free(h, a);
    multi_heap_free(h, c);
    check_accounting(h);
}

/* ------------------------------------------------------------------------------------------ */
/* Remaining API surface                                                                      */
/* ------------------------------------------------------------------------------------------ */

TEST_CASE("multi_heap largest_free_block is allocatable exactly", "[multi_heap]")
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    void *keep[8];
    multi_heap_info_t info;
    /* Make holes of different sizes. */
    for (int i = 0; i < 8; i++) {
        keep[i] = multi_heap_malloc(h, 40 + 24 * (size_t)i);
        TEST_ASSERT_NOT_NULL(keep[i]);
    }
    multi_heap_free(h, keep[2]);
    multi_heap_free(h, keep[5]);
    for (int round = 0; round < 3; round++) {
        multi_heap_get_info(h, &info);
        TEST_ASSERT_GREATER_THAN_size_t(0, info.largest_free_block);
        void *p = multi_heap_malloc(h, info.largest_free_block);
        TEST_ASSERT_NOT_NULL_MESSAGE(p, "largest_free_block not allocatable");
        multi_heap_free(h, p);
        TEST_ASSERT_NULL_MESSAGE(multi_heap_malloc(h, info.largest_free_block + 1),
                                 "largest_free_block + 1 allocatable");
        check_accounting(h);
        /* Shrink the big tail for the next round. */
        keep[round == 0 ? 2 : 5] = multi_heap_malloc(h, 500);
    }
    for (int i = 0; i < 8; i++) {
        multi_heap_free(h, keep[i]);
    }
    check_accounting(h);
}

TEST_CASE("multi_heap_register rejects bad regions", "[multi_heap]")
{
    TEST_ASSERT_NULL(multi_heap_register(NULL, SMALL_HEAP));
    TEST_ASSERT_NULL(multi_heap_register(NULL, 0));
    TEST_ASSERT_NULL(multi_heap_register(NULL, SIZE_MAX));
    TEST_ASSERT_NULL(multi_heap_register(small_mem, 0));
    /* Sizes that overflow the address space (or exceed heapcaps' 2 GiB region limit) are
     * refused before anything is written. */
    TEST_ASSERT_NULL(multi_heap_register(small_mem, SIZE_MAX));
    TEST_ASSERT_NULL(multi_heap_register(small_mem, SIZE_MAX - 3));
    TEST_ASSERT_NULL(multi_heap_register(small_mem, 1));
    TEST_ASSERT_NULL(multi_heap_register(small_mem, 16));
    TEST_ASSERT_NULL(multi_heap_register(small_mem + 1, SMALL_HEAP - 1));
    TEST_ASSERT_NULL(multi_heap_register(small_mem + 2, SMALL_HEAP - 2));
    TEST_ASSERT_NULL(multi_heap_register(small_mem + 3, SMALL_HEAP - 3));

    /* Find the smallest region that registers; it must serve a 1-byte allocation, and every
     * smaller size must be refused. */
    size_t min_ok = 0;
    for (size_t sz = 0; sz <= 512; sz++) {
        multi_heap_handle_t h = multi_heap_register(small_mem, sz);
        if (h != NULL) {
            min_ok = sz;
            break;
        }
    }
    TEST_ASSERT_GREATER_THAN_size_t(0, min_ok);
    multi_heap_handle_t h = new_heap(small_mem, min_ok);
    TEST_ASSERT_EQUAL_PTR(small_mem, h);
    void *p = multi_heap_malloc(h, 1);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_TRUE(in_region(p, small_mem, min_ok));
    multi_heap_free(h, p);
    check_accounting(h);

    /* A 4-aligned but not 8-aligned start is valid (ESP-IDF regions are 4-aligned). */
    h = multi_heap_register(small_mem + 4, SMALL_HEAP - 4);
    TEST_ASSERT_EQUAL_PTR(small_mem + 4, h);
    p = multi_heap_malloc(h, 100);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_TRUE(in_region(p, small_mem + 4, SMALL_HEAP - 4));
    multi_heap_free(h, p);
    check_accounting(h);

    /* An odd size is rounded down: nothing is handed out past the end. */
    h = new_heap(small_mem, 1001);
    multi_heap_info_t info;
    multi_heap_get_info(h, &info);
    p = multi_heap_malloc(h, info.largest_free_block);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_TRUE(in_region((uint8_t *)p + info.largest_free_block - 1, small_mem, 1001));
    multi_heap_free(h, p);
    check_accounting(h);
}

static bool count_walker(void *block_ptr, size_t block_size, int block_used, void *user_data)
{
    (void)block_ptr;
    (void)block_size;
    (void)block_used;
    (*(int *)user_data)++;
    return true;
}

TEST_CASE("multi_heap NULL heap gives defined answers", "[multi_heap]")
{
    multi_heap_handle_t h = NULL;
    multi_heap_info_t info;
    memset(&info, 0x5A, sizeof info);
    int calls = 0;
    uint32_t mux[2] = {0, 0};
    uint32_t word = 0;

    TEST_ASSERT_NULL(multi_heap_malloc(h, 16));
    TEST_ASSERT_NULL(multi_heap_aligned_alloc(h, 16, 8));
    TEST_ASSERT_NULL(multi_heap_aligned_alloc_offs(h, 16, 8, 4));
    TEST_ASSERT_NULL(multi_heap_realloc(h, NULL, 16));
    multi_heap_free(h, NULL);
    multi_heap_free(h, &word); /* no heap: nothing to free into, a no-op */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    multi_heap_aligned_free(h, NULL);
#pragma GCC diagnostic pop
    TEST_ASSERT_EQUAL_size_t(0, multi_heap_get_allocated_size(h, &word));
    TEST_ASSERT_EQUAL_size_t(0, multi_heap_get_full_block_size(h, &word));
    TEST_ASSERT_NULL(multi_heap_find_containing_block(h, &word));
    multi_heap_set_lock(h, mux);
    multi_heap_dump(h);
    TEST_ASSERT_FALSE(multi_heap_check(h, true));
    TEST_ASSERT_EQUAL_size_t(0, multi_heap_free_size(h));
    TEST_ASSERT_EQUAL_size_t(0, multi_heap_minimum_free_size(h));
    TEST_ASSERT_EQUAL_size_t(0, multi_heap_reset_minimum_free_bytes(h));
    multi_heap_restore_minimum_free_bytes(h, 123);
    multi_heap_get_info(h, &info);
    TEST_ASSERT_EQUAL_size_t(0, info.total_free_bytes);
    TEST_ASSERT_EQUAL_size_t(0, info.total_allocated_bytes);
    TEST_ASSERT_EQUAL_size_t(0, info.largest_free_block);
    TEST_ASSERT_EQUAL_size_t(0, info.minimum_free_bytes);
    TEST_ASSERT_EQUAL_size_t(0, info.allocated_blocks);
    TEST_ASSERT_EQUAL_size_t(0, info.free_blocks);
    TEST_ASSERT_EQUAL_size_t(0, info.total_blocks);
    multi_heap_get_info(h, NULL);
    multi_heap_walk(h, count_walker, &calls);
    TEST_ASSERT_EQUAL_INT(0, calls);
    TEST_ASSERT_NULL(multi_heap_get_first_block(h));
    TEST_ASSERT_NULL(multi_heap_get_next_block(h, NULL));
    TEST_ASSERT_FALSE(multi_heap_is_free(NULL));
    TEST_ASSERT_NULL(multi_heap_get_block_address(NULL));
    multi_heap_internal_lock(h);
    multi_heap_internal_unlock(h);
    TEST_ASSERT_EQUAL_UINT32(0, mux[0]);
    TEST_ASSERT_EQUAL_UINT32(0, mux[1]);
}

TEST_CASE("multi_heap bad sizes, pointers and alignments", "[multi_heap]")
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    size_t start_free = multi_heap_free_size(h);
    multi_heap_info_t info;
    int calls = 0;

    TEST_ASSERT_NULL(multi_heap_malloc(h, 0));
    TEST_ASSERT_NULL(multi_heap_malloc(h, SIZE_MAX));
    TEST_ASSERT_NULL(multi_heap_malloc(h, SIZE_MAX - 3));
    TEST_ASSERT_NULL(multi_heap_malloc(h, SIZE_MAX / 2 + 1));
    TEST_ASSERT_NULL(multi_heap_malloc(h, (size_t)UINT32_MAX));
    TEST_ASSERT_NULL(multi_heap_malloc(h, SMALL_HEAP));
    TEST_ASSERT_NULL(multi_heap_aligned_alloc(h, 0, 8));
    TEST_ASSERT_NULL(multi_heap_aligned_alloc(h, 16, 0));
    TEST_ASSERT_NULL(multi_heap_aligned_alloc(h, 16, 3));
    TEST_ASSERT_NULL(multi_heap_aligned_alloc(h, 16, 12));
    TEST_ASSERT_NULL(multi_heap_aligned_alloc(h, 16, 96));
    TEST_ASSERT_NULL(multi_heap_aligned_alloc(h, SIZE_MAX, 8));
    TEST_ASSERT_NULL(multi_heap_aligned_alloc(h, SIZE_MAX - 7, 8));
    TEST_ASSERT_NULL(multi_heap_aligned_alloc(h, 16, (size_t)1 << (sizeof(size_t) * 8 - 1)));
    TEST_ASSERT_NULL(multi_heap_aligned_alloc(h, 16, 8192));
    TEST_ASSERT_NULL(multi_heap_aligned_alloc_offs(h, 16, 0, 4));
    TEST_ASSERT_NULL(multi_heap_aligned_alloc_offs(h, 16, 6, 4));
    TEST_ASSERT_NULL(multi_heap_aligned_alloc_offs(h, 16, 8, SIZE_MAX));
    TEST_ASSERT_NULL(multi_heap_aligned_alloc_offs(h, SIZE_MAX, 8, 8));
    TEST_ASSERT_NULL(multi_heap_realloc(h, NULL, 0));
    TEST_ASSERT_NULL(multi_heap_realloc(h, NULL, SIZE_MAX));
    multi_heap_free(h, NULL);
    TEST_ASSERT_EQUAL_size_t(0, multi_heap_get_allocated_size(h, NULL));
    TEST_ASSERT_EQUAL_size_t(0, multi_heap_get_full_block_size(h, NULL));
    TEST_ASSERT_NULL(multi_heap_find_containing_block(h, NULL));
    TEST_ASSERT_NULL(multi_heap_find_containing_block(h, other_mem));
    multi_heap_get_info(h, NULL);
    multi_heap_walk(h, NULL, &calls);
    TEST_ASSERT_NULL(multi_heap_get_next_block(h, NULL));
    check_accounting(h);
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_free_size(h));
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_minimum_free_size(h));

    /* A failed realloc keeps the block and the counters. */
    uint8_t *p = (uint8_t *)multi_heap_malloc(h, 64);
    TEST_ASSERT_NOT_NULL(p);
    fill(p, 64, 0x77);
    size_t before = multi_heap_free_size(h);
    TEST_ASSERT_NULL(multi_heap_realloc(h, p, SIZE_MAX));
    TEST_ASSERT_NULL(multi_heap_realloc(h, p, SIZE_MAX - 3));
    TEST_ASSERT_NULL(multi_heap_realloc(h, p, (size_t)UINT32_MAX));
    TEST_ASSERT_EQUAL_size_t(before, multi_heap_free_size(h));
    TEST_ASSERT_TRUE(filled(p, 64, 0x77));
    multi_heap_get_info(h, &info);
    TEST_ASSERT_EQUAL_size_t(1, info.allocated_blocks);
    multi_heap_free(h, p);
    check_accounting(h);
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_free_size(h));
}

TEST_CASE("multi_heap sizes and find_containing_block", "[multi_heap]")
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    for (size_t n = 1; n <= 130; n += 3) {
        uint8_t *p = (uint8_t *)multi_heap_malloc(h, n);
        uint8_t *q = (uint8_t *)multi_heap_malloc(h, 8);
        TEST_ASSERT_NOT_NULL(p);
        TEST_ASSERT_NOT_NULL(q);
        size_t usable = multi_heap_get_allocated_size(h, p);
        TEST_ASSERT_GREATER_OR_EQUAL_size_t(n, usable);
        TEST_ASSERT_LESS_THAN_size_t(n + 16, usable);
        TEST_ASSERT_GREATER_OR_EQUAL_size_t(usable, multi_heap_get_full_block_size(h, p));
        /* The whole usable area is writable and maps back to its block. */
        fill(p, usable, 0x11);
        for (size_t k = 0; k < usable; k++) {
            TEST_ASSERT_EQUAL_PTR(p, multi_heap_find_containing_block(h, p + k));
        }
        TEST_ASSERT_EQUAL_PTR(q, multi_heap_find_containing_block(h, q));
        /* The header word in front of a payload belongs to no payload. */
        TEST_ASSERT_NULL(multi_heap_find_containing_block(h, q - 4));
        TEST_ASSERT_NULL(multi_heap_find_containing_block(h, p - 4));
        multi_heap_free(h, p);
        /* A freed block contains nothing allocated. */
        TEST_ASSERT_NULL(multi_heap_find_containing_block(h, p));
        multi_heap_free(h, q);
    }
    TEST_ASSERT_NULL(multi_heap_find_containing_block(h, small_mem + SMALL_HEAP - 4));
    TEST_ASSERT_NULL(multi_heap_find_containing_block(h, other_mem + 100));
    check_accounting(h);
}

TEST_CASE("multi_heap minimum free bytes tracking", "[multi_heap]")
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    size_t start_free = multi_heap_free_size(h);
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_minimum_free_size(h));

    void *a = multi_heap_malloc(h, 1000);
    TEST_ASSERT_NOT_NULL(a);
    size_t low = multi_heap_free_size(h);
    TEST_ASSERT_EQUAL_size_t(low, multi_heap_minimum_free_size(h));
    multi_heap_free(h, a);
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_free_size(h));
    TEST_ASSERT_EQUAL_size_t(low, multi_heap_minimum_free_size(h));

    /* reset: returns the old mark and sets the mark to the current free size. */
    TEST_ASSERT_EQUAL_size_t(low, multi_heap_reset_minimum_free_bytes(h));
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_minimum_free_size(h));
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_reset_minimum_free_bytes(h));

    /* restore: lowers the mark only. */
    multi_heap_restore_minimum_free_bytes(h, start_free + 100);
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_minimum_free_size(h));
    multi_heap_restore_minimum_free_bytes(h, low);
    TEST_ASSERT_EQUAL_size_t(low, multi_heap_minimum_free_size(h));
    multi_heap_restore_minimum_free_bytes(h, 0);
    TEST_ASSERT_EQUAL_size_t(0, multi_heap_minimum_free_size(h));
    TEST_ASSERT_TRUE(multi_heap_check(h, true));

    /* The mark follows every allocation exactly. */
    multi_heap_reset_minimum_free_bytes(h);
    void *p[10];
    size_t lowest = start_free;
    for (int i = 0; i < 10; i++) {
        p[i] = multi_heap_malloc(h, 16 + 8 * (size_t)i);
        TEST_ASSERT_NOT_NULL(p[i]);
        if (multi_heap_free_size(h) < lowest) {
            lowest = multi_heap_free_size(h);
        }
        TEST_ASSERT_EQUAL_size_t(lowest, multi_heap_minimum_free_size(h));
        if (i % 3 == 2) {
            /* Freeing raises the free size but never the mark. */
            multi_heap_free(h, p[i - 1]);
            p[i - 1] = NULL;
            TEST_ASSERT_EQUAL_size_t(lowest, multi_heap_minimum_free_size(h));
        }
    }
    for (int i = 0; i < 10; i++) {
        multi_heap_free(h, p[i]);
    }
    TEST_ASSERT_EQUAL_size_t(lowest, multi_heap_minimum_free_size(h));
    check_accounting(h);
}

TEST_CASE("multi_heap walk and block iterator agree", "[multi_heap]")
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    void *p[6];
    for (int i = 0; i < 6; i++) {
        p[i] = multi_heap_malloc(h, 20 + 12 * (size_t)i);
        TEST_ASSERT_NOT_NULL(p[i]);
    }
    multi_heap_free(h, p[1]);
    multi_heap_free(h, p[4]);

    static walk_log_t log;
    memset(&log, 0, sizeof log);
    multi_heap_walk(h, log_walker, &log);
    TEST_ASSERT_GREATER_OR_EQUAL_size_t(7, log.n);

    /* Address order, and the iterator visits the same blocks. */
    size_t i = 0;
    for (multi_heap_block_handle_t b = multi_heap_get_first_block(h); b != NULL;
         b = multi_heap_get_next_block(h, b), i++) {
        TEST_ASSERT_LESS_THAN_size_t(log.n, i);
        TEST_ASSERT_EQUAL_PTR(log.ptr[i], multi_heap_get_block_address(b));
        TEST_ASSERT_EQUAL_INT(!log.used[i], multi_heap_is_free(b));
        TEST_ASSERT_TRUE(in_region(b, small_mem, sizeof small_mem));
        if (i > 0) {
            TEST_ASSERT_TRUE((uintptr_t)log.ptr[i] > (uintptr_t)log.ptr[i - 1] + log.size[i - 1]);
        }
    }
    TEST_ASSERT_EQUAL_size_t(log.n, i);

    int used_seen = 0;
    for (size_t k = 0; k < log.n; k++) {
        for (int j = 0; j < 6; j++) {
            if (log.ptr[k] == p[j]) {
                TEST_ASSERT_EQUAL_INT(j != 1 && j != 4, log.used[k]);
                if (log.used[k]) {
                    TEST_ASSERT_EQUAL_size_t(multi_heap_get_allocated_size(h, p[j]), log.size[k]);
                    used_seen++;
                }
            }
        }
    }
    TEST_ASSERT_EQUAL_INT(4, used_seen);

    /* A walker returning false stops the walk. */
    walk_sum_t w;
    memset(&w, 0, sizeof w);
    w.stop_after = 2;
    multi_heap_walk(h, sum_walker, &w);
    TEST_ASSERT_EQUAL_size_t(2, w.visited);

    /* A pointer that is no block header of this heap ends iteration. */
    TEST_ASSERT_NULL(multi_heap_get_next_block(h, other_mem));
    for (int j = 0; j < 6; j++) {
        if (j != 1 && j != 4) {
            multi_heap_free(h, p[j]);
        }
    }
    check_accounting(h);
}

#ifdef __linux__

/* Runs fn(arg) with stderr captured into buf (NUL-terminated). */
static void capture_stderr(void (*fn)(void *), void *arg, char *buf, size_t cap)
{
    int fds[2];
    TEST_ASSERT_EQUAL_INT(0, pipe(fds));
    fflush(stderr);
    int saved = dup(2);
    TEST_ASSERT_TRUE(saved >= 0);
    TEST_ASSERT_TRUE(dup2(fds[1], 2) >= 0);
    close(fds[1]);
    fn(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fds[0], buf + len, cap - 1 - len);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        if (len == cap - 1) {
            break;
        }
    }
    close(fds[0]);
    buf[len] = '\0';
}

static void do_dump(void *h)
{
    multi_heap_dump((multi_heap_handle_t)h);
}

static void do_check_print(void *h)
{
    (void)multi_heap_check((multi_heap_handle_t)h, true);
}

TEST_CASE("multi_heap_dump output format", "[multi_heap]")
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    void *a = multi_heap_malloc(h, 40);
    void *b = multi_heap_malloc(h, 80);
    void *c = multi_heap_malloc(h, 120);
    TEST_ASSERT_NOT_NULL(c);
    multi_heap_free(h, b);

    static char out[8192];
    capture_stderr(do_dump, h, out, sizeof out);

    static char expect[8192];
    static walk_log_t log;
    memset(&log, 0, sizeof log);
    multi_heap_walk(h, log_walker, &log);
    int n = snprintf(expect, sizeof expect, "Showing data for heap: 0x%08" PRIxPTR " \n",
                     (uintptr_t)h);
    for (size_t k = 0; k < log.n; k++) {
        n += snprintf(expect + n, sizeof expect - (size_t)n,
                      "Block 0x%08" PRIxPTR " data, size: %zu bytes, Free: %s \n",
                      (uintptr_t)log.ptr[k], log.size[k], log.used[k] ? "No" : "Yes");
    }
    TEST_ASSERT_EQUAL_STRING(expect, out);
    TEST_ASSERT_NOT_NULL(strstr(out, "Free: Yes \n"));
    TEST_ASSERT_NOT_NULL(strstr(out, "Free: No \n"));

    /* A healthy heap's check prints nothing, even with print_errors. */
    capture_stderr(do_check_print, h, out, sizeof out);
    TEST_ASSERT_EQUAL_STRING("", out);

    /* A corrupt heap's check names the problem on stderr. */
    uint32_t *hdr = (uint32_t *)((uint8_t *)a - 4);
    uint32_t saved = *hdr;
    *hdr = 0xFFFFFFF0u;
    capture_stderr(do_check_print, h, out, sizeof out);
    *hdr = saved;
    TEST_ASSERT_NOT_NULL(strstr(out, "CORRUPT HEAP"));
    TEST_ASSERT_TRUE(multi_heap_check(h, true));
    multi_heap_free(h, a);
    multi_heap_free(h, c);
}

/* ---- Death tests: invalid frees abort and name the pointer ---- */

typedef enum { BAD_DOUBLE_FREE, BAD_INTERIOR, BAD_OUTSIDE, BAD_REALLOC_OUTSIDE,
               BAD_SIZE_OUTSIDE } bad_kind_t;

typedef struct {
    bad_kind_t kind;
    multi_heap_handle_t h;
    void *bad;
} bad_call_t;

/* In the child: the call that must abort. */
static void bad_call(void *arg)
{
    const bad_call_t *c = (const bad_call_t *)arg;
    if (c->kind == BAD_REALLOC_OUTSIDE) {
        (void)multi_heap_realloc(c->h, c->bad, 10);
    } else if (c->kind == BAD_SIZE_OUTSIDE) {
        (void)multi_heap_get_allocated_size(c->h, c->bad);
    } else {
        multi_heap_free(c->h, c->bad);
    }
}

static void expect_abort_naming(bad_kind_t kind)
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    uint8_t *p = (uint8_t *)multi_heap_malloc(h, 64);
    uint8_t *q = (uint8_t *)multi_heap_malloc(h, 64);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_NOT_NULL(q);
    void *bad = NULL;
    switch (kind) {
    case BAD_DOUBLE_FREE:
        multi_heap_free(h, p);
        bad = p;
        break;
    case BAD_INTERIOR:
        bad = p + 8;
        break;
    case BAD_OUTSIDE:
    case BAD_REALLOC_OUTSIDE:
    case BAD_SIZE_OUTSIDE:
        bad = other_mem + 64;
        break;
    }

    bad_call_t call = {kind, h, bad};
    static char out[4096];
    int status = fork_capture(bad_call, &call, out, sizeof out);
    TEST_ASSERT_TRUE_MESSAGE(WIFSIGNALED(status), "child did not die from a signal");
    TEST_ASSERT_EQUAL_INT(SIGABRT, WTERMSIG(status));

    char name[32];
    snprintf(name, sizeof name, "0x%08" PRIxPTR, (uintptr_t)bad);
    TEST_ASSERT_NOT_NULL_MESSAGE(strstr(out, name), "abort message does not name the pointer");
    TEST_ASSERT_NOT_NULL(strstr(out, "CORRUPT HEAP"));

    /* The parent's heap is untouched by the child. */
    if (kind != BAD_DOUBLE_FREE) {
        multi_heap_free(h, p);
    }
    multi_heap_free(h, q);
    check_accounting(h);
}

TEST_CASE("multi_heap_free aborts on double free", "[multi_heap][death]")
{
    expect_abort_naming(BAD_DOUBLE_FREE);
}

TEST_CASE("multi_heap_free aborts on interior pointer", "[multi_heap][death]")
{
    expect_abort_naming(BAD_INTERIOR);
}

TEST_CASE("multi_heap_free aborts on pointer outside the heap", "[multi_heap][death]")
{
    expect_abort_naming(BAD_OUTSIDE);
}

TEST_CASE("multi_heap_realloc aborts on pointer outside the heap", "[multi_heap][death]")
{
    expect_abort_naming(BAD_REALLOC_OUTSIDE);
}

TEST_CASE("multi_heap_get_allocated_size answers 0 for what is not a live block", "[multi_heap]")
{
    /* A query changes nothing, so it answers instead of aborting (ESP-IDF asserts on chips). */
    static uint32_t mem[1024], other[64];
    multi_heap_handle_t h = multi_heap_register(mem, sizeof(mem));
    TEST_ASSERT_NOT_NULL(h);
    uint8_t *p = (uint8_t *)multi_heap_malloc(h, 100);
    TEST_ASSERT_NOT_NULL(p);
    memset(p, 0, 100); /* no plausible header inside the block (see the heap_caps test) */
    TEST_ASSERT_EQUAL(0, multi_heap_get_allocated_size(h, &other[8]));
    TEST_ASSERT_EQUAL(0, multi_heap_get_allocated_size(h, p + 8));
    TEST_ASSERT_EQUAL(0, multi_heap_get_allocated_size(h, NULL));
    TEST_ASSERT_GREATER_OR_EQUAL(100, multi_heap_get_allocated_size(h, p));
    multi_heap_free(h, p);
    TEST_ASSERT_EQUAL(0, multi_heap_get_allocated_size(h, p));
    TEST_ASSERT_TRUE(multi_heap_check(h, true));
}

/* ---- Locking ---- */

/* ESP-IDF's portMUX_TYPE layout; the heap takes it around every operation. */
typedef struct {
    uint32_t owner;
    uint32_t count;
} test_mux_t;

static test_mux_t heap_mux;

typedef struct {
    multi_heap_handle_t heap;
    unsigned seed;
    int failures;
} hammer_arg_t;

static void *hammer(void *argp)
{
    hammer_arg_t *arg = (hammer_arg_t *)argp;
    uint32_t x = arg->seed;
    void *p[16];
    size_t s[16];
    memset(p, 0, sizeof p);
    memset(s, 0, sizeof s);
    for (int i = 0; i < 4000; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        unsigned k = x % 16;
        uint8_t seed = (uint8_t)(arg->seed + k);
        if (p[k]) {
            if (!filled(p[k], s[k], seed)) {
                arg->failures++;
            }
            if (x & 0x100) {
                multi_heap_free(arg->heap, p[k]);
                p[k] = NULL;
            } else {
                size_t ns = 1 + (x >> 20) % 200;
                void *np = multi_heap_realloc(arg->heap, p[k], ns);
                if (np) {
                    p[k] = np;
                    s[k] = ns;
                    fill(np, ns, seed);
                }
            }
        } else {
            s[k] = 1 + (x >> 16) % 300;
            p[k] = (x & 0x200) ? multi_heap_aligned_alloc(arg->heap, s[k], 16)
                               : multi_heap_malloc(arg->heap, s[k]);
            if (p[k]) {
                fill(p[k], s[k], seed);
            }
        }
        if (i % 500 == 0) {
            multi_heap_info_t info;
            multi_heap_get_info(arg->heap, &info);
            if (!multi_heap_check(arg->heap, true)) {
                arg->failures++;
            }
        }
    }
    for (int k = 0; k < 16; k++) {
        if (p[k] && !filled(p[k], s[k], (uint8_t)(arg->seed + (unsigned)k))) {
            arg->failures++;
        }
        multi_heap_free(arg->heap, p[k]);
    }
    return NULL;
}

TEST_CASE("multi_heap_set_lock serialises threads", "[multi_heap][lock]")
{
    multi_heap_handle_t h = new_heap(big_mem, 64 * 1024);
    memset(&heap_mux, 0, sizeof heap_mux);
    multi_heap_set_lock(h, &heap_mux);
    size_t start_free = multi_heap_free_size(h);

    enum { THREADS = 4 };
    pthread_t th[THREADS];
    hammer_arg_t args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i].heap = h;
        args[i].seed = 0x9E3779B9u * (unsigned)(i + 1);
        args[i].failures = 0;
        TEST_ASSERT_EQUAL_INT(0, pthread_create(&th[i], NULL, hammer, &args[i]));
    }
    for (int i = 0; i < THREADS; i++) {
        TEST_ASSERT_EQUAL_INT(0, pthread_join(th[i], NULL));
        TEST_ASSERT_EQUAL_INT(0, args[i].failures);
    }
    TEST_ASSERT_EQUAL_UINT32(0, heap_mux.owner);
    check_accounting(h);
    TEST_ASSERT_EQUAL_size_t(start_free, multi_heap_free_size(h));
    multi_heap_set_lock(h, NULL);
}

typedef struct {
    multi_heap_handle_t heap;
    volatile int started;
    volatile int done;
} blocked_arg_t;

static void *blocked_malloc(void *argp)
{
    blocked_arg_t *arg = (blocked_arg_t *)argp;
    __atomic_store_n(&arg->started, 1, __ATOMIC_SEQ_CST);
    void *p = multi_heap_malloc(arg->heap, 32);
    multi_heap_free(arg->heap, p);
    __atomic_store_n(&arg->done, p != NULL ? 1 : 2, __ATOMIC_SEQ_CST);
    return NULL;
}

TEST_CASE("multi_heap_internal_lock excludes other threads", "[multi_heap][lock]")
{
    multi_heap_handle_t h = new_heap(small_mem, sizeof small_mem);
    memset(&heap_mux, 0, sizeof heap_mux);
    multi_heap_set_lock(h, &heap_mux);

    multi_heap_internal_lock(h);
    TEST_ASSERT_NOT_EQUAL(0, heap_mux.owner);
    TEST_ASSERT_EQUAL_UINT32(1, heap_mux.count);
    /* The lock is recursive for its owner: heap calls work while holding it. */
    void *p = multi_heap_malloc(h, 16);
    TEST_ASSERT_NOT_NULL(p);
    multi_heap_free(h, p);
    TEST_ASSERT_EQUAL_UINT32(1, heap_mux.count);

    blocked_arg_t arg;
    arg.heap = h;
    arg.started = 0;
    arg.done = 0;
    pthread_t t;
    TEST_ASSERT_EQUAL_INT(0, pthread_create(&t, NULL, blocked_malloc, &arg));
    while (!__atomic_load_n(&arg.started, __ATOMIC_SEQ_CST)) {
        sched_yield();
    }
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    TEST_ASSERT_EQUAL_INT(0, __atomic_load_n(&arg.done, __ATOMIC_SEQ_CST));
    multi_heap_internal_unlock(h);
    TEST_ASSERT_EQUAL_INT(0, pthread_join(t, NULL));
    TEST_ASSERT_EQUAL_INT(1, arg.done);
    TEST_ASSERT_EQUAL_UINT32(0, heap_mux.owner);
    check_accounting(h);
    multi_heap_set_lock(h, NULL);
}

#endif /* __linux__ */
