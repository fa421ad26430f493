/*
 * sbtop_keys.h - sbtop's key bindings: one table drives the dispatch in
 * sbtop.c, the help overlay, the footer and the key list of --help (and
 * is what sbtop(1) lists).  The keys that switch views are the views'
 * own (sbt_views in sbtop.h); the key table's SBT_ACT_VIEW row stands
 * for them.
 */
#ifndef SBTOP_KEYS_H
#define SBTOP_KEYS_H

#include <apr.h>

typedef enum {
    SBT_ACT_NONE = 0,           /* ends a list of actions */
    SBT_ACT_QUIT,
    SBT_ACT_HELP,
    SBT_ACT_CLOSE,
    SBT_ACT_VIEW,               /* switch to a view: its keys are in sbt_views */
    SBT_ACT_SORT,
    SBT_ACT_REVERSE,
    SBT_ACT_PAUSE,
    SBT_ACT_SLOWER,
    SBT_ACT_FASTER,
    SBT_ACT_BACK_SECOND,
    SBT_ACT_FORWARD_SECOND,
    SBT_ACT_BACK_MINUTE,
    SBT_ACT_FORWARD_MINUTE,
    SBT_ACT_REDRAW
} sbt_action_t;

#define SBT_KEY_MAX 3

typedef struct {
    int keys[SBT_KEY_MAX];      /* curses key codes; unused entries 0 */
    const char *label;          /* how the help names the keys */
    sbt_action_t action;
    int replay_only;            /* listed under "replay" in the help */
    const char *help;
    const char *footer;         /* "KEYS WORD" in the footer; NULL: not there */
} sbt_key_t;

extern const sbt_key_t sbt_keys[];
extern const int sbt_nkeys;

/* The binding of curses key code k: a row of sbt_keys, or for the key of
 * a view the SBT_ACT_VIEW row with the view's index in *view (unless view
 * is NULL).  Returns NULL when k is not bound. */
const sbt_key_t *sbt_key_find(int k, int *view);

/* The row of sbt_keys for action a, NULL when none. */
const sbt_key_t *sbt_key_of(sbt_action_t a);

/* The index of the view action a acts in (pressing its key switches to
 * that view), -1 when it acts in every view. */
int sbt_key_view(sbt_action_t a);

/* The name of the key of action a as the footer writes it ("s"), in buf
 * (len bytes); returns buf ("" when a has no key row). */
const char *sbt_key_name(sbt_action_t a, char *buf, apr_size_t len);

/* One line of the key help. */
typedef struct {
    const char *label;
    const char *help;
    int replay_only;
} sbt_help_line_t;

#define SBT_HELP_MAX 64

/* The lines of the key help (the overlay and --help), in the order of
 * sbt_keys with the views' keys in place of its SBT_ACT_VIEW row; returns
 * how many were written to lines (at most max). */
int sbt_help_lines(sbt_help_line_t *lines, int max);

/* What the footer shows. */
typedef enum {
    SBT_FOOT_VIEW = 1,          /* the key of a view */
    SBT_FOOT_ACT = 2,           /* a key acting in the current view only */
    SBT_FOOT_GLOBAL = 4,        /* a key acting in every view */
    SBT_FOOT_REPLAY = 8         /* a key of the replay */
} sbt_foot_kind_t;

typedef struct {
    char key[32];               /* "+/-" */
    const char *word;           /* "refresh" */
    sbt_foot_kind_t kind;
} sbt_foot_item_t;

#define SBT_FOOT_MAX 64

/* The items of the footer of view 'view' in their order: the key of every
 * view, the keys acting in this view, with replay set the replay keys,
 * then the other keys with a footer text.  Returns how many were written
 * to items (at most max). */
int sbt_foot_items(sbt_foot_item_t *items, int max, int view, int replay);

/* Join into buf (len bytes) the items whose kind is in the mask kinds, each
 * as key, keysep and word (the key alone when keysep is NULL), separated
 * by sep.  Returns buf. */
char *sbt_foot_join(char *buf, apr_size_t len, const sbt_foot_item_t *items, int n,
                    unsigned kinds, const char *keysep, const char *sep);

/* Refresh intervals that + and - step through (seconds). */
extern const double sbt_delays[];
extern const int sbt_ndelays;

#endif
