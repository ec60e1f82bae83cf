/*
 * heapcaps' QEMU test port: the ESP-IDF side of a chip build, for running the real riscv32
 * archive on QEMU's `virt` machine over picolibc + semihosting.
 *
 * It provides what src/port/espidf.rs declares (and port/esp_idf/heapcaps_port.c implements on
 * a chip): locks, console output, abort, task handle, D/IRAM window, hardware alignment and
 * ESP-IDF's ROM printf. Unlike a plain stub, each piece checks how the archive uses it:
 *  - esp_rom_printf accepts only the directives text.rs promises to use (%d %u %x %X with an
 *    optional '0' flag and width, %s, %c, %%), since the ROM printf formats nothing else; any
 *    other directive ends the run with QEMU_EXIT_PORT_MISUSE.
 *  - locks behave like a recursive portMUX_TYPE ({owner, count}, zero = never used) and count
 *    how deep the program is inside locks, so tests can see every lock released; unlocking a
 *    lock that is not held ends the run.
 *  - abort goes through the C library's abort(), whose exit status reaches the host through
 *    semihosting (QEMU_EXIT_ABORT), so run.sh can tell an abort from a crash or a clean exit.
 */
#include <semihost.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_heap_caps.h"
#include "qemu_port.h"

/* ---- Exit ---- */

/* picolibc's semihosting _exit reports every status as 0 on a 32-bit target (plain SYS_EXIT
 * carries no code there); the extended call carries it, which is what run.sh needs. */
void _exit(int code)
{
    sys_semihost_exit_extended((uintptr_t)code);
}

static void misuse(const char *what, const char *detail)
{
    fprintf(stdout, "\nQEMU PORT MISUSE: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    fflush(stdout);
    _exit(QEMU_EXIT_PORT_MISUSE);
}

/* ---- Output and capture ---- */

static char capture_buf[16384];
static size_t capture_len;
static bool capturing;

void qemu_capture_start(void)
{
    fflush(stdout);
    capture_len = 0;
    capture_buf[0] = '\0';
    capturing = true;
}

const char *qemu_capture_stop(void)
{
    capturing = false;
    return capture_buf;
}

static void emit(const char *s, size_t n)
{
    if (capturing) {
        /* Overflow truncates; tests compare text, so a truncated capture fails them. */
        size_t room = sizeof capture_buf - 1 - capture_len;
        size_t k = n < room ? n : room;
        memcpy(capture_buf + capture_len, s, k);
        capture_len += k;
        capture_buf[capture_len] = '\0';
    } else {
        fwrite(s, 1, n, stdout);
    }
}

static size_t put_unsigned(char *out, unsigned v, unsigned base, bool upper, unsigned width,
                           bool zero, bool negative)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[12];
    size_t n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v != 0);
    size_t len = n + (negative ? 1 : 0);
    size_t k = 0;
    if (negative && zero) {
        out[k++] = '-';
    }
    while (len < width && k < 32) {
        out[k++] = zero ? '0' : ' ';
        len++;
    }
    if (negative && !zero) {
        out[k++] = '-';
    }
    while (n > 0) {
        out[k++] = tmp[--n];
    }
    return k;
}

/* ESP-IDF's ROM printf (ets_printf in the mask ROM) as far as heapcaps may rely on it. */
int esp_rom_printf(const char *fmt, ...)
{
    if (fmt == NULL) {
        misuse("esp_rom_printf with a NULL format", NULL);
    }
    va_list ap;
    va_start(ap, fmt);
    int total = 0;
    for (const char *f = fmt; *f != '\0'; f++) {
        if (*f != '%') {
            const char *run = f;
            while (f[1] != '\0' && f[1] != '%') {
                f++;
            }
            emit(run, (size_t)(f - run + 1));
            total += (int)(f - run + 1);
            continue;
        }
        f++;
        if (*f == '%') {
            emit("%", 1);
            total++;
            continue;
        }
        bool zero = false;
        unsigned width = 0;
        if (*f == '0') {
            zero = true;
            f++;
        }
        while (*f >= '0' && *f <= '9') {
            width = width * 10 + (unsigned)(*f - '0');
            f++;
        }
        if (width > 16) {
            misuse("esp_rom_printf width above 16 in", fmt);
        }
        char num[40];
        size_t n;
        switch (*f) {
        case 'd': {
            int v = va_arg(ap, int);
            n = put_unsigned(num, v < 0 ? 0u - (unsigned)v : (unsigned)v, 10, false, width, zero,
                             v < 0);
            break;
        }
        case 'u':
            n = put_unsigned(num, va_arg(ap, unsigned), 10, false, width, zero, false);
            break;
        case 'x':
        case 'X':
            n = put_unsigned(num, va_arg(ap, unsigned), 16, *f == 'X', width, zero, false);
            break;
        case 'c':
            num[0] = (char)va_arg(ap, int);
            n = 1;
            break;
        case 's': {
            if (width != 0 || zero) {
                misuse("esp_rom_printf %s with a width in", fmt);
            }
            const char *s = va_arg(ap, const char *);
            if (s == NULL) {
                misuse("esp_rom_printf %s given NULL in", fmt);
            }
            size_t len = strlen(s);
            emit(s, len);
            total += (int)len;
            continue;
        }
        default:
            /* %l, %z, %p, %.*s, ... : not in the ROM's repertoire heapcaps relies on. */
            misuse("esp_rom_printf directive outside the ROM subset in", fmt);
            n = 0;
        }
        emit(num, n);
        total += (int)n;
    }
    va_end(ap);
    return total;
}

/* Same route as the chip shim: unterminated bytes go out through the ROM printf in
 * NUL-terminated pieces (the ROM printf has no "%.*s"). */
void heapcaps_port_write(const uint8_t *bytes, size_t len)
{
    char piece[33];
    while (len > 0) {
        size_t n = len < sizeof piece - 1 ? len : sizeof piece - 1;
        memcpy(piece, bytes, n);
        piece[n] = '\0';
        esp_rom_printf("%s", piece);
        bytes += n;
        len -= n;
    }
}

/* ---- Abort ---- */

__attribute__((noreturn)) void heapcaps_port_abort(void)
{
    fflush(stdout);
    abort();
}

/* ---- Locks ---- */

/* A portMUX_TYPE: {owner, count}. Zero bytes mark a lock never used (the Rust side's LOCK_INIT);
 * this port uses its own owner values, since nothing but the port reads them. */
typedef struct {
    uint32_t owner;
    uint32_t count;
} qemu_mux_t;

#define MUX_FREE 0xB33FFFFFu
#define MUX_HELD_BY_US 0x0000CDCDu

static int lock_depth;
static unsigned lock_calls;

int qemu_lock_depth(void)
{
    return lock_depth;
}

unsigned qemu_lock_calls(void)
{
    return lock_calls;
}

void heapcaps_port_lock(void *lock)
{
    qemu_mux_t *m = (qemu_mux_t *)lock;
    if (m == NULL) {
        return;
    }
    lock_calls++;
    if (m->owner == 0) {
        m->owner = MUX_FREE;
        m->count = 0;
    }
    if (m->owner == MUX_FREE) {
        m->owner = MUX_HELD_BY_US;
        m->count = 1;
    } else if (m->owner == MUX_HELD_BY_US) {
        /* Recursive entry by the same (only) core. */
        m->count++;
    } else {
        misuse("lock object with a foreign owner value", NULL);
    }
    lock_depth++;
}

void heapcaps_port_unlock(void *lock)
{
    qemu_mux_t *m = (qemu_mux_t *)lock;
    if (m == NULL) {
        return;
    }
    if (m->owner != MUX_HELD_BY_US || m->count == 0) {
        misuse("unlock of a lock that is not held", NULL);
    }
    if (--m->count == 0) {
        m->owner = MUX_FREE;
    }
    lock_depth--;
}

/* ---- Tasks, memory layout, alignment ---- */

/* No scheduler: ESP-IDF's shim answers NULL before the scheduler starts, too. */
void *heapcaps_port_task_handle(void)
{
    return NULL;
}

intptr_t qemu_rom_reserved_start;

intptr_t heapcaps_port_rom_reserved_start(void)
{
    return qemu_rom_reserved_start;
}

/* This "chip" has no separate instruction-bus view of its data RAM. */
bool heapcaps_port_diram(uintptr_t out[4])
{
    out[0] = out[1] = out[2] = out[3] = 0;
    return false;
}

/* A chip whose DMA needs 16-byte aligned buffers of whole 16-byte lines (as with a cache line
 * of 16 bytes); the descriptor caps become plain DMA, as ESP-IDF's function maps them. */
#define QEMU_DMA_ALIGN 16u
void esp_heap_adjust_alignment_to_hw(size_t *alignment, size_t *size, uint32_t *caps)
{
    uint32_t c = *caps;
    if (c & (MALLOC_CAP_DMA_DESC_AHB | MALLOC_CAP_DMA_DESC_AXI)) {
        c &= ~(uint32_t)(MALLOC_CAP_DMA_DESC_AHB | MALLOC_CAP_DMA_DESC_AXI);
        c |= MALLOC_CAP_DMA;
    }
    if (c & (MALLOC_CAP_DMA | MALLOC_CAP_CACHE_ALIGNED)) {
        c &= ~(uint32_t)MALLOC_CAP_CACHE_ALIGNED;
        if (*alignment < QEMU_DMA_ALIGN) {
            *alignment = QEMU_DMA_ALIGN;
        }
        /* Round the size up to whole lines; a size near SIZE_MAX stays too large. */
        if (*size <= SIZE_MAX - (QEMU_DMA_ALIGN - 1)) {
            *size = (*size + QEMU_DMA_ALIGN - 1) & ~(size_t)(QEMU_DMA_ALIGN - 1);
        }
    }
    *caps = c;
}

/* ---- Death-run plumbing ---- */

static qemu_scenario_t scenarios[32];
static size_t n_scenarios;

void qemu_register_scenario(const char *name, void (*fn)(void))
{
    if (n_scenarios < sizeof scenarios / sizeof scenarios[0]) {
        scenarios[n_scenarios].name = name;
        scenarios[n_scenarios].fn = fn;
        n_scenarios++;
    } else {
        misuse("too many death scenarios", name);
    }
}

void qemu_target(const void *p)
{
    printf("heapcaps-target=0x%08lx\n", (unsigned long)(uintptr_t)p);
    fflush(stdout);
}

int unity_run_all(int argc, char **argv);

/* picolibc's semihosting crt0 passes argv[0] = "program-name" followed by QEMU's semihosting
 * arguments, the first of which run.sh sets to the program's name: skip both. */
int main(int argc, char **argv)
{
    int skip = argc >= 2 ? 1 : 0;
    argc -= skip;
    argv += skip;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--scenario=", 11) == 0) {
            const char *want = argv[i] + 11;
            for (size_t k = 0; k < n_scenarios; k++) {
                if (strcmp(scenarios[k].name, want) == 0) {
                    printf("== death scenario %s\n", want);
                    scenarios[k].fn();
                    printf("death scenario %s returned: the heap did not abort\n", want);
                    return 1;
                }
            }
            printf("no death scenario named %s\n", want);
            return 2;
        }
    }
    int rc = unity_run_all(argc, argv);
    fflush(stdout);
    return rc;
}
