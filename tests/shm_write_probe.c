/*
 * shm_write_probe PATH - prove that sbtune's mapping of a live httpd's
 * scoreboard cannot be written.  A child process attaches through
 * sb_shm_open() and stores the byte it just read back at the same place
 * (so even if the protection were missing, httpd's data would not change).
 * Exit 0: the store faulted with SIGSEGV.  Exit 1: the store went through.
 * Exit 2: could not attach.
 */
#include "config.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
#include <apr_general.h>
#include "sb_shm.h"

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    sb_shm_t *h;
    apr_size_t len;
    volatile char *base;
    pid_t pid;
    int status;

    if (argc != 2) {
        fprintf(stderr, "usage: shm_write_probe SCOREBOARD_PATH\n");
        return 2;
    }
    apr_initialize();
    apr_pool_create(&pool, NULL);
    if (sb_shm_open(&h, argv[1], pool) != APR_SUCCESS) {
        fprintf(stderr, "shm_write_probe: %s\n", sb_shm_error(h));
        return 2;
    }
    base = (volatile char *)sb_shm_base(h, &len);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        /* die by the signal itself, not by a sanitizer's handler */
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        char c = base[len / 2];
        base[len / 2] = c;
        _exit(0);
    }
    if (waitpid(pid, &status, 0) != pid) {
        perror("waitpid");
        return 2;
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) {
        printf("write to the scoreboard mapping faulted (SIGSEGV): read-only\n");
        return 0;
    }
    printf("write to the scoreboard mapping did NOT fault (status %d)\n", status);
    return 1;
}
