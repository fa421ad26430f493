/* Unit tests of sbtop's key and view tables and of what is generated from
 * them: the key lookup of the dispatch, the help overlay and the footer,
 * both drawn on a text canvas.  A binding that does not reach the help or
 * the footer, or a help label or footer text naming a key its row does not
 * bind, fails here. */
#include <check.h>
#include "sb_unit.h"
#include <curses.h>
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "sbtop.h"
#include "sbtop_draw.h"
#include "sbtop_keys.h"

static apr_pool_t *pool;

/* The drawing files read the ring of the live sources; drawn here without
 * them, it is empty. */
const sbt_sec_t *sbt_ring_get(const sbt_app_t *app, int i)
{
    (void)app;
    (void)i;
    return NULL;
}

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* The curses key code the help or the footer calls tok, -1 for none. */
static int key_code(const char *tok)
{
    static const struct {
        const char *name;
        int code;
    } names[] = {
        { "Esc", 27 }, { "Space", ' ' }, { "^L", 12 }, { "F1", 0 }, { "Left", KEY_LEFT },
        { "Right", KEY_RIGHT }, { "PgUp", KEY_PPAGE }, { "PgDn", KEY_NPAGE },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(tok, names[i].name) == 0) {
            return names[i].code ? names[i].code : KEY_F(1);
        }
    }
    return strlen(tok) == 1 ? (unsigned char)tok[0] : -1;
}

static int binds(const int *keys, int code)
{
    int j;

    for (j = 0; j < SBT_KEY_MAX; j++) {
        if (keys[j] != 0 && keys[j] == code) {
            return 1;
        }
    }
    return 0;
}

/* Every key the label names ("h ? F1") is bound by keys. */
static void check_label(const char *label, const int *keys)
{
    char *copy = apr_pstrdup(pool, label), *last, *tok;

    for (tok = apr_strtok(copy, " ", &last); tok; tok = apr_strtok(NULL, " ", &last)) {
        ck_assert_msg(binds(keys, key_code(tok)), "label '%s': '%s' is not bound by its row",
                      label, tok);
    }
}

/* The footer text "KEYS WORD" of a row binding keys: the first of KEYS
 * ("+/-") is bound by the row, every other by some row of the key table. */
static void check_footer_text(const char *text, const int *keys)
{
    char *copy = apr_pstrdup(pool, text), *sp = strchr(copy, ' '), *last, *tok;
    int first = 1;

    ck_assert_msg(sp && sp[1], "footer text '%s' is not KEYS WORD", text);
    *sp = '\0';
    for (tok = apr_strtok(copy, "/", &last); tok; tok = apr_strtok(NULL, "/", &last)) {
        int view = -1;
        if (first) {
            ck_assert_msg(binds(keys, key_code(tok)), "footer '%s': '%s' is not bound by its "
                          "row", text, tok);
        }
        else {
            ck_assert_msg(sbt_key_find(key_code(tok), &view) != NULL, "footer '%s': '%s' is "
                          "not bound", text, tok);
        }
        first = 0;
    }
}

START_TEST(every_key_is_bound_once_and_found)
{
    int i, v, j, nview_rows = 0, codes[256], ncodes = 0;

    for (i = 0; i < sbt_nkeys; i++) {
        const sbt_key_t *b = &sbt_keys[i];
        if (b->action == SBT_ACT_VIEW) {
            nview_rows++;
            continue;
        }
        ck_assert_msg(b->label && b->help && b->keys[0], "key row %d is incomplete", i);
        check_label(b->label, b->keys);
        for (j = 0; j < SBT_KEY_MAX && b->keys[j]; j++) {
            int view = -1;
            ck_assert_ptr_eq(sbt_key_find(b->keys[j], &view), b);
            codes[ncodes++] = b->keys[j];
        }
        ck_assert_ptr_eq(sbt_key_of(b->action), b);
    }
    ck_assert_int_eq(nview_rows, 1);
    ck_assert_int_ge(sbt_nviews, 1);
    for (v = 0; v < sbt_nviews; v++) {
        const sbt_view_t *w = &sbt_views[v];
        ck_assert_msg(w->name && w->label && w->footer && w->help && w->draw && w->keys[0],
                      "view %d is incomplete", v);
        check_label(w->label, w->keys);
        check_footer_text(w->footer, w->keys);
        for (j = 0; j < SBT_KEY_MAX && w->keys[j]; j++) {
            int view = -1;
            const sbt_key_t *b = sbt_key_find(w->keys[j], &view);
            ck_assert_ptr_nonnull(b);
            ck_assert_int_eq(b->action, SBT_ACT_VIEW);
            ck_assert_int_eq(view, v);
            codes[ncodes++] = w->keys[j];
        }
        for (j = 0; j < SBT_VIEW_ACTS && w->acts[j] != SBT_ACT_NONE; j++) {
            ck_assert_ptr_nonnull(sbt_key_of(w->acts[j]));
            ck_assert_int_eq(sbt_key_view(w->acts[j]), v);
        }
    }
    for (i = 0; i < ncodes; i++) {
        for (j = i + 1; j < ncodes; j++) {
            ck_assert_msg(codes[i] != codes[j], "key code %d is bound twice", codes[i]);
        }
    }
    ck_assert_ptr_null(sbt_key_find('x', &v));
}
END_TEST

START_TEST(help_overlay_lists_every_binding)
{
    sbt_canvas_t cv;
    sbt_help_line_t lines[SBT_HELP_MAX];
    int n = sbt_help_lines(lines, SBT_HELP_MAX), i, v, k = 0, y, shown = 0;
    int want = sbt_nkeys - 1 + sbt_nviews;

    ck_assert_int_eq(n, want);
    /* the lines are the key rows with the views in place of SBT_ACT_VIEW */
    for (i = 0; i < sbt_nkeys; i++) {
        if (sbt_keys[i].action != SBT_ACT_VIEW) {
            ck_assert_str_eq(lines[k].label, sbt_keys[i].label);
            ck_assert_str_eq(lines[k++].help, sbt_keys[i].help);
            continue;
        }
        for (v = 0; v < sbt_nviews; v++) {
            ck_assert_str_eq(lines[k].label, sbt_views[v].label);
            ck_assert_str_eq(lines[k++].help, sbt_views[v].help);
        }
    }
    sbt_canvas_text(&cv, 60, 120, pool);
    sbt_draw_help(&cv);
    for (i = 0; i < n; i++) {
        char *want_line = apr_psprintf(pool, "| %-8s %.64s", lines[i].label, lines[i].help);
        int found = 0;
        for (y = 0; y < cv.used && !found; y++) {
            found = strstr(cv.line[y], want_line) != NULL;
        }
        ck_assert_msg(found, "the help overlay lacks '%s'", want_line);
        shown++;
    }
    ck_assert_int_eq(shown, want);
    for (y = 0, k = 0; y < cv.used; y++) {
        k += strstr(cv.line[y], "with --history and --at (replay):") != NULL;
    }
    ck_assert_int_eq(k, 1);
}
END_TEST

START_TEST(footer_names_the_keys_of_each_view)
{
    sbt_app_t *app = apr_pcalloc(pool, sizeof(*app));
    int v, replay, i, u;

    for (i = 0; i < sbt_nkeys; i++) {
        if (sbt_keys[i].footer) {
            check_footer_text(sbt_keys[i].footer, sbt_keys[i].keys);
        }
    }
    for (v = 0; v < sbt_nviews; v++) {
        for (replay = 0; replay <= 1; replay++) {
            sbt_canvas_t cv;
            const char *line;
            char *head;
            sbt_canvas_text(&cv, 1, 400, pool);
            app->view = v;
            app->replay = replay;
            sbt_draw_footer(&cv, app, 0);
            line = cv.line[0];
            head = apr_psprintf(pool, "[%s] ", sbt_views[v].name);
            ck_assert_msg(strncmp(line, head, strlen(head)) == 0, "footer '%s'", line);
            for (u = 0; u < sbt_nviews; u++) {
                ck_assert_msg(strstr(line, apr_pstrcat(pool, "  ", sbt_views[u].footer, "  ",
                                                       NULL))
                              || strstr(line, apr_pstrcat(pool, "] ", sbt_views[u].footer,
                                                          "  ", NULL)),
                              "footer '%s' lacks view '%s'", line, sbt_views[u].footer);
            }
            for (i = 0; i < sbt_nkeys; i++) {
                const sbt_key_t *b = &sbt_keys[i];
                int in = sbt_key_view(b->action), want;
                if (!b->footer) {
                    continue;
                }
                want = b->replay_only ? replay : in < 0 || in == v;
                ck_assert_msg((strstr(line, b->footer) != NULL) == want, "footer '%s' %s '%s'",
                              line, want ? "lacks" : "has", b->footer);
            }
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sbtop_keys");
    TCase *tc = tcase_create("sbtop_keys");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_key_is_bound_once_and_found);
    tcase_add_test(tc, help_overlay_lists_every_binding);
    tcase_add_test(tc, footer_names_the_keys_of_each_view);
    suite_add_tcase(s, tc);
    return sb_unit_run(s);
}
