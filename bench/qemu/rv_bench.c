/* Instruction counts of the chips' archive on QEMU's riscv32 `virt` machine: replays a trace
 * written by `heapcaps-bench trace` (read from the host through semihosting) and reads the
 * machine's retired-instruction counter around the replay. Run under `qemu-system-riscv32
 * -icount shift=0`, where that counter counts instructions exactly; bench/qemu.sh builds and
 * runs it.
 *
 * Arguments (semihosting): TRACE MODE [REGION_BYTES [LAYOUT]]
 *   MODE  mh        multi_heap_* on a static region (default 256 KiB)
 *         caps      heap_caps_*(..., MALLOC_CAP_8BIT) with the region added by
 *                   heap_caps_add_region_with_caps (the only heap: no chip memory on QEMU)
 *         malloc    the same heap through heap_caps_malloc_default, heap_caps_realloc_default
 *                   and heap_caps_free: what ESP-IDF's C library calls for malloc, realloc
 *                   and free (aligned requests: heap_caps_aligned_alloc(MALLOC_CAP_DEFAULT))
 *         baseline  the harness alone
 *   LAYOUT  c3: the heaps of an ESP32-C3 (see fill_layout) instead of one boot heap
 * Prints "ops N fails F instret I" (I = instructions retired during the replay).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_heap_caps.h"
#include "esp_heap_caps_init.h"
#include "multi_heap.h"
#include "soc_layout.h"

#define REGION_MAX (1024 * 1024)

static _Alignas(16) uint8_t region[REGION_MAX];
static size_t region_size = 256 * 1024;
static multi_heap_handle_t heap;
static int mode;
/* Keeps the baseline's fake results observable. */
static void *volatile sink;

/* Mode `malloc`: the C library's calls as ESP-IDF's libc layer makes them (the driver's own
 * arrays still come from picolibc's allocator, through calloc). */
#define malloc heap_caps_malloc_default
#define realloc heap_caps_realloc_default
#define free heap_caps_free
#include "replay.h"
#undef malloc
#undef realloc
#undef free

/* The chip's memory tables that heap_caps_init reads (tests/qemu/soc_layout.h), filled in by
 * main() before heap_caps_init for the chosen layout:
 * - default: one small internal heap, from which heap_caps_add_region_with_caps takes the new
 *   heap's descriptor as ESP-IDF does; the benchmark's region, added at run time, goes in front of
 *   it (the first heap every caps search looks at: the best case for a list walk);
 * - esp32c3 (LAYOUT c3): the ESP32-C3's memory types and the heaps its boot makes (RTC memory,
 *   retention RAM, then the main RAM, which is the benchmark's region), in the list order of its
 *   boot (ascending size), so a caps search passes two heaps before the main RAM, as on the chip.
 *   (No EXEC in the caps: QEMU has no IRAM alias.) */
static _Alignas(16) uint8_t boot_ram[16 * 1024];
static _Alignas(16) uint8_t rtc_ram[8 * 1024];
enum { T_DRAM, T_RAM, T_RETENTION_RAM, T_RTCRAM };
#define C3_COMMON \
    (MALLOC_CAP_DEFAULT | MALLOC_CAP_INTERNAL | MALLOC_CAP_32BIT | MALLOC_CAP_8BIT)
const struct type_desc soc_memory_types[] = {
    [T_DRAM] = {"DRAM", {MALLOC_CAP_8BIT | MALLOC_CAP_DEFAULT, MALLOC_CAP_INTERNAL | MALLOC_CAP_32BIT, 0}},
    [T_RAM] = {"RAM", {C3_COMMON | MALLOC_CAP_DMA, 0, 0}},
    [T_RETENTION_RAM] = {"Retention RAM", {MALLOC_CAP_RETENTION, C3_COMMON | MALLOC_CAP_DMA, 0}},
    [T_RTCRAM] = {"RTCRAM", {MALLOC_CAP_RTCRAM, 0, C3_COMMON}},
};
const size_t soc_memory_type_count = sizeof soc_memory_types / sizeof soc_memory_types[0];
struct region_desc soc_memory_regions[3];
size_t soc_memory_region_count;
static int layout_c3;

/* The regions of the chosen layout, in address order (as the chips' tables list them). */
static void fill_layout(void)
{
    if (!layout_c3) {
        soc_memory_regions[0] = (struct region_desc){(intptr_t)boot_ram, sizeof boot_ram, T_DRAM, 0, 0};
        soc_memory_region_count = 1;
        return;
    }
    /* Retention RAM: the boot heap of the default layout, 16 KiB (C3: 113 KiB; only the order
     * by size matters here). */
    struct region_desc r[3] = {
        {(intptr_t)rtc_ram, sizeof rtc_ram, T_RTCRAM, 0, 0},
        {(intptr_t)boot_ram, sizeof boot_ram, T_RETENTION_RAM, 0, 0},
        {(intptr_t)region, region_size, T_RAM, 0, 0},
    };
    for (int i = 0; i < 3; i++) {
        for (int j = i + 1; j < 3; j++) {
            if (r[j].start < r[i].start) {
                struct region_desc t = r[i];
                r[i] = r[j];
                r[j] = t;
            }
        }
    }
    for (int i = 0; i < 3; i++) {
        soc_memory_regions[i] = r[i];
    }
    soc_memory_region_count = 3;
}
/* No reserved ranges: the linker's bracketing symbols at one address. */
__asm__(".globl soc_reserved_memory_region_start\n"
        ".globl soc_reserved_memory_region_end\n"
        ".set soc_reserved_memory_region_start, soc_memory_regions\n"
        ".set soc_reserved_memory_region_end, soc_memory_regions\n");

static void *zalloc(size_t n)
{
    return calloc(1, n);
}

static inline uint32_t instret(void)
{
    uint32_t v;
    __asm__ volatile("csrr %0, minstret" : "=r"(v));
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        printf("usage: rv_bench TRACE mh|caps|malloc|baseline [REGION_BYTES [c3]]\n");
        return 2;
    }
    mode = !strcmp(argv[2], "mh")       ? M_MH
           : !strcmp(argv[2], "caps")   ? M_CAPS
           : !strcmp(argv[2], "malloc") ? M_MALLOC
                                        : M_BASE;
    if (argc > 3 && atol(argv[3]) >= 64 * 1024 && atol(argv[3]) <= REGION_MAX) {
        region_size = (size_t)atol(argv[3]);
    }
    layout_c3 = argc > 4 && !strcmp(argv[4], "c3");
    fill_layout();
    /* The driver's own arrays come from the C library's malloc (picolibc's, not heapcaps). */
    op_t *ops;
    uint32_t nops;
    void **slots;
    if (load_trace(argv[1], zalloc, &ops, &nops, &slots) != 0) {
        return 1;
    }
    /* heap_caps_add_region_with_caps takes the new heap's descriptor from a boot heap. */
    if (mode == M_CAPS || mode == M_MALLOC) {
        heap_caps_init();
    }
    /* (The esp32c3 layout's boot made the benchmark's region a heap already.) */
    if (!(layout_c3 && (mode == M_CAPS || mode == M_MALLOC)) && setup_heap() != 0) {
        return 1;
    }
    uint32_t t0 = instret();
    unsigned fails = replay(ops, nops, slots);
    uint32_t t1 = instret();
    printf("ops %u fails %u instret %u\n", (unsigned)nops, fails, (unsigned)(t1 - t0));
    return 0;
}

/* tests/qemu/port.c, linked for the platform port, has its own main() for the Unity runner
 * (bench/qemu.sh renames it) and refers to the runner, which this program does not have. */
int unity_run_all(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return 0;
}
