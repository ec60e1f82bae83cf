/*
 * ESP32 memory layout for heapcaps' heap_caps_init: memory types, RAM regions and the reserved
 * ranges (ROM data, CPU caches, the app's static data and IRAM code, ...). The same facts as the
 * simulated esp32 of src/caps/chips.rs (tests/memory_layout.rs compares them).
 */
#include "layout.h"

#if defined(ESP_PLATFORM) && !defined(CONFIG_IDF_TARGET_ESP32)
#error "esp32.c is the ESP32 layout: cmake/heapcaps_idf.cmake picks the file of IDF_TARGET"
#endif

enum { T_DRAM, T_DIRAM, T_IRAM, T_SPIRAM, T_RTCRAM, T_COUNT };

/* Byte access to IRAM (emulated by an exception handler) is an app option. */
#ifdef CONFIG_ESP32_IRAM_AS_8BIT_ACCESSIBLE_MEMORY
#define IRAM_BYTE_CAPS MALLOC_CAP_IRAM_8BIT
#else
#define IRAM_BYTE_CAPS 0
#endif

/* The D/IRAM blocks double as the ROM's startup stack and hold executable memory, so plain
 * allocations take them last and EXEC requests use them only as a fallback. */
const heapcaps_layout_type_t soc_memory_types[T_COUNT] = {
    [T_DRAM] = { "DRAM",
                 { MALLOC_CAP_8BIT | MALLOC_CAP_DEFAULT,
                   MALLOC_CAP_INTERNAL | MALLOC_CAP_DMA | MALLOC_CAP_32BIT, 0 } },
    [T_DIRAM] = { "D/IRAM",
                  { 0, MALLOC_CAP_DMA | MALLOC_CAP_8BIT | MALLOC_CAP_INTERNAL | MALLOC_CAP_DEFAULT,
                    MALLOC_CAP_32BIT | MALLOC_CAP_EXEC } },
    [T_IRAM] = { "IRAM",
                 { MALLOC_CAP_INTERNAL | MALLOC_CAP_EXEC | MALLOC_CAP_32BIT | IRAM_BYTE_CAPS, 0,
                   0 } },
    [T_SPIRAM] = { "SPIRAM",
                   { MALLOC_CAP_SPIRAM | MALLOC_CAP_DEFAULT, 0, MALLOC_CAP_8BIT | MALLOC_CAP_32BIT } },
    [T_RTCRAM] = { "RTCRAM",
                   { MALLOC_CAP_RTCRAM, MALLOC_CAP_8BIT | MALLOC_CAP_DEFAULT,
                     MALLOC_CAP_INTERNAL | MALLOC_CAP_32BIT | MALLOC_CAP_EXEC } },
};
const size_t soc_memory_type_count = T_COUNT;

/* PSRAM window of the data bus (4 MiB); esp_psram adds what the chip really has at startup. */
#define PSRAM_LO 0x3F800000
#define PSRAM_HI 0x3FC00000
/* RTC fast memory, data bus view (8 KiB). */
#define RTC_FAST_LO 0x3FF80000

/* Regions in ascending address order (heapcaps' boot merges neighbours and takes the first
 * byte-accessible internal heap as the lowest one; ESP-IDF lists RTC memory last). Most SRAM is cut at 8 KiB MMU-page or pool
 * boundaries so that reserved ranges (caches, trace memory, Bluetooth) fall on region edges. */
#define DRAM8K(a) { (a), 0x2000, T_DRAM, 0, false }
#define IRAM8K(a) { (a), 0x2000, T_IRAM, 0, false }
const heapcaps_layout_region_t soc_memory_regions[] = {
#ifdef CONFIG_SPIRAM
    { PSRAM_LO, PSRAM_HI - PSRAM_LO, T_SPIRAM, 0, false },
#endif
#ifdef CONFIG_ESP_SYSTEM_ALLOW_RTC_FAST_MEM_AS_HEAP
    /* (Offered to single-core apps only: only the PRO CPU reaches RTC fast memory.) */
    { RTC_FAST_LO, 0x2000, T_RTCRAM, 0, false },
#endif
    DRAM8K(0x3FFAE000), /* partly ROM data, reserved below */
    { 0x3FFB0000, 0x8000, T_DRAM, 0, false },
    { 0x3FFB8000, 0x8000, T_DRAM, 0, false },
    DRAM8K(0x3FFC0000), DRAM8K(0x3FFC2000), DRAM8K(0x3FFC4000), DRAM8K(0x3FFC6000),
    DRAM8K(0x3FFC8000), DRAM8K(0x3FFCA000), DRAM8K(0x3FFCC000), DRAM8K(0x3FFCE000),
    DRAM8K(0x3FFD0000), DRAM8K(0x3FFD2000), DRAM8K(0x3FFD4000), DRAM8K(0x3FFD6000),
    DRAM8K(0x3FFD8000), DRAM8K(0x3FFDA000), DRAM8K(0x3FFDC000), DRAM8K(0x3FFDE000),
    /* D/IRAM: the instruction bus sees these blocks in reverse order (iram_address). */
    { 0x3FFE0000, 0x4000, T_DIRAM, 0x400BC000, true },
    { 0x3FFE4000, 0x4000, T_DIRAM, 0x400B8000, true },
    { 0x3FFE8000, 0x8000, T_DIRAM, 0x400B0000, true },
    { 0x3FFF0000, 0x8000, T_DIRAM, 0x400A8000, true },
    { 0x3FFF8000, 0x4000, T_DIRAM, 0x400A4000, true },
    { 0x3FFFC000, 0x4000, T_DIRAM, 0x400A0000, true },
    { 0x40070000, 0x8000, T_IRAM, 0, false }, /* PRO CPU cache, reserved below */
    { 0x40078000, 0x8000, T_IRAM, 0, false }, /* APP CPU cache, reserved unless single core */
    IRAM8K(0x40080000), IRAM8K(0x40082000), IRAM8K(0x40084000), IRAM8K(0x40086000),
    IRAM8K(0x40088000), IRAM8K(0x4008A000), IRAM8K(0x4008C000), IRAM8K(0x4008E000),
    IRAM8K(0x40090000), IRAM8K(0x40092000), IRAM8K(0x40094000), IRAM8K(0x40096000),
    IRAM8K(0x40098000), IRAM8K(0x4009A000), IRAM8K(0x4009C000), IRAM8K(0x4009E000),
};
const size_t soc_memory_region_count = sizeof soc_memory_regions / sizeof soc_memory_regions[0];

/* ---- Reserved ranges ---- */

/* Cache memory of each CPU (the APP CPU's is free RAM in single-core mode). */
HEAPCAPS_RESERVE(pro_cpu_cache, 0x40070000, 0x40078000);
#ifndef CONFIG_ESP_SYSTEM_SINGLE_CORE_MODE
HEAPCAPS_RESERVE(app_cpu_cache, 0x40078000, 0x40080000);
#endif

/* Static data of ROM functions the app still calls (UART, ETS) in the startup-stack block, and
 * the APP CPU's ROM data. The ROM stack itself needs no entry: startup-stack regions become heap
 * only once the scheduler runs. */
HEAPCAPS_RESERVE(rom_data, 0x3FFAE000, 0x3FFAE6E0);
HEAPCAPS_RESERVE(rom_pro_cpu_data, 0x3FFE0000, 0x3FFE0440);
#ifndef CONFIG_ESP_SYSTEM_SINGLE_CORE_MODE
HEAPCAPS_RESERVE(rom_app_cpu_data, 0x3FFE3F20, 0x3FFE4350);
#endif

/* Trace memory of the app_trace component: the top 16 KiB of D/IRAM, or 32 KiB for two CPUs. */
#ifdef CONFIG_ESP32_MEMMAP_TRACEMEM
#ifdef CONFIG_ESP32_MEMMAP_TRACEMEM_TWOBANKS
HEAPCAPS_RESERVE(trace_mem, 0x3FFF8000, 0x40000000);
#else
HEAPCAPS_RESERVE(trace_mem, 0x3FFFC000, 0x40000000);
#endif
#endif

/* The whole PSRAM window: esp_psram registers the part that exists as a heap of its own. */
#ifdef CONFIG_SPIRAM
HEAPCAPS_RESERVE(psram, PSRAM_LO, PSRAM_HI);
#endif

/* Symbols of ESP-IDF's esp32 linker scripts (components/esp_system/ld/esp32). */
extern char _data_start, _heap_start, _heap_end, _iram_start, _iram_end;
extern char _rtc_force_fast_end, _rtc_noinit_end;
extern char _rtc_fast_reserved_start, _rtc_fast_reserved_end;
extern char _rtc_slow_reserved_start, _rtc_slow_reserved_end;

/* The app's .data/.bss (and rodata placed in DRAM) and its IRAM code. */
HEAPCAPS_RESERVE(app_dram, HEAPCAPS_LD(_data_start), HEAPCAPS_LD(_heap_start));
HEAPCAPS_RESERVE(app_iram, HEAPCAPS_LD(_iram_start), HEAPCAPS_LD(_iram_end));

/* IRAM code that overflows into the D/IRAM blocks: it grows up from 0x400A0000 on the instruction
 * bus, which is down from 0x40000000 on the data bus, and the linker script sets _heap_end there. */
#ifdef CONFIG_ESP_SYSTEM_ESP32_SRAM1_REGION_AS_IRAM
HEAPCAPS_RESERVE(app_iram_in_diram, HEAPCAPS_LD(_heap_end), 0x40000000);
#endif

/* RTC fast memory as heap: what the app's RTC sections use stays theirs. Where the last of them
 * ends depends on whether RTC data goes to fast memory too. */
#ifdef CONFIG_ESP_SYSTEM_ALLOW_RTC_FAST_MEM_AS_HEAP
#ifdef CONFIG_ESP32_RTCDATA_IN_FAST_MEM
HEAPCAPS_RESERVE(app_rtc_fast, RTC_FAST_LO, HEAPCAPS_LD(_rtc_noinit_end));
#else
HEAPCAPS_RESERVE(app_rtc_fast, RTC_FAST_LO, HEAPCAPS_LD(_rtc_force_fast_end));
#endif
#endif

/* Fixed-address RTC data of the bootloader and the RTC timer. */
HEAPCAPS_RESERVE(rtc_fast_fixed, HEAPCAPS_LD(_rtc_fast_reserved_start), HEAPCAPS_LD(_rtc_fast_reserved_end));
HEAPCAPS_RESERVE(rtc_slow_fixed, HEAPCAPS_LD(_rtc_slow_reserved_start), HEAPCAPS_LD(_rtc_slow_reserved_end));
