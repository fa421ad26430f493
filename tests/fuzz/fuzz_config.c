/*
 * fuzz_config: the YAML configuration loader (sb_config_load_buffer, the
 * code path of sb_config_load) over the defaults; whatever it accepts is
 * within each option's documented bounds.
 */
#include "config.h"
#include <math.h>
#include "sb_fuzz.h"
#include "sb_config.h"

#define NAME "<fuzz>"

static int choice_of(const char *choices, const char *v)
{
    size_t n = strlen(v);
    const char *c = choices;

    while (*c) {
        size_t len = strcspn(c, "|");
        if (len == n && strncmp(c, v, n) == 0) {
            return 1;
        }
        c += len + (c[len] == '|');
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = sb_fuzz_pool();
    sb_config_t cfg;
    char err[512];
    int rc, i;

    sb_config_defaults(&cfg, p);
    memset(err, 'x', sizeof(err));
    rc = sb_config_load_buffer(&cfg, p, (const char *)data, size, NAME, err, sizeof(err));
    SB_FUZZ_ASSERT(rc == 0 || rc == -1, "rc %d", rc);
    if (rc != 0) {
        SB_FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL, "message not terminated");
        SB_FUZZ_ASSERT(strncmp(err, NAME ":", strlen(NAME) + 1) == 0,
                       "message does not name the input: %s", err);
    }
    /* accepted or partly applied, every value is in range or unset */
    for (i = 0; i < sb_config_noptions; i++) {
        const sb_config_opt_t *o = &sb_config_options[i];
        const char *f = (const char *)&cfg + o->offset;
        switch (o->type) {
        case SB_CT_BOOL: {
            int v = *(const int *)(const void *)f;
            SB_FUZZ_ASSERT(v == -1 || v == 0 || v == 1, "%s = %d", o->key, v);
            break;
        }
        case SB_CT_INT: {
            int v = *(const int *)(const void *)f;
            SB_FUZZ_ASSERT(v == -1 || (v >= o->min && v <= o->max), "%s = %d", o->key, v);
            break;
        }
        case SB_CT_BYTES: {
            int64_t v = *(const int64_t *)(const void *)f;
            SB_FUZZ_ASSERT(v == -1 || ((double)v >= o->min && (double)v <= o->max),
                           "%s = %lld", o->key, (long long)v);
            break;
        }
        case SB_CT_DOUBLE:
        case SB_CT_PROB: {
            double v = *(const double *)(const void *)f;
            SB_FUZZ_ASSERT(isnan(v) || (v >= o->min && v <= o->max), "%s = %g", o->key, v);
            break;
        }
        case SB_CT_ENUM: {
            const char *v = *(const char *const *)(const void *)f;
            SB_FUZZ_ASSERT(v && (!*v || choice_of(o->choices, v)), "%s = '%s'", o->key,
                           v ? v : "(null)");
            break;
        }
        case SB_CT_STRING:
            SB_FUZZ_ASSERT(*(const char *const *)(const void *)f != NULL, "%s is NULL", o->key);
            break;
        }
    }
    apr_pool_destroy(p);
    return 0;
}
