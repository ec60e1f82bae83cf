/*
 * ESP32-C6 memory layout for heapcaps' heap_caps_init: memory types, RAM regions and the reserved
 * ranges (the app's code and static data, LP RAM data, TEE and ULP memory). The same facts as the
 * simulated esp32c6 of src/caps/chips.rs (tests/memory_layout.rs compares them).
 */
#include "layout.h"

#if defined(ESP_PLATFORM) && !defined(CONFIG_IDF_TARGET_ESP32C6)
#error "esp32c6.c is the ESP32-C6 layout: cmake/heapcaps_idf.cmake picks the file of IDF_TARGET"
#endif

enum { T_RAM, T_RTCRAM, T_COUNT };

#define COMMON_CAPS                                                                          \
    (MALLOC_CAP_DEFAULT | MALLOC_CAP_INTERNAL | MALLOC_CAP_32BIT | MALLOC_CAP_8BIT | \
     HEAPCAPS_EXEC_CAPS)

const heapcaps_layout_type_t soc_memory_types[T_COUNT] = {
    [T_RAM] = { "RAM", { COMMON_CAPS | MALLOC_CAP_DMA, 0, 0 } },
    [T_RTCRAM] = { "RTCRAM", { MALLOC_CAP_RTCRAM, COMMON_CAPS, 0 } },
};
const size_t soc_memory_type_count = T_COUNT;

/* HP SRAM has one address for data and instructions (iram_address = start). The ROM's startup
 * stack (8 KiB below 0x4087E610) and what follows it up to the end of SRAM become heap once the
 * scheduler runs. */
#define STARTUP_STACK_LO 0x4087C610
#define SRAM_HI 0x40880000
/* LP RAM (16 KiB), less the secure-boot digest at its end (layout.h). */
#define LP_RAM_LO 0x50000000
#define LP_RAM_HI (0x50004000 - HEAPCAPS_LP_RAM_DIGEST)

#define SRAM(a, size, stack) { (a), (size), T_RAM, (a), (stack) }
const heapcaps_layout_region_t soc_memory_regions[] = {
    SRAM(0x40800000, 0x20000, false),
    SRAM(0x40820000, 0x20000, false),
    SRAM(0x40840000, 0x20000, false),
    SRAM(0x40860000, STARTUP_STACK_LO - 0x40860000, false),
    SRAM(STARTUP_STACK_LO, SRAM_HI - STARTUP_STACK_LO, true),
#ifdef CONFIG_ESP_SYSTEM_ALLOW_RTC_FAST_MEM_AS_HEAP
    { LP_RAM_LO, LP_RAM_HI - LP_RAM_LO, T_RTCRAM, 0, false },
#endif
};
const size_t soc_memory_region_count = sizeof soc_memory_regions / sizeof soc_memory_regions[0];

/* ---- Reserved ranges ---- */

/* Symbols of ESP-IDF's common RISC-V linker scripts (components/esp_system/ld/ld.*.sections) and
 * of esp32c6/memory.ld.in (the ULP's share of HP SRAM). */
extern char _data_start, _heap_start, _iram_start, _iram_end;
extern char _rtc_force_slow_end, _rtc_reserved_start, _rtc_reserved_end;

/* The app's .data/.bss (and rodata placed in SRAM) and its code in SRAM. */
HEAPCAPS_RESERVE(app_dram, HEAPCAPS_LD(_data_start), HEAPCAPS_LD(_heap_start));
HEAPCAPS_RESERVE(app_iram, HEAPCAPS_LD(_iram_start), HEAPCAPS_LD(_iram_end));

/* HP SRAM lent to the LP core's program. */
#ifdef CONFIG_ULP_COPROC_RUN_FROM_HP_MEM
extern char _ulp_hp_mem_resv_start, _ulp_hp_mem_resv_end;
HEAPCAPS_RESERVE(ulp_hp_mem, HEAPCAPS_LD(_ulp_hp_mem_resv_start), HEAPCAPS_LD(_ulp_hp_mem_resv_end));
#endif

/* ESP-TEE's code and data at the bottom of HP SRAM (guarded from the app by memory protection). */
#ifdef CONFIG_SECURE_ENABLE_TEE
HEAPCAPS_RESERVE(tee, 0x40800000,
                 0x40800000 + CONFIG_SECURE_TEE_IRAM_SIZE + CONFIG_SECURE_TEE_DRAM_SIZE);
#endif

/* LP RAM as heap: what the app's RTC sections use stays theirs (they all end at
 * _rtc_force_slow_end). */
#ifdef CONFIG_ESP_SYSTEM_ALLOW_RTC_FAST_MEM_AS_HEAP
HEAPCAPS_RESERVE(app_rtc, LP_RAM_LO, HEAPCAPS_LD(_rtc_force_slow_end));
#endif

/* Fixed-address RTC data of the bootloader and the RTC timer (top of LP RAM). */
HEAPCAPS_RESERVE(rtc_fixed, HEAPCAPS_LD(_rtc_reserved_start), HEAPCAPS_LD(_rtc_reserved_end));
