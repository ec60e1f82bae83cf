/*
 * heapcaps through ESP-IDF: Unity test cases that call the public heap API the way ESP-IDF
 * components do, built by idf.py with this repository as the `heap` component.
 *
 * On the linux target the app also runs tests/c/test_multi_heap.c (see main/CMakeLists.txt), runs
 * every test case (no interactive menu), prints Unity's summary and exits non-zero on a failure,
 * so `idf.py build && build/heapcaps_idf_test.elf` is a pass/fail check.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_heap_caps.h"
#include "esp_heap_caps_init.h"
#include "multi_heap.h"
#include "sdkconfig.h"
#include "unity.h"
#include "unity_test_runner.h"

TEST_CASE("malloc family goes through heapcaps", "[heapcaps]")
{
    size_t before = heap_caps_get_free_size(MALLOC_CAP_DEFAULT);
    char *p = malloc(1000);
    TEST_ASSERT_NOT_NULL(p);
    memset(p, 0xA5, 1000);
#if CONFIG_HEAPCAPS_LINUX_C_MALLOC || !CONFIG_IDF_TARGET_LINUX
    /* malloc() and heap_caps_*() share the heaps: the block is visible to heap_caps. */
    TEST_ASSERT_LESS_THAN(before, heap_caps_get_free_size(MALLOC_CAP_DEFAULT));
    TEST_ASSERT_GREATER_OR_EQUAL(1000, heap_caps_get_allocated_size(p));
#endif
    p = realloc(p, 3000);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_EACH_EQUAL_HEX8(0xA5, p, 1000);
    free(p);
    TEST_ASSERT_NULL(malloc(0));
    int *z = calloc(16, sizeof(int));
    TEST_ASSERT_NOT_NULL(z);
    TEST_ASSERT_EACH_EQUAL_INT(0, z, 16);
    heap_caps_free(z);
    TEST_ASSERT_EQUAL(before, heap_caps_get_free_size(MALLOC_CAP_DEFAULT));
}

TEST_CASE("caps allocation, alignment and info", "[heapcaps]")
{
    void *p = heap_caps_malloc(100, MALLOC_CAP_INTERNAL | MALLOC_CAP_8BIT);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_EQUAL(0, (uintptr_t)p % 4);
    TEST_ASSERT_TRUE(heap_caps_check_integrity_addr((intptr_t)p, true));
    heap_caps_free(p);

    for (size_t align = 4; align <= 1024; align *= 2) {
        void *a = heap_caps_aligned_alloc(align, 300, MALLOC_CAP_DEFAULT);
        TEST_ASSERT_NOT_NULL(a);
        TEST_ASSERT_EQUAL(0, (uintptr_t)a % align);
        heap_caps_free(a);
    }
    TEST_ASSERT_NULL(heap_caps_aligned_alloc(3, 16, MALLOC_CAP_DEFAULT));

    multi_heap_info_t info;
    heap_caps_get_info(&info, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_GREATER_THAN(0, info.total_free_bytes);
    TEST_ASSERT_LESS_OR_EQUAL(info.total_free_bytes, info.largest_free_block);
    TEST_ASSERT_EQUAL(info.largest_free_block, heap_caps_get_largest_free_block(MALLOC_CAP_DEFAULT));
    /* Unity's order: (threshold, actual), i.e. free <= total. */
    TEST_ASSERT_LESS_OR_EQUAL(heap_caps_get_total_size(MALLOC_CAP_DEFAULT),
                              heap_caps_get_free_size(MALLOC_CAP_DEFAULT));
    TEST_ASSERT_TRUE(heap_caps_check_integrity_all(true));
    /* No memory has every capability at once. */
    TEST_ASSERT_NULL(heap_caps_malloc(16, MALLOC_CAP_INVALID));
}

TEST_CASE("prefer variants fall back through the caps list", "[heapcaps]")
{
    void *p = heap_caps_malloc_prefer(64, 2, MALLOC_CAP_INVALID, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
    p = heap_caps_realloc_prefer(p, 256, 2, MALLOC_CAP_INVALID, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
    heap_caps_free(p);
    uint8_t *c = heap_caps_calloc_prefer(10, 10, 1, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(c);
    TEST_ASSERT_EACH_EQUAL_HEX8(0, c, 100);
    heap_caps_free(c);
}

static size_t s_failed_size;
static uint32_t s_failed_caps;

static void on_alloc_failed(size_t size, uint32_t caps, const char *function_name)
{
    (void)function_name;
    s_failed_size = size;
    s_failed_caps = caps;
}

TEST_CASE("failed allocation callback", "[heapcaps]")
{
    TEST_ASSERT_EQUAL(ESP_ERR_INVALID_ARG, heap_caps_register_failed_alloc_callback(NULL));
    TEST_ASSERT_EQUAL(ESP_OK, heap_caps_register_failed_alloc_callback(on_alloc_failed));
    TEST_ASSERT_NULL(heap_caps_malloc(SIZE_MAX / 2, MALLOC_CAP_8BIT));
    TEST_ASSERT_EQUAL(SIZE_MAX / 2, s_failed_size);
    TEST_ASSERT_EQUAL_HEX32(MALLOC_CAP_8BIT, s_failed_caps);
}

static bool count_block(walker_heap_into_t heap, walker_block_info_t block, void *user)
{
    (void)heap;
    (void)block;
    ++*(int *)user;
    return true;
}

TEST_CASE("multi_heap on a caller's buffer", "[heapcaps][multi_heap]")
{
    static uint32_t region[1024];
    multi_heap_handle_t h = multi_heap_register(region, sizeof region);
    TEST_ASSERT_NOT_NULL(h);
    size_t free0 = multi_heap_free_size(h);
    void *a = multi_heap_malloc(h, 200);
    void *b = multi_heap_aligned_alloc(h, 64, 64);
    TEST_ASSERT_NOT_NULL(a);
    TEST_ASSERT_NOT_NULL(b);
    TEST_ASSERT_EQUAL(0, (uintptr_t)b % 64);
    TEST_ASSERT_GREATER_OR_EQUAL(200, multi_heap_get_allocated_size(h, a));
    a = multi_heap_realloc(h, a, 1000);
    TEST_ASSERT_NOT_NULL(a);
    TEST_ASSERT_TRUE(multi_heap_check(h, true));
    multi_heap_info_t info;
    multi_heap_get_info(h, &info);
    TEST_ASSERT_EQUAL(2, info.allocated_blocks);
    multi_heap_free(h, a);
    multi_heap_aligned_free(h, b);
    TEST_ASSERT_EQUAL(free0, multi_heap_free_size(h));
    TEST_ASSERT_NULL(multi_heap_malloc(h, sizeof region));
}

TEST_CASE("walk every heap", "[heapcaps]")
{
    int blocks = 0;
    void *p = heap_caps_malloc(32, MALLOC_CAP_DEFAULT);
    heap_caps_walk_all(count_block, &blocks);
    TEST_ASSERT_GREATER_THAN(0, blocks);
    heap_caps_free(p);
}

void app_main(void)
{
    UNITY_BEGIN();
    /* Everything except tests/c's "[death]" cases, which fork to watch a child abort: fork does
     * not mix with the linux FreeRTOS port's threads. */
    unity_run_tests_by_tag("[death]", true);
    int failures = UNITY_END();
#if CONFIG_IDF_TARGET_LINUX
    exit(failures == 0 ? 0 : 1);
#else
    (void)failures;
#endif
}
