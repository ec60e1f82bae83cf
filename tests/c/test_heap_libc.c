// heapcaps-test: c-malloc
/*
 * The C library allocation entry points that heapcaps provides with the `c-malloc` feature, on
 * every simulated chip. This binary's own malloc (and that of stdio inside it) is heapcaps.
 * ESP-IDF semantics (malloc(0) == NULL, internal RAM, 4-byte alignment) plus the C/POSIX error
 * reporting heapcaps adds (errno, posix_memalign's EINVAL, a real malloc_usable_size).
 * Ports the intent of ESP-IDF heap tests #1, #21, #23-26 and host_test_linux #54, #56.
 */
#include "heapcaps_test_util.h"

#include <errno.h>
#include <malloc.h>

/* newlib's reentrant forms; the first argument is a `struct _reent *`, unused by heapcaps. */
extern void *_malloc_r(void *reent, size_t size);
extern void *_calloc_r(void *reent, size_t n, size_t size);
extern void *_realloc_r(void *reent, void *ptr, size_t size);
extern void _free_r(void *reent, void *ptr);
/* An old name that current C library headers no longer declare. */
extern void cfree(void *ptr);
extern void *heap_caps_malloc_default(size_t size);

/* Called through volatile pointers so the compiler cannot reason about (and warn on) the
 * deliberately absurd sizes and the use of blocks after a realloc that failed. */
static void *(*volatile call_malloc)(size_t) = malloc;
static void *(*volatile call_calloc)(size_t, size_t) = calloc;
static void *(*volatile call_realloc)(void *, size_t) = realloc;
static void *(*volatile call_aligned_alloc)(size_t, size_t) = aligned_alloc;
static void (*volatile call_free)(void *) = free;

static int s_cb_calls;

static void count_failed_alloc(size_t size, uint32_t caps, const char *function_name)
{
    (void)size;
    (void)caps;
    (void)function_name;
    s_cb_calls++;
}

static bool in_internal_ram_accounting(size_t before, size_t after, size_t n)
{
    return before >= after + n;
}

TEST_CASE("malloc serves internal RAM with 4-byte aligned blocks", "[libc]")
{
    size_t int_before = heap_caps_get_free_size(MALLOC_CAP_INTERNAL);
    size_t ext_before = heap_caps_get_free_size(MALLOC_CAP_SPIRAM);
    char *p = (char *)call_malloc(1000);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_TRUE(heapcaps_test_aligned(p, 4));
    TEST_ASSERT_TRUE(in_internal_ram_accounting(int_before, heap_caps_get_free_size(MALLOC_CAP_INTERNAL), 1000));
    TEST_ASSERT_EQUAL(ext_before, heap_caps_get_free_size(MALLOC_CAP_SPIRAM));
    TEST_ASSERT_TRUE(heap_caps_check_integrity_addr((intptr_t)p, true));
    memset(p, 0x33, 1000);
    free(p);
    TEST_ASSERT_EQUAL(int_before, heap_caps_get_free_size(MALLOC_CAP_INTERNAL));
    free(NULL);
}

TEST_CASE("call_malloc(0) and calloc with a zero product return NULL, no callback, errno kept", "[libc]")
{
    TEST_ASSERT_EQUAL_INT(ESP_OK, heap_caps_register_failed_alloc_callback(count_failed_alloc));
    s_cb_calls = 0;
    errno = 1234;
    TEST_ASSERT_NULL(call_malloc(0));
    TEST_ASSERT_NULL(call_calloc(0, 0));
    TEST_ASSERT_NULL(call_calloc(0, 16));
    TEST_ASSERT_NULL(call_calloc(16, 0));
    TEST_ASSERT_NULL(call_realloc(NULL, 0));
    TEST_ASSERT_NULL(valloc(0));
    TEST_ASSERT_NULL(_malloc_r(NULL, 0));
    TEST_ASSERT_EQUAL_INT(1234, errno);
    TEST_ASSERT_EQUAL_INT(0, s_cb_calls);
}

TEST_CASE("alloc overflows should all fail with ENOMEM", "[libc]")
{
    errno = 0;
    TEST_ASSERT_NULL(call_calloc(SIZE_MAX / 2 + 4, 2));
    TEST_ASSERT_EQUAL_INT(ENOMEM, errno);
    errno = 0;
    TEST_ASSERT_NULL(call_calloc(SIZE_MAX, SIZE_MAX));
    TEST_ASSERT_EQUAL_INT(ENOMEM, errno);
    errno = 0;
    TEST_ASSERT_NULL(_calloc_r(NULL, SIZE_MAX / 4 + 1, 8));
    TEST_ASSERT_EQUAL_INT(ENOMEM, errno);
    errno = 0;
    TEST_ASSERT_NULL(call_malloc(SIZE_MAX - 1));
    TEST_ASSERT_EQUAL_INT(ENOMEM, errno);
    errno = 0;
    TEST_ASSERT_NULL(call_malloc(SIZE_MAX));
    TEST_ASSERT_EQUAL_INT(ENOMEM, errno);
    errno = 0;
    TEST_ASSERT_NULL(call_calloc(SIZE_MAX - 1, 1));
    TEST_ASSERT_EQUAL_INT(ENOMEM, errno);
    errno = 0;
    TEST_ASSERT_NULL(call_realloc(NULL, SIZE_MAX));
    TEST_ASSERT_EQUAL_INT(ENOMEM, errno);
    errno = 0;
    TEST_ASSERT_NULL(call_aligned_alloc(16, SIZE_MAX));
    TEST_ASSERT_EQUAL_INT(ENOMEM, errno);
}

TEST_CASE("unreasonable allocs should all fail", "[libc]")
{
    errno = 0;
    TEST_ASSERT_NULL(call_calloc(16, 1024 * 1024));
    TEST_ASSERT_EQUAL_INT(ENOMEM, errno);
    TEST_ASSERT_NULL(call_malloc(16 * 1024 * 1024));
    TEST_ASSERT_NULL(call_malloc(SIZE_MAX / 2));
    TEST_ASSERT_NULL(call_malloc(SIZE_MAX - 256));
    if (heap_caps_get_total_size(MALLOC_CAP_SPIRAM) == 0) {
        TEST_ASSERT_NULL(call_malloc(heap_caps_get_free_size(MALLOC_CAP_INTERNAL) + 4));
    }
    /* Not even PSRAM (which the -psram chips let malloc use, as ESP-IDF's
     * CONFIG_SPIRAM_USE_MALLOC does) holds more than everything. */
    TEST_ASSERT_NULL(call_malloc(heap_caps_get_free_size(MALLOC_CAP_DEFAULT) + 4));
}

TEST_CASE("calloc zeroes, realloc keeps contents and frees with size 0", "[libc]")
{
    size_t before = heap_caps_get_free_size(MALLOC_CAP_INTERNAL);
    unsigned char *p = (unsigned char *)call_malloc(300);
    TEST_ASSERT_NOT_NULL(p);
    memset(p, 0xEE, 300);
    free(p);
    unsigned char *z = (unsigned char *)call_calloc(30, 10);
    TEST_ASSERT_NOT_NULL(z);
    for (int i = 0; i < 300; i++) {
        TEST_ASSERT_EQUAL_HEX8(0, z[i]);
        z[i] = (unsigned char)i;
    }
    unsigned char *g = (unsigned char *)call_realloc(z, 5000);
    TEST_ASSERT_NOT_NULL(g);
    for (int i = 0; i < 300; i++) {
        TEST_ASSERT_EQUAL_HEX8((unsigned char)i, g[i]);
    }
    uintptr_t g_addr = (uintptr_t)g;
    unsigned char *s = (unsigned char *)call_realloc(g, 10);
    TEST_ASSERT_EQUAL_PTR((void *)g_addr, s); /* shrinking stays in place */
    errno = 0;
    TEST_ASSERT_NULL(call_realloc(s, SIZE_MAX - 8));
    TEST_ASSERT_EQUAL_INT(ENOMEM, errno);
    TEST_ASSERT_EQUAL_HEX8(9, s[9]); /* a failed realloc leaves the block */
    TEST_ASSERT_NULL(call_realloc(s, 0)); /* ESP-IDF: frees and returns NULL */
    TEST_ASSERT_EQUAL(before, heap_caps_get_free_size(MALLOC_CAP_INTERNAL));
    unsigned char *m = (unsigned char *)call_realloc(NULL, 64); /* malloc */
    TEST_ASSERT_NOT_NULL(m);
    free(m);
}

TEST_CASE("malloc_usable_size reports the real usable size", "[libc]")
{
    TEST_ASSERT_EQUAL(0, malloc_usable_size(NULL));
    static const size_t sizes[] = {1, 4, 13, 100, 1000, 4097};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = (unsigned char *)call_malloc(sizes[i]);
        TEST_ASSERT_NOT_NULL(p);
        size_t u = malloc_usable_size(p);
        TEST_ASSERT_GREATER_OR_EQUAL(sizes[i], u);
        TEST_ASSERT_EQUAL(heap_caps_get_allocated_size(p), u);
        memset(p, 0x77, u); /* every usable byte may be written */
        TEST_ASSERT_TRUE(heap_caps_check_integrity_addr((intptr_t)p, true));
        free(p);
    }
}

TEST_CASE("Capabilities aligned allocator test (memalign, aligned_alloc)", "[libc]")
{
    for (size_t a = 0; a <= 1024; a++) {
        bool pow2 = a != 0 && (a & (a - 1)) == 0;
        errno = 0;
        unsigned char *m = (unsigned char *)memalign(a, a + 137);
        unsigned char *c = (unsigned char *)call_aligned_alloc(a, a + 137);
        if (!pow2) {
            TEST_ASSERT_NULL(m);
            TEST_ASSERT_NULL(c);
            TEST_ASSERT_EQUAL_INT(EINVAL, errno);
            continue;
        }
        TEST_ASSERT_NOT_NULL(m);
        TEST_ASSERT_NOT_NULL(c);
        TEST_ASSERT_TRUE(heapcaps_test_aligned(m, a));
        TEST_ASSERT_TRUE(heapcaps_test_aligned(c, a));
        memset(m, 0xA5, a + 137);
        memset(c, 0x5A, a + 137);
        free(m);
        free(c);
    }
    /* C17: the size need not be a multiple of the alignment. */
    void *p = call_aligned_alloc(256, 1);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_TRUE(heapcaps_test_aligned(p, 256));
    free(p);
    TEST_ASSERT_NULL(call_aligned_alloc(64, 0));
}

TEST_CASE("posix_memalign follows POSIX for errors", "[libc]")
{
    void *sentinel = (void *)(uintptr_t)0x1234;
    void *p = sentinel;
    /* Not a power of two, or not a multiple of sizeof(void *): EINVAL, *p untouched. */
    static const size_t bad[] = {0, 1, 2, 3, sizeof(void *) / 2, 3 * sizeof(void *), 100, 1025};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        TEST_ASSERT_EQUAL_INT(EINVAL, posix_memalign(&p, bad[i], 64));
        TEST_ASSERT_EQUAL_PTR(sentinel, p);
    }
    /* Size 0: success with NULL (as ESP-IDF). */
    TEST_ASSERT_EQUAL_INT(0, posix_memalign(&p, 16, 0));
    TEST_ASSERT_NULL(p);
    /* Out of memory: ENOMEM, *p untouched. */
    p = sentinel;
    TEST_ASSERT_EQUAL_INT(ENOMEM, posix_memalign(&p, 16, SIZE_MAX / 2));
    TEST_ASSERT_EQUAL_PTR(sentinel, p);
    TEST_ASSERT_EQUAL_INT(ENOMEM, posix_memalign(&p, 64, 16 * 1024 * 1024));
    TEST_ASSERT_EQUAL_PTR(sentinel, p);
    /* Success for every valid alignment. */
    for (size_t a = sizeof(void *); a <= 4096; a *= 2) {
        p = NULL;
        TEST_ASSERT_EQUAL_INT(0, posix_memalign(&p, a, 100));
        TEST_ASSERT_NOT_NULL(p);
        TEST_ASSERT_TRUE(heapcaps_test_aligned(p, a));
        memset(p, 1, 100);
        free(p);
    }
}

TEST_CASE("valloc, pvalloc, cfree, the newlib _r forms and the no-op tunables", "[libc]")
{
    size_t before = heap_caps_get_free_size(MALLOC_CAP_INTERNAL);
    void *v = valloc(100);
    void *pv = pvalloc(100);
    TEST_ASSERT_NOT_NULL(v);
    TEST_ASSERT_NOT_NULL(pv);
    cfree(v);
    free(pv);
    unsigned char *r = (unsigned char *)_malloc_r(NULL, 50);
    TEST_ASSERT_NOT_NULL(r);
    memset(r, 7, 50);
    r = (unsigned char *)_realloc_r(NULL, r, 500);
    TEST_ASSERT_NOT_NULL(r);
    TEST_ASSERT_EQUAL_HEX8(7, r[49]);
    _free_r(NULL, r);
    unsigned char *c = (unsigned char *)_calloc_r(NULL, 5, 5);
    TEST_ASSERT_NOT_NULL(c);
    TEST_ASSERT_EQUAL_HEX8(0, c[24]);
    _free_r(NULL, c);
    TEST_ASSERT_NULL(_realloc_r(NULL, NULL, 0));
    TEST_ASSERT_EQUAL(before, heap_caps_get_free_size(MALLOC_CAP_INTERNAL));
    TEST_ASSERT_EQUAL_INT(0, malloc_trim(0));
    TEST_ASSERT_EQUAL_INT(0, mallopt(M_TRIM_THRESHOLD, 1));
    malloc_stats();
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    struct mallinfo mi = mallinfo(); /* all zero, as ESP-IDF */
#pragma GCC diagnostic pop
    TEST_ASSERT_EQUAL_INT(0, mi.arena);
    TEST_ASSERT_EQUAL_INT(0, mi.uordblks);
    TEST_ASSERT_EQUAL_INT(0, mi.fordblks);
    TEST_ASSERT_EQUAL_INT(0, mi.keepcost);
    TEST_ASSERT_EQUAL(before, heap_caps_get_free_size(MALLOC_CAP_INTERNAL));
}

TEST_CASE("Malloc/overwrite, then free all available DRAM", "[libc]")
{
    /* Room for PSRAM too: the -psram chips let malloc fall back to it. */
    enum { MAX_BLOCKS = 16384 };
    static uint32_t *blocks[MAX_BLOCKS];
    int counts[2];
    for (int round = 0; round < 2; round++) {
        int n = 0;
        errno = 0;
        while (n < MAX_BLOCKS && (blocks[n] = (uint32_t *)call_malloc(1024)) != NULL) {
            for (int w = 0; w < 256; w++) {
                blocks[n][w] = 0xdeadbeefu ^ (uint32_t)n;
            }
            n++;
        }
        TEST_ASSERT_EQUAL_INT(ENOMEM, errno);
        TEST_ASSERT_GREATER_THAN(4, n);
        TEST_ASSERT_LESS_THAN(MAX_BLOCKS, n);
        for (int i = 0; i < n; i++) {
            for (int w = 0; w < 256; w++) {
                TEST_ASSERT_EQUAL_HEX32(0xdeadbeefu ^ (uint32_t)i, blocks[i][w]);
            }
            free(blocks[i]);
        }
        counts[round] = n;
    }
    TEST_ASSERT_EQUAL_INT(counts[0], counts[1]);
}

HEAPCAPS_CHILD_SCENARIO(libc_extmem)
{
    size_t ext = heap_caps_get_free_size(MALLOC_CAP_SPIRAM);
    size_t internal = heap_caps_get_free_size(MALLOC_CAP_INTERNAL);
    heap_caps_malloc_extmem_enable(1024);
    void *small = call_malloc(100);
    CHILD_CHECK(small != NULL);
    CHILD_CHECK(heap_caps_get_free_size(MALLOC_CAP_SPIRAM) == ext);
    void *big = call_malloc(8192);
    CHILD_CHECK(big != NULL);
    CHILD_CHECK(heap_caps_get_free_size(MALLOC_CAP_SPIRAM) < ext);
    free(big);
    CHILD_CHECK(heap_caps_get_free_size(MALLOC_CAP_SPIRAM) == ext);
    free(small);
    CHILD_CHECK(heap_caps_get_free_size(MALLOC_CAP_INTERNAL) == internal);
}

TEST_CASE("malloc sends big requests to PSRAM after heap_caps_malloc_extmem_enable", "[libc]")
{
    if (heap_caps_get_total_size(MALLOC_CAP_SPIRAM) == 0) {
        TEST_IGNORE_MESSAGE("this chip has no PSRAM heap");
    }
    /* The limit cannot be switched back off cleanly, so the opt-in happens in a child. */
    HEAPCAPS_TEST_IN_CHILD_OK("libc_extmem");
}

HEAPCAPS_CHILD_SCENARIO(libc_free_foreign)
{
    uint32_t on_stack[8] = {0};
    heapcaps_test_target(&on_stack[2]);
    call_free(&on_stack[2]);
}

HEAPCAPS_CHILD_SCENARIO(libc_realloc_foreign)
{
    uint32_t on_stack[8] = {0};
    heapcaps_test_target(&on_stack[2]);
    void *volatile r = call_realloc(&on_stack[2], 10);
    (void)r;
}

TEST_CASE("free of a pointer the heaps do not own aborts naming it", "[libc][death]")
{
    HEAPCAPS_TEST_ASSERT_ABORTS("libc_free_foreign", true);
    HEAPCAPS_TEST_ASSERT_ABORTS("libc_realloc_foreign", true);
}
