/* Size program (a): the malloc path only — register a region, malloc, realloc, free. */
#include <stddef.h>
#include "multi_heap.h"

static unsigned char region[4096] __attribute__((aligned(4)));

int main(void)
{
    multi_heap_handle_t h = multi_heap_register(region, sizeof region);
    void *p = multi_heap_malloc(h, 100);
    p = multi_heap_realloc(h, p, 300);
    multi_heap_free(h, p);
    return p == NULL;
}
