/*
 * sbtop_keys.c - the key table and what is generated from it: the lookup
 * for the dispatch, the help lines and the footer items (see
 * sbtop_keys.h).
 */
#include "config.h"
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "sbtop.h"
#include "sbtop_keys.h"

const sbt_key_t sbt_keys[] = {
    { { 'q', 'Q', 0 }, "q", SBT_ACT_QUIT, 0, "quit (the terminal is restored)", "q quit" },
    { { 'h', '?', KEY_F(1) }, "h ? F1", SBT_ACT_HELP, 0, "show or hide this help", "h help" },
    { { 27, 0, 0 }, "Esc", SBT_ACT_CLOSE, 0, "close the help", NULL },
    { { 0, 0, 0 }, NULL, SBT_ACT_VIEW, 0, NULL, NULL },
    { { 's', 0, 0 }, "s", SBT_ACT_SORT, 0,
      "workers: sort by the next column (state, seconds, requests, client, slot)", "s sort" },
    { { 'r', 0, 0 }, "r", SBT_ACT_REVERSE, 0, "workers: reverse the sort order", "r reverse" },
    { { 'p', ' ', 0 }, "p Space", SBT_ACT_PAUSE, 0,
      "pause or resume the display (sampling goes on)", "p pause" },
    { { '+', '=', 0 }, "+", SBT_ACT_SLOWER, 0, "refresh interval up (longer)", "+/- refresh" },
    { { '-', '_', 0 }, "-", SBT_ACT_FASTER, 0, "refresh interval down (shorter)", NULL },
    { { 12, 0, 0 }, "^L", SBT_ACT_REDRAW, 0, "redraw the screen", NULL },
    { { KEY_LEFT, 0, 0 }, "Left", SBT_ACT_BACK_SECOND, 1, "replay: one second back",
      "Left/Right 1 s" },
    { { KEY_RIGHT, 0, 0 }, "Right", SBT_ACT_FORWARD_SECOND, 1, "replay: one second on", NULL },
    { { KEY_PPAGE, 0, 0 }, "PgUp", SBT_ACT_BACK_MINUTE, 1, "replay: one minute back",
      "PgUp/PgDn 1 min" },
    { { KEY_NPAGE, 0, 0 }, "PgDn", SBT_ACT_FORWARD_MINUTE, 1, "replay: one minute on", NULL },
};
const int sbt_nkeys = (int)(sizeof(sbt_keys) / sizeof(sbt_keys[0]));

const double sbt_delays[] = { 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60 };
const int sbt_ndelays = (int)(sizeof(sbt_delays) / sizeof(sbt_delays[0]));

static int binds(const int *keys, int k)
{
    int j;

    for (j = 0; j < SBT_KEY_MAX; j++) {
        if (keys[j] == k) {
            return 1;
        }
    }
    return 0;
}

const sbt_key_t *sbt_key_find(int k, int *view)
{
    int i;

    if (k == 0) {
        return NULL;
    }
    for (i = 0; i < sbt_nkeys; i++) {
        if (binds(sbt_keys[i].keys, k)) {
            return &sbt_keys[i];
        }
    }
    for (i = 0; i < sbt_nviews; i++) {
        if (binds(sbt_views[i].keys, k)) {
            if (view) {
                *view = i;
            }
            return sbt_key_of(SBT_ACT_VIEW);
        }
    }
    return NULL;
}

const sbt_key_t *sbt_key_of(sbt_action_t a)
{
    int i;

    for (i = 0; i < sbt_nkeys; i++) {
        if (sbt_keys[i].action == a) {
            return &sbt_keys[i];
        }
    }
    return NULL;
}

int sbt_key_view(sbt_action_t a)
{
    int v, j;

    for (v = 0; v < sbt_nviews; v++) {
        for (j = 0; j < SBT_VIEW_ACTS && sbt_views[v].acts[j] != SBT_ACT_NONE; j++) {
            if (sbt_views[v].acts[j] == a) {
                return v;
            }
        }
    }
    return -1;
}

int sbt_help_lines(sbt_help_line_t *lines, int max)
{
    int i, v, n = 0;

    for (i = 0; i < sbt_nkeys && n < max; i++) {
        if (sbt_keys[i].action != SBT_ACT_VIEW) {
            lines[n].label = sbt_keys[i].label;
            lines[n].help = sbt_keys[i].help;
            lines[n].replay_only = sbt_keys[i].replay_only;
            n++;
            continue;
        }
        for (v = 0; v < sbt_nviews && n < max; v++) {
            lines[n].label = sbt_views[v].label;
            lines[n].help = sbt_views[v].help;
            lines[n].replay_only = 0;
            n++;
        }
    }
    return n;
}

/* Split the footer text "KEYS WORD" into the item. */
static void foot_item(sbt_foot_item_t *it, const char *text, sbt_foot_kind_t kind)
{
    const char *sp = strchr(text, ' ');
    apr_size_t n = sp ? (apr_size_t)(sp - text) : strlen(text);

    if (n >= sizeof(it->key)) {
        n = sizeof(it->key) - 1;
    }
    memcpy(it->key, text, n);
    it->key[n] = '\0';
    it->word = sp ? sp + 1 : "";
    it->kind = kind;
}

const char *sbt_key_name(sbt_action_t a, char *buf, apr_size_t len)
{
    const sbt_key_t *b = sbt_key_of(a);
    sbt_foot_item_t it;

    buf[0] = '\0';
    if (b && len > 0) {
        foot_item(&it, b->footer ? b->footer : b->label, SBT_FOOT_GLOBAL);
        apr_cpystrn(buf, it.key, len);
    }
    return buf;
}

int sbt_foot_items(sbt_foot_item_t *items, int max, int view, int replay)
{
    int i, v, n = 0;

    for (v = 0; v < sbt_nviews && n < max; v++) {
        foot_item(&items[n++], sbt_views[v].footer, SBT_FOOT_VIEW);
    }
    for (i = 0; view >= 0 && view < sbt_nviews && i < SBT_VIEW_ACTS && n < max; i++) {
        const sbt_key_t *b = sbt_key_of(sbt_views[view].acts[i]);
        if (sbt_views[view].acts[i] == SBT_ACT_NONE) {
            break;
        }
        if (b && b->footer) {
            foot_item(&items[n++], b->footer, SBT_FOOT_ACT);
        }
    }
    for (i = 0; replay && i < sbt_nkeys && n < max; i++) {
        if (sbt_keys[i].footer && sbt_keys[i].replay_only) {
            foot_item(&items[n++], sbt_keys[i].footer, SBT_FOOT_REPLAY);
        }
    }
    for (i = 0; i < sbt_nkeys && n < max; i++) {
        const sbt_key_t *b = &sbt_keys[i];
        if (b->footer && !b->replay_only && sbt_key_view(b->action) < 0) {
            foot_item(&items[n++], b->footer, SBT_FOOT_GLOBAL);
        }
    }
    return n;
}

char *sbt_foot_join(char *buf, apr_size_t len, const sbt_foot_item_t *items, int n,
                    unsigned kinds, const char *keysep, const char *sep)
{
    apr_size_t off = 0;
    int i, first = 1;

    if (len == 0) {
        return buf;
    }
    buf[0] = '\0';
    for (i = 0; i < n && off + 1 < len; i++) {
        int w;
        if (!(items[i].kind & kinds)) {
            continue;
        }
        w = snprintf(buf + off, len - off, "%s%s%s%s", first ? "" : sep, items[i].key,
                     keysep ? keysep : "", keysep ? items[i].word : "");
        if (w < 0) {
            break;
        }
        off += (apr_size_t)w < len - off ? (apr_size_t)w : len - off - 1;
        first = 0;
    }
    return buf;
}
