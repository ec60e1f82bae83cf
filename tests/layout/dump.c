/*
 * Prints the memory layout tables of one port/esp_idf/memory_layout/<target>.c, built for the host
 * by tests/memory_layout.rs, one record per line for that test to compare with the simulated chip.
 *
 * The reserved ranges are read from the section HEAPCAPS_RESERVED_SECTION names (a C identifier
 * here, so the host linker brackets it with __start_/__stop_ symbols); the linker symbols the
 * ranges use are given values with --defsym.
 */
#include <inttypes.h>
#include <stdio.h>

#include "layout.h"

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
extern const heapcaps_layout_reserved_t CAT(__start_, HEAPCAPS_RESERVED_SECTION_ID)[];
extern const heapcaps_layout_reserved_t CAT(__stop_, HEAPCAPS_RESERVED_SECTION_ID)[];

int main(void)
{
    printf("sizes %zu %zu %zu\n", sizeof(heapcaps_layout_type_t), sizeof(heapcaps_layout_region_t),
           sizeof(heapcaps_layout_reserved_t));
    for (size_t i = 0; i < soc_memory_type_count; i++) {
        const heapcaps_layout_type_t *t = &soc_memory_types[i];
        printf("type %" PRIu32 " %" PRIu32 " %" PRIu32 " %s\n", t->caps[0], t->caps[1], t->caps[2],
               t->name);
    }
    for (size_t i = 0; i < soc_memory_region_count; i++) {
        const heapcaps_layout_region_t *r = &soc_memory_regions[i];
        printf("region %" PRIuPTR " %zu %zu %" PRIuPTR " %d\n", (uintptr_t)r->start, r->size, r->type,
               (uintptr_t)r->iram_address, r->startup_stack ? 1 : 0);
    }
    for (const heapcaps_layout_reserved_t *r = CAT(__start_, HEAPCAPS_RESERVED_SECTION_ID);
         r < CAT(__stop_, HEAPCAPS_RESERVED_SECTION_ID); r++) {
        printf("reserved %" PRIuPTR " %" PRIuPTR "\n", (uintptr_t)r->start, (uintptr_t)r->end);
    }
    return 0;
}
