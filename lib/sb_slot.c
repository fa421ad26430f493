#include "config.h"
#include "sb_slot.h"

const sb_slot_info_t sb_slot_table[SB_SLOT_NSTATES] = {
    { SB_SLOT_DEAD,      '.', "open",         "open slot",          0 },
    { SB_SLOT_STARTING,  'S', "starting",     "starting up",        0 },
    { SB_SLOT_READY,     '_', "idle",         "waiting",            0 },
    { SB_SLOT_READ,      'R', "reading",      "reading request",    1 },
    { SB_SLOT_WRITE,     'W', "writing",      "sending reply",      1 },
    { SB_SLOT_KEEPALIVE, 'K', "keepalive",    "keep-alive (read)",  1 },
    { SB_SLOT_LOG,       'L', "logging",      "logging",            1 },
    { SB_SLOT_DNS,       'D', "dns",          "DNS lookup",         1 },
    { SB_SLOT_CLOSING,   'C', "closing",      "closing connection", 1 },
    { SB_SLOT_GRACEFUL,  'G', "graceful",     "gracefully finishing", 0 },
    { SB_SLOT_IDLE_KILL, 'I', "idle_cleanup", "idle cleanup",       0 },
};

int sb_slot_from_char(char c)
{
    int i;
    for (i = 0; i < SB_SLOT_NSTATES; i++) {
        if (sb_slot_table[i].ch == c) {
            return i;
        }
    }
    return -1;
}
