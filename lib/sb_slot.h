/*
 * sb_slot.h - httpd's worker slot states, one table for all of sbtune.
 */
#ifndef SB_SLOT_H
#define SB_SLOT_H

/* Values equal httpd's SERVER_* constants in scoreboard.h (checked at build
 * time in sb_shm.c). */
typedef enum {
    SB_SLOT_DEAD = 0,       /* '.' open slot, no process/thread */
    SB_SLOT_STARTING = 1,   /* 'S' */
    SB_SLOT_READY = 2,      /* '_' waiting for a connection */
    SB_SLOT_READ = 3,       /* 'R' reading a request */
    SB_SLOT_WRITE = 4,      /* 'W' sending a reply */
    SB_SLOT_KEEPALIVE = 5,  /* 'K' waiting for the next request */
    SB_SLOT_LOG = 6,        /* 'L' logging */
    SB_SLOT_DNS = 7,        /* 'D' DNS lookup */
    SB_SLOT_CLOSING = 8,    /* 'C' closing the connection */
    SB_SLOT_GRACEFUL = 9,   /* 'G' gracefully finishing */
    SB_SLOT_IDLE_KILL = 10, /* 'I' idle cleanup of the worker */
    SB_SLOT_NSTATES = 11
} sb_slot_state_t;

typedef struct {
    sb_slot_state_t state;
    char ch;                /* mod_status's character */
    const char *key;        /* JSON / metrics name */
    const char *label;      /* human label */
    int busy;               /* counted in BusyWorkers */
} sb_slot_info_t;

/* The table, indexed by state. */
extern const sb_slot_info_t sb_slot_table[SB_SLOT_NSTATES];

/* Map a mod_status scoreboard character to a state; returns -1 when the
 * character is not one httpd prints. */
int sb_slot_from_char(char c);

#endif
