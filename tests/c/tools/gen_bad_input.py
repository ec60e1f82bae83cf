# Generates tests/c/test_bad_input.c from the table below: python3 tests/c/tools/gen_bad_input.py
cases = []
def c(fn, inp, kind, want, body):
    cases.append((fn, inp, kind, want, body))
EQ, AB, ABN, CH = "K_EQ", "K_ABORT", "K_ABORT_NAMED", "K_CHILD_EQ"
NUL = "0"
NOMEM, ARG, FAIL, SIZE, NF, STATE = "ESP_ERR_NO_MEM", "ESP_ERR_INVALID_ARG", "ESP_FAIL", "ESP_ERR_INVALID_SIZE", "ESP_ERR_NOT_FOUND", "ESP_ERR_INVALID_STATE"
D8 = "MALLOC_CAP_8BIT"
# --- allocation functions: zero, SIZE_MAX, impossible caps, bad alignment
for f, call in [("heap_caps_malloc", "heap_caps_malloc(%s, %s)"), ("heap_caps_malloc_base", "heap_caps_malloc_base(%s, %s)")]:
    c(f, "size 0", EQ, NUL, "return (intptr_t)" + call % ("0", D8))
    c(f, "size SIZE_MAX", EQ, NUL, "return (intptr_t)" + call % ("SIZE_MAX", D8))
    c(f, "size SIZE_MAX-3", EQ, NUL, "return (intptr_t)" + call % ("SIZE_MAX - 3", D8))
    c(f, "caps 0", EQ, NUL, "return (intptr_t)" + call % ("16", "0"))
    c(f, "caps INVALID", EQ, NUL, "return (intptr_t)" + call % ("16", "MALLOC_CAP_INVALID"))
    c(f, "caps EXEC|8BIT", EQ, NUL, "return (intptr_t)" + call % ("16", "MALLOC_CAP_EXEC | MALLOC_CAP_8BIT"))
for f in ["heap_caps_calloc", "heap_caps_calloc_base"]:
    c(f, "n*size overflows", EQ, NUL, "return (intptr_t)%s(SIZE_MAX / 2, 3, %s)" % (f, D8))
    c(f, "n 0", EQ, NUL, "return (intptr_t)%s(0, 16, %s)" % (f, D8))
    c(f, "size 0", EQ, NUL, "return (intptr_t)%s(16, 0, %s)" % (f, D8))
    c(f, "SIZE_MAX x 1", EQ, NUL, "return (intptr_t)%s(SIZE_MAX, 1, %s)" % (f, D8))
for f in ["heap_caps_aligned_alloc", "heap_caps_aligned_alloc_base"]:
    if f.endswith("_base"):
        # ESP-IDF's base function does not validate: alignment <= 4 is a plain allocation.
        c(f, "alignment 0 (plain block)", EQ, "1", "void *p = %s(0, 16, %s); bool ok = p != NULL && ((uintptr_t)p & 3) == 0; heap_caps_free(p); return ok" % (f, D8))
        c(f, "alignment 3 (plain block)", EQ, "1", "void *p = %s(3, 16, %s); bool ok = p != NULL && ((uintptr_t)p & 3) == 0; heap_caps_free(p); return ok" % (f, D8))
    else:
        c(f, "alignment 0", EQ, NUL, "return (intptr_t)%s(0, 16, %s)" % (f, D8))
        c(f, "alignment 3", EQ, NUL, "return (intptr_t)%s(3, 16, %s)" % (f, D8))
    c(f, "alignment 2^31+1", EQ, NUL, "return (intptr_t)%s(((size_t)1 << 31) + 1, 16, %s)" % (f, D8))
    c(f, "alignment SIZE_MAX", EQ, NUL, "return (intptr_t)%s(SIZE_MAX, 16, %s)" % (f, D8))
    c(f, "huge alignment 2^30", EQ, NUL, "return (intptr_t)%s((size_t)1 << 30, 16, %s)" % (f, D8))
    c(f, "size 0", EQ, NUL, "return (intptr_t)%s(16, 0, %s)" % (f, D8))
    c(f, "size SIZE_MAX", EQ, NUL, "return (intptr_t)%s(16, SIZE_MAX, %s)" % (f, D8))
c("heap_caps_aligned_calloc", "n*size overflows", EQ, NUL, "return (intptr_t)heap_caps_aligned_calloc(16, SIZE_MAX / 2, 3, %s)" % D8)
c("heap_caps_aligned_calloc", "alignment 0", EQ, NUL, "return (intptr_t)heap_caps_aligned_calloc(0, 1, 16, %s)" % D8)
c("heap_caps_aligned_calloc", "alignment 12", EQ, NUL, "return (intptr_t)heap_caps_aligned_calloc(12, 1, 16, %s)" % D8)
c("heap_caps_malloc_default", "size 0", EQ, NUL, "return (intptr_t)heap_caps_malloc_default(0)")
c("heap_caps_malloc_default", "size SIZE_MAX", EQ, NUL, "return (intptr_t)heap_caps_malloc_default(SIZE_MAX)")
c("heap_caps_aligned_alloc_default", "alignment 0", EQ, NUL, "return (intptr_t)heap_caps_aligned_alloc_default(0, 16)")
c("heap_caps_aligned_alloc_default", "alignment 6", EQ, NUL, "return (intptr_t)heap_caps_aligned_alloc_default(6, 16)")
c("heap_caps_aligned_alloc_default", "size SIZE_MAX", EQ, NUL, "return (intptr_t)heap_caps_aligned_alloc_default(16, SIZE_MAX)")
for f in ["heapcaps_malloc_prefer_array"]:
    c(f, "caps NULL, num 2", EQ, NUL, "return (intptr_t)%s(16, 2, NULL)" % f)
    c(f, "num 0", EQ, NUL, "return (intptr_t)%s(16, 0, prefer_caps)" % f)
    c(f, "size SIZE_MAX", EQ, NUL, "return (intptr_t)%s(SIZE_MAX, 2, prefer_caps)" % f)
c("heapcaps_calloc_prefer_array", "n*size overflows", EQ, NUL, "return (intptr_t)heapcaps_calloc_prefer_array(SIZE_MAX / 2, 3, 2, prefer_caps)")
c("heapcaps_calloc_prefer_array", "caps NULL", EQ, NUL, "return (intptr_t)heapcaps_calloc_prefer_array(1, 16, 2, NULL)")
c("heap_caps_malloc_prefer", "num 0", EQ, NUL, "return (intptr_t)heap_caps_malloc_prefer(16, 0)")
c("heap_caps_malloc_prefer", "size SIZE_MAX", EQ, NUL, "return (intptr_t)heap_caps_malloc_prefer(SIZE_MAX, 2, MALLOC_CAP_8BIT, MALLOC_CAP_32BIT)")
c("heap_caps_calloc_prefer", "overflow", EQ, NUL, "return (intptr_t)heap_caps_calloc_prefer(SIZE_MAX / 2, 3, 1, MALLOC_CAP_8BIT)")
# --- realloc family: failure keeps the block, bad pointers abort
for f, extra in [("heap_caps_realloc", ", %s" % D8), ("heap_caps_realloc_base", ", %s" % D8), ("heap_caps_realloc_default", "")]:
    c(f, "live block, SIZE_MAX (block kept)", EQ, "1", "return %s(blk, SIZE_MAX%s) == NULL && blk_intact()" % (f, extra))
    c(f, "live block, caps INVALID (kept)", EQ, "1", "return %s(blk, 16%s) != NULL || blk_intact()" % (f, extra) if extra == "" else "return %s(blk, 16, MALLOC_CAP_INVALID) == NULL && blk_intact()" % f)
    c(f, "foreign pointer", ABN, "0", "heapcaps_test_target(foreign); (void)%s(foreign, 16%s); return 0" % (f, extra))
    c(f, "misaligned pointer", ABN, "0", "heapcaps_test_target((char *)blk + 1); (void)%s((char *)blk + 1, 16%s); return 0" % (f, extra))
    c(f, "interior pointer", ABN, "0", "heapcaps_test_target((char *)blk + 8); (void)%s((char *)blk + 8, 16%s); return 0" % (f, extra))
    c(f, "freed pointer", ABN, "0", "void *q = heap_caps_malloc(32, MALLOC_CAP_8BIT); heap_caps_free(q); heapcaps_test_target(q); (void)%s(q, 16%s); return 0" % (f, extra))
c("heapcaps_realloc_prefer_array", "caps NULL (block kept)", EQ, "1", "return heapcaps_realloc_prefer_array(blk, 32, 2, NULL) == NULL && blk_intact()")
c("heapcaps_realloc_prefer_array", "foreign pointer", ABN, "0", "heapcaps_test_target(foreign); (void)heapcaps_realloc_prefer_array(foreign, 16, 2, prefer_caps); return 0")
# --- free / size queries
c("heap_caps_free", "NULL", EQ, "0", "heap_caps_free(NULL); return 0")
c("heap_caps_free", "foreign pointer", ABN, "0", "heapcaps_test_target(foreign); heap_caps_free(foreign); return 0")
c("heap_caps_free", "misaligned pointer", ABN, "0", "heapcaps_test_target((char *)blk + 2); heap_caps_free((char *)blk + 2); return 0")
c("heap_caps_free", "interior pointer", ABN, "0", "heapcaps_test_target((char *)blk + 16); heap_caps_free((char *)blk + 16); return 0")
c("heap_caps_free", "double free", ABN, "0", "void *q = heap_caps_malloc(32, MALLOC_CAP_8BIT); heap_caps_free(q); heapcaps_test_target(q); heap_caps_free(q); return 0")
c("heap_caps_free", "pointer to a heap's bookkeeping", AB, "0", "heap_caps_free((void *)first_heap_start()); return 0")
c("heap_caps_aligned_free", "foreign pointer", ABN, "0", "heapcaps_test_target(foreign); heap_caps_aligned_free(foreign); return 0")
c("heap_caps_get_allocated_size", "NULL", EQ, "0", "return (intptr_t)heap_caps_get_allocated_size(NULL)")
c("heap_caps_get_allocated_size", "foreign pointer", EQ, "0", "return (intptr_t)heap_caps_get_allocated_size(foreign)")
c("heap_caps_get_allocated_size", "freed pointer", EQ, "0", "void *q = heap_caps_malloc(32, MALLOC_CAP_8BIT); heap_caps_free(q); return (intptr_t)heap_caps_get_allocated_size(q)")
c("heap_caps_get_containing_block_size", "foreign pointer", EQ, "0", "return (intptr_t)heap_caps_get_containing_block_size(foreign)")
c("heap_caps_get_containing_block_size", "interior pointer", EQ, "1", "return heap_caps_get_containing_block_size((char *)blk + 5) >= 64")
c("heap_caps_get_containing_block_size", "NULL", EQ, "0", "return (intptr_t)heap_caps_get_containing_block_size(NULL)")
# --- statistics and checks with odd arguments
c("heap_caps_get_info", "info NULL", EQ, "0", "heap_caps_get_info(NULL, MALLOC_CAP_8BIT); return 0")
c("heap_caps_get_info", "caps INVALID (no heap)", EQ, "0", "multi_heap_info_t i; memset(&i, 0xff, sizeof i); heap_caps_get_info(&i, MALLOC_CAP_INVALID); return (intptr_t)(i.total_free_bytes + i.allocated_blocks)")
c("heap_caps_get_free_size", "caps INVALID", EQ, "0", "return (intptr_t)heap_caps_get_free_size(MALLOC_CAP_INVALID)")
c("heap_caps_get_total_size", "caps INVALID", EQ, "0", "return (intptr_t)heap_caps_get_total_size(MALLOC_CAP_INVALID)")
c("heap_caps_get_minimum_free_size", "caps INVALID", EQ, "0", "return (intptr_t)heap_caps_get_minimum_free_size(MALLOC_CAP_INVALID)")
c("heap_caps_get_largest_free_block", "caps INVALID", EQ, "0", "return (intptr_t)heap_caps_get_largest_free_block(MALLOC_CAP_INVALID)")
c("heap_caps_check_integrity_addr", "foreign address", EQ, "0", "return heap_caps_check_integrity_addr((intptr_t)foreign, true)")
c("heap_caps_check_integrity_addr", "address 0", EQ, "0", "return heap_caps_check_integrity_addr(0, true)")
c("heap_caps_check_integrity_addr", "address -1", EQ, "0", "return heap_caps_check_integrity_addr(-1, true)")
c("heap_caps_check_integrity", "caps 0 (all heaps, ok)", EQ, "1", "return heap_caps_check_integrity(0, true)")
c("heap_caps_walk", "walker NULL", EQ, "0", "heap_caps_walk(MALLOC_CAP_8BIT, NULL, NULL); return 0")
c("heap_caps_walk_all", "walker NULL", EQ, "0", "heap_caps_walk_all(NULL, NULL); return 0")
c("heap_caps_print_heap_info", "caps INVALID", EQ, "0", "heap_caps_print_heap_info(MALLOC_CAP_INVALID); return 0")
c("heap_caps_dump", "caps 0", EQ, "0", "heap_caps_dump(MALLOC_CAP_RTCRAM | MALLOC_CAP_SPIRAM | MALLOC_CAP_EXEC); return 0")
c("heap_caps_match", "NULL", EQ, "0", "return heap_caps_match(NULL, MALLOC_CAP_8BIT)")
c("heap_caps_match", "foreign pointer", EQ, "0", "return heap_caps_match(foreign, MALLOC_CAP_8BIT)")
c("heap_caps_register_failed_alloc_callback", "NULL", EQ, "ESP_ERR_INVALID_ARG", "return heap_caps_register_failed_alloc_callback(NULL)")
c("heap_caps_monitor_local_minimum_free_size_stop", "not started", EQ, "ESP_FAIL", "return heap_caps_monitor_local_minimum_free_size_stop()")
c("heap_caps_malloc_extmem_enable", "limit SIZE_MAX (disables)", CH, "1", "heap_caps_malloc_extmem_enable(SIZE_MAX); void *p = heap_caps_malloc_default(100000); bool ok = p == NULL || heap_caps_get_allocated_size(p) > 0; heap_caps_free(p); return ok")
# --- runtime regions
c("heap_caps_add_region", "start 0", EQ, ARG, "return heap_caps_add_region(0, 4096)")
c("heap_caps_add_region", "foreign memory", EQ, NF, "return heap_caps_add_region((intptr_t)foreign, (intptr_t)(foreign + 64))")
c("heap_caps_add_region_with_caps", "caps NULL", EQ, ARG, "return heap_caps_add_region_with_caps(NULL, (intptr_t)region_mem, (intptr_t)(region_mem + 256))")
c("heap_caps_add_region_with_caps", "end before start", EQ, ARG, "return heap_caps_add_region_with_caps(dram_caps, (intptr_t)(region_mem + 256), (intptr_t)region_mem)")
c("heap_caps_add_region_with_caps", "empty range", EQ, ARG, "return heap_caps_add_region_with_caps(dram_caps, (intptr_t)region_mem, (intptr_t)region_mem)")
c("heap_caps_add_region_with_caps", "straddles a heap's start", EQ, FAIL, "intptr_t s = first_heap_start(); return heap_caps_add_region_with_caps(dram_caps, s - 64, s + 64)")
c("heap_caps_add_region_with_caps", "same range as a heap", EQ, FAIL, "return heap_caps_add_region_with_caps(dram_caps, first_heap_start(), first_heap_end())")
c("heap_caps_add_region_with_caps", "8 bytes (too small)", CH, SIZE, "return heap_caps_add_region_with_caps(dram_caps, (intptr_t)region_mem, (intptr_t)region_mem + 8)")
c("heap_caps_add_region_with_caps", "end SIZE_MAX (covers the heaps)", CH, FAIL, "return heap_caps_add_region_with_caps(dram_caps, (intptr_t)region_mem, (intptr_t)SIZE_MAX)")
c("heap_caps_add_region_with_caps", "misaligned start", CH, "1", "esp_err_t e = heap_caps_add_region_with_caps(dram_caps, (intptr_t)region_mem + 1, (intptr_t)(region_mem + 1024)); return e == ESP_OK ? heap_caps_check_integrity_all(true) : e == ESP_ERR_INVALID_SIZE")
c("heap_caps_check_add_region_allowed", "straddling", EQ, "0", "return heap_caps_check_add_region_allowed(100, 200, 50, 150)")
c("heap_caps_check_add_region_allowed", "identical", EQ, "0", "return heap_caps_check_add_region_allowed(100, 200, 100, 200)")
c("heapcaps_sim_select_chip", "NULL", EQ, NF, "return heapcaps_sim_select_chip(NULL)")
c("heapcaps_sim_select_chip", "unknown name", EQ, NF, "return heapcaps_sim_select_chip(\"esp8266\")")
c("heapcaps_sim_select_chip", "after boot", EQ, STATE, "return heapcaps_sim_select_chip(\"esp32\")")
# --- multi_heap: NULL handle, bad regions, bad pointers
c("multi_heap_register", "start NULL", EQ, NUL, "return (intptr_t)multi_heap_register(NULL, 4096)")
c("multi_heap_register", "size 0", EQ, NUL, "return (intptr_t)multi_heap_register(region_mem, 0)")
c("multi_heap_register", "size 16 (too small)", EQ, NUL, "return (intptr_t)multi_heap_register(region_mem, 16)")
c("multi_heap_register", "size SIZE_MAX", EQ, NUL, "return (intptr_t)multi_heap_register(region_mem, SIZE_MAX)")
c("multi_heap_register", "start + size wraps", EQ, NUL, "return (intptr_t)multi_heap_register(region_mem, SIZE_MAX - (uintptr_t)region_mem + 64)")
c("multi_heap_register", "misaligned start", CH, "1", "multi_heap_handle_t h = multi_heap_register((char *)region_mem + 1, 4096); if (h == NULL) return 1; void *p = multi_heap_malloc(h, 100); return p != NULL && ((uintptr_t)p & 3) == 0 && multi_heap_check(h, true)")
c("multi_heap_malloc", "heap NULL", EQ, NUL, "return (intptr_t)multi_heap_malloc(NULL, 16)")
c("multi_heap_malloc", "size 0", EQ, NUL, "return (intptr_t)multi_heap_malloc(mh, 0)")
c("multi_heap_malloc", "size SIZE_MAX", EQ, NUL, "return (intptr_t)multi_heap_malloc(mh, SIZE_MAX)")
c("multi_heap_malloc", "size > region", EQ, NUL, "return (intptr_t)multi_heap_malloc(mh, sizeof mh_mem)")
c("multi_heap_aligned_alloc", "heap NULL", EQ, NUL, "return (intptr_t)multi_heap_aligned_alloc(NULL, 16, 16)")
c("multi_heap_aligned_alloc", "alignment 0", EQ, NUL, "return (intptr_t)multi_heap_aligned_alloc(mh, 16, 0)")
c("multi_heap_aligned_alloc", "alignment 24", EQ, NUL, "return (intptr_t)multi_heap_aligned_alloc(mh, 16, 24)")
c("multi_heap_aligned_alloc", "size SIZE_MAX", EQ, NUL, "return (intptr_t)multi_heap_aligned_alloc(mh, SIZE_MAX, 16)")
c("multi_heap_aligned_alloc", "alignment 2^31", EQ, NUL, "return (intptr_t)multi_heap_aligned_alloc(mh, 16, (size_t)1 << 31)")
c("multi_heap_aligned_alloc_offs", "offset SIZE_MAX", EQ, "1", "void *p = multi_heap_aligned_alloc_offs(mh, 16, 16, SIZE_MAX); bool ok = p == NULL || multi_heap_check(mh, true); multi_heap_free(mh, p); return ok")
c("multi_heap_free", "heap NULL", EQ, "0", "multi_heap_free(NULL, mblk); return 0")
c("multi_heap_free", "p NULL", EQ, "0", "multi_heap_free(mh, NULL); return 0")
c("multi_heap_free", "foreign pointer", ABN, "0", "heapcaps_test_target(foreign); multi_heap_free(mh, foreign); return 0")
c("multi_heap_free", "misaligned pointer", ABN, "0", "heapcaps_test_target((char *)mblk + 1); multi_heap_free(mh, (char *)mblk + 1); return 0")
c("multi_heap_free", "interior pointer", ABN, "0", "heapcaps_test_target((char *)mblk + 12); multi_heap_free(mh, (char *)mblk + 12); return 0")
c("multi_heap_free", "double free", ABN, "0", "void *q = multi_heap_malloc(mh, 40); multi_heap_free(mh, q); heapcaps_test_target(q); multi_heap_free(mh, q); return 0")
c("multi_heap_free", "block of another heap", ABN, "0", "heapcaps_test_target(blk); multi_heap_free(mh, blk); return 0")
c("multi_heap_realloc", "heap NULL", EQ, NUL, "return (intptr_t)multi_heap_realloc(NULL, mblk, 16)")
c("multi_heap_realloc", "SIZE_MAX (block kept)", EQ, "1", "return multi_heap_realloc(mh, mblk, SIZE_MAX) == NULL && mblk_intact()")
c("multi_heap_realloc", "foreign pointer", ABN, "0", "heapcaps_test_target(foreign); (void)multi_heap_realloc(mh, foreign, 16); return 0")
c("multi_heap_realloc", "freed pointer", ABN, "0", "void *q = multi_heap_malloc(mh, 40); multi_heap_free(mh, q); heapcaps_test_target(q); (void)multi_heap_realloc(mh, q, 80); return 0")
c("multi_heap_get_allocated_size", "heap NULL", EQ, "0", "return (intptr_t)multi_heap_get_allocated_size(NULL, mblk)")
c("multi_heap_get_allocated_size", "p NULL", EQ, "0", "return (intptr_t)multi_heap_get_allocated_size(mh, NULL)")
c("multi_heap_get_allocated_size", "foreign pointer", EQ, "0", "return (intptr_t)multi_heap_get_allocated_size(mh, foreign)")
c("multi_heap_get_full_block_size", "heap NULL", EQ, "0", "return (intptr_t)multi_heap_get_full_block_size(NULL, mblk)")
c("multi_heap_get_full_block_size", "foreign pointer", EQ, "0", "return (intptr_t)multi_heap_get_full_block_size(mh, foreign)")
c("multi_heap_find_containing_block", "heap NULL", EQ, NUL, "return (intptr_t)multi_heap_find_containing_block(NULL, mblk)")
c("multi_heap_find_containing_block", "foreign pointer", EQ, NUL, "return (intptr_t)multi_heap_find_containing_block(mh, foreign)")
c("multi_heap_free_size", "heap NULL", EQ, "0", "return (intptr_t)multi_heap_free_size(NULL)")
c("multi_heap_minimum_free_size", "heap NULL", EQ, "0", "return (intptr_t)multi_heap_minimum_free_size(NULL)")
c("multi_heap_reset_minimum_free_bytes", "heap NULL", EQ, "0", "return (intptr_t)multi_heap_reset_minimum_free_bytes(NULL)")
c("multi_heap_restore_minimum_free_bytes", "heap NULL", EQ, "0", "multi_heap_restore_minimum_free_bytes(NULL, 5); return 0")
c("multi_heap_get_info", "heap NULL", EQ, "0", "multi_heap_info_t i; memset(&i, 0, sizeof i); multi_heap_get_info(NULL, &i); return (intptr_t)i.total_free_bytes")
c("multi_heap_get_info", "info NULL", EQ, "0", "multi_heap_get_info(mh, NULL); return 0")
c("multi_heap_check", "heap NULL", EQ, "0", "return multi_heap_check(NULL, true)")
c("multi_heap_dump", "heap NULL", EQ, "0", "multi_heap_dump(NULL); return 0")
c("multi_heap_walk", "heap NULL", EQ, "0", "multi_heap_walk(NULL, count_walker, NULL); return 0")
c("multi_heap_walk", "walker NULL", EQ, "0", "multi_heap_walk(mh, NULL, NULL); return 0")
c("multi_heap_get_first_block", "heap NULL", EQ, NUL, "return (intptr_t)multi_heap_get_first_block(NULL)")
c("multi_heap_get_next_block", "heap NULL", EQ, NUL, "return (intptr_t)multi_heap_get_next_block(NULL, multi_heap_get_first_block(mh))")
c("multi_heap_get_next_block", "block NULL", EQ, NUL, "return (intptr_t)multi_heap_get_next_block(mh, NULL)")
c("multi_heap_get_next_block", "foreign block", EQ, NUL, "return (intptr_t)multi_heap_get_next_block(mh, (multi_heap_block_handle_t)foreign)")
c("multi_heap_is_free", "block NULL", EQ, "0", "return multi_heap_is_free(NULL)")
c("multi_heap_get_block_address", "block NULL", EQ, NUL, "return (intptr_t)multi_heap_get_block_address(NULL)")
c("multi_heap_set_lock", "heap NULL", EQ, "0", "multi_heap_set_lock(NULL, NULL); return 0")
c("multi_heap_internal_lock", "heap NULL", EQ, "0", "multi_heap_internal_lock(NULL); multi_heap_internal_unlock(NULL); return 0")

out = []
out.append(r'''/*
 * Bad input at every exported function (issue 6): a table of (function, input, expected outcome)
 * run against the simulated chip. Outcomes: a value (NULL, 0/false, an esp_err_t) checked in this
 * process with the heaps intact afterwards; an abort (SIGABRT) in a child process, for pointer
 * errors with a message naming the pointer; or a value checked in a child process, for calls that
 * change the registry for good. Generated by tests/c/tools/gen_bad_input.py (edit the table there).
 */
#include "heapcaps_test_util.h"
#include "multi_heap.h"

/* heap_caps_aligned_free is deprecated, and in the table on purpose. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

enum { K_EQ, K_ABORT, K_ABORT_NAMED, K_CHILD_EQ };

typedef struct {
    const char *fn;
    const char *input;
    intptr_t (*run)(void);
    int kind;
    intptr_t want;
} bad_case_t;

/* Not part of any heap. */
static uint32_t foreign[64];
/* Memory for multi_heap_register and runtime regions (children only when it is given away). */
static uint32_t region_mem[4096];
static uint32_t mh_mem[2048];
static multi_heap_handle_t mh;
/* A live capability block and a live multi_heap block, 64 bytes of 0xA5 each. */
static void *blk, *mblk;
static const uint32_t prefer_caps[2] = {MALLOC_CAP_INVALID, MALLOC_CAP_EXEC | MALLOC_CAP_DMA};
static const uint32_t dram_caps[3] = {MALLOC_CAP_8BIT | MALLOC_CAP_DEFAULT, MALLOC_CAP_INTERNAL, 0};

static bool intact(const void *p)
{
    const unsigned char *c = (const unsigned char *)p;
    for (int i = 0; i < 64; i++) {
        if (c[i] != 0xA5) {
            return false;
        }
    }
    return true;
}
static bool blk_intact(void) { return intact(blk); }
static bool mblk_intact(void) { return intact(mblk) && multi_heap_check(mh, true); }

static bool first_walker(walker_heap_into_t h, walker_block_info_t b, void *user)
{
    (void)b;
    intptr_t *se = (intptr_t *)user;
    if (se[0] == 0) {
        se[0] = h.start;
        se[1] = h.end;
    }
    return false;
}
static intptr_t first_heap_start(void)
{
    intptr_t se[2] = {0, 0};
    heap_caps_walk(MALLOC_CAP_8BIT, first_walker, se);
    return se[0];
}
static intptr_t first_heap_end(void)
{
    intptr_t se[2] = {0, 0};
    heap_caps_walk(MALLOC_CAP_8BIT, first_walker, se);
    return se[1];
}
static bool count_walker(void *block, size_t size, int used, void *user)
{
    (void)block; (void)size; (void)used; (void)user;
    return true;
}

static void prep(void)
{
    if (mh == NULL) {
        mh = multi_heap_register(mh_mem, sizeof mh_mem);
    }
    blk = heap_caps_malloc(64, MALLOC_CAP_8BIT);
    mblk = multi_heap_malloc(mh, 64);
    memset(blk, 0xA5, 64);
    memset(mblk, 0xA5, 64);
}

static void unprep(void)
{
    heap_caps_free(blk);
    multi_heap_free(mh, mblk);
}
''')
for i, (fn, inp, kind, want, body) in enumerate(cases):
    out.append("static intptr_t case_%d(void) { %s; }" % (i, body))
out.append("\nstatic const bad_case_t cases[] = {")
for i, (fn, inp, kind, want, body) in enumerate(cases):
    out.append('    {"%s", "%s", case_%d, %s, (intptr_t)(%s)},' % (fn, inp, i, kind, want))
out.append("};")
out.append(r'''#define N_CASES (sizeof cases / sizeof cases[0])

/* Child side: runs the case named by BAD_INPUT_CASE. */
HEAPCAPS_CHILD_SCENARIO(bad_input_child)
{
    const char *e = getenv("BAD_INPUT_CASE");
    CHILD_CHECK(e != NULL);
    size_t i = (size_t)strtoul(e, NULL, 10);
    CHILD_CHECK(i < N_CASES);
    prep();
    intptr_t r = cases[i].run();
    if (cases[i].kind == K_CHILD_EQ) {
        CHILD_CHECK(r == cases[i].want);
        CHILD_CHECK(heap_caps_check_integrity_all(true));
        return;
    }
    fprintf(stderr, "returned %ld instead of aborting\n", (long)r);
    _exit(3);
}

static int count_functions(void)
{
    int n = 0;
    for (size_t i = 0; i < N_CASES; i++) {
        if (i == 0 || strcmp(cases[i].fn, cases[i - 1].fn) != 0) {
            bool seen = false;
            for (size_t j = 0; j < i; j++) {
                seen |= strcmp(cases[i].fn, cases[j].fn) == 0;
            }
            n += !seen;
        }
    }
    return n;
}

TEST_CASE("bad input at every exported function gives its defined outcome", "[bad_input]")
{
    int failures = 0, aborts = 0, children = 0;
    for (size_t i = 0; i < N_CASES; i++) {
        const bad_case_t *c = &cases[i];
        bool ok;
        if (c->kind == K_EQ) {
            prep();
            intptr_t r = c->run();
            unprep();
            ok = r == c->want && heap_caps_check_integrity_all(true) && multi_heap_check(mh, true);
            if (!ok) {
                printf("BAD INPUT %s(%s): got %ld, want %ld\n", c->fn, c->input, (long)r, (long)c->want);
            }
        } else {
            char idx[16];
            snprintf(idx, sizeof idx, "%zu", i);
            setenv("BAD_INPUT_CASE", idx, 1);
            heapcaps_child_t ch = heapcaps_test_run_child("bad_input_child");
            if (c->kind == K_CHILD_EQ) {
                children++;
                ok = ch.exited && ch.exit_code == 0;
            } else {
                aborts++;
                ok = !ch.exited && ch.signal == SIGABRT &&
                     (c->kind == K_ABORT || heapcaps_test_names_target(ch.out));
            }
            if (!ok) {
                printf("BAD INPUT %s(%s): expected %s\n", c->fn, c->input,
                       c->kind == K_CHILD_EQ ? "the child's checks to pass" : "an abort naming the pointer");
                heapcaps_test_show_child(&ch);
            }
        }
        failures += !ok;
    }
    unsetenv("BAD_INPUT_CASE");
    printf("bad-input table: %d functions x %zu cases (%d aborts and %d other cases in child processes), %d failures\n",
           count_functions(), N_CASES, aborts, children, failures);
    TEST_ASSERT_EQUAL_INT(0, failures);
}
''')
open(__import__("os").path.join(__import__("os").path.dirname(__file__), "..", "test_bad_input.c"), "w").write("\n".join(out) + "\n")
print(len(cases))
