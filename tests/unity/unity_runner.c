/*
 * heapcaps test harness: main() running every registered TEST_CASE.
 *
 * Usage: ./test [-l] [FILTER...]
 *   -l          list the registered tests ("name" [tags]) and exit
 *   "[tag]"     run tests whose tag string contains "[tag]"
 *   "~[tag]"    skip tests whose tag string contains "[tag]"
 *   other       run tests whose name is exactly this; "*text*" (a '*' at either end) runs
 *               tests whose name contains text
 * With no positive filter every test runs. Exit status: 0 when no test failed, 1 otherwise.
 */
#include "unity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int name_matches(const char *name, const char *pat)
{
    /* A '*' at either end of the pattern turns it into a substring match. */
    size_t n = strlen(pat);
    int wild = 0;
    if (n > 0 && pat[0] == '*') {
        pat++;
        n--;
        wild = 1;
    }
    if (n > 0 && pat[n - 1] == '*') {
        n--;
        wild = 1;
    }
    if (!wild) {
        return strcmp(name, pat) == 0;
    }
    for (const char *s = name; *s; s++) {
        if (strncmp(s, pat, n) == 0) {
            return 1;
        }
    }
    return n == 0;
}

static int selected(const unity_test_case_t *tc, int argc, char **argv)
{
    int any_positive = 0;
    int hit = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '~' && a[1] == '[') {
            if (strstr(tc->tags, a + 1)) {
                return 0;
            }
        } else if (a[0] == '[') {
            any_positive = 1;
            hit |= strstr(tc->tags, a) != NULL;
        } else if (a[0] != '-') {
            any_positive = 1;
            hit |= name_matches(tc->name, a);
        }
    }
    return !any_positive || hit;
}

int unity_run_all(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-l") == 0) {
            for (unity_test_case_t *tc = unity_first_test_case(); tc; tc = tc->next) {
                printf("\"%s\" %s\n", tc->name, tc->tags);
            }
            return 0;
        }
    }
    UNITY_BEGIN();
    for (unity_test_case_t *tc = unity_first_test_case(); tc; tc = tc->next) {
        if (selected(tc, argc, argv)) {
            unity_run_case(tc);
        }
    }
    return UNITY_END() == 0 ? 0 : 1;
}

void unity_run_menu(void)
{
    char name[] = "unity";
    char *argv[] = {name, NULL};
    exit(unity_run_all(1, argv));
}

int main(int argc, char **argv)
{
    return unity_run_all(argc, argv);
}
