/* Run by tests/preload/run.sh with and without heapcaps preloaded: every malloc/calloc/realloc
 * block must have the alignment given as argv[1]; prints the same line under any conforming
 * malloc. Also frees NULL, reallocs NULL and uses malloc_usable_size. */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    uintptr_t align = argc > 1 ? (uintptr_t)strtoul(argv[1], NULL, 10) : 16;
    void *keep[512] = {0};
    unsigned bad = 0, n = 0;
    for (unsigned i = 0; i < 20000; i++) {
        unsigned k = (i * 2654435761u) % 512;
        size_t size = 1 + (i * 7919u) % 3000;
        void *p;
        switch (i % 3) {
        case 0: p = malloc(size); break;
        case 1: p = calloc(1, size); break;
        default: p = realloc(keep[k], size); keep[k] = NULL; break;
        }
        if (p == NULL || malloc_usable_size(p) < size) {
            printf("allocation %u failed\n", i);
            return 1;
        }
        memset(p, (int)i, size);
        bad += ((uintptr_t)p & (align - 1)) != 0;
        n++;
        free(keep[k]);
        keep[k] = p;
    }
    for (unsigned k = 0; k < 512; k++) {
        free(keep[k]);
    }
    free(NULL);
    free(realloc(NULL, 10));
    printf("%u blocks, %u not %lu-byte aligned\n", n, bad, (unsigned long)align);
    return bad != 0;
}
