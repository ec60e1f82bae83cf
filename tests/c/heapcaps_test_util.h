/*
 * Shared helpers of heapcaps' capability-layer C tests (include from exactly one .c per binary).
 *
 * - Every simulated chip: when HEAPCAPS_CHIP is not set, a constructor re-runs the test binary
 *   once per chip (esp32, esp32s3, esp32c3, esp32c6 and the -psram variants of esp32 and esp32s3)
 *   with HEAPCAPS_CHIP set and exits with the
 *   combined result, so a plain `./test_x` covers all chips. `HEAPCAPS_CHIP=esp32c3 ./test_x`
 *   runs one chip.
 * - Boot: the first test calls heap_caps_init() and heap_caps_enable_nonos_stack_heaps(), the
 *   two calls ESP-IDF makes before app_main.
 * - Leak check around each test, as ESP-IDF's heap test app does: 8BIT and 32BIT free sizes may
 *   not drop by more than HEAPCAPS_TEST_LEAK_THRESHOLD bytes.
 * - Death tests: run a function in a forked child, capture its output, report how it ended.
 */
#ifndef HEAPCAPS_TEST_UTIL_H
#define HEAPCAPS_TEST_UTIL_H

/* fork, pipe, posix_memalign, ...: must come before the first system header. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "esp_heap_caps.h"
#include "esp_heap_caps_init.h"
#include "heapcaps_sim.h"
#include "unity.h"

#ifndef HEAPCAPS_TEST_LEAK_THRESHOLD
#define HEAPCAPS_TEST_LEAK_THRESHOLD 300
/* Checks inside a forked child: report the line and leave with a non-zero code. */
#define CHILD_CHECK(cond)                                                                         \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "%s:%d: child check failed: %s\n", __FILE__, __LINE__, #cond);         \
            _exit(1);                                                                             \
        }                                                                                         \
    } while (0)

/* Runs fn(arg) in a child that must exit 0; on failure shows the child's output. */
#define HEAPCAPS_TEST_IN_CHILD_OK(fn, arg)                                                        \
    do {                                                                                          \
        heapcaps_child_t child_ = heapcaps_test_in_child((fn), (arg));                            \
        if (!child_.exited || child_.exit_code != 0) {                                            \
            printf("---- child output ----\n%s\n----------------------\n", child_.err);          \
        }                                                                                         \
        TEST_ASSERT_TRUE_MESSAGE(child_.exited, "child died of a signal");                        \
        TEST_ASSERT_EQUAL_INT_MESSAGE(0, child_.exit_code, "child reported a failure");           \
    } while (0)

#endif

static const char *const heapcaps_test_chips[] = {"esp32",   "esp32s3",     "esp32c3",
                                                   "esp32c6", "esp32-psram", "esp32s3-psram"};
#define HEAPCAPS_TEST_N_CHIPS (sizeof(heapcaps_test_chips) / sizeof(heapcaps_test_chips[0]))

static void heapcaps_test_say(const char *a, const char *b, const char *c)
{
    /* write(2), not stdio: nothing here may allocate before the chip is chosen. */
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        if (parts[i] != NULL && write(1, parts[i], strlen(parts[i])) < 0) {
            return;
        }
    }
}

/* glibc passes (argc, argv, envp) to ELF constructors. */
__attribute__((constructor(101))) static void heapcaps_test_per_chip(int argc, char **argv,
                                                                      char **envp)
{
    (void)argc;
    const char *chip = getenv("HEAPCAPS_CHIP");
    if (chip != NULL && chip[0] != '\0') {
        return;
    }
    size_t n_env = 0;
    while (envp[n_env] != NULL) {
        n_env++;
    }
    int failed = 0;
    for (size_t c = 0; c < HEAPCAPS_TEST_N_CHIPS; c++) {
        char var[64];
        snprintf(var, sizeof var, "HEAPCAPS_CHIP=%s", heapcaps_test_chips[c]);
        heapcaps_test_say("\n##### simulated chip: ", heapcaps_test_chips[c], " #####\n");
        pid_t pid = fork();
        if (pid == 0) {
            char *env[n_env + 2];
            size_t k = 0;
            for (size_t i = 0; i < n_env; i++) {
                if (strncmp(envp[i], "HEAPCAPS_CHIP=", 14) != 0) {
                    env[k++] = envp[i];
                }
            }
            env[k++] = var;
            env[k] = NULL;
            execve("/proc/self/exe", argv, env);
            _exit(127);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            heapcaps_test_say("##### FAILED on ", heapcaps_test_chips[c], " #####\n");
            failed = 1;
        }
    }
    heapcaps_test_say(failed ? "##### some chip FAILED\n" : "##### all chips passed\n", NULL,
                      NULL);
    _exit(failed);
}

static void heapcaps_test_boot(void)
{
    static bool booted;
    if (!booted) {
        booted = true;
        heap_caps_init();
        heap_caps_enable_nonos_stack_heaps();
    }
}

static size_t heapcaps_test_free8, heapcaps_test_free32;

void setUp(void)
{
    heapcaps_test_boot();
    heapcaps_test_free8 = heap_caps_get_free_size(MALLOC_CAP_8BIT);
    heapcaps_test_free32 = heap_caps_get_free_size(MALLOC_CAP_32BIT);
}

void tearDown(void)
{
    size_t f8 = heap_caps_get_free_size(MALLOC_CAP_8BIT);
    size_t f32 = heap_caps_get_free_size(MALLOC_CAP_32BIT);
    TEST_ASSERT_TRUE_MESSAGE(f8 + HEAPCAPS_TEST_LEAK_THRESHOLD >= heapcaps_test_free8,
                             "8BIT memory leaked by this test");
    TEST_ASSERT_TRUE_MESSAGE(f32 + HEAPCAPS_TEST_LEAK_THRESHOLD >= heapcaps_test_free32,
                             "32BIT memory leaked by this test");
    TEST_ASSERT_TRUE_MESSAGE(heap_caps_check_integrity_all(true), "heap corrupted by this test");
}

/* How a death-test child ended, and what it wrote to stderr. */
typedef struct {
    bool exited;
    int exit_code;
    int signal;
    char err[8192];
} heapcaps_child_t;

/* Runs fn(arg) in a forked child with stdout and stderr captured; the child exits 0 if fn
 * returns (fn may _exit with another code to report a failure). */
static heapcaps_child_t heapcaps_test_in_child(void (*fn)(void *), void *arg)
{
    heapcaps_child_t r;
    memset(&r, 0, sizeof r);
    int fds[2];
    if (pipe(fds) != 0) {
        TEST_FAIL_MESSAGE("pipe");
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[1]);
        fn(arg);
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fds[0], r.err + len, sizeof r.err - 1 - len);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        if (len == sizeof r.err - 1) {
            char sink[256];
            while (read(fds[0], sink, sizeof sink) > 0) {
            }
            break;
        }
    }
    r.err[len] = '\0';
    close(fds[0]);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        TEST_FAIL_MESSAGE("fork/waitpid");
    }
    r.exited = WIFEXITED(status);
    r.exit_code = r.exited ? WEXITSTATUS(status) : -1;
    r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return r;
}

/* True if `text` mentions address `p` in hex (any case, with or without leading zeros). */
static bool heapcaps_test_mentions(const char *text, const void *p)
{
    char want[32];
    snprintf(want, sizeof want, "%lx", (unsigned long)(uintptr_t)p);
    size_t n = strlen(text);
    char low[8192];
    if (n >= sizeof low) {
        n = sizeof low - 1;
    }
    for (size_t i = 0; i < n; i++) {
        low[i] = (char)tolower((unsigned char)text[i]);
    }
    low[n] = '\0';
    return strstr(low, want) != NULL;
}

/* Asserts that fn(arg) aborts (SIGABRT) and that its message names `addr` (if non-NULL). */
#define HEAPCAPS_TEST_ASSERT_ABORTS(fn, arg, addr)                                                \
    do {                                                                                          \
        heapcaps_child_t child_ = heapcaps_test_in_child((fn), (arg));                            \
        TEST_ASSERT_FALSE_MESSAGE(child_.exited, "expected an abort, the child returned");       \
        TEST_ASSERT_EQUAL_INT_MESSAGE(SIGABRT, child_.signal, "child died of another signal");    \
        if ((addr) != NULL) {                                                                     \
            TEST_ASSERT_TRUE_MESSAGE(heapcaps_test_mentions(child_.err, (addr)),                  \
                                     "abort message does not name the address");                  \
        }                                                                                         \
    } while (0)

static bool heapcaps_test_aligned(const void *p, size_t a)
{
    return ((uintptr_t)p & (a - 1)) == 0;
}

/* Checks inside a forked child: report the line and leave with a non-zero code. */
#define CHILD_CHECK(cond)                                                                         \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "%s:%d: child check failed: %s\n", __FILE__, __LINE__, #cond);         \
            _exit(1);                                                                             \
        }                                                                                         \
    } while (0)

/* Runs fn(arg) in a child that must exit 0; on failure shows the child's output. */
#define HEAPCAPS_TEST_IN_CHILD_OK(fn, arg)                                                        \
    do {                                                                                          \
        heapcaps_child_t child_ = heapcaps_test_in_child((fn), (arg));                            \
        if (!child_.exited || child_.exit_code != 0) {                                            \
            printf("---- child output ----\n%s\n----------------------\n", child_.err);          \
        }                                                                                         \
        TEST_ASSERT_TRUE_MESSAGE(child_.exited, "child died of a signal");                        \
        TEST_ASSERT_EQUAL_INT_MESSAGE(0, child_.exit_code, "child reported a failure");           \
    } while (0)

#endif
