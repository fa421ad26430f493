/*
 * shm_write_probe PATH - prove that sbtune's hold on a live httpd's
 * scoreboard cannot write it: sb_shm_open() leaves one descriptor of the
 * object, opened read-only (its flags in /proc/self/fdinfo), a write
 * through it fails with EBADF, and no part of the object is mapped into
 * this process (/proc/self/maps names no mapping of its inode).
 * Exit 0: all three hold ("read-only").  Exit 1: one does not.
 * Exit 2: could not attach.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <apr_general.h>
#include "sb_shm.h"

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    sb_shm_t *h;
    char fn[64], line[1024];
    struct stat st;
    FILE *f;
    int fd, flags = -1, mapped = 0, bad = 0;
    char c = 0;

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
    fd = sb_shm_fd(h);
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "shm_write_probe: no descriptor of %s\n", sb_shm_object(h));
        return 2;
    }
    snprintf(fn, sizeof(fn), "/proc/self/fdinfo/%d", fd);
    if ((f = fopen(fn, "r")) != NULL) {
        while (fgets(line, sizeof(line), f)) {
            sscanf(line, "flags: %o", (unsigned *)&flags);
        }
        fclose(f);
    }
    if (flags < 0 || (flags & O_ACCMODE) != O_RDONLY) {
        printf("the descriptor of %s is not read-only (flags %o)\n", sb_shm_object(h), flags);
        bad = 1;
    }
    if (write(fd, &c, 1) != -1 || errno != EBADF) {
        printf("a write to %s through sbtune's descriptor did not fail with EBADF\n",
               sb_shm_object(h));
        bad = 1;
    }
    if ((f = fopen("/proc/self/maps", "r")) != NULL) {
        while (fgets(line, sizeof(line), f)) {
            unsigned long inode;
            if (sscanf(line, "%*x-%*x %*s %*x %*x:%*x %lu", &inode) == 1
                && inode == (unsigned long)st.st_ino && strstr(line, "/dev/shm/")) {
                mapped = 1;
            }
        }
        fclose(f);
    }
    if (mapped) {
        printf("%s is mapped into this process\n", sb_shm_object(h));
        bad = 1;
    }
    if (!bad) {
        printf("%s: opened read-only (flags %o), a write fails with EBADF, nothing is "
               "mapped: read-only\n", sb_shm_object(h), flags);
    }
    return bad;
}
