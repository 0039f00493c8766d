/*
 * newswatch-consumer --replay and --check-config: the whole text pipeline on
 * local files, no broker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

static void replay_the_seeds(void **state)
{
    (void)state;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' --replay --emit enriched '%s'", it_bin("newswatch-consumer"),
             it_seeds_dir());
    it_result r;
    it_run(cmd, NULL, &r);
    if (r.status != 0)
        fail_msg("exit %d: %s", r.status, r.err);
    assert_non_null(strstr(r.err, "replayed 5 documents, 0 failed"));
    json_t *docs = it_json_lines(r.out, r.outlen);
    assert_int_equal(json_array_size(docs), 5);
    static const char *const ids[] = {"000_c7189a82eabcfedc", "001_36b4ca6c38791fab",
                                      "002_cf9858d6c968c6dd", "003_36327a287adc8b89",
                                      "004_6be975f03497fb3e"};
    for (size_t i = 0; i < 5; i++) {
        json_t *d = json_array_get(docs, i);
        assert_string_equal(json_string_value(json_object_get(d, "schema")),
                            "newswatch.enriched/2");
        assert_string_equal(json_string_value(json_object_get(d, "id")), ids[i]);
        assert_string_equal(json_string_value(json_object_get(d, "lang")), "ar");
        assert_true(json_array_size(json_object_get(d, "entities")) > 5);
        assert_true(json_array_size(json_object_get(d, "sentences")) > 5);
    }
    json_t *c = json_object_get(json_array_get(docs, 3), "casualties");
    assert_int_equal(json_integer_value(json_object_get(c, "killed")), 32);
    assert_int_equal(json_integer_value(json_object_get(c, "wounded")), 110);
    json_decref(docs);
    it_result_free(&r);
}

static void a_bad_document_does_not_stop_the_others(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    tu_write(dir, "a.txt", "بغداد\nتفجير في بغداد", strlen("بغداد\nتفجير في بغداد"));
    tu_write(dir, "b.txt", "bad \xFF byte", 10);
    const char *feed = "{\"id\":\"j1\",\"body\":\"Rockets hit Baghdad airport\"}\nnot json\n";
    tu_write(dir, "c.jsonl", feed, strlen(feed));
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' --replay '%s'", it_bin("newswatch-consumer"), dir);
    it_result r;
    it_run(cmd, NULL, &r);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "b.txt: invalid UTF-8 at byte offset 4"));
    assert_non_null(strstr(r.err, "c.jsonl:2: not valid JSON"));
    assert_non_null(strstr(r.err, "replayed 2 documents, 2 failed"));
    json_t *docs = it_json_lines(r.out, r.outlen);
    assert_int_equal(json_array_size(docs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(docs, 1), "lang")), "en");
    json_decref(docs);
    it_result_free(&r);

    /* Standard input. */
    char in[4200];
    snprintf(in, sizeof in, "%s/c.jsonl", dir);
    snprintf(cmd, sizeof cmd, "'%s' -q --replay -", it_bin("newswatch-consumer"));
    it_run(cmd, in, &r);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "stdin:2: not valid JSON"));
    docs = it_json_lines(r.out, r.outlen);
    assert_int_equal(json_array_size(docs), 1);
    json_decref(docs);
    it_result_free(&r);
    tu_rmtree(dir);
    free(dir);
}

static void configuration_errors(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    const char *gaz = "loc.x | LOC | X | س |\nloc.y | PLACE | Y | ص |\n";
    tu_write(dir, "g.txt", gaz, strlen(gaz));
    const char *conf = "[pipeline]\nfurniture = config/furniture.conf\nbogus = 1\n";
    tu_write(dir, "n.conf", conf, strlen(conf));
    char cmd[4096];
    it_result r;
    snprintf(cmd, sizeof cmd, "'%s' --check-config --gazetteer '%s/g.txt'",
             it_bin("newswatch-consumer"), dir);
    it_run(cmd, NULL, &r);
    assert_int_equal(r.status, 2);
    if (strstr(r.err, "g.txt:2: unknown type 'PLACE'") == NULL)
        fail_msg("unclear: %s", r.err);
    it_result_free(&r);

    snprintf(cmd, sizeof cmd, "'%s' --check-config -c '%s/n.conf'", it_bin("newswatch-consumer"),
             dir);
    it_run(cmd, NULL, &r);
    assert_int_equal(r.status, 2);
    if (strstr(r.err, "n.conf:3: unknown key 'bogus' in [pipeline]") == NULL)
        fail_msg("unclear: %s", r.err);
    it_result_free(&r);

    snprintf(cmd, sizeof cmd, "'%s' --check-config", it_bin("newswatch-consumer"));
    it_run(cmd, NULL, &r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "configuration OK"));
    it_result_free(&r);

    /* What the daemon would otherwise ignore, or fail on only at start (issue 14). */
    static const struct {
        const char *conf, *args, *says;
    } wrong[] = {
        {"[sink]\nstdout = true\n", "",
         "n2.conf:2: unknown section [sink] (did you mean [sinks]?)"},
        {"[consumr]\nbatch.ms = 5\n", "", "unknown section [consumr] (did you mean [consumer]?)"},
        {"# librdkafka's\nbootstrap.server = 127.0.0.1:9092\n", "",
         "n2.conf:2: No such configuration property: \"bootstrap.server\""},
        {"[sinks]\nalertmanger.url = http://127.0.0.1:9093\n", "",
         "unknown key 'alertmanger.url' in [sinks] (did you mean 'alertmanager.url'?)"},
        {"[sinks]\nwebhook.url = ${NW_TEST_SURELY_UNSET}\n", "", "NW_TEST_SURELY_UNSET"},
        {"[log]\nformat = xml\n", "", "n2.conf:2: [log] format must be one of text|json"},
        {"", "-X no.such.property=1", "-X no.such.property=1: No such configuration property"},
    };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        tu_write(dir, "n2.conf", wrong[i].conf, strlen(wrong[i].conf));
        snprintf(cmd, sizeof cmd, "'%s' --check-config -c '%s/n2.conf' %s",
                 it_bin("newswatch-consumer"), dir, wrong[i].args);
        it_run(cmd, NULL, &r);
        if (r.status != 2 || strstr(r.err, wrong[i].says) == NULL)
            fail_msg("case %zu: status %d, '%s' (expected '%s')", i, r.status, r.err,
                     wrong[i].says);
        it_result_free(&r);
    }

    snprintf(cmd, sizeof cmd, "'%s' --replay --emit bogus x", it_bin("newswatch-consumer"));
    it_run(cmd, NULL, &r);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--emit 'bogus'"));
    it_result_free(&r);
    tu_rmtree(dir);
    free(dir);
}

static void the_whole_chain_on_the_seeds(void **state)
{
    (void)state;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' -q --replay --emit enriched,matches,alerts '%s'",
             it_bin("newswatch-consumer"), it_seeds_dir());
    it_result r;
    it_run(cmd, NULL, &r);
    if (r.status != 0)
        fail_msg("exit %d: %s", r.status, r.err);
    json_t *out = it_json_lines(r.out, r.outlen);
    /* Per document: enriched, then its matches, then its alerts. */
    const char *expect[] = {
        "enriched:000",     "match:000",    "alert:000:new", "enriched:001", "match:001",
        "alert:001:update", "enriched:002", "enriched:003",  "match:003",    "alert:003:update",
        "enriched:004",     "match:004",    "alert:004:new",
    };
    /* 002 dates the bombing "أمس الخميس" against a page read today: another incident, so
     * it is listed in "mentions", not "matches". */
    size_t n = json_array_size(out);
    if (n != sizeof expect / sizeof expect[0])
        fail_msg("%zu lines, expected %zu", n, sizeof expect / sizeof expect[0]);
    int news = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(out, i);
        const char *schema = json_string_value(json_object_get(v, "schema"));
        char got[64];
        if (strcmp(schema, "newswatch.enriched/2") == 0) {
            const char *id = json_string_value(json_object_get(v, "id"));
            snprintf(got, sizeof got, "enriched:%.3s", id);
            assert_int_equal(json_array_size(json_object_get(v, "matches")),
                             strncmp(id, "002", 3) == 0 ? 0 : 1);
        } else if (strcmp(schema, "newswatch.match/2") == 0) {
            snprintf(got, sizeof got, "match:%.3s",
                     json_string_value(json_object_get(v, "doc_id")));
        } else {
            assert_string_equal(schema, "newswatch.alert/2");
            const char *status = json_string_value(json_object_get(v, "status"));
            news += strcmp(status, "new") == 0;
            snprintf(got, sizeof got, "alert:%.3s:%s",
                     json_string_value(json_object_get(v, "doc_id")), status);
        }
        if (strcmp(got, expect[i]) != 0)
            fail_msg("line %zu: %s, expected %s", i, got, expect[i]);
    }
    assert_int_equal(news, 2);
    /* Alert ids name the incident: the bombing's anchor day, and for the airport the day
     * 004 states ("ليلة أمس") against the time it was read. */
    json_t *b = json_array_get(out, 2), *a = json_array_get(out, 12);
    assert_string_equal(json_string_value(json_object_get(b, "alert_id")),
                        "baghdad-bombing:2021-01-21:1");
    const char *incident = json_string_value(json_object_get(a, "incident"));
    char want[128];
    snprintf(want, sizeof want, "baghdad-airport-rockets:%s:1", incident);
    assert_string_equal(json_string_value(json_object_get(a, "alert_id")), want);
    assert_string_equal(json_string_value(json_object_get(a, "event")), "baghdad-airport-rockets");
    /* Seed 004's "مقتل 18 شخصاً" is another attack's toll: not the airport's. */
    assert_true(json_is_null(json_object_get(a, "casualties")));
    json_decref(out);
    it_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(replay_the_seeds),
        cmocka_unit_test(a_bad_document_does_not_stop_the_others),
        cmocka_unit_test(configuration_errors),
        cmocka_unit_test(the_whole_chain_on_the_seeds),
    };
    return cmocka_run_group_tests_name("replay", tests, NULL, NULL);
}
