/*
 * sbtop_keys.c - the key table (see sbtop_keys.h).
 */
#include "config.h"
#include <curses.h>

#include "sbtop_keys.h"

const sbt_key_t sbt_keys[] = {
    { { 'q', 'Q', 0 }, "q", SBT_ACT_QUIT, 0, "quit (the terminal is restored)" },
    { { 'h', '?', KEY_F(1) }, "h ? F1", SBT_ACT_HELP, 0, "show or hide this help" },
    { { 27, 0, 0 }, "Esc", SBT_ACT_CLOSE, 0, "close the help" },
    { { 'd', '1', 0 }, "d 1", SBT_ACT_DASHBOARD, 0,
      "dashboard: slot map, gauges, rates, capacity" },
    { { 'w', '2', 0 }, "w 2", SBT_ACT_WORKERS, 0,
      "workers table (pid, slot, state, seconds, requests, client, vhost, request)" },
    { { 't', '3', 0 }, "t 3", SBT_ACT_CLIENTS, 0, "top clients by slots held" },
    { { 'g', '4', 0 }, "g 4", SBT_ACT_GAPS, 0, "keep-alive gap histogram" },
    { { 's', 0, 0 }, "s", SBT_ACT_SORT, 0,
      "workers: sort by the next column (state, seconds, requests, client, slot)" },
    { { 'r', 0, 0 }, "r", SBT_ACT_REVERSE, 0, "workers: reverse the sort order" },
    { { 'p', ' ', 0 }, "p Space", SBT_ACT_PAUSE, 0,
      "pause or resume the display (sampling goes on)" },
    { { '+', '=', 0 }, "+", SBT_ACT_SLOWER, 0, "refresh interval up (longer)" },
    { { '-', '_', 0 }, "-", SBT_ACT_FASTER, 0, "refresh interval down (shorter)" },
    { { 12, 0, 0 }, "^L", SBT_ACT_REDRAW, 0, "redraw the screen" },
    { { KEY_LEFT, 0, 0 }, "Left", SBT_ACT_BACK_SECOND, 1, "replay: one second back" },
    { { KEY_RIGHT, 0, 0 }, "Right", SBT_ACT_FORWARD_SECOND, 1, "replay: one second on" },
    { { KEY_PPAGE, 0, 0 }, "PgUp", SBT_ACT_BACK_MINUTE, 1, "replay: one minute back" },
    { { KEY_NPAGE, 0, 0 }, "PgDn", SBT_ACT_FORWARD_MINUTE, 1, "replay: one minute on" },
};
const int sbt_nkeys = (int)(sizeof(sbt_keys) / sizeof(sbt_keys[0]));

const double sbt_delays[] = { 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60 };
const int sbt_ndelays = (int)(sizeof(sbt_delays) / sizeof(sbt_delays[0]));

const sbt_key_t *sbt_key_find(int k)
{
    int i, j;

    if (k == 0) {
        return NULL;
    }
    for (i = 0; i < sbt_nkeys; i++) {
        for (j = 0; j < SBT_KEY_MAX; j++) {
            if (sbt_keys[i].keys[j] == k) {
                return &sbt_keys[i];
            }
        }
    }
    return NULL;
}
