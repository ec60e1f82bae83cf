/*
 * An ESP-IDF component's view of heapcaps' public headers, compiled by tests/idf_headers.rs with
 * ESP_PLATFORM defined and stand-ins for the ESP-IDF headers they pull in (stub/). Each block
 * repeats what some ESP-IDF component does with the `heap` component's headers. The missing
 * soc/soc_memory_layout.h and the HEAP_IRAM_ATTR redefinition stopped an esp32c3 build of ESP-IDF
 * master (tests/idf_app/README.md); the rest keeps what ESP-IDF's headers provide.
 */

/* multi_heap.h alone declares malloc & co. (it brings <stdlib.h>, as ESP-IDF's does). */
#include "multi_heap.h"
static void *via_multi_heap_h(size_t n)
{
    return malloc(n);
}

#include "esp_heap_caps.h"

/* esp_heap_caps.h brings sdkconfig.h and esp_attr.h (freertos, esp_hw_support rely on it). */
#ifndef HEAPCAPS_TEST_SDKCONFIG_SEEN
#error "esp_heap_caps.h did not include sdkconfig.h"
#endif
#ifndef IRAM_ATTR
#error "esp_heap_caps.h did not include esp_attr.h"
#endif

/* esp_hw_support's heap_align_hw.c defines HEAP_IRAM_ATTR itself after including
 * esp_heap_caps.h, from the same option: the header's definition must be the same tokens, or
 * -Werror stops the build ("HEAP_IRAM_ATTR redefined"). */
#if CONFIG_HEAP_PLACE_FUNCTION_INTO_FLASH
#define HEAP_IRAM_ATTR
#else
#define HEAP_IRAM_ATTR IRAM_ATTR
#endif

HEAP_IRAM_ATTR static int placed(void)
{
    return 1;
}

/* esp_libc, esp_system, pthread, spi_flash, ... include the old header name, mostly for the
 * esp_ptr_* checks of esp_memory_utils.h. */
#include "soc/soc_memory_layout.h"
#include "heap_memory_layout.h" /* twice: include guards */

/* The bt component reserves ROM data this way (with a trailing semicolon); both forms compile. */
SOC_RESERVE_MEMORY_REGION(0x1000, 0x2000, test_with_semicolon);
SOC_RESERVE_MEMORY_REGION(0x3000, 0x4000, test_without_semicolon)

#if UINTPTR_MAX == 0xFFFFFFFFu
/* The record layouts of ESP-IDF's 32-bit chips. */
_Static_assert(sizeof(soc_memory_type_desc_t) == 16, "soc_memory_type_desc_t");
_Static_assert(sizeof(soc_memory_region_t) == 20, "soc_memory_region_t");
_Static_assert(sizeof(soc_reserved_region_t) == 8, "soc_reserved_region_t");
#endif
_Static_assert(SOC_MEMORY_TYPE_NO_PRIOS == 3, "three priority levels");

int main(void)
{
    void *p = via_multi_heap_h(16);
    int ok = placed() == 1 && esp_ptr_byte_accessible(p) &&
             reserved_region_test_with_semicolon.end == 0x2000 &&
             reserved_region_test_without_semicolon.start == 0x3000 &&
             MALLOC_CAP_DEFAULT != 0;
    free(p);
    return ok ? 0 : 1;
}
