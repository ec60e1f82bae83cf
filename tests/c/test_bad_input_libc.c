// heapcaps-test: c-malloc
/*
 * Bad input at the C library entry points heapcaps provides with `c-malloc` (companion of
 * test_bad_input.c): NULL, zero, SIZE_MAX, overflowing products, bad alignments, misaligned,
 * interior, foreign and freed pointers. Values and errno are checked in this process (heaps
 * intact afterwards); pointer errors must abort naming the pointer, checked in a child process.
 */
#include "heapcaps_test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>

/* Through volatile pointers: the compiler must not reason about the absurd arguments. */
static void *(*volatile v_malloc)(size_t) = malloc;
static void *(*volatile v_calloc)(size_t, size_t) = calloc;
static void *(*volatile v_realloc)(void *, size_t) = realloc;
static void *(*volatile v_aligned_alloc)(size_t, size_t) = aligned_alloc;
static void *(*volatile v_memalign)(size_t, size_t) = memalign;
static int (*volatile v_posix_memalign)(void **, size_t, size_t) = posix_memalign;
static void (*volatile v_free)(void *) = free;
static size_t (*volatile v_usable)(void *) = malloc_usable_size;

static uint32_t foreign[16];

/* stdout gets a static buffer: the first printf would otherwise allocate one from heapcaps
 * during the test (which the harness's leak check counts). */
__attribute__((constructor(104))) static void static_stdout_buffer(void)
{
    static char buf[4096];
    setvbuf(stdout, buf, _IOLBF, sizeof buf);
}
static unsigned char *blk;

static bool blk_intact(void)
{
    for (int i = 0; i < 64; i++) {
        if (blk[i] != 0x3C) {
            return false;
        }
    }
    return true;
}

enum { K_EQ, K_ABORT_NAMED };
typedef struct {
    const char *fn, *input;
    intptr_t (*run)(void);
    int kind;
    intptr_t want;
    int want_errno; /* -1: errno not checked */
} libc_case_t;

#define R(expr) return (intptr_t)(expr)
static intptr_t c_malloc0(void) { R(v_malloc(0)); }
static intptr_t c_malloc_max(void) { R(v_malloc(SIZE_MAX)); }
static intptr_t c_malloc_max4(void) { R(v_malloc(SIZE_MAX - 4)); }
static intptr_t c_calloc_ovf(void) { R(v_calloc(SIZE_MAX / 2, 3)); }
static intptr_t c_calloc_ovf2(void) { R(v_calloc((size_t)1 << (sizeof(size_t) * 4), (size_t)1 << (sizeof(size_t) * 4))); }
static intptr_t c_calloc_n0(void) { R(v_calloc(0, 16)); }
static intptr_t c_calloc_max(void) { R(v_calloc(1, SIZE_MAX)); }
static intptr_t c_realloc_max(void) { R(v_realloc(blk, SIZE_MAX) == NULL && blk_intact()); }
static intptr_t c_realloc_huge(void) { R(v_realloc(blk, (size_t)1 << 30) == NULL && blk_intact()); }
static intptr_t c_realloc_null0(void) { R(v_realloc(NULL, 0)); }
static intptr_t c_realloc_nullmax(void) { R(v_realloc(NULL, SIZE_MAX)); }
static intptr_t c_aa0(void) { R(v_aligned_alloc(0, 16)); }
static intptr_t c_aa3(void) { R(v_aligned_alloc(3, 16)); }
static intptr_t c_aamax(void) { R(v_aligned_alloc(SIZE_MAX, 16)); }
static intptr_t c_aasize(void) { R(v_aligned_alloc(16, SIZE_MAX)); }
static intptr_t c_ma0(void) { R(v_memalign(0, 16)); }
static intptr_t c_ma24(void) { R(v_memalign(24, 16)); }
static intptr_t c_pm_out_null(void) { R(v_posix_memalign(NULL, 16, 16)); }
static intptr_t c_pm_align2(void) { void *p = (void *)1; int e = v_posix_memalign(&p, 2, 16); R(e == EINVAL && p == (void *)1); }
static intptr_t c_pm_align24(void) { void *p = (void *)1; int e = v_posix_memalign(&p, 24, 16); R(e == EINVAL && p == (void *)1); }
static intptr_t c_pm_size(void) { void *p = (void *)1; int e = v_posix_memalign(&p, 16, SIZE_MAX); R(e == ENOMEM && p == (void *)1); }
static intptr_t c_pm_zero(void) { void *p = (void *)1; int e = v_posix_memalign(&p, 16, 0); R(e == 0 && p == NULL); }
static intptr_t c_usable_null(void) { R(v_usable(NULL)); }
static intptr_t c_free_null(void) { v_free(NULL); R(0); }
static intptr_t a_free_foreign(void) { heapcaps_test_target(foreign); v_free(foreign); R(0); }
static intptr_t a_free_misaligned(void) { heapcaps_test_target(blk + 1); v_free(blk + 1); R(0); }
static intptr_t a_free_interior(void) { heapcaps_test_target(blk + 8); v_free(blk + 8); R(0); }
static intptr_t a_free_double(void) { void *q = v_malloc(24); v_free(q); heapcaps_test_target(q); v_free(q); R(0); }
static intptr_t a_realloc_foreign(void) { heapcaps_test_target(foreign); (void)v_realloc(foreign, 8); R(0); }
static intptr_t a_realloc_freed(void) { void *q = v_malloc(24); v_free(q); heapcaps_test_target(q); (void)v_realloc(q, 100); R(0); }
/* A size query answers 0 for what is not a live block (see README). */
static intptr_t a_usable_foreign(void) { R((intptr_t)v_usable(foreign)); }

static const libc_case_t cases[] = {
    {"malloc", "0", c_malloc0, K_EQ, 0, -1},
    {"malloc", "SIZE_MAX", c_malloc_max, K_EQ, 0, ENOMEM},
    {"malloc", "SIZE_MAX-4", c_malloc_max4, K_EQ, 0, ENOMEM},
    {"calloc", "SIZE_MAX/2 x 3 (overflow)", c_calloc_ovf, K_EQ, 0, ENOMEM},
    {"calloc", "2^(w/2) x 2^(w/2) (overflow to 0)", c_calloc_ovf2, K_EQ, 0, ENOMEM},
    {"calloc", "0 x 16", c_calloc_n0, K_EQ, 0, -1},
    {"calloc", "1 x SIZE_MAX", c_calloc_max, K_EQ, 0, ENOMEM},
    {"realloc", "live block, SIZE_MAX (kept)", c_realloc_max, K_EQ, 1, ENOMEM},
    {"realloc", "live block, 1 GiB (kept)", c_realloc_huge, K_EQ, 1, ENOMEM},
    {"realloc", "NULL, 0", c_realloc_null0, K_EQ, 0, -1},
    {"realloc", "NULL, SIZE_MAX", c_realloc_nullmax, K_EQ, 0, ENOMEM},
    {"aligned_alloc", "alignment 0", c_aa0, K_EQ, 0, EINVAL},
    {"aligned_alloc", "alignment 3", c_aa3, K_EQ, 0, EINVAL},
    {"aligned_alloc", "alignment SIZE_MAX", c_aamax, K_EQ, 0, EINVAL},
    {"aligned_alloc", "size SIZE_MAX", c_aasize, K_EQ, 0, ENOMEM},
    {"memalign", "alignment 0", c_ma0, K_EQ, 0, EINVAL},
    {"memalign", "alignment 24", c_ma24, K_EQ, 0, EINVAL},
    {"posix_memalign", "out NULL", c_pm_out_null, K_EQ, EINVAL, -1},
    {"posix_memalign", "alignment 2 (< sizeof(void *))", c_pm_align2, K_EQ, 1, -1},
    {"posix_memalign", "alignment 24", c_pm_align24, K_EQ, 1, -1},
    {"posix_memalign", "size SIZE_MAX", c_pm_size, K_EQ, 1, -1},
    {"posix_memalign", "size 0", c_pm_zero, K_EQ, 1, -1},
    {"malloc_usable_size", "NULL", c_usable_null, K_EQ, 0, -1},
    {"free", "NULL", c_free_null, K_EQ, 0, -1},
    {"free", "foreign pointer", a_free_foreign, K_ABORT_NAMED, 0, -1},
    {"free", "misaligned pointer", a_free_misaligned, K_ABORT_NAMED, 0, -1},
    {"free", "interior pointer", a_free_interior, K_ABORT_NAMED, 0, -1},
    {"free", "double free", a_free_double, K_ABORT_NAMED, 0, -1},
    {"realloc", "foreign pointer", a_realloc_foreign, K_ABORT_NAMED, 0, -1},
    {"realloc", "freed pointer", a_realloc_freed, K_ABORT_NAMED, 0, -1},
    {"malloc_usable_size", "foreign pointer", a_usable_foreign, K_EQ, 0, -1},
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* The case index travels to the child in a file named after the parent's pid: setenv would
 * allocate from heapcaps (a leak the harness reports, and a 4-byte aligned environ array). */
static void case_file(pid_t parent, char *path, size_t n)
{
    snprintf(path, n, "/tmp/heapcaps-bad-libc-%ld", (long)parent);
}

static void prep(void)
{
    blk = (unsigned char *)v_malloc(64);
    memset(blk, 0x3C, 64);
}

HEAPCAPS_CHILD_SCENARIO(bad_libc_child)
{
    char path[64], idx[16] = {0};
    case_file(getppid(), path, sizeof path);
    int fd = open(path, O_RDONLY);
    CHILD_CHECK(fd >= 0);
    CHILD_CHECK(read(fd, idx, sizeof idx - 1) > 0);
    close(fd);
    size_t i = (size_t)strtoul(idx, NULL, 10);
    CHILD_CHECK(i < N_CASES);
    prep();
    intptr_t r = cases[i].run();
    fprintf(stderr, "returned %ld instead of aborting\n", (long)r);
    _exit(3);
}

TEST_CASE("bad input at the C library entry points gives its defined outcome", "[bad_input][libc]")
{
    int failures = 0;
    size_t free0 = heap_caps_get_free_size(MALLOC_CAP_8BIT);
    for (size_t i = 0; i < N_CASES; i++) {
        const libc_case_t *c = &cases[i];
        bool ok;
        if (c->kind == K_EQ) {
            prep();
            errno = 0;
            intptr_t r = c->run();
            int err = errno;
            v_free(blk);
            ok = r == c->want && (c->want_errno < 0 || err == c->want_errno) &&
                 heap_caps_check_integrity_all(true);
            if (!ok) {
                printf("BAD INPUT %s(%s): got %ld errno %d, want %ld errno %d\n", c->fn, c->input,
                       (long)r, err, (long)c->want, c->want_errno);
            }
        } else {
            char path[64], idx[16];
            case_file(getpid(), path, sizeof path);
            int n = snprintf(idx, sizeof idx, "%zu", i);
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            TEST_ASSERT_TRUE(fd >= 0 && write(fd, idx, (size_t)n) == n);
            close(fd);
            heapcaps_child_t ch = heapcaps_test_run_child("bad_libc_child");
            ok = !ch.exited && ch.signal == SIGABRT && heapcaps_test_names_target(ch.out);
            if (!ok) {
                printf("BAD INPUT %s(%s): expected an abort naming the pointer\n", c->fn, c->input);
                heapcaps_test_show_child(&ch);
            }
        }
        failures += !ok;
        size_t now = heap_caps_get_free_size(MALLOC_CAP_8BIT);
        if (now != free0) {
            printf("case %zu %s(%s): free 8BIT %zu -> %zu\n", i, c->fn, c->input, free0, now);
            free0 = now;
        }
    }
    char path[64];
    case_file(getpid(), path, sizeof path);
    unlink(path);
    printf("libc bad-input table: 8 functions x %zu cases, %d failures\n", N_CASES, failures);
    TEST_ASSERT_EQUAL_INT(0, failures);
}
