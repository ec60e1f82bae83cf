/*
 * Heap poisoning through the C API, built once per mode by tests/c/run-poisoning.sh against a
 * library built with the matching cargo feature. POISON_MODE: 0 disabled, 1 light,
 * 2 comprehensive. Checks the layout ESP-IDF's tools and tests rely on (canaries, fill bytes,
 * reported sizes, block addresses) and the integrity messages of heap_caps_check_integrity.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "esp_heap_caps.h"
#include "esp_heap_caps_init.h"
#include "multi_heap.h"
#include "unity.h"

#include "../fork_capture.h"

#ifndef POISON_MODE
#error "POISON_MODE must be 0, 1 or 2"
#endif
#define POISONED (POISON_MODE >= 1)
#define PO (POISONED ? 12u : 0u)

static uint32_t s_mem[1024]; /* 4 KiB, 4-byte aligned */

static multi_heap_handle_t fresh(void)
{
    memset(s_mem, 0, sizeof s_mem);
    multi_heap_handle_t h = multi_heap_register(s_mem, sizeof s_mem);
    TEST_ASSERT_NOT_NULL(h);
    return h;
}

__attribute__((unused)) static uint32_t rd32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

typedef struct {
    void *ptr;
    size_t size;
    int n_used;
} first_used_t;

static bool first_used(void *ptr, size_t size, int used, void *user)
{
    first_used_t *f = user;
    if (used && f->n_used++ == 0) {
        f->ptr = ptr;
        f->size = size;
    }
    return true;
}

TEST_CASE("canaries, fills and reported sizes", "[poison]")
{
    multi_heap_handle_t h = fresh();
    size_t free0 = multi_heap_free_size(h);
    uint8_t *p = multi_heap_malloc(h, 10);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_EQUAL_UINT32(0, (uintptr_t)p % 4);
#if POISONED
    TEST_ASSERT_EQUAL_HEX32(0xABBA1234u, rd32(p - 8));
    TEST_ASSERT_EQUAL_UINT32(10, rd32(p - 4));
    TEST_ASSERT_EQUAL_HEX32(0xBAAD5678u, rd32(p + 10));
    TEST_ASSERT_EQUAL_size_t(12, multi_heap_get_allocated_size(h, p));
    TEST_ASSERT_EQUAL_size_t(24, multi_heap_get_full_block_size(h, p));
#else
    TEST_ASSERT_EQUAL_size_t(12, multi_heap_get_allocated_size(h, p));
    TEST_ASSERT_EQUAL_size_t(12, multi_heap_get_full_block_size(h, p));
#endif
    TEST_ASSERT_EQUAL_size_t(free0 - (12 + PO) - 4, multi_heap_free_size(h));
#if POISON_MODE == 2
    for (int i = 0; i < 10; i++) {
        TEST_ASSERT_EQUAL_HEX8(0xCE, p[i]);
    }
#endif
    /* Walker: raw TLSF block; block iterator address and find_containing_block: user pointer. */
    first_used_t f = {0};
    multi_heap_walk(h, first_used, &f);
    TEST_ASSERT_EQUAL_PTR(p - (POISONED ? 8 : 0), f.ptr);
    TEST_ASSERT_EQUAL_size_t(12 + PO, f.size);
    multi_heap_block_handle_t b = multi_heap_get_first_block(h);
    while (b != NULL && multi_heap_is_free(b)) {
        b = multi_heap_get_next_block(h, b);
    }
    TEST_ASSERT_EQUAL_PTR(p, multi_heap_get_block_address(b));
    TEST_ASSERT_EQUAL_PTR(p, multi_heap_find_containing_block(h, p + 5));
    /* get_info: free/largest/minimum minus 12, allocated without the canaries. */
    multi_heap_info_t info;
    multi_heap_get_info(h, &info);
    TEST_ASSERT_EQUAL_size_t(multi_heap_free_size(h), info.total_free_bytes);
    TEST_ASSERT_EQUAL_size_t(12, info.total_allocated_bytes);
    void *big = multi_heap_malloc(h, info.largest_free_block);
    TEST_ASSERT_NOT_NULL_MESSAGE(big, "largest_free_block is allocatable");
    multi_heap_free(h, big);
    multi_heap_free(h, p);
    TEST_ASSERT_EQUAL_size_t(free0, multi_heap_free_size(h));
#if POISON_MODE == 2
    /* Freed memory reads 0xFE past TLSF's 8 bytes of free-list links. */
    for (int i = 0; i < 4; i++) {
        TEST_ASSERT_EQUAL_HEX8(0xFE, p[i]);
    }
#endif
    TEST_ASSERT_TRUE(multi_heap_check(h, true));
}

TEST_CASE("aligned_alloc_offs aligns the user pointer", "[poison]")
{
    multi_heap_handle_t h = fresh();
    for (size_t align = 8; align <= 256; align *= 2) {
        uint8_t *p = multi_heap_aligned_alloc_offs(h, 33, align, 4);
        TEST_ASSERT_NOT_NULL(p);
        TEST_ASSERT_EQUAL_UINT32(0, ((uintptr_t)p + 4) % align);
        TEST_ASSERT_TRUE(multi_heap_check(h, true));
        multi_heap_free(h, p);
    }
    TEST_ASSERT_TRUE(multi_heap_check(h, true));
}

typedef struct {
    int damage;
    uint8_t flip;
} damage_t;

/* In the child: registers a fresh heap, allocates 10 bytes, flips the bits `flip` of the byte
 * at `damage` (relative to the user pointer), announces the pointer on stderr ("target 0x...")
 * and frees it through the C entry point; exits 0 if the free returns. */
static void free_damaged(void *arg)
{
    const damage_t *d = (const damage_t *)arg;
    multi_heap_handle_t h = multi_heap_register(s_mem, sizeof s_mem);
    uint8_t *p = h ? multi_heap_malloc(h, 10) : NULL;
    if (p == NULL) {
        _exit(3);
    }
    p[d->damage] ^= d->flip;
    fprintf(stderr, "target 0x%08" PRIxPTR "\n", (uintptr_t)p);
    fflush(stderr);
    multi_heap_free(h, p);
    _exit(0);
}

/* Whether the child's output names, after the announcement, the pointer it announced. */
static bool names_target(const char *out)
{
    const char *t = strstr(out, "target ");
    if (t == NULL) {
        return false;
    }
    char name[32];
    if (sscanf(t + 7, "%31s", name) != 1) {
        return false;
    }
    return strstr(t + 7 + strlen(name), name) != NULL;
}

TEST_CASE("multi_heap_free of a block with a broken canary aborts naming it", "[poison]")
{
    char out[2048];
    /* Tail canary: the 4 bytes right after the 10 requested. */
    damage_t tail = {10, 0x5a};
    int st = fork_capture(free_damaged, &tail, out, sizeof out);
    if (POISONED) {
        TEST_ASSERT_TRUE_MESSAGE(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, out);
        TEST_ASSERT_NOT_NULL_MESSAGE(strstr(out, "Bad tail"), out);
        TEST_ASSERT_TRUE_MESSAGE(names_target(out), out);
    } else {
        /* Without canaries the byte is slack inside the block: the free succeeds. */
        TEST_ASSERT_TRUE_MESSAGE(WIFEXITED(st) && WEXITSTATUS(st) == 0, out);
    }
    /* Head canary: 8 bytes in front of the user pointer; without poisoning the block header
     * 4 bytes in front, its FREE flag set (the free refuses it as not allocated). */
    damage_t head = POISONED ? (damage_t){-8, 0x5a} : (damage_t){-4, 0x01};
    st = fork_capture(free_damaged, &head, out, sizeof out);
    TEST_ASSERT_TRUE_MESSAGE(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, out);
    TEST_ASSERT_TRUE_MESSAGE(names_target(out), out);
    if (POISONED) {
        TEST_ASSERT_NOT_NULL_MESSAGE(strstr(out, "Bad head"), out);
    }
}

/* Runs fn with stderr captured into buf. */
static void capture_stderr(void (*fn)(void *), void *arg, char *buf, size_t cap)
{
    int fds[2];
    TEST_ASSERT_EQUAL_INT(0, pipe(fds));
    fflush(stderr);
    int saved = dup(2);
    dup2(fds[1], 2);
    close(fds[1]);
    fn(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ssize_t n = read(fds[0], buf, cap - 1);
    close(fds[0]);
    buf[n > 0 ? n : 0] = '\0';
}

static void boot(void)
{
    static bool done;
    if (!done) {
        heap_caps_init();
        done = true;
    }
}

static bool s_result;
static void check_all(void *arg)
{
    (void)arg;
    s_result = heap_caps_check_integrity_all(true);
}

TEST_CASE("heap_caps_check_integrity reports a broken tail canary", "[poison]")
{
    boot();
    uint8_t *p = heap_caps_malloc(10, MALLOC_CAP_8BIT);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_TRUE(heap_caps_check_integrity_all(true));
    uint8_t saved = p[10];
    p[10] ^= 0xFF;
    static char out[4096];
    capture_stderr(check_all, NULL, out, sizeof out);
    p[10] = saved;
#if POISONED
    TEST_ASSERT_FALSE(s_result);
    char want[128];
    snprintf(want, sizeof want, "CORRUPT HEAP: Bad tail at 0x%08" PRIxPTR ". Expected 0xbaad5678 got 0x%08x\n",
             (uintptr_t)(p + 10), (unsigned)(0xBAAD5678u ^ 0xFFu));
    TEST_ASSERT_EQUAL_STRING(want, out);
#else
    /* Without poisoning the byte is slack inside the block: not detectable, not harmful. */
    TEST_ASSERT_TRUE(s_result);
    TEST_ASSERT_EQUAL_STRING("", out);
#endif
    TEST_ASSERT_TRUE(heap_caps_check_integrity_all(true));
    heap_caps_free(p);
}

TEST_CASE("heap_caps_check_integrity reports a write after free (comprehensive)", "[poison]")
{
    boot();
    uint8_t *keep = heap_caps_malloc(64, MALLOC_CAP_8BIT);
    uint8_t *p = heap_caps_malloc(64, MALLOC_CAP_8BIT);
    uint8_t *after = heap_caps_malloc(64, MALLOC_CAP_8BIT);
    TEST_ASSERT_NOT_NULL(after);
    heap_caps_free(p);
    uint8_t saved = p[20];
    p[20] = 0x11;
    static char out[4096];
    capture_stderr(check_all, NULL, out, sizeof out);
    p[20] = saved;
#if POISON_MODE == 2
    TEST_ASSERT_FALSE(s_result);
    TEST_ASSERT_NOT_NULL_MESSAGE(strstr(out, "CORRUPT HEAP: Invalid data at 0x"), out);
#else
    TEST_ASSERT_TRUE(s_result);
#endif
    TEST_ASSERT_TRUE(heap_caps_check_integrity_all(true));
    heap_caps_free(keep);
    heap_caps_free(after);
}
