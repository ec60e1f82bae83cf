/* A multi_heap_walk callback that records the blocks it is shown (the first 64), for the C tests
 * that compare the walk with the block iterator or with a dump. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    void *ptr[64];
    size_t size[64];
    int used[64];
    size_t n;
} walk_log_t;

static inline bool log_walker(void *block_ptr, size_t block_size, int block_used, void *user_data)
{
    walk_log_t *l = (walk_log_t *)user_data;
    if (l->n < 64) {
        l->ptr[l->n] = block_ptr;
        l->size[l->n] = block_size;
        l->used[l->n] = block_used != 0;
        l->n++;
    }
    return true;
}
