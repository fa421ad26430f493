/* Unit tests of the directive table, its parser and the snippet renderer. */
#include <check.h>
#include "sb_unit.h"
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include "sb_directive.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static sb_directives_t all_set(void)
{
    sb_directives_t d;

    sb_directive_init(&d);
    d.keepalive = 1;
    d.keepalive_timeout = 3;
    d.max_request_workers = 150;
    d.server_limit = 8;
    d.threads_per_child = 25;
    d.thread_limit = 32;
    return d;
}

START_TEST(init_unsets_every_directive)
{
    sb_directives_t d;
    int i;

    memset(&d, 0, sizeof(d));
    sb_directive_init(&d);
    for (i = 0; i < sb_directive_count; i++) {
        ck_assert_int_lt(sb_directive_get(&d, i), 0);
    }
    ck_assert_int_eq(sb_directive_any(&d), 0);
    d.thread_limit = 0;
    ck_assert_int_eq(sb_directive_any(&d), 1);
}
END_TEST

START_TEST(every_directive_sets_and_parses)
{
    int i;

    for (i = 0; i < sb_directive_count; i++) {
        sb_directives_t d, back;
        char err[256], line[64];
        const char *v = sb_directive_table[i].onoff ? "Off" : "17";
        int want = sb_directive_table[i].onoff ? 0 : 17;

        sb_directive_init(&d);
        ck_assert_int_eq(sb_directive_set(&d, sb_directive_table[i].name, v, err, sizeof(err)), 0);
        ck_assert_int_eq(sb_directive_get(&d, i), want);
        snprintf(line, sizeof(line), "  %s   %s  \n", sb_directive_table[i].name, v);
        sb_directive_init(&back);
        ck_assert_int_eq(sb_directive_parse(&back, line, strlen(line)), 1);
        ck_assert_int_eq(sb_directive_get(&back, i), want);
        ck_assert_int_eq(sb_directive_lookup(sb_directive_table[i].name,
                                             strlen(sb_directive_table[i].name)), i);
    }
}
END_TEST

START_TEST(names_and_the_22_alias)
{
    int mrw = sb_directive_lookup("maxclients", 10);
    sb_directives_t d;
    char err[256];

    ck_assert_int_ge(mrw, 0);
    ck_assert_int_eq(sb_directive_lookup("MaxRequestWorkers", 17), mrw);
    ck_assert_str_eq(sb_directive_name(mrw, 2), "MaxClients");
    ck_assert_str_eq(sb_directive_name(mrw, 4), "MaxRequestWorkers");
    ck_assert_str_eq(sb_directive_name(sb_directive_lookup("keepalive", 9), 2), "KeepAlive");
    ck_assert_int_eq(sb_directive_lookup("MaxClientsX", 11), -1);
    ck_assert_int_eq(sb_directive_lookup("KeepAliveTimeoutX", 9), 0);   /* len counts */
    sb_directive_init(&d);
    ck_assert_int_eq(sb_directive_set(&d, "MAXCLIENTS=42", NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(d.max_request_workers, 42);
}
END_TEST

START_TEST(bad_values_are_refused)
{
    static const char *const bad[] = {
        "KeepAlive=yes", "KeepAlive=", "KeepAliveTimeout=-1", "ServerLimit=1.5",
        "ThreadLimit=x", "MaxRequestWorkers=99999999999", "ThreadsPerChild= 4",
        "MaxRequestWorkers=+4"
    };
    sb_directives_t d;
    char err[256];
    apr_size_t i;

    sb_directive_init(&d);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        ck_assert_int_eq(sb_directive_set(&d, bad[i], NULL, err, sizeof(err)), -1);
        ck_assert_ptr_nonnull(strstr(err, "invalid value"));
    }
    ck_assert_int_eq(sb_directive_any(&d), 0);
    ck_assert_int_eq(sb_directive_set(&d, "Timeout=5", NULL, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "unknown directive 'Timeout'"));
    ck_assert_ptr_nonnull(strstr(err, "MaxClients"));
    ck_assert_int_eq(sb_directive_set(&d, "KeepAlive", NULL, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "expected Name=value"));
}
END_TEST

START_TEST(parse_skips_comments_sections_and_bad_lines)
{
    static const char text[] =
        "# KeepAliveTimeout 99\n"
        "KeepAliveTimeout 4\n"
        "<IfModule mpm_prefork_module>\n"
        "    MaxClients 77\n"
        "    ServerLimit many\n"
        "    Timeout 300\n"
        "</IfModule>\n"
        "KeepAlive on";
    sb_directives_t d;

    sb_directive_init(&d);
    ck_assert_int_eq(sb_directive_parse(&d, text, strlen(text)), 3);
    ck_assert_int_eq(d.keepalive_timeout, 4);
    ck_assert_int_eq(d.max_request_workers, 77);
    ck_assert_int_eq(d.keepalive, 1);
    ck_assert_int_eq(d.server_limit, -1);
}
END_TEST

START_TEST(render_round_trips)
{
    static const char *const mpms[] = { "prefork", "worker", "event" };
    int m, minor;

    for (m = 0; m < 3; m++) {
        for (minor = 2; minor <= 4; minor += 2) {
            sb_directives_t d = all_set(), back;
            sb_directive_meta_t meta = { mpms[m], minor, apr_time_from_sec(86400), "data line",
                                         "why 1\nwhy 2" };
            char *s = sb_directive_render(&d, &meta, pool), want[64];

            snprintf(want, sizeof(want), "<IfModule mpm_%s_module>\n", mpms[m]);
            ck_assert_ptr_nonnull(strstr(s, want));
            ck_assert_ptr_nonnull(strstr(s, minor == 2 ? "    MaxClients 150\n"
                                         : "    MaxRequestWorkers 150\n"));
            ck_assert_ptr_nonnull(strstr(s, "# Written by sbtune on 1970-01-02T00:00:00Z"));
            sb_directive_init(&back);
            sb_directive_parse(&back, s, strlen(s));
            if (m == 0) {
                /* prefork has no threads: they are not written */
                ck_assert_ptr_null(strstr(s, "Thread"));
                d.threads_per_child = d.thread_limit = -1;
            }
            ck_assert_str_eq(sb_directive_json(&back, pool), sb_directive_json(&d, pool));
        }
    }
}
END_TEST

START_TEST(render_order_and_json)
{
    sb_directives_t d = all_set();
    sb_directive_meta_t meta = { "worker", 4, 0, NULL, NULL };
    const char *s = sb_directive_render(&d, &meta, pool);
    const char *body = sb_directive_body(s, strlen(s), pool);

    ck_assert_str_eq(body, "KeepAlive On\nKeepAliveTimeout 3\n<IfModule mpm_worker_module>\n"
                     "ServerLimit 8\nThreadLimit 32\nThreadsPerChild 25\n"
                     "MaxRequestWorkers 150\n</IfModule>\n");
    ck_assert_str_eq(sb_directive_json(&d, pool),
                     "{\"KeepAlive\":\"On\",\"KeepAliveTimeout\":3,\"ServerLimit\":8,"
                     "\"ThreadLimit\":32,\"ThreadsPerChild\":25,\"MaxRequestWorkers\":150}");
    sb_directive_init(&d);
    d.keepalive_timeout = 2;
    s = sb_directive_render(&d, &meta, pool);
    ck_assert_ptr_null(strstr(s, "IfModule"));
    ck_assert_str_eq(sb_directive_json(&d, pool), "{\"KeepAliveTimeout\":2}");
}
END_TEST

START_TEST(header_cannot_inject_directives)
{
    sb_directives_t d;
    sb_directive_meta_t meta = { "prefork", 4, 0, "a\rKeepAlive Off\x01",
                                 "line\\\nMaxRequestWorkers 1\n\n\ttab" };
    const char *s;
    sb_directives_t back;

    sb_directive_init(&d);
    d.keepalive = 1;
    s = sb_directive_render(&d, &meta, pool);
    sb_directive_init(&back);
    ck_assert_int_eq(sb_directive_parse(&back, s, strlen(s)), 1);
    ck_assert_int_eq(back.keepalive, 1);
    ck_assert_int_eq(back.max_request_workers, -1);
    ck_assert_ptr_nonnull(strstr(s, "# Data: aKeepAlive Off\n"));
    ck_assert_ptr_nonnull(strstr(s, "#   line\n"));
    ck_assert_ptr_nonnull(strstr(s, "\n#\n"));
    ck_assert_ptr_nonnull(strstr(s, "#    tab\n"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("directive");
    TCase *tc = tcase_create("directive");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, init_unsets_every_directive);
    tcase_add_test(tc, every_directive_sets_and_parses);
    tcase_add_test(tc, names_and_the_22_alias);
    tcase_add_test(tc, bad_values_are_refused);
    tcase_add_test(tc, parse_skips_comments_sections_and_bad_lines);
    tcase_add_test(tc, render_round_trips);
    tcase_add_test(tc, render_order_and_json);
    tcase_add_test(tc, header_cannot_inject_directives);
    suite_add_tcase(s, tc);
    return sb_unit_run(s);
}
