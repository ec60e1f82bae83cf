/* The variadic heap_caps_*_prefer functions of esp_heap_caps.h. Stable Rust cannot define C
 * variadic functions, so this shim collects the capability arguments into an array and calls
 * the Rust array forms. Arguments are read as uint32_t (promoted to unsigned int by the caller). */
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

void *heapcaps_malloc_prefer_array(size_t size, size_t num, const uint32_t *caps);
void *heapcaps_realloc_prefer_array(void *ptr, size_t size, size_t num, const uint32_t *caps);
void *heapcaps_calloc_prefer_array(size_t n, size_t size, size_t num, const uint32_t *caps);

/* More preferences than this are not used in practice; extra ones are ignored. */
#define HEAPCAPS_PREFER_MAX 16

static size_t collect(va_list ap, size_t num, uint32_t *out)
{
    size_t n = num < HEAPCAPS_PREFER_MAX ? num : HEAPCAPS_PREFER_MAX;
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint32_t)va_arg(ap, unsigned int);
    }
    return n;
}

void *heap_caps_malloc_prefer(size_t size, size_t num, ...)
{
    uint32_t caps[HEAPCAPS_PREFER_MAX];
    va_list ap;
    va_start(ap, num);
    size_t n = collect(ap, num, caps);
    va_end(ap);
    return heapcaps_malloc_prefer_array(size, n, caps);
}

void *heap_caps_realloc_prefer(void *ptr, size_t size, size_t num, ...)
{
    uint32_t caps[HEAPCAPS_PREFER_MAX];
    va_list ap;
    va_start(ap, num);
    size_t n = collect(ap, num, caps);
    va_end(ap);
    return heapcaps_realloc_prefer_array(ptr, size, n, caps);
}

void *heap_caps_calloc_prefer(size_t n, size_t size, size_t num, ...)
{
    uint32_t caps[HEAPCAPS_PREFER_MAX];
    va_list ap;
    va_start(ap, num);
    size_t k = collect(ap, num, caps);
    va_end(ap);
    return heapcaps_calloc_prefer_array(n, size, k, caps);
}
