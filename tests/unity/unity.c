/*
 * heapcaps test harness: assertion back ends, per-test bracketing and the TEST_CASE registry.
 * See unity.h for the output format. Everything goes to stdout, flushed after every line so a
 * test that forks (death tests) never duplicates buffered output.
 */
#include "unity.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

unity_state_t unity_state;

static unity_test_case_t *registry_head;
static unity_test_case_t *registry_tail;

__attribute__((weak)) void setUp(void) {}
__attribute__((weak)) void tearDown(void) {}

void unity_register(unity_test_case_t *tc)
{
    /* Constructors run in file order, so appending keeps the order tests are written in. */
    tc->next = NULL;
    if (registry_tail) {
        registry_tail->next = tc;
    } else {
        registry_head = tc;
    }
    registry_tail = tc;
}

unity_test_case_t *unity_first_test_case(void)
{
    return registry_head;
}

static void line_start(int line)
{
    printf("%s:%d:%s:", unity_state.test_file ? unity_state.test_file : "?", line,
           unity_state.current_test_name ? unity_state.current_test_name : "?");
}

static void add_msg(const char *msg)
{
    if (msg && msg[0]) {
        printf(". %s", msg);
    }
}

/* Ends a failed assertion: remembers the failure and leaves the test body. */
static void bail_out(void)
{
    printf("\n");
    fflush(stdout);
    unity_state.current_test_failed = 1;
    longjmp(unity_state.abort_frame, 1);
}

static void print_number(uintmax_t v, int negative_ok, unity_style_t style)
{
    switch (style) {
    case UNITY_DISPLAY_STYLE_INT:
        if (negative_ok) {
            printf("%" PRIdMAX, (intmax_t)v);
        } else {
            printf("%" PRIuMAX, v);
        }
        break;
    case UNITY_DISPLAY_STYLE_UINT:
        printf("%" PRIuMAX, v);
        break;
    case UNITY_DISPLAY_STYLE_HEX8:
        printf("0x%02" PRIXMAX, v & 0xffu);
        break;
    case UNITY_DISPLAY_STYLE_HEX16:
        printf("0x%04" PRIXMAX, v & 0xffffu);
        break;
    case UNITY_DISPLAY_STYLE_HEX32:
        printf("0x%08" PRIXMAX, v & 0xffffffffu);
        break;
    case UNITY_DISPLAY_STYLE_HEX64:
        printf("0x%016" PRIXMAX, v);
        break;
    case UNITY_DISPLAY_STYLE_POINTER:
        printf("0x%0*" PRIXMAX, (int)(sizeof(void *) * 2), v);
        break;
    }
}

void unity_fail(const char *msg, int line)
{
    line_start(line);
    printf("FAIL");
    if (msg && msg[0]) {
        printf(":%s%s", msg[0] == ' ' ? "" : " ", msg);
    }
    bail_out();
}

void unity_ignore(const char *msg, int line)
{
    line_start(line);
    printf("IGNORE");
    if (msg && msg[0]) {
        printf(": %s", msg);
    }
    printf("\n");
    fflush(stdout);
    unity_state.current_test_ignored = 1;
    longjmp(unity_state.abort_frame, 1);
}

void unity_message(const char *msg, int line)
{
    line_start(line);
    printf("INFO");
    if (msg && msg[0]) {
        printf(": %s", msg);
    }
    printf("\n");
    fflush(stdout);
}

void unity_assert_true(int cond, const char *why, const char *msg, int line)
{
    if (cond) {
        return;
    }
    line_start(line);
    printf("FAIL:%s", why);
    add_msg(msg);
    bail_out();
}

void unity_assert_equal_number(intmax_t expected, intmax_t actual, const char *msg, int line,
                               unity_style_t style)
{
    if (expected == actual) {
        return;
    }
    line_start(line);
    printf("FAIL: Expected ");
    print_number((uintmax_t)expected, 1, style);
    printf(" Was ");
    print_number((uintmax_t)actual, 1, style);
    add_msg(msg);
    bail_out();
}

void unity_assert_equal_unsigned(uintmax_t expected, uintmax_t actual, const char *msg, int line,
                                 unity_style_t style)
{
    if (expected == actual) {
        return;
    }
    line_start(line);
    printf("FAIL: Expected ");
    print_number(expected, 0, style);
    printf(" Was ");
    print_number(actual, 0, style);
    add_msg(msg);
    bail_out();
}

static const char *cmp_text(unity_cmp_t cmp)
{
    switch (cmp) {
    case UNITY_CMP_GT:
        return " to be greater than ";
    case UNITY_CMP_GE:
        return " to be greater than or equal to ";
    case UNITY_CMP_LT:
        return " to be less than ";
    case UNITY_CMP_LE:
        return " to be less than or equal to ";
    }
    return " ? ";
}

static int cmp_holds(int sign, unity_cmp_t cmp)
{
    /* sign: <0 actual below threshold, 0 equal, >0 above. */
    switch (cmp) {
    case UNITY_CMP_GT:
        return sign > 0;
    case UNITY_CMP_GE:
        return sign >= 0;
    case UNITY_CMP_LT:
        return sign < 0;
    case UNITY_CMP_LE:
        return sign <= 0;
    }
    return 0;
}

void unity_assert_threshold_signed(intmax_t threshold, intmax_t actual, unity_cmp_t cmp,
                                   const char *msg, int line)
{
    int sign = (actual > threshold) - (actual < threshold);
    if (cmp_holds(sign, cmp)) {
        return;
    }
    line_start(line);
    printf("FAIL: Expected %" PRIdMAX "%s%" PRIdMAX, actual, cmp_text(cmp), threshold);
    add_msg(msg);
    bail_out();
}

void unity_assert_threshold_unsigned(uintmax_t threshold, uintmax_t actual, unity_cmp_t cmp,
                                     const char *msg, int line)
{
    int sign = (actual > threshold) - (actual < threshold);
    if (cmp_holds(sign, cmp)) {
        return;
    }
    line_start(line);
    printf("FAIL: Expected %" PRIuMAX "%s%" PRIuMAX, actual, cmp_text(cmp), threshold);
    add_msg(msg);
    bail_out();
}

void unity_assert_equal_memory(const void *expected, const void *actual, size_t len,
                               const char *msg, int line)
{
    const unsigned char *e = (const unsigned char *)expected;
    const unsigned char *a = (const unsigned char *)actual;
    if (len == 0 || e == a) {
        return;
    }
    if (e == NULL || a == NULL) {
        line_start(line);
        printf("FAIL: Expected %s Was %s", e ? "Non-NULL" : "NULL", a ? "Non-NULL" : "NULL");
        add_msg(msg);
        bail_out();
    }
    for (size_t i = 0; i < len; i++) {
        if (e[i] != a[i]) {
            line_start(line);
            printf("FAIL: Memory Mismatch. Byte %zu Expected 0x%02X Was 0x%02X", i, e[i], a[i]);
            add_msg(msg);
            bail_out();
        }
    }
}

void unity_assert_each_equal(uintmax_t expected, const void *actual, size_t elem_size, size_t num,
                             const char *msg, int line)
{
    const unsigned char *a = (const unsigned char *)actual;
    if (num == 0) {
        return;
    }
    if (a == NULL) {
        line_start(line);
        printf("FAIL: Expected Non-NULL Was NULL");
        add_msg(msg);
        bail_out();
    }
    for (size_t i = 0; i < num; i++) {
        uintmax_t v = 0;
        /* Little or big endian alike: assemble the element as the target stores it. */
        switch (elem_size) {
        case 1: v = a[i]; break;
        case 2: { uint16_t x; memcpy(&x, a + 2 * i, 2); v = x; break; }
        default: { uint32_t x; memcpy(&x, a + 4 * i, 4); v = x; break; }
        }
        uintmax_t mask = elem_size >= sizeof(uintmax_t) ? ~(uintmax_t)0
                                                        : (((uintmax_t)1 << (8 * elem_size)) - 1);
        if (v != (expected & mask)) {
            line_start(line);
            printf("FAIL: Element %zu Expected 0x%0*jX Was 0x%0*jX", i, (int)(2 * elem_size),
                   expected & mask, (int)(2 * elem_size), v);
            add_msg(msg);
            bail_out();
        }
    }
}

void unity_assert_equal_string(const char *expected, const char *actual, const char *msg,
                               int line)
{
    if (expected == actual) {
        return;
    }
    if (expected && actual && strcmp(expected, actual) == 0) {
        return;
    }
    line_start(line);
    printf("FAIL: Expected ");
    if (expected) {
        printf("'%s'", expected);
    } else {
        printf("NULL");
    }
    printf(" Was ");
    if (actual) {
        printf("'%s'", actual);
    } else {
        printf("NULL");
    }
    add_msg(msg);
    bail_out();
}

void unity_begin(const char *file)
{
    memset(&unity_state, 0, sizeof unity_state);
    unity_state.test_file = file;
}

/* Runs one test: setUp, body, tearDown, each protected so a failure still runs tearDown. */
static void run_protected(void (*fn)(void), const char *name, const char *file, int line)
{
    unity_state.test_file = file;
    unity_state.current_test_name = name;
    unity_state.current_test_line = line;
    unity_state.current_test_failed = 0;
    unity_state.current_test_ignored = 0;
    unity_state.number_of_tests++;
    fflush(stdout);
    if (setjmp(unity_state.abort_frame) == 0) {
        setUp();
        fn();
    }
    if (setjmp(unity_state.abort_frame) == 0) {
        tearDown();
    }
    if (unity_state.current_test_ignored) {
        unity_state.test_ignores++;
    } else if (unity_state.current_test_failed) {
        unity_state.test_failures++;
    } else {
        line_start(line);
        printf("PASS\n");
    }
    fflush(stdout);
}

void unity_run_one(void (*fn)(void), const char *name, int line)
{
    run_protected(fn, name, unity_state.test_file, line);
}

void unity_run_case(const unity_test_case_t *tc)
{
    run_protected(tc->fn, tc->name, tc->file, tc->line);
}

int unity_end(void)
{
    printf("\n-----------------------\n");
    printf("%u Tests %u Failures %u Ignored \n", unity_state.number_of_tests,
           unity_state.test_failures, unity_state.test_ignores);
    printf("%s\n", unity_state.test_failures == 0 ? "OK" : "FAIL");
    fflush(stdout);
    return (int)unity_state.test_failures;
}
