/* Stand-in for esp_hw_support's esp_memory_utils.h (tests/idf_headers.rs): one address check of
 * the esp_ptr_* family, which is what most includers of soc/soc_memory_layout.h are after. */
#pragma once
#include <stdbool.h>
static inline bool esp_ptr_byte_accessible(const void *p)
{
    return p != 0;
}
