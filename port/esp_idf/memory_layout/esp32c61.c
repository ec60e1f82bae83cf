/*
 * ESP32-C61 memory layout for heapcaps' heap_caps_init: memory type, RAM regions and the reserved
 * ranges (the app's code and static data, TEE memory). The same facts as the simulated esp32c61
 * of src/caps/chips.rs (tests/memory_layout.rs compares them).
 */
#include "layout.h"

#if defined(ESP_PLATFORM) && !defined(CONFIG_IDF_TARGET_ESP32C61)
#error "esp32c61.c is the ESP32-C61 layout: cmake/heapcaps_idf.cmake picks the file of IDF_TARGET"
#endif

enum { T_RAM, T_COUNT };

/* One kind of RAM; no RTC memory heap (PSRAM, when present, is added by esp_psram with its own
 * caps). */
const heapcaps_layout_type_t soc_memory_types[T_COUNT] = {
    [T_RAM] = { "RAM",
                { MALLOC_CAP_DEFAULT | MALLOC_CAP_INTERNAL | MALLOC_CAP_32BIT | MALLOC_CAP_8BIT |
                      HEAPCAPS_EXEC_CAPS | MALLOC_CAP_DMA,
                  0, 0 } },
};
const size_t soc_memory_type_count = T_COUNT;

/* HP SRAM (320 KiB) has one address for data and instructions (iram_address = start). The ROM's
 * startup stack (8 KiB below 0x4084E670) and what follows it up to the end of SRAM become heap
 * once the scheduler runs. */
#define SRAM_LO 0x40800000
#define STARTUP_STACK_LO 0x4084C670
#define SRAM_HI 0x40850000

const heapcaps_layout_region_t soc_memory_regions[] = {
    { SRAM_LO, STARTUP_STACK_LO - SRAM_LO, T_RAM, SRAM_LO, false },
    { STARTUP_STACK_LO, SRAM_HI - STARTUP_STACK_LO, T_RAM, STARTUP_STACK_LO, true },
};
const size_t soc_memory_region_count = sizeof soc_memory_regions / sizeof soc_memory_regions[0];

/* ---- Reserved ranges ---- */

/* Symbols of ESP-IDF's common RISC-V linker scripts (components/esp_system/ld/ld.*.sections). */
extern char _data_start, _heap_start, _iram_start, _iram_end;

/* The app's .data/.bss (and rodata placed in SRAM) and its code in SRAM. */
HEAPCAPS_RESERVE(app_dram, HEAPCAPS_LD(_data_start), HEAPCAPS_LD(_heap_start));
HEAPCAPS_RESERVE(app_iram, HEAPCAPS_LD(_iram_start), HEAPCAPS_LD(_iram_end));

/* ESP-TEE's code and data at the bottom of HP SRAM (guarded from the app by memory protection). */
#ifdef CONFIG_SECURE_ENABLE_TEE
HEAPCAPS_RESERVE(tee, SRAM_LO, SRAM_LO + CONFIG_SECURE_TEE_IRAM_SIZE + CONFIG_SECURE_TEE_DRAM_SIZE);
#endif
