/*
 * Shared helpers of heapcaps' capability-layer C tests (include from exactly one .c per binary).
 *
 * - Every simulated chip: when HEAPCAPS_CHIP is not set, a constructor re-runs the test binary
 *   once per chip (esp32, esp32s2, esp32s3, esp32c2, esp32c3, esp32c5, esp32c6, esp32c61,
 *   esp32h2 and the -psram variants of esp32 and esp32s3) with HEAPCAPS_CHIP set and exits with
 *   the combined result, so a plain `./test_x` covers all chips. `HEAPCAPS_CHIP=esp32c3 ./test_x`
 *   runs one chip.
 * - Boot: the first test calls heap_caps_init() and heap_caps_enable_nonos_stack_heaps(), the
 *   two calls ESP-IDF makes before app_main.
 * - Leak check around each test, as ESP-IDF's heap test app does: 8BIT and 32BIT free sizes may
 *   not drop by more than HEAPCAPS_TEST_LEAK_THRESHOLD bytes.
 * - Child scenarios (death tests, tests that change global state): run in a fresh process.
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
/* Checks inside a child scenario: report the line and leave with a non-zero code. */
#define CHILD_CHECK(cond)                                                                         \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "%s:%d: child check failed: %s\n", __FILE__, __LINE__, #cond);         \
            _exit(1);                                                                             \
        }                                                                                         \
    } while (0)

#endif

static const char *const heapcaps_test_chips[] = {
    "esp32",   "esp32s3", "esp32c3", "esp32c6", "esp32-psram", "esp32s3-psram",
    "esp32c2", "esp32s2", "esp32h2", "esp32c5", "esp32c61"};
#define HEAPCAPS_TEST_N_CHIPS (sizeof(heapcaps_test_chips) / sizeof(heapcaps_test_chips[0]))

__attribute__((unused)) static void heapcaps_test_say(const char *a, const char *b, const char *c)
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

__attribute__((unused)) static void heapcaps_test_boot(void)
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

/* ---- Child scenarios ----
 * The simulated chip memory is a shared mapping (it has to be: D/IRAM is mapped twice), so a
 * forked child would write into the parent's heaps. Scenarios therefore run in a fresh process:
 * the test binary re-executes itself with HEAPCAPS_TEST_CHILD=<name> (and the same
 * HEAPCAPS_CHIP); a constructor then boots the chip, runs the scenario and exits 0 if it
 * returns. Scenarios set up their own blocks and report failures with CHILD_CHECK. */
typedef struct {
    const char *name;
    void (*fn)(void);
} heapcaps_scenario_t;

static heapcaps_scenario_t heapcaps_scenarios[64];
static size_t heapcaps_n_scenarios;

__attribute__((unused)) static void heapcaps_test_register_scenario(const char *name, void (*fn)(void))
{
    if (heapcaps_n_scenarios < sizeof heapcaps_scenarios / sizeof heapcaps_scenarios[0]) {
        heapcaps_scenarios[heapcaps_n_scenarios].name = name;
        heapcaps_scenarios[heapcaps_n_scenarios].fn = fn;
        heapcaps_n_scenarios++;
    }
}

#define HEAPCAPS_CHILD_SCENARIO(name_)                                                            \
    static void name_(void);                                                                      \
    __attribute__((constructor(102))) static void name_##_register(void)                         \
    {                                                                                             \
        heapcaps_test_register_scenario(#name_, name_);                                           \
    }                                                                                             \
    static void name_(void)

__attribute__((constructor(103))) static void heapcaps_test_dispatch(void)
{
    const char *want = getenv("HEAPCAPS_TEST_CHILD");
    if (want == NULL) {
        return;
    }
    for (size_t i = 0; i < heapcaps_n_scenarios; i++) {
        if (strcmp(heapcaps_scenarios[i].name, want) == 0) {
            heapcaps_test_boot();
            heapcaps_scenarios[i].fn();
            fflush(stdout);
            _exit(0);
        }
    }
    _exit(99);
}

/* Inside a scenario: announces the address the expected abort message must name. */
__attribute__((unused)) static void heapcaps_test_target(const void *p)
{
    char line[64];
    int n = snprintf(line, sizeof line, "heapcaps-target=%lx\n", (unsigned long)(uintptr_t)p);
    if (n > 0 && write(2, line, (size_t)n) < 0) {
        _exit(98);
    }
}

/* How a child scenario ended, and what it wrote to stdout and stderr. */
typedef struct {
    bool exited;
    int exit_code;
    int signal;
    char out[8192];
} heapcaps_child_t;

extern char **environ;

/* Runs scenario `name` in a fresh process (this binary re-executed), output captured. */
__attribute__((unused)) static heapcaps_child_t heapcaps_test_run_child(const char *name)
{
    static heapcaps_child_t r;
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
        size_t n_env = 0;
        while (environ[n_env] != NULL) {
            n_env++;
        }
        char var[128];
        snprintf(var, sizeof var, "HEAPCAPS_TEST_CHILD=%s", name);
        char *env[n_env + 2];
        size_t k = 0;
        for (size_t i = 0; i < n_env; i++) {
            if (strncmp(environ[i], "HEAPCAPS_TEST_CHILD=", 20) != 0) {
                env[k++] = environ[i];
            }
        }
        env[k++] = var;
        env[k] = NULL;
        char self[] = "/proc/self/exe";
        char *args[] = {self, NULL};
        execve(self, args, env);
        _exit(97);
    }
    close(fds[1]);
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fds[0], r.out + len, sizeof r.out - 1 - len);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        if (len == sizeof r.out - 1) {
            char sink[256];
            while (read(fds[0], sink, sizeof sink) > 0) {
            }
            break;
        }
    }
    r.out[len] = '\0';
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

/* True if the output names the address announced by heapcaps_test_target() again after the
 * announcement (any case, with or without leading zeros). */
__attribute__((unused)) static bool heapcaps_test_names_target(const char *out)
{
    const char *t = strstr(out, "heapcaps-target=");
    if (t == NULL) {
        return false;
    }
    t += strlen("heapcaps-target=");
    char want[32];
    size_t n = 0;
    while (n < sizeof want - 1 && isxdigit((unsigned char)t[n])) {
        want[n] = t[n];
        n++;
    }
    want[n] = '\0';
    if (n == 0) {
        return false;
    }
    static char low[8192];
    size_t m = 0;
    for (const char *c = t + n; *c != '\0' && m < sizeof low - 1; c++) {
        low[m++] = (char)tolower((unsigned char)*c);
    }
    low[m] = '\0';
    return strstr(low, want) != NULL;
}

__attribute__((unused)) static void heapcaps_test_show_child(const heapcaps_child_t *c)
{
    printf("---- child output (exited %d, code %d, signal %d) ----\n%s\n---- end of child "
           "output ----\n",
           c->exited, c->exit_code, c->signal, c->out);
}

/* Asserts that scenario `name` aborts (SIGABRT); with `named`, that the abort message names the
 * address the scenario announced. */
#define HEAPCAPS_TEST_ASSERT_ABORTS(name, named)                                                  \
    do {                                                                                          \
        heapcaps_child_t child_ = heapcaps_test_run_child(name);                                  \
        if (child_.exited || child_.signal != SIGABRT) {                                          \
            heapcaps_test_show_child(&child_);                                                    \
        }                                                                                         \
        TEST_ASSERT_FALSE_MESSAGE(child_.exited, "expected an abort, the child returned");       \
        TEST_ASSERT_EQUAL_INT_MESSAGE(SIGABRT, child_.signal, "child died of another signal");    \
        if (named) {                                                                              \
            TEST_ASSERT_TRUE_MESSAGE(heapcaps_test_names_target(child_.out),                      \
                                     "abort message does not name the address");                  \
        }                                                                                         \
    } while (0)

/* Runs scenario `name`, which must exit 0; on failure shows the child's output. */
#define HEAPCAPS_TEST_IN_CHILD_OK(name)                                                           \
    do {                                                                                          \
        heapcaps_child_t child_ = heapcaps_test_run_child(name);                                  \
        if (!child_.exited || child_.exit_code != 0) {                                            \
            heapcaps_test_show_child(&child_);                                                    \
        }                                                                                         \
        TEST_ASSERT_TRUE_MESSAGE(child_.exited, "child died of a signal");                        \
        TEST_ASSERT_EQUAL_INT_MESSAGE(0, child_.exit_code, "child reported a failure");           \
    } while (0)

__attribute__((unused)) static bool heapcaps_test_aligned(const void *p, size_t a)
{
    return ((uintptr_t)p & (a - 1)) == 0;
}

/* Checks inside a child scenario: report the line and leave with a non-zero code. */
#define CHILD_CHECK(cond)                                                                         \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "%s:%d: child check failed: %s\n", __FILE__, __LINE__, #cond);         \
            _exit(1);                                                                             \
        }                                                                                         \
    } while (0)

#endif
