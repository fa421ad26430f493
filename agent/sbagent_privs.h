/*
 * sbagent_privs.h - dropping from root to an unprivileged user that keeps
 * only the capabilities sbagent needs.
 *
 * What each capability buys (and why the default is CAP_DAC_READ_SEARCH
 * only):
 *
 *   CAP_DAC_READ_SEARCH read any file and search any directory.  httpd's
 *                       scoreboard is a POSIX shm object (/dev/shm/ShM.*,
 *                       root, mode 0600) that sbtune opens read-only; after
 *                       a stop and start of httpd the segment is new and
 *                       must be opened again.  Needed for as long as
 *                       sbagent runs: kept by default.  It cannot write
 *                       any file (reading root's files is what it gives).
 *   CAP_DAC_OVERRIDE    read and write any file: nothing in sbagent needs
 *                       it (an APR that opened the scoreboard read-write
 *                       did, before sbtune opened the object itself).
 *   CAP_SYS_PTRACE      reading /proc/PID/smaps_rollup of httpd's children
 *                       (another user, and not dumpable) and of its parent
 *                       (root), /proc/PID/fd of the parent (to find the
 *                       listen ports) and /proc/PARENT/maps (to check that
 *                       the parent maps the scoreboard object).  It also
 *                       passes the ptrace checks for every process, root's
 *                       included.  Off by default: without it the memory
 *                       figures (PSS) are unknown, the listen ports must be
 *                       found before the drop or be given with `ports:`,
 *                       and a scoreboard re-attached after the drop is
 *                       checked by its owner (root or the parent's user)
 *                       and its live processes, not by the parent's maps.
 *   CAP_IPC_OWNER       IPC permissions for SysV shared memory (kept for
 *                       the option list; sbtune reads POSIX shm objects).
 */
#ifndef SBAGENT_PRIVS_H
#define SBAGENT_PRIVS_H

#include <stddef.h>

#define SB_CAP_DAC_OVERRIDE    0x1u
#define SB_CAP_SYS_PTRACE      0x2u
#define SB_CAP_DAC_READ_SEARCH 0x4u
#define SB_CAP_IPC_OWNER       0x8u
#define SB_CAP_ALL             0xfu

/* What sbagent keeps by default: enough to re-attach the scoreboard. */
#define SB_CAP_DEFAULT         SB_CAP_DAC_READ_SEARCH

/* Become user (a name from the passwd database) for good, keeping exactly
 * the capabilities in keep_caps (SB_CAP_* flags).
 *
 * When the effective uid is 0: looks the user up, shrinks the bounding set
 * to keep_caps (needs CAP_SETPCAP when other capabilities are still in it),
 * sets the user's supplementary groups, gid and uid (real, effective and
 * saved), leaves keep_caps as the permitted and effective sets with the
 * inheritable and ambient sets empty, marks the process not dumpable and
 * sets no_new_privs; then checks all of that through getresuid(),
 * getresgid(), capget() and prctl() and that uid 0 cannot be regained.
 * The process must still be single-threaded (capabilities and securebits
 * are per thread): call it before starting any thread (libmicrohttpd's).
 *
 * When the effective uid is not 0: succeeds without changing anything if
 * the real, effective and saved uids already are user's, fails otherwise.
 *
 * Refuses user root (uid 0) and unknown flags.  Returns 0, or -1 with a
 * message in err naming the user and the step that failed.  Nothing is
 * changed when a check before the first change fails (unknown user, a
 * capability to keep that the process does not have, CAP_SETUID, CAP_SETGID
 * or CAP_SETPCAP missing, more than one thread); after a failure later on,
 * the process is in an unknown state between root and the user, and the
 * caller must exit. */
int sb_privs_drop(const char *user, unsigned keep_caps, char *err, size_t errlen);

/* Write a one-line description of the calling thread's credentials to buf
 * (always NUL-terminated when len > 0), e.g.
 * "uid=998(sbagent) gid=998(sbagent) caps=cap_dac_override no_new_privs=1"
 * ("euid=" and "suid=" are added when they differ from uid, likewise for
 * gid; "caps=all" when every capability is effective, "caps=none" when
 * none is; "permitted=" and "ambient=" are added when they differ from the
 * effective set and from empty).  Returns 0, or -1 when capget() failed
 * (then caps=?). */
int sb_privs_describe(char *buf, size_t len);

/* Parse a comma-separated list of capability names ("dac_override",
 * "cap_sys_ptrace", case-insensitive, with or without "cap_"; "none" or ""
 * for no capability) into SB_CAP_* flags.  Returns 0, or -1 with a message
 * in err listing the names understood. */
int sb_privs_parse(const char *list, unsigned *caps, char *err, size_t errlen);

#endif
