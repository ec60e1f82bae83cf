/*
 * Minimal stand-ins for what ESP-IDF provides to heapcaps on a chip (the port shim's functions,
 * errno, the hardware alignment hook and the memory layout tables), so the size program links.
 * They are deliberately trivial: the size report counts heapcaps' own archive, not these.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void heapcaps_port_lock(void *lock) { (void)lock; }
void heapcaps_port_unlock(void *lock) { (void)lock; }
void heapcaps_port_write(const uint8_t *bytes, size_t len) { (void)bytes; (void)len; }
/* In the mask ROM of every chip (esp_rom_printf = ets_printf in ESP-IDF's ROM linker scripts). */
int esp_rom_printf(const char *fmt, ...) { (void)fmt; return 0; }
__attribute__((noreturn)) void heapcaps_port_abort(void) { for (;;) { } }
void *heapcaps_port_task_handle(void) { return NULL; }
bool heapcaps_port_diram(uintptr_t out[4]) { (void)out; return false; }
intptr_t heapcaps_port_rom_reserved_start(void) { return 0; }
void esp_heap_adjust_alignment_to_hw(size_t *alignment, size_t *size, uint32_t *caps)
{
    (void)alignment; (void)size; (void)caps;
}

/* Empty layout tables (heap_caps_init then registers nothing). */
struct type_desc { const char *name; uint32_t caps[3]; };
struct region { intptr_t start; size_t size; size_t type; intptr_t iram; bool stack; };
struct reserved { intptr_t start, end; };
const struct type_desc soc_memory_types[1];
const size_t soc_memory_type_count = 0;
const struct region soc_memory_regions[1];
const size_t soc_memory_region_count = 0;
/* No reserved ranges: start == end (the linker script brackets a section with these on a chip). */
const struct reserved soc_reserved_memory_regions[1];
extern const struct reserved soc_reserved_memory_region_start[1]
    __attribute__((alias("soc_reserved_memory_regions")));
extern const struct reserved soc_reserved_memory_region_end[1]
    __attribute__((alias("soc_reserved_memory_regions")));
