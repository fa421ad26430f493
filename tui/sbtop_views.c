/*
 * sbtop_views.c - the view table (see sbtop.h): a view is one row here
 * and its draw function, in sbtop_dash.c or sbtop_view_NAME.c.
 */
#include "config.h"

#include "sbtop.h"
#include "sbtop_draw.h"

const sbt_view_t sbt_views[] = {
    { "dashboard", { 'd', '1', 0 }, "d 1", "d dash",
      "dashboard: slot map, gauges, rates, capacity", 0, { SBT_ACT_NONE }, sbt_dash_draw },
    { "workers", { 'w', '2', 0 }, "w 2", "w workers",
      "workers table (pid, slot, state, seconds, requests, client, vhost, request)", 1,
      { SBT_ACT_SORT, SBT_ACT_REVERSE, SBT_ACT_NONE }, sbt_workers_draw },
    { "clients", { 't', '3', 0 }, "t 3", "t clients", "top clients by slots held", 1,
      { SBT_ACT_NONE }, sbt_clients_draw },
    { "gaps", { 'g', '4', 0 }, "g 4", "g gaps", "keep-alive gap histogram", 1,
      { SBT_ACT_NONE }, sbt_gaps_draw },
};
const int sbt_nviews = (int)(sizeof(sbt_views) / sizeof(sbt_views[0]));
