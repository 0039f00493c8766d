/* The configuration table (newswatch/conftable.h): every key, its type, bounds and suggestions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/conftable.h"
#include "newswatch/kvconf.h"
#include "testutil.h"

static nw_err check(const char *text, char *err, size_t errlen)
{
    nw_kvconf *c = NULL;
    nw_err e = nw_kvconf_new("t.conf", text, strlen(text), &c, err, errlen);
    if (e == NW_OK)
        e = nw_conftable_check(c, err, errlen);
    nw_kvconf_free(c);
    return e;
}

/* Every key at its default is accepted; so is config/newswatch.conf, which names them all. */
static void every_default_passes(void **state)
{
    (void)state;
    char err[512];
    for (size_t i = 0; i < nw_conftable_count(); i++) {
        const nw_conf_key *k = nw_conftable_at(i);
        assert_non_null(k->doc);
        assert_true(strcmp(k->used_by, "consumer") == 0 || strcmp(k->used_by, "producer") == 0 ||
                    strcmp(k->used_by, "both") == 0);
        if (k->type == NW_CONF_KAFKA || k->def[0] == '\0')
            continue;
        char text[512];
        snprintf(text, sizeof text, "[%s]\n%s = %s\n", k->section, k->key, k->def);
        if (check(text, err, sizeof err) != NW_OK)
            fail_msg("[%s] %s = %s: %s", k->section, k->key, k->def, err);
        assert_ptr_equal(nw_conftable_find(k->section, k->key), k);
    }
    size_t len;
    char *example = tu_read("config/newswatch.conf", &len);
    assert_non_null(example);
    nw_kvconf *c = NULL;
    assert_int_equal(nw_kvconf_new("config/newswatch.conf", example, len, &c, err, sizeof err),
                     NW_OK);
    if (nw_conftable_check(c, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    nw_kvconf_free(c);
    free(example);
}

static void numbers_keep_their_bounds(void **state)
{
    (void)state;
    char err[512];
    for (size_t i = 0; i < nw_conftable_count(); i++) {
        const nw_conf_key *k = nw_conftable_at(i);
        if (k->type != NW_CONF_INT)
            continue;
        char text[512];
        snprintf(text, sizeof text, "[%s]\n%s = %ld\n%s = %ld\n", k->section, k->key, k->min,
                 k->key, k->max);
        assert_int_equal(check(text, err, sizeof err), NW_OK);
        snprintf(text, sizeof text, "# x\n[%s]\n%s = %ld\n", k->section, k->key, k->max + 1);
        assert_int_equal(check(text, err, sizeof err), NW_ECONFIG);
        assert_non_null(strstr(err, "t.conf:3: "));
        assert_non_null(strstr(err, "whole number"));
        if (k->min > 0) {
            snprintf(text, sizeof text, "[%s]\n%s = %ld\n", k->section, k->key, k->min - 1);
            assert_int_equal(check(text, err, sizeof err), NW_ECONFIG);
        }
    }
}

static void wrong_values_and_names_are_named(void **state)
{
    (void)state;
    char err[512];
    static const char *const bad[][2] = {
        {"[sinks]\nstdout = yes\n", "t.conf:2: [sinks] stdout must be true or false"},
        {"[log]\nformat = xml\n", "must be one of text|json"},
        {"[consumer]\nprocessing.guarantee = exactly-once\n", "exactly_once|at_least_once"},
        {"[topics]\nraw = news raw\n", "t.conf:2: [topics] raw"},
        {"[consumer]\nbatch.msg = 5\n", "unknown key 'batch.msg' in [consumer] (did you mean "
                                        "'batch.ms'?)"},
        {"[sinks]\nalertmanger.url = x\n", "did you mean 'alertmanager.url'?"},
        {"[sink]\nstdout = true\n", "unknown section [sink] (did you mean [sinks]?)"},
        {"[producer]\nsorce = x\n", "did you mean 'source'?"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (check(bad[i][0], err, sizeof err) != NW_ECONFIG || strstr(err, bad[i][1]) == NULL)
            fail_msg("'%s': '%s' lacks '%s'", bad[i][0], err, bad[i][1]);
    }
    /* [kafka] takes any key: librdkafka checks it (--check-config builds the clients' configs). */
    assert_int_equal(check("queue.buffering.max.ms = 5\n[kafka]\nacks = all\n", err, sizeof err),
                     NW_OK);
    assert_int_equal(check("", err, sizeof err), NW_OK);
    assert_int_equal(nw_conftable_check(NULL, err, sizeof err), NW_OK);
}

static void the_reference_lists_every_key(void **state)
{
    (void)state;
    char *md = nw_conftable_markdown();
    assert_non_null(md);
    for (size_t i = 0; i < nw_conftable_count(); i++) {
        const nw_conf_key *k = nw_conftable_at(i);
        char row[256], head[64];
        snprintf(row, sizeof row, "| `%s` |", k->key);
        snprintf(head, sizeof head, "#### [%s]", k->section);
        const char *h = strstr(md, head);
        assert_non_null(h);
        if (strstr(h, row) == NULL)
            fail_msg("no row for [%s] %s", k->section, k->key);
    }
    free(md);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_default_passes),
        cmocka_unit_test(numbers_keep_their_bounds),
        cmocka_unit_test(wrong_values_and_names_are_named),
        cmocka_unit_test(the_reference_lists_every_key),
    };
    return cmocka_run_group_tests_name("conftable", tests, NULL, NULL);
}
