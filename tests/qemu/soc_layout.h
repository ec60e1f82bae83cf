/* The chip memory tables heap_caps_init reads on a chip, in the layouts of ESP-IDF's
 * soc_memory_type_desc_t, soc_memory_region_t and soc_reserved_region_t (../shared/spec/types.md):
 * the QEMU programs (tests/qemu/test_heap_chip.c, bench/qemu/rv_bench.c) define the tables. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct type_desc {
    const char *name;
    uint32_t caps[3];
};
struct region_desc {
    intptr_t start;
    size_t size;
    size_t type;
    intptr_t iram_address;
    bool startup_stack;
};
struct reserved_desc {
    intptr_t start;
    intptr_t end;
};
