// heapcaps-test: features=HEAP_TRACING_STANDALONE,HEAP_USE_HOOKS cflags=-DCONFIG_HEAP_USE_HOOKS
/*
 * Heap tracing (standalone) and the allocation/free hooks, on every simulated chip.
 * Ports ESP-IDF's test_heap_trace.c cases (#12-14, #16-20 in the spec's tests.md; #15 needs a
 * C library allocating through heapcaps and is covered by nothing here) and the hook test (#28),
 * and checks the dump text line for line against ESP-IDF's format.
 * test_heap_trace_hashmap.c includes this file again with the hash map enabled.
 */
#include "heapcaps_test_util.h"
#include "esp_heap_trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#define NUM_RECORDS 8
static heap_trace_record_t recs[NUM_RECORDS];

/* The first init allocates the hash map (hash map builds) once; do it before any test so the
 * leak check does not count it. */
__attribute__((constructor(110))) static void trace_init_once(void)
{
    if (getenv("HEAPCAPS_CHIP") == NULL) {
        return; /* the parent process only re-executes itself per chip */
    }
    heapcaps_test_boot();
    heap_trace_init_standalone(recs, NUM_RECORDS);
}

static void trace_begin(heap_trace_mode_t mode, size_t n)
{
    (void)heap_trace_stop();
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_init_standalone(recs, n));
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_start(mode));
}

static heap_trace_record_t get(size_t i)
{
    heap_trace_record_t r;
    memset(&r, 0, sizeof r);
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_get(i, &r));
    return r;
}

/* ---- capture of the diagnostic console (stderr) ---- */
static FILE *cap_file;
static int cap_saved = -1;

static void capture_begin(void)
{
    fflush(stderr);
    cap_file = tmpfile();
    TEST_ASSERT_NOT_NULL(cap_file);
    cap_saved = dup(2);
    dup2(fileno(cap_file), 2);
}

static char *capture_end(void)
{
    static char text[16384];
    fflush(stderr);
    dup2(cap_saved, 2);
    close(cap_saved);
    long n = ftell(cap_file);
    rewind(cap_file);
    size_t got = fread(text, 1, n > 0 && (size_t)n < sizeof text ? (size_t)n : sizeof text - 1,
                       cap_file);
    text[got] = 0;
    fclose(cap_file);
    fputs(text, stderr); /* keep it visible in the log */
    return text;
}

/* Appends printf output to `buf` (the expected text). */
static void add(char *buf, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
}

/* esp_rom_printf's %p: "0x" and at least 8 lowercase hex digits. */
#define P(p) ((unsigned long)(uintptr_t)(p))

/* One record line as ESP-IDF prints it. */
static void add_record(char *buf, size_t cap, const heap_trace_record_t *r, const char *label,
                       heap_trace_mode_t mode)
{
    const int depth = CONFIG_HEAP_TRACING_STACK_DEPTH;
    add(buf, cap, "%6d bytes (@ 0x%08lx%s) allocated CPU %d ccount 0x%08x", (int)r->size,
        P(r->address), label, (int)(r->ccount & 1), (unsigned)(r->ccount & ~3u));
#if CONFIG_HEAP_TRACING_STACK_DEPTH > 0
    if (r->alloced_by[0] != NULL) {
        add(buf, cap, " caller ");
        for (int j = 0; j < depth && r->alloced_by[j] != NULL; j++) {
            add(buf, cap, "0x%08lx%s", P(r->alloced_by[j]), j < depth - 1 ? ":" : "");
        }
    }
#endif
    if (r->freed) {
#if CONFIG_HEAP_TRACING_STACK_DEPTH > 0
        if (mode == HEAP_TRACE_ALL && r->freed_by[0] != NULL) {
            add(buf, cap, "\nfreed by ");
            for (int j = 0; j < depth; j++) {
                add(buf, cap, "0x%08lx%s", P(r->freed_by[j]), j < depth - 1 ? ":" : "\n");
            }
            return;
        }
#endif
        (void)mode;
        add(buf, cap, " freed\n");
    } else {
        add(buf, cap, "\n");
    }
}

TEST_CASE("heap trace leak check", "[heap-trace]")
{
    trace_begin(HEAP_TRACE_LEAKS, NUM_RECORDS);
    void *a = heap_caps_malloc(64, MALLOC_CAP_DEFAULT);
    void *b = heap_caps_malloc(32, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_EQUAL(2, heap_trace_get_count());
    TEST_ASSERT_EQUAL_PTR(a, get(0).address);
    TEST_ASSERT_EQUAL_PTR(b, get(1).address);
    TEST_ASSERT_EQUAL_PTR(a, recs[0].address);
    TEST_ASSERT_EQUAL_PTR(b, recs[1].address);
    TEST_ASSERT_EQUAL(64, get(0).size);
    heap_caps_free(a);
    TEST_ASSERT_EQUAL(1, heap_trace_get_count());
    TEST_ASSERT_NULL(recs[0].address);
    TEST_ASSERT_EQUAL_PTR(b, get(0).address);
    heap_caps_free(b);
    TEST_ASSERT_EQUAL(0, heap_trace_get_count());
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_stop());
}

TEST_CASE("heap trace records heap_caps_calloc", "[heap-trace]")
{
    trace_begin(HEAP_TRACE_LEAKS, NUM_RECORDS);
    void *p = heap_caps_calloc(4, 16, MALLOC_CAP_INTERNAL);
    TEST_ASSERT_NOT_NULL(p);
    TEST_ASSERT_EQUAL(1, heap_trace_get_count());
    TEST_ASSERT_EQUAL(64, get(0).size);
    TEST_ASSERT_EQUAL_PTR(p, get(0).address);
    heap_caps_free(p);
    TEST_ASSERT_EQUAL(0, heap_trace_get_count());
    heap_trace_stop();
}

TEST_CASE("heap trace wrapped buffer check", "[heap-trace]")
{
    void *p[NUM_RECORDS + 1];
    trace_begin(HEAP_TRACE_LEAKS, NUM_RECORDS);
    for (int i = 0; i < NUM_RECORDS + 1; i++) {
        p[i] = heap_caps_malloc(96, MALLOC_CAP_DEFAULT);
        TEST_ASSERT_NOT_NULL(p[i]);
    }
    TEST_ASSERT_EQUAL(NUM_RECORDS, heap_trace_get_count());
    /* The oldest record was dropped; the newest is there. */
    TEST_ASSERT_EQUAL_PTR(p[1], get(0).address);
    TEST_ASSERT_EQUAL_PTR(p[NUM_RECORDS], get(NUM_RECORDS - 1).address);
    heap_trace_summary_t s;
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_summary(&s));
    TEST_ASSERT_TRUE(s.has_overflowed);
    for (int i = 0; i < NUM_RECORDS + 1; i++) {
        heap_caps_free(p[i]);
    }
    TEST_ASSERT_EQUAL(0, heap_trace_get_count());
    void *q = heap_caps_malloc(96, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_EQUAL(1, heap_trace_get_count());
    TEST_ASSERT_EQUAL_PTR(q, get(0).address);
    heap_caps_free(q);
    heap_trace_stop();
}

TEST_CASE("can stop recording allocs but continue recording frees", "[heap-trace]")
{
    trace_begin(HEAP_TRACE_LEAKS, NUM_RECORDS);
    void *a = heap_caps_malloc(40, MALLOC_CAP_DEFAULT);
    void *b = heap_caps_malloc(40, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_EQUAL(2, heap_trace_get_count());
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_alloc_pause());
    TEST_ASSERT_EQUAL(ESP_ERR_INVALID_STATE, heap_trace_alloc_pause());
    void *c = heap_caps_malloc(40, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_EQUAL(2, heap_trace_get_count());
    heap_caps_free(a);
    TEST_ASSERT_EQUAL(1, heap_trace_get_count());
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_resume());
    TEST_ASSERT_EQUAL(ESP_ERR_INVALID_STATE, heap_trace_resume());
    void *d = heap_caps_malloc(40, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_EQUAL(2, heap_trace_get_count());
    TEST_ASSERT_EQUAL_PTR(d, get(1).address);
    heap_caps_free(b);
    heap_caps_free(c);
    heap_caps_free(d);
    TEST_ASSERT_EQUAL(0, heap_trace_get_count());
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_stop());
    TEST_ASSERT_EQUAL(ESP_ERR_INVALID_STATE, heap_trace_stop());
}

TEST_CASE("check for summary value validity", "[heap-trace]")
{
    void *p[3];
    trace_begin(HEAP_TRACE_ALL, 2);
    for (int i = 0; i < 3; i++) {
        p[i] = heap_caps_malloc(50, MALLOC_CAP_DEFAULT);
    }
    heap_trace_summary_t s;
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_summary(&s));
    TEST_ASSERT_EQUAL(HEAP_TRACE_ALL, s.mode);
    TEST_ASSERT_EQUAL(2, s.count);
    TEST_ASSERT_EQUAL(2, s.capacity);
    TEST_ASSERT_EQUAL(3, s.total_allocations);
    TEST_ASSERT_EQUAL(0, s.total_frees);
    TEST_ASSERT_TRUE(s.has_overflowed);
    TEST_ASSERT_GREATER_OR_EQUAL(2, s.high_water_mark);
    for (int i = 0; i < 3; i++) {
        heap_caps_free(p[i]);
    }
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_summary(&s));
    TEST_ASSERT_EQUAL(3, s.total_frees);
    /* ALL mode keeps freed records, marked. */
    TEST_ASSERT_EQUAL(2, s.count);
    TEST_ASSERT_TRUE(get(0).freed);
    TEST_ASSERT_TRUE(get(1).freed);
#if CONFIG_HEAP_TRACE_HASH_MAP
    TEST_ASSERT_EQUAL(2, s.total_hashmap_hits);
    TEST_ASSERT_EQUAL(1, s.total_hashmap_miss);
#endif
    heap_trace_stop();
}

TEST_CASE("heap trace error codes and state machine", "[heap-trace]")
{
    heap_trace_summary_t s;
    heap_trace_record_t r;
    trace_begin(HEAP_TRACE_ALL, NUM_RECORDS);
    TEST_ASSERT_EQUAL(ESP_ERR_INVALID_STATE, heap_trace_init_standalone(recs, NUM_RECORDS));
    TEST_ASSERT_EQUAL(ESP_ERR_INVALID_STATE, heap_trace_resume());
    TEST_ASSERT_EQUAL(ESP_ERR_INVALID_STATE, heap_trace_get(0, NULL));
    TEST_ASSERT_EQUAL(ESP_ERR_INVALID_ARG, heap_trace_get(0, &r));
    TEST_ASSERT_EQUAL(ESP_ERR_INVALID_ARG, heap_trace_summary(NULL));
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_alloc_pause());
    TEST_ASSERT_EQUAL(ESP_ERR_INVALID_STATE, heap_trace_init_standalone(recs, NUM_RECORDS));
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_stop());
    TEST_ASSERT_EQUAL(ESP_ERR_INVALID_ARG, heap_trace_init_standalone(NULL, NUM_RECORDS));
    TEST_ASSERT_EQUAL(ESP_ERR_INVALID_ARG, heap_trace_init_standalone(recs, 0));
    /* From stopped, pause is a state change too. */
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_alloc_pause());
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_stop());
    /* Stopped: nothing recorded. */
    void *p = heap_caps_malloc(10, MALLOC_CAP_DEFAULT);
    heap_caps_free(p);
    TEST_ASSERT_EQUAL(0, heap_trace_get_count());
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_summary(&s));
    TEST_ASSERT_EQUAL(0, s.total_allocations);
    TEST_ASSERT_EQUAL(0, s.total_frees);
    /* start while started restarts (clears). */
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_start(HEAP_TRACE_ALL));
    p = heap_caps_malloc(10, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_EQUAL(1, heap_trace_get_count());
    TEST_ASSERT_EQUAL(ESP_OK, heap_trace_start(HEAP_TRACE_LEAKS));
    TEST_ASSERT_EQUAL(0, heap_trace_get_count());
    heap_caps_free(p);
    heap_trace_stop();
}

HEAPCAPS_CHILD_SCENARIO(trace_start_without_buffer)
{
    /* A fresh process: no buffer was ever given. */
    CHILD_CHECK(heap_trace_start(HEAP_TRACE_ALL) == ESP_ERR_INVALID_STATE);
    CHILD_CHECK(heap_trace_get_count() == 0);
    _exit(0);
}

TEST_CASE("heap trace start without a buffer fails", "[heap-trace]")
{
    HEAPCAPS_TEST_IN_CHILD_OK("trace_start_without_buffer");
}

TEST_CASE("heap trace records realloc as a free and an allocation", "[heap-trace]")
{
    trace_begin(HEAP_TRACE_ALL, NUM_RECORDS);
    void *p = heap_caps_malloc(100, MALLOC_CAP_DEFAULT);
    void *q = heap_caps_realloc(p, 3000, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(q);
    TEST_ASSERT_EQUAL(2, heap_trace_get_count());
    TEST_ASSERT_EQUAL_PTR(p, get(0).address);
    TEST_ASSERT_TRUE(get(0).freed);
    TEST_ASSERT_EQUAL_PTR(q, get(1).address);
    TEST_ASSERT_EQUAL(3000, get(1).size);
    TEST_ASSERT_FALSE(get(1).freed);
    /* A failed realloc leaves the block alive: no free is recorded (ESP-IDF records one). */
    void *r = heap_caps_realloc(q, 64 * 1024 * 1024, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NULL(r);
    TEST_ASSERT_EQUAL(2, heap_trace_get_count());
    TEST_ASSERT_FALSE(get(1).freed);
    /* realloc(p, 0) is a free only. */
    TEST_ASSERT_NULL(heap_caps_realloc(q, 0, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_EQUAL(2, heap_trace_get_count());
    TEST_ASSERT_TRUE(get(1).freed);
    heap_trace_summary_t s;
    heap_trace_summary(&s);
    TEST_ASSERT_EQUAL(2, s.total_allocations);
    TEST_ASSERT_EQUAL(2, s.total_frees);
    heap_trace_stop();
}

TEST_CASE("heap trace: a reused address marks the newest record", "[heap-trace]")
{
    trace_begin(HEAP_TRACE_ALL, NUM_RECORDS);
    void *a = heap_caps_malloc(200, MALLOC_CAP_DEFAULT);
    heap_caps_free(a);
    void *b = heap_caps_malloc(200, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_EQUAL_PTR(a, b); /* TLSF hands the same block back */
    heap_caps_free(b);
    TEST_ASSERT_EQUAL(2, heap_trace_get_count());
    TEST_ASSERT_TRUE(get(0).freed);
    TEST_ASSERT_TRUE(get(1).freed);
    heap_trace_stop();
}

static __attribute__((noinline)) void *alloc_here(size_t n)
{
    void *p = heap_caps_malloc(n, MALLOC_CAP_DEFAULT);
    __asm__ volatile("" ::: "memory"); /* keep the call a real call, not a tail call */
    return p;
}

static __attribute__((noinline)) void free_here(void *p)
{
    heap_caps_free(p);
    __asm__ volatile("" ::: "memory");
}

TEST_CASE("heap trace records the callers", "[heap-trace]")
{
#if CONFIG_HEAP_TRACING_STACK_DEPTH == 0
    TEST_IGNORE_MESSAGE("stack depth 0");
#else
    trace_begin(HEAP_TRACE_ALL, NUM_RECORDS);
    void *p = alloc_here(24);
    free_here(p);
    heap_trace_record_t r = get(0);
    uintptr_t a = (uintptr_t)(void *)alloc_here, f = (uintptr_t)(void *)free_here;
    /* The innermost caller is the return address inside the function that called heapcaps. */
    TEST_ASSERT_TRUE((uintptr_t)r.alloced_by[0] > a && (uintptr_t)r.alloced_by[0] < a + 512);
    TEST_ASSERT_TRUE((uintptr_t)r.freed_by[0] > f && (uintptr_t)r.freed_by[0] < f + 512);
    TEST_ASSERT_NOT_NULL(r.alloced_by[CONFIG_HEAP_TRACING_STACK_DEPTH - 1]);
    heap_trace_stop();
#endif
}

TEST_CASE("heap trace dump matches ESP-IDF's format line for line", "[heap-trace]")
{
    static char want[16384];
    want[0] = 0;
    trace_begin(HEAP_TRACE_ALL, 4);
    void *a = heap_caps_malloc(100, MALLOC_CAP_INTERNAL);
    void *b = heap_caps_malloc(20, MALLOC_CAP_INTERNAL);
    void *c = heap_caps_calloc(3, 7, MALLOC_CAP_INTERNAL);
    heap_caps_free(b);
    heap_trace_stop();
    capture_begin();
    heap_trace_dump();
    char *got = capture_end();

    add(want, sizeof want, "====== Heap Trace: 3 records (4 capacity) ======\n");
    for (size_t i = 0; i < 3; i++) {
        heap_trace_record_t r = get(i);
        add_record(want, sizeof want, &r, ", Internal", HEAP_TRACE_ALL);
    }
    add(want, sizeof want,
        "====== Heap Trace Summary ======\n"
        "Mode: Heap Trace All\n"
        "121 bytes alive in trace (2/3 allocations)\n"
        "records: 3 (4 capacity, %u high water mark)\n",
        0u);
    /* The high water mark survives restarts (as in ESP-IDF): take it from the summary. */
    heap_trace_summary_t s;
    heap_trace_summary(&s);
    char *hwm = strstr(want, "capacity, 0 high");
    TEST_ASSERT_NOT_NULL(hwm);
    *hwm = 0;
    add(want, sizeof want, "capacity, %u high water mark)\n", (unsigned)s.high_water_mark);
#if CONFIG_HEAP_TRACE_HASH_MAP
    add(want, sizeof want, "hashmap: 512 capacity (%u hits, %u misses)\n",
        (unsigned)s.total_hashmap_hits, (unsigned)s.total_hashmap_miss);
#endif
    add(want, sizeof want,
        "total allocations: 3\n"
        "total frees: 1\n"
        "================================\n");
    TEST_ASSERT_EQUAL_STRING(want, got);
    heap_caps_free(a);
    heap_caps_free(c);
}

TEST_CASE("heap trace dump in leaks mode", "[heap-trace]")
{
    static char want[4096];
    want[0] = 0;
    void *p[5];
    trace_begin(HEAP_TRACE_LEAKS, 3);
    for (int i = 0; i < 5; i++) {
        p[i] = heap_caps_malloc(10 + i, MALLOC_CAP_INTERNAL);
    }
    heap_caps_free(p[3]);
    heap_trace_stop();
    heap_trace_summary_t s;
    heap_trace_summary(&s);
    capture_begin();
    heap_trace_dump_caps(MALLOC_CAP_INTERNAL);
    char *got = capture_end();
    add(want, sizeof want, "====== Heap Trace: 2 records (3 capacity) ======\n");
    for (size_t i = 0; i < 2; i++) {
        heap_trace_record_t r = get(i);
        add_record(want, sizeof want, &r, ", Internal", HEAP_TRACE_LEAKS);
    }
    add(want, sizeof want,
        "====== Heap Trace Summary ======\n"
        "Mode: Heap Trace Leaks\n"
        "26 bytes 'leaked' in trace (2 allocations)\n"
        "records: 2 (3 capacity, %u high water mark)\n",
        (unsigned)s.high_water_mark);
#if CONFIG_HEAP_TRACE_HASH_MAP
    add(want, sizeof want, "hashmap: 512 capacity (%u hits, %u misses)\n",
        (unsigned)s.total_hashmap_hits, (unsigned)s.total_hashmap_miss);
#endif
    add(want, sizeof want,
        "total allocations: 5\n"
        "total frees: 1\n"
        "(NB: Internal Buffer has overflowed, so trace data is incomplete.)\n"
        "================================\n");
    TEST_ASSERT_EQUAL_STRING(want, got);
    for (int i = 0; i < 5; i++) {
        if (i != 3) {
            heap_caps_free(p[i]);
        }
    }
}

/* #18-#20: which records a caps-filtered dump shows, on chips with PSRAM. */
static void dump_filter(uint32_t caps, bool want_int, bool want_ext)
{
    if (heap_caps_get_total_size(MALLOC_CAP_SPIRAM) == 0) {
        TEST_IGNORE_MESSAGE("needs a simulated chip with PSRAM");
    }
    trace_begin(HEAP_TRACE_LEAKS, NUM_RECORDS);
    void *i = heap_caps_malloc(33, MALLOC_CAP_INTERNAL);
    void *e = heap_caps_malloc(44, MALLOC_CAP_SPIRAM);
    TEST_ASSERT_NOT_NULL(i);
    TEST_ASSERT_NOT_NULL(e);
    heap_trace_stop();
    capture_begin();
    heap_trace_dump_caps(caps);
    char *got = capture_end();
    char line[128];
    snprintf(line, sizeof line, "    33 bytes (@ 0x%08lx, Internal) allocated", P(i));
    TEST_ASSERT_EQUAL(want_int, strstr(got, line) != NULL);
    snprintf(line, sizeof line, "    44 bytes (@ 0x%08lx,    PSRAM) allocated", P(e));
    TEST_ASSERT_EQUAL(want_ext, strstr(got, line) != NULL);
    heap_caps_free(i);
    heap_caps_free(e);
}

TEST_CASE("can dump only internal memory allocations", "[trace-dump][internal]")
{
    dump_filter(MALLOC_CAP_INTERNAL, true, false);
}

TEST_CASE("can dump only external memory allocations", "[trace-dump][external]")
{
    dump_filter(MALLOC_CAP_SPIRAM, false, true);
}

TEST_CASE("can dump both external and internal allocations", "[trace-dump][all]")
{
    dump_filter(MALLOC_CAP_INTERNAL | MALLOC_CAP_SPIRAM, true, true);
}

/* ---- #28 allocation and free hooks ---- */
static volatile bool hooks_on;
static size_t n_alloc, n_free, last_size;
static void *last_alloc, *last_free;
static uint32_t last_caps;

void esp_heap_trace_alloc_hook(void *ptr, size_t size, uint32_t caps)
{
    if (hooks_on) {
        n_alloc++;
        last_alloc = ptr;
        last_size = size;
        last_caps = caps;
    }
}

void esp_heap_trace_free_hook(void *ptr)
{
    if (hooks_on) {
        n_free++;
        last_free = ptr;
    }
}

static void hooks_reset(void)
{
    n_alloc = n_free = last_size = 0;
    last_alloc = last_free = NULL;
    last_caps = 0;
    hooks_on = true;
}

TEST_CASE("test allocation and free function hooks", "[heap]")
{
    hooks_reset();
    void *p = heap_caps_malloc(1234, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_EQUAL(1, n_alloc);
    TEST_ASSERT_EQUAL_PTR(p, last_alloc);
    TEST_ASSERT_EQUAL(1234, last_size);
    TEST_ASSERT_EQUAL_HEX32(MALLOC_CAP_DEFAULT, last_caps);
    void *q = heap_caps_realloc(p, 1234, MALLOC_CAP_32BIT);
    TEST_ASSERT_EQUAL(2, n_alloc);
    /* In place (the DEFAULT heap has 32BIT): the size as given; moved: rounded up to 4. */
    TEST_ASSERT_TRUE(last_size == 1234 || last_size == 1236);
    TEST_ASSERT_EQUAL_PTR(q, last_alloc);
    heap_caps_free(q);
    TEST_ASSERT_EQUAL_PTR(q, last_free);

    hooks_reset();
    p = heap_caps_calloc(1, 1234, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_EQUAL(1, n_alloc);
    TEST_ASSERT_EQUAL(1234, last_size);
    heap_caps_free(p);
    TEST_ASSERT_EQUAL(1, n_free);
    TEST_ASSERT_EQUAL_PTR(p, last_free);

    hooks_reset();
    p = heap_caps_aligned_alloc(0x200, 1234, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_EQUAL(1, n_alloc);
    TEST_ASSERT_EQUAL_PTR(p, last_alloc);
    heap_caps_free(p);
    TEST_ASSERT_EQUAL_PTR(p, last_free);
    hooks_on = false;
}

TEST_CASE("hooks are not called for NULL, size 0 or failures; realloc(p, 0) frees", "[heap]")
{
    hooks_reset();
    heap_caps_free(NULL);
    TEST_ASSERT_NULL(heap_caps_malloc(0, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_malloc(64 * 1024 * 1024, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_NULL(heap_caps_malloc(16, MALLOC_CAP_INVALID));
    TEST_ASSERT_EQUAL(0, n_alloc);
    TEST_ASSERT_EQUAL(0, n_free);
    void *p = heap_caps_malloc(64, MALLOC_CAP_DEFAULT);
    /* Shrinking in place: alloc hook only, same pointer. */
    void *q = heap_caps_realloc(p, 48, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_EQUAL_PTR(p, q);
    TEST_ASSERT_EQUAL(2, n_alloc);
    TEST_ASSERT_EQUAL(0, n_free);
    TEST_ASSERT_EQUAL(48, last_size);
    TEST_ASSERT_NULL(heap_caps_realloc(q, 0, MALLOC_CAP_DEFAULT));
    TEST_ASSERT_EQUAL(2, n_alloc);
    TEST_ASSERT_EQUAL(1, n_free);
    TEST_ASSERT_EQUAL_PTR(q, last_free);
    hooks_on = false;
}
