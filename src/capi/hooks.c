/* C helpers stable Rust cannot express.
 *
 * HEAPCAPS_HOOKS (feature HEAP_USE_HOOKS): the user's esp_heap_trace_alloc_hook /
 * esp_heap_trace_free_hook are optional, so they are referenced weakly here and called only when
 * the program defines them.
 *
 * HEAPCAPS_TRACE (feature HEAP_TRACING_STANDALONE): heapcaps_trace_callers() fills the caller
 * frames of a trace record. On Linux hosts it unwinds the stack with the compiler's unwinder and
 * keeps the return addresses *outside* heapcaps: the frames after the outermost heapcaps entry
 * point found on the stack (heap_caps_malloc, malloc, ...). Elsewhere (bare-metal builds, whose
 * Rust code has no frame pointers to walk) it records no frames. */
#include <stddef.h>
#include <stdint.h>

#ifdef HEAPCAPS_HOOKS
__attribute__((weak)) void esp_heap_trace_alloc_hook(void *ptr, size_t size, uint32_t caps);
__attribute__((weak)) void esp_heap_trace_free_hook(void *ptr);

void heapcaps_call_alloc_hook(void *ptr, size_t size, uint32_t caps);
void heapcaps_call_free_hook(void *ptr);

void heapcaps_call_alloc_hook(void *ptr, size_t size, uint32_t caps)
{
    if (esp_heap_trace_alloc_hook != NULL) {
        esp_heap_trace_alloc_hook(ptr, size, caps);
    }
}

void heapcaps_call_free_hook(void *ptr)
{
    if (esp_heap_trace_free_hook != NULL) {
        esp_heap_trace_free_hook(ptr);
    }
}
#endif

#ifdef HEAPCAPS_TRACE
size_t heapcaps_trace_callers(void **out, size_t depth);

#if defined(__linux__)
#include <unwind.h>

/* The entry points a traced call comes in through, under local names (asm labels) so that the
 * C library's prototypes do not clash. Weak: a missing one is NULL and matches nothing. */
#define ENTRY(name) extern void heapcaps_entry_##name(void) __asm__(#name) __attribute__((weak));
#define ENTRIES(X) \
    X(heap_caps_malloc) X(heap_caps_calloc) X(heap_caps_realloc) X(heap_caps_free) \
    X(heap_caps_aligned_alloc) X(heap_caps_aligned_calloc) X(heap_caps_aligned_free) \
    X(heap_caps_malloc_prefer) X(heap_caps_calloc_prefer) X(heap_caps_realloc_prefer) \
    X(heapcaps_malloc_prefer_array) X(heapcaps_calloc_prefer_array) X(heapcaps_realloc_prefer_array) \
    X(heap_caps_malloc_default) X(heap_caps_realloc_default) X(heap_caps_aligned_alloc_default) \
    X(heap_caps_malloc_base) X(heap_caps_calloc_base) X(heap_caps_realloc_base) \
    X(heap_caps_aligned_alloc_base) \
    X(malloc) X(calloc) X(realloc) X(free) X(memalign) X(aligned_alloc) X(posix_memalign) \
    X(valloc) X(pvalloc) X(cfree)
ENTRIES(ENTRY)
#define ADDR(name) (void *)heapcaps_entry_##name,
static void *const entries[] = { ENTRIES(ADDR) };

/* heapcaps' Rust functions that a C entry point may tail-call into (so that the entry has no
 * frame of its own), registered by the Rust side before tracing starts. */
#define MAX_EXTRA 48
static void *extra[MAX_EXTRA];
static size_t n_extra;

void heapcaps_trace_set_entries(void *const *fns, size_t n);
void heapcaps_trace_set_entries(void *const *fns, size_t n)
{
    n_extra = 0;
    for (size_t i = 0; i < n && i < MAX_EXTRA; i++) {
        extra[n_extra++] = fns[i];
    }
}

#define MAX_FRAMES 64

struct walk {
    void *ip[MAX_FRAMES];
    size_t n;
};

static _Unwind_Reason_Code collect(struct _Unwind_Context *ctx, void *arg)
{
    struct walk *w = arg;
    if (w->n >= MAX_FRAMES) {
        return _URC_END_OF_STACK;
    }
    uintptr_t ip = _Unwind_GetIP(ctx);
    if (ip == 0) {
        return _URC_END_OF_STACK;
    }
    w->ip[w->n++] = (void *)ip;
    return _URC_NO_REASON;
}

static int is_entry(void *ip)
{
    /* The return address points after the call; step back into the calling instruction. */
    void *fn = _Unwind_FindEnclosingFunction((char *)ip - 1);
    if (fn == NULL) {
        return 0;
    }
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        if (entries[i] != NULL && entries[i] == fn) {
            return 1;
        }
    }
    for (size_t i = 0; i < n_extra; i++) {
        if (extra[i] == fn) {
            return 1;
        }
    }
    return 0;
}

size_t heapcaps_trace_callers(void **out, size_t depth)
{
    struct walk w = { .n = 0 };
    for (size_t i = 0; i < depth; i++) {
        out[i] = NULL;
    }
    if (depth == 0) {
        return 0;
    }
    _Unwind_Backtrace(collect, &w);
    /* Frame i is the function that ip[i] returns into; the user's frames start after the
     * outermost frame that is a heapcaps entry point. Without one (a Rust caller that inlined
     * the entry), keep everything above this helper and its direct caller. */
    size_t first = w.n < 2 ? w.n : 2;
    for (size_t i = 0; i < w.n; i++) {
        if (is_entry(w.ip[i])) {
            first = i + 1;
        }
    }
    size_t k = 0;
    for (size_t i = first; i < w.n && k < depth; i++) {
        out[k++] = w.ip[i];
    }
    return k;
}
#else
void heapcaps_trace_set_entries(void *const *fns, size_t n);
void heapcaps_trace_set_entries(void *const *fns, size_t n)
{
    (void)fns;
    (void)n;
}

size_t heapcaps_trace_callers(void **out, size_t depth)
{
    for (size_t i = 0; i < depth; i++) {
        out[i] = NULL;
    }
    return 0;
}
#endif
#endif
