// heapcaps-test: c-malloc features=HEAP_TRACING_STANDALONE
/*
 * Heap tracing of the C allocation entry points (heapcaps provides malloc & co. here): each call
 * is recorded once, with the caller of malloc as the first frame. The host's counterpart of
 * ESP-IDF's "can trace allocations made by newlib" (#15): the C library's own allocations
 * (strdup) are traced too.
 */
#include "heapcaps_test_util.h"
#include "esp_heap_trace.h"

#include <stdlib.h>
#include <string.h>

static heap_trace_record_t recs[64];

static const heap_trace_record_t *find(uintptr_t p)
{
    static heap_trace_record_t r;
    for (size_t i = 0; i < heap_trace_get_count(); i++) {
        TEST_ASSERT_EQUAL(ESP_OK, heap_trace_get(i, &r));
        if ((uintptr_t)r.address == p) {
            return &r;
        }
    }
    return NULL;
}

static __attribute__((noinline)) void *call_malloc(size_t n)
{
    void *p = malloc(n);
    __asm__ volatile("" ::: "memory");
    return p;
}

TEST_CASE("malloc, calloc, realloc and free are traced once each", "[heap-trace]")
{
    (void)heap_trace_stop();
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_init_standalone(recs, 64));
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_start(HEAP_TRACE_ALL));
    void *p = call_malloc(77);
    void *c = calloc(5, 3);
    void *r = realloc(NULL, 33);
    void *a = NULL;
    TEST_ASSERT_EQUAL(0, posix_memalign(&a, 64, 50));
    char *s = strdup("traced by the C library");
    /* Addresses kept as numbers: the blocks are freed below. */
    const uintptr_t P = (uintptr_t)p, C = (uintptr_t)c, R = (uintptr_t)r, A = (uintptr_t)a,
                    S = (uintptr_t)s;
    free(p);
    TEST_ASSERT_NULL(realloc(r, 0));
    free(c);
    free(a);
    free(s);
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_stop());

    const heap_trace_record_t *rec = find(P);
    TEST_ASSERT_NOT_NULL(rec);
    TEST_ASSERT_EQUAL(77, rec->size);
    TEST_ASSERT_TRUE(rec->freed);
#if CONFIG_HEAP_TRACING_STACK_DEPTH > 0
    uintptr_t f = (uintptr_t)(void *)call_malloc;
    TEST_ASSERT_TRUE((uintptr_t)rec->alloced_by[0] > f && (uintptr_t)rec->alloced_by[0] < f + 512);
#endif
    TEST_ASSERT_NOT_NULL(rec = find(C));
    TEST_ASSERT_EQUAL(15, rec->size);
    TEST_ASSERT_NOT_NULL(rec = find(R));
    TEST_ASSERT_EQUAL(33, rec->size);
    TEST_ASSERT_TRUE(rec->freed);
    TEST_ASSERT_NOT_NULL(rec = find(A));
    TEST_ASSERT_EQUAL(50, rec->size);
    TEST_ASSERT_NOT_NULL(rec = find(S));
    TEST_ASSERT_EQUAL(strlen("traced by the C library") + 1, rec->size);
    TEST_ASSERT_TRUE(rec->freed);
    /* Each of the five allocations once (no double records through the inner layers). */
    size_t mine = 0;
    for (size_t i = 0; i < heap_trace_get_count(); i++) {
        heap_trace_record_t x;
        heap_trace_get(i, &x);
        uintptr_t v = (uintptr_t)x.address;
        mine += v == P || v == C || v == R || v == A || v == S;
    }
    TEST_ASSERT_EQUAL(5, mine);
}
