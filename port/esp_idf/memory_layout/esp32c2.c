/*
 * ESP32-C2 memory layout for heapcaps' heap_caps_init: memory types, RAM regions and the reserved
 * ranges (the app's IRAM code and static data). The same facts as the simulated esp32c2 of
 * src/caps/chips.rs (tests/memory_layout.rs compares them).
 */
#include "layout.h"

#if defined(ESP_PLATFORM) && !defined(CONFIG_IDF_TARGET_ESP32C2)
#error "esp32c2.c is the ESP32-C2 layout: cmake/heapcaps_idf.cmake picks the file of IDF_TARGET"
#endif

enum { T_RAM, T_COUNT };

/* One kind of RAM: all of it is D/IRAM, reachable by DMA. The chip has no RTC memory. */
const heapcaps_layout_type_t soc_memory_types[T_COUNT] = {
    [T_RAM] = { "RAM",
                { MALLOC_CAP_DEFAULT | MALLOC_CAP_DMA | MALLOC_CAP_8BIT | MALLOC_CAP_INTERNAL |
                      MALLOC_CAP_32BIT | HEAPCAPS_EXEC_CAPS,
                  0, 0 } },
};
const size_t soc_memory_type_count = T_COUNT;

/* D/IRAM: the instruction bus sees the same bytes this far above the data bus (the 16 KiB below
 * 0x40380000 on the instruction bus are the I-cache, not heap). */
#define I_D_OFFSET (0x40380000 - 0x3FCA0000)
/* The ROM's startup stack (8 KiB below 0x3FCDEB70) and what follows it up to the end of D/IRAM
 * become heap once the scheduler runs. */
#define STARTUP_STACK_LO 0x3FCDCB70
#define DIRAM_HI 0x3FCE0000

#define DIRAM(a, size, stack) { (a), (size), T_RAM, (a) + I_D_OFFSET, (stack) }
const heapcaps_layout_region_t soc_memory_regions[] = {
    DIRAM(0x3FCA0000, 0x10000, false),
    DIRAM(0x3FCB0000, 0x10000, false),
    DIRAM(0x3FCC0000, STARTUP_STACK_LO - 0x3FCC0000, false),
    DIRAM(STARTUP_STACK_LO, DIRAM_HI - STARTUP_STACK_LO, true),
};
const size_t soc_memory_region_count = sizeof soc_memory_regions / sizeof soc_memory_regions[0];

/* ---- Reserved ranges ---- */

/* Symbols of ESP-IDF's common RISC-V linker scripts (components/esp_system/ld/ld.*.sections). */
extern char _data_start, _heap_start, _iram_start, _iram_end;

/* The app's .data/.bss (and rodata placed in DRAM). */
HEAPCAPS_RESERVE(app_dram, HEAPCAPS_LD(_data_start), HEAPCAPS_LD(_heap_start));
/* The app's IRAM code seen from the data bus: code and data share the D/IRAM blocks. */
HEAPCAPS_RESERVE(app_iram, HEAPCAPS_LD(_iram_start) - I_D_OFFSET, HEAPCAPS_LD(_iram_end) - I_D_OFFSET);
