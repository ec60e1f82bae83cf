/*
 * heap_caps allocation API from C on every simulated chip: malloc/calloc/realloc/free, aligned
 * variants, *_prefer, the failed-allocation callback, and bad input (NULL, size 0, SIZE_MAX,
 * overflowing products, bad alignment, capabilities no heap has, foreign pointers).
 * Ports the intent of ESP-IDF heap tests #3, #23-27, #37, #38, #41, #43, #54, #56, #57
 * (numbers as in the spec's tests.md).
 */
#include "heapcaps_test_util.h"

#include "multi_heap.h"

#define CAP_NOBODY_HAS (1u << 29)

/* ---- failed-allocation callback bookkeeping ---- */
static int s_cb_calls;
static size_t s_cb_size;
static uint32_t s_cb_caps;
static char s_cb_func[64];

static void count_failed_alloc(size_t size, uint32_t caps, const char *function_name)
{
    s_cb_calls++;
    s_cb_size = size;
    s_cb_caps = caps;
    snprintf(s_cb_func, sizeof s_cb_func, "%s", function_name ? function_name : "(null)");
}

static void reset_cb(void)
{
    TEST_ASSERT_EQUAL_INT(ESP_OK, heap_caps_register_failed_alloc_callback(count_failed_alloc));
    s_cb_calls = 0;
    s_cb_size = 0;
    s_cb_caps = 0;
    s_cb_func[0] = '\0';
}

static void fill(void *p, size_t n, uint8_t seed)
{
    uint8_t *b = (uint8_t *)p;
    for (size_t i = 0; i < n; i++) {
        b[i] = (uint8_t)(seed + i * 7);
    }
}

static bool filled(const void *p, size_t n, uint8_t seed)
{
    const uint8_t *b = (const uint8_t *)p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != (uint8_t)(seed + i * 7)) {
            return false;
        }
    }
    return true;
}

TEST_CASE("simulated chip is the one selected", "[heap][sim]")
{
    const char *want = getenv("HEAPCAPS_CHIP");
    TEST_ASSERT_NOT_NULL(want);
    TEST_ASSERT_EQUAL_STRING(want, heapcaps_sim_chip_name());
    TEST_ASSERT_NOT_EQUAL(ESP_OK, heapcaps_sim_select_chip("esp8266"));
    TEST_ASSERT_NOT_EQUAL(ESP_OK, heapcaps_sim_select_chip(NULL));
}

TEST_CASE("capability macros are 32-bit values (safe to pass to the *_prefer varargs)", "[heap]")
{
    /* A wider constant (e.g. a decimal 2147483648, a long long on 32-bit targets) would shift
     * every later variadic argument of heap_caps_*_prefer. */
    TEST_ASSERT_EQUAL(4, sizeof(MALLOC_CAP_INVALID));
    TEST_ASSERT_EQUAL(4, sizeof(MALLOC_CAP_DEFAULT));
    TEST_ASSERT_EQUAL(4, sizeof(MALLOC_CAP_SPIRAM_NO_ENC));
    TEST_ASSERT_EQUAL_HEX32(0x80000000u, (uint32_t)MALLOC_CAP_INVALID);
}

TEST_CASE("register_failed_alloc_callback rejects NULL", "[heap]")
{
    TEST_ASSERT_EQUAL_INT(ESP_ERR_INVALID_ARG, heap_caps_register_failed_alloc_callback(NULL));
    reset_cb();
}

TEST_CASE("basic alloc APIs keep contents and free everything", "[heap]")
{
    size_t before = heap_caps_get_free_size(MALLOC_CAP_DEFAULT);
    uint8_t *p = (uint8_t *)heap_caps_malloc(1000, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_TRUE(heapcaps_test_aligned(p, 4));
    TEST_ASSERT_GREATER_OR_EQUAL(1000, heap_caps_get_allocated_size(p));
    TEST_ASSERT_LESS_THAN(before, heap_caps_get_free_size(MALLOC_CAP_DEFAULT));
    fill(p, 1000, 3);
    p = (uint8_t *)heap_caps_realloc(p, 2000, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_TRUE(filled(p, 1000, 3));
    TEST_ASSERT_NULL(heap_caps_realloc(p, 0, MALLOC_CAP_DEFAULT)); /* frees */
    TEST_ASSERT_EQUAL(before, heap_caps_get_free_size(MALLOC_CAP_DEFAULT));

    uint32_t *z = (uint32_t *)heap_caps_calloc(250, sizeof(uint32_t), MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(z);
    for (int i = 0; i < 250; i++) {
        TEST_ASSERT_EQUAL_UINT32(0, z[i]);
    }
    heap_caps_free(z);
    TEST_ASSERT_EQUAL(before, heap_caps_get_free_size(MALLOC_CAP_DEFAULT));
    heap_caps_free(NULL); /* no-op */
}

TEST_CASE("calloc zeroes memory that held data before", "[heap]")
{
    uint8_t *p = (uint8_t *)heap_caps_malloc(512, MALLOC_CAP_8BIT);
    TEST_ASSERT_NOT_NULL(p);
    memset(p, 0xA5, 512);
    heap_caps_free(p);
    uint8_t *z = (uint8_t *)heap_caps_calloc(1, 512, MALLOC_CAP_8BIT);
    TEST_ASSERT_NOT_NULL(z);
    for (int i = 0; i < 512; i++) {
        TEST_ASSERT_EQUAL_HEX8(0, z[i]);
    }
    heap_caps_free(z);
}

TEST_CASE("zero-size requests return NULL and do not call the failure callback", "[heap]")
{
    reset_cb();
    TEST_ASSERT_NULL(heap_caps_malloc(0, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_malloc(0, MALLOC_CAP_DMA));
    TEST_ASSERT_NULL(heap_caps_calloc(0, 0, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_calloc(16, 0, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_realloc(NULL, 0, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_aligned_alloc(32, 0, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_aligned_calloc(32, 0, 0, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_aligned_calloc(32, 8, 0, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_malloc_prefer(0, 1, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_EQUAL_INT(0, s_cb_calls);
}

TEST_CASE("alloc overflows should all fail", "[heap]")
{
    reset_cb();
    TEST_ASSERT_NULL(heap_caps_calloc(SIZE_MAX / 2 + 4, 2, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_calloc(SIZE_MAX, SIZE_MAX, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_aligned_calloc(16, SIZE_MAX / 2 + 4, 2, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_calloc_prefer(SIZE_MAX / 2 + 4, 2, 1, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_malloc(SIZE_MAX - 1, MALLOC_CAP_32BIT));
    TEST_ASSERT_NULL(heap_caps_malloc(SIZE_MAX, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_malloc(SIZE_MAX - 3, MALLOC_CAP_8BIT));
#ifdef MALLOC_CAP_EXEC
    TEST_ASSERT_NULL(heap_caps_malloc(SIZE_MAX - 1, MALLOC_CAP_EXEC));
    TEST_ASSERT_NULL(heap_caps_malloc(SIZE_MAX - 3, MALLOC_CAP_EXEC));
#endif
    TEST_ASSERT_NULL(heap_caps_calloc(SIZE_MAX - 1, 1, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_realloc(NULL, SIZE_MAX, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_aligned_alloc(16, SIZE_MAX, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_aligned_alloc(4096, SIZE_MAX - 4000, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_malloc(SIZE_MAX, MALLOC_CAP_DMA));

    /* A failed realloc leaves the block alone. */
    uint8_t *p = (uint8_t *)heap_caps_malloc(40, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
    fill(p, 40, 9);
    TEST_ASSERT_NULL(heap_caps_realloc(p, SIZE_MAX, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_realloc(p, SIZE_MAX - 3, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_TRUE(filled(p, 40, 9));
    TEST_ASSERT_TRUE(heap_caps_check_integrity_addr((intptr_t)p, true));
    heap_caps_free(p);
}

TEST_CASE("unreasonable allocs should all fail", "[heap]")
{
    TEST_ASSERT_NULL(heap_caps_calloc(16, 1024 * 1024, MALLOC_CAP_INTERNAL));
    TEST_ASSERT_NULL(heap_caps_malloc(16 * 1024 * 1024, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_malloc(SIZE_MAX / 2, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_malloc(SIZE_MAX - 256, MALLOC_CAP_DEFAULT));
    size_t free_internal = heap_caps_get_free_size(MALLOC_CAP_INTERNAL);
    TEST_ASSERT_NULL(heap_caps_malloc(free_internal + 4, MALLOC_CAP_INTERNAL));
    size_t largest = heap_caps_get_largest_free_block(MALLOC_CAP_8BIT);
    TEST_ASSERT_NULL(heap_caps_malloc(largest + 4, MALLOC_CAP_8BIT));
}

TEST_CASE("capabilities no heap has give NULL and call the callback", "[heap]")
{
    reset_cb();
    TEST_ASSERT_NULL(heap_caps_malloc(64, CAP_NOBODY_HAS));
    TEST_ASSERT_EQUAL_INT(1, s_cb_calls);
    TEST_ASSERT_EQUAL_HEX32(CAP_NOBODY_HAS, s_cb_caps);
    TEST_ASSERT_EQUAL(64, s_cb_size);

    TEST_ASSERT_NULL(heap_caps_malloc(64, 0)); /* caps 0 never allocates */
    TEST_ASSERT_EQUAL_INT(2, s_cb_calls);
    TEST_ASSERT_NULL(heap_caps_calloc(4, 16, CAP_NOBODY_HAS));
    TEST_ASSERT_EQUAL_INT(3, s_cb_calls);
    TEST_ASSERT_NULL(heap_caps_aligned_alloc(16, 64, CAP_NOBODY_HAS));
    TEST_ASSERT_EQUAL_INT(4, s_cb_calls);
    TEST_ASSERT_NULL(heap_caps_aligned_calloc(16, 4, 16, CAP_NOBODY_HAS));
    TEST_ASSERT_EQUAL_INT(5, s_cb_calls);
    if (heap_caps_get_total_size(MALLOC_CAP_SPIRAM) == 0) {
        TEST_ASSERT_NULL(heap_caps_malloc(64, MALLOC_CAP_SPIRAM));
        TEST_ASSERT_EQUAL_INT(6, s_cb_calls);
    }
}

TEST_CASE("user provided alloc failed hook must be called when allocation fails", "[heap]")
{
    const size_t huge = 128 * 1024 * 1024;
    reset_cb();
    TEST_ASSERT_NULL(heap_caps_malloc(huge, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_EQUAL_INT(1, s_cb_calls);
    TEST_ASSERT_EQUAL(huge, s_cb_size);
    TEST_ASSERT_EQUAL_HEX32(MALLOC_CAP_DEFAULT, s_cb_caps);
    TEST_ASSERT_EQUAL_STRING("heap_caps_malloc", s_cb_func);

    TEST_ASSERT_NULL(heap_caps_realloc(NULL, huge, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_EQUAL_INT(2, s_cb_calls);
    TEST_ASSERT_EQUAL_STRING("heap_caps_realloc", s_cb_func);

    TEST_ASSERT_NULL(heap_caps_aligned_alloc(0x200, huge, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_EQUAL_INT(3, s_cb_calls);
    TEST_ASSERT_EQUAL_STRING("heap_caps_aligned_alloc", s_cb_func);

    TEST_ASSERT_NULL(heap_caps_calloc(huge, 1, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_EQUAL_INT(4, s_cb_calls);
    TEST_ASSERT_EQUAL_STRING("heap_caps_calloc", s_cb_func);

    TEST_ASSERT_NULL(heap_caps_malloc(SIZE_MAX, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_EQUAL_INT(5, s_cb_calls);
}

TEST_CASE("allocation with invalid capability should also trigger the alloc failed hook", "[heap]")
{
    reset_cb();
    TEST_ASSERT_NULL(heap_caps_malloc(64, MALLOC_CAP_INVALID));
    TEST_ASSERT_EQUAL_INT(1, s_cb_calls);
    TEST_ASSERT_NULL(heap_caps_realloc(NULL, 64, MALLOC_CAP_INVALID));
    TEST_ASSERT_EQUAL_INT(2, s_cb_calls);
    TEST_ASSERT_NULL(heap_caps_aligned_alloc(16, 64, MALLOC_CAP_INVALID));
    TEST_ASSERT_EQUAL_INT(3, s_cb_calls);
    TEST_ASSERT_NULL(heap_caps_malloc(64, MALLOC_CAP_DEFAULT | MALLOC_CAP_INVALID));
    TEST_ASSERT_EQUAL_INT(4, s_cb_calls);
    TEST_ASSERT_EQUAL_HEX32(MALLOC_CAP_DEFAULT | MALLOC_CAP_INVALID, s_cb_caps);
}

TEST_CASE("bad alignment gives NULL without the callback", "[heap]")
{
    reset_cb();
    static const size_t bad[] = {0, 3, 6, 12, 24, 100, 1025, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        TEST_ASSERT_NULL(heap_caps_aligned_alloc(bad[i], 64, MALLOC_CAP_DEFAULT));
        TEST_ASSERT_NULL(heap_caps_aligned_calloc(bad[i], 4, 16, MALLOC_CAP_DEFAULT));
    }
    TEST_ASSERT_EQUAL_INT(0, s_cb_calls);
}

TEST_CASE("Capabilities aligned allocator test", "[heap]")
{
    for (size_t a = 0; a <= 1024; a++) {
        uint8_t *p = (uint8_t *)heap_caps_aligned_alloc(a, a + 137, MALLOC_CAP_DEFAULT);
        bool pow2 = a != 0 && (a & (a - 1)) == 0;
        if (!pow2) {
            TEST_ASSERT_NULL(p);
            continue;
        }
        TEST_ASSERT_NOT_NULL(p);
        TEST_ASSERT_TRUE(heapcaps_test_aligned(p, a));
        TEST_ASSERT_GREATER_OR_EQUAL(a + 137, heap_caps_get_allocated_size(p));
        memset(p, 0xA5, a + 137);
        TEST_ASSERT_TRUE(heap_caps_check_integrity_addr((intptr_t)p, true));
        heap_caps_free(p);
    }
    /* Aligned DMA-capable and 32-bit memory too. */
    for (size_t a = 8; a <= 256; a *= 2) {
        void *d = heap_caps_aligned_alloc(a, 100, MALLOC_CAP_DMA);
        TEST_ASSERT_NOT_NULL(d);
        TEST_ASSERT_TRUE(heapcaps_test_aligned(d, a));
        void *w = heap_caps_aligned_alloc(a, 100, MALLOC_CAP_32BIT);
        TEST_ASSERT_NOT_NULL(w);
        heap_caps_free(d);
        heap_caps_free(w);
    }
    if (heap_caps_get_total_size(MALLOC_CAP_SPIRAM) >= 2 * 1024 * 1024) {
        for (size_t a = 1; a <= 512 * 1024; a *= 2) {
            uint8_t *p = (uint8_t *)heap_caps_aligned_alloc(a, 10 * 1024, MALLOC_CAP_SPIRAM);
            TEST_ASSERT_NOT_NULL(p);
            TEST_ASSERT_TRUE(heapcaps_test_aligned(p, a));
            memset(p, 0x5A, 10 * 1024);
            heap_caps_free(p);
        }
    }
}

TEST_CASE("Capabilities aligned calloc test", "[heap]")
{
    for (size_t a = 0; a <= 1024; a++) {
        uint8_t *p = (uint8_t *)heap_caps_aligned_calloc(a, 1, a + 137, MALLOC_CAP_DEFAULT);
        bool pow2 = a != 0 && (a & (a - 1)) == 0;
        if (!pow2) {
            TEST_ASSERT_NULL(p);
            continue;
        }
        TEST_ASSERT_NOT_NULL(p);
        TEST_ASSERT_TRUE(heapcaps_test_aligned(p, a));
        for (size_t i = 0; i < a + 137; i++) {
            TEST_ASSERT_EQUAL_HEX8(0, p[i]);
        }
        memset(p, 0xFF, a + 137);
        heap_caps_free(p);
    }
    uint8_t *p = (uint8_t *)heap_caps_aligned_calloc(1024, 1, 1024, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_TRUE(heapcaps_test_aligned(p, 1024));
    for (int i = 0; i < 1024; i++) {
        TEST_ASSERT_EQUAL_HEX8(0, p[i]);
    }
    heap_caps_free(p);
    p = (uint8_t *)heap_caps_aligned_calloc(1024, 1024, 1, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
    for (int i = 0; i < 1024; i++) {
        TEST_ASSERT_EQUAL_HEX8(0, p[i]);
    }
    heap_caps_free(p);
    TEST_ASSERT_NULL(heap_caps_aligned_calloc(1025, 1, 1025, MALLOC_CAP_32BIT));
}

TEST_CASE("aligned_alloc(0) should return a NULL pointer", "[heap]")
{
    TEST_ASSERT_NULL(heap_caps_aligned_alloc(32, 0, MALLOC_CAP_DEFAULT));
}

TEST_CASE("aligned_free is heap_caps_free", "[heap]")
{
    size_t before = heap_caps_get_free_size(MALLOC_CAP_DEFAULT);
    void *p = heap_caps_aligned_alloc(64, 300, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    heap_caps_aligned_free(p);
    heap_caps_aligned_free(NULL);
#pragma GCC diagnostic pop
    TEST_ASSERT_EQUAL(before, heap_caps_get_free_size(MALLOC_CAP_DEFAULT));
}

TEST_CASE("test get allocated size", "[heap]")
{
    static const size_t sizes[] = {1, 3, 12, 13, 1035, 1064, 1541};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        uint8_t *p = (uint8_t *)heap_caps_malloc(n, MALLOC_CAP_INTERNAL);
        TEST_ASSERT_NOT_NULL(p);
        size_t rounded = (n + 3) & ~(size_t)3;
        size_t got = heap_caps_get_allocated_size(p);
        TEST_ASSERT_GREATER_OR_EQUAL(rounded, got);
        TEST_ASSERT_GREATER_OR_EQUAL(got, heap_caps_get_containing_block_size(p));
        TEST_ASSERT_GREATER_OR_EQUAL(got, heap_caps_get_containing_block_size(p + n - 1));
        TEST_ASSERT_GREATER_OR_EQUAL(got, heap_caps_get_containing_block_size(p + n / 2));
        heap_caps_free(p);
    }
}

TEST_CASE("realloc shrink buffer in place", "[heap]")
{
    void *p = heap_caps_malloc(64, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
    void *q = heap_caps_realloc(p, 48, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_EQUAL_PTR(p, q);
    heap_caps_free(q);
}

TEST_CASE("realloc move data to a new heap type", "[heap]")
{
    uint8_t *p = (uint8_t *)heap_caps_malloc(64, MALLOC_CAP_8BIT | MALLOC_CAP_INTERNAL);
    TEST_ASSERT_NOT_NULL(p);
    fill(p, 64, 42);
#ifdef MALLOC_CAP_EXEC
    if (heap_caps_get_total_size(MALLOC_CAP_EXEC) > 0) {
        uint8_t *x = (uint8_t *)heap_caps_realloc(p, 64, MALLOC_CAP_EXEC);
        TEST_ASSERT_NOT_NULL(x);
        TEST_ASSERT_TRUE(filled(x, 64, 42));
        TEST_ASSERT_TRUE(heap_caps_check_integrity(MALLOC_CAP_INVALID, true));
        p = (uint8_t *)heap_caps_realloc(x, 48, MALLOC_CAP_8BIT);
        TEST_ASSERT_NOT_NULL(p);
        TEST_ASSERT_TRUE(filled(p, 48, 42));
    }
#endif
    /* Into DMA memory, then PSRAM when the chip has it, then back. */
    uint8_t *d = (uint8_t *)heap_caps_realloc(p, 100, MALLOC_CAP_DMA);
    TEST_ASSERT_NOT_NULL(d);
    TEST_ASSERT_TRUE(filled(d, 48, 42));
    if (heap_caps_get_total_size(MALLOC_CAP_SPIRAM) > 0) {
        size_t spiram_before = heap_caps_get_free_size(MALLOC_CAP_SPIRAM);
        uint8_t *s = (uint8_t *)heap_caps_realloc(d, 200, MALLOC_CAP_SPIRAM);
        TEST_ASSERT_NOT_NULL(s);
        TEST_ASSERT_TRUE(filled(s, 48, 42));
        TEST_ASSERT_LESS_THAN(spiram_before, heap_caps_get_free_size(MALLOC_CAP_SPIRAM));
        d = (uint8_t *)heap_caps_realloc(s, 48, MALLOC_CAP_INTERNAL);
        TEST_ASSERT_NOT_NULL(d);
        TEST_ASSERT_EQUAL(spiram_before, heap_caps_get_free_size(MALLOC_CAP_SPIRAM));
        TEST_ASSERT_TRUE(filled(d, 48, 42));
    }
    TEST_ASSERT_TRUE(heap_caps_check_integrity_all(true));
    heap_caps_free(d);
}

TEST_CASE("realloc to impossible caps leaves the block intact", "[heap]")
{
    reset_cb();
    uint8_t *p = (uint8_t *)heap_caps_malloc(32, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
    fill(p, 32, 1);
    TEST_ASSERT_NULL(heap_caps_realloc(p, 64, CAP_NOBODY_HAS));
    TEST_ASSERT_NULL(heap_caps_realloc(p, 64, MALLOC_CAP_INVALID));
    TEST_ASSERT_EQUAL_INT(2, s_cb_calls);
    TEST_ASSERT_TRUE(filled(p, 32, 1));
    p = (uint8_t *)heap_caps_realloc(p, 4000, MALLOC_CAP_DEFAULT); /* grows */
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_TRUE(filled(p, 32, 1));
    heap_caps_free(p);
}

TEST_CASE("EXEC combined with 8BIT or DMA is refused", "[heap]")
{
#ifdef MALLOC_CAP_EXEC
    TEST_ASSERT_NULL(heap_caps_malloc(64, MALLOC_CAP_EXEC | MALLOC_CAP_8BIT));
    if (heap_caps_get_total_size(MALLOC_CAP_EXEC) > 0) {
        void *x = heap_caps_malloc(64, MALLOC_CAP_EXEC);
        TEST_ASSERT_NOT_NULL(x);
        TEST_ASSERT_TRUE(heapcaps_test_aligned(x, 4));
        heap_caps_free(x);
    }
#else
    TEST_IGNORE_MESSAGE("MALLOC_CAP_EXEC not defined in this configuration");
#endif
}

TEST_CASE("prefer variants fall back through the caps list", "[heap]")
{
    reset_cb();
    void *p = heap_caps_malloc_prefer(40, 1, MALLOC_CAP_DMA);
    TEST_ASSERT_NOT_NULL(p);
    heap_caps_free(p);
    uint8_t *c = (uint8_t *)heap_caps_calloc_prefer(40, 1, 1, MALLOC_CAP_DMA);
    TEST_ASSERT_NOT_NULL(c);
    for (int i = 0; i < 40; i++) {
        TEST_ASSERT_EQUAL_HEX8(0, c[i]);
    }
    heap_caps_free(c);

    /* First choice impossible, second possible. */
    p = heap_caps_malloc_prefer(100, 2, CAP_NOBODY_HAS, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
    fill(p, 100, 5);
    uint8_t *r = (uint8_t *)heap_caps_realloc_prefer(p, 300, 2, CAP_NOBODY_HAS, MALLOC_CAP_8BIT);
    TEST_ASSERT_NOT_NULL(r);
    TEST_ASSERT_TRUE(filled(r, 100, 5));
    c = (uint8_t *)heap_caps_calloc_prefer(10, 10, 3, MALLOC_CAP_INVALID, CAP_NOBODY_HAS, MALLOC_CAP_32BIT);
    TEST_ASSERT_NOT_NULL(c);
    for (int i = 0; i < 100; i++) {
        TEST_ASSERT_EQUAL_HEX8(0, c[i]);
    }
    TEST_ASSERT_EQUAL_INT(0, s_cb_calls);

    /* Every choice impossible: NULL and one callback with the last caps tried. */
    TEST_ASSERT_NULL(heap_caps_malloc_prefer(64, 2, MALLOC_CAP_INVALID, CAP_NOBODY_HAS));
    TEST_ASSERT_EQUAL_INT(1, s_cb_calls);
    TEST_ASSERT_EQUAL_HEX32(CAP_NOBODY_HAS, s_cb_caps);
    TEST_ASSERT_NULL(heap_caps_realloc_prefer(r, 64, 1, CAP_NOBODY_HAS));
    TEST_ASSERT_EQUAL_INT(2, s_cb_calls);
    TEST_ASSERT_TRUE(filled(r, 100, 5)); /* a failed realloc leaves the block */
    TEST_ASSERT_NULL(heap_caps_calloc_prefer(SIZE_MAX, 2, 1, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_malloc_prefer(SIZE_MAX, 1, MALLOC_CAP_DEFAULT));

    /* realloc_prefer to size 0 frees. */
    size_t before = heap_caps_get_free_size(MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NULL(heap_caps_realloc_prefer(r, 0, 1, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_GREATER_THAN(before, heap_caps_get_free_size(MALLOC_CAP_DEFAULT));
    /* realloc_prefer(NULL, n) allocates. */
    r = (uint8_t *)heap_caps_realloc_prefer(NULL, 16, 1, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(r);
    heap_caps_free(r);
    heap_caps_free(c);
}

TEST_CASE("Heap many random allocations with integrity checks", "[heap]")
{
    enum { SLOTS = 64, STEPS = 2000 };
    void *p[SLOTS] = {0};
    size_t n[SLOTS] = {0};
    uint32_t rng = 0x12345678u;
    for (int step = 0; step < STEPS; step++) {
        rng = rng * 1664525u + 1013904223u;
        int k = (int)((rng >> 8) % SLOTS);
        size_t sz = (size_t)((rng >> 16) % 1024);
        if (p[k] != NULL) {
            TEST_ASSERT_TRUE(filled(p[k], n[k], (uint8_t)k));
        }
        if (p[k] != NULL && (rng & 1)) {
            heap_caps_free(p[k]);
            p[k] = NULL;
            n[k] = 0;
        } else {
            void *q = heap_caps_realloc(p[k], sz, MALLOC_CAP_DEFAULT);
            if (sz == 0) {
                TEST_ASSERT_NULL(q);
                p[k] = NULL;
                n[k] = 0;
            } else {
                TEST_ASSERT_NOT_NULL(q);
                size_t keep = n[k] < sz ? n[k] : sz;
                TEST_ASSERT_TRUE(filled(q, keep, (uint8_t)k));
                fill(q, sz, (uint8_t)k);
                p[k] = q;
                n[k] = sz;
            }
        }
        TEST_ASSERT_TRUE(heap_caps_check_integrity(MALLOC_CAP_DEFAULT, true));
    }
    for (int k = 0; k < SLOTS; k++) {
        heap_caps_free(p[k]);
    }
}

TEST_CASE("Malloc/overwrite, then free all available internal RAM", "[heap]")
{
    enum { MAX_BLOCKS = 5120 };
    static uint32_t *blocks[MAX_BLOCKS];
    int counts[2];
    for (int round = 0; round < 2; round++) {
        int n = 0;
        while (n < MAX_BLOCKS) {
            blocks[n] = (uint32_t *)heap_caps_malloc(1024, MALLOC_CAP_DEFAULT | MALLOC_CAP_INTERNAL);
            if (blocks[n] == NULL) {
                break;
            }
            for (int w = 0; w < 256; w++) {
                blocks[n][w] = 0xdeadbeefu ^ (uint32_t)n;
            }
            n++;
        }
        TEST_ASSERT_GREATER_THAN(4, n);
        TEST_ASSERT_LESS_THAN(MAX_BLOCKS, n);
        for (int i = 0; i < n; i++) {
            for (int w = 0; w < 256; w++) {
                TEST_ASSERT_EQUAL_HEX32(0xdeadbeefu ^ (uint32_t)i, blocks[i][w]);
            }
            heap_caps_free(blocks[i]);
        }
        counts[round] = n;
    }
    TEST_ASSERT_EQUAL_INT(counts[0], counts[1]);
}

static bool never_called(walker_heap_into_t heap, walker_block_info_t block, void *user)
{
    (void)heap;
    (void)block;
    *(int *)user += 1;
    return true;
}

TEST_CASE("NULL and empty arguments get defined answers", "[heap]")
{
    reset_cb();
    heap_caps_get_info(NULL, MALLOC_CAP_DEFAULT); /* ignored */
    heap_caps_walk(MALLOC_CAP_DEFAULT, NULL, NULL); /* ignored (ESP-IDF asserts) */
    heap_caps_walk_all(NULL, NULL);
    int calls = 0;
    heap_caps_walk(MALLOC_CAP_INVALID, never_called, &calls); /* INVALID selects every heap */
    TEST_ASSERT_GREATER_THAN(0, calls);
    TEST_ASSERT_EQUAL(0, heap_caps_get_allocated_size(NULL));
    /* *_prefer with no caps at all: NULL, and the callback reports MALLOC_CAP_DEFAULT. */
    TEST_ASSERT_NULL(heap_caps_malloc_prefer(32, 0));
    TEST_ASSERT_EQUAL_INT(1, s_cb_calls);
    TEST_ASSERT_EQUAL_HEX32(MALLOC_CAP_DEFAULT, s_cb_caps);
    TEST_ASSERT_EQUAL_STRING("heap_caps_malloc_prefer", s_cb_func);
    TEST_ASSERT_NULL(heap_caps_calloc_prefer(2, 16, 0));
    TEST_ASSERT_EQUAL_INT(2, s_cb_calls);
    TEST_ASSERT_EQUAL_HEX32(MALLOC_CAP_DEFAULT, s_cb_caps);
    TEST_ASSERT_NULL(heap_caps_realloc_prefer(NULL, 16, 0));
    TEST_ASSERT_EQUAL_INT(3, s_cb_calls);
}

/* ---- death tests ---- */

HEAPCAPS_CHILD_SCENARIO(free_foreign_static)
{
    static uint32_t foreign[16];
    heapcaps_test_target(&foreign[4]);
    heap_caps_free(&foreign[4]);
}

HEAPCAPS_CHILD_SCENARIO(free_foreign_stack)
{
    uint32_t foreign[16] = {0};
    heapcaps_test_target(&foreign[4]);
    heap_caps_free(&foreign[4]);
}

HEAPCAPS_CHILD_SCENARIO(realloc_foreign)
{
    uint32_t foreign[16] = {0};
    heapcaps_test_target(&foreign[4]);
    (void)heap_caps_realloc(&foreign[4], 100, MALLOC_CAP_DEFAULT);
}

HEAPCAPS_CHILD_SCENARIO(free_low_address)
{
    heap_caps_free((void *)(uintptr_t)0x10);
}

HEAPCAPS_CHILD_SCENARIO(free_interior)
{
    /* Zeroed, so the word in front of p + 64 cannot pass for a block header. */
    uint8_t *p = (uint8_t *)heap_caps_calloc(1, 256, MALLOC_CAP_DEFAULT);
    CHILD_CHECK(p != NULL);
    heapcaps_test_target(p + 64);
    heap_caps_free(p + 64);
}

HEAPCAPS_CHILD_SCENARIO(double_free)
{
    uint8_t *p = (uint8_t *)heap_caps_malloc(256, MALLOC_CAP_DEFAULT);
    CHILD_CHECK(p != NULL);
    heap_caps_free(p);
    heapcaps_test_target(p);
    heap_caps_free(p);
}

TEST_CASE("free of a pointer outside every heap aborts naming it", "[heap][death]")
{
    HEAPCAPS_TEST_ASSERT_ABORTS("free_foreign_static", true);
    HEAPCAPS_TEST_ASSERT_ABORTS("free_foreign_stack", true);
    HEAPCAPS_TEST_ASSERT_ABORTS("realloc_foreign", true);
    HEAPCAPS_TEST_ASSERT_ABORTS("free_low_address", false);
}

TEST_CASE("size queries answer 0 for what is not a live block", "[heap]")
{
    /* ESP-IDF's linux build answers 0 here and its host test relies on it (a stack address);
     * on chips ESP-IDF asserts. A query changes nothing, so heapcaps answers. */
    uint32_t foreign[16] = {0};
    TEST_ASSERT_EQUAL(0, heap_caps_get_allocated_size(&foreign[4]));
    TEST_ASSERT_EQUAL(0, heap_caps_get_containing_block_size(&foreign[4]));
    uint8_t *p = (uint8_t *)heap_caps_malloc(64, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
    /* Zeroed contents: an interior pointer then has no plausible header in front of it. (With
     * arbitrary contents, detection without poisoning is best-effort: see README.) */
    memset(p, 0, 64);
    TEST_ASSERT_EQUAL(0, heap_caps_get_allocated_size(p + 8));
    TEST_ASSERT_GREATER_OR_EQUAL(64, heap_caps_get_containing_block_size(p + 8));
    heap_caps_free(p);
    TEST_ASSERT_EQUAL(0, heap_caps_get_allocated_size(p));
}

TEST_CASE("free of a pointer into the middle of a block, or twice, aborts naming it",
          "[heap][death]")
{
    HEAPCAPS_TEST_ASSERT_ABORTS("free_interior", true);
    HEAPCAPS_TEST_ASSERT_ABORTS("double_free", true);
}

TEST_CASE("Aligned alloc APIs", "[heap]")
{
    const size_t len = 1000 - (1000 % 0x20);
    uint8_t *p = (uint8_t *)heap_caps_aligned_alloc(0x20, len, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_TRUE(heapcaps_test_aligned(p, 0x20));
    memset(p, 0xAB, len);
    for (size_t i = 0; i < len; i++) {
        TEST_ASSERT_EQUAL_HEX8(0xAB, p[i]);
    }
    heap_caps_free(p);
    p = (uint8_t *)heap_caps_aligned_calloc(0x20, len, sizeof(uint8_t), MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_TRUE(heapcaps_test_aligned(p, 0x20));
    for (size_t i = 0; i < len; i++) {
        TEST_ASSERT_EQUAL_HEX8(0, p[i]);
    }
    heap_caps_free(p);
}
