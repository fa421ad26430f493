/*
 * privs_probe USER CAPS [CHECK...] - drop to USER keeping CAPS through
 * sb_privs_drop(), then try what sbagent needs to do afterwards and say
 * what worked.  For tests/integration/t_privdrop.sh; run it as root.
 *
 * CAPS is a comma-separated list (dac_override, sys_ptrace,
 * dac_read_search, ipc_owner) or "none".  Checks, in this order:
 *
 *   --spawn-thread        start a thread before the drop (which must refuse)
 *   --reattach PATH       attach httpd's scoreboard before the drop, as the
 *                         daemon does; after the drop, wait for --wait-file,
 *                         then sample until the segment of a stopped and
 *                         started httpd is attached again (up to 15 s)
 *   --wait-file FILE      with --reattach: print "ready" and wait for FILE
 *   --read FILE           open FILE read-only and read a byte (never written)
 *   --scoreboard PATH     attach httpd's scoreboard after the drop
 *   --smaps PID           read PID's memory (/proc/PID/smaps_rollup)
 *   --ports PID           find the listen ports of PID (/proc/PID/fd)
 *
 * Output: "drop: ok" or "drop: failed: MESSAGE", "creds: ..." (from
 * sb_privs_describe()), "status: Key: value" (the kernel's view from
 * /proc/self/status), then "CHECK: ok ..." or "CHECK: failed: ..." per
 * check.  Exit 0: the drop and every check succeeded; 1: a check failed;
 * 2: usage error or the drop failed.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <apr_general.h>
#include "sb_kernel.h"
#include "sb_procmem.h"
#include "sb_shm.h"
#include "sbagent_privs.h"

static void usage(void)
{
    fprintf(stderr, "usage: privs_probe USER CAPS [--spawn-thread] [--reattach PATH "
            "--wait-file FILE] [--read FILE] [--write FILE] [--scoreboard PATH] [--smaps PID]... "
            "[--ports PID]\n");
}

static void *idle_thread(void *arg)
{
    for (;;) {
        pause();
    }
    return arg;
}

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static void print_status(void)
{
    static const char *const keys[] = {
        "Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:",
        "NoNewPrivs:",
    };
    FILE *f = fopen("/proc/self/status", "r");
    char line[512];
    size_t i;

    if (!f) {
        printf("status: cannot read /proc/self/status: %s\n", strerror(errno));
        return;
    }
    while (fgets(line, sizeof(line), f)) {
        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            if (strncmp(line, keys[i], strlen(keys[i])) == 0) {
                char *t;
                for (t = line; *t; t++) {
                    if (*t == '\t') {
                        *t = ' ';
                    }
                }
                printf("status: %s", line);
            }
        }
    }
    fclose(f);
}

static int check_read(const char *path)
{
    char c;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        printf("read: failed: %s: %s\n", path, strerror(errno));
        return 1;
    }
    n = read(fd, &c, 1);
    close(fd);
    if (n < 0) {
        printf("read: failed: %s: %s\n", path, strerror(errno));
        return 1;
    }
    printf("read: ok: %s\n", path);
    return 0;
}

/* Opening for writing: what a capability kept after the drop must not allow. */
static int check_write(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

    if (fd < 0) {
        printf("write: failed: %s: %s\n", path, strerror(errno));
        return 1;
    }
    close(fd);
    printf("write: ok: %s\n", path);
    return 0;
}

static int check_smaps(const char *arg)
{
    sb_procmem_t pm;
    pid_t pid = (pid_t)atol(arg);

    if (sb_procmem_read(pid, &pm) != APR_SUCCESS) {
        printf("smaps %ld: failed: %s\n", (long)pid, pm.error);
        return 1;
    }
    printf("smaps %ld: ok: pss %llu bytes\n", (long)pid, (unsigned long long)pm.pss);
    return 0;
}

static int check_ports(const char *arg, apr_pool_t *pool)
{
    sb_kernel_t *k;
    sb_kernel_ports_t ports;
    pid_t pid = (pid_t)atol(arg);
    apr_status_t rv;

    if (sb_kernel_open(&k, pool) != APR_SUCCESS) {
        printf("ports: failed: %s\n", sb_kernel_error(k));
        return 1;
    }
    rv = sb_kernel_listen_ports_of_pid(k, pid, &ports);
    if (rv != APR_SUCCESS || ports.nports < 1) {
        printf("ports: failed: %s\n", sb_kernel_error(k));
        sb_kernel_close(k);
        return 1;
    }
    printf("ports: ok: %d port(s), the first %u\n", ports.nports, ports.port[0]);
    sb_kernel_close(k);
    return 0;
}

static int check_scoreboard(const char *path, apr_pool_t *pool)
{
    sb_shm_t *h;
    sb_sample_t *s;

    if (sb_shm_open(&h, path, pool) != APR_SUCCESS) {
        printf("scoreboard: failed: %s\n", sb_shm_error(h));
        return 1;
    }
    if (sb_shm_sample(h, pool, &s) != APR_SUCCESS) {
        printf("scoreboard: failed: %s\n", sb_shm_error(h));
        sb_shm_close(h);
        return 1;
    }
    printf("scoreboard: ok: attached after the drop\n");
    sb_shm_close(h);
    return 0;
}

/* Sample h until a stop and start of httpd has been seen and its new
 * segment attached, for up to 15 s. */
static int check_reattach(sb_shm_t *h, const char *wait_file, apr_pool_t *pool)
{
    int i;
    apr_status_t rv = APR_SUCCESS;

    printf("ready\n");
    fflush(stdout);
    for (i = 0; i < 600 && access(wait_file, F_OK) != 0; i++) {
        sleep_ms(50);
    }
    if (i == 600) {
        printf("reattach: failed: %s did not appear within 30 s\n", wait_file);
        return 1;
    }
    for (i = 0; i < 300; i++) {
        sb_sample_t *s;
        apr_pool_t *iter;
        apr_pool_create(&iter, pool);
        rv = sb_shm_sample(h, iter, &s);
        apr_pool_destroy(iter);
        if (rv == APR_SUCCESS && (sb_shm_events(h) & SB_SHM_EV_REATTACHED)) {
            printf("reattach: ok: the new segment is attached\n");
            return 0;
        }
        sleep_ms(50);
    }
    printf("reattach: failed: %s\n", rv == APR_SUCCESS ? "no new segment seen within 15 s"
           : sb_shm_error(h));
    return 1;
}

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    sb_shm_t *reattach = NULL;
    const char *wait_file = NULL;
    unsigned caps;
    char err[1024], desc[1024];
    int i, failed = 0;

    if (argc < 3) {
        usage();
        return 2;
    }
    if (sb_privs_parse(argv[2], &caps, err, sizeof(err)) != 0) {
        fprintf(stderr, "privs_probe: %s\n", err);
        return 2;
    }
    for (i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--spawn-thread") == 0) {
            continue;
        }
        if (i + 1 >= argc || strncmp(argv[i], "--", 2) != 0) {
            usage();
            return 2;
        }
        if (strcmp(argv[i], "--wait-file") == 0) {
            wait_file = argv[i + 1];
        }
        else if (strcmp(argv[i], "--reattach") != 0 && strcmp(argv[i], "--read") != 0
                 && strcmp(argv[i], "--write") != 0
                 && strcmp(argv[i], "--scoreboard") != 0 && strcmp(argv[i], "--smaps") != 0
                 && strcmp(argv[i], "--ports") != 0) {
            usage();
            return 2;
        }
        i++;
    }
    apr_initialize();
    apr_pool_create(&pool, NULL);

    /* before the drop */
    for (i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--spawn-thread") == 0) {
            pthread_t t;
            if (pthread_create(&t, NULL, idle_thread, NULL) != 0) {
                fprintf(stderr, "privs_probe: pthread_create failed\n");
                return 2;
            }
        }
        else if (strcmp(argv[i], "--reattach") == 0) {
            if (!wait_file) {
                fprintf(stderr, "privs_probe: --reattach needs --wait-file\n");
                return 2;
            }
            if (sb_shm_open(&reattach, argv[i + 1], pool) != APR_SUCCESS) {
                printf("reattach: failed: before the drop: %s\n", sb_shm_error(reattach));
                return 2;
            }
        }
    }

    if (sb_privs_drop(argv[1], caps, err, sizeof(err)) != 0) {
        printf("drop: failed: %s\n", err);
        sb_privs_describe(desc, sizeof(desc));
        printf("creds: %s\n", desc);
        return 2;
    }
    printf("drop: ok\n");
    sb_privs_describe(desc, sizeof(desc));
    printf("creds: %s\n", desc);
    print_status();

    /* after the drop */
    if (reattach) {
        failed |= check_reattach(reattach, wait_file, pool);
    }
    for (i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--spawn-thread") == 0) {
            continue;
        }
        if (strcmp(argv[i], "--read") == 0) {
            failed |= check_read(argv[i + 1]);
        }
        else if (strcmp(argv[i], "--write") == 0) {
            failed |= check_write(argv[i + 1]);
        }
        else if (strcmp(argv[i], "--scoreboard") == 0) {
            failed |= check_scoreboard(argv[i + 1], pool);
        }
        else if (strcmp(argv[i], "--smaps") == 0) {
            failed |= check_smaps(argv[i + 1]);
        }
        else if (strcmp(argv[i], "--ports") == 0) {
            failed |= check_ports(argv[i + 1], pool);
        }
        i++;
    }
    fflush(stdout);
    return failed ? 1 : 0;
}
