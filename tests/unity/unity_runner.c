/*
 * heapcaps test harness: main() running every registered TEST_CASE.
 *
 * Usage: ./test [-l] [FILTER...]
 *   -l          list the registered tests ("name" [tags]) and exit
 *   "[tag]"     run tests whose tag string contains "[tag]"
 *   "~[tag]"    skip tests whose tag string contains "[tag]"
 *   other       run tests whose name is exactly this, or contains it when it ends in '*'
 * With no positive filter every test runs. Exit status: 0 when no test failed, 1 otherwise.
 */
#include "unity.h"

#include <stdio.h>
#include <string.h>

static int name_matches(const char *name, const char *pat)
{
    size_t n = strlen(pat);
    if (n > 0 && pat[n - 1] == '*') {
        char buf[256];
        if (n - 1 >= sizeof buf) {
            return 0;
        }
        memcpy(buf, pat, n - 1);
        buf[n - 1] = '\0';
        return strstr(name, buf) != NULL;
    }
    return strcmp(name, pat) == 0;
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

int main(int argc, char **argv)
{
    return unity_run_all(argc, argv);
}
