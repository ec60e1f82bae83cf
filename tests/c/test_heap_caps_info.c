/*
 * heap_caps queries from C on every simulated chip: sizes, get_info, print_heap_info, integrity
 * checks, dump, walk, local minimum monitoring, capability priorities, the default-malloc policy.
 * Ports the intent of ESP-IDF heap tests #22, #29, #31, #32, #34, #39, #52, #53, #55.
 */
#include "heapcaps_test_util.h"

#include "multi_heap.h"

/* Private in ESP-IDF (heap_private.h) but exported; esp_libc declares them the same way. */
extern void *heap_caps_malloc_default(size_t size);
extern void *heap_caps_realloc_default(void *ptr, size_t size);
extern void *heap_caps_aligned_alloc_default(size_t alignment, size_t size);

static const uint32_t s_all_caps[] = {
    MALLOC_CAP_DEFAULT, MALLOC_CAP_INTERNAL, MALLOC_CAP_8BIT, MALLOC_CAP_32BIT, MALLOC_CAP_DMA,
#ifdef MALLOC_CAP_EXEC
    MALLOC_CAP_EXEC,
#endif
    MALLOC_CAP_SPIRAM, MALLOC_CAP_RTCRAM, MALLOC_CAP_RETENTION,
    MALLOC_CAP_8BIT | MALLOC_CAP_INTERNAL, MALLOC_CAP_DMA | MALLOC_CAP_8BIT,
};
#define N_ALL_CAPS (sizeof s_all_caps / sizeof s_all_caps[0])

TEST_CASE("size queries are consistent for every capability", "[heap]")
{
    TEST_ASSERT_GREATER_THAN(0, heap_caps_get_total_size(MALLOC_CAP_DEFAULT));
    TEST_ASSERT_GREATER_THAN(0, heap_caps_get_total_size(MALLOC_CAP_DMA));
    TEST_ASSERT_GREATER_THAN(0, heap_caps_get_total_size(MALLOC_CAP_INTERNAL));
    for (size_t i = 0; i < N_ALL_CAPS; i++) {
        uint32_t c = s_all_caps[i];
        size_t total = heap_caps_get_total_size(c);
        size_t free_sz = heap_caps_get_free_size(c);
        size_t min_free = heap_caps_get_minimum_free_size(c);
        size_t largest = heap_caps_get_largest_free_block(c);
        TEST_ASSERT_GREATER_OR_EQUAL(free_sz, total);
        TEST_ASSERT_GREATER_OR_EQUAL(min_free, free_sz);
        TEST_ASSERT_GREATER_OR_EQUAL(largest, free_sz);
        if (total == 0) {
            TEST_ASSERT_EQUAL(0, free_sz);
            TEST_ASSERT_EQUAL(0, largest);
        }
        multi_heap_info_t info;
        memset(&info, 0xEE, sizeof info);
        heap_caps_get_info(&info, c);
        TEST_ASSERT_EQUAL(free_sz, info.total_free_bytes);
        TEST_ASSERT_EQUAL(largest, info.largest_free_block);
        TEST_ASSERT_EQUAL(min_free, info.minimum_free_bytes);
        TEST_ASSERT_EQUAL(info.total_blocks, info.allocated_blocks + info.free_blocks);
    }
    /* Capabilities nobody has: everything is zero. */
    TEST_ASSERT_EQUAL(0, heap_caps_get_total_size(MALLOC_CAP_INVALID));
    TEST_ASSERT_EQUAL(0, heap_caps_get_free_size(1u << 29));
    TEST_ASSERT_EQUAL(0, heap_caps_get_largest_free_block(1u << 29));
    TEST_ASSERT_EQUAL(0, heap_caps_get_minimum_free_size(1u << 29));
    multi_heap_info_t none;
    memset(&none, 0xEE, sizeof none);
    heap_caps_get_info(&none, 1u << 29);
    TEST_ASSERT_EQUAL(0, none.total_free_bytes);
    TEST_ASSERT_EQUAL(0, none.total_blocks);
    /* caps 0 selects every heap in the query APIs. */
    TEST_ASSERT_GREATER_OR_EQUAL(heap_caps_get_total_size(MALLOC_CAP_DEFAULT),
                                 heap_caps_get_total_size(0));
}

TEST_CASE("get_info counts an allocation", "[heap]")
{
    multi_heap_info_t a, b, c;
    heap_caps_get_info(&a, MALLOC_CAP_INTERNAL);
    void *p = heap_caps_malloc(200, MALLOC_CAP_INTERNAL);
    TEST_ASSERT_NOT_NULL(p);
    heap_caps_get_info(&b, MALLOC_CAP_INTERNAL);
    TEST_ASSERT_EQUAL(a.allocated_blocks + 1, b.allocated_blocks);
    TEST_ASSERT_GREATER_OR_EQUAL(a.total_allocated_bytes + 200, b.total_allocated_bytes);
    TEST_ASSERT_LESS_OR_EQUAL(a.total_free_bytes - 200, b.total_free_bytes);
    TEST_ASSERT_LESS_OR_EQUAL(b.total_free_bytes, b.minimum_free_bytes);
    heap_caps_free(p);
    heap_caps_get_info(&c, MALLOC_CAP_INTERNAL);
    TEST_ASSERT_EQUAL(a.total_free_bytes, c.total_free_bytes);
    TEST_ASSERT_EQUAL(a.allocated_blocks, c.allocated_blocks);
    TEST_ASSERT_EQUAL(a.total_allocated_bytes, c.total_allocated_bytes);
    TEST_ASSERT_LESS_OR_EQUAL(b.total_free_bytes, c.minimum_free_bytes);
}

TEST_CASE("heap caps metadata test", "[heap]")
{
    multi_heap_info_t original, after;
    heap_caps_print_heap_info(MALLOC_CAP_8BIT);
    heap_caps_get_info(&original, MALLOC_CAP_8BIT);
    TEST_ASSERT_GREATER_THAN(0, original.largest_free_block);
    void *b = heap_caps_malloc(original.largest_free_block, MALLOC_CAP_8BIT);
    TEST_ASSERT_NOT_NULL(b);
    heap_caps_get_info(&after, MALLOC_CAP_8BIT);
    TEST_ASSERT_LESS_THAN(original.total_free_bytes, after.minimum_free_bytes);
    heap_caps_free(b);
    heap_caps_get_info(&after, MALLOC_CAP_8BIT);
    TEST_ASSERT_EQUAL(original.total_free_bytes, after.total_free_bytes);
    TEST_ASSERT_EQUAL(original.largest_free_block, after.largest_free_block);
    TEST_ASSERT_LESS_THAN(original.total_free_bytes, heap_caps_get_minimum_free_size(MALLOC_CAP_8BIT));
}

HEAPCAPS_CHILD_SCENARIO(print_info_dma)
{
    printf("dma free %zu\n", heap_caps_get_free_size(MALLOC_CAP_DMA));
    heap_caps_print_heap_info(MALLOC_CAP_DMA);
    heap_caps_print_heap_info(1u << 29);
}

TEST_CASE("print_heap_info prints ESP-IDF's summary format", "[heap]")
{
    heapcaps_child_t r = heapcaps_test_run_child("print_info_dma");
    TEST_ASSERT_TRUE(r.exited);
    TEST_ASSERT_EQUAL_INT(0, r.exit_code);
    TEST_ASSERT_NOT_NULL(strstr(r.out, "Heap summary for capabilities 0x00000008:"));
    TEST_ASSERT_NOT_NULL(strstr(r.out, "Heap summary for capabilities 0x20000000:"));
    TEST_ASSERT_NOT_NULL(strstr(r.out, "  At 0x"));
    TEST_ASSERT_NOT_NULL(strstr(r.out, " largest_free_block "));
    TEST_ASSERT_NOT_NULL(strstr(r.out, "  Totals:"));
    size_t dma_free = 0;
    const char *d = strstr(r.out, "dma free ");
    TEST_ASSERT_NOT_NULL(d);
    dma_free = (size_t)strtoull(d + strlen("dma free "), NULL, 10);
    char want[160];
    snprintf(want, sizeof want, "    free %zu allocated ", dma_free);
    TEST_ASSERT_NOT_NULL_MESSAGE(strstr(r.out, want), "DMA totals line");
}

TEST_CASE("integrity checks select heaps by caps and address", "[heap]")
{
    TEST_ASSERT_TRUE(heap_caps_check_integrity_all(true));
    TEST_ASSERT_TRUE(heap_caps_check_integrity_all(false));
    TEST_ASSERT_TRUE(heap_caps_check_integrity(MALLOC_CAP_DEFAULT, true));
    TEST_ASSERT_TRUE(heap_caps_check_integrity(0, true));
    TEST_ASSERT_TRUE(heap_caps_check_integrity(MALLOC_CAP_INVALID, true));
    TEST_ASSERT_TRUE(heap_caps_check_integrity(1u << 29, true)); /* no heap selected */
    void *p = heap_caps_malloc(100, MALLOC_CAP_DMA);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_TRUE(heap_caps_check_integrity_addr((intptr_t)p, true));
    TEST_ASSERT_TRUE(heap_caps_check_integrity_addr((intptr_t)p + 50, false));
    int local;
    TEST_ASSERT_FALSE(heap_caps_check_integrity_addr((intptr_t)&local, true));
    TEST_ASSERT_FALSE(heap_caps_check_integrity_addr(0, true));
    heap_caps_free(p);
}

HEAPCAPS_CHILD_SCENARIO(corrupt_then_check)
{
    uint8_t *p = (uint8_t *)heap_caps_malloc(64, MALLOC_CAP_8BIT);
    CHILD_CHECK(p != NULL);
    CHILD_CHECK(heap_caps_check_integrity_all(true));
    /* Clobber the block header in front of the payload. */
    memset(p - 4, 0xFF, 4);
    CHILD_CHECK(!heap_caps_check_integrity_all(true));
    CHILD_CHECK(!heap_caps_check_integrity_addr((intptr_t)p, false));
    _exit(0);
}

TEST_CASE("integrity check detects a corrupted block header", "[heap][death]")
{
    HEAPCAPS_TEST_IN_CHILD_OK("corrupt_then_check");
}

HEAPCAPS_CHILD_SCENARIO(dump_dma)
{
    void *p = heap_caps_malloc(77, MALLOC_CAP_DMA);
    CHILD_CHECK(p != NULL);
    heap_caps_dump(MALLOC_CAP_DMA);
    heap_caps_dump_all();
}

TEST_CASE("dump and dump_all print something and keep the heap", "[heap]")
{
    heapcaps_child_t r = heapcaps_test_run_child("dump_dma");
    TEST_ASSERT_TRUE(r.exited);
    TEST_ASSERT_EQUAL_INT(0, r.exit_code);
    TEST_ASSERT_GREATER_THAN(0, strlen(r.out));
}

/* ---- walker ---- */
#define PASS_CODE 0xDEADBEEFu

typedef struct {
    void *target;
    int found;
    int blocks;
    int heaps_seen;
    intptr_t last_heap_start;
    int bad_block;
    uint32_t magic;
} walk_state_t;

static walk_state_t new_walk(void *target)
{
    walk_state_t s;
    memset(&s, 0, sizeof s);
    s.target = target;
    s.magic = 0x57414C4Bu;
    return s;
}

static bool walker(walker_heap_into_t heap, walker_block_info_t block, void *user)
{
    walk_state_t *s = (walk_state_t *)user;
    if (s->magic != 0x57414C4Bu) {
        s->bad_block++;
        return false;
    }
    if (heap.start != s->last_heap_start) {
        s->heaps_seen++;
        s->last_heap_start = heap.start;
    }
    s->blocks++;
    uint8_t *b = (uint8_t *)block.ptr;
    if ((intptr_t)b < heap.start || (intptr_t)(b + block.size) > heap.end) {
        s->bad_block++;
    }
    uint8_t *t = (uint8_t *)s->target;
    if (block.used && t >= b && t < b + block.size) {
        if (block.size >= 16 && *(uint32_t *)(void *)t == PASS_CODE) {
            s->found++;
        }
    }
    return true;
}

static bool stop_at_first(walker_heap_into_t heap, walker_block_info_t block, void *user)
{
    (void)block;
    walk_state_t *s = (walk_state_t *)user;
    if (heap.start != s->last_heap_start) {
        s->heaps_seen++;
        s->last_heap_start = heap.start;
    }
    s->blocks++;
    return false;
}

static bool count_heaps(walker_heap_into_t heap, walker_block_info_t block, void *user)
{
    (void)block;
    walk_state_t *s = (walk_state_t *)user;
    if (heap.start != s->last_heap_start) {
        s->heaps_seen++;
        s->last_heap_start = heap.start;
    }
    return true;
}

TEST_CASE("heap walker", "[heap]")
{
    uint32_t *p = (uint32_t *)heap_caps_malloc(16, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
    p[0] = PASS_CODE;
    walk_state_t s = new_walk(p);
    heap_caps_walk_all(walker, &s);
    TEST_ASSERT_EQUAL_INT(1, s.found);
    TEST_ASSERT_EQUAL_INT(0, s.bad_block);
    TEST_ASSERT_GREATER_THAN(1, s.blocks);

    walk_state_t d = new_walk(p);
    heap_caps_walk(MALLOC_CAP_DEFAULT, walker, &d);
    TEST_ASSERT_EQUAL_INT(1, d.found);

    /* Returning false stops only the current heap: each heap still gets exactly one call. */
    walk_state_t all = new_walk(NULL), first = new_walk(NULL);
    heap_caps_walk_all(count_heaps, &all);
    heap_caps_walk_all(stop_at_first, &first);
    TEST_ASSERT_EQUAL_INT(all.heaps_seen, first.heaps_seen);
    TEST_ASSERT_EQUAL_INT(first.heaps_seen, first.blocks);

    /* Nothing matches an impossible cap. */
    walk_state_t none = new_walk(NULL);
    heap_caps_walk(1u << 29, count_heaps, &none);
    TEST_ASSERT_EQUAL_INT(0, none.heaps_seen);
    heap_caps_free(p);
}

HEAPCAPS_CHILD_SCENARIO(walk_corrupted)
{
    uint32_t *p = (uint32_t *)heap_caps_malloc(16, MALLOC_CAP_DEFAULT);
    CHILD_CHECK(p != NULL);
    p[-1] = 0xFF000000u; /* the size word in front of the block */
    walk_state_t s = new_walk(p);
    heap_caps_walk_all(walker, &s);
    _exit(0);
}

TEST_CASE("heap walker corrupted heap detection", "[heap][death]")
{
    /* The walk over a corrupted heap may stop or abort with a message, but must not crash. */
    heapcaps_child_t r = heapcaps_test_run_child("walk_corrupted");
    if (!((r.exited && r.exit_code == 0) || r.signal == SIGABRT)) {
        heapcaps_test_show_child(&r);
    }
    TEST_ASSERT_TRUE_MESSAGE((r.exited && r.exit_code == 0) || r.signal == SIGABRT,
                             "walking a corrupted heap crashed");
}

/* ---- minimum free size monitoring ---- */

TEST_CASE("heap caps minimum free bytes monitoring", "[heap]")
{
    size_t global_min = heap_caps_get_minimum_free_size(MALLOC_CAP_DEFAULT);
    TEST_ASSERT_EQUAL_INT(ESP_OK, heap_caps_monitor_local_minimum_free_size_start());
    size_t local_min = heap_caps_get_minimum_free_size(MALLOC_CAP_DEFAULT);
    TEST_ASSERT_GREATER_OR_EQUAL(global_min, local_min);
    void *p = heap_caps_malloc(400, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
    heap_caps_free(p);
    TEST_ASSERT_LESS_OR_EQUAL(local_min - 400, heap_caps_get_minimum_free_size(MALLOC_CAP_DEFAULT));
    TEST_ASSERT_EQUAL_INT(ESP_OK, heap_caps_monitor_local_minimum_free_size_stop());
    TEST_ASSERT_LESS_OR_EQUAL(local_min, heap_caps_get_minimum_free_size(MALLOC_CAP_DEFAULT));
    TEST_ASSERT_LESS_OR_EQUAL(global_min, heap_caps_get_minimum_free_size(MALLOC_CAP_DEFAULT));
}

TEST_CASE("heap caps minimum free bytes fault cases", "[heap]")
{
    TEST_ASSERT_EQUAL_INT(ESP_OK, heap_caps_monitor_local_minimum_free_size_start());
    TEST_ASSERT_EQUAL_INT(ESP_OK, heap_caps_monitor_local_minimum_free_size_start());
    TEST_ASSERT_EQUAL_INT(ESP_OK, heap_caps_monitor_local_minimum_free_size_stop());
    TEST_ASSERT_NOT_EQUAL(ESP_OK, heap_caps_monitor_local_minimum_free_size_stop());
}

/* ---- capability priorities (chip-dependent shapes, checked generically) ---- */

TEST_CASE("Capabilities allocator test", "[heap]")
{
    size_t free8 = heap_caps_get_free_size(MALLOC_CAP_8BIT | MALLOC_CAP_INTERNAL);
    size_t free32 = heap_caps_get_free_size(MALLOC_CAP_32BIT | MALLOC_CAP_INTERNAL);
    TEST_ASSERT_GREATER_OR_EQUAL(free8, free32);

    /* A byte-accessible allocation reduces both. */
    void *p8 = heap_caps_malloc(10 * 1024, MALLOC_CAP_8BIT | MALLOC_CAP_INTERNAL);
    TEST_ASSERT_NOT_NULL(p8);
    TEST_ASSERT_LESS_OR_EQUAL(free8 - 10 * 1024, heap_caps_get_free_size(MALLOC_CAP_8BIT | MALLOC_CAP_INTERNAL));
    TEST_ASSERT_LESS_OR_EQUAL(free32 - 10 * 1024, heap_caps_get_free_size(MALLOC_CAP_32BIT | MALLOC_CAP_INTERNAL));
    heap_caps_free(p8);

    /* Where word-only memory exists (ESP32 IRAM), a 32BIT request is served there first and
     * leaves byte-accessible memory alone. */
    if (free32 > free8) {
        size_t f8 = heap_caps_get_free_size(MALLOC_CAP_8BIT);
        void *p32 = heap_caps_malloc(1024, MALLOC_CAP_32BIT);
        TEST_ASSERT_NOT_NULL(p32);
        TEST_ASSERT_EQUAL(f8, heap_caps_get_free_size(MALLOC_CAP_8BIT));
        TEST_ASSERT_LESS_THAN(free32, heap_caps_get_free_size(MALLOC_CAP_32BIT | MALLOC_CAP_INTERNAL));
        heap_caps_free(p32);
    }

    /* Repeated 32BIT allocations spill over into byte-accessible memory once word-only memory
     * is exhausted. */
    enum { MAX = 512 };
    static void *blocks[MAX];
    int n = 0;
    size_t f8_start = heap_caps_get_free_size(MALLOC_CAP_8BIT);
    while (n < MAX && heap_caps_get_free_size(MALLOC_CAP_8BIT) == f8_start) {
        blocks[n] = heap_caps_malloc(2048, MALLOC_CAP_32BIT);
        if (blocks[n] == NULL) {
            break;
        }
        n++;
    }
    TEST_ASSERT_LESS_THAN(MAX, n);
    TEST_ASSERT_LESS_THAN(f8_start, heap_caps_get_free_size(MALLOC_CAP_8BIT));
    while (n > 0) {
        heap_caps_free(blocks[--n]);
    }
    TEST_ASSERT_EQUAL(free32, heap_caps_get_free_size(MALLOC_CAP_32BIT | MALLOC_CAP_INTERNAL));
}

TEST_CASE("RTC memory should be lowest priority and its free size should be big enough", "[heap]")
{
    size_t rtc_total = heap_caps_get_total_size(MALLOC_CAP_RTCRAM);
    if (rtc_total == 0) {
        TEST_IGNORE_MESSAGE("this chip has no RTC heap");
    }
    size_t rtc_free = heap_caps_get_free_size(MALLOC_CAP_RTCRAM);
    void *p = heap_caps_malloc(4096, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_EQUAL(rtc_free, heap_caps_get_free_size(MALLOC_CAP_RTCRAM));
    heap_caps_free(p);
    TEST_ASSERT_EQUAL(heap_caps_get_minimum_free_size(MALLOC_CAP_RTCRAM), rtc_free);
    TEST_ASSERT_GREATER_OR_EQUAL(rtc_total * 8 / 10, rtc_free);
}

TEST_CASE("DMA memory is internal and byte accessible", "[heap]")
{
    void *d = heap_caps_malloc(256, MALLOC_CAP_DMA);
    TEST_ASSERT_NOT_NULL(d);
    size_t internal_before = heap_caps_get_free_size(MALLOC_CAP_INTERNAL);
    heap_caps_free(d);
    TEST_ASSERT_GREATER_THAN(internal_before, heap_caps_get_free_size(MALLOC_CAP_INTERNAL));
    TEST_ASSERT_EQUAL(heap_caps_get_total_size(MALLOC_CAP_DMA),
                      heap_caps_get_total_size(MALLOC_CAP_DMA | MALLOC_CAP_INTERNAL));
    if (heap_caps_get_total_size(MALLOC_CAP_SPIRAM) > 0) {
        TEST_ASSERT_EQUAL(0, heap_caps_get_total_size(MALLOC_CAP_SPIRAM | MALLOC_CAP_INTERNAL));
    }
}

/* ---- default malloc policy (in a child process: the extmem limit cannot be reset) ---- */

HEAPCAPS_CHILD_SCENARIO(extmem_policy)
{
    size_t int_free = heap_caps_get_free_size(MALLOC_CAP_INTERNAL);
    size_t ext_free = heap_caps_get_free_size(MALLOC_CAP_SPIRAM);
    /* Without the opt-in, malloc's default policy stays internal. */
    void *a = heap_caps_malloc_default(1000);
    CHILD_CHECK(a != NULL);
    CHILD_CHECK(heap_caps_get_free_size(MALLOC_CAP_SPIRAM) == ext_free);
    CHILD_CHECK(heap_caps_get_free_size(MALLOC_CAP_INTERNAL) < int_free);
    heap_caps_free(a);
    void *al = heap_caps_aligned_alloc_default(64, 1000);
    CHILD_CHECK(al != NULL && ((uintptr_t)al & 63) == 0);
    CHILD_CHECK(heap_caps_get_free_size(MALLOC_CAP_SPIRAM) == ext_free);
    heap_caps_free(al);
    void *r = heap_caps_realloc_default(NULL, 100);
    CHILD_CHECK(r != NULL);
    CHILD_CHECK(heap_caps_realloc_default(r, 0) == NULL);
    CHILD_CHECK(heap_caps_get_free_size(MALLOC_CAP_INTERNAL) == int_free);
    CHILD_CHECK(heap_caps_malloc_default(0) == NULL);
    if (ext_free == 0) {
        _exit(0);
    }
    /* Opt in: requests above the limit go to PSRAM, smaller ones stay internal. */
    heap_caps_malloc_extmem_enable(512);
    void *small = heap_caps_malloc_default(100);
    CHILD_CHECK(small != NULL);
    CHILD_CHECK(heap_caps_get_free_size(MALLOC_CAP_SPIRAM) == ext_free);
    void *big = heap_caps_malloc_default(4096);
    CHILD_CHECK(big != NULL);
    CHILD_CHECK(heap_caps_get_free_size(MALLOC_CAP_SPIRAM) < ext_free);
    void *bigger = heap_caps_realloc_default(small, 2048);
    CHILD_CHECK(bigger != NULL);
    heap_caps_free(big);
    heap_caps_free(bigger);
    CHILD_CHECK(heap_caps_get_free_size(MALLOC_CAP_SPIRAM) == ext_free);
    CHILD_CHECK(heap_caps_get_free_size(MALLOC_CAP_INTERNAL) == int_free);
    _exit(0);
}

TEST_CASE("default malloc policy: internal unless extmem is enabled", "[heap]")
{
    HEAPCAPS_TEST_IN_CHILD_OK("extmem_policy");
}

TEST_CASE("Check if default cap allocates in external memory in priority", "[heap][psram]")
{
    if (heap_caps_get_total_size(MALLOC_CAP_SPIRAM) == 0) {
        TEST_IGNORE_MESSAGE("this chip has no PSRAM heap");
    }
    /* PSRAM is added at startup, at the head of the heap list, with DEFAULT among its caps: a
     * plain MALLOC_CAP_DEFAULT request is served there first (malloc's policy is different). */
    size_t internal = heap_caps_get_free_size(MALLOC_CAP_INTERNAL);
    size_t external = heap_caps_get_free_size(MALLOC_CAP_SPIRAM);
    void *p = heap_caps_malloc(256, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_EQUAL(internal, heap_caps_get_free_size(MALLOC_CAP_INTERNAL));
    TEST_ASSERT_LESS_OR_EQUAL(external - 256, heap_caps_get_free_size(MALLOC_CAP_SPIRAM));
    heap_caps_free(p);
    TEST_ASSERT_EQUAL(external, heap_caps_get_free_size(MALLOC_CAP_SPIRAM));
}
