/*
 * sb_fuzz.h - what the libFuzzer targets of tests/fuzz share: APR set up
 * once, a pool per input, a failed invariant as a crash (libFuzzer then
 * keeps the input), and a strict JSON checker for what the agent would
 * write from a decoded sample.
 */
#ifndef SB_FUZZ_H
#define SB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static apr_pool_t *sb_fuzz_root;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&sb_fuzz_root, NULL) != APR_SUCCESS) {
        fprintf(stderr, "fuzz: cannot initialize APR\n");
        exit(1);
    }
    return 0;
}

/* A pool for one input: destroy it at the end of the input. */
static apr_pool_t *sb_fuzz_pool(void)
{
    apr_pool_t *p;

    if (apr_pool_create(&p, sb_fuzz_root) != APR_SUCCESS) {
        abort();
    }
    return p;
}

#define SB_FUZZ_ASSERT(cond, ...)                                            \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz invariant failed at %s:%d: %s: ", __FILE__, \
                    __LINE__, #cond);                                        \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* ------------------------------------------------------------ JSON check */

typedef struct {
    const unsigned char *s, *end;
    int depth;
} sb_fuzz_json_t;

static int sb_fuzz_json_value(sb_fuzz_json_t *j);

static void sb_fuzz_json_ws(sb_fuzz_json_t *j)
{
    while (j->s < j->end && (*j->s == ' ' || *j->s == '\n' || *j->s == '\t' || *j->s == '\r')) {
        j->s++;
    }
}

static int sb_fuzz_json_lit(sb_fuzz_json_t *j, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(j->end - j->s) < n || memcmp(j->s, lit, n) != 0) {
        return 0;
    }
    j->s += n;
    return 1;
}

/* A string: no raw control characters, known escapes, valid UTF-8. */
static int sb_fuzz_json_string(sb_fuzz_json_t *j)
{
    if (j->s >= j->end || *j->s != '"') {
        return 0;
    }
    j->s++;
    while (j->s < j->end) {
        unsigned char c = *j->s;
        int n, i;
        if (c == '"') {
            j->s++;
            return 1;
        }
        if (c < 0x20) {
            return 0;
        }
        if (c == '\\') {
            if (j->end - j->s < 2) {
                return 0;
            }
            c = j->s[1];
            if (c == 'u') {
                if (j->end - j->s < 6) {
                    return 0;
                }
                for (i = 2; i < 6; i++) {
                    if (!strchr("0123456789abcdefABCDEF", j->s[i]) || !j->s[i]) {
                        return 0;
                    }
                }
                j->s += 6;
            }
            else if (c && strchr("\"\\/bfnrt", c)) {
                j->s += 2;
            }
            else {
                return 0;
            }
            continue;
        }
        if (c < 0x80) {
            j->s++;
            continue;
        }
        n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
            : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (n == 0 || j->end - j->s < n) {
            return 0;
        }
        for (i = 1; i < n; i++) {
            if ((j->s[i] & 0xc0) != 0x80) {
                return 0;
            }
        }
        if ((c == 0xe0 && j->s[1] < 0xa0) || (c == 0xed && j->s[1] >= 0xa0)
            || (c == 0xf0 && j->s[1] < 0x90) || (c == 0xf4 && j->s[1] >= 0x90)) {
            return 0;
        }
        j->s += n;
    }
    return 0;
}

static int sb_fuzz_json_digits(sb_fuzz_json_t *j)
{
    const unsigned char *a = j->s;

    while (j->s < j->end && *j->s >= '0' && *j->s <= '9') {
        j->s++;
    }
    return j->s > a;
}

static int sb_fuzz_json_number(sb_fuzz_json_t *j)
{
    if (j->s < j->end && *j->s == '-') {
        j->s++;
    }
    if (j->s < j->end && *j->s == '0') {
        j->s++;
    }
    else if (!sb_fuzz_json_digits(j)) {
        return 0;
    }
    if (j->s < j->end && *j->s == '.') {
        j->s++;
        if (!sb_fuzz_json_digits(j)) {
            return 0;
        }
    }
    if (j->s < j->end && (*j->s == 'e' || *j->s == 'E')) {
        j->s++;
        if (j->s < j->end && (*j->s == '+' || *j->s == '-')) {
            j->s++;
        }
        if (!sb_fuzz_json_digits(j)) {
            return 0;
        }
    }
    return 1;
}

static int sb_fuzz_json_container(sb_fuzz_json_t *j, char close, int object)
{
    j->s++;
    if (++j->depth > 64) {
        return 0;
    }
    sb_fuzz_json_ws(j);
    if (j->s < j->end && *j->s == close) {
        j->s++;
        j->depth--;
        return 1;
    }
    for (;;) {
        sb_fuzz_json_ws(j);
        if (object) {
            if (!sb_fuzz_json_string(j)) {
                return 0;
            }
            sb_fuzz_json_ws(j);
            if (j->s >= j->end || *j->s != ':') {
                return 0;
            }
            j->s++;
        }
        if (!sb_fuzz_json_value(j)) {
            return 0;
        }
        sb_fuzz_json_ws(j);
        if (j->s < j->end && *j->s == ',') {
            j->s++;
            continue;
        }
        if (j->s < j->end && *j->s == close) {
            j->s++;
            j->depth--;
            return 1;
        }
        return 0;
    }
}

static int sb_fuzz_json_value(sb_fuzz_json_t *j)
{
    sb_fuzz_json_ws(j);
    if (j->s >= j->end) {
        return 0;
    }
    switch (*j->s) {
    case '{':
        return sb_fuzz_json_container(j, '}', 1);
    case '[':
        return sb_fuzz_json_container(j, ']', 0);
    case '"':
        return sb_fuzz_json_string(j);
    case 't':
        return sb_fuzz_json_lit(j, "true");
    case 'f':
        return sb_fuzz_json_lit(j, "false");
    case 'n':
        return sb_fuzz_json_lit(j, "null");
    default:
        return sb_fuzz_json_number(j);
    }
}

/* Whether text[len] is exactly one JSON value; *at gets where it failed. */
static int sb_fuzz_json_valid(const char *text, size_t len, size_t *at)
{
    sb_fuzz_json_t j;
    int ok;

    j.s = (const unsigned char *)text;
    j.end = j.s + len;
    j.depth = 0;
    ok = sb_fuzz_json_value(&j);
    sb_fuzz_json_ws(&j);
    ok = ok && j.s == j.end;
    *at = (size_t)(j.s - (const unsigned char *)text);
    return ok;
}

#ifdef SB_FUZZ_SAMPLE
#include "sb_json.h"
#include "sb_sample.h"

/* The sample as sbagent writes it (every field, private ones too) is one
 * valid JSON value, whatever the input put in its strings. */
static void sb_fuzz_check_sample_json(const sb_sample_t *s, apr_pool_t *p)
{
    sb_json_t *j = sb_json_create(p);
    apr_size_t len;
    size_t at;
    const char *t;

    sb_json_sample(j, NULL, s, SB_JSON_WORKERS | SB_JSON_PRIVATE);
    t = sb_json_text(j, &len);
    SB_FUZZ_ASSERT(sb_fuzz_json_valid(t, len, &at), "invalid JSON at byte %zu of %zu: "
                   "...%.40s", at, (size_t)len, t + (at > 20 ? at - 20 : 0));
}
#endif

#endif
