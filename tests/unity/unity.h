/*
 * heapcaps test harness: a small re-implementation of the Unity test framework's public
 * assertion macros, plus ESP-IDF's TEST_CASE("name", "[tags]") registration.
 *
 * Written for heapcaps from the documented behaviour of Unity (macro names, argument order and
 * output format), so that a test file using only these macros also builds in an ESP-IDF test
 * app against the real Unity. Only the subset the heap tests need is provided.
 *
 * Output format per test:  FILE:LINE:NAME:PASS | FILE:LINE:NAME:FAIL: why | FILE:LINE:NAME:IGNORE
 * Summary: "-----------------------", "N Tests M Failures K Ignored ", "OK" or "FAIL".
 */
#ifndef HEAPCAPS_UNITY_H
#define HEAPCAPS_UNITY_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How numbers are shown in failure messages. */
typedef enum {
    UNITY_DISPLAY_STYLE_INT,
    UNITY_DISPLAY_STYLE_UINT,
    UNITY_DISPLAY_STYLE_HEX8,
    UNITY_DISPLAY_STYLE_HEX16,
    UNITY_DISPLAY_STYLE_HEX32,
    UNITY_DISPLAY_STYLE_HEX64,
    UNITY_DISPLAY_STYLE_POINTER
} unity_style_t;

/* Comparison kinds for the threshold assertions. */
typedef enum {
    UNITY_CMP_GT,
    UNITY_CMP_GE,
    UNITY_CMP_LT,
    UNITY_CMP_LE
} unity_cmp_t;

/* One registered TEST_CASE. */
typedef struct unity_test_case {
    const char *name;
    const char *tags;
    void (*fn)(void);
    const char *file;
    int line;
    struct unity_test_case *next;
} unity_test_case_t;

/* Run state, readable by tests (e.g. to know whether the current test already failed). */
typedef struct {
    const char *test_file;
    const char *current_test_name;
    int current_test_line;
    unsigned number_of_tests;
    unsigned test_failures;
    unsigned test_ignores;
    int current_test_failed;
    int current_test_ignored;
    jmp_buf abort_frame;
} unity_state_t;

extern unity_state_t unity_state;

/* User hooks around every test; the harness provides empty weak defaults. */
void setUp(void);
void tearDown(void);

void unity_begin(const char *file);
int unity_end(void);
void unity_run_one(void (*fn)(void), const char *name, int line);
void unity_register(unity_test_case_t *tc);
void unity_run_case(const unity_test_case_t *tc);
unity_test_case_t *unity_first_test_case(void);
/* Runs every registered TEST_CASE matching the filters in argv (see unity_runner.c). */
int unity_run_all(int argc, char **argv);
/* ESP-IDF's test apps call this from app_main(): here it runs every test case and exits with
 * the result, so ESP-IDF test files build and run unchanged on the host. */
void unity_run_menu(void);

/* Failure / ignore reporting; these do not return. */
void unity_fail(const char *msg, int line);
void unity_ignore(const char *msg, int line);
void unity_assert_true(int cond, const char *why, const char *msg, int line);
void unity_assert_equal_number(intmax_t expected, intmax_t actual, const char *msg, int line,
                               unity_style_t style);
void unity_assert_equal_unsigned(uintmax_t expected, uintmax_t actual, const char *msg, int line,
                                 unity_style_t style);
void unity_assert_threshold_signed(intmax_t threshold, intmax_t actual, unity_cmp_t cmp,
                                   const char *msg, int line);
void unity_assert_threshold_unsigned(uintmax_t threshold, uintmax_t actual, unity_cmp_t cmp,
                                     const char *msg, int line);
/* Every element of `actual` (num elements of elem_size bytes) equals `expected`. */
void unity_assert_each_equal(uintmax_t expected, const void *actual, size_t elem_size, size_t num,
                             const char *msg, int line);
void unity_assert_equal_memory(const void *expected, const void *actual, size_t len,
                               const char *msg, int line);
void unity_assert_equal_string(const char *expected, const char *actual, const char *msg,
                               int line);

/* ---- Test bracketing ---- */
#define UNITY_BEGIN() unity_begin(__FILE__)
#define UNITY_END() unity_end()
#define RUN_TEST(func) unity_run_one(func, #func, __LINE__)
#define TEST_PROTECT() (setjmp(unity_state.abort_frame) == 0)
#define TEST_ABORT() longjmp(unity_state.abort_frame, 1)

/* ESP-IDF style registration: TEST_CASE("name", "[tag][tag]") { body } */
#define UNITY_TC_CAT2(a, b) a##b
#define UNITY_TC_CAT(a, b) UNITY_TC_CAT2(a, b)
#define UNITY_TC_UID(base) UNITY_TC_CAT(base, __LINE__)
#define TEST_CASE(name_, tags_)                                                                   \
    static void UNITY_TC_UID(unity_tc_fn_)(void);                                                 \
    static unity_test_case_t UNITY_TC_UID(unity_tc_desc_) = {                                     \
        name_, tags_, UNITY_TC_UID(unity_tc_fn_), __FILE__, __LINE__, NULL};                      \
    __attribute__((constructor)) static void UNITY_TC_UID(unity_tc_reg_)(void)                    \
    {                                                                                             \
        unity_register(&UNITY_TC_UID(unity_tc_desc_));                                            \
    }                                                                                             \
    static void UNITY_TC_UID(unity_tc_fn_)(void)

/* ---- Failing and ignoring ---- */
#define TEST_FAIL() unity_fail(NULL, __LINE__)
#define TEST_FAIL_MESSAGE(msg) unity_fail((msg), __LINE__)
#define TEST_IGNORE() unity_ignore(NULL, __LINE__)
#define TEST_IGNORE_MESSAGE(msg) unity_ignore((msg), __LINE__)
#define TEST_MESSAGE(msg) unity_message((msg), __LINE__)
void unity_message(const char *msg, int line);

/* ---- Boolean ---- */
#define TEST_ASSERT_MESSAGE(cond, msg)                                                            \
    unity_assert_true(!!(cond), " Expression Evaluated To FALSE", (msg), __LINE__)
#define TEST_ASSERT(cond) TEST_ASSERT_MESSAGE(cond, NULL)
#define TEST_ASSERT_TRUE_MESSAGE(cond, msg)                                                       \
    unity_assert_true(!!(cond), " Expected TRUE Was FALSE", (msg), __LINE__)
#define TEST_ASSERT_TRUE(cond) TEST_ASSERT_TRUE_MESSAGE(cond, NULL)
#define TEST_ASSERT_FALSE_MESSAGE(cond, msg)                                                      \
    unity_assert_true(!(cond), " Expected FALSE Was TRUE", (msg), __LINE__)
#define TEST_ASSERT_FALSE(cond) TEST_ASSERT_FALSE_MESSAGE(cond, NULL)
#define TEST_ASSERT_UNLESS(cond) TEST_ASSERT_FALSE(cond)
#define TEST_ASSERT_NULL_MESSAGE(p, msg)                                                          \
    unity_assert_true((p) == NULL, " Expected NULL", (msg), __LINE__)
#define TEST_ASSERT_NULL(p) TEST_ASSERT_NULL_MESSAGE(p, NULL)
#define TEST_ASSERT_NOT_NULL_MESSAGE(p, msg)                                                      \
    unity_assert_true((p) != NULL, " Expected Non-NULL", (msg), __LINE__)
#define TEST_ASSERT_NOT_NULL(p) TEST_ASSERT_NOT_NULL_MESSAGE(p, NULL)

/* ---- Equality of numbers ---- */
#define TEST_ASSERT_EQUAL_INT_MESSAGE(e, a, msg)                                                  \
    unity_assert_equal_number((intmax_t)(int)(e), (intmax_t)(int)(a), (msg), __LINE__,            \
                              UNITY_DISPLAY_STYLE_INT)
#define TEST_ASSERT_EQUAL_INT(e, a) TEST_ASSERT_EQUAL_INT_MESSAGE(e, a, NULL)
#define TEST_ASSERT_EQUAL_MESSAGE(e, a, msg) TEST_ASSERT_EQUAL_INT_MESSAGE(e, a, msg)
#define TEST_ASSERT_EQUAL(e, a) TEST_ASSERT_EQUAL_INT_MESSAGE(e, a, NULL)
#define TEST_ASSERT_EQUAL_UINT_MESSAGE(e, a, msg)                                                 \
    unity_assert_equal_unsigned((uintmax_t)(unsigned int)(e), (uintmax_t)(unsigned int)(a),       \
                                (msg), __LINE__, UNITY_DISPLAY_STYLE_UINT)
#define TEST_ASSERT_EQUAL_UINT(e, a) TEST_ASSERT_EQUAL_UINT_MESSAGE(e, a, NULL)
#define TEST_ASSERT_EQUAL_UINT32_MESSAGE(e, a, msg)                                               \
    unity_assert_equal_unsigned((uintmax_t)(uint32_t)(e), (uintmax_t)(uint32_t)(a), (msg),        \
                                __LINE__, UNITY_DISPLAY_STYLE_UINT)
#define TEST_ASSERT_EQUAL_UINT32(e, a) TEST_ASSERT_EQUAL_UINT32_MESSAGE(e, a, NULL)
#define TEST_ASSERT_EQUAL_size_t_MESSAGE(e, a, msg)                                               \
    unity_assert_equal_unsigned((uintmax_t)(size_t)(e), (uintmax_t)(size_t)(a), (msg), __LINE__,  \
                                UNITY_DISPLAY_STYLE_UINT)
#define TEST_ASSERT_EQUAL_size_t(e, a) TEST_ASSERT_EQUAL_size_t_MESSAGE(e, a, NULL)
#define TEST_ASSERT_EQUAL_HEX8_MESSAGE(e, a, msg)                                                 \
    unity_assert_equal_unsigned((uintmax_t)(uint8_t)(e), (uintmax_t)(uint8_t)(a), (msg),          \
                                __LINE__, UNITY_DISPLAY_STYLE_HEX8)
#define TEST_ASSERT_EQUAL_HEX8(e, a) TEST_ASSERT_EQUAL_HEX8_MESSAGE(e, a, NULL)
#define TEST_ASSERT_EQUAL_HEX32_MESSAGE(e, a, msg)                                                \
    unity_assert_equal_unsigned((uintmax_t)(uint32_t)(e), (uintmax_t)(uint32_t)(a), (msg),        \
                                __LINE__, UNITY_DISPLAY_STYLE_HEX32)
#define TEST_ASSERT_EQUAL_HEX32(e, a) TEST_ASSERT_EQUAL_HEX32_MESSAGE(e, a, NULL)
#define TEST_ASSERT_EQUAL_HEX_MESSAGE(e, a, msg) TEST_ASSERT_EQUAL_HEX32_MESSAGE(e, a, msg)
#define TEST_ASSERT_EQUAL_HEX(e, a) TEST_ASSERT_EQUAL_HEX32_MESSAGE(e, a, NULL)
#define TEST_ASSERT_EQUAL_PTR_MESSAGE(e, a, msg)                                                  \
    unity_assert_equal_unsigned((uintmax_t)(uintptr_t)(e), (uintmax_t)(uintptr_t)(a), (msg),      \
                                __LINE__, UNITY_DISPLAY_STYLE_POINTER)
#define TEST_ASSERT_EQUAL_PTR(e, a) TEST_ASSERT_EQUAL_PTR_MESSAGE(e, a, NULL)
#define TEST_ASSERT_NOT_EQUAL_MESSAGE(e, a, msg)                                                  \
    unity_assert_true((e) != (a), " Expected Not-Equal", (msg), __LINE__)
#define TEST_ASSERT_NOT_EQUAL(e, a) TEST_ASSERT_NOT_EQUAL_MESSAGE(e, a, NULL)

/* ---- Thresholds: TEST_ASSERT_GREATER_THAN(threshold, actual) checks actual > threshold ---- */
#define UNITY_TH_S(t, a, cmp, msg, T)                                                             \
    unity_assert_threshold_signed((intmax_t)(T)(t), (intmax_t)(T)(a), cmp, (msg), __LINE__)
#define UNITY_TH_U(t, a, cmp, msg, T)                                                             \
    unity_assert_threshold_unsigned((uintmax_t)(T)(t), (uintmax_t)(T)(a), cmp, (msg), __LINE__)

#define TEST_ASSERT_GREATER_THAN_INT_MESSAGE(t, a, m) UNITY_TH_S(t, a, UNITY_CMP_GT, m, int)
#define TEST_ASSERT_GREATER_THAN_INT(t, a) TEST_ASSERT_GREATER_THAN_INT_MESSAGE(t, a, NULL)
#define TEST_ASSERT_GREATER_THAN_MESSAGE(t, a, m) TEST_ASSERT_GREATER_THAN_INT_MESSAGE(t, a, m)
#define TEST_ASSERT_GREATER_THAN(t, a) TEST_ASSERT_GREATER_THAN_INT_MESSAGE(t, a, NULL)
#define TEST_ASSERT_GREATER_THAN_UINT_MESSAGE(t, a, m) UNITY_TH_U(t, a, UNITY_CMP_GT, m, unsigned)
#define TEST_ASSERT_GREATER_THAN_UINT(t, a) TEST_ASSERT_GREATER_THAN_UINT_MESSAGE(t, a, NULL)
#define TEST_ASSERT_GREATER_THAN_UINT32_MESSAGE(t, a, m) UNITY_TH_U(t, a, UNITY_CMP_GT, m, uint32_t)
#define TEST_ASSERT_GREATER_THAN_UINT32(t, a) TEST_ASSERT_GREATER_THAN_UINT32_MESSAGE(t, a, NULL)
#define TEST_ASSERT_GREATER_THAN_size_t_MESSAGE(t, a, m) UNITY_TH_U(t, a, UNITY_CMP_GT, m, size_t)
#define TEST_ASSERT_GREATER_THAN_size_t(t, a) TEST_ASSERT_GREATER_THAN_size_t_MESSAGE(t, a, NULL)

#define TEST_ASSERT_GREATER_OR_EQUAL_INT_MESSAGE(t, a, m) UNITY_TH_S(t, a, UNITY_CMP_GE, m, int)
#define TEST_ASSERT_GREATER_OR_EQUAL_INT(t, a) TEST_ASSERT_GREATER_OR_EQUAL_INT_MESSAGE(t, a, NULL)
#define TEST_ASSERT_GREATER_OR_EQUAL_MESSAGE(t, a, m) TEST_ASSERT_GREATER_OR_EQUAL_INT_MESSAGE(t, a, m)
#define TEST_ASSERT_GREATER_OR_EQUAL(t, a) TEST_ASSERT_GREATER_OR_EQUAL_INT_MESSAGE(t, a, NULL)
#define TEST_ASSERT_GREATER_OR_EQUAL_UINT_MESSAGE(t, a, m)                                        \
    UNITY_TH_U(t, a, UNITY_CMP_GE, m, unsigned)
#define TEST_ASSERT_GREATER_OR_EQUAL_UINT(t, a) TEST_ASSERT_GREATER_OR_EQUAL_UINT_MESSAGE(t, a, NULL)
#define TEST_ASSERT_GREATER_OR_EQUAL_UINT32_MESSAGE(t, a, m)                                      \
    UNITY_TH_U(t, a, UNITY_CMP_GE, m, uint32_t)
#define TEST_ASSERT_GREATER_OR_EQUAL_UINT32(t, a)                                                 \
    TEST_ASSERT_GREATER_OR_EQUAL_UINT32_MESSAGE(t, a, NULL)
#define TEST_ASSERT_GREATER_OR_EQUAL_size_t_MESSAGE(t, a, m)                                      \
    UNITY_TH_U(t, a, UNITY_CMP_GE, m, size_t)
#define TEST_ASSERT_GREATER_OR_EQUAL_size_t(t, a)                                                 \
    TEST_ASSERT_GREATER_OR_EQUAL_size_t_MESSAGE(t, a, NULL)

#define TEST_ASSERT_LESS_THAN_INT_MESSAGE(t, a, m) UNITY_TH_S(t, a, UNITY_CMP_LT, m, int)
#define TEST_ASSERT_LESS_THAN_INT(t, a) TEST_ASSERT_LESS_THAN_INT_MESSAGE(t, a, NULL)
#define TEST_ASSERT_LESS_THAN_MESSAGE(t, a, m) TEST_ASSERT_LESS_THAN_INT_MESSAGE(t, a, m)
#define TEST_ASSERT_LESS_THAN(t, a) TEST_ASSERT_LESS_THAN_INT_MESSAGE(t, a, NULL)
#define TEST_ASSERT_LESS_THAN_UINT_MESSAGE(t, a, m) UNITY_TH_U(t, a, UNITY_CMP_LT, m, unsigned)
#define TEST_ASSERT_LESS_THAN_UINT(t, a) TEST_ASSERT_LESS_THAN_UINT_MESSAGE(t, a, NULL)
#define TEST_ASSERT_LESS_THAN_UINT32_MESSAGE(t, a, m) UNITY_TH_U(t, a, UNITY_CMP_LT, m, uint32_t)
#define TEST_ASSERT_LESS_THAN_UINT32(t, a) TEST_ASSERT_LESS_THAN_UINT32_MESSAGE(t, a, NULL)
#define TEST_ASSERT_LESS_THAN_size_t_MESSAGE(t, a, m) UNITY_TH_U(t, a, UNITY_CMP_LT, m, size_t)
#define TEST_ASSERT_LESS_THAN_size_t(t, a) TEST_ASSERT_LESS_THAN_size_t_MESSAGE(t, a, NULL)

#define TEST_ASSERT_LESS_OR_EQUAL_INT_MESSAGE(t, a, m) UNITY_TH_S(t, a, UNITY_CMP_LE, m, int)
#define TEST_ASSERT_LESS_OR_EQUAL_INT(t, a) TEST_ASSERT_LESS_OR_EQUAL_INT_MESSAGE(t, a, NULL)
#define TEST_ASSERT_LESS_OR_EQUAL_MESSAGE(t, a, m) TEST_ASSERT_LESS_OR_EQUAL_INT_MESSAGE(t, a, m)
#define TEST_ASSERT_LESS_OR_EQUAL(t, a) TEST_ASSERT_LESS_OR_EQUAL_INT_MESSAGE(t, a, NULL)
#define TEST_ASSERT_LESS_OR_EQUAL_UINT_MESSAGE(t, a, m) UNITY_TH_U(t, a, UNITY_CMP_LE, m, unsigned)
#define TEST_ASSERT_LESS_OR_EQUAL_UINT(t, a) TEST_ASSERT_LESS_OR_EQUAL_UINT_MESSAGE(t, a, NULL)
#define TEST_ASSERT_LESS_OR_EQUAL_UINT32_MESSAGE(t, a, m)                                         \
    UNITY_TH_U(t, a, UNITY_CMP_LE, m, uint32_t)
#define TEST_ASSERT_LESS_OR_EQUAL_UINT32(t, a) TEST_ASSERT_LESS_OR_EQUAL_UINT32_MESSAGE(t, a, NULL)
#define TEST_ASSERT_LESS_OR_EQUAL_size_t_MESSAGE(t, a, m) UNITY_TH_U(t, a, UNITY_CMP_LE, m, size_t)
#define TEST_ASSERT_LESS_OR_EQUAL_size_t(t, a) TEST_ASSERT_LESS_OR_EQUAL_size_t_MESSAGE(t, a, NULL)

/* ---- Memory and strings ---- */
#define TEST_ASSERT_EQUAL_MEMORY_MESSAGE(e, a, len, msg)                                          \
    unity_assert_equal_memory((e), (a), (size_t)(len), (msg), __LINE__)
#define TEST_ASSERT_EQUAL_MEMORY(e, a, len) TEST_ASSERT_EQUAL_MEMORY_MESSAGE(e, a, len, NULL)

/* Each element of an array equals one value (the "EACH_EQUAL" family). */
#define UNITY_EACH_EQUAL(e, a, size, n, msg)                                                      \
    unity_assert_each_equal((uintmax_t)(e), (a), (size), (size_t)(n), (msg), __LINE__)
#define TEST_ASSERT_EACH_EQUAL_UINT8_MESSAGE(e, a, n, msg) UNITY_EACH_EQUAL(e, a, 1, n, msg)
#define TEST_ASSERT_EACH_EQUAL_UINT8(e, a, n) UNITY_EACH_EQUAL(e, a, 1, n, NULL)
#define TEST_ASSERT_EACH_EQUAL_HEX8_MESSAGE(e, a, n, msg) UNITY_EACH_EQUAL(e, a, 1, n, msg)
#define TEST_ASSERT_EACH_EQUAL_HEX8(e, a, n) UNITY_EACH_EQUAL(e, a, 1, n, NULL)
#define TEST_ASSERT_EACH_EQUAL_UINT16(e, a, n) UNITY_EACH_EQUAL(e, a, 2, n, NULL)
#define TEST_ASSERT_EACH_EQUAL_HEX16(e, a, n) UNITY_EACH_EQUAL(e, a, 2, n, NULL)
#define TEST_ASSERT_EACH_EQUAL_UINT32_MESSAGE(e, a, n, msg) UNITY_EACH_EQUAL(e, a, 4, n, msg)
#define TEST_ASSERT_EACH_EQUAL_UINT32(e, a, n) UNITY_EACH_EQUAL(e, a, 4, n, NULL)
#define TEST_ASSERT_EACH_EQUAL_HEX32(e, a, n) UNITY_EACH_EQUAL(e, a, 4, n, NULL)
#define TEST_ASSERT_EQUAL_STRING_MESSAGE(e, a, msg)                                               \
    unity_assert_equal_string((e), (a), (msg), __LINE__)
#define TEST_ASSERT_EQUAL_STRING(e, a) TEST_ASSERT_EQUAL_STRING_MESSAGE(e, a, NULL)

#ifdef __cplusplus
}
#endif

#endif /* HEAPCAPS_UNITY_H */
