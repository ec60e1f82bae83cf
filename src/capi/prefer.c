/* The variadic heap_caps_*_prefer functions of esp_heap_caps.h. Stable Rust cannot define C
 * variadic functions, so this shim collects the capability arguments into an array and calls
 * the Rust array forms. Arguments are read as uint32_t (promoted to unsigned int by the caller). */
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

void *heapcaps_malloc_prefer_array(size_t size, size_t num, const uint32_t *caps);
void *heapcaps_realloc_prefer_array(void *ptr, size_t size, size_t num, const uint32_t *caps);
void *heapcaps_calloc_prefer_array(size_t n, size_t size, size_t num, const uint32_t *caps);

/* Real preference lists are 1-3 long; a longer count is not a count (see collect). */
#define HEAPCAPS_PREFER_MAX 16

/* Code written for ESP-IDF's linux target, whose *_prefer functions ignore the list, passes a
 * capability mask as `num` and no list (ESP-IDF's own host test does: num = MALLOC_CAP_DEFAULT).
 * Reading `num` arguments that were never passed is undefined behaviour, so a `num` larger than
 * any real list is taken as that single mask and nothing is read from `ap`. */
#if defined(__riscv) && __riscv_xlen == 32
/* RISC-V ilp32 (the RISC-V chips): the psABI passes variadic arguments as consecutive 4-byte
 * words (the callee stores a0-a7 next to the ones on the stack) and va_list is the address of
 * the next one, so the list is used where it lies, without a copy (flash). */
static inline const uint32_t *prefer_list(va_list ap, size_t *num, uint32_t *one)
{
    if (*num > HEAPCAPS_PREFER_MAX) {
        *one = (uint32_t)*num;
        *num = 1;
        return one;
    }
    return (const uint32_t *)ap;
}

#define PREFER_LIST(ap, num) \
    uint32_t one_; \
    const uint32_t *caps = prefer_list(ap, &num, &one_)
#else
/* One copy (flash): the three callers share it. */
__attribute__((noinline)) static size_t collect(va_list ap, size_t num, uint32_t *out)
{
    if (num > HEAPCAPS_PREFER_MAX) {
        out[0] = (uint32_t)num;
        return 1;
    }
    for (size_t i = 0; i < num; i++) {
        out[i] = (uint32_t)va_arg(ap, unsigned int);
    }
    return num;
}

#define PREFER_LIST(ap, num) \
    uint32_t caps[HEAPCAPS_PREFER_MAX]; \
    num = collect(ap, num, caps)
#endif

void *heap_caps_malloc_prefer(size_t size, size_t num, ...)
{
    va_list ap;
    va_start(ap, num);
    PREFER_LIST(ap, num);
    void *r = heapcaps_malloc_prefer_array(size, num, caps);
    va_end(ap);
    return r;
}

void *heap_caps_realloc_prefer(void *ptr, size_t size, size_t num, ...)
{
    va_list ap;
    va_start(ap, num);
    PREFER_LIST(ap, num);
    void *r = heapcaps_realloc_prefer_array(ptr, size, num, caps);
    va_end(ap);
    return r;
}

void *heap_caps_calloc_prefer(size_t n, size_t size, size_t num, ...)
{
    va_list ap;
    va_start(ap, num);
    PREFER_LIST(ap, num);
    void *r = heapcaps_calloc_prefer_array(n, size, num, caps);
    va_end(ap);
    return r;
}
