/* Unit tests of the slot table and the sample counting rules. */
#include <check.h>
#include "sb_unit.h"
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "sb_sample.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

START_TEST(table_is_indexed_by_state_and_chars_round_trip)
{
    const char *all = "._SRWKLDCGI";
    int i;
    for (i = 0; i < SB_SLOT_NSTATES; i++) {
        ck_assert_int_eq(sb_slot_table[i].state, i);
        ck_assert_int_eq(sb_slot_from_char(sb_slot_table[i].ch), i);
    }
    for (i = 0; all[i]; i++) {
        ck_assert_int_ge(sb_slot_from_char(all[i]), 0);
    }
    ck_assert_int_eq(sb_slot_from_char('x'), -1);
    ck_assert_int_eq(sb_slot_from_char(' '), -1);
    ck_assert_int_eq(sb_slot_from_char('\0'), -1);
}
END_TEST

START_TEST(busy_follows_mod_status)
{
    /* mod_status: busy = not ready, dead, starting, idle-kill, graceful */
    ck_assert_int_eq(sb_slot_table[SB_SLOT_KEEPALIVE].busy, 1);
    ck_assert_int_eq(sb_slot_table[SB_SLOT_CLOSING].busy, 1);
    ck_assert_int_eq(sb_slot_table[SB_SLOT_READY].busy, 0);
    ck_assert_int_eq(sb_slot_table[SB_SLOT_STARTING].busy, 0);
    ck_assert_int_eq(sb_slot_table[SB_SLOT_IDLE_KILL].busy, 0);
    ck_assert_int_eq(sb_slot_table[SB_SLOT_GRACEFUL].busy, 0);
}
END_TEST

START_TEST(count_without_processes_uses_every_slot)
{
    const char *sb = "_WK.RG_C";
    sb_sample_t *s = sb_sample_create(pool);
    int i;

    sb_sample_alloc(s, pool, (int)strlen(sb), 0);
    for (i = 0; sb[i]; i++) {
        s->workers[i].state = (sb_slot_state_t)sb_slot_from_char(sb[i]);
    }
    sb_sample_count(s);
    ck_assert_uint_eq(s->slots[SB_SLOT_READY], 2);
    ck_assert_uint_eq(s->busy, 4);
    ck_assert_uint_eq(s->idle, 2);
    ck_assert_uint_eq(s->graceful_busy, 1);
    ck_assert_uint_eq(s->slots[SB_SLOT_DEAD], 1);
}
END_TEST

START_TEST(unknown_fields_start_unknown)
{
    sb_sample_t *s = sb_sample_create(pool);
    ck_assert_int_eq(s->server.max_workers, SB_UNKNOWN);
    ck_assert_int_eq(s->server.server_limit, SB_UNKNOWN);
    ck_assert_int_eq(s->async.conns_total, SB_UNKNOWN);
    ck_assert_int_eq(s->extended_status, SB_UNKNOWN);
    ck_assert_str_eq(sb_source_name(SB_SOURCE_SHM), "shm");
    ck_assert_str_eq(sb_source_name(SB_SOURCE_STATUS), "status");
}
END_TEST

START_TEST(old_generation_ready_slots_are_not_idle)
{
    sb_sample_t *s = sb_sample_create(pool);
    s->server.thread_limit = 2;
    s->server.generation = 5;
    sb_sample_alloc(s, pool, 4, 2);
    s->procs[0].pid = 100;
    s->procs[0].generation = 5;
    s->procs[1].pid = 101;
    s->procs[1].generation = 4;
    s->workers[0].state = SB_SLOT_READY;
    s->workers[1].state = SB_SLOT_WRITE;
    s->workers[1].proc = 0;
    s->workers[2].state = SB_SLOT_READY;
    s->workers[2].proc = 1;
    s->workers[3].state = SB_SLOT_WRITE;
    s->workers[3].proc = 1;
    sb_sample_count(s);
    ck_assert_uint_eq(s->idle, 1);
    ck_assert_uint_eq(s->busy, 2);
}
END_TEST

START_TEST(mpm_names_parse_back)
{
    sb_mpm_t m;
    int i;

    for (i = SB_MPM_PREFORK; i <= SB_MPM_EVENT; i++) {
        ck_assert_int_eq(sb_mpm_parse(sb_mpm_name((sb_mpm_t)i), &m), 0);
        ck_assert_int_eq(m, i);
    }
    ck_assert_int_eq(sb_mpm_parse("mpm_event", &m), 0);
    ck_assert_int_eq(m, SB_MPM_EVENT);
    ck_assert_int_eq(sb_mpm_parse("Worker", &m), 0);
    ck_assert_int_eq(m, SB_MPM_WORKER);
    ck_assert_int_eq(sb_mpm_parse("prefork.c", &m), 0);
    ck_assert_int_eq(m, SB_MPM_PREFORK);
    ck_assert_int_eq(sb_mpm_parse("", &m), -1);
    ck_assert_int_eq(m, SB_MPM_UNKNOWN);
    ck_assert_int_eq(sb_mpm_parse("eventually", &m), -1);
    ck_assert_int_eq(sb_mpm_parse("prefork.so", &m), -1);
    ck_assert_int_eq(sb_mpm_parse(NULL, &m), -1);
    ck_assert_str_eq(sb_mpm_name(SB_MPM_UNKNOWN), "unknown");
    ck_assert(sb_mpm_slot_holds_keepalive(SB_MPM_PREFORK));
    ck_assert(sb_mpm_slot_holds_keepalive(SB_MPM_WORKER));
    ck_assert(!sb_mpm_slot_holds_keepalive(SB_MPM_EVENT));
    ck_assert(!sb_mpm_slot_holds_keepalive(SB_MPM_UNKNOWN));
}
END_TEST

START_TEST(copy_is_deep)
{
    sb_sample_t *s = sb_sample_create(pool), *c;

    sb_sample_alloc(s, pool, 4, 2);
    s->workers[3].state = SB_SLOT_WRITE;
    apr_cpystrn(s->workers[3].client, "192.0.2.7", sizeof(s->workers[3].client));
    s->procs[1].pid = 4242;
    c = sb_sample_copy(s, pool);
    ck_assert_ptr_ne(c->workers, s->workers);
    ck_assert_ptr_ne(c->procs, s->procs);
    ck_assert_int_eq(c->nworkers, 4);
    ck_assert_int_eq(c->workers[3].state, SB_SLOT_WRITE);
    ck_assert_str_eq(c->workers[3].client, "192.0.2.7");
    ck_assert_int_eq(c->procs[1].pid, 4242);
    s->workers[3].state = SB_SLOT_READY;
    ck_assert_int_eq(c->workers[3].state, SB_SLOT_WRITE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("slot_sample");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, table_is_indexed_by_state_and_chars_round_trip);
    tcase_add_test(tc, busy_follows_mod_status);
    tcase_add_test(tc, count_without_processes_uses_every_slot);
    tcase_add_test(tc, unknown_fields_start_unknown);
    tcase_add_test(tc, old_generation_ready_slots_are_not_idle);
    tcase_add_test(tc, mpm_names_parse_back);
    tcase_add_test(tc, copy_is_deep);
    suite_add_tcase(s, tc);
    return sb_unit_run(s);
}
