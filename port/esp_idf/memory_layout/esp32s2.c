/*
 * ESP32-S2 memory layout for heapcaps' heap_caps_init: memory types, RAM regions and the reserved
 * ranges (ROM data, the app's IRAM code and static data, RTC data, ...). The same facts as the
 * simulated esp32s2 of src/caps/chips.rs (tests/memory_layout.rs compares them).
 */
#include "layout.h"

#if defined(ESP_PLATFORM) && !defined(CONFIG_IDF_TARGET_ESP32S2)
#error "esp32s2.c is the ESP32-S2 layout: cmake/heapcaps_idf.cmake picks the file of IDF_TARGET"
#endif

enum { T_RAM, T_SPIRAM, T_RTCRAM, T_COUNT };

#define COMMON_CAPS (MALLOC_CAP_DEFAULT | MALLOC_CAP_32BIT | MALLOC_CAP_8BIT)

/* PSRAM and RTC fast memory only serve plain requests once no D/IRAM block can. */
const heapcaps_layout_type_t soc_memory_types[T_COUNT] = {
    [T_RAM] = { "RAM",
                { COMMON_CAPS | MALLOC_CAP_INTERNAL | MALLOC_CAP_DMA | HEAPCAPS_EXEC_CAPS, 0,
                  0 } },
    [T_SPIRAM] = { "SPIRAM", { MALLOC_CAP_SPIRAM, 0, COMMON_CAPS } },
    [T_RTCRAM] = { "RTCRAM",
                   { MALLOC_CAP_RTCRAM, 0, COMMON_CAPS | MALLOC_CAP_INTERNAL | HEAPCAPS_EXEC_CAPS } },
};
const size_t soc_memory_type_count = T_COUNT;

/* D/IRAM: the instruction bus sees the same bytes this far above the data bus. */
#define I_D_OFFSET (0x40020000 - 0x3FFB0000)
/* The caches take the lowest 8 KiB blocks of D/IRAM (0x3FFB0000..0x3FFB8000, blocks 0..3): the
 * instruction cache first, then the data cache. Kconfig's choices (8 or 16 KiB of I-cache, 0, 8 or
 * 16 KiB of D-cache) decide where the heap's part starts. */
#ifdef CONFIG_ESP32S2_INSTRUCTION_CACHE_8KB
#define ICACHE_BYTES 0x2000
#else
#define ICACHE_BYTES 0x4000
#endif
#if defined(CONFIG_ESP32S2_DATA_CACHE_0KB)
#define DCACHE_BYTES 0
#elif defined(CONFIG_ESP32S2_DATA_CACHE_8KB)
#define DCACHE_BYTES 0x2000
#else
#define DCACHE_BYTES 0x4000
#endif
#define CACHE_END (0x3FFB0000 + ICACHE_BYTES + DCACHE_BYTES)
/* PSRAM window of the data bus (10.5 MiB); esp_psram adds what the chip has at startup. */
#define PSRAM_LO 0x3F500000
#define PSRAM_HI 0x3FF80000
/* RTC fast memory (8 KiB), data bus view; the instruction bus sees it at 0x40070000. */
#define RTC_FAST_LO 0x3FF9E000

#define DIRAM(a, size, stack) { (a), (size), T_RAM, (a) + I_D_OFFSET, (stack) }
/* The 16 KiB blocks 4..21; the ROM's startup stack is at the top of block 21. */
#define BLOCK(n) DIRAM(0x3FFB8000 + 0x4000 * ((n) - 4), 0x4000, (n) == 21)

/* Regions in ascending address order (heapcaps' boot merges neighbours and takes the first
 * byte-accessible internal heap as the lowest one; ESP-IDF lists RTC memory last). */
const heapcaps_layout_region_t soc_memory_regions[] = {
#ifdef CONFIG_SPIRAM
    { PSRAM_LO, PSRAM_HI - PSRAM_LO, T_SPIRAM, 0, false },
#endif
#ifdef CONFIG_ESP_SYSTEM_ALLOW_RTC_FAST_MEM_AS_HEAP
    { RTC_FAST_LO, 0x2000, T_RTCRAM, 0x40070000, false },
#endif
#if CACHE_END <= 0x3FFB2000
    DIRAM(0x3FFB2000, 0x2000, false),
#endif
#if CACHE_END <= 0x3FFB4000
    DIRAM(0x3FFB4000, 0x2000, false),
#endif
#if CACHE_END <= 0x3FFB6000
    DIRAM(0x3FFB6000, 0x2000, false),
#endif
    BLOCK(4),  BLOCK(5),  BLOCK(6),  BLOCK(7),  BLOCK(8),  BLOCK(9),
    BLOCK(10), BLOCK(11), BLOCK(12), BLOCK(13), BLOCK(14), BLOCK(15),
    BLOCK(16), BLOCK(17), BLOCK(18), BLOCK(19), BLOCK(20), BLOCK(21),
};
const size_t soc_memory_region_count = sizeof soc_memory_regions / sizeof soc_memory_regions[0];

/* ---- Reserved ranges ---- */

/* Symbols of ESP-IDF's esp32s2 linker scripts (components/esp_system/ld/esp32s2) and of the ROM's
 * (components/esp_rom/esp32s2/ld/esp32s2.rom.ld: where the ROM's own data starts). */
extern char _data_start, _heap_start, _iram_start, _iram_end;
extern char _rtc_force_fast_end, _rtc_noinit_end, _rtc_reserved_start, _rtc_reserved_end;
extern char _dram0_rtos_reserved_start;

/* The ROM's .data/.bss at the top of D/IRAM. */
HEAPCAPS_RESERVE(rom_data, HEAPCAPS_LD(_dram0_rtos_reserved_start), 0x40000000);
/* The app's .data/.bss (and rodata placed in DRAM). */
HEAPCAPS_RESERVE(app_dram, HEAPCAPS_LD(_data_start), HEAPCAPS_LD(_heap_start));
/* The app's IRAM code seen from the data bus: code and data share the D/IRAM blocks. */
HEAPCAPS_RESERVE(app_iram, HEAPCAPS_LD(_iram_start) - I_D_OFFSET, HEAPCAPS_LD(_iram_end) - I_D_OFFSET);

/* The whole PSRAM window: esp_psram registers the part that exists as a heap of its own. */
#ifdef CONFIG_SPIRAM
HEAPCAPS_RESERVE(psram, PSRAM_LO, PSRAM_HI);
#endif

/* Trace memory of the app_trace component: half of the reservation at the start of each of the
 * two TRAX blocks (16 KiB blocks 19 and 20). */
#if defined(CONFIG_ESP32S2_TRACEMEM_RESERVE_DRAM) && CONFIG_ESP32S2_TRACEMEM_RESERVE_DRAM > 0
#define TRAX_BLK0 (0x3FFB8000 + 0x4000 * (19 - 4))
#define TRAX_BLK1 (0x3FFB8000 + 0x4000 * (20 - 4))
HEAPCAPS_RESERVE(trace_mem0, TRAX_BLK0, TRAX_BLK0 + CONFIG_ESP32S2_TRACEMEM_RESERVE_DRAM / 2);
HEAPCAPS_RESERVE(trace_mem1, TRAX_BLK1, TRAX_BLK1 + CONFIG_ESP32S2_TRACEMEM_RESERVE_DRAM / 2);
#endif

/* RTC fast memory as heap: what the app's RTC sections use stays theirs. Where the last of them
 * ends depends on whether RTC data goes to fast memory too. (RTC code, on the instruction bus,
 * occupies the same bytes first: the data-bus sections start after it.) */
#ifdef CONFIG_ESP_SYSTEM_ALLOW_RTC_FAST_MEM_AS_HEAP
#ifdef CONFIG_ESP32S2_RTCDATA_IN_FAST_MEM
HEAPCAPS_RESERVE(app_rtc_fast, RTC_FAST_LO, HEAPCAPS_LD(_rtc_noinit_end));
#else
HEAPCAPS_RESERVE(app_rtc_fast, RTC_FAST_LO, HEAPCAPS_LD(_rtc_force_fast_end));
#endif
#endif

/* Fixed-address RTC data of the bootloader and the RTC timer (top of RTC fast memory). */
HEAPCAPS_RESERVE(rtc_fixed, HEAPCAPS_LD(_rtc_reserved_start), HEAPCAPS_LD(_rtc_reserved_end));
