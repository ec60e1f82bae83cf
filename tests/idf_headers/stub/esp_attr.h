/* Stand-in for esp_common's esp_attr.h (tests/idf_headers.rs): IRAM_ATTR as a section name the
 * host linker accepts. */
#pragma once
#define IRAM_ATTR __attribute__((section(".text.heapcaps_test_iram")))
