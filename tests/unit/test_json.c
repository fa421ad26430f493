/* Unit tests of the JSON writer; the output is checked by parsing it back
 * with jq in the integration tests, here by exact text. */
#include <check.h>
#include "sb_unit.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include "sb_json.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

START_TEST(nesting_and_commas)
{
    sb_json_t *j = sb_json_create(pool);
    sb_json_object_begin(j, NULL);
    sb_json_int(j, "a", -1);
    sb_json_array_begin(j, "b");
    sb_json_uint(j, NULL, 18446744073709551615ULL);
    sb_json_bool(j, NULL, 1);
    sb_json_null(j, NULL);
    sb_json_object_begin(j, NULL);
    sb_json_object_end(j);
    sb_json_array_end(j);
    sb_json_double(j, "c", 0.5);
    sb_json_double(j, "d", NAN);
    sb_json_int_or_null(j, "e", SB_UNKNOWN);
    sb_json_time(j, "t", apr_time_make(12, 5));
    sb_json_object_end(j);
    ck_assert_str_eq(sb_json_text(j, NULL),
                     "{\"a\":-1,\"b\":[18446744073709551615,true,null,{}],"
                     "\"c\":0.5,\"d\":null,\"e\":null,\"t\":12.000005}");
}
END_TEST

START_TEST(strings_are_escaped_and_valid_utf8)
{
    sb_json_t *j = sb_json_create(pool);
    sb_json_array_begin(j, NULL);
    sb_json_string(j, NULL, "q\"b\\n\n\t\x01\x7f");
    sb_json_string(j, NULL, "caf\xc3\xa9 \xe2\x82\xac");
    sb_json_string(j, NULL, "bad \xff\xc3 \xed\xa0\x80 end");
    sb_json_string(j, NULL, NULL);
    sb_json_array_end(j);
    ck_assert_str_eq(sb_json_text(j, NULL),
                     "[\"q\\\"b\\\\n\\n\\t\\u0001\\u007f\","
                     "\"caf\xc3\xa9 \xe2\x82\xac\","
                     "\"bad \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd end\",null]");
}
END_TEST

START_TEST(buffer_grows)
{
    sb_json_t *j = sb_json_create(pool);
    apr_size_t len;
    int i;
    sb_json_array_begin(j, NULL);
    for (i = 0; i < 10000; i++) {
        sb_json_int(j, NULL, 7);
    }
    sb_json_array_end(j);
    sb_json_text(j, &len);
    ck_assert_uint_eq(len, 2 + 10000 + 9999);
    sb_json_reset(j);
    sb_json_int(j, NULL, 1);
    ck_assert_str_eq(sb_json_text(j, NULL), "1");
}
END_TEST

START_TEST(private_fields_only_on_request)
{
    sb_sample_t *s = sb_sample_create(pool);
    sb_json_t *j = sb_json_create(pool);

    sb_sample_alloc(s, pool, 1, 0);
    s->workers[0].state = SB_SLOT_WRITE;
    strcpy(s->workers[0].client, "192.0.2.7");
    strcpy(s->workers[0].request, "GET /secret HTTP/1.1");
    sb_sample_count(s);
    sb_json_sample(j, NULL, s, SB_JSON_WORKERS);
    ck_assert_ptr_null(strstr(sb_json_text(j, NULL), "192.0.2.7"));
    ck_assert_ptr_null(strstr(sb_json_text(j, NULL), "/secret"));
    ck_assert_ptr_nonnull(strstr(sb_json_text(j, NULL), "\"scoreboard\":\"W\""));
    sb_json_reset(j);
    sb_json_sample(j, NULL, s, SB_JSON_WORKERS | SB_JSON_PRIVATE);
    ck_assert_ptr_nonnull(strstr(sb_json_text(j, NULL), "\"client\":\"192.0.2.7\""));
    ck_assert_ptr_nonnull(strstr(sb_json_text(j, NULL), "GET /secret HTTP/1.1"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("json");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, nesting_and_commas);
    tcase_add_test(tc, strings_are_escaped_and_valid_utf8);
    tcase_add_test(tc, buffer_grows);
    tcase_add_test(tc, private_fields_only_on_request);
    suite_add_tcase(s, tc);
    return sb_unit_run(s);
}
