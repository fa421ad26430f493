/* Unit tests of the configuration table and the YAML loader. */
#include <check.h>
#include "sb_unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include <apr_general.h>
#include "sb_config.h"

static apr_pool_t *pool;
static char path[256];
static char err[1024];
static sb_config_t cfg;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    snprintf(path, sizeof(path), "%s/sbtest-config-%ld.yaml",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
    sb_config_defaults(&cfg, pool);
    err[0] = '\0';
}

static void teardown(void)
{
    unlink(path);
    apr_pool_destroy(pool);
}

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(defaults_come_from_the_table)
{
    ck_assert_int_eq(cfg.keep_seconds_hours, 48);
    ck_assert_int_eq(cfg.keep_minutes_days, 90);
    ck_assert(cfg.shm_hz == 10.0);
    ck_assert(cfg.kernel_hz == 2.0);
    ck_assert(cfg.status_interval == 5.0);
    ck_assert_str_eq(cfg.log_level, "notice");
    ck_assert_str_eq(cfg.listen, "");
    ck_assert_int_eq(cfg.export_clients, 0);
}
END_TEST

START_TEST(every_option_is_well_formed)
{
    int i;
    for (i = 0; i < sb_config_noptions; i++) {
        const sb_config_opt_t *o = &sb_config_options[i];
        char name[64];
        ck_assert_ptr_eq(sb_config_find(o->key), o);
        ck_assert_ptr_nonnull(o->help);
        ck_assert_uint_ne(o->programs, 0);
        sb_config_long_name(o, name, sizeof(name));
        ck_assert_ptr_null(strchr(name, '_'));
        /* the default itself must be accepted */
        ck_assert_msg(sb_config_set(&cfg, pool, o->key, o->def, "test", SB_PROG_ALL,
                                    err, sizeof(err)) == 0, "%s", err);
    }
}
END_TEST

START_TEST(good_file_loads)
{
    write_file("# sbtune\n"
               "scoreboard: /run/apache2/scoreboard\n"
               "shm_hz: 20\n"
               "keep_minutes_days: 30\n"
               "export_clients: yes\n"
               "log_level: debug\n"
               "status_url: ~\n"
               "target_unused_by_agent_is_not_a_key_but: x\n");
    /* the last line is unknown: the error names it */
    ck_assert_int_eq(sb_config_load(&cfg, pool, path, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, ":8:1: unknown key 'target_unused_by_agent_is_not_a_key_but'"),
                  "%s", err);
    write_file("scoreboard: /run/apache2/scoreboard\n"
               "shm_hz: 20\n"
               "keep_minutes_days: 30\n"
               "export_clients: yes\n"
               "log_level: debug\n"
               "status_url: ~\n");
    ck_assert_msg(sb_config_load(&cfg, pool, path, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(cfg.scoreboard, "/run/apache2/scoreboard");
    ck_assert(cfg.shm_hz == 20.0);
    ck_assert_int_eq(cfg.keep_minutes_days, 30);
    ck_assert_int_eq(cfg.export_clients, 1);
    ck_assert_str_eq(cfg.log_level, "debug");
    ck_assert_str_eq(cfg.status_url, "");
}
END_TEST

/* The buffer loader is the file loader's code path: same values, same
 * messages with the buffer's name for the file's (and no NUL needed). */
START_TEST(buffer_loads_like_the_file)
{
    static const char good[] = "scoreboard: /run/apache2/scoreboard\nshm_hz: 20\n"
                               "keep_minutes_days: 30\nstatus_url: ~\nXX";
    sb_config_t fcfg;

    write_file("scoreboard: /run/apache2/scoreboard\nshm_hz: 20\n"
               "keep_minutes_days: 30\nstatus_url: ~\n");
    sb_config_defaults(&fcfg, pool);
    ck_assert_msg(sb_config_load(&fcfg, pool, path, err, sizeof(err)) == 0, "%s", err);
    /* the last two bytes are not part of the buffer */
    ck_assert_msg(sb_config_load_buffer(&cfg, pool, good, sizeof(good) - 3, "<buf>", err,
                                        sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(cfg.scoreboard, fcfg.scoreboard);
    ck_assert(cfg.shm_hz == fcfg.shm_hz && cfg.shm_hz == 20.0);
    ck_assert_int_eq(cfg.keep_minutes_days, fcfg.keep_minutes_days);
    ck_assert_str_eq(cfg.status_url, fcfg.status_url);

    ck_assert_int_eq(sb_config_load_buffer(&cfg, pool, "shm_hz: 10\nkeep_seconds_hours: 2.5\n",
                                           35, "<buf>", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "<buf>:2:21: keep_seconds_hours must be a whole number from 1 "
                     "to 8760, not '2.5'");
    ck_assert_int_eq(sb_config_load_buffer(&cfg, pool, "a: [", 4, "<buf>", err, sizeof(err)),
                     -1);
    ck_assert_msg(strncmp(err, "<buf>:1:", 8) == 0, "%s", err);
}
END_TEST

START_TEST(errors_name_file_line_column_and_allowed_values)
{
    char want[512];

    write_file("shm_hz: 10\nkeep_seconds_hours: 2.5\n");
    ck_assert_int_eq(sb_config_load(&cfg, pool, path, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:2:21: keep_seconds_hours must be a whole number from 1 "
             "to 8760, not '2.5'", path);
    ck_assert_str_eq(err, want);

    write_file("kernel_hz: 1000\n");
    ck_assert_int_eq(sb_config_load(&cfg, pool, path, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, ":1:12: kernel_hz must be a number from 0 to 100, not '1000'"),
                  "%s", err);

    write_file("log: journal\n");
    ck_assert_int_eq(sb_config_load(&cfg, pool, path, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, ":1:6: log must be one of stderr|syslog, not 'journal'"), "%s", err);

    write_file("insecure: maybe\n");
    ck_assert_int_eq(sb_config_load(&cfg, pool, path, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "insecure must be true or false, not 'maybe'"), "%s", err);

    write_file("ports:\n  - 80\n  - 443\n");
    ck_assert_int_eq(sb_config_load(&cfg, pool, path, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, ":2:3: ports takes a single value, not a list"), "%s", err);

    write_file("shm_hz: 10\nkernel_hz: 2: 3\n");
    ck_assert_int_eq(sb_config_load(&cfg, pool, path, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:2:13: YAML error: mapping values are not allowed", path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);

    write_file("- a\n- b\n");
    ck_assert_int_eq(sb_config_load(&cfg, pool, path, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, ":1:1:"), "%s", err);

    /* numbers are plain decimals: no hex, no blanks */
    write_file("shm_hz: 0x10\n");
    ck_assert_int_eq(sb_config_load(&cfg, pool, path, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "shm_hz must be a number from"), "%s", err);
    write_file("shm_hz: \" 5\"\n");
    ck_assert_int_eq(sb_config_load(&cfg, pool, path, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "not ' 5'"), "%s", err);
    write_file("shm_hz: 1e1x\n");
    ck_assert_int_eq(sb_config_load(&cfg, pool, path, err, sizeof(err)), -1);
    write_file("memory: 0x10M\n");
    ck_assert_int_eq(sb_config_load(&cfg, pool, path, err, sizeof(err)), -1);
    write_file("memory: \" 1G\"\n");
    ck_assert_int_eq(sb_config_load(&cfg, pool, path, err, sizeof(err)), -1);
    write_file("shm_hz: 12.5\n");
    ck_assert_int_eq(sb_config_load(&cfg, pool, path, err, sizeof(err)), 0);
    /* a string cut at a NUL byte is an error, not a shorter string */
    write_file("scoreboard: \"/run/a\\0/etc/passwd\"\n");
    ck_assert_int_eq(sb_config_load(&cfg, pool, path, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, ":1:13: scoreboard holds a NUL byte"), "%s", err);

    write_file("history:\n  path: /x\n");
    ck_assert_int_eq(sb_config_load(&cfg, pool, path, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, ":2:3: history takes a single value, not a mapping"), "%s", err);
}
END_TEST

START_TEST(empty_file_keeps_defaults)
{
    write_file("# nothing set\n");
    ck_assert_msg(sb_config_load(&cfg, pool, path, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(cfg.keep_seconds_hours, 48);
}
END_TEST

START_TEST(missing_file_is_named)
{
    ck_assert_int_eq(sb_config_load(&cfg, pool, "/nonexistent/sbtune.yaml", err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "/nonexistent/sbtune.yaml: cannot open"), "%s", err);
}
END_TEST

START_TEST(program_scope_applies_on_the_command_line)
{
    ck_assert_int_eq(sb_config_set(&cfg, pool, "listen", "127.0.0.1:9117", "--listen",
                                   SB_PROG_TOP, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "not an option of this program"), "%s", err);
    ck_assert_int_eq(sb_config_set(&cfg, pool, "listen", "127.0.0.1:9117", "--listen",
                                   SB_PROG_AGENT, err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.listen, "127.0.0.1:9117");
}
END_TEST

START_TEST(getopt_table_matches)
{
    struct option lo[64];
    int n = sb_config_getopt(lo, 64, SB_PROG_AGENT, 1000, pool), i, found = 0;
    for (i = 0; i < n; i++) {
        if (strcmp(lo[i].name, "status-url") == 0) {
            found = 1;
            ck_assert_int_eq(lo[i].has_arg, required_argument);
            ck_assert_str_eq(sb_config_options[lo[i].val - 1000].key, "status_url");
        }
        if (strcmp(lo[i].name, "insecure") == 0) {
            ck_assert_int_eq(lo[i].has_arg, optional_argument);
        }
    }
    ck_assert_int_eq(found, 1);
}
END_TEST

START_TEST(tuner_types_and_unset)
{
    /* empty defaults are unset */
    ck_assert(isnan(cfg.conn_rate));
    ck_assert_int_eq(cfg.slots, -1);
    ck_assert(cfg.pss == -1);
    ck_assert_str_eq(cfg.mpm, "");
    ck_assert(cfg.target_wait == 0.01);
    ck_assert(cfg.memory_reserve == 0);
    /* sizes */
    ck_assert_int_eq(sb_config_set(&cfg, pool, "pss", "20M", "--pss", SB_PROG_PLAN, err,
                                   sizeof(err)), 0);
    ck_assert(cfg.pss == 20 * 1048576);
    ck_assert_int_eq(sb_config_set(&cfg, pool, "memory", "1.5GiB", "--memory", SB_PROG_REPORT,
                                   err, sizeof(err)), 0);
    ck_assert(cfg.memory == 1610612736);
    ck_assert_int_eq(sb_config_set(&cfg, pool, "pss", "10Q", "--pss", SB_PROG_PLAN, err,
                                   sizeof(err)), -1);
    ck_assert_str_eq(err, "--pss takes a size in bytes of at least 1 (suffixes K, M, G, T),"
                     " not '10Q'");
    ck_assert_int_eq(sb_config_set(&cfg, pool, "pss", "0", "--pss", SB_PROG_PLAN, err,
                                   sizeof(err)), -1);
    /* probabilities */
    ck_assert_int_eq(sb_config_set(&cfg, pool, "target_wait", "2%", "--target-wait",
                                   SB_PROG_PLAN, err, sizeof(err)), 0);
    ck_assert(fabs(cfg.target_wait - 0.02) < 1e-12);
    ck_assert_int_eq(sb_config_set(&cfg, pool, "target_wait", "60%", "--target-wait",
                                   SB_PROG_PLAN, err, sizeof(err)), -1);
    ck_assert_int_eq(sb_config_set(&cfg, pool, "target_wait", "%", "--target-wait",
                                   SB_PROG_PLAN, err, sizeof(err)), -1);
    /* back to unset */
    ck_assert_int_eq(sb_config_set(&cfg, pool, "pss", "", "f:1:1", SB_PROG_ALL, err,
                                   sizeof(err)), 0);
    ck_assert(cfg.pss == -1);
    /* sbtune's own options from the command line: "--x takes" */
    ck_assert_int_eq(sb_config_set(&cfg, pool, "conn_rate", "fast", "--conn-rate",
                                   SB_PROG_PLAN, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "--conn-rate takes a number from 0 to 1e+07, not 'fast'");
    /* program scope per subcommand */
    ck_assert_int_eq(sb_config_set(&cfg, pool, "conn_rate", "5", "--conn-rate",
                                   SB_PROG_REPORT, err, sizeof(err)), -1);
    ck_assert_int_eq(sb_config_set(&cfg, pool, "snippet", "/x", "--snippet",
                                   SB_PROG_APPLY, err, sizeof(err)), 0);
    ck_assert_int_eq(sb_config_set(&cfg, pool, "snippet", "/y", "--snippet",
                                   SB_PROG_REPORT, err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.snippet, "/y");
}
END_TEST

START_TEST(lists_repeat)
{
    ck_assert_str_eq(cfg.set, "");
    ck_assert_int_eq(sb_config_set(&cfg, pool, "set", "KeepAlive=On", "--set", SB_PROG_APPLY,
                                   err, sizeof(err)), 0);
    ck_assert_int_eq(sb_config_set(&cfg, pool, "set", "MaxClients=4", "--set", SB_PROG_APPLY,
                                   err, sizeof(err)), 0);
    ck_assert_str_eq(cfg.set, "KeepAlive=On\nMaxClients=4");
}
END_TEST

START_TEST(command_line_options_are_not_keys)
{
    char want[512];
    int i;

    write_file("history: /x\nwindow_days: 3\nthreshold: 20\nsnippet: /etc/s.conf\n");
    ck_assert_msg(sb_config_load(&cfg, pool, path, err, sizeof(err)) == 0, "%s", err);
    ck_assert(cfg.window_days == 3 && cfg.threshold == 20);
    ck_assert_str_eq(cfg.snippet, "/etc/s.conf");
    write_file("history: /x\nset: KeepAlive=Off\n");
    ck_assert_int_eq(sb_config_load(&cfg, pool, path, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:2:1: 'set' is a command-line option, not a key of the"
             " file (see sbtune.yaml(5))", path);
    ck_assert_str_eq(err, want);
    /* every command-line-only option is refused in the file, every other accepted */
    for (i = 0; i < sb_config_noptions; i++) {
        const sb_config_opt_t *o = &sb_config_options[i];
        char text[128];

        snprintf(text, sizeof(text), "%s: %s\n", o->key, o->def[0] ? o->def : "~");
        write_file(text);
        ck_assert_int_eq(sb_config_load(&cfg, pool, path, err, sizeof(err)),
                         (o->flags & SB_CF_CMDLINE) ? -1 : 0);
    }
}
END_TEST

START_TEST(subcommand_getopt_tables)
{
    struct option lo[128];
    unsigned progs[] = { SB_PROG_PLAN, SB_PROG_REPORT, SB_PROG_APPLY };
    int p, i, n;

    for (p = 0; p < 3; p++) {
        int seen_format = 0, seen_snippet = 0, seen_conn = 0;

        n = sb_config_getopt(lo, 128, progs[p], 1000, pool);
        ck_assert_int_gt(n, 5);
        for (i = 0; i < n; i++) {
            seen_format |= strcmp(lo[i].name, "format") == 0;
            seen_snippet |= strcmp(lo[i].name, "snippet") == 0;
            seen_conn |= strcmp(lo[i].name, "conn-rate") == 0;
            ck_assert(sb_config_options[lo[i].val - 1000].programs & progs[p]);
        }
        ck_assert_int_eq(seen_format, progs[p] != SB_PROG_APPLY);
        ck_assert_int_eq(seen_snippet, progs[p] != SB_PROG_PLAN);
        ck_assert_int_eq(seen_conn, progs[p] == SB_PROG_PLAN);
    }
}
END_TEST

/* A value of o's type: inside (good 1) or outside (good 0) its bounds;
 * NULL when the type has no bad value. */
static const char *probe_value(const sb_config_opt_t *o, int good, int high, char *buf,
                               apr_size_t len)
{
    switch (o->type) {
    case SB_CT_BOOL:
        return good ? "true" : "maybe";
    case SB_CT_ENUM:
        if (good) {
            apr_size_t n = strcspn(o->choices, "|");
            snprintf(buf, len, "%.*s", (int)n, o->choices);
            return buf;
        }
        return "no-such-choice";
    case SB_CT_STRING:
        return good ? "some text" : NULL;
    default:
        break;
    }
    if (!good && high && o->max + 1 == o->max) {
        return NULL;            /* no number above a bound this large */
    }
    switch (o->type) {
    case SB_CT_PROB:
        snprintf(buf, len, "%.17g", good ? (high ? o->max : o->min) : high ? o->max * 2 + 1 : -1);
        return buf;
    default:
        snprintf(buf, len, "%.17g", good ? (high ? o->max : o->min)
                                         : high ? o->max + 1 : o->min - 1);
        return buf;
    }
}

/* Parse value for key as the YAML file gives it and as the command line
 * does: 0 or -1, and the field's bytes. */
static int by_file(const sb_config_opt_t *o, const char *value, sb_config_t *out)
{
    char text[256];

    sb_config_defaults(out, pool);
    snprintf(text, sizeof(text), "%s: \"%s\"\n", o->key, value);
    write_file(text);
    return sb_config_load(out, pool, path, err, sizeof(err));
}

static int by_cmdline(const sb_config_opt_t *o, const char *value, sb_config_t *out)
{
    sb_config_cmdline_t cl;
    const char *file = NULL;
    char name[64], origin[80];

    memset(&cl, 0, sizeof(cl));
    snprintf(origin, sizeof(origin), "--%s", sb_config_long_name(o, name, sizeof(name)));
    sb_config_cmdline_add(&cl, o->key, value, origin);
    return sb_config_resolve(out, pool, &file, NULL, &cl, o->programs, err, sizeof(err));
}

static int same_field(const sb_config_opt_t *o, const sb_config_t *a, const sb_config_t *b)
{
    const char *fa = (const char *)a + o->offset, *fb = (const char *)b + o->offset;

    switch (o->type) {
    case SB_CT_BOOL:
    case SB_CT_INT:
        return *(const int *)fa == *(const int *)fb;
    case SB_CT_DOUBLE:
    case SB_CT_PROB:
        return *(const double *)fa == *(const double *)fb;
    case SB_CT_BYTES:
        return *(const int64_t *)fa == *(const int64_t *)fb;
    default:
        return strcmp(*(const char *const *)fa, *(const char *const *)fb) == 0;
    }
}

/* Every key takes the same values with the same bounds from the file and
 * from the command line (command-line-only options: from the command
 * line, and never from the file). */
START_TEST(every_key_has_the_same_bounds_in_the_file_and_on_the_command_line)
{
    int i, good, high;

    for (i = 0; i < sb_config_noptions; i++) {
        const sb_config_opt_t *o = &sb_config_options[i];
        for (good = 0; good <= 1; good++) {
            for (high = 0; high <= 1; high++) {
                sb_config_t a, b;
                char buf[64];
                const char *v = probe_value(o, good, high, buf, sizeof(buf));
                int rc;

                if (!v) {
                    continue;
                }
                rc = by_cmdline(o, v, &b);
                ck_assert_msg(rc == (good ? 0 : -1), "%s = %s on the command line: %d (%s)",
                              o->key, v, rc, err);
                if (o->flags & SB_CF_CMDLINE) {
                    ck_assert_msg(by_file(o, v, &a) == -1, "%s read from the file", o->key);
                    continue;
                }
                rc = by_file(o, v, &a);
                ck_assert_msg(rc == (good ? 0 : -1), "%s = %s from the file: %d (%s)", o->key,
                              v, rc, err);
                ck_assert_msg(!good || same_field(o, &a, &b), "%s = %s: file and command line"
                              " differ", o->key, v);
            }
        }
    }
}
END_TEST

static int no_own(void *baton, int id, const char *arg)
{
    return -1;
}

/* Short forms come from the table, per program. */
START_TEST(short_forms_come_from_the_table)
{
    char a0[] = "prog", a1[] = "-s", a2[] = "/run/sb", a3[] = "-n", a4[] = "3";
    char *argv[] = { a0, a1, a2, a3, a4, NULL };
    sb_cli_t agent = { "sbagent", SB_PROG_AGENT, NULL, 0, NULL, NULL, NULL, no_own, NULL };
    sb_cli_t top = { "sbtop", SB_PROG_TOP, NULL, 0, NULL, NULL, NULL, no_own, NULL };
    const char *file;
    sb_config_t c;

    ck_assert_int_eq(sb_cli_parse(&agent, 5, argv, &c, pool, &file, NULL), -1);
    ck_assert_str_eq(c.scoreboard, "/run/sb");
    ck_assert_int_eq(c.count, 3);
    ck_assert_int_eq(c.iterations, -1);
    ck_assert_int_eq(sb_cli_parse(&top, 5, argv, &c, pool, &file, NULL), -1);
    ck_assert_int_eq(c.iterations, 3);
    ck_assert_int_eq(c.count, -1);
    ck_assert(isnan(c.duration) && c.interval == 1 && c.delay == 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, defaults_come_from_the_table);
    tcase_add_test(tc, every_option_is_well_formed);
    tcase_add_test(tc, good_file_loads);
    tcase_add_test(tc, buffer_loads_like_the_file);
    tcase_add_test(tc, errors_name_file_line_column_and_allowed_values);
    tcase_add_test(tc, empty_file_keeps_defaults);
    tcase_add_test(tc, missing_file_is_named);
    tcase_add_test(tc, program_scope_applies_on_the_command_line);
    tcase_add_test(tc, getopt_table_matches);
    tcase_add_test(tc, tuner_types_and_unset);
    tcase_add_test(tc, lists_repeat);
    tcase_add_test(tc, command_line_options_are_not_keys);
    tcase_add_test(tc, subcommand_getopt_tables);
    tcase_add_test(tc, every_key_has_the_same_bounds_in_the_file_and_on_the_command_line);
    tcase_add_test(tc, short_forms_come_from_the_table);
    suite_add_tcase(s, tc);
    return sb_unit_run(s);
}
