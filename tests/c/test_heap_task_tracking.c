// heapcaps-test: features=HEAP_TASK_TRACKING,HEAP_TRACK_DELETED_TASKS cflags=-DCONFIG_HEAP_TASK_TRACKING,-DCONFIG_HEAP_TRACK_DELETED_TASKS
/*
 * Heap task tracking on every simulated chip, with threads standing in for FreeRTOS tasks and
 * heapcaps_sim_task_deleted() for vTaskDelete. Ports ESP-IDF's test_task_tracking.c (#48-#51 in
 * the spec's tests.md) and checks the owner word, the legacy per-task API and the print formats.
 */
/* Task statistics live in heap memory of their own (a few records per task and heap), and the
 * tasks of these tests keep theirs (HEAP_TRACK_DELETED_TASKS). */
#define HEAPCAPS_TEST_LEAK_THRESHOLD 2048
#include "heapcaps_test_util.h"
#include "esp_heap_task_info.h"

#include <pthread.h>
#include <stdio.h>
#include <unistd.h>


typedef struct {
    const char *name;
    size_t size;
    uint32_t caps;
    bool free_it;
    void *ptr;
    TaskHandle_t handle;
    heap_single_task_stat_t before;
    esp_err_t before_rc;
} job_t;

static job_t job(const char *name, size_t size, uint32_t caps)
{
    job_t j;
    memset(&j, 0, sizeof j);
    j.name = name;
    j.size = size;
    j.caps = caps;
    return j;
}

static void *task_body(void *arg)
{
    job_t *j = (job_t *)arg;
    pthread_setname_np(pthread_self(), j->name);
    j->handle = (TaskHandle_t)heapcaps_sim_current_task();
    memset(&j->before, 0, sizeof j->before);
    j->before_rc = heap_caps_alloc_single_task_stat_arrays(&j->before, NULL);
    if (j->size) {
        j->ptr = heap_caps_malloc(j->size, j->caps);
    }
    if (j->free_it) {
        heap_caps_free(j->ptr);
    }
    return NULL;
}

/* Runs one "task" (thread) to completion. */
static void run_task(job_t *j)
{
    pthread_t t;
    TEST_ASSERT_EQUAL(0, pthread_create(&t, NULL, task_body, j));
    TEST_ASSERT_EQUAL(0, pthread_join(t, NULL));
}

/* All tasks' statistics in freshly sized arrays. */
static heap_all_tasks_stat_t all_stats(void)
{
    heap_all_tasks_stat_t s;
    memset(&s, 0, sizeof s);
    TEST_ASSERT_EQUAL(ESP_OK, heap_caps_alloc_all_task_stat_arrays(&s));
    TEST_ASSERT_EQUAL(ESP_OK, heap_caps_get_all_task_stat(&s));
    return s;
}

static task_stat_t *find_task(heap_all_tasks_stat_t *s, TaskHandle_t h)
{
    for (size_t i = 0; i < s->task_count; i++) {
        if (s->stat_arr[i].handle == h) {
            return &s->stat_arr[i];
        }
    }
    return NULL;
}

TEST_CASE("heap task tracking reports created / deleted task", "[heap]")
{
    job_t j = job("tracked_task", 36, MALLOC_CAP_DEFAULT);
    run_task(&j);
    TEST_ASSERT_NOT_NULL(j.ptr);
    heap_all_tasks_stat_t s = all_stats();
    task_stat_t *t = find_task(&s, j.handle);
    TEST_ASSERT_NOT_NULL(t);
    TEST_ASSERT_TRUE(t->is_alive);
    TEST_ASSERT_EQUAL_STRING("tracked_task", t->name);
    TEST_ASSERT_EQUAL(1, t->heap_count);
    TEST_ASSERT_GREATER_OR_EQUAL(36 + sizeof(void *), t->overall_current_usage);
    TEST_ASSERT_EQUAL(t->overall_current_usage, t->overall_peak_usage);
    TEST_ASSERT_NOT_NULL(t->heap_stat);
    TEST_ASSERT_EQUAL(1, t->heap_stat[0].alloc_count);
    TEST_ASSERT_EQUAL_PTR(j.ptr, t->heap_stat[0].alloc_stat[0].address);
    TEST_ASSERT_EQUAL_PTR(j.handle, t->heap_stat[0].alloc_stat[0].task);
    heap_caps_free_all_task_stat_arrays(&s);

    heapcaps_sim_task_deleted(j.handle);
    s = all_stats();
    t = find_task(&s, j.handle);
    TEST_ASSERT_NOT_NULL(t); /* kept: HEAP_TRACK_DELETED_TASKS */
    TEST_ASSERT_FALSE(t->is_alive);
    heap_caps_free_all_task_stat_arrays(&s);

    /* Freeing the dead task's block (from another task) takes it off that task. */
    heap_caps_free(j.ptr);
    s = all_stats();
    t = find_task(&s, j.handle);
    TEST_ASSERT_NOT_NULL(t);
    TEST_ASSERT_EQUAL(0, t->overall_current_usage);
    TEST_ASSERT_EQUAL(0, t->heap_stat[0].alloc_count);
    TEST_ASSERT_NULL(t->heap_stat[0].alloc_stat);
    heap_caps_free_all_task_stat_arrays(&s);
    TEST_ASSERT_NULL(s.stat_arr);
}

TEST_CASE("heap task tracking check alloc array and get all tasks info", "[heap]")
{
    heap_all_tasks_stat_t s0 = all_stats();
    job_t j = job("counting_task", 64, MALLOC_CAP_DEFAULT);
    run_task(&j);
    heap_all_tasks_stat_t s1 = all_stats();
    TEST_ASSERT_EQUAL(s0.task_count + 1, s1.task_count);
    TEST_ASSERT_GREATER_THAN(s0.heap_count, s1.heap_count);
    TEST_ASSERT_GREATER_THAN(s0.alloc_count, s1.alloc_count);
    heap_caps_free_all_task_stat_arrays(&s0);
    heap_caps_free_all_task_stat_arrays(&s1);
    heap_caps_free(j.ptr);
    heapcaps_sim_task_deleted(j.handle);

    /* Too little room: tasks are copied, their heaps and blocks only where they all fit. */
    task_stat_t tasks[64];
    heap_all_tasks_stat_t small;
    memset(&small, 0, sizeof small);
    small.task_count = 64;
    small.stat_arr = tasks;
    TEST_ASSERT_EQUAL(ESP_OK, heap_caps_get_all_task_stat(&small));
    TEST_ASSERT_GREATER_THAN(0, small.task_count);
    TEST_ASSERT_EQUAL(0, small.heap_count);
    TEST_ASSERT_EQUAL(0, small.alloc_count);
    TEST_ASSERT_NULL(tasks[0].heap_stat);
    heap_all_tasks_stat_t bad;
    memset(&bad, 0, sizeof bad);
    bad.task_count = 1;
    TEST_ASSERT_EQUAL(ESP_ERR_INVALID_ARG, heap_caps_get_all_task_stat(&bad));
    TEST_ASSERT_EQUAL(ESP_ERR_INVALID_ARG, heap_caps_get_all_task_stat(NULL));
}

TEST_CASE("heap task tracking check alloc arrays and get info on specific task", "[heap]")
{
    job_t j = job("single_task", 100, MALLOC_CAP_32BIT | MALLOC_CAP_DMA);
    run_task(&j);
    /* Before its first allocation the task had no statistics: empty arrays. */
    TEST_ASSERT_EQUAL(ESP_OK, j.before_rc);
    TEST_ASSERT_EQUAL(0, j.before.heap_count);
    TEST_ASSERT_EQUAL(0, j.before.alloc_count);
    TEST_ASSERT_NULL(j.before.heap_stat_start);
    TEST_ASSERT_NULL(j.before.alloc_stat_start);
    TEST_ASSERT_NOT_NULL(j.ptr);

    heap_single_task_stat_t st;
    memset(&st, 0, sizeof st);
    TEST_ASSERT_EQUAL(ESP_OK, heap_caps_alloc_single_task_stat_arrays(&st, j.handle));
    TEST_ASSERT_EQUAL(1, st.heap_count);
    TEST_ASSERT_EQUAL(1, st.alloc_count);
    TEST_ASSERT_EQUAL(ESP_OK, heap_caps_get_single_task_stat(&st, j.handle));
    TEST_ASSERT_EQUAL(1, st.heap_count);
    TEST_ASSERT_EQUAL(1, st.alloc_count);
    TEST_ASSERT_EQUAL_STRING("single_task", st.stat.name);
    TEST_ASSERT_EQUAL_PTR(st.heap_stat_start, st.stat.heap_stat);
    heap_stat_t *h = &st.heap_stat_start[0];
    TEST_ASSERT_EQUAL_HEX32(MALLOC_CAP_32BIT | MALLOC_CAP_DMA,
                            h->caps & (MALLOC_CAP_32BIT | MALLOC_CAP_DMA));
    TEST_ASSERT_EQUAL_PTR(j.ptr, h->alloc_stat[0].address);
    TEST_ASSERT_GREATER_THAN(100, h->alloc_stat[0].size);
    TEST_ASSERT_GREATER_THAN(0, h->size);
    TEST_ASSERT_TRUE(strlen(h->name) > 0);
    heap_caps_free_single_task_stat_arrays(&st);

    heap_caps_free(j.ptr);
    memset(&st, 0, sizeof st);
    TEST_ASSERT_EQUAL(ESP_OK, heap_caps_alloc_single_task_stat_arrays(&st, j.handle));
    TEST_ASSERT_EQUAL(1, st.heap_count);
    TEST_ASSERT_EQUAL(0, st.alloc_count);
    TEST_ASSERT_EQUAL(ESP_OK, heap_caps_get_single_task_stat(&st, j.handle));
    TEST_ASSERT_EQUAL(1, st.heap_count);
    TEST_ASSERT_EQUAL(0, st.alloc_count);
    TEST_ASSERT_NULL(st.heap_stat_start[0].alloc_stat);
    TEST_ASSERT_EQUAL(0, st.heap_stat_start[0].current_usage);
    TEST_ASSERT_GREATER_THAN(100, st.heap_stat_start[0].peak_usage);
    heap_caps_free_single_task_stat_arrays(&st);
    heapcaps_sim_task_deleted(j.handle);

    /* Unknown task, bad arguments. */
    memset(&st, 0, sizeof st);
    TEST_ASSERT_EQUAL(ESP_FAIL, heap_caps_get_single_task_stat(&st, (TaskHandle_t)0x1234));
    TEST_ASSERT_EQUAL(ESP_ERR_INVALID_ARG, heap_caps_get_single_task_stat(NULL, NULL));
    st.heap_count = 3;
    TEST_ASSERT_EQUAL(ESP_ERR_INVALID_ARG, heap_caps_get_single_task_stat(&st, NULL));
}

TEST_CASE("heap task tracking realloc with reused TaskHandle does not underflow usage", "[heap]")
{
    /* A dead task's block reallocated by another task moves to the new owner. */
    job_t j = job("short_lived", 200, MALLOC_CAP_DEFAULT);
    run_task(&j);
    heapcaps_sim_task_deleted(j.handle);
    TaskHandle_t me = (TaskHandle_t)heapcaps_sim_current_task();
    void *q = heap_caps_realloc(j.ptr, 2000, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(q);
    q = heap_caps_realloc(q, 100, MALLOC_CAP_DEFAULT);
    heap_all_tasks_stat_t s = all_stats();
    task_stat_t *dead = find_task(&s, j.handle);
    task_stat_t *mine = find_task(&s, me);
    TEST_ASSERT_NOT_NULL(dead);
    TEST_ASSERT_NOT_NULL(mine);
    TEST_ASSERT_EQUAL(0, dead->overall_current_usage);
    TEST_ASSERT_TRUE(mine->overall_current_usage < ((size_t)1 << 30));
    TEST_ASSERT_TRUE(mine->overall_peak_usage >= mine->overall_current_usage);
    for (size_t i = 0; i < s.task_count; i++) {
        TEST_ASSERT_TRUE(s.stat_arr[i].overall_current_usage < ((size_t)1 << 30));
        TEST_ASSERT_TRUE(s.stat_arr[i].overall_peak_usage >= s.stat_arr[i].overall_current_usage);
    }
    heap_caps_free_all_task_stat_arrays(&s);
    heap_caps_free(q);

    /* A new lifetime under the same handle (a thread id the host re-used) is a new entry. */
    s = all_stats();
    size_t before = s.task_count;
    heap_caps_free_all_task_stat_arrays(&s);
    heapcaps_sim_task_deleted(me);
    void *p = heap_caps_malloc(50, MALLOC_CAP_DEFAULT);
    s = all_stats();
    TEST_ASSERT_EQUAL(before + 1, s.task_count);
    heap_caps_free_all_task_stat_arrays(&s);
    heap_caps_free(p);
}

TEST_CASE("heap task tracking: owner word and sizes", "[heap]")
{
    void *p = heap_caps_malloc(40, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_NOT_NULL(p);
    /* The word before the user data is the allocating task. */
    TaskHandle_t owner;
    memcpy(&owner, (char *)p - sizeof owner, sizeof owner);
    TEST_ASSERT_EQUAL_PTR(heapcaps_sim_current_task(), owner);
    TEST_ASSERT_GREATER_OR_EQUAL(40, heap_caps_get_allocated_size(p));
    TEST_ASSERT_EQUAL(heap_caps_get_allocated_size(p) + sizeof owner,
                      heap_caps_get_containing_block_size(p));
    heap_caps_free(p);
    void *a = heap_caps_aligned_alloc(64, 100, MALLOC_CAP_DEFAULT);
    TEST_ASSERT_EQUAL(0, (uintptr_t)a % 64);
    memcpy(&owner, (char *)a - sizeof owner, sizeof owner);
    TEST_ASSERT_EQUAL_PTR(heapcaps_sim_current_task(), owner);
    heap_caps_free(a);
    /* The largest free block is still allocatable (owner word included). */
    size_t largest = heap_caps_get_largest_free_block(MALLOC_CAP_8BIT);
    void *big = heap_caps_malloc(largest, MALLOC_CAP_8BIT);
    TEST_ASSERT_NOT_NULL(big);
    heap_caps_free(big);
}

TEST_CASE("heap task tracking legacy per-task info", "[heap]")
{
    void *p = heap_caps_malloc(300, MALLOC_CAP_8BIT);
    TaskHandle_t me = (TaskHandle_t)heapcaps_sim_current_task();
    heap_task_totals_t totals[32];
    heap_task_block_t blocks[256];
    size_t num_totals = 0;
    heap_task_info_params_t params;
    memset(&params, 0, sizeof params);
    params.caps[0] = MALLOC_CAP_8BIT;
    params.mask[0] = MALLOC_CAP_8BIT;
    params.caps[1] = MALLOC_CAP_32BIT;
    params.mask[1] = MALLOC_CAP_32BIT;
    params.tasks = &me;
    params.num_tasks = 1;
    params.totals = totals;
    params.num_totals = &num_totals;
    params.max_totals = 32;
    params.blocks = blocks;
    params.max_blocks = 256;
    size_t n = heap_caps_get_per_task_info(&params);
    TEST_ASSERT_GREATER_THAN(0, n);
    TEST_ASSERT_GREATER_THAN(0, num_totals);
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        TEST_ASSERT_EQUAL_PTR(me, blocks[i].task);
        if ((char *)blocks[i].address + sizeof(void *) == (char *)p) {
            found = true;
            TEST_ASSERT_GREATER_OR_EQUAL(300 + sizeof(void *), blocks[i].size);
        }
    }
    TEST_ASSERT_TRUE(found);
    bool counted = false;
    for (size_t i = 0; i < num_totals; i++) {
        if (totals[i].task == me) {
            counted = totals[i].size[0] >= 300 && totals[i].count[0] >= 1;
        }
    }
    TEST_ASSERT_TRUE(counted);
    heap_caps_free(p);
}

/* ---- print formats ---- */
static char *print_to_string(void (*fn)(FILE *, TaskHandle_t), TaskHandle_t h)
{
    static char text[8192];
    FILE *f = tmpfile();
    TEST_ASSERT_NOT_NULL(f);
    fn(f, h);
    fflush(f);
    long n = ftell(f);
    rewind(f);
    size_t got = fread(text, 1, n > 0 && (size_t)n < sizeof text ? (size_t)n : sizeof text - 1, f);
    text[got] = 0;
    fclose(f);
    fputs(text, stdout);
    return text;
}

TEST_CASE("heap task tracking print formats match ESP-IDF", "[heap]")
{
    job_t j = job("printed_task", 48, MALLOC_CAP_DEFAULT);
    run_task(&j);
    heap_single_task_stat_t st;
    memset(&st, 0, sizeof st);
    TEST_ASSERT_EQUAL(ESP_OK, heap_caps_alloc_single_task_stat_arrays(&st, j.handle));
    TEST_ASSERT_EQUAL(ESP_OK, heap_caps_get_single_task_stat(&st, j.handle));
    heap_stat_t *h = &st.heap_stat_start[0];
    char want[2048];
    snprintf(want, sizeof want,
             "└ ALIVE: printed_task, CURRENT MEMORY USAGE %d, PEAK MEMORY USAGE %d, TOTAL HEAP USED 1:\n"
             "     └ HEAP: %s, CAPS: 0x%08lx, SIZE: %d, USAGE: CURRENT %d (%d%%), PEAK %d (%d%%), ALLOC COUNT: 1\n"
             "          ├ ALLOC 0x%08lx, SIZE %u\n",
             (int)st.stat.overall_current_usage, (int)st.stat.overall_peak_usage, h->name,
             (unsigned long)h->caps, (int)h->size, (int)h->current_usage,
             (int)(h->current_usage * 100 / h->size), (int)h->peak_usage,
             (int)(h->peak_usage * 100 / h->size), (unsigned long)(uintptr_t)j.ptr,
             (unsigned)h->alloc_stat[0].size);
    TEST_ASSERT_EQUAL_STRING(want, print_to_string(heap_caps_print_single_task_stat, j.handle));

    snprintf(want, sizeof want,
             "┌────────────────────┬─────────┬──────────────────────┬───────────────────┬─────────────────┐\n"
             "│ TASK               │ STATUS  │ CURRENT MEMORY USAGE │ PEAK MEMORY USAGE │ TOTAL HEAP USED │\n"
             "├────────────────────┼─────────┼──────────────────────┼───────────────────┼─────────────────┤\n"
             "│ %18s │ %7s │ %20d │ %17d │ %15d │\n"
             "└────────────────────┴─────────┴──────────────────────┴───────────────────┴─────────────────┘\n",
             "printed_task", "ALIVE  ", (int)st.stat.overall_current_usage,
             (int)st.stat.overall_peak_usage, 1);
    TEST_ASSERT_EQUAL_STRING(want,
                             print_to_string(heap_caps_print_single_task_stat_overview, j.handle));
    heap_caps_free_single_task_stat_arrays(&st);
    heap_caps_free(j.ptr);
    heapcaps_sim_task_deleted(j.handle);
    /* The whole table runs too (stdout). */
    heap_caps_print_all_task_stat_overview(NULL);
    heap_caps_print_all_task_stat(stdout);
}
