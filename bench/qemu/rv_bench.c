/* Instruction counts of the chips' archive on QEMU's riscv32 `virt` machine: replays a trace
 * written by `heapcaps-bench trace` (read from the host through semihosting) and reads the
 * machine's retired-instruction counter around the replay. Run under `qemu-system-riscv32
 * -icount shift=0`, where that counter counts instructions exactly; bench/qemu.sh builds and
 * runs it.
 *
 * Arguments (semihosting): TRACE MODE [REGION_BYTES]
 *   MODE  mh        multi_heap_* on a static region (default 256 KiB)
 *         caps      heap_caps_*(..., MALLOC_CAP_8BIT) with the region added by
 *                   heap_caps_add_region_with_caps (the only heap: no chip memory on QEMU)
 *         baseline  the harness alone
 * Prints "ops N fails F instret I" (I = instructions retired during the replay).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_heap_caps.h"
#include "esp_heap_caps_init.h"
#include "multi_heap.h"

#define REGION_MAX (1024 * 1024)

static _Alignas(16) uint8_t region[REGION_MAX];
static size_t region_size = 256 * 1024;
static multi_heap_handle_t heap;
static int mode;
/* Keeps the baseline's fake results observable. */
static void *volatile sink;

#include "replay.h"

/* The chip's memory tables that heap_caps_init reads (layouts: ../shared/spec/types.md): one
 * small internal heap, from which heap_caps_add_region_with_caps takes the new heap's
 * descriptor as ESP-IDF does; the benchmark's region, added at run time, goes in front of it. */
struct type_desc {
    const char *name;
    uint32_t caps[3];
};
struct region_desc {
    intptr_t start;
    size_t size;
    size_t type;
    intptr_t iram_address;
    _Bool startup_stack;
};
static _Alignas(16) uint8_t boot_ram[16 * 1024];
const struct type_desc soc_memory_types[] = {
    {"DRAM", {MALLOC_CAP_8BIT | MALLOC_CAP_DEFAULT, MALLOC_CAP_INTERNAL | MALLOC_CAP_32BIT, 0}}};
const size_t soc_memory_type_count = 1;
const struct region_desc soc_memory_regions[] = {
    {(intptr_t)boot_ram, sizeof boot_ram, 0, 0, 0}};
const size_t soc_memory_region_count = 1;
/* No reserved ranges: the linker's bracketing symbols at one address. */
__asm__(".globl soc_reserved_memory_region_start\n"
        ".globl soc_reserved_memory_region_end\n"
        ".set soc_reserved_memory_region_start, soc_memory_regions\n"
        ".set soc_reserved_memory_region_end, soc_memory_regions\n");

static inline uint32_t instret(void)
{
    uint32_t v;
    __asm__ volatile("csrr %0, minstret" : "=r"(v));
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        printf("usage: rv_bench TRACE mh|caps|baseline [REGION_BYTES]\n");
        return 2;
    }
    mode = !strcmp(argv[2], "mh") ? M_MH : !strcmp(argv[2], "caps") ? M_CAPS : M_BASE;
    if (argc > 3 && atol(argv[3]) >= 64 * 1024 && atol(argv[3]) <= REGION_MAX) {
        region_size = (size_t)atol(argv[3]);
    }
    FILE *f = fopen(argv[1], "rb");
    uint32_t hdr[2];
    if (f == NULL || fread(hdr, sizeof hdr, 1, f) != 1) {
        printf("cannot read %s\n", argv[1]);
        return 1;
    }
    uint32_t nslots = hdr[0], nops = hdr[1];
    /* The driver's own arrays come from the C library's malloc (picolibc's, not heapcaps). */
    op_t *ops = malloc(sizeof(op_t) * nops + 1);
    void **slots = calloc(nslots, sizeof(void *));
    if (ops == NULL || slots == NULL || fread(ops, sizeof(op_t), nops, f) != nops) {
        printf("bad trace %s\n", argv[1]);
        return 1;
    }
    fclose(f);
    for (uint32_t i = 0; i < nops; i++) {
        if (ops[i].slot >= nslots) {
            printf("bad slot in trace\n");
            return 1;
        }
    }
    if (mode == M_MH) {
        heap = multi_heap_register(region, region_size);
        if (heap == NULL) {
            printf("multi_heap_register failed\n");
            return 1;
        }
    } else if (mode == M_CAPS) {
        heap_caps_init();
        uint32_t caps[3] = {MALLOC_CAP_DEFAULT | MALLOC_CAP_INTERNAL | MALLOC_CAP_8BIT |
                                MALLOC_CAP_32BIT,
                            0, 0};
        esp_err_t e = heap_caps_add_region_with_caps(caps, (intptr_t)region,
                                                     (intptr_t)(region + region_size));
        if (e != ESP_OK) {
            printf("heap_caps_add_region_with_caps: %d\n", (int)e);
            return 1;
        }
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
