/*
 * fuzz_proc: the /proc parsers, each on the same input:
 * sb_procmem_parse_rollup, _smaps, _meminfo (smaps_rollup, smaps,
 * meminfo) and sb_kernel_parse_netstat, _snmp (/proc/net/netstat, snmp).
 */
#include "config.h"
#include "sb_fuzz.h"
#include "sb_procmem.h"
#include "sb_kernel.h"

static void check_procmem(apr_status_t rv, const sb_procmem_t *m)
{
    SB_FUZZ_ASSERT(rv == APR_SUCCESS || rv == APR_EINVAL, "rv %d", (int)rv);
    SB_FUZZ_ASSERT(memchr(m->error, '\0', sizeof(m->error)) != NULL, "error not terminated");
    SB_FUZZ_ASSERT((rv == APR_SUCCESS) == (m->error[0] == '\0'), "rv %d, error '%s'",
                   (int)rv, m->error);
    if (rv == APR_SUCCESS) {
        SB_FUZZ_ASSERT(!(m->missing & (SB_PM_RSS | SB_PM_PSS)), "success without Rss/Pss");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    sb_procmem_t pm;
    sb_hostmem_t hm;
    uint64_t a = 7, b = 7;
    apr_status_t rv;

    check_procmem(sb_procmem_parse_rollup(buf, size, &pm), &pm);
    rv = sb_procmem_parse_smaps(buf, size, &pm);
    check_procmem(rv, &pm);
    SB_FUZZ_ASSERT(pm.summed == 1, "smaps not summed");

    rv = sb_procmem_parse_meminfo(buf, size, &hm);
    SB_FUZZ_ASSERT(rv == APR_SUCCESS || rv == APR_EINVAL, "meminfo rv %d", (int)rv);
    SB_FUZZ_ASSERT(memchr(hm.error, '\0', sizeof(hm.error)) != NULL, "error not terminated");
    SB_FUZZ_ASSERT(rv != APR_SUCCESS || !(hm.missing & SB_HM_MEM_TOTAL),
                   "success without MemTotal");

    rv = sb_kernel_parse_netstat(buf, size, &a, &b);
    SB_FUZZ_ASSERT(rv == APR_SUCCESS || rv == APR_ENOENT || rv == APR_EINVAL,
                   "netstat rv %d", (int)rv);
    SB_FUZZ_ASSERT(rv == APR_SUCCESS || (a == 7 && b == 7), "outputs set on failure");
    a = 7;
    rv = sb_kernel_parse_snmp(buf, size, &a);
    SB_FUZZ_ASSERT(rv == APR_SUCCESS || rv == APR_ENOENT || rv == APR_EINVAL,
                   "snmp rv %d", (int)rv);
    SB_FUZZ_ASSERT(rv == APR_SUCCESS || a == 7, "output set on failure");
    return 0;
}
