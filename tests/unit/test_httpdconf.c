/* Unit tests of lib/sb_httpdconf: apachectl's outputs captured from
 * Debian's apache2 2.4.71 and the configuration tree they were captured
 * on (tests/data/httpdconf/README.md), plus a few files made here for
 * the error paths. */
#include <check.h>
#include "sb_unit.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "sb_httpdconf.h"

static apr_pool_t *pool;
static const char *tree;        /* tests/data/httpdconf/tree */

static void setup(void)
{
    const char *top = getenv("top_srcdir");

    apr_pool_create(&pool, NULL);
    ck_assert_msg(top != NULL, "top_srcdir is not set");
    tree = apr_pstrcat(pool, top, "/tests/data/httpdconf/tree", NULL);
    setenv("SBTREE", tree, 1);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* tests/data/httpdconf/NAME with @DIR@ replaced by the tree's path. */
static const char *data(const char *name)
{
    apr_size_t len;
    const char *s = sb_unit_load(pool, apr_pstrcat(pool, "httpdconf/", name, NULL), &len);
    char *out = apr_pstrdup(pool, "");
    const char *at;

    while ((at = strstr(s, "@DIR@")) != NULL) {
        out = apr_pstrcat(pool, out, apr_pstrmemdup(pool, s, (apr_size_t)(at - s)), tree, NULL);
        s = at + 5;
    }
    return apr_pstrcat(pool, out, s, NULL);
}

/* The tree walked for root-MPM.conf as httpd loaded it. */
static sb_httpdconf_t *walk(const char *mpm, const char *define, char *err, apr_size_t errlen,
                            int *rc)
{
    sb_httpdconf_t *hc = sb_httpdconf_create(pool);

    ck_assert_int_eq(sb_httpdconf_parse_V(hc, data("V-debian.txt")), 0);
    hc->mpm = SB_MPM_UNKNOWN;       /* the tree's MPM, from its -M */
    ck_assert_int_gt(sb_httpdconf_parse_M(hc, data(apr_pstrcat(pool, "M-", mpm, ".txt",
                                                              NULL))), 0);
    sb_httpdconf_parse_defines(hc, data(apr_pstrcat(pool, "runcfg-", mpm, ".txt", NULL)));
    if (define) {
        sb_httpdconf_define(hc, define, NULL);
    }
    ck_assert_int_eq(sb_httpdconf_parse_includes(hc, data(apr_pstrcat(pool, "includes-", mpm,
                                                                    ".txt", NULL)),
                                                 err, errlen), 0);
    *rc = sb_httpdconf_walk(hc, err, errlen);
    return hc;
}

static const char *at(const sb_httpdconf_t *hc, sb_hc_id_t id)
{
    return sb_httpdconf_where(hc, id, pool);
}

static const char *in_tree(const char *rel, int line)
{
    return apr_psprintf(pool, "%s/%s:%d", tree, rel, line);
}

START_TEST(debian_version_and_modules)
{
    sb_httpdconf_t *hc = sb_httpdconf_create(pool);

    ck_assert_int_eq(sb_httpdconf_parse_V(hc, data("V-debian.txt")), 0);
    ck_assert_int_eq(hc->mpm, SB_MPM_EVENT);
    ck_assert_str_eq(hc->mpm_from, "apachectl -V");
    ck_assert_str_eq(hc->version, "2.4.71");
    ck_assert_int_eq(hc->httpd_minor, 4);
    ck_assert_str_eq(hc->httpd_root, "/etc/apache2");
    ck_assert_str_eq(hc->server_config_file, "apache2.conf");
    ck_assert_int_eq(sb_httpdconf_parse_M(hc, data("M-debian.txt")), 27);
    ck_assert_int_eq(hc->static_modules->nelts, 8);
    ck_assert_str_eq(APR_ARRAY_IDX(hc->static_modules, 0, const char *), "core_module");
    ck_assert_int_eq(sb_httpdconf_parse_V(hc, "Server version: Apache/2.4.71\n"), -1);
    /* the prefork tree's -V (Debian's MPMs are shared: -V names the one
     * the configuration loads) */
    hc = sb_httpdconf_create(pool);
    ck_assert_int_eq(sb_httpdconf_parse_V(hc, data("V-prefork.txt")), 0);
    ck_assert_int_eq(hc->mpm, SB_MPM_PREFORK);
}
END_TEST

START_TEST(mpm_from_modules_without_V)
{
    sb_httpdconf_t *hc = sb_httpdconf_create(pool);

    ck_assert_int_eq(sb_httpdconf_parse_M(hc, data("M-prefork.txt")), 10);
    ck_assert_int_eq(hc->mpm, SB_MPM_PREFORK);
    ck_assert_str_eq(hc->mpm_from, "apachectl -M");
}
END_TEST

START_TEST(debian_includes_tree)
{
    sb_httpdconf_t *hc = sb_httpdconf_create(pool);
    char err[512];
    sb_hc_file_t *first, *last;

    ck_assert_int_eq(sb_httpdconf_parse_includes(hc, data("includes-debian.txt"), err,
                                                 sizeof(err)), 0);
    ck_assert_int_eq(hc->nfiles, 37);
    ck_assert_str_eq(hc->root->path, "/etc/apache2/apache2.conf");
    ck_assert_int_eq(hc->root->children->nelts, 36);
    first = APR_ARRAY_IDX(hc->root->children, 0, sb_hc_file_t *);
    last = APR_ARRAY_IDX(hc->root->children, 35, sb_hc_file_t *);
    ck_assert_str_eq(first->path, "/etc/apache2/mods-enabled/access_compat.load");
    ck_assert_int_eq(first->parent_line, 146);
    ck_assert_str_eq(last->path, "/etc/apache2/sites-enabled/000-default.conf");
    ck_assert_int_eq(last->parent_line, 225);
}
END_TEST

START_TEST(nested_includes_tree)
{
    sb_httpdconf_t *hc = sb_httpdconf_create(pool);
    char err[512];
    sb_hc_file_t *tuning, *mpm, *extra;

    ck_assert_int_eq(sb_httpdconf_parse_includes(hc, data("includes-event.txt"), err,
                                                 sizeof(err)), 0);
    ck_assert_int_eq(hc->nfiles, 7);
    tuning = APR_ARRAY_IDX(hc->root->children, 0, sb_hc_file_t *);
    ck_assert_int_eq(tuning->children->nelts, 4);
    mpm = APR_ARRAY_IDX(tuning->children, 0, sb_hc_file_t *);
    extra = APR_ARRAY_IDX(mpm->children, 0, sb_hc_file_t *);
    ck_assert_int_eq(extra->depth, 3);
    ck_assert_int_eq(extra->parent_line, 19);
    ck_assert_ptr_eq(extra->parent, mpm);
    ck_assert(sb_httpdconf_has_file(hc, apr_pstrcat(pool, tree, "/conf.d/20-sbtune.conf",
                                                    NULL)));
    ck_assert(!sb_httpdconf_has_file(hc, apr_pstrcat(pool, tree, "/root-prefork.conf",
                                                     NULL)));
}
END_TEST

START_TEST(bad_includes_output)
{
    sb_httpdconf_t *hc = sb_httpdconf_create(pool);
    char err[512];

    ck_assert_int_eq(sb_httpdconf_parse_includes(hc, "Syntax error on line 3\n", err,
                                                 sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "Included configuration files"));
    ck_assert_int_eq(sb_httpdconf_parse_includes(hc, "Included configuration files:\n"
                                                 "    (3) /a.conf\n", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "root"));
    ck_assert_int_eq(sb_httpdconf_parse_includes(hc, "Included configuration files:\n"
                                                 "  (*) /a.conf\n      (3) /b.conf\n", err,
                                                 sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "deeper"));
}
END_TEST

/* The event tree: each value, its file and line, httpd's adjustment. */
START_TEST(event_tree)
{
    char err[512] = "";
    int rc;
    sb_httpdconf_t *hc = walk("event", NULL, err, sizeof(err), &rc);

    ck_assert_msg(rc == 0, "walk: %s", err);
    ck_assert_int_eq(hc->mpm, SB_MPM_EVENT);
    ck_assert_str_eq(hc->runcfg_server_root, tree);     /* -d */
    ck_assert_ptr_null(apr_table_get(hc->defines, "DUMP_RUN_CFG"));
    ck_assert_str_eq(apr_table_get(hc->defines, "KA_TIMEOUT"), "7");
    ck_assert_double_eq(hc->v[SB_HC_KEEPALIVE].value, 1);
    ck_assert_str_eq(at(hc, SB_HC_KEEPALIVE), in_tree("conf.d/20-sbtune.conf", 2));
    /* ${KA_TIMEOUT}, under an <IfDefine> that a Define above made true */
    ck_assert_double_eq(hc->v[SB_HC_KEEPALIVE_TIMEOUT].value, 7);
    ck_assert_str_eq(at(hc, SB_HC_KEEPALIVE_TIMEOUT), in_tree("conf.d/10-keepalive.conf", 10));
    /* the last word, its first line; httpd lowers it (AH00515) */
    ck_assert_double_eq(hc->v[SB_HC_MAX_REQUEST_WORKERS].value, 48);
    ck_assert_str_eq(at(hc, SB_HC_MAX_REQUEST_WORKERS), in_tree("tuning.conf", 18));
    ck_assert_double_eq(hc->v[SB_HC_MAX_REQUEST_WORKERS].effective, 32);
    ck_assert_ptr_nonnull(strstr(hc->v[SB_HC_MAX_REQUEST_WORKERS].adjusted,
                                 "at most ServerLimit 4 x ThreadsPerChild 8"));
    ck_assert_double_eq(hc->v[SB_HC_SERVER_LIMIT].value, 4);
    ck_assert_str_eq(at(hc, SB_HC_SERVER_LIMIT), in_tree("mods/mpm.conf", 14));
    ck_assert_double_eq(hc->v[SB_HC_THREADS_PER_CHILD].value, 8);
    ck_assert_double_eq(hc->v[SB_HC_THREAD_LIMIT].value, 16);      /* "16" */
    ck_assert_double_eq(hc->v[SB_HC_ASYNC_FACTOR].value, 1.5);
    /* nested include inside <IfModule>; a lower-case name */
    ck_assert_str_eq(at(hc, SB_HC_MIN_SPARE_THREADS), in_tree("mods/event-extra.inc", 2));
    ck_assert_double_eq(hc->v[SB_HC_MAX_SPARE_THREADS].value, 32);
    ck_assert_str_eq(at(hc, SB_HC_START_SERVERS), in_tree("conf.d/20-sbtune.conf", 4));
    ck_assert_double_eq(hc->v[SB_HC_LISTEN_BACKLOG].value, 64);
    ck_assert_double_eq(hc->v[SB_HC_MAX_CONNECTIONS_PER_CHILD].value, 1000);
    ck_assert_int_eq(hc->v[SB_HC_MIN_SPARE_SERVERS].origin, SB_HC_NA);
    /* the <VirtualHost>'s own values are noted, not counted */
    ck_assert_ptr_nonnull(strstr(hc->notes, apr_pstrcat(pool, in_tree("tuning.conf", 14),
                                                        ": KeepAliveTimeout 2 inside"
                                                        " <VirtualHost>", NULL)));
    ck_assert_ptr_nonnull(strstr(hc->notes, apr_pstrcat(pool, in_tree("vhost.d/extra.conf", 2),
                                                        ": KeepAlive Off inside"
                                                        " <VirtualHost>", NULL)));
    /* nothing else: the evaluation agrees with DUMP_INCLUDES */
    ck_assert_ptr_null(strstr(hc->notes, "evaluation differs"));
}
END_TEST

START_TEST(define_on_the_command_line)
{
    char err[512] = "";
    int rc;
    sb_httpdconf_t *hc = walk("event", "BIGGER", err, sizeof(err), &rc);

    ck_assert_msg(rc == 0, "walk: %s", err);
    ck_assert_double_eq(hc->v[SB_HC_MAX_REQUEST_WORKERS].value, 64);
    ck_assert_str_eq(at(hc, SB_HC_MAX_REQUEST_WORKERS), in_tree("tuning.conf", 21));
    ck_assert_double_eq(hc->v[SB_HC_MAX_REQUEST_WORKERS].effective, 32);
}
END_TEST

START_TEST(prefork_tree)
{
    char err[512] = "";
    int rc;
    sb_httpdconf_t *hc = walk("prefork", NULL, err, sizeof(err), &rc);

    ck_assert_msg(rc == 0, "walk: %s", err);
    ck_assert_int_eq(hc->mpm, SB_MPM_PREFORK);
    /* no mod_status: SHORT_KA is never defined */
    ck_assert_double_eq(hc->v[SB_HC_KEEPALIVE_TIMEOUT].value, 30);
    ck_assert_str_eq(at(hc, SB_HC_KEEPALIVE_TIMEOUT), in_tree("conf.d/10-keepalive.conf", 13));
    /* MaxClients 12, then MaxRequestWorkers 48; httpd lowers it (AH00180) */
    ck_assert_str_eq(at(hc, SB_HC_MAX_REQUEST_WORKERS), in_tree("tuning.conf", 18));
    ck_assert_double_eq(hc->v[SB_HC_MAX_REQUEST_WORKERS].effective, 16);
    ck_assert_str_eq(at(hc, SB_HC_START_SERVERS), in_tree("mods/mpm.conf", 3));
    ck_assert_double_eq(hc->v[SB_HC_MIN_SPARE_SERVERS].value, 1);
    ck_assert_int_eq(hc->v[SB_HC_THREADS_PER_CHILD].origin, SB_HC_NA);
    ck_assert_int_eq(hc->v[SB_HC_MAX_CONNECTIONS_PER_CHILD].origin, SB_HC_DEFAULT);
    ck_assert_double_eq(hc->v[SB_HC_MAX_CONNECTIONS_PER_CHILD].value, 0);
    ck_assert_str_eq(at(hc, SB_HC_MAX_CONNECTIONS_PER_CHILD), "httpd default");
}
END_TEST

/* DUMP_INCLUDES of the event tree walked from the prefork root: httpd
 * (said to have) included event-extra.inc where this walk sees a false
 * <IfModule mpm_event_module>. */
START_TEST(disagreement_is_noted)
{
    sb_httpdconf_t *hc = sb_httpdconf_create(pool);
    char err[512];

    const char *inc = data("includes-event.txt");

    /* the event tree's list, rooted at root-prefork.conf (which includes
     * tuning.conf at line 6) */
    inc = apr_pstrcat(pool, "Included configuration files:\n  (*) ", tree, "/root-prefork.conf\n"
                      "    (6) ", strstr(inc, "(8) ") + 4, NULL);
    ck_assert_int_gt(sb_httpdconf_parse_M(hc, data("M-prefork.txt")), 0);
    ck_assert_int_eq(sb_httpdconf_parse_includes(hc, inc, err, sizeof(err)), 0);
    ck_assert_int_eq(sb_httpdconf_walk(hc, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(hc->notes, apr_pstrcat(pool, in_tree("mods/mpm.conf", 19),
                                                        ": httpd included ", tree,
                                                        "/mods/event-extra.inc", NULL)));
}
END_TEST

/* A file made here, walked as the only one with modules mods. */
static sb_httpdconf_t *walk_text(const char *text, const char *mods, sb_mpm_t mpm, int *rc,
                                 char *err, apr_size_t errlen)
{
    char path[] = "/tmp/sbtest-httpdconf.XXXXXX";
    int fd = mkstemp(path);
    sb_httpdconf_t *hc = sb_httpdconf_create(pool);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    sb_httpdconf_parse_M(hc, apr_pstrcat(pool, "Loaded Modules:\n core_module (static)\n",
                                         mods, NULL));
    hc->version = "2.4.71";
    if (mpm != SB_MPM_UNKNOWN) {
        hc->mpm = mpm;
    }
    ck_assert_int_eq(sb_httpdconf_parse_includes(hc, apr_pstrcat(pool, "Included configuration"
                                                                " files:\n  (*) ", path, "\n",
                                                                NULL), err, errlen), 0);
    *rc = sb_httpdconf_walk(hc, err, errlen);
    unlink(path);
    return hc;
}

START_TEST(defaults_and_adjustments)
{
    char err[512] = "";
    int rc;
    sb_httpdconf_t *hc = walk_text("ServerName x\n", " mpm_worker_module (shared)\n",
                                   SB_MPM_UNKNOWN, &rc, err, sizeof(err));

    ck_assert_msg(rc == 0, "walk: %s", err);
    ck_assert_int_eq(hc->mpm, SB_MPM_WORKER);
    ck_assert_double_eq(hc->v[SB_HC_MAX_REQUEST_WORKERS].effective, 400);
    ck_assert_double_eq(hc->v[SB_HC_SERVER_LIMIT].effective, 16);
    ck_assert_double_eq(hc->v[SB_HC_THREAD_LIMIT].effective, 64);
    ck_assert_double_eq(hc->v[SB_HC_START_SERVERS].effective, 3);
    ck_assert_double_eq(hc->v[SB_HC_KEEPALIVE_TIMEOUT].effective, 5);
    ck_assert_int_eq(hc->v[SB_HC_ASYNC_FACTOR].origin, SB_HC_NA);
    /* httpd's AH00318: the default 400 needs 40 processes of 10 */
    hc = walk_text("ThreadsPerChild 10\n", " mpm_worker_module (shared)\n", SB_MPM_UNKNOWN,
                   &rc, err, sizeof(err));
    ck_assert_double_eq(hc->v[SB_HC_MAX_REQUEST_WORKERS].effective, 160);
    ck_assert_int_eq(hc->v[SB_HC_MAX_REQUEST_WORKERS].origin, SB_HC_DEFAULT);
    /* AH00507 then AH00513 */
    hc = walk_text("ThreadsPerChild 100\n", " mpm_event_module (shared)\n", SB_MPM_UNKNOWN,
                   &rc, err, sizeof(err));
    ck_assert_double_eq(hc->v[SB_HC_THREADS_PER_CHILD].effective, 64);
    ck_assert_double_eq(hc->v[SB_HC_MAX_REQUEST_WORKERS].effective, 384);
    /* AH00511 */
    hc = walk_text("MaxRequestWorkers 10\n", " mpm_event_module (shared)\n", SB_MPM_UNKNOWN,
                   &rc, err, sizeof(err));
    ck_assert_double_eq(hc->v[SB_HC_MAX_REQUEST_WORKERS].effective, 25);
    /* the MPM unknown: an error */
    hc = walk_text("ServerName x\n", "", SB_MPM_UNKNOWN, &rc, err, sizeof(err));
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_nonnull(strstr(err, "MPM"));
}
END_TEST

START_TEST(values_and_lines)
{
    char err[512] = "";
    int rc;
    sb_httpdconf_t *hc = walk_text(
        "# KeepAliveTimeout 1\n"
        "  keepalivetimeout   300ms  \n"
        "KeepAlive 0\n"
        "MaxRequestWorkers 5x\n"
        "ServerLimit 3 4\n"
        "MaxClients 9\r\n"
        "<IfVersion >= 2.4>\n"
        "ListenBacklog 10\n"
        "</IfVersion>\n"
        "<IfVersion < 2.4>\n"
        "ListenBacklog 20\n"
        "</IfVersion>\n"
        "<IfVersion ~ ^2>\n"
        "StartServers 7\n"
        "</IfVersion>\n"
        "<IfModule !mpm_prefork_module>\n"
        "  <IfModule mpm_event_module>\n"
        "    MaxRequestsPerChild 77\n"
        "  </IfModule>\n"
        "</IfModule>\n"
        "<If \"%{HTTP_HOST} == 'a'\">\n"
        "  KeepAlive On\n"
        "</If>\n"
        "<IfFile /etc/passwd>\n"
        "MaxSpareServers 9\n"
        "</IfFile>\n"
        "<IfFile !/etc/passwd>\n"
        "MinSpareServers 3\n"
        "</IfFile>\n"
        "MaxConnectionsPerChild ${SBTEST_UNSET_VARIABLE}\n",
        "", SB_MPM_PREFORK, &rc, err, sizeof(err));

    ck_assert_msg(rc == 0, "walk: %s", err);
    ck_assert_double_eq_tol(hc->v[SB_HC_KEEPALIVE_TIMEOUT].value, 0.3, 1e-12);
    ck_assert_int_eq(hc->v[SB_HC_KEEPALIVE_TIMEOUT].line, 2);
    ck_assert_double_eq(hc->v[SB_HC_KEEPALIVE].value, 0);
    /* "5x" and two values are not taken; MaxClients is */
    ck_assert_double_eq(hc->v[SB_HC_MAX_REQUEST_WORKERS].value, 9);
    ck_assert_int_eq(hc->v[SB_HC_MAX_REQUEST_WORKERS].line, 6);
    ck_assert_str_eq(hc->v[SB_HC_MAX_REQUEST_WORKERS].spelled, "MaxClients");
    ck_assert_ptr_nonnull(strstr(hc->notes, ":4: MaxRequestWorkers with the value '5x'"));
    ck_assert_ptr_nonnull(strstr(hc->notes, ":5: ServerLimit with more than one value"));
    ck_assert_int_eq(hc->v[SB_HC_SERVER_LIMIT].origin, SB_HC_DEFAULT);
    ck_assert_double_eq(hc->v[SB_HC_LISTEN_BACKLOG].value, 10);
    ck_assert_double_eq(hc->v[SB_HC_START_SERVERS].value, 7);
    ck_assert_ptr_nonnull(strstr(hc->notes, "<IfVersion ~ ^2> not evaluated"));
    /* prefork: the event block is false */
    ck_assert_int_eq(hc->v[SB_HC_MAX_CONNECTIONS_PER_CHILD].origin, SB_HC_DEFAULT);
    ck_assert_ptr_nonnull(strstr(hc->notes, ":22: KeepAlive On inside <If>"));
    ck_assert_double_eq(hc->v[SB_HC_MAX_SPARE_SERVERS].value, 9);
    ck_assert_int_eq(hc->v[SB_HC_MIN_SPARE_SERVERS].origin, SB_HC_DEFAULT);
    ck_assert_double_eq(hc->v[SB_HC_MIN_SPARE_SERVERS].value, 5);
    /* unresolved: left as httpd leaves it, not taken */
    ck_assert_ptr_nonnull(strstr(hc->notes, ":30: MaxConnectionsPerChild with the value"
                                 " '${SBTEST_UNSET_VARIABLE}'"));
}
END_TEST

START_TEST(unbalanced_sections)
{
    char err[512] = "";
    int rc;

    walk_text("ServerName x\n<IfModule mod_x.c>\nKeepAlive On\n", "", SB_MPM_PREFORK, &rc, err,
              sizeof(err));
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_nonnull(strstr(err, ":2: <IfModule> is not closed"));
    walk_text("<IfModule mod_x.c>\n</IfDefine>\n", "", SB_MPM_PREFORK, &rc, err, sizeof(err));
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_nonnull(strstr(err, ":2: </IfDefine> closes <IfModule> of line 1"));
    walk_text("</VirtualHost>\n", "", SB_MPM_PREFORK, &rc, err, sizeof(err));
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_nonnull(strstr(err, ":1: </VirtualHost> without a matching"));
}
END_TEST

START_TEST(unreadable_file)
{
    sb_httpdconf_t *hc = sb_httpdconf_create(pool);
    char err[512];

    hc->mpm = SB_MPM_PREFORK;
    ck_assert_int_eq(sb_httpdconf_parse_includes(hc, "Included configuration files:\n"
                                                 "  (*) /nonexistent/httpd.conf\n", err,
                                                 sizeof(err)), 0);
    ck_assert_int_eq(sb_httpdconf_walk(hc, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot read /nonexistent/httpd.conf"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("httpdconf");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, debian_version_and_modules);
    tcase_add_test(tc, mpm_from_modules_without_V);
    tcase_add_test(tc, debian_includes_tree);
    tcase_add_test(tc, nested_includes_tree);
    tcase_add_test(tc, bad_includes_output);
    tcase_add_test(tc, event_tree);
    tcase_add_test(tc, define_on_the_command_line);
    tcase_add_test(tc, prefork_tree);
    tcase_add_test(tc, disagreement_is_noted);
    tcase_add_test(tc, defaults_and_adjustments);
    tcase_add_test(tc, values_and_lines);
    tcase_add_test(tc, unbalanced_sections);
    tcase_add_test(tc, unreadable_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    apr_initialize();
    return sb_unit_run(suite());
}
