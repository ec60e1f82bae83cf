/*
 * heapcaps: the chip memory layout records of ESP-IDF's heap component (hand-written, not
 * generated). heap_caps_init reads the tables a target defines with these types (heapcaps keeps
 * its own tables in port/esp_idf/memory_layout/<target>.c); other components use
 * SOC_RESERVE_MEMORY_REGION to keep a RAM range out of the heaps (ESP-IDF's bt does).
 *
 * Layouts are ABI: the Rust side (src/caps/chips.rs) reads the tables through FFI and
 * port/esp_idf/memory_layout/layout.h asserts the 32-bit sizes and offsets.
 */
#ifndef HEAPCAPS_HEAP_MEMORY_LAYOUT_H
#define HEAPCAPS_HEAP_MEMORY_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#ifdef ESP_PLATFORM
#include "sdkconfig.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Number of capability masks per memory type (priority levels). */
#define SOC_MEMORY_TYPE_NO_PRIOS 3

/* A kind of memory: its name and capability masks, the highest priority first. */
typedef struct {
    const char *name;
    uint32_t caps[SOC_MEMORY_TYPE_NO_PRIOS];
} soc_memory_type_desc_t;

/* A RAM region: `type` indexes soc_memory_types; `iram_address` is the instruction bus alias of
 * the region (0 if there is none); `startup_stack` marks RAM that the ROM's startup stack
 * occupies, which becomes heap only once the scheduler has started. */
typedef struct {
    intptr_t start;
    size_t size;
    size_t type;
    intptr_t iram_address;
    bool startup_stack;
} soc_memory_region_t;

/* A [start, end) range of RAM that never becomes heap. */
typedef struct {
    intptr_t start;
    intptr_t end;
} soc_reserved_region_t;

/* The target's tables. */
extern const soc_memory_type_desc_t soc_memory_types[];
extern const size_t soc_memory_type_count;
extern const soc_memory_region_t soc_memory_regions[];
extern const size_t soc_memory_region_count;

/* Keeps [START, END) out of the heaps. The entry goes into the section that ESP-IDF's linker
 * scripts bracket with soc_reserved_memory_region_start/_end, where heap_caps_init finds it.
 * NAME must be unique among the reservations of one file. The definition ends with its own ';', so
 * uses with and without a trailing semicolon both compile. */
#define SOC_RESERVE_MEMORY_REGION(START, END, NAME)                                          \
    __attribute__((section(".reserved_memory_address"), used)) static soc_reserved_region_t \
        reserved_region_##NAME = { (START), (END) };

#ifdef __cplusplus
}
#endif

#endif /* HEAPCAPS_HEAP_MEMORY_LAYOUT_H */
