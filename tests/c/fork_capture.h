/* Runs a piece of a C test in a forked child with its stderr captured, for the death tests that
 * check how the library aborts (Linux hosts only; include after unity.h). */
#pragma once
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Forks; the child sends its stderr into a pipe and runs child(arg), which should end the
 * process (abort, _exit); if it returns, the child exits with 42. The parent reads what the child
 * wrote into out (NUL-terminated, at most cap - 1 bytes) and returns the child's wait status. */
static inline int fork_capture(void (*child)(void *), void *arg, char *out, size_t cap)
{
    int fds[2];
    TEST_ASSERT_EQUAL_INT(0, pipe(fds));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    TEST_ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        child(arg);
        _exit(42);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while (len + 1 < cap && (n = read(fds[0], out + len, cap - 1 - len)) > 0) {
        len += (size_t)n;
    }
    out[len] = '\0';
    close(fds[0]);
    int status = 0;
    TEST_ASSERT_EQUAL_INT(pid, waitpid(pid, &status, 0));
    return status;
}
