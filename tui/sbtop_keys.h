/*
 * sbtop_keys.h - sbtop's key bindings: one table drives the dispatch in
 * sbtop.c and the help overlay (and is what sbtop(1) lists).
 */
#ifndef SBTOP_KEYS_H
#define SBTOP_KEYS_H

typedef enum {
    SBT_ACT_QUIT = 0,
    SBT_ACT_HELP,
    SBT_ACT_CLOSE,
    SBT_ACT_DASHBOARD,
    SBT_ACT_WORKERS,
    SBT_ACT_CLIENTS,
    SBT_ACT_GAPS,
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
} sbt_key_t;

extern const sbt_key_t sbt_keys[];
extern const int sbt_nkeys;

/* The binding of curses key code k, NULL when k is not bound. */
const sbt_key_t *sbt_key_find(int k);

/* Refresh intervals that + and - step through (seconds). */
extern const double sbt_delays[];
extern const int sbt_ndelays;

#endif
