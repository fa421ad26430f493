/*
 * sb_mpm.h - httpd's multi-processing modules, named once.
 */
#ifndef SB_MPM_H
#define SB_MPM_H

typedef enum {
    SB_MPM_UNKNOWN = -1,
    SB_MPM_PREFORK = 0,
    SB_MPM_WORKER,
    SB_MPM_EVENT
} sb_mpm_t;

/* "prefork", "worker", "event"; "unknown" for SB_MPM_UNKNOWN. */
const char *sb_mpm_name(sb_mpm_t mpm);

/* The MPM named name (any case; "mpm_event" and "event.c" too).
 * Returns 0, or -1 (and SB_MPM_UNKNOWN in *out) for anything else. */
int sb_mpm_parse(const char *name, sb_mpm_t *out);

/* 1 when a worker slot holds an idle keep-alive connection (prefork,
 * worker); 0 for event, whose listener holds them without a slot. */
int sb_mpm_slot_holds_keepalive(sb_mpm_t mpm);

#endif
