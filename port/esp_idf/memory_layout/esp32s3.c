/*
 * ESP32-S3 memory layout for heapcaps' heap_caps_init: memory types, RAM regions and the reserved
 * ranges (the app's IRAM code and static data, RTC data, ...). The same facts as the simulated
 * esp32s3 of src/caps/chips.rs (tests/memory_layout.rs compares them).
 */
#include "layout.h"

#if defined(ESP_PLATFORM) && !defined(CONFIG_IDF_TARGET_ESP32S3)
#error "esp32s3.c is the ESP32-S3 layout: cmake/heapcaps_idf.cmake picks the file of IDF_TARGET"
#endif

enum { T_RAM, T_DRAM, T_IRAM, T_SPIRAM, T_RTCRAM, T_COUNT };

#define COMMON_CAPS (MALLOC_CAP_DEFAULT | MALLOC_CAP_32BIT | MALLOC_CAP_8BIT)

const heapcaps_layout_type_t soc_memory_types[T_COUNT] = {
    [T_RAM] = { "RAM",
                { COMMON_CAPS | MALLOC_CAP_INTERNAL | MALLOC_CAP_DMA | MALLOC_CAP_RETENTION |
                      HEAPCAPS_EXEC_CAPS | MALLOC_CAP_SIMD,
                  0, 0 } },
    /* Data-cache memory given to the heap: DMA-capable, but not for retention DMA. */
    [T_DRAM] = { "DRAM",
                 { 0, COMMON_CAPS | MALLOC_CAP_INTERNAL | MALLOC_CAP_DMA | MALLOC_CAP_SIMD, 0 } },
    [T_IRAM] = { "IRAM", { HEAPCAPS_EXEC_CAPS, MALLOC_CAP_32BIT | MALLOC_CAP_INTERNAL, 0 } },
    [T_SPIRAM] = { "SPIRAM", { MALLOC_CAP_SPIRAM, 0, COMMON_CAPS | MALLOC_CAP_SIMD } },
    [T_RTCRAM] = { "RTCRAM",
                   { MALLOC_CAP_RTCRAM, 0, COMMON_CAPS | MALLOC_CAP_INTERNAL | HEAPCAPS_EXEC_CAPS } },
};
const size_t soc_memory_type_count = T_COUNT;

/* D/IRAM: the instruction bus sees the same bytes this far above the data bus. */
#define I_D_OFFSET (0x40378000 - 0x3FC88000)
/* The ROM's startup stack (8 KiB below 0x3FCEB710) and what follows it up to the end of D/IRAM
 * become heap once the scheduler runs. */
#define STARTUP_STACK_LO 0x3FCE9710
#define DIRAM_HI 0x3FCF0000
/* PSRAM window of the data bus (32 MiB); esp_psram adds what the chip has at startup. */
#define PSRAM_LO 0x3C000000
#define PSRAM_HI 0x3E000000
/* RTC fast memory (8 KiB). */
#define RTC_FAST_LO 0x600FE000

#define DIRAM(a, size) { (a), (size), T_RAM, (a) + I_D_OFFSET, false }

/* Regions in ascending address order (heapcaps' boot merges neighbours and takes the first
 * byte-accessible internal heap as the lowest one; ESP-IDF lists the I-cache block first). */
const heapcaps_layout_region_t soc_memory_regions[] = {
#ifdef CONFIG_ESP32S3_DATA_CACHE_16KB
    /* Data-cache memory a 16 KiB data cache leaves free (ESP-IDF's address for it). */
    { 0x3C000000, 0x4000, T_DRAM, 0, false },
#endif
#ifdef CONFIG_SPIRAM
    { PSRAM_LO, PSRAM_HI - PSRAM_LO, T_SPIRAM, 0, false },
#endif
    DIRAM(0x3FC88000, 0x8000),
    DIRAM(0x3FC90000, 0x10000),
    DIRAM(0x3FCA0000, 0x10000),
    DIRAM(0x3FCB0000, 0x10000),
    DIRAM(0x3FCC0000, 0x10000),
    DIRAM(0x3FCD0000, 0x10000),
    DIRAM(0x3FCE0000, STARTUP_STACK_LO - 0x3FCE0000),
    { STARTUP_STACK_LO, DIRAM_HI - STARTUP_STACK_LO, T_RAM, STARTUP_STACK_LO + I_D_OFFSET, true },
#if defined(CONFIG_ESP32S3_DATA_CACHE_16KB) || defined(CONFIG_ESP32S3_DATA_CACHE_32KB)
    /* The data-cache block a data cache below 64 KiB leaves free. */
    { 0x3FCF0000, 0x8000, T_DRAM, 0, false },
#endif
#if defined(CONFIG_ESP32S3_INSTRUCTION_CACHE_16KB) && !defined(CONFIG_ESP_SYSTEM_MEMPROT)
    /* The upper half of the instruction-cache block a 16 KiB I-cache leaves free. */
    { 0x40374000, 0x4000, T_IRAM, 0, false },
#endif
#ifdef CONFIG_ESP_SYSTEM_ALLOW_RTC_FAST_MEM_AS_HEAP
    { RTC_FAST_LO, 0x2000, T_RTCRAM, 0, false },
#endif
};
const size_t soc_memory_region_count = sizeof soc_memory_regions / sizeof soc_memory_regions[0];

/* ---- Reserved ranges ---- */

/* Symbols of ESP-IDF's esp32s3 linker scripts (components/esp_system/ld/esp32s3). */
extern char _data_start, _heap_start, _iram_start, _iram_end;
extern char _rtc_force_fast_end, _rtc_noinit_end, _rtc_reserved_start, _rtc_reserved_end;

/* The app's .data/.bss (and rodata placed in DRAM). */
HEAPCAPS_RESERVE(app_dram, HEAPCAPS_LD(_data_start), HEAPCAPS_LD(_heap_start));
/* The app's IRAM code seen from the data bus: code and data share the D/IRAM blocks. */
HEAPCAPS_RESERVE(app_iram, HEAPCAPS_LD(_iram_start) - I_D_OFFSET, HEAPCAPS_LD(_iram_end) - I_D_OFFSET);
/* ... and from the instruction bus, where code starts in the I-cache block's free half. */
#ifdef CONFIG_ESP32S3_INSTRUCTION_CACHE_16KB
HEAPCAPS_RESERVE(app_iram_icache, HEAPCAPS_LD(_iram_start), HEAPCAPS_LD(_iram_end));
#endif

/* The whole PSRAM window: esp_psram registers the part that exists as a heap of its own. */
#ifdef CONFIG_SPIRAM
HEAPCAPS_RESERVE(psram, PSRAM_LO, PSRAM_HI);
#endif

/* Trace memory of the app_trace component: half of the reservation in each of the two TRAX
 * blocks (16 KiB blocks 22 and 26 of the D/IRAM). */
#if defined(CONFIG_ESP32S3_TRACEMEM_RESERVE_DRAM) && CONFIG_ESP32S3_TRACEMEM_RESERVE_DRAM > 0
#define TRAX_BLK0 (0x3FC90000 + 0x4000 * (22 - 6))
#define TRAX_BLK1 (0x3FC90000 + 0x4000 * (26 - 6))
HEAPCAPS_RESERVE(trace_mem0, TRAX_BLK0, TRAX_BLK0 + CONFIG_ESP32S3_TRACEMEM_RESERVE_DRAM / 2);
HEAPCAPS_RESERVE(trace_mem1, TRAX_BLK1, TRAX_BLK1 + CONFIG_ESP32S3_TRACEMEM_RESERVE_DRAM / 2);
#endif

/* RTC fast memory as heap: what the app's RTC sections use stays theirs. Where the last of them
 * ends depends on whether RTC data goes to fast memory too. */
#ifdef CONFIG_ESP_SYSTEM_ALLOW_RTC_FAST_MEM_AS_HEAP
#ifdef CONFIG_ESP32S3_RTCDATA_IN_FAST_MEM
HEAPCAPS_RESERVE(app_rtc_fast, RTC_FAST_LO, HEAPCAPS_LD(_rtc_noinit_end));
#else
HEAPCAPS_RESERVE(app_rtc_fast, RTC_FAST_LO, HEAPCAPS_LD(_rtc_force_fast_end));
#endif
#endif

/* Fixed-address RTC data of the bootloader and the RTC timer (top of RTC fast memory). */
HEAPCAPS_RESERVE(rtc_fixed, HEAPCAPS_LD(_rtc_reserved_start), HEAPCAPS_LD(_rtc_reserved_end));
