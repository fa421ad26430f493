/*
 * test_procmem.c - sb_procmem: the smaps_rollup, smaps and meminfo parsers
 * on real captures (tests/data/proc-*.txt, see its README.md) and damaged
 * copies of them; and the live readers on this process, on processes made
 * here (children, a zombie, a gone pid) and on another user's process.
 *
 * Expected values are read from the capture files by the simple helpers
 * below, never typed in.  Every input is handed to the parser in a buffer
 * of exactly its length with no NUL after it, so a sanitizer build catches
 * any read past len.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include "sb_unit.h"
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "sb_procmem.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* ---------------------------------------------------------------- helpers */


/* Sum of "key: N kB" over all lines of text, in bytes; -1 when no line. */
static long long file_kb(const char *text, const char *key)
{
    apr_size_t kl = strlen(key);
    const char *line = text;
    long long sum = -1;

    while (*line) {
        const char *eol = strchr(line, '\n');
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            sum = (sum < 0 ? 0 : sum) + atoll(line + kl + 1) * 1024;
        }
        if (!eol) {
            break;
        }
        line = eol + 1;
    }
    return sum;
}

/* Count of lines that start a mapping in smaps ("addr-addr perms ..."). */
static int file_mappings(const char *text)
{
    const char *line = text;
    int n = 0;

    while (*line) {
        const char *eol = strchr(line, '\n');
        const char *dash = strchr(line, '-');
        if (dash && (!eol || dash < eol) && strspn(line, "0123456789abcdef")
            == (apr_size_t)(dash - line)) {
            n++;
        }
        if (!eol) {
            break;
        }
        line = eol + 1;
    }
    return n;
}

typedef apr_status_t (*pm_parser_t)(const char *, apr_size_t, sb_procmem_t *);

static apr_status_t pm_exact(pm_parser_t fn, const char *data, apr_size_t len,
                             sb_procmem_t *out)
{
    char *exact = malloc(len ? len : 1);
    apr_status_t rv;

    ck_assert_ptr_nonnull(exact);
    memcpy(exact, data, len);
    rv = fn(exact, len, out);
    free(exact);
    return rv;
}

static apr_status_t hm_exact(const char *data, apr_size_t len, sb_hostmem_t *out)
{
    char *exact = malloc(len ? len : 1);
    apr_status_t rv;

    ck_assert_ptr_nonnull(exact);
    memcpy(exact, data, len);
    rv = sb_procmem_parse_meminfo(exact, len, out);
    free(exact);
    return rv;
}

static const struct {
    const char *key;
    unsigned int bit;
    apr_size_t off;
} pm_keys[] = {
    { "Rss", SB_PM_RSS, offsetof(sb_procmem_t, rss) },
    { "Pss", SB_PM_PSS, offsetof(sb_procmem_t, pss) },
    { "Pss_Anon", SB_PM_PSS_ANON, offsetof(sb_procmem_t, pss_anon) },
    { "Pss_File", SB_PM_PSS_FILE, offsetof(sb_procmem_t, pss_file) },
    { "Pss_Shmem", SB_PM_PSS_SHMEM, offsetof(sb_procmem_t, pss_shmem) },
    { "Private_Clean", SB_PM_PRIVATE_CLEAN, offsetof(sb_procmem_t, private_clean) },
    { "Private_Dirty", SB_PM_PRIVATE_DIRTY, offsetof(sb_procmem_t, private_dirty) },
    { "Shared_Clean", SB_PM_SHARED_CLEAN, offsetof(sb_procmem_t, shared_clean) },
    { "Shared_Dirty", SB_PM_SHARED_DIRTY, offsetof(sb_procmem_t, shared_dirty) },
    { "Swap", SB_PM_SWAP, offsetof(sb_procmem_t, swap) },
    { "SwapPss", SB_PM_SWAP_PSS, offsetof(sb_procmem_t, swap_pss) },
};
#define NKEYS ((int)(sizeof(pm_keys) / sizeof(pm_keys[0])))

static uint64_t pm_field(const sb_procmem_t *m, int i)
{
    return *(const uint64_t *)(const void *)((const char *)m + pm_keys[i].off);
}

static const struct {
    const char *key;
    unsigned int bit;
    apr_size_t off;
} hm_keys[] = {
    { "MemTotal", SB_HM_MEM_TOTAL, offsetof(sb_hostmem_t, mem_total) },
    { "MemAvailable", SB_HM_MEM_AVAILABLE, offsetof(sb_hostmem_t, mem_available) },
    { "MemFree", SB_HM_MEM_FREE, offsetof(sb_hostmem_t, mem_free) },
    { "Buffers", SB_HM_BUFFERS, offsetof(sb_hostmem_t, buffers) },
    { "Cached", SB_HM_CACHED, offsetof(sb_hostmem_t, cached) },
    { "SwapTotal", SB_HM_SWAP_TOTAL, offsetof(sb_hostmem_t, swap_total) },
    { "SwapFree", SB_HM_SWAP_FREE, offsetof(sb_hostmem_t, swap_free) },
};
#define NHKEYS ((int)(sizeof(hm_keys) / sizeof(hm_keys[0])))

static uint64_t hm_field(const sb_hostmem_t *m, int i)
{
    return *(const uint64_t *)(const void *)((const char *)m + hm_keys[i].off);
}

/* The file's values must be what the parser returns, field by field. */
static void check_rollup_file(const char *name)
{
    apr_size_t len;
    const char *text = sb_unit_load(pool, name, &len);
    sb_procmem_t m;
    apr_status_t rv = pm_exact(sb_procmem_parse_rollup, text, len, &m);
    int i;

    ck_assert_msg(rv == APR_SUCCESS, "%s: %s", name, m.error);
    ck_assert_str_eq(m.error, "");
    ck_assert_uint_eq(m.missing, 0);
    ck_assert_int_eq(m.summed, 0);
    for (i = 0; i < NKEYS; i++) {
        long long want = file_kb(text, pm_keys[i].key);
        ck_assert_msg(want >= 0, "%s has no %s line", name, pm_keys[i].key);
        ck_assert_msg(pm_field(&m, i) == (uint64_t)want, "%s: %s is %llu, file says %lld",
                      name, pm_keys[i].key, (unsigned long long)pm_field(&m, i), want);
    }
    ck_assert_uint_gt(m.pss, 0);
    ck_assert_uint_le(m.pss, m.rss);
    ck_assert_uint_eq(m.rss, m.private_clean + m.private_dirty + m.shared_clean
                      + m.shared_dirty);
    /* the split is rounded per part: within 2 kB of the whole */
    ck_assert_uint_le(m.pss_anon + m.pss_file + m.pss_shmem, m.pss + 2048);
    ck_assert_uint_ge(m.pss_anon + m.pss_file + m.pss_shmem + 2048, m.pss);
}

/* ---------------------------------------------------------------- parsers */

START_TEST(test_rollup_child)
{
    check_rollup_file("proc-smaps_rollup-apache2-child.txt");
}
END_TEST

START_TEST(test_rollup_parent)
{
    check_rollup_file("proc-smaps_rollup-apache2-parent.txt");
}
END_TEST

/* smaps of the same child at the same moment: every sum equals the rollup,
 * except Pss, which smaps rounds down per mapping; the Pss_* split is
 * rollup-only. */
START_TEST(test_smaps_sum)
{
    apr_size_t len, rlen;
    const char *text = sb_unit_load(pool, "proc-smaps-apache2-child.txt", &len);
    const char *rtext = sb_unit_load(pool, "proc-smaps_rollup-apache2-child.txt", &rlen);
    sb_procmem_t m, r;
    int nmaps = file_mappings(text), i;

    ck_assert_int_gt(nmaps, 10);
    ck_assert_int_eq(pm_exact(sb_procmem_parse_rollup, rtext, rlen, &r), APR_SUCCESS);
    ck_assert_msg(pm_exact(sb_procmem_parse_smaps, text, len, &m) == APR_SUCCESS,
                  "%s", m.error);
    ck_assert_int_eq(m.summed, 1);
    ck_assert_uint_eq(m.missing, SB_PM_PSS_ANON | SB_PM_PSS_FILE | SB_PM_PSS_SHMEM);
    for (i = 0; i < NKEYS; i++) {
        if (pm_keys[i].bit & m.missing) {
            ck_assert_uint_eq(pm_field(&m, i), 0);
            continue;
        }
        ck_assert_uint_eq(pm_field(&m, i), (uint64_t)file_kb(text, pm_keys[i].key));
        if (pm_keys[i].bit != SB_PM_PSS) {
            ck_assert_msg(pm_field(&m, i) == pm_field(&r, i), "%s: smaps sum %llu, "
                          "rollup %llu", pm_keys[i].key,
                          (unsigned long long)pm_field(&m, i),
                          (unsigned long long)pm_field(&r, i));
        }
    }
    ck_assert_uint_le(m.pss, r.pss);
    ck_assert_uint_ge(m.pss + (uint64_t)nmaps * 1024, r.pss);
}
END_TEST

/* Every prefix of the real files: an error, or the fields present carry
 * exactly the full file's values (a cut line never counts). */
static void check_prefixes(pm_parser_t fn, const char *name, apr_size_t step)
{
    apr_size_t len, cut, ok = 0;
    const char *text = sb_unit_load(pool, name, &len);
    sb_procmem_t full, m;
    int i;

    ck_assert_int_eq(pm_exact(fn, text, len, &full), APR_SUCCESS);
    for (cut = 0;; cut += step) {
        apr_status_t rv;
        if (cut > len) {
            cut = len;
        }
        rv = pm_exact(fn, text, cut, &m);
        ck_assert_msg(rv == APR_SUCCESS || rv == APR_EINVAL, "cut %lu: rv %d",
                      (unsigned long)cut, rv);
        ck_assert_uint_eq(m.missing & full.missing, full.missing);
        if (rv == APR_EINVAL) {
            ck_assert_str_ne(m.error, "");
            ck_assert_uint_ne(m.missing & (SB_PM_RSS | SB_PM_PSS), 0);
        }
        else if (fn == sb_procmem_parse_smaps) {
            /* smaps sums grow with the prefix, up to the full value */
            ok++;
            for (i = 0; i < NKEYS; i++) {
                ck_assert_uint_le(pm_field(&m, i), pm_field(&full, i));
            }
        }
        else {
            ok++;
            for (i = 0; i < NKEYS; i++) {
                ck_assert_uint_eq(pm_field(&m, i), (m.missing & pm_keys[i].bit)
                                  ? 0 : pm_field(&full, i));
            }
        }
        if (cut == len) {
            break;
        }
    }
    ck_assert_uint_gt(ok, 0);
}

START_TEST(test_rollup_truncated)
{
    check_prefixes(sb_procmem_parse_rollup, "proc-smaps_rollup-apache2-child.txt", 1);
}
END_TEST

START_TEST(test_smaps_truncated)
{
    check_prefixes(sb_procmem_parse_smaps, "proc-smaps-apache2-child.txt", 61);
}
END_TEST

START_TEST(test_rollup_malformed)
{
    sb_procmem_t m;
    const char *s;

#define PR(str) pm_exact(sb_procmem_parse_rollup, (str), strlen(str), &m)
    ck_assert_int_eq(PR(""), APR_EINVAL);
    ck_assert_uint_eq(m.missing, 0x7ff);
    ck_assert_ptr_nonnull(strstr(m.error, "no Rss line"));
    ck_assert_int_eq(PR("Rss: 8 kB\nPss: 4 kB\n"), APR_SUCCESS);
    ck_assert_uint_eq(m.rss, 8192);
    ck_assert_uint_eq(m.pss, 4096);
    ck_assert_uint_eq(m.missing, 0x7ff & ~(SB_PM_RSS | SB_PM_PSS));
    /* a cut last line does not count */
    ck_assert_int_eq(PR("Rss: 8 kB\nPss: 4 kB"), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(m.error, "no Pss line"));
    /* bad values of known keys, with the line number */
    ck_assert_int_eq(PR("Rss: 8 kB\nPss: abc kB\n"), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(m.error, "line 2"));
    ck_assert_ptr_nonnull(strstr(m.error, "Pss"));
    ck_assert_int_eq(PR("Rss: 8\nPss: 4 kB\n"), APR_EINVAL);
    ck_assert_int_eq(PR("Rss: 8 MB\nPss: 4 kB\n"), APR_EINVAL);
    ck_assert_int_eq(PR("Rss: 8 kBytes\nPss: 4 kB\n"), APR_EINVAL);
    ck_assert_int_eq(PR("Rss: -8 kB\nPss: 4 kB\n"), APR_EINVAL);
    ck_assert_int_eq(PR("Rss: 99999999999999999999 kB\nPss: 4 kB\n"), APR_EINVAL);
    ck_assert_int_eq(PR("Rss: 999999999999999 kB\nPss: 4 kB\n"), APR_SUCCESS);
    ck_assert_uint_eq(m.rss, UINT64_C(999999999999999) * 1024);
    /* the sum of a repeated key past 2^64 bytes: refused, not wrapped
     * (19 such lines make 1.95e19 bytes) */
    {
        char big[1024] = "";
        int i;
        for (i = 0; i < 19; i++) {
            strcat(big, "Rss: 999999999999999 kB\n");
        }
        strcat(big, "Pss: 4 kB\n");
        ck_assert_int_eq(pm_exact(sb_procmem_parse_smaps, big, strlen(big), &m), APR_EINVAL);
        ck_assert_ptr_nonnull(strstr(m.error, "line 19: Rss adds up to more than 2^64 bytes"));
        big[strlen(big) - 10 - 24] = '\0';     /* 18 lines: 1.84e19, fits */
        strcat(big, "Pss: 4 kB\n");
        ck_assert_int_eq(pm_exact(sb_procmem_parse_smaps, big, strlen(big), &m), APR_SUCCESS);
        ck_assert_uint_eq(m.rss, UINT64_C(999999999999999) * 1024 * 18);
    }
    /* unknown keys, lines without a colon, CRLF and tabs are fine */
    ck_assert_int_eq(PR("7f00-7f01 r--p 0 00:00 0 [rollup]\nRss\t8 kB\nFoo: x\n"
                        "Rss:\t8 kB\r\nPss: 4 kB\r\nVmFlags: rd mr\n"), APR_SUCCESS);
    ck_assert_uint_eq(m.rss, 8192);
    /* key prefixes are not keys: "Pss_Dirty" is not "Pss" */
    ck_assert_int_eq(PR("Rss: 8 kB\nPss_Dirty: 4 kB\n"), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(m.error, "no Pss line"));
    /* binary noise */
    s = "Rss: 8 kB\n\0\0\xff\xfe: 12 kB\nPss:\0 4 kB\n";
    ck_assert_int_eq(pm_exact(sb_procmem_parse_rollup, s, 33, &m), APR_EINVAL);
#undef PR
}
END_TEST

/* A real rollup without the Pss_* lines (as Linux before 5.x writes it):
 * parsed, the absent fields flagged. */
START_TEST(test_rollup_missing_lines)
{
    apr_size_t len, i, o = 0;
    const char *text = sb_unit_load(pool, "proc-smaps_rollup-apache2-child.txt", &len);
    char *cut = apr_palloc(pool, len + 1);
    const char *line = text;
    sb_procmem_t m;

    while (*line) {
        const char *eol = strchr(line, '\n');
        apr_size_t n = eol ? (apr_size_t)(eol - line) + 1 : strlen(line);
        if (strncmp(line, "Pss_Anon:", 9) && strncmp(line, "Pss_File:", 9)
            && strncmp(line, "Pss_Shmem:", 10) && strncmp(line, "SwapPss:", 8)) {
            memcpy(cut + o, line, n);
            o += n;
        }
        line += n;
    }
    ck_assert_uint_lt(o, len);
    ck_assert_int_eq(pm_exact(sb_procmem_parse_rollup, cut, o, &m), APR_SUCCESS);
    ck_assert_uint_eq(m.missing, SB_PM_PSS_ANON | SB_PM_PSS_FILE | SB_PM_PSS_SHMEM
                      | SB_PM_SWAP_PSS);
    ck_assert_uint_eq(m.pss, (uint64_t)file_kb(text, "Pss"));
    ck_assert_uint_eq(m.pss_anon, 0);
    for (i = 0; i < o; i++) {
        ck_assert_int_ne(cut[i], '\0');
    }
}
END_TEST

START_TEST(test_meminfo_real)
{
    apr_size_t len, cut;
    const char *text = sb_unit_load(pool, "proc-meminfo.txt", &len);
    sb_hostmem_t h, full;
    int i;

    ck_assert_msg(hm_exact(text, len, &full) == APR_SUCCESS, "%s", full.error);
    ck_assert_uint_eq(full.missing, 0);
    for (i = 0; i < NHKEYS; i++) {
        long long want = file_kb(text, hm_keys[i].key);
        ck_assert_int_ge(want, 0);
        ck_assert_uint_eq(hm_field(&full, i), (uint64_t)want);
    }
    ck_assert_uint_gt(full.mem_total, 0);
    ck_assert_uint_le(full.mem_available, full.mem_total);
    ck_assert_uint_le(full.mem_free, full.mem_total);
    ck_assert_uint_le(full.swap_free, full.swap_total);

    /* every prefix */
    for (cut = 0; cut <= len; cut++) {
        apr_status_t rv = hm_exact(text, cut, &h);
        ck_assert(rv == APR_SUCCESS || rv == APR_EINVAL);
        if (rv == APR_EINVAL) {
            ck_assert_uint_ne(h.missing & SB_HM_MEM_TOTAL, 0);
            continue;
        }
        for (i = 0; i < NHKEYS; i++) {
            ck_assert_uint_eq(hm_field(&h, i),
                              (h.missing & hm_keys[i].bit) ? 0 : hm_field(&full, i));
        }
    }
}
END_TEST

START_TEST(test_meminfo_malformed)
{
    sb_hostmem_t h;

#define HM(str) hm_exact((str), strlen(str), &h)
    ck_assert_int_eq(HM(""), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(h.error, "MemTotal"));
    /* Linux before 3.14 has no MemAvailable */
    ck_assert_int_eq(HM("MemTotal: 1000 kB\nMemFree: 10 kB\nCached: 5 kB\n"), APR_SUCCESS);
    ck_assert_uint_eq(h.mem_total, 1024000);
    ck_assert_uint_eq(h.missing, SB_HM_MEM_AVAILABLE | SB_HM_BUFFERS | SB_HM_SWAP_TOTAL
                      | SB_HM_SWAP_FREE);
    /* "SwapCached" is not "Cached"; HugePages lines have no unit and are not ours */
    ck_assert_int_eq(HM("MemTotal: 1000 kB\nSwapCached: 7 kB\nHugePages_Total: 0\n"),
                     APR_SUCCESS);
    ck_assert_uint_eq(h.cached, 0);
    ck_assert_uint_ne(h.missing & SB_HM_CACHED, 0);
    ck_assert_int_eq(HM("MemTotal: lots kB\n"), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(h.error, "line 1"));
    ck_assert_int_eq(HM("MemTotal: 1000 kB\nMemAvailable: 12\n"), APR_EINVAL);
#undef HM
}
END_TEST

/* ---------------------------------------------------------------- live */

static pid_t read_pid_max(void)
{
    FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
    long v = 0;

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "%ld", &v), 1);
    fclose(f);
    return (pid_t)v;            /* pids are below pid_max */
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

START_TEST(test_read_self)
{
    sb_procmem_t m, s;
    apr_status_t rv = sb_procmem_read(getpid(), &m);
    uint64_t diff;

    ck_assert_msg(rv == APR_SUCCESS, "%s", m.error);
    ck_assert_str_eq(m.error, "");
    ck_assert_uint_gt(m.pss, 0);
    ck_assert_uint_gt(m.rss, 0);
    ck_assert_uint_le(m.pss, m.rss);
    ck_assert_int_eq(m.summed, 0);
    ck_assert_uint_eq(m.missing, 0);

    /* the smaps fallback agrees, give or take what changed in between */
    rv = sb_procmem_read_smaps(getpid(), &s);
    ck_assert_msg(rv == APR_SUCCESS, "%s", s.error);
    ck_assert_int_eq(s.summed, 1);
    ck_assert_uint_gt(s.pss, 0);
    diff = s.rss > m.rss ? s.rss - m.rss : m.rss - s.rss;
    ck_assert_uint_lt(diff, 4u << 20);
}
END_TEST

START_TEST(test_read_gone)
{
    sb_procmem_t m;
    pid_t child;
    int status;

    ck_assert_int_eq(sb_procmem_read(read_pid_max(), &m), APR_FROM_OS_ERROR(ESRCH));
    ck_assert_ptr_nonnull(strstr(m.error, "gone"));
    ck_assert_int_eq(sb_procmem_read(0, &m), APR_FROM_OS_ERROR(ESRCH));
    ck_assert_int_eq(sb_procmem_read(-5, &m), APR_FROM_OS_ERROR(ESRCH));
    ck_assert_int_eq(sb_procmem_read_smaps(read_pid_max(), &m), APR_FROM_OS_ERROR(ESRCH));

    /* a child that exited and was reaped */
    child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        _exit(0);
    }
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_int_eq(sb_procmem_read(child, &m), APR_FROM_OS_ERROR(ESRCH));
}
END_TEST

/* A zombie still has /proc/PID but no memory. */
START_TEST(test_read_zombie)
{
    sb_procmem_t m;
    pid_t child;
    int status, i;
    char path[64];

    child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        _exit(0);
    }
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)child);
    for (i = 0; i < 3000; i++) {
        char buf[256];
        FILE *f = fopen(path, "r");
        const char *p;
        ck_assert_ptr_nonnull(f);
        ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
        fclose(f);
        p = strrchr(buf, ')');
        if (p && p[2] == 'Z') {
            break;
        }
        sleep_ms(1);
    }
    ck_assert_int_lt(i, 3000);
    ck_assert_int_eq(sb_procmem_read(child, &m), APR_FROM_OS_ERROR(ESRCH));
    ck_assert_ptr_nonnull(strstr(m.error, "gone"));
    ck_assert_int_eq(sb_procmem_read_smaps(child, &m), APR_FROM_OS_ERROR(ESRCH));
    ck_assert_int_eq(waitpid(child, &status, 0), child);
}
END_TEST


static void probe_memory(pid_t target, char *msg, apr_size_t len)
{
    sb_procmem_t m;
    apr_status_t rv = sb_procmem_read(target, &m);

    snprintf(msg, len, "%d %s", rv, m.error);
}

START_TEST(test_read_eacces)
{
    char msg[600], want[64];
    pid_t target;

    if (!sb_unit_probe_as_nobody(probe_memory, &target, msg, sizeof(msg))) {
        return;
    }
    ck_assert_msg(atoi(msg) == APR_EACCES, "expected EACCES, got: %s", msg);
    ck_assert_ptr_nonnull(strstr(msg, "CAP_SYS_PTRACE"));
    snprintf(want, sizeof(want), "/proc/%d/smaps_rollup", (int)target);
    ck_assert_ptr_nonnull(strstr(msg, want));
}
END_TEST

START_TEST(test_children)
{
    int pfd[2], i, n, status;
    pid_t kids[3], *found;

    ck_assert_int_eq(pipe(pfd), 0);
    for (i = 0; i < 3; i++) {
        kids[i] = fork();
        ck_assert_int_ge(kids[i], 0);
        if (kids[i] == 0) {
            char b;
            close(pfd[1]);
            /* wait until the parent closes the pipe */
            while (read(pfd[0], &b, 1) > 0) {
            }
            _exit(0);
        }
    }
    close(pfd[0]);
    ck_assert_int_eq(sb_procmem_children(getpid(), pool, &found, &n), APR_SUCCESS);
    ck_assert_int_eq(n, 3);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(found[i], kids[i]);    /* sorted, as forked */
    }
    close(pfd[1]);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(waitpid(kids[i], &status, 0), kids[i]);
    }
    ck_assert_int_eq(sb_procmem_children(getpid(), pool, &found, &n), APR_SUCCESS);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(sb_procmem_children(read_pid_max(), pool, &found, &n),
                     APR_FROM_OS_ERROR(ESRCH));
    ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(test_host_live)
{
    sb_hostmem_t h;

    ck_assert_msg(sb_procmem_host(&h) == APR_SUCCESS, "%s", h.error);
    ck_assert_uint_eq(h.missing, 0);
    ck_assert_uint_gt(h.mem_total, 0);
    ck_assert_uint_gt(h.mem_available, 0);
    ck_assert_uint_le(h.mem_available, h.mem_total);
    ck_assert_uint_le(h.mem_free, h.mem_total);
    ck_assert_uint_le(h.swap_free, h.swap_total);
}
END_TEST

/* ---------------------------------------------------------------- main */

static Suite *procmem_suite(void)
{
    Suite *s = suite_create("procmem");
    TCase *tc;

    tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_rollup_child);
    tcase_add_test(tc, test_rollup_parent);
    tcase_add_test(tc, test_smaps_sum);
    tcase_add_test(tc, test_rollup_truncated);
    tcase_add_test(tc, test_smaps_truncated);
    tcase_add_test(tc, test_rollup_malformed);
    tcase_add_test(tc, test_rollup_missing_lines);
    tcase_add_test(tc, test_meminfo_real);
    tcase_add_test(tc, test_meminfo_malformed);
    suite_add_tcase(s, tc);

    tc = tcase_create("live");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_read_self);
    tcase_add_test(tc, test_read_gone);
    tcase_add_test(tc, test_read_zombie);
    tcase_add_test(tc, test_read_eacces);
    tcase_add_test(tc, test_children);
    tcase_add_test(tc, test_host_live);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sb_unit_run(procmem_suite());
}
