/*
 * ESP32-C3 memory layout for heapcaps' heap_caps_init: memory types, RAM regions and the reserved
 * ranges (the app's IRAM code and static data, RTC data). The same facts as the simulated esp32c3
 * of src/caps/chips.rs (tests/memory_layout.rs compares them).
 */
#include "layout.h"

#if defined(ESP_PLATFORM) && !defined(CONFIG_IDF_TARGET_ESP32C3)
#error "esp32c3.c is the ESP32-C3 layout: cmake/heapcaps_idf.cmake picks the file of IDF_TARGET"
#endif

enum { T_RAM, T_RETENTION_RAM, T_RTCRAM, T_COUNT };

#define COMMON_CAPS                                                                          \
    (MALLOC_CAP_DEFAULT | MALLOC_CAP_INTERNAL | MALLOC_CAP_32BIT | MALLOC_CAP_8BIT | \
     HEAPCAPS_EXEC_CAPS)

/* The top 128 KiB block is the one retention DMA can reach: it is kept for RETENTION requests
 * and used for everything else only after the other blocks. */
const heapcaps_layout_type_t soc_memory_types[T_COUNT] = {
    [T_RAM] = { "RAM", { COMMON_CAPS | MALLOC_CAP_DMA, 0, 0 } },
    [T_RETENTION_RAM] = { "Retention RAM", { MALLOC_CAP_RETENTION, COMMON_CAPS | MALLOC_CAP_DMA, 0 } },
    [T_RTCRAM] = { "RTCRAM", { MALLOC_CAP_RTCRAM, 0, COMMON_CAPS } },
};
const size_t soc_memory_type_count = T_COUNT;

/* D/IRAM: the instruction bus sees the same bytes this far above the data bus. */
#define I_D_OFFSET (0x40380000 - 0x3FC80000)
/* The ROM's startup stack (8 KiB below 0x3FCDE710) and what follows it up to the end of D/IRAM
 * become heap once the scheduler runs. */
#define STARTUP_STACK_LO 0x3FCDC710
#define DIRAM_HI 0x3FCE0000
/* RTC memory (8 KiB, one bank: "fast" and "slow" RTC data share it). */
#define RTC_LO 0x50000000

const heapcaps_layout_region_t soc_memory_regions[] = {
    { 0x3FC80000, 0x20000, T_RAM, 0x3FC80000 + I_D_OFFSET, false },
    { 0x3FCA0000, 0x20000, T_RAM, 0x3FCA0000 + I_D_OFFSET, false },
    { 0x3FCC0000, STARTUP_STACK_LO - 0x3FCC0000, T_RETENTION_RAM, 0x3FCC0000 + I_D_OFFSET, false },
    { STARTUP_STACK_LO, DIRAM_HI - STARTUP_STACK_LO, T_RETENTION_RAM, STARTUP_STACK_LO + I_D_OFFSET,
      true },
#ifdef CONFIG_ESP_SYSTEM_ALLOW_RTC_FAST_MEM_AS_HEAP
    { RTC_LO, 0x2000, T_RTCRAM, 0, false },
#endif
};
const size_t soc_memory_region_count = sizeof soc_memory_regions / sizeof soc_memory_regions[0];

/* ---- Reserved ranges ---- */

/* Symbols of ESP-IDF's common RISC-V linker scripts (components/esp_system/ld/ld.*.sections). */
extern char _data_start, _heap_start, _iram_start, _iram_end;
extern char _rtc_force_slow_end, _rtc_reserved_start, _rtc_reserved_end;

/* The app's .data/.bss (and rodata placed in DRAM). */
HEAPCAPS_RESERVE(app_dram, HEAPCAPS_LD(_data_start), HEAPCAPS_LD(_heap_start));
/* The app's IRAM code seen from the data bus: code and data share the D/IRAM blocks. */
HEAPCAPS_RESERVE(app_iram, HEAPCAPS_LD(_iram_start) - I_D_OFFSET, HEAPCAPS_LD(_iram_end) - I_D_OFFSET);

/* RTC memory as heap: what the app's RTC sections use stays theirs; all of them (the "fast" ones
 * too) are in the one bank and end at _rtc_force_slow_end. */
#ifdef CONFIG_ESP_SYSTEM_ALLOW_RTC_FAST_MEM_AS_HEAP
HEAPCAPS_RESERVE(app_rtc, RTC_LO, HEAPCAPS_LD(_rtc_force_slow_end));
#endif

/* Fixed-address RTC data of the bootloader and the RTC timer (top of RTC memory). */
HEAPCAPS_RESERVE(rtc_fixed, HEAPCAPS_LD(_rtc_reserved_start), HEAPCAPS_LD(_rtc_reserved_end));
