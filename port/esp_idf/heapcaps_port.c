/*
 * heapcaps platform port for ESP-IDF: the C functions src/port/espidf.rs declares, mapped to
 * FreeRTOS critical sections, the ROM console, ESP-IDF's abort and the FreeRTOS task handle,
 * plus the startup hook that registers the chip's heaps.
 *
 * Built by ESP-IDF as an ordinary source of the `heap` component (cmake/heapcaps_idf.cmake), so
 * it gets the app's compiler, flags, sdkconfig.h and include directories.
 *
 * Everything here may run with the flash cache disabled (allocation from ISRs), so it is placed in
 * IRAM unless CONFIG_HEAP_PLACE_FUNCTION_INTO_FLASH; see linker.lf.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sdkconfig.h"
#include "esp_attr.h"
#include "esp_err.h"
#include "esp_rom_sys.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "soc/soc.h"
#include "esp_rom_caps.h"
#if ESP_ROM_HAS_LAYOUT_TABLE
#include "rom/rom_layout.h"
#endif
#include "esp_heap_caps_init.h"
#include "esp_private/startup_internal.h"

#ifdef CONFIG_HEAP_PLACE_FUNCTION_INTO_FLASH
#define HEAPCAPS_PORT_ATTR
#else
#define HEAPCAPS_PORT_ATTR IRAM_ATTR
#endif

/* The Rust side hands out 8-byte lock objects: make sure a portMUX_TYPE still fits. */
_Static_assert(sizeof(portMUX_TYPE) == 8, "heapcaps assumes an 8-byte portMUX_TYPE");

/* Referenced with `-u` by the component so this object (and the init hook below) is always
 * linked, even though only the Rust archive calls the functions here. */
const int heapcaps_port_include = 1;

/* Locks the Rust side creates start as zero bytes (src/port/espidf.rs LOCK_INIT), so that the
 * statics holding them (the heap registry: 2.6 KB) are .bss rather than .data, whose initial
 * image would also take flash. An owner of 0 is never a valid portMUX state (unlocked is
 * portMUX_FREE_VAL, locked is a core id), so it marks a lock that was never used: the first user
 * stores the unlocked value, under a statically initialised mux so that two cores (or a task and
 * an ISR) cannot both do it, the second one after the first has already taken the lock. Locks
 * from C callers (multi_heap_set_lock) are initialised portMUXes and never take this path. */
static portMUX_TYPE s_first_use_mux = portMUX_INITIALIZER_UNLOCKED;

static HEAPCAPS_PORT_ATTR __attribute__((noinline)) void heapcaps_port_lock_first_use(portMUX_TYPE *mux)
{
    portENTER_CRITICAL_SAFE(&s_first_use_mux);
    if (__atomic_load_n(&mux->owner, __ATOMIC_RELAXED) == 0) {
        mux->count = 0;
        __atomic_store_n(&mux->owner, portMUX_FREE_VAL, __ATOMIC_RELEASE);
    }
    portEXIT_CRITICAL_SAFE(&s_first_use_mux);
}

/* A NULL lock means "no locking" (multi_heap_set_lock(heap, NULL)); tested here rather than on
 * the Rust side, where the test made every locked function carry two copies of its body. */
HEAPCAPS_PORT_ATTR void heapcaps_port_lock(void *lock)
{
    portMUX_TYPE *mux = (portMUX_TYPE *)lock;
    if (mux == NULL) {
        return;
    }
    if (__builtin_expect(__atomic_load_n(&mux->owner, __ATOMIC_ACQUIRE) == 0, 0)) {
        heapcaps_port_lock_first_use(mux);
    }
    /* _SAFE: callable from tasks and from ISRs (ESP-IDF allows allocation in ISRs). */
    portENTER_CRITICAL_SAFE(mux);
}

HEAPCAPS_PORT_ATTR void heapcaps_port_unlock(void *lock)
{
    if (lock != NULL) {
        portEXIT_CRITICAL_SAFE((portMUX_TYPE *)lock);
    }
}

/* The ROM printf has no "%.*s" (it reads "%s" to the NUL and ignores '*'), and the Rust side's
 * bytes are not NUL-terminated: print them through a small terminated buffer. */
HEAPCAPS_PORT_ATTR void heapcaps_port_write(const uint8_t *bytes, size_t len)
{
    char buf[65];
    while (len > 0) {
        size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
        for (size_t i = 0; i < n; i++) {
            buf[i] = (char)bytes[i];
        }
        buf[n] = '\0';
        esp_rom_printf("%s", buf);
        bytes += n;
        len -= n;
    }
}

/* ESP-IDF's heap aborts with abort() on corruption and invalid frees; so does heapcaps. */
__attribute__((noreturn)) void heapcaps_port_abort(void)
{
    abort();
}

HEAPCAPS_PORT_ATTR void *heapcaps_port_task_handle(void)
{
    /* heap_caps_init and the first allocations run before the scheduler exists. */
    if (xTaskGetSchedulerState() == taskSCHEDULER_NOT_STARTED) {
        return NULL;
    }
    return (void *)xTaskGetCurrentTaskHandle();
}

/* The D/IRAM window of this chip: {DRAM low, DRAM high, IRAM low, inverted}. Returns whether
 * its data and instruction addresses differ (only then do EXEC allocations need an alias). */
bool heapcaps_port_diram(uintptr_t out[4])
{
#if defined(SOC_DIRAM_DRAM_LOW) && defined(SOC_DIRAM_IRAM_LOW)
    out[0] = SOC_DIRAM_DRAM_LOW;
    out[1] = SOC_DIRAM_DRAM_HIGH;
    out[2] = SOC_DIRAM_IRAM_LOW;
#ifdef SOC_DIRAM_INVERTED
#if defined(__riscv) && SOC_DIRAM_INVERTED
    /* The library's RISC-V build assumes a linear alias (only the ESP32, an Xtensa chip, has a
     * backwards one) and leaves the backwards arithmetic out. */
#error "heapcaps: a backwards D/IRAM alias on a RISC-V chip"
#endif
    out[3] = SOC_DIRAM_INVERTED;
#else
    out[3] = 0;
#endif
    return SOC_DIRAM_DRAM_LOW != SOC_DIRAM_IRAM_LOW;
#else
    (void)out;
    return false;
#endif
}

/* Start of the ROM's own data at the top of internal RAM, on chips whose ROM publishes a layout
 * table: from there to the end of D/IRAM (where the startup-stack region ends) is never heap. The
 * start is the ROM's, so it is read at boot, as ESP-IDF does; 0 on chips without the table.
 * (heapcaps cuts the region holding the start short, to its end: on the P4 revisions where the
 * ROM's range ends below D/IRAM's end, that keeps a little more out of the heaps than ESP-IDF.) */
intptr_t heapcaps_port_rom_reserved_start(void)
{
#if ESP_ROM_HAS_LAYOUT_TABLE
    return (intptr_t)ets_rom_layout_p->dram0_rtos_reserved_start;
#else
    return 0;
#endif
}

/* Startup: register the chip's heaps at the same point ESP-IDF's heap does (CORE stage, core 0,
 * priority 100: after the app CPU is up, before esp_timer and the C library initialise). The
 * non-OS stack heaps are added later by FreeRTOS' startup (heap_caps_enable_nonos_stack_heaps). */
ESP_SYSTEM_INIT_FN(init_heap, CORE, BIT(0), 100)
{
    heap_caps_init();
    return ESP_OK;
}
