/*
 * heapcaps: the older name of heap_memory_layout.h, kept because many ESP-IDF components include
 * it (esp_libc, esp_system, pthread, spi_flash, ...). Most of them want the esp_ptr_* address
 * checks of esp_memory_utils.h (esp_hw_support), which this header therefore brings along on a
 * device build.
 */
#ifndef HEAPCAPS_SOC_SOC_MEMORY_LAYOUT_H
#define HEAPCAPS_SOC_SOC_MEMORY_LAYOUT_H

#include "heap_memory_layout.h"
#ifdef ESP_PLATFORM
#include "esp_memory_utils.h"
#endif

#endif /* HEAPCAPS_SOC_SOC_MEMORY_LAYOUT_H */
