/*
 * Runtime heap registration from C on every simulated chip: heap_caps_add_region,
 * heap_caps_add_region_with_caps and their overlap rule, bad input, and the effect of a runtime
 * heap on sizes, minimum tracking and allocation. A registered heap can never be removed, so each
 * scenario runs in a forked child and leaves the parent's heaps as they were.
 * Ports the intent of ESP-IDF heap tests #33, #44, #45, #46, #47.
 */
#include "heapcaps_test_util.h"

/* ESP-IDF's test hook: non-static in heap_caps_init.c, declared by the test itself. */
extern bool heap_caps_check_add_region_allowed(intptr_t heap_start, intptr_t heap_end,
                                               intptr_t start, intptr_t end);

#define REGION_SIZE 3500
#define INVENTED_CAP_A (1u << 29)
#define INVENTED_CAP_B (1u << 30)

TEST_CASE("Add heap region address range checks", "[heap]")
{
    const intptr_t s = 0x1000, e = 0x3000;
    TEST_ASSERT_TRUE(heap_caps_check_add_region_allowed(s, e, 0x0, 0x1000));
    TEST_ASSERT_TRUE(heap_caps_check_add_region_allowed(s, e, 0x3000, 0x4000));
    TEST_ASSERT_TRUE(heap_caps_check_add_region_allowed(s, e, 0x1000, 0x2999));
    TEST_ASSERT_TRUE(heap_caps_check_add_region_allowed(s, e, 0x1001, 0x3000));
    TEST_ASSERT_TRUE(heap_caps_check_add_region_allowed(s, e, 0x1001, 0x2999));
    TEST_ASSERT_FALSE(heap_caps_check_add_region_allowed(s, e, 0x0, 0x2000));
    TEST_ASSERT_FALSE(heap_caps_check_add_region_allowed(s, e, 0x0, 0x4000));
    TEST_ASSERT_FALSE(heap_caps_check_add_region_allowed(s, e, 0x1000, 0x4000));
    TEST_ASSERT_FALSE(heap_caps_check_add_region_allowed(s, e, 0x2000, 0x4000));
    TEST_ASSERT_FALSE(heap_caps_check_add_region_allowed(s, e, 0x1000, 0x3000));
}

HEAPCAPS_CHILD_SCENARIO(add_region_bad_input)
{
    static uint32_t buf[256];
    intptr_t b = (intptr_t)buf;
    const uint32_t caps[3] = {MALLOC_CAP_8BIT, 0, 0};
    CHILD_CHECK(heap_caps_add_region(0, b + 1024) == ESP_ERR_INVALID_ARG);
    CHILD_CHECK(heap_caps_add_region_with_caps(NULL, b, b + 1024) == ESP_ERR_INVALID_ARG);
    CHILD_CHECK(heap_caps_add_region_with_caps(caps, 0, b + 1024) == ESP_ERR_INVALID_ARG);
    CHILD_CHECK(heap_caps_add_region_with_caps(caps, b, 0) == ESP_ERR_INVALID_ARG);
    CHILD_CHECK(heap_caps_add_region_with_caps(caps, b + 512, b + 512) == ESP_ERR_INVALID_ARG);
    CHILD_CHECK(heap_caps_add_region_with_caps(caps, b + 512, b) == ESP_ERR_INVALID_ARG);
    /* Too small to hold a heap. */
    CHILD_CHECK(heap_caps_add_region_with_caps(caps, b, b + 100) == ESP_ERR_INVALID_SIZE);
    /* Memory that is in none of the chip's RAM regions (this process's .bss). */
    CHILD_CHECK(heap_caps_add_region(b, b + 1024) == ESP_ERR_NOT_FOUND);
    _exit(0);
}

TEST_CASE("add_region rejects bad input", "[heap]")
{
    HEAPCAPS_TEST_IN_CHILD_OK("add_region_bad_input");
}

HEAPCAPS_CHILD_SCENARIO(add_malloced_region)
{
    size_t before = heap_caps_get_free_size(MALLOC_CAP_DEFAULT);
    uint8_t *buf = (uint8_t *)heap_caps_malloc(REGION_SIZE, MALLOC_CAP_INTERNAL | MALLOC_CAP_8BIT);
    CHILD_CHECK(buf != NULL);
    size_t after_alloc = heap_caps_get_free_size(MALLOC_CAP_DEFAULT);
    /* The block lies in a chip RAM region: the caps come from that region's type. */
    CHILD_CHECK(heap_caps_add_region((intptr_t)buf, (intptr_t)buf + REGION_SIZE) == ESP_OK);
    size_t after_add = heap_caps_get_free_size(MALLOC_CAP_DEFAULT);
    CHILD_CHECK(after_add >= after_alloc + REGION_SIZE - 3248);
    CHILD_CHECK(after_add < before + REGION_SIZE);
    /* The same range again, or one straddling it, is refused. */
    CHILD_CHECK(heap_caps_add_region((intptr_t)buf, (intptr_t)buf + REGION_SIZE) == ESP_FAIL);
    const uint32_t caps[3] = {MALLOC_CAP_8BIT, 0, 0};
    CHILD_CHECK(heap_caps_add_region_with_caps(caps, (intptr_t)buf - 64,
                                               (intptr_t)buf + 64) == ESP_FAIL);
    CHILD_CHECK(heap_caps_check_integrity_all(true));
    /* Allocate everything the default caps can get: some of it comes from the new heap. */
    enum { MAX = 4096 };
    static void *blocks[MAX];
    int n = 0, inside = 0;
    while (n < MAX &&
           (blocks[n] = heap_caps_malloc(256, MALLOC_CAP_DEFAULT | MALLOC_CAP_INTERNAL)) != NULL) {
        inside += (uint8_t *)blocks[n] > buf && (uint8_t *)blocks[n] < buf + REGION_SIZE;
        n++;
    }
    CHILD_CHECK(inside >= 8);
    while (n > 0) {
        heap_caps_free(blocks[--n]);
    }
    CHILD_CHECK(heap_caps_check_integrity_addr((intptr_t)buf + 100, true));
    _exit(0);
}

TEST_CASE("Allocate new heap at runtime", "[heap]")
{
    HEAPCAPS_TEST_IN_CHILD_OK("add_malloced_region");
}

HEAPCAPS_CHILD_SCENARIO(add_region_new_cap)
{
    CHILD_CHECK(heap_caps_malloc(100, INVENTED_CAP_B) == NULL);
    uint8_t *buf = (uint8_t *)heap_caps_malloc(REGION_SIZE, MALLOC_CAP_INTERNAL | MALLOC_CAP_8BIT);
    CHILD_CHECK(buf != NULL);
    const uint32_t caps[3] = {INVENTED_CAP_B, 0, 0};
    CHILD_CHECK(heap_caps_add_region_with_caps(caps, (intptr_t)buf, (intptr_t)buf + REGION_SIZE) ==
                ESP_OK);
    CHILD_CHECK(heap_caps_get_total_size(INVENTED_CAP_B) == REGION_SIZE);
    void *p = heap_caps_malloc(100, INVENTED_CAP_B);
    CHILD_CHECK(p != NULL);
    CHILD_CHECK((uint8_t *)p > buf && (uint8_t *)p < buf + REGION_SIZE);
    heap_caps_free(p);
    /* Ordinary requests never land there: the heap lacks their caps. */
    void *q = heap_caps_malloc(100, MALLOC_CAP_8BIT);
    CHILD_CHECK(q != NULL && !((uint8_t *)q >= buf && (uint8_t *)q < buf + REGION_SIZE));
    heap_caps_free(q);
    _exit(0);
}

TEST_CASE("Allocate new heap with new capability", "[heap]")
{
    HEAPCAPS_TEST_IN_CHILD_OK("add_region_new_cap");
}

HEAPCAPS_CHILD_SCENARIO(add_static_region)
{
    static uint32_t region[REGION_SIZE / 4];
    const uint32_t caps[3] = {MALLOC_CAP_DEFAULT, 0, MALLOC_CAP_8BIT | MALLOC_CAP_32BIT};
    size_t before = heap_caps_get_free_size(MALLOC_CAP_DEFAULT);
    intptr_t s = (intptr_t)region, e = (intptr_t)region + sizeof region;
    CHILD_CHECK(heap_caps_add_region_with_caps(caps, s, e) == ESP_OK);
    CHILD_CHECK(heap_caps_get_free_size(MALLOC_CAP_DEFAULT) >= before + sizeof region - 3248);
    CHILD_CHECK(heap_caps_add_region_with_caps(caps, s, e) == ESP_FAIL);
    CHILD_CHECK(heap_caps_check_integrity_all(true));
    _exit(0);
}

TEST_CASE("Add .bss memory to heap region runtime", "[heap]")
{
    HEAPCAPS_TEST_IN_CHILD_OK("add_static_region");
}

HEAPCAPS_CHILD_SCENARIO(runtime_heap_minimum)
{
    static uint32_t region[REGION_SIZE / 4];
    size_t min_default = heap_caps_get_minimum_free_size(MALLOC_CAP_DEFAULT);
    const uint32_t caps[3] = {INVENTED_CAP_A, 0, 0};
    CHILD_CHECK(heap_caps_add_region_with_caps(caps, (intptr_t)region,
                                               (intptr_t)region + sizeof region) == ESP_OK);
    CHILD_CHECK(heap_caps_get_free_size(INVENTED_CAP_A) > 0);
    CHILD_CHECK(heap_caps_get_minimum_free_size(INVENTED_CAP_A) == 0);
    CHILD_CHECK(heap_caps_get_minimum_free_size(MALLOC_CAP_DEFAULT) <= min_default);
    _exit(0);
}

TEST_CASE("heap registered after startup should not affect minimum free size", "[heap]")
{
    HEAPCAPS_TEST_IN_CHILD_OK("runtime_heap_minimum");
}
