#include "config.h"
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "sb_unit.h"

char *sb_unit_load(apr_pool_t *p, const char *name, apr_size_t *len)
{
    const char *top = getenv("top_srcdir");
    const char *path;
    FILE *f;
    long n;
    char *buf;

    ck_assert_msg(top != NULL, "top_srcdir is not set (run through make check "
                  "or set top_srcdir=/path/to/source)");
    path = apr_pstrcat(p, top, "/tests/data/", name, NULL);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    buf = apr_palloc(p, (apr_size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (apr_size_t)n;
    return buf;
}

int sb_unit_probe_as_nobody(void (*probe)(pid_t, char *, apr_size_t), pid_t *target_out,
                            char *msg, apr_size_t len)
{
    int hold[2], pfd[2], status;
    pid_t target, checker;
    ssize_t n;

    if (geteuid() != 0) {
        fprintf(stderr, "# not root: no other user's process to test with\n");
        return 0;
    }
    ck_assert_int_eq(pipe(hold), 0);
    target = fork();
    ck_assert_int_ge(target, 0);
    if (target == 0) {
        char b;
        close(hold[1]);
        while (read(hold[0], &b, 1) > 0) {
        }
        _exit(0);
    }
    close(hold[0]);
    ck_assert_int_eq(pipe(pfd), 0);
    checker = fork();
    ck_assert_int_ge(checker, 0);
    if (checker == 0) {
        struct passwd *pw = getpwnam("nobody");
        char buf[600];
        close(pfd[0]);
        close(hold[1]);
        if (!pw || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
            _exit(2);
        }
        probe(target, buf, sizeof(buf));
        if (write(pfd[1], buf, strlen(buf)) < 0) {
            _exit(3);
        }
        _exit(0);
    }
    close(pfd[1]);
    n = read(pfd[0], msg, len - 1);
    close(pfd[0]);
    ck_assert_int_eq(waitpid(checker, &status, 0), checker);
    close(hold[1]);
    ck_assert_int_eq(waitpid(target, NULL, 0), target);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "checker status %d", status);
    ck_assert_int_gt(n, 0);
    msg[n] = '\0';
    *target_out = target;
    return 1;
}

int sb_unit_run(Suite *s)
{
    SRunner *sr;
    int failed;

    apr_initialize();
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
