/*
 * heapcaps demo: an ordinary ESP-IDF-style C program, unchanged except for choosing which chip to
 * simulate. It is linked against libheapcaps.a built with the `c-malloc` feature, so even plain
 * malloc()/free() below are served by the simulated chip's heaps.
 *
 * Usage: demo [esp32|esp32s2|esp32s3|esp32c2|esp32c3|esp32c5|esp32c6|esp32c61|esp32h2|esp32-psram|esp32s3-psram]   (default: $HEAPCAPS_CHIP, else esp32)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>

#include "esp_heap_caps.h"
#include "esp_heap_caps_init.h"
#include "multi_heap.h"
#include "heapcaps_sim.h"

static int s_failures;

static void check(bool ok, const char *what)
{
    if (!ok) {
        printf("  !! unexpected: %s\n", what);
        s_failures++;
    }
}

static void section(const char *title)
{
    printf("\n=== %s ===\n", title);
}

struct named_caps {
    const char *name;
    uint32_t caps;
};

static const struct named_caps s_caps[] = {
    {"MALLOC_CAP_DEFAULT", MALLOC_CAP_DEFAULT},
    {"MALLOC_CAP_INTERNAL", MALLOC_CAP_INTERNAL},
    {"MALLOC_CAP_8BIT", MALLOC_CAP_8BIT},
    {"MALLOC_CAP_32BIT", MALLOC_CAP_32BIT},
    {"MALLOC_CAP_DMA", MALLOC_CAP_DMA},
#ifdef MALLOC_CAP_EXEC
    {"MALLOC_CAP_EXEC", MALLOC_CAP_EXEC},
#endif
    {"MALLOC_CAP_SPIRAM", MALLOC_CAP_SPIRAM},
    {"MALLOC_CAP_RTCRAM", MALLOC_CAP_RTCRAM},
};
#define N_CAPS (sizeof(s_caps) / sizeof(s_caps[0]))

static void print_capacity_table(void)
{
    printf("  %-20s %10s %10s %14s\n", "capability", "total", "free", "largest block");
    for (size_t i = 0; i < N_CAPS; i++) {
        printf("  %-20s %10zu %10zu %14zu\n", s_caps[i].name,
               heap_caps_get_total_size(s_caps[i].caps), heap_caps_get_free_size(s_caps[i].caps),
               heap_caps_get_largest_free_block(s_caps[i].caps));
    }
}

/* Which kind of memory holds `p`: the capabilities of the innermost heap containing it (a heap
 * can be added inside another's block, as the PSRAM boards' DMA pool is), found with the public
 * walker (heap_caps_walk visits only the heaps that have the caps asked for; 0: every heap). */
struct find_heap {
    const void *p;
    intptr_t start, end; /* the innermost heap holding p so far (end 0: none) */
};

static bool find_heap_cb(walker_heap_into_t heap, walker_block_info_t block, void *user)
{
    (void)block;
    struct find_heap *f = user;
    bool inside = (intptr_t)f->p >= heap.start && (intptr_t)f->p < heap.end;
    if (inside && (f->end == 0 || heap.end - heap.start < f->end - f->start)) {
        f->start = heap.start;
        f->end = heap.end;
    }
    return false; /* one call per heap is enough */
}

static const char *where(const void *p)
{
    static char buf[160];
    buf[0] = '\0';
    if (p == NULL) {
        return "";
    }
    struct find_heap home = {p, 0, 0};
    heap_caps_walk(0, find_heap_cb, &home);
    for (size_t i = 0; i < N_CAPS && home.end != 0; i++) {
        struct find_heap f = {p, 0, 0};
        heap_caps_walk(s_caps[i].caps, find_heap_cb, &f);
        if (f.start == home.start && f.end == home.end) {
            strcat(buf, buf[0] ? " " : "  [heap: ");
            strcat(buf, s_caps[i].name + strlen("MALLOC_CAP_"));
        }
    }
    if (buf[0]) {
        strcat(buf, "]");
    }
    return buf;
}

static void failed_alloc_cb(size_t size, uint32_t caps, const char *function_name)
{
    printf("  [failed-alloc callback] %s could not find %zu bytes with caps 0x%08x\n",
           function_name, size, (unsigned)caps);
}

int main(int argc, char **argv)
{
    /* Unbuffered stdout: the heap's own log lines go straight to the console, and printf then
     * needs no buffer from the (simulated) heap, so the output keeps its order. */
    setvbuf(stdout, NULL, _IONBF, 0);

    const char *chip = argc > 1 ? argv[1] : getenv("HEAPCAPS_CHIP");
    if (chip == NULL || chip[0] == '\0') {
        chip = "esp32";
    }
    if (heapcaps_sim_select_chip(chip) != ESP_OK) {
        fprintf(stderr, "demo: unknown chip '%s' (try esp32, esp32s2, esp32s3, esp32c2, esp32c3, esp32c5, esp32c6, esp32c61, esp32h2, esp32-psram, esp32s3-psram)\n", chip);
        return 2;
    }

    printf("heapcaps demo: ESP-IDF's heap_caps allocator, simulated %s on this computer\n",
           heapcaps_sim_chip_name());

    section("1. Boot: the chip's startup turns its RAM regions into heaps");
    /* On the chip ESP-IDF's startup runs heap_caps_init() (the log lines below), hands the
     * regions of the CPUs' startup stacks to the heap just before app_main
     * (heap_caps_enable_nonos_stack_heaps()) and, on boards whose malloc may use PSRAM, sets
     * 32 KiB of internal memory aside for DMA. The simulation does the same on the first heap
     * call of a program that does not call heap_caps_init() itself, as here, so the figures
     * below are those app_main finds on the chip. */
    size_t internal_total = heap_caps_get_total_size(MALLOC_CAP_INTERNAL);
    printf("  -> heap_caps_init(), the startup stacks' regions%s: %zu bytes of internal heaps\n",
           heap_caps_get_total_size(MALLOC_CAP_SPIRAM) ? ", PSRAM and the DMA pool" : "",
           internal_total);

    section("2. How much memory each capability can reach");
    print_capacity_table();
    size_t internal_free_at_start = heap_caps_get_free_size(MALLOC_CAP_INTERNAL);

    section("3. Allocating by capability");
    void *dma = heap_caps_malloc(1024, MALLOC_CAP_DMA);
    printf("  heap_caps_malloc(1024, MALLOC_CAP_DMA)      -> %p%s\n", dma, where(dma));
    check(dma != NULL, "every simulated chip has DMA-capable RAM");

    void *word = heap_caps_malloc(100, MALLOC_CAP_32BIT);
    printf("  heap_caps_malloc(100, MALLOC_CAP_32BIT)     -> %p%s\n", word, where(word));
    check(word != NULL, "32-bit accessible RAM exists");

    void *internal = heap_caps_malloc(4096, MALLOC_CAP_INTERNAL | MALLOC_CAP_8BIT);
    printf("  heap_caps_malloc(4096, INTERNAL | 8BIT)     -> %p%s\n", internal, where(internal));
    check(internal != NULL, "internal byte-addressable RAM exists");

    void *aligned = heap_caps_aligned_alloc(64, 256, MALLOC_CAP_DMA);
    printf("  heap_caps_aligned_alloc(64, 256, DMA)       -> %p (64-byte aligned: %s)\n", aligned,
           ((uintptr_t)aligned % 64) == 0 ? "yes" : "no");
    check(aligned != NULL && (uintptr_t)aligned % 64 == 0, "aligned DMA allocation");

    void *exec = NULL;
#ifdef MALLOC_CAP_EXEC
    exec = heap_caps_malloc(64, MALLOC_CAP_EXEC);
    printf("  heap_caps_malloc(64, MALLOC_CAP_EXEC)       -> %p%s\n", exec, where(exec));
    if (exec == NULL) {
        printf("    (no executable heap on this chip configuration)\n");
    } else if (where(exec)[0] == '\0') {
        printf("    (an instruction-bus address: the same D/IRAM bytes seen through the IRAM window)\n");
    }
    check(heap_caps_malloc(64, MALLOC_CAP_EXEC | MALLOC_CAP_8BIT) == NULL,
          "EXEC | 8BIT is an impossible combination and must give NULL");
#endif

    void *psram = heap_caps_malloc(64 * 1024, MALLOC_CAP_SPIRAM);
    if (psram != NULL) {
        printf("  heap_caps_malloc(64 KiB, MALLOC_CAP_SPIRAM) -> %p%s\n", psram, where(psram));
    } else {
        printf("  heap_caps_malloc(64 KiB, MALLOC_CAP_SPIRAM) -> NULL: no PSRAM heap on this chip\n"
               "    (try the esp32-psram or esp32s3-psram variant)\n");
    }

    section("4. heap_caps_print_heap_info() for a few capabilities");
    heap_caps_print_heap_info(MALLOC_CAP_DMA);
#ifdef MALLOC_CAP_EXEC
    heap_caps_print_heap_info(MALLOC_CAP_EXEC);
#endif
    if (psram != NULL) {
        heap_caps_print_heap_info(MALLOC_CAP_SPIRAM);
    }

    section("5. Plain C malloc/calloc/free land in internal RAM too");
    size_t before = heap_caps_get_free_size(MALLOC_CAP_INTERNAL);
    char *greeting = malloc(100);
    check(greeting != NULL, "malloc(100)");
    if (greeting != NULL) {
        strcpy(greeting, "hello from a simulated heap");
        printf("  malloc(100) -> %p%s holding \"%s\"\n", (void *)greeting, where(greeting),
               greeting);
        printf("  malloc_usable_size = %zu\n", malloc_usable_size(greeting));
    }
    size_t during = heap_caps_get_free_size(MALLOC_CAP_INTERNAL);
    printf("  internal free: %zu -> %zu bytes (the block plus its 4-byte header)\n", before, during);
    int *zeros = calloc(16, sizeof(int));
    check(zeros != NULL && zeros[0] == 0 && zeros[15] == 0, "calloc returns zeroed memory");
    void *nothing = malloc(0);
    printf("  malloc(0) -> %p (ESP-IDF returns NULL for zero-size requests)\n", nothing);
    free(zeros);
    free(greeting);
    printf("  after free: internal free is %zu bytes again\n", heap_caps_get_free_size(MALLOC_CAP_INTERNAL));
    check(heap_caps_get_free_size(MALLOC_CAP_INTERNAL) == before, "free gives every byte back");

    section("6. realloc can move a buffer to memory with other capabilities");
    char *buf = heap_caps_malloc(48, MALLOC_CAP_8BIT | MALLOC_CAP_INTERNAL);
    check(buf != NULL, "8BIT | INTERNAL allocation");
    if (buf != NULL) {
        strcpy(buf, "this text travels between heaps");
        printf("  heap_caps_malloc(48, 8BIT | INTERNAL)  -> %p%s\n", (void *)buf, where(buf));
        uint32_t target = MALLOC_CAP_32BIT | MALLOC_CAP_INTERNAL;
        const char *target_name = "32BIT | INTERNAL";
        if (psram != NULL) {
            target = MALLOC_CAP_SPIRAM;
            target_name = "SPIRAM";
        }
#ifdef MALLOC_CAP_EXEC
        else if (exec != NULL) {
            target = MALLOC_CAP_EXEC;
            target_name = "EXEC";
        }
#endif
        char *moved = heap_caps_realloc(buf, 64, target);
        printf("  heap_caps_realloc(.., 64, %s) -> %p%s: \"%s\"\n", target_name, (void *)moved,
               where(moved), moved ? moved : "(failed)");
        if (moved == buf) {
            printf("    (same place: that heap already has the capabilities asked for)\n");
        }
        check(moved != NULL && strcmp(moved, "this text travels between heaps") == 0,
              "realloc keeps the contents");
        char *back = moved ? heap_caps_realloc(moved, 48, MALLOC_CAP_8BIT | MALLOC_CAP_DMA) : NULL;
        printf("  heap_caps_realloc(.., 48, 8BIT | DMA) -> %p%s: \"%s\"\n", (void *)back,
               where(back), back ? back : "(failed)");
        check(back != NULL && strcmp(back, "this text travels between heaps") == 0,
              "realloc back keeps the contents");
        heap_caps_free(back != NULL ? back : moved);
    }

    section("7. Asking for the impossible");
    heap_caps_register_failed_alloc_callback(failed_alloc_cb);
    void *huge = heap_caps_malloc(64 * 1024 * 1024, MALLOC_CAP_DMA);
    printf("  heap_caps_malloc(64 MiB, MALLOC_CAP_DMA) -> %p\n", huge);
    check(huge == NULL, "64 MiB cannot fit");

    section("8. Integrity check of every heap");
    bool ok = heap_caps_check_integrity_all(true);
    printf("  heap_caps_check_integrity_all(true) -> %s\n", ok ? "all heaps intact" : "CORRUPTION");
    check(ok, "heaps intact");

    /* A picture of the heaps (host tool, not ESP-IDF): demo.sh sets HEAPCAPS_HEAP_MAP. Some
     * scattered small blocks first, so there is fragmentation to see. */
    const char *map = getenv("HEAPCAPS_HEAP_MAP");
    if (map != NULL && map[0] != '\0') {
        section("9. A picture of the heaps");
        void *scatter[48];
        for (int i = 0; i < 48; i++) {
            scatter[i] = heap_caps_malloc((size_t)(32 + (i * 53) % 700), MALLOC_CAP_DEFAULT);
        }
        for (int i = 0; i < 48; i += 3) {
            heap_caps_free(scatter[i]);
            scatter[i] = NULL;
        }
        esp_err_t e = heapcaps_sim_write_heap_map(map);
        printf("  heapcaps_sim_write_heap_map(\"%s\") -> %s: one band per heap, used and free\n"
               "    blocks by address, coloured by kind of memory (open it in a browser)\n",
               map, e == ESP_OK ? "written" : "FAILED");
        check(e == ESP_OK, "heap map written");
        for (int i = 0; i < 48; i++) {
            heap_caps_free(scatter[i]);
        }
    }

    heap_caps_free(dma);
    heap_caps_free(word);
    heap_caps_free(internal);
    heap_caps_free(aligned);
    heap_caps_free(exec);
    heap_caps_free(psram);
    size_t internal_free_at_end = heap_caps_get_free_size(MALLOC_CAP_INTERNAL);
    check(internal_free_at_end == internal_free_at_start, "all internal memory returned");

    section("What you just saw");
    printf("  * An ESP-IDF-style C program ran against a simulated %s: its RAM regions\n"
           "    became heaps, each tagged with capabilities (DMA, 32BIT, 8BIT, INTERNAL, EXEC,\n"
           "    SPIRAM...), exactly as ESP-IDF's startup does on the chip.\n"
           "  * heap_caps_malloc() picked a heap that has every capability asked for, in ESP-IDF's\n"
           "    priority order; malloc() from plain C used the same allocator (internal RAM).\n"
           "  * realloc moved data between kinds of memory, the failure callback reported an\n"
           "    impossible request, and the integrity check walked every block.\n"
           "  * Internal free memory: %zu bytes at the start, %zu bytes now.\n",
           heapcaps_sim_chip_name(), internal_free_at_start, internal_free_at_end);
    if (s_failures != 0) {
        printf("\n%d unexpected result(s) above.\n", s_failures);
        return 1;
    }
    printf("\nDone. Try another chip: ./demo.sh esp32s2 | esp32s3 | esp32c2 | esp32c3 | esp32c5 | esp32c6 | esp32c61 | esp32h2 | esp32-psram | esp32s3-psram\n");
    return 0;
}
