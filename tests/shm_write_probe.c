/*
 * shm_write_probe PATH - prove that sbtune's hold on a live httpd's
 * scoreboard cannot write it: sb_shm_open() (and a first sample) leaves
 * one descriptor of the object, opened read-only (its flags in
 * /proc/self/fdinfo), a write through it fails with EBADF; every mapping
 * of the object's inode in /proc/self/maps is shared and not writable
 * (there is exactly one: sbtune's), the kernel refuses to make it writable
 * (mprotect PROT_WRITE fails with EACCES), and a write to it kills a
 * child of the probe with SIGSEGV and leaves the byte as it was.
 * Exit 0: all of these hold ("read-only").  Exit 1: one does not.
 * Exit 2: could not attach.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <apr_general.h>
#include "sb_shm.h"

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    sb_shm_t *h;
    char fn[64], line[1024];
    struct stat st;
    FILE *f;
    int fd, flags = -1, mapped = 0, bad = 0, status;
    char c = 0;
    const char *map;
    apr_size_t len, pg;
    sb_sample_t *smp;
    pid_t child;

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
    if (sb_shm_sample(h, pool, &smp) != APR_SUCCESS) {
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
    map = sb_shm_mapping(h, &len);
    if ((f = fopen("/proc/self/maps", "r")) != NULL) {
        while (fgets(line, sizeof(line), f)) {
            unsigned long inode;
            char perms[8];
            if (sscanf(line, "%*x-%*x %7s %*x %*x:%*x %lu", perms, &inode) == 2
                && inode == (unsigned long)st.st_ino && strstr(line, "/dev/shm/")) {
                mapped++;
                if (perms[1] != '-' || perms[3] != 's') {
                    printf("%s is mapped %s (not read-only shared): %s", sb_shm_object(h),
                           perms, line);
                    bad = 1;
                }
            }
        }
        fclose(f);
    }
    if (!map || mapped != 1) {
        printf("%s: %d mappings of it in this process, sbtune's is %p: expected exactly one\n",
               sb_shm_object(h), mapped, (const void *)map);
        return 1;
    }
    pg = (apr_size_t)sysconf(_SC_PAGESIZE);
    if (mprotect((void *)map, (len + pg - 1) / pg * pg, PROT_READ | PROT_WRITE) != -1
        || errno != EACCES) {
        printf("mprotect(PROT_WRITE) of the mapping of %s did not fail with EACCES\n",
               sb_shm_object(h));
        bad = 1;
    }
    c = map[8];
    fflush(stdout);
    if ((child = fork()) == 0) {
        signal(SIGSEGV, SIG_DFL);   /* a sanitizer's handler would exit instead */
        *(volatile char *)(map + 8) = (char)(c + 1);
        _exit(0);
    }
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFSIGNALED(status)
        || WTERMSIG(status) != SIGSEGV || map[8] != c) {
        printf("a write to the mapping of %s did not fault with SIGSEGV (status %#x)\n",
               sb_shm_object(h), child > 0 ? (unsigned)status : 0u);
        bad = 1;
    }
    if (!bad) {
        printf("%s: opened read-only (flags %o), a write fails with EBADF, mapped once "
               "read-only shared, mprotect(PROT_WRITE) refused, a write faults: read-only\n",
               sb_shm_object(h), flags);
    }
    return bad;
}
