/*
 * Shared definitions of heapcaps' per-target memory layout tables (port/esp_idf/memory_layout/
 * <target>.c): the three record layouts heap_caps_init reads through FFI (src/caps/chips.rs,
 * device module) and the macro that adds a reserved range.
 *
 * The target files are compiled by the ESP-IDF build as sources of the `heap` component
 * (cmake/heapcaps_idf.cmake) and, with plain -D options instead of sdkconfig.h, by the host test
 * that compares them with heapcaps' simulated chips (tests/memory_layout.rs). They therefore use
 * plain numbers, not ESP-IDF's soc headers.
 *
 * The record types are those of include/heap_memory_layout.h (ESP-IDF's names, which other
 * components use too); the short heapcaps_layout_* names below are aliases for the table files.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef ESP_PLATFORM
#include "sdkconfig.h"
#endif
#include "esp_heap_caps.h" /* MALLOC_CAP_* */
#include "heap_memory_layout.h"

typedef soc_memory_type_desc_t heapcaps_layout_type_t;
typedef soc_memory_region_t heapcaps_layout_region_t;
typedef soc_reserved_region_t heapcaps_layout_reserved_t;

#if UINTPTR_MAX == 0xFFFFFFFFu
/* The chips are 32-bit: these are the sizes the Rust mirrors assert (src/caps/chips.rs). */
_Static_assert(sizeof(heapcaps_layout_type_t) == 16, "soc_memory_type_desc_t is 16 bytes");
_Static_assert(sizeof(heapcaps_layout_region_t) == 20, "soc_memory_region_t is 20 bytes");
_Static_assert(offsetof(heapcaps_layout_region_t, startup_stack) == 16, "startup_stack at 16");
_Static_assert(sizeof(heapcaps_layout_reserved_t) == 8, "soc_reserved_region_t is 8 bytes");
#endif

/* ESP-IDF's linker scripts collect this section between soc_reserved_memory_region_start and
 * soc_reserved_memory_region_end (components/esp_system/ld). The host test renames it to a C
 * identifier, for which the host linker provides __start_/__stop_ symbols. */
#ifndef HEAPCAPS_RESERVED_SECTION
#define HEAPCAPS_RESERVED_SECTION ".reserved_memory_address"
#endif

/* Reserves [start, end). Not const: other components put writable entries of the same type in
 * the same section, and mixing read-only and writable input sections only draws linker warnings. */
#define HEAPCAPS_RESERVE(name, start, end)                                                      \
    __attribute__((section(HEAPCAPS_RESERVED_SECTION), used)) static heapcaps_layout_reserved_t \
        heapcaps_reserved_##name = { (intptr_t)(start), (intptr_t)(end) }

/* EXEC for RAM that code may run from: none with memory protection on, which keeps data RAM
 * non-executable. */
#ifdef CONFIG_ESP_SYSTEM_MEMPROT
#define HEAPCAPS_EXEC_CAPS 0
#else
#define HEAPCAPS_EXEC_CAPS MALLOC_CAP_EXEC
#endif

/* Bytes at the end of LP RAM where the ROM's fast-wakeup path keeps the image digest when secure
 * boot is on (SHA-384 with ECDSA P-384 keys, else SHA-256): never heap. */
#if defined(CONFIG_SECURE_BOOT) && defined(CONFIG_SECURE_BOOT_ECDSA_KEY_LEN_384_BITS)
#define HEAPCAPS_LP_RAM_DIGEST 48
#elif defined(CONFIG_SECURE_BOOT)
#define HEAPCAPS_LP_RAM_DIGEST 32
#else
#define HEAPCAPS_LP_RAM_DIGEST 0
#endif

/* The address of a linker script symbol, as an integer. */
#define HEAPCAPS_LD(sym) ((intptr_t)&(sym))
