/*
 * fuzz_directive: the directive parser and the snippet renderer.  The
 * first byte picks the MPM and the httpd version, the next 8 the time of
 * the header; the rest is the text to parse, also given to the renderer
 * as the header's "data" and "why" lines.  Invariants: parsing what was
 * rendered gives back the directives parsed (those the MPM carries), the
 * header's lines never set a directive, and sb_directive_body() is
 * idempotent (on text without NUL bytes).
 */
#include "config.h"
#include <apr_strings.h>
#include "sb_fuzz.h"
#include "sb_directive.h"

static const char *const mpms[] = { "prefork", "worker", "event" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    sb_directives_t d1, d2, none;
    sb_directive_meta_t m;
    const char *text;
    char *out, *b1, *b2, *body;
    size_t len;
    int n1, n2, i, prefork, set;
    uint64_t when = 0;

    if (size < 9) {
        return 0;
    }
    p = sb_fuzz_pool();
    memset(&m, 0, sizeof(m));
    m.mpm = mpms[data[0] % 3];
    m.httpd_minor = (data[0] & 0x10) ? 2 : 4;
    for (i = 1; i < 9; i++) {
        when = when << 8 | data[i];
    }
    m.when = (apr_time_t)(when >> 1);   /* any time from 1970 on */
    text = (const char *)data + 9;
    len = size - 9;
    prefork = strcmp(m.mpm, "prefork") == 0;

    sb_directive_init(&d1);
    n1 = sb_directive_parse(&d1, text, len);
    SB_FUZZ_ASSERT(n1 >= 0, "%d found", n1);

    /* the input as the header's data and why: comments only */
    m.data = apr_pstrmemdup(p, text, len);
    m.why = m.data;
    out = sb_directive_render(&d1, &m, p);
    SB_FUZZ_ASSERT(out != NULL, "no snippet");

    sb_directive_init(&d2);
    n2 = sb_directive_parse(&d2, out, strlen(out));
    set = 0;
    for (i = 0; i < sb_directive_count; i++) {
        int v1 = sb_directive_get(&d1, i), v2 = sb_directive_get(&d2, i);
        const char *name = sb_directive_table[i].name;
        int thread = !strcmp(name, "ThreadLimit") || !strcmp(name, "ThreadsPerChild");
        if (prefork && thread) {
            v1 = -1;            /* prefork's snippet has no thread directives */
        }
        set += v1 >= 0;
        SB_FUZZ_ASSERT(v1 == v2, "%s: parsed %d, parsed back from the snippet %d\n%s",
                       name, v1, v2, out);
    }
    SB_FUZZ_ASSERT(n2 == set, "%d directives in the snippet, %d rendered\n%s", n2, set, out);

    /* the header alone (nothing set) carries no directive */
    sb_directive_init(&none);
    out = sb_directive_render(&none, &m, p);
    sb_directive_init(&d2);
    SB_FUZZ_ASSERT(sb_directive_parse(&d2, out, strlen(out)) == 0 && !sb_directive_any(&d2),
                   "the header sets a directive\n%s", out);
    body = sb_directive_body(out, strlen(out), p);
    SB_FUZZ_ASSERT(*body == '\0', "the header has a body: %s", body);

    /* (a NUL ends a line's copy early, before its trailing blanks) */
    if (!memchr(text, '\0', len)) {
        b1 = sb_directive_body(text, len, p);
        b2 = sb_directive_body(b1, strlen(b1), p);
        SB_FUZZ_ASSERT(strcmp(b1, b2) == 0, "body not idempotent");
    }

    (void)sb_directive_json(&d1, p);
    apr_pool_destroy(p);
    return 0;
}
