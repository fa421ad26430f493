/*
 * sbagent_privs.c - dropping from root to an unprivileged user with a few
 * capabilities, through the raw capget/capset system calls (no libcap).
 */
#include "config.h"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* getresuid(), setresuid() and friends */
#endif
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <linux/capability.h>

#include "sbagent_privs.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT           47
#define PR_CAP_AMBIENT_IS_SET    1
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

#define CAP_BIT(c) ((uint64_t)1 << (c))

/* SB_CAP_* flags and the kernel's capability numbers. */
static const struct {
    unsigned flag;
    int cap;
} flag_caps[] = {
    { SB_CAP_DAC_OVERRIDE, CAP_DAC_OVERRIDE },
    { SB_CAP_SYS_PTRACE, CAP_SYS_PTRACE },
    { SB_CAP_DAC_READ_SEARCH, CAP_DAC_READ_SEARCH },
    { SB_CAP_IPC_OWNER, CAP_IPC_OWNER },
};
#define N_FLAG_CAPS ((int)(sizeof(flag_caps) / sizeof(flag_caps[0])))

/* Names by number, as capabilities(7) spells them. */
static const char *const cap_names[] = {
    "cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner",
    "cap_fsetid", "cap_kill", "cap_setgid", "cap_setuid", "cap_setpcap",
    "cap_linux_immutable", "cap_net_bind_service", "cap_net_broadcast",
    "cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner",
    "cap_sys_module", "cap_sys_rawio", "cap_sys_chroot", "cap_sys_ptrace",
    "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice",
    "cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod",
    "cap_lease", "cap_audit_write", "cap_audit_control", "cap_setfcap",
    "cap_mac_override", "cap_mac_admin", "cap_syslog", "cap_wake_alarm",
    "cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf",
    "cap_checkpoint_restore",
};
#define N_CAP_NAMES ((int)(sizeof(cap_names) / sizeof(cap_names[0])))

typedef struct {
    uint64_t eff, prm, inh;
} capsets_t;

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *cap_name(int c, char *buf, size_t len)
{
    if (c >= 0 && c < N_CAP_NAMES) {
        return cap_names[c];
    }
    snprintf(buf, len, "cap_%d", c);
    return buf;
}

static int caps_get(capsets_t *cs)
{
    struct __user_cap_header_struct hdr;
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

    memset(&hdr, 0, sizeof(hdr));
    memset(data, 0, sizeof(data));
    hdr.version = _LINUX_CAPABILITY_VERSION_3;
    hdr.pid = 0;
    if (syscall(SYS_capget, &hdr, data) != 0) {
        return -1;
    }
    cs->eff = (uint64_t)data[0].effective | (uint64_t)data[1].effective << 32;
    cs->prm = (uint64_t)data[0].permitted | (uint64_t)data[1].permitted << 32;
    cs->inh = (uint64_t)data[0].inheritable | (uint64_t)data[1].inheritable << 32;
    return 0;
}

static int caps_set(const capsets_t *cs)
{
    struct __user_cap_header_struct hdr;
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

    memset(&hdr, 0, sizeof(hdr));
    hdr.version = _LINUX_CAPABILITY_VERSION_3;
    hdr.pid = 0;
    data[0].effective = (uint32_t)cs->eff;
    data[1].effective = (uint32_t)(cs->eff >> 32);
    data[0].permitted = (uint32_t)cs->prm;
    data[1].permitted = (uint32_t)(cs->prm >> 32);
    data[0].inheritable = (uint32_t)cs->inh;
    data[1].inheritable = (uint32_t)(cs->inh >> 32);
    return syscall(SYS_capset, &hdr, data) == 0 ? 0 : -1;
}

/* The highest capability number the kernel knows (PR_CAPBSET_READ says
 * EINVAL past it). */
static int last_cap(void)
{
    int c;
    for (c = 0; c < 63; c++) {
        if (prctl(PR_CAPBSET_READ, (unsigned long)c + 1, 0L, 0L, 0L) < 0 && errno == EINVAL) {
            return c;
        }
    }
    return 63;
}

static uint64_t bounding_set(int last)
{
    uint64_t b = 0;
    int c;
    for (c = 0; c <= last; c++) {
        if (prctl(PR_CAPBSET_READ, (unsigned long)c, 0L, 0L, 0L) > 0) {
            b |= CAP_BIT(c);
        }
    }
    return b;
}

/* The ambient set; 0 on kernels without one (before 4.3). */
static uint64_t ambient_set(int last)
{
    uint64_t a = 0;
    int c;
    for (c = 0; c <= last; c++) {
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (unsigned long)c, 0L, 0L) > 0) {
            a |= CAP_BIT(c);
        }
    }
    return a;
}

static uint64_t flags_to_caps(unsigned flags)
{
    uint64_t m = 0;
    int i;
    for (i = 0; i < N_FLAG_CAPS; i++) {
        if (flags & flag_caps[i].flag) {
            m |= CAP_BIT(flag_caps[i].cap);
        }
    }
    return m;
}

/* "cap_a,cap_b" for the set bits of m, "none" for none; "all" when every
 * capability up to last is set. */
static void caps_text(uint64_t m, int last, char *buf, size_t len)
{
    size_t off = 0;
    int c, n = 0;
    char tmp[16];

    if (len == 0) {
        return;
    }
    buf[0] = '\0';
    if (last >= 0 && last < 64 && (m | ~(CAP_BIT(last) | (CAP_BIT(last) - 1))) == ~(uint64_t)0) {
        snprintf(buf, len, "all");
        return;
    }
    for (c = 0; c < 64; c++) {
        int w;
        if (!(m & CAP_BIT(c))) {
            continue;
        }
        w = snprintf(buf + off, len - off, "%s%s", n ? "," : "", cap_name(c, tmp, sizeof(tmp)));
        if (w < 0 || (size_t)w >= len - off) {
            return;
        }
        off += (size_t)w;
        n++;
    }
    if (n == 0) {
        snprintf(buf, len, "none");
    }
}

/* How many threads the process has (/proc/self/status), or -1. */
static int thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;

    if (!f) {
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "Threads:", 8) == 0) {
            n = atoi(line + 8);
            break;
        }
    }
    fclose(f);
    return n;
}

/* getpwnam_r with a buffer that grows on ERANGE.  Returns 0 and fills *pw
 * (its strings point into *bufp, which the caller frees), or -1. */
static int lookup_user(const char *user, struct passwd *pw, char **bufp,
                       char *err, size_t errlen)
{
    long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
    size_t len = sz > 0 ? (size_t)sz : 16384;
    struct passwd *res = NULL;
    int e;

    *bufp = NULL;
    for (;;) {
        char *buf = realloc(*bufp, len);
        if (!buf) {
            free(*bufp);
            *bufp = NULL;
            return fail(err, errlen, "cannot drop to user '%s': out of memory", user);
        }
        *bufp = buf;
        e = getpwnam_r(user, pw, buf, len, &res);
        if (e != ERANGE || len >= (1u << 20)) {
            break;
        }
        len *= 2;
    }
    if (e != 0) {
        free(*bufp);
        *bufp = NULL;
        return fail(err, errlen, "cannot drop to user '%s': looking it up failed: %s",
                    user, strerror(e));
    }
    if (!res) {
        free(*bufp);
        *bufp = NULL;
        return fail(err, errlen, "cannot drop to user '%s': no such user "
                    "(create it, e.g. adduser --system --group --no-create-home %s)",
                    user, user);
    }
    return 0;
}

/* Everything after the last change, checked with the kernel's own view. */
static int verify(const char *user, uid_t uid, gid_t gid, uint64_t keep, int last,
                  char *err, size_t errlen)
{
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    capsets_t cs;
    uint64_t b, a;
    char got[512], eff[512], want[512];

    if (getresuid(&ru, &eu, &su) != 0 || ru != uid || eu != uid || su != uid) {
        return fail(err, errlen, "dropped to user '%s' but the uids are %ld/%ld/%ld, "
                    "not %ld", user, (long)ru, (long)eu, (long)su, (long)uid);
    }
    if (getresgid(&rg, &eg, &sg) != 0 || rg != gid || eg != gid || sg != gid) {
        return fail(err, errlen, "dropped to user '%s' but the gids are %ld/%ld/%ld, "
                    "not %ld", user, (long)rg, (long)eg, (long)sg, (long)gid);
    }
    if (caps_get(&cs) != 0) {
        return fail(err, errlen, "dropped to user '%s' but capget failed: %s", user,
                    strerror(errno));
    }
    if (cs.eff != keep || cs.prm != keep || cs.inh != 0) {
        caps_text(cs.prm, last, got, sizeof(got));
        caps_text(cs.eff, last, eff, sizeof(eff));
        caps_text(keep, last, want, sizeof(want));
        return fail(err, errlen, "dropped to user '%s' but the capabilities did not take: "
                    "permitted %s, effective %s, wanted %s for both (inheritable %s)",
                    user, got, eff, want, cs.inh ? "not empty" : "empty");
    }
    if ((a = ambient_set(last)) != 0) {
        caps_text(a, last, got, sizeof(got));
        return fail(err, errlen, "dropped to user '%s' but the ambient set still holds %s",
                    user, got);
    }
    if ((b = bounding_set(last) & ~keep) != 0) {
        caps_text(b, last, got, sizeof(got));
        return fail(err, errlen, "dropped to user '%s' but the bounding set still holds %s",
                    user, got);
    }
    if (prctl(PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L) != 1) {
        return fail(err, errlen, "dropped to user '%s' but no_new_privs is not set", user);
    }
    if (prctl(PR_GET_KEEPCAPS, 0L, 0L, 0L, 0L) != 0) {
        return fail(err, errlen, "dropped to user '%s' but keep-capabilities is still on",
                    user);
    }
    if (setuid(0) == 0 || seteuid(0) == 0) {
        return fail(err, errlen, "dropped to user '%s' but uid 0 could be regained", user);
    }
    return 0;
}

int sb_privs_drop(const char *user, unsigned keep_caps, char *err, size_t errlen)
{
    struct passwd pw;
    char *pwbuf = NULL;
    uid_t uid, ru, eu, su;
    gid_t gid;
    capsets_t cs;
    uint64_t keep, extra, missing;
    int last, c, threads, rc = -1;
    char name[64], list[512];

    if (err && errlen) {
        err[0] = '\0';
    }
    if (!user || !*user) {
        return fail(err, errlen, "cannot drop privileges: no user named");
    }
    if (keep_caps & ~SB_CAP_ALL) {
        return fail(err, errlen, "cannot drop to user '%s': unknown capability flags 0x%x",
                    user, keep_caps & ~SB_CAP_ALL);
    }
    if (lookup_user(user, &pw, &pwbuf, err, errlen) != 0) {
        return -1;
    }
    uid = pw.pw_uid;
    gid = pw.pw_gid;
    keep = flags_to_caps(keep_caps);

    if (geteuid() != 0) {
        if (getresuid(&ru, &eu, &su) == 0 && ru == uid && eu == uid && su == uid) {
            rc = 0;             /* already that user: nothing to drop */
        }
        else {
            fail(err, errlen, "cannot drop to user '%s' (uid %ld): running as uid %ld, "
                 "not root; start as root or as '%s'", user, (long)uid, (long)geteuid(),
                 user);
        }
        goto out;
    }
    if (uid == 0) {
        fail(err, errlen, "refusing to drop to user '%s': it is uid 0 (root); name an "
             "unprivileged user", user);
        goto out;
    }

    /* checks that change nothing */
    threads = thread_count();
    if (threads != 1) {
        if (threads < 0) {
            fail(err, errlen, "cannot drop to user '%s': cannot read /proc/self/status "
                 "to check that the process is single-threaded", user);
        }
        else {
            fail(err, errlen, "cannot drop to user '%s': the process has %d threads; "
                 "capabilities are per thread, so drop before starting any", user, threads);
        }
        goto out;
    }
    if (caps_get(&cs) != 0) {
        fail(err, errlen, "cannot drop to user '%s': capget failed: %s", user,
             strerror(errno));
        goto out;
    }
    last = last_cap();
    if ((missing = keep & ~cs.prm) != 0) {
        caps_text(missing, last, list, sizeof(list));
        fail(err, errlen, "cannot drop to user '%s' keeping %s: this process does not "
             "have it (not in systemd's CapabilityBoundingSet=, or dropped by a container)",
             user, list);
        goto out;
    }
    if ((missing = (CAP_BIT(CAP_SETUID) | CAP_BIT(CAP_SETGID)) & ~cs.eff) != 0) {
        caps_text(missing, last, list, sizeof(list));
        fail(err, errlen, "cannot drop to user '%s': changing user needs %s (add it to "
             "systemd's CapabilityBoundingSet=)", user, list);
        goto out;
    }
    extra = bounding_set(last) & ~keep;
    if (extra && !(cs.eff & CAP_BIT(CAP_SETPCAP))) {
        caps_text(extra, last, list, sizeof(list));
        fail(err, errlen, "cannot drop to user '%s': shrinking the capability bounding "
             "set needs cap_setpcap (add it to systemd's CapabilityBoundingSet=); still "
             "in it: %s", user, list);
        goto out;
    }

    /* the changes; the effective set keeps CAP_SETPCAP until capset() */
    for (c = 0; c <= last; c++) {
        if ((extra & CAP_BIT(c)) && prctl(PR_CAPBSET_DROP, (unsigned long)c, 0L, 0L, 0L) != 0) {
            fail(err, errlen, "cannot drop to user '%s': PR_CAPBSET_DROP %s: %s", user,
                 cap_name(c, name, sizeof(name)), strerror(errno));
            goto out;
        }
    }
    if (initgroups(pw.pw_name, gid) != 0) {
        fail(err, errlen, "cannot drop to user '%s': initgroups: %s", user, strerror(errno));
        goto out;
    }
    if (setresgid(gid, gid, gid) != 0) {
        fail(err, errlen, "cannot drop to user '%s': setresgid(%ld): %s", user, (long)gid,
             strerror(errno));
        goto out;
    }
    if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0) {
        fail(err, errlen, "cannot drop to user '%s': PR_SET_KEEPCAPS: %s", user,
             strerror(errno));
        goto out;
    }
    if (setresuid(uid, uid, uid) != 0) {
        fail(err, errlen, "cannot drop to user '%s': setresuid(%ld): %s", user, (long)uid,
             strerror(errno));
        goto out;
    }
    cs.eff = cs.prm = keep;
    cs.inh = 0;
    if (caps_set(&cs) != 0) {
        fail(err, errlen, "cannot drop to user '%s': capset: %s", user, strerror(errno));
        goto out;
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0L, 0L, 0L) != 0 && errno != EINVAL) {
        fail(err, errlen, "cannot drop to user '%s': clearing the ambient set: %s", user,
             strerror(errno));
        goto out;
    }
    if (prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) != 0) {
        fail(err, errlen, "cannot drop to user '%s': PR_SET_KEEPCAPS 0: %s", user,
             strerror(errno));
        goto out;
    }
    /* also when fs.suid_dumpable is not 0: no process of the same user may
     * read or trace this one, which holds capabilities */
    if (prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L) != 0) {
        fail(err, errlen, "cannot drop to user '%s': PR_SET_DUMPABLE: %s", user,
             strerror(errno));
        goto out;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0) {
        fail(err, errlen, "cannot drop to user '%s': PR_SET_NO_NEW_PRIVS: %s", user,
             strerror(errno));
        goto out;
    }
    rc = verify(user, uid, gid, keep, last, err, errlen);
out:
    free(pwbuf);
    return rc;
}

/* Append to buf at *off; output that does not fit is cut off. */
static void append(char *buf, size_t len, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
    va_list ap;
    int w;

    if (*off >= len) {
        return;
    }
    va_start(ap, fmt);
    w = vsnprintf(buf + *off, len - *off, fmt, ap);
    va_end(ap);
    if (w < 0) {
        return;
    }
    *off = (size_t)w >= len - *off ? len : *off + (size_t)w;
}

static void append_id(char *buf, size_t len, size_t *off, const char *label, long id,
                       int is_group)
{
    char sbuf[4096];
    const char *nm = NULL;

    if (is_group) {
        struct group gr, *res = NULL;
        if (getgrgid_r((gid_t)id, &gr, sbuf, sizeof(sbuf), &res) == 0 && res) {
            nm = res->gr_name;
        }
    }
    else {
        struct passwd pw, *res = NULL;
        if (getpwuid_r((uid_t)id, &pw, sbuf, sizeof(sbuf), &res) == 0 && res) {
            nm = res->pw_name;
        }
    }
    if (nm) {
        append(buf, len, off, "%s%s=%ld(%s)", *off ? " " : "", label, id, nm);
    }
    else {
        append(buf, len, off, "%s%s=%ld", *off ? " " : "", label, id);
    }
}

int sb_privs_describe(char *buf, size_t len)
{
    uid_t ru = 0, eu = 0, su = 0;
    gid_t rg = 0, eg = 0, sg = 0;
    capsets_t cs;
    size_t off = 0;
    int last, nnp;
    char list[1024];

    if (!buf || len == 0) {
        return -1;
    }
    buf[0] = '\0';
    getresuid(&ru, &eu, &su);
    getresgid(&rg, &eg, &sg);
    append_id(buf, len, &off, "uid", (long)ru, 0);
    if (eu != ru) {
        append_id(buf, len, &off, "euid", (long)eu, 0);
    }
    if (su != ru) {
        append_id(buf, len, &off, "suid", (long)su, 0);
    }
    append_id(buf, len, &off, "gid", (long)rg, 1);
    if (eg != rg) {
        append_id(buf, len, &off, "egid", (long)eg, 1);
    }
    if (sg != rg) {
        append_id(buf, len, &off, "sgid", (long)sg, 1);
    }
    if (caps_get(&cs) != 0) {
        append(buf, len, &off, " caps=?");
        return -1;
    }
    last = last_cap();
    caps_text(cs.eff, last, list, sizeof(list));
    append(buf, len, &off, " caps=%s", list);
    if (cs.prm != cs.eff) {
        caps_text(cs.prm, last, list, sizeof(list));
        append(buf, len, &off, " permitted=%s", list);
    }
    if ((cs.eff = ambient_set(last)) != 0) {
        caps_text(cs.eff, last, list, sizeof(list));
        append(buf, len, &off, " ambient=%s", list);
    }
    nnp = prctl(PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L);
    append(buf, len, &off, " no_new_privs=%d", nnp > 0 ? 1 : 0);
    return 0;
}

int sb_privs_parse(const char *list, unsigned *caps, char *err, size_t errlen)
{
    const char *p = list ? list : "";
    unsigned out = 0;

    while (*p) {
        size_t n;
        const char *w;
        int i, found = 0;
        char word[64];

        while (*p == ',' || isspace((unsigned char)*p)) {
            p++;
        }
        if (!*p) {
            break;
        }
        w = p;
        while (*p && *p != ',' && !isspace((unsigned char)*p)) {
            p++;
        }
        n = (size_t)(p - w);
        if (n >= sizeof(word)) {
            n = sizeof(word) - 1;
        }
        memcpy(word, w, n);
        word[n] = '\0';
        w = strncasecmp(word, "cap_", 4) == 0 ? word + 4 : word;
        if (strcasecmp(w, "none") == 0) {
            continue;
        }
        for (i = 0; i < N_FLAG_CAPS; i++) {
            if (strcasecmp(w, cap_names[flag_caps[i].cap] + 4) == 0) {
                out |= flag_caps[i].flag;
                found = 1;
            }
        }
        if (!found) {
            return fail(err, errlen, "unknown capability '%s': give a comma-separated list "
                        "of dac_override, sys_ptrace, dac_read_search, ipc_owner, or none",
                        word);
        }
    }
    *caps = out;
    return 0;
}
