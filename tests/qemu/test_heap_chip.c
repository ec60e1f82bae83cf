/*
 * Capability-layer tests of the real riscv32 chip archive on QEMU: boot from ESP-IDF-style memory
 * tables (defined here, read by the archive through FFI as on a chip), the heap_caps allocation
 * and query API, runtime regions, the printf-format messages (through the port's checking
 * esp_rom_printf), and death scenarios that run.sh starts in QEMU runs of their own.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_heap_caps.h"
#include "esp_heap_caps_init.h"
#include "multi_heap.h"
#include "qemu_port.h"
#include "soc_layout.h"
#include "unity.h"
#include "../c/walk_log.h"

/* ------------------------------------------------------------------------------------------ */
/* The chip's memory tables (the layouts of types.md: soc_memory_type_desc_t, soc_memory_region_t,
 * soc_reserved_region_t), over one static array standing in for the chip's RAM.              */
/* ------------------------------------------------------------------------------------------ */

#define KIB 1024
#define RAM_SIZE (160 * KIB)
static uint8_t chip_ram[RAM_SIZE] __attribute__((aligned(16)));

/* Offsets into chip_ram. DRAM_A and DRAM_B are adjacent regions of one type (the boot joins
 * them); the reserved range cuts DIRAM in two; STACK is a startup-stack region (added only by
 * heap_caps_enable_nonos_stack_heaps); RTC has a capability nothing else has. */
#define DRAM_A_OFF 0
#define DRAM_B_OFF (32 * KIB)
#define DIRAM_OFF (64 * KIB)
#define RESERVED_OFF (72 * KIB)
#define RESERVED_END (76 * KIB)
#define DIRAM_END (112 * KIB)
#define STACK_OFF (112 * KIB)
/* The ROM's data at the end of the stack region (the port reports it as a chip's ROM layout
 * table does; not a whole KiB, as on the chips). */
#define ROM_OFF (133 * KIB + 0x25C)
#define RTC_OFF (136 * KIB)


enum { T_DRAM, T_DIRAM, T_RTC };

const struct type_desc soc_memory_types[] = {
    [T_DRAM] = {"DRAM",
                {MALLOC_CAP_8BIT | MALLOC_CAP_DEFAULT,
                 MALLOC_CAP_INTERNAL | MALLOC_CAP_DMA | MALLOC_CAP_32BIT, 0}},
    [T_DIRAM] = {"D/IRAM",
                 {0, MALLOC_CAP_DMA | MALLOC_CAP_8BIT | MALLOC_CAP_INTERNAL | MALLOC_CAP_DEFAULT,
                  MALLOC_CAP_32BIT}},
    [T_RTC] = {"RTCRAM",
               {MALLOC_CAP_RTCRAM,
                MALLOC_CAP_8BIT | MALLOC_CAP_INTERNAL | MALLOC_CAP_DEFAULT | MALLOC_CAP_32BIT, 0}},
};
const size_t soc_memory_type_count = sizeof soc_memory_types / sizeof soc_memory_types[0];

#define R(off, end, t, stack) {(intptr_t)chip_ram + (off), (end) - (off), t, 0, stack}
const struct region_desc soc_memory_regions[] = {
    R(DRAM_A_OFF, DRAM_B_OFF, T_DRAM, false),
    R(DRAM_B_OFF, DIRAM_OFF, T_DRAM, false),
    R(DIRAM_OFF, DIRAM_END, T_DIRAM, false),
    R(STACK_OFF, RTC_OFF, T_DRAM, true),
    R(RTC_OFF, RAM_SIZE, T_RTC, false),
};
const size_t soc_memory_region_count = sizeof soc_memory_regions / sizeof soc_memory_regions[0];

/* On a chip the linker brackets the .reserved_memory_address section with these two symbols. */
const struct reserved_desc soc_reserved_memory_region_start[] = {
    {(intptr_t)chip_ram + RESERVED_OFF, (intptr_t)chip_ram + RESERVED_END},
};
/* The end symbol: just past the one entry (an assembler alias, since C has no way to define a
 * symbol at an offset from another). */
__asm__(".globl soc_reserved_memory_region_end\n"
        ".set soc_reserved_memory_region_end, soc_reserved_memory_region_start + 8\n");

static bool in_ram(const void *p, size_t off, size_t end)
{
    uintptr_t a = (uintptr_t)p, s = (uintptr_t)chip_ram;
    return a >= s + off && a < s + end;
}

/* ------------------------------------------------------------------------------------------ */
/* Boot once; every test checks that the heap left no lock held and every heap intact.       */
/* ------------------------------------------------------------------------------------------ */

static char boot_log[2048];
static size_t total_before_stacks, total_after_stacks;

static void boot(void)
{
    static bool booted;
    if (booted) {
        return;
    }
    booted = true;
    qemu_rom_reserved_start = (intptr_t)chip_ram + ROM_OFF;
    qemu_capture_start();
    heap_caps_init();
    const char *log = qemu_capture_stop();
    snprintf(boot_log, sizeof boot_log, "%s", log);
    total_before_stacks = heap_caps_get_total_size(MALLOC_CAP_8BIT);
    heap_caps_enable_nonos_stack_heaps();
    total_after_stacks = heap_caps_get_total_size(MALLOC_CAP_8BIT);
}

void setUp(void)
{
    boot();
}

void tearDown(void)
{
    TEST_ASSERT_EQUAL_INT_MESSAGE(0, qemu_lock_depth(), "a heap lock is still held");
    TEST_ASSERT_TRUE_MESSAGE(heap_caps_check_integrity_all(true), "heap corrupted by this test");
}

/* ------------------------------------------------------------------------------------------ */

TEST_CASE("boot registers the table's regions, joined and cut, with the boot log", "[chip]")
{
    uintptr_t base = (uintptr_t)chip_ram;
    char expect[1024];
    /* DRAM_A + DRAM_B joined; DIRAM in two pieces around the reserved range; the stack region
     * up to the ROM's data is not a heap yet at boot but is announced; RTC. */
    struct {
        size_t off, end;
        const char *name;
    } lines[] = {
        {DRAM_A_OFF, DIRAM_OFF, "DRAM"},      {DIRAM_OFF, RESERVED_OFF, "D/IRAM"},
        {RESERVED_END, DIRAM_END, "D/IRAM"},  {STACK_OFF, ROM_OFF, "DRAM"},
        {RTC_OFF, RAM_SIZE, "RTCRAM"},
    };
    int n = snprintf(expect, sizeof expect,
                     "I (0) heap_init: Initializing. RAM available for dynamic allocation:\n");
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        size_t len = lines[i].end - lines[i].off;
        n += snprintf(expect + n, sizeof expect - (size_t)n,
                      "I (0) heap_init: At %08" PRIXPTR " len %08zX (%zu KiB): %s\n",
                      base + lines[i].off, len, len / 1024, lines[i].name);
    }
    TEST_ASSERT_EQUAL_STRING(expect, boot_log);

    /* The startup-stack region joins the 8BIT heaps only with enable_nonos_stack_heaps. */
    size_t stack = ROM_OFF - STACK_OFF;
    TEST_ASSERT_LESS_THAN_size_t(total_after_stacks, total_before_stacks);
    TEST_ASSERT_EQUAL_size_t(stack, total_after_stacks - total_before_stacks);
    size_t all8 = (DIRAM_OFF - DRAM_A_OFF) + (RESERVED_OFF - DIRAM_OFF) +
                  (DIRAM_END - RESERVED_END) + stack + (RAM_SIZE - RTC_OFF);
    TEST_ASSERT_EQUAL_size_t(all8, total_after_stacks);
    TEST_ASSERT_EQUAL_size_t(RAM_SIZE - RTC_OFF, heap_caps_get_total_size(MALLOC_CAP_RTCRAM));
}

TEST_CASE("heap_caps_malloc picks the heap by caps and priority", "[chip]")
{
    unsigned calls = qemu_lock_calls();
    /* 8BIT at priority 0 only in DRAM (the first DRAM heap: the boot one, lowest address). */
    void *a = heap_caps_malloc(100, MALLOC_CAP_8BIT);
    TEST_ASSERT_NOT_NULL(a);
    TEST_ASSERT_TRUE(in_ram(a, DRAM_A_OFF, DIRAM_OFF) || in_ram(a, STACK_OFF, RTC_OFF));
    TEST_ASSERT_TRUE_MESSAGE(qemu_lock_calls() > calls, "malloc took no lock");
    /* RTCRAM only in the RTC region. */
    void *r = heap_caps_malloc(200, MALLOC_CAP_RTCRAM);
    TEST_ASSERT_NOT_NULL(r);
    TEST_ASSERT_TRUE(in_ram(r, RTC_OFF, RAM_SIZE));
    /* No heap has SPIRAM. */
    TEST_ASSERT_NULL(heap_caps_malloc(16, MALLOC_CAP_SPIRAM));
    /* DMA goes through the port's esp_heap_adjust_alignment_to_hw: 16-byte aligned. */
    for (size_t s = 1; s < 70; s += 13) {
        uint8_t *d = heap_caps_malloc(s, MALLOC_CAP_DMA);
        TEST_ASSERT_NOT_NULL(d);
        TEST_ASSERT_EQUAL_UINT32(0, (uintptr_t)d & 15);
        TEST_ASSERT_GREATER_OR_EQUAL_size_t((s + 15) & ~(size_t)15,
                                            heap_caps_get_allocated_size(d));
        memset(d, 0x5A, s);
        heap_caps_free(d);
    }
    uint8_t *desc = heap_caps_malloc(24, MALLOC_CAP_DMA_DESC_AHB);
    TEST_ASSERT_NOT_NULL(desc);
    TEST_ASSERT_EQUAL_UINT32(0, (uintptr_t)desc & 15);
    heap_caps_free(desc);
    /* Allocation by caps at priority 0 first: DEFAULT is a priority-0 cap of DRAM only. */
    void *dflt = heap_caps_malloc(64, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(dflt);
    TEST_ASSERT_FALSE(in_ram(dflt, DIRAM_OFF, DIRAM_END));
    TEST_ASSERT_FALSE(in_ram(dflt, RTC_OFF, RAM_SIZE));
    heap_caps_free(dflt);
    heap_caps_free(a);
    heap_caps_free(r);
    heap_caps_free(NULL);
}

TEST_CASE("heap_caps calloc, realloc and aligned_alloc keep their contracts", "[chip]")
{
    uint8_t *c = heap_caps_calloc(37, 11, MALLOC_CAP_8BIT);
    TEST_ASSERT_NOT_NULL(c);
    TEST_ASSERT_EACH_EQUAL_UINT8(0, c, 37 * 11);
    /* Overflowing products are refused (32-bit size_t here). */
    TEST_ASSERT_NULL(heap_caps_calloc(0x10000, 0x10001, MALLOC_CAP_8BIT));

    memset(c, 0xA5, 37 * 11);
    uint8_t *g = heap_caps_realloc(c, 3000, MALLOC_CAP_8BIT);
    TEST_ASSERT_NOT_NULL(g);
    TEST_ASSERT_EACH_EQUAL_HEX8(0xA5, g, 37 * 11);
    /* realloc to caps the block's heap lacks moves it there, contents kept. */
    uint8_t *m = heap_caps_realloc(g, 500, MALLOC_CAP_RTCRAM);
    TEST_ASSERT_NOT_NULL(m);
    TEST_ASSERT_TRUE(in_ram(m, RTC_OFF, RAM_SIZE));
    TEST_ASSERT_EACH_EQUAL_HEX8(0xA5, m, 37 * 11);
    /* A request no heap can meet leaves the block alone. */
    TEST_ASSERT_NULL(heap_caps_realloc(m, 1000, MALLOC_CAP_SPIRAM));
    TEST_ASSERT_EQUAL_HEX8(0xA5, m[0]);
    /* Size 0 frees. */
    size_t before = heap_caps_get_free_size(MALLOC_CAP_RTCRAM);
    TEST_ASSERT_NULL(heap_caps_realloc(m, 0, MALLOC_CAP_RTCRAM));
    TEST_ASSERT_GREATER_THAN_size_t(before, heap_caps_get_free_size(MALLOC_CAP_RTCRAM));

    for (size_t align = 4; align <= 4096; align *= 2) {
        uint8_t *p = heap_caps_aligned_alloc(align, 100, MALLOC_CAP_8BIT);
        TEST_ASSERT_NOT_NULL(p);
        TEST_ASSERT_EQUAL_UINT32(0, (uintptr_t)p & (align - 1));
        memset(p, 0x11, 100);
        uint8_t *q = heap_caps_aligned_calloc(align, 3, 7, MALLOC_CAP_RTCRAM);
        TEST_ASSERT_NOT_NULL(q);
        TEST_ASSERT_EQUAL_UINT32(0, (uintptr_t)q & (align - 1));
        TEST_ASSERT_EACH_EQUAL_UINT8(0, q, 21);
        heap_caps_free(p);
        heap_caps_free(q);
    }
    /* Not a power of two. */
    TEST_ASSERT_NULL(heap_caps_aligned_alloc(24, 100, MALLOC_CAP_8BIT));
}

/* The variadic *_prefer functions read their caps list in place on RISC-V ilp32 (src/capi/prefer.c):
 * a0..a7 carry the first arguments and the rest sit on the stack, so a long list crosses from
 * registers to the stack. Each call below succeeds only with the LAST caps of its list. */
TEST_CASE("heap_caps_*_prefer read caps lists that reach the stack", "[chip]")
{
    const uint32_t none = MALLOC_CAP_SPIRAM; /* no heap has it */
    /* malloc: size, num, then 8 caps: a2..a7 hold the first six, the last two are on the stack. */
    void *m = heap_caps_malloc_prefer(48, 8, none, none, none, none, none, none, none,
                                      MALLOC_CAP_RTCRAM);
    TEST_ASSERT_NOT_NULL(m);
    TEST_ASSERT_TRUE(in_ram(m, RTC_OFF, RAM_SIZE));
    /* calloc: n, size, num, 7 caps: the seventh is the first stack argument. */
    uint8_t *c = heap_caps_calloc_prefer(5, 9, 7, none, none, none, none, none, none,
                                         MALLOC_CAP_RTCRAM);
    TEST_ASSERT_NOT_NULL(c);
    TEST_ASSERT_TRUE(in_ram(c, RTC_OFF, RAM_SIZE));
    TEST_ASSERT_EACH_EQUAL_UINT8(0, c, 45);
    /* realloc: ptr, size, num, 9 caps; DMA, which the RTC heap lacks, moves the block out of it. */
    memset(c, 0x3C, 45);
    uint8_t *r = heap_caps_realloc_prefer(c, 300, 9, none, none, none, none, none, none, none,
                                          none, MALLOC_CAP_DMA);
    TEST_ASSERT_NOT_NULL(r);
    TEST_ASSERT_FALSE(in_ram(r, RTC_OFF, RAM_SIZE));
    TEST_ASSERT_EACH_EQUAL_HEX8(0x3C, r, 45);
    /* The first caps that succeed win: RTCRAM before DEFAULT. */
    void *f = heap_caps_malloc_prefer(32, 2, MALLOC_CAP_RTCRAM, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_TRUE(in_ram(f, RTC_OFF, RAM_SIZE));
    /* Nothing matches: NULL. */
    TEST_ASSERT_NULL(heap_caps_malloc_prefer(32, 3, none, none, none));
    /* A count above 16 is itself one caps mask (README, deliberate differences). */
    void *d = heap_caps_malloc_prefer(32, MALLOC_CAP_RTCRAM);
    TEST_ASSERT_TRUE(in_ram(d, RTC_OFF, RAM_SIZE));
    heap_caps_free(m);
    heap_caps_free(r);
    heap_caps_free(f);
    heap_caps_free(d);
}

TEST_CASE("heap_caps size queries agree with get_info and with allocation", "[chip]")
{
    const uint32_t caps[] = {MALLOC_CAP_8BIT, MALLOC_CAP_RTCRAM, MALLOC_CAP_DMA,
                             MALLOC_CAP_32BIT};
    void *hold[3];
    hold[0] = heap_caps_malloc(1000, MALLOC_CAP_8BIT);
    hold[1] = heap_caps_malloc(3000, MALLOC_CAP_RTCRAM);
    hold[2] = heap_caps_malloc(77, MALLOC_CAP_DMA);
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        multi_heap_info_t info;
        heap_caps_get_info(&info, caps[i]);
        TEST_ASSERT_EQUAL_size_t(info.total_free_bytes, heap_caps_get_free_size(caps[i]));
        TEST_ASSERT_EQUAL_size_t(info.largest_free_block,
                                 heap_caps_get_largest_free_block(caps[i]));
        TEST_ASSERT_EQUAL_size_t(info.minimum_free_bytes,
                                 heap_caps_get_minimum_free_size(caps[i]));
        TEST_ASSERT_LESS_OR_EQUAL_size_t(info.total_free_bytes, info.largest_free_block);
        TEST_ASSERT_LESS_OR_EQUAL_size_t(info.total_free_bytes, info.minimum_free_bytes);
        TEST_ASSERT_GREATER_THAN_size_t(0, info.allocated_blocks);
        TEST_ASSERT_EQUAL_size_t(info.allocated_blocks + info.free_blocks, info.total_blocks);
        /* The largest free block can be had in one piece; with DMA (16-byte alignment and
         * size through the port's esp_heap_adjust_alignment_to_hw) less the worst case of the
         * size rounding (12) and of the aligned search's slack (16 + 8, as ESP-IDF's TLSF),
         * since the figure ignores alignment, as ESP-IDF's does. */
        size_t slack = caps[i] == MALLOC_CAP_DMA ? 12 + 16 + 8 : 0;
        char what[64];
        snprintf(what, sizeof what, "caps 0x%" PRIx32 " largest %zu", caps[i],
                 info.largest_free_block);
        void *big = heap_caps_malloc(info.largest_free_block - slack, caps[i]);
        TEST_ASSERT_NOT_NULL_MESSAGE(big, what);
        TEST_ASSERT_NULL(heap_caps_malloc(info.largest_free_block + 4, caps[i]));
        heap_caps_free(big);
    }
    TEST_ASSERT_EQUAL_size_t(heap_caps_get_free_size(MALLOC_CAP_8BIT),
                             heap_caps_get_free_size(MALLOC_CAP_8BIT | MALLOC_CAP_INTERNAL));
    TEST_ASSERT_EQUAL_size_t(0, heap_caps_get_free_size(MALLOC_CAP_SPIRAM));
    TEST_ASSERT_TRUE(heap_caps_check_integrity(MALLOC_CAP_RTCRAM, true));
    TEST_ASSERT_TRUE(heap_caps_check_integrity_addr((intptr_t)hold[1], true));
    for (size_t i = 0; i < 3; i++) {
        TEST_ASSERT_NOT_NULL(hold[i]);
        heap_caps_free(hold[i]);
    }
}

TEST_CASE("runtime regions: add_region_with_caps and add_region", "[chip]")
{
    static uint32_t region_a[2048], region_b[1024];
    const uint32_t caps_a[3] = {1u << 29, 0, MALLOC_CAP_32BIT};
    intptr_t a = (intptr_t)region_a, b = (intptr_t)region_b;
    TEST_ASSERT_EQUAL_INT(ESP_OK, heap_caps_add_region_with_caps(caps_a, a, a + sizeof region_a));
    /* Straddling either end of a heap is refused (lying wholly inside is not: ESP-IDF's rule,
     * heap_caps_check_add_region_allowed). */
    TEST_ASSERT_EQUAL_INT(ESP_FAIL, heap_caps_add_region_with_caps(caps_a, a - 64, a + 64));
    TEST_ASSERT_EQUAL_INT(ESP_FAIL,
                          heap_caps_add_region_with_caps(caps_a, a + 64, a + sizeof region_a + 64));
    TEST_ASSERT_EQUAL_INT(ESP_ERR_INVALID_ARG, heap_caps_add_region_with_caps(NULL, b, b + 4096));
    TEST_ASSERT_EQUAL_INT(ESP_ERR_INVALID_SIZE, heap_caps_add_region_with_caps(caps_a, b, b + 64));
    /* .bss outside chip_ram is in no table region: its caps cannot be found. */
    TEST_ASSERT_EQUAL_INT(ESP_ERR_NOT_FOUND, heap_caps_add_region(b, b + sizeof region_b));
    TEST_ASSERT_EQUAL_size_t(sizeof region_a, heap_caps_get_total_size(1u << 29));
    void *p = heap_caps_malloc(500, 1u << 29);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_TRUE((uintptr_t)p > (uintptr_t)a && (uintptr_t)p < (uintptr_t)a + sizeof region_a);
    heap_caps_free(p);

    /* A block of an RTC heap given back as a region of its own takes the RTC type's caps. */
    uint8_t *blk = heap_caps_malloc(4000, MALLOC_CAP_RTCRAM);
    TEST_ASSERT_NOT_NULL(blk);
    size_t rtc_total = heap_caps_get_total_size(MALLOC_CAP_RTCRAM);
    TEST_ASSERT_EQUAL_INT(ESP_OK, heap_caps_add_region((intptr_t)blk, (intptr_t)blk + 4000));
    TEST_ASSERT_EQUAL_size_t(rtc_total + 4000, heap_caps_get_total_size(MALLOC_CAP_RTCRAM));
    TEST_ASSERT_EQUAL_INT(ESP_FAIL, heap_caps_add_region((intptr_t)blk, (intptr_t)blk + 4000));
    TEST_ASSERT_TRUE(heap_caps_check_integrity_all(true));
    /* (The block stays allocated for good: its memory is a heap now.) */
}

/* ------------------------------------------------------------------------------------------ */
/* Messages in printf formats (the archive calls esp_rom_printf)                              */
/* ------------------------------------------------------------------------------------------ */

TEST_CASE("heap_caps_print_heap_info prints ESP-IDF's summary through esp_rom_printf", "[chip]")
{
    void *p = heap_caps_malloc(1234, MALLOC_CAP_RTCRAM);
    TEST_ASSERT_NOT_NULL(p);
    multi_heap_info_t info;
    heap_caps_get_info(&info, MALLOC_CAP_RTCRAM);
    /* The boot RTC heap and the one added from one of its blocks (previous test). */
    qemu_capture_start();
    heap_caps_print_heap_info(MALLOC_CAP_RTCRAM);
    const char *out = qemu_capture_stop();

    char want[256];
    snprintf(want, sizeof want, "Heap summary for capabilities 0x%08X:\n", MALLOC_CAP_RTCRAM);
    TEST_ASSERT_EQUAL_INT(0, strncmp(out, want, strlen(want)));
    snprintf(want, sizeof want, "  At 0x%08" PRIxPTR " len %u free ",
             (uintptr_t)chip_ram + RTC_OFF, (unsigned)(RAM_SIZE - RTC_OFF));
    TEST_ASSERT_NOT_NULL_MESSAGE(strstr(out, want), out);
    snprintf(want, sizeof want,
             "  Totals:\n    free %zu allocated %zu min_free %zu largest_free_block %zu\n",
             info.total_free_bytes, info.total_allocated_bytes, info.minimum_free_bytes,
             info.largest_free_block);
    const char *totals = strstr(out, "  Totals:");
    TEST_ASSERT_NOT_NULL_MESSAGE(totals, out);
    TEST_ASSERT_EQUAL_STRING(want, totals);
    heap_caps_free(p);
}


TEST_CASE("multi_heap_dump and multi_heap_check print their formats", "[chip]")
{
    static uint32_t mem[1024];
    multi_heap_handle_t h = multi_heap_register(mem, sizeof mem);
    TEST_ASSERT_NOT_NULL(h);
    uint8_t *a = multi_heap_malloc(h, 40);
    void *b = multi_heap_malloc(h, 80);
    void *c = multi_heap_malloc(h, 120);
    TEST_ASSERT_NOT_NULL(c);
    multi_heap_free(h, b);

    qemu_capture_start();
    multi_heap_dump(h);
    const char *out = qemu_capture_stop();
    static char expect[4096];
    static walk_log_t log;
    memset(&log, 0, sizeof log);
    multi_heap_walk(h, log_walker, &log);
    TEST_ASSERT_GREATER_OR_EQUAL_size_t(4, log.n);
    int n = snprintf(expect, sizeof expect, "Showing data for heap: 0x%08" PRIxPTR " \n",
                     (uintptr_t)h);
    for (size_t k = 0; k < log.n; k++) {
        n += snprintf(expect + n, sizeof expect - (size_t)n,
                      "Block 0x%08" PRIxPTR " data, size: %zu bytes, Free: %s \n",
                      (uintptr_t)log.ptr[k], log.size[k], log.used[k] ? "No" : "Yes");
    }
    TEST_ASSERT_EQUAL_STRING(expect, out);

    /* Healthy: nothing printed. */
    qemu_capture_start();
    bool ok = multi_heap_check(h, true);
    out = qemu_capture_stop();
    TEST_ASSERT_TRUE(ok);
    TEST_ASSERT_EQUAL_STRING("", out);

    /* A broken block header: the check fails and names a block address of this heap. */
    uint32_t *hdr = (uint32_t *)(a - 4);
    uint32_t saved = *hdr;
    *hdr = 0xFFFFFFF0u;
    qemu_capture_start();
    ok = multi_heap_check(h, true);
    out = qemu_capture_stop();
    *hdr = saved;
    TEST_ASSERT_FALSE(ok);
    TEST_ASSERT_EQUAL_INT(0, strncmp(out, "CORRUPT HEAP: ", 14));
    const char *at = strstr(out, " at 0x");
    TEST_ASSERT_NOT_NULL_MESSAGE(at, out);
    unsigned long addr = strtoul(at + 6, NULL, 16);
    TEST_ASSERT_TRUE(addr >= (uintptr_t)mem && addr < (uintptr_t)mem + sizeof mem);
    TEST_ASSERT_TRUE(multi_heap_check(h, true));
    multi_heap_free(h, a);
    multi_heap_free(h, c);
}

/* ------------------------------------------------------------------------------------------ */
/* Death scenarios (one QEMU run each; see run.sh)                                            */
/* ------------------------------------------------------------------------------------------ */

static uint32_t death_mem[1024];
static uint32_t not_a_heap[64];

static multi_heap_handle_t death_heap(void **p)
{
    multi_heap_handle_t h = multi_heap_register(death_mem, sizeof death_mem);
    *p = multi_heap_malloc(h, 64);
    (void)multi_heap_malloc(h, 64);
    return h;
}

QEMU_DEATH_SCENARIO(multi_heap_double_free)
{
    void *p;
    multi_heap_handle_t h = death_heap(&p);
    multi_heap_free(h, p);
    qemu_target(p);
    multi_heap_free(h, p);
}

QEMU_DEATH_SCENARIO(multi_heap_interior_free)
{
    void *p;
    multi_heap_handle_t h = death_heap(&p);
    /* Written by its owner: a fresh block still holds the free-list links it had as part of a
     * free block, and a link can pass for a block header of a plausible size. */
    memset(p, 0, 64);
    qemu_target((uint8_t *)p + 8);
    multi_heap_free(h, (uint8_t *)p + 8);
}

QEMU_DEATH_SCENARIO(multi_heap_outside_free)
{
    void *p;
    multi_heap_handle_t h = death_heap(&p);
    qemu_target(&not_a_heap[16]);
    multi_heap_free(h, &not_a_heap[16]);
}

QEMU_DEATH_SCENARIO(multi_heap_realloc_outside)
{
    void *p;
    multi_heap_handle_t h = death_heap(&p);
    qemu_target(&not_a_heap[16]);
    (void)multi_heap_realloc(h, &not_a_heap[16], 10);
}

QEMU_DEATH_SCENARIO(heap_caps_free_outside)
{
    boot();
    qemu_target(&not_a_heap[8]);
    heap_caps_free(&not_a_heap[8]);
}

QEMU_DEATH_SCENARIO(heap_caps_double_free)
{
    boot();
    void *p = heap_caps_malloc(48, MALLOC_CAP_8BIT);
    heap_caps_free(p);
    qemu_target(p);
    heap_caps_free(p);
}

QEMU_DEATH_SCENARIO(heap_caps_realloc_interior)
{
    boot();
    uint8_t *p = heap_caps_malloc(48, MALLOC_CAP_RTCRAM);
    memset(p, 0, 48);
    qemu_target(p + 12);
    (void)heap_caps_realloc(p + 12, 100, MALLOC_CAP_RTCRAM);
}

/* ------------------------------------------------------------------------------------------ */
/* Heap poisoning as the chip build has it (run.sh passes the archive's mode as POISON_MODE:  */
/* 0 none, 1 light, 2 comprehensive).                                                         */
/* ------------------------------------------------------------------------------------------ */

#ifndef POISON_MODE
#error "POISON_MODE must be 0, 1 or 2 (tests/qemu/run.sh sets it from the configuration)"
#endif

#if POISON_MODE >= 1
/* Flips the bits `mask` of the tail canary byte `tail + i`, runs the integrity check, undoes
 * the flip, and expects the check to fail with ESP-IDF's report of that canary. */
static void expect_bad_tail(uint8_t *tail, int i, uint8_t mask)
{
    tail[i] ^= mask;
    qemu_capture_start();
    bool ok = heap_caps_check_integrity_all(true);
    const char *out = qemu_capture_stop();
    tail[i] ^= mask;
    TEST_ASSERT_FALSE(ok);
    char want[128];
    snprintf(want, sizeof want, "CORRUPT HEAP: Bad tail at 0x%08" PRIxPTR ". Expected 0xbaad5678 got 0x%08x\n",
             (uintptr_t)tail, (unsigned)(0xBAAD5678u ^ ((uint32_t)mask << (8 * i))));
    TEST_ASSERT_NOT_NULL_MESSAGE(strstr(out, want), out);
}
#endif

TEST_CASE("poisoning: canaries, fills and the integrity check on the chip build", "[chip]")
{
    boot();
    uint8_t *p = heap_caps_malloc(10, MALLOC_CAP_8BIT);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_EQUAL_UINT32(0, (uintptr_t)p % 4);
#if POISON_MODE >= 1
    /* ESP-IDF's layout: head canary and request size in front, tail canary right after. */
    uint32_t head, size, tail;
    memcpy(&head, p - 8, 4);
    memcpy(&size, p - 4, 4);
    memcpy(&tail, p + 10, 4);
    TEST_ASSERT_EQUAL_HEX32(0xABBA1234u, head);
    TEST_ASSERT_EQUAL_UINT32(10, size);
    TEST_ASSERT_EQUAL_HEX32(0xBAAD5678u, tail);
#endif
#if POISON_MODE == 2
    for (int i = 0; i < 10; i++) {
        TEST_ASSERT_EQUAL_HEX8(0xCE, p[i]);
    }
#endif
    /* One byte past the request: the tail canary when poisoned, slack otherwise. */
#if POISON_MODE >= 1
    expect_bad_tail(p + 10, 0, 0xFF);
#else
    p[10] ^= 0xFF;
    qemu_capture_start();
    bool flipped_ok = heap_caps_check_integrity_all(true);
    const char *flipped_out = qemu_capture_stop();
    p[10] ^= 0xFF;
    TEST_ASSERT_TRUE(flipped_ok);
    TEST_ASSERT_EQUAL_STRING("", flipped_out);
#endif
    TEST_ASSERT_TRUE(heap_caps_check_integrity_all(true));

    /* A write into a freed block: found by comprehensive poisoning's fill check only. */
    uint8_t *keep = heap_caps_malloc(64, MALLOC_CAP_8BIT);
    uint8_t *q = heap_caps_malloc(64, MALLOC_CAP_8BIT);
    uint8_t *after = heap_caps_malloc(64, MALLOC_CAP_8BIT);
    TEST_ASSERT_NOT_NULL(after);
    heap_caps_free(q);
    uint8_t saved = q[20];
    q[20] = 0x11;
    qemu_capture_start();
    bool ok = heap_caps_check_integrity_all(true);
    const char *out = qemu_capture_stop();
    q[20] = saved;
#if POISON_MODE == 2
    TEST_ASSERT_FALSE(ok);
    TEST_ASSERT_NOT_NULL_MESSAGE(strstr(out, "CORRUPT HEAP: Invalid data at 0x"), out);
#else
    TEST_ASSERT_TRUE(ok);
    TEST_ASSERT_EQUAL_STRING("", out);
#endif
    TEST_ASSERT_TRUE(heap_caps_check_integrity_all(true));
    heap_caps_free(keep);
    heap_caps_free(after);
    heap_caps_free(p);
}

/* A request that is a multiple of 4 puts the tail canary on a word boundary: the chips read and
 * write it as a word then (unaligned ones byte by byte), through malloc, realloc, free and the
 * integrity check. */
TEST_CASE("poisoning: an aligned tail canary on the chip build", "[chip]")
{
    boot();
    uint8_t *p = heap_caps_malloc(12, MALLOC_CAP_8BIT);
    TEST_ASSERT_NOT_NULL(p);
#if POISON_MODE >= 1
    uint32_t tail;
    memcpy(&tail, p + 12, 4);
    TEST_ASSERT_EQUAL_HEX32(0xBAAD5678u, tail);
    expect_bad_tail(p + 12, 1, 0x0F);
#endif
    TEST_ASSERT_TRUE(heap_caps_check_integrity_all(true));
    memset(p, 0x5A, 12);
    uint8_t *q = heap_caps_realloc(p, 24, MALLOC_CAP_8BIT);
    TEST_ASSERT_NOT_NULL(q);
    for (int i = 0; i < 12; i++) {
        TEST_ASSERT_EQUAL_HEX8(0x5A, q[i]);
    }
#if POISON_MODE >= 1
    uint32_t size;
    memcpy(&size, q - 4, 4);
    memcpy(&tail, q + 24, 4);
    TEST_ASSERT_EQUAL_UINT32(24, size);
    TEST_ASSERT_EQUAL_HEX32(0xBAAD5678u, tail);
#endif
    TEST_ASSERT_TRUE(heap_caps_check_integrity_all(true));
    heap_caps_free(q);
    TEST_ASSERT_TRUE(heap_caps_check_integrity_all(true));
}
