/*
 * heapcaps' QEMU test port (tests/qemu): what the test programs may call besides the heap API.
 *
 * The port (port.c) stands in for the ESP-IDF side of a chip build: the shim functions
 * src/port/espidf.rs calls, a checking esp_rom_printf, a portMUX-like lock, and exit through
 * semihosting. Tests use the capture buffer to check the text the heap prints.
 */
#ifndef HEAPCAPS_QEMU_PORT_H
#define HEAPCAPS_QEMU_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit status of a run that ended in heapcaps_port_abort (run.sh expects it for death runs). */
#define QEMU_EXIT_ABORT 134
/* Exit status when esp_rom_printf met a directive the ROM printf lacks, or a lock misuse. */
#define QEMU_EXIT_PORT_MISUSE 3

/* From now on, heap output (esp_rom_printf, heapcaps_port_write) goes to a buffer only. */
void qemu_capture_start(void);
/* Ends the capture; returns the NUL-terminated text printed since qemu_capture_start. */
const char *qemu_capture_stop(void);

/* Lock bookkeeping of the port: locks taken and not yet released (all locks together), and the
 * total number of lock calls so far (so a test can see that an operation locked at all). */
int qemu_lock_depth(void);
unsigned qemu_lock_calls(void);

/* Start of the ROM data range the port reports to heap_caps_init
 * (heapcaps_port_rom_reserved_start, as a chip whose ROM has a layout table does; the range runs
 * to the end of the region holding it); 0 (none) until set. Set before the boot. */
extern intptr_t qemu_rom_reserved_start;

/* ---- Death runs ----
 * A scenario is a function that must not return: it ends the program through the heap's
 * abort. run.sh starts QEMU once per scenario with the semihosting argument
 * "--scenario=NAME"; main() then runs only that scenario. Before the fatal call a scenario
 * announces the address the abort message must name with qemu_target(); run.sh checks the
 * exit status (QEMU_EXIT_ABORT) and that the output after the announcement names the address. */
typedef struct {
    const char *name;
    void (*fn)(void);
} qemu_scenario_t;

void qemu_register_scenario(const char *name, void (*fn)(void));

#define QEMU_DEATH_SCENARIO(name_)                                                                \
    static void name_(void);                                                                      \
    __attribute__((constructor)) static void name_##_register(void)                              \
    {                                                                                             \
        qemu_register_scenario(#name_, name_);                                                    \
    }                                                                                             \
    static void name_(void)

/* Prints "heapcaps-target=0x%08x" (the address the abort message must name). */
void qemu_target(const void *p);

#endif
