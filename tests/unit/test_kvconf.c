#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "newswatch/kvconf.h"
#include "newswatch/topics.h"
#include "testutil.h"

static void sections_keys_and_comments(void **state)
{
    (void)state;
    const char *text = "# comment\n"
                       "bootstrap.servers = 127.0.0.1:9092\n"
                       "\n"
                       "  [producer]  \n"
                       "source=wire # not a comment: values may contain '#'\n"
                       "empty =\n"
                       "[topics]\r\n"
                       "raw = my.raw\r\n"
                       "[kafka]\n"
                       "sasl.password = p=ss\n";
    nw_kvconf *c;
    char err[256];
    assert_int_equal(nw_kvconf_new("x.conf", text, strlen(text), &c, err, sizeof err), NW_OK);
    assert_int_equal(nw_kvconf_count(c), 5);
    const nw_kvconf_entry *e = nw_kvconf_at(c, 0);
    assert_string_equal(e->section, "kafka");
    assert_string_equal(e->key, "bootstrap.servers");
    assert_string_equal(e->value, "127.0.0.1:9092");
    assert_int_equal(e->line, 2);
    assert_string_equal(e->file, "x.conf");
    e = nw_kvconf_at(c, 1);
    assert_string_equal(e->section, "producer");
    assert_string_equal(e->value, "wire # not a comment: values may contain '#'");
    e = nw_kvconf_at(c, 2);
    assert_string_equal(e->key, "empty");
    assert_string_equal(e->value, "");
    e = nw_kvconf_at(c, 3);
    assert_string_equal(e->section, "topics");
    assert_string_equal(e->value, "my.raw");
    assert_int_equal(e->line, 8);
    e = nw_kvconf_at(c, 4);
    assert_string_equal(e->section, "kafka");
    assert_string_equal(e->value, "p=ss");
    assert_null(nw_kvconf_at(c, 5));
    nw_kvconf_free(c);
    nw_kvconf_free(NULL);
}

static void errors_name_file_and_line(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"a = 1\njust words\n", "f.conf:2: expected 'key = value', found 'just words'"},
        {"\n\n= value\n", "f.conf:3: the key before '=' is empty"},
        {"[topics\n", "f.conf:1: a section header must look like [name]"},
        {"[]\n", "f.conf:1: '' is not a valid section name"},
        {"[a b]\n", "f.conf:1: 'a b' is not a valid section name"},
        {"bad key = 1\n", "f.conf:1: 'bad key' is not a valid key"},
        {"k = \xC3\x28\n", "f.conf:1: invalid UTF-8 at column 5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nw_kvconf *c = (nw_kvconf *)1;
        char err[256] = "";
        nw_err e =
            nw_kvconf_new("f.conf", cases[i].text, strlen(cases[i].text), &c, err, sizeof err);
        if (e != NW_ECONFIG || strstr(err, cases[i].msg) != err)
            fail_msg("'%s': got '%s', expected '%s'", cases[i].text, err, cases[i].msg);
        assert_null(c);
    }
}

static void from_file_and_missing_file(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    tu_write_str(dir, "n.conf", "[producer]\nsource = x\n");
    char path[512];
    snprintf(path, sizeof path, "%s/n.conf", dir);
    nw_kvconf *c;
    char err[600];
    assert_int_equal(nw_kvconf_new_from_file(path, &c, err, sizeof err), NW_OK);
    assert_string_equal(nw_kvconf_at(c, 0)->file, path);
    nw_kvconf_free(c);
    snprintf(path, sizeof path, "%s/missing.conf", dir);
    assert_int_equal(nw_kvconf_new_from_file(path, &c, err, sizeof err), NW_EIO);
    assert_non_null(strstr(err, "missing.conf: cannot open: No such file or directory"));
    tu_rmtree(dir);
    free(dir);
}

static void split_command_line_properties(void **state)
{
    (void)state;
    char *k, *v, err[256];
    assert_int_equal(nw_kvconf_split("acks=all", &k, &v, err, sizeof err), NW_OK);
    assert_string_equal(k, "acks");
    assert_string_equal(v, "all");
    free(k);
    free(v);
    assert_int_equal(nw_kvconf_split("sasl.password=a=b", &k, &v, err, sizeof err), NW_OK);
    assert_string_equal(v, "a=b");
    free(k);
    free(v);
    assert_int_equal(nw_kvconf_split("k=", &k, &v, err, sizeof err), NW_OK);
    assert_string_equal(v, "");
    free(k);
    free(v);
    assert_int_equal(nw_kvconf_split("novalue", &k, &v, err, sizeof err), NW_EINVAL);
    assert_int_equal(nw_kvconf_split("=x", &k, &v, err, sizeof err), NW_EINVAL);
}

static void topics_defaults_and_overrides(void **state)
{
    (void)state;
    nw_topics t;
    nw_topics_init(&t);
    assert_string_equal(t.name[NW_TOPIC_RAW], "news.raw");
    assert_string_equal(t.name[NW_TOPIC_ENRICHED], "news.enriched");
    assert_string_equal(t.name[NW_TOPIC_MATCHES], "news.matches");
    assert_string_equal(t.name[NW_TOPIC_ALERTS], "news.alerts");
    assert_string_equal(t.name[NW_TOPIC_ALERT_STATE], "news.alert-state");
    assert_string_equal(t.name[NW_TOPIC_DLQ], "news.dlq");

    const char *text = "[topics]\nraw = feed.in\nalert-state = state_1\n";
    nw_kvconf *c;
    char err[256];
    assert_int_equal(nw_kvconf_new("t.conf", text, strlen(text), &c, err, sizeof err), NW_OK);
    assert_int_equal(nw_topics_configure(&t, c, err, sizeof err), NW_OK);
    assert_string_equal(t.name[NW_TOPIC_RAW], "feed.in");
    assert_string_equal(t.name[NW_TOPIC_ALERT_STATE], "state_1");
    assert_string_equal(t.name[NW_TOPIC_DLQ], "news.dlq");
    nw_kvconf_free(c);

    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"[topics]\nraws = x\n", "t.conf:2: unknown key 'raws' in [topics]"},
        {"[topics]\n\nraw = has space\n", "t.conf:3: 'has space' is not a valid topic name"},
        {"[topics]\nraw =\n", "t.conf:2: a topic name has 1 to 249 characters"},
        {"[topics]\ndlq = ..\n", "t.conf:2: '..' is not a valid topic name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(
            nw_kvconf_new("t.conf", bad[i].text, strlen(bad[i].text), &c, err, sizeof err), NW_OK);
        assert_int_equal(nw_topics_configure(&t, c, err, sizeof err), NW_ECONFIG);
        if (strstr(err, bad[i].msg) != err)
            fail_msg("got '%s', expected '%s'", err, bad[i].msg);
        nw_kvconf_free(c);
    }
    char longname[300];
    memset(longname, 'x', 250);
    longname[250] = '\0';
    assert_int_equal(nw_topics_check_name(longname, err, sizeof err), NW_EINVAL);
    longname[249] = '\0';
    assert_int_equal(nw_topics_check_name(longname, err, sizeof err), NW_OK);
}

/* Numbers in configuration values and options: digits only, within bounds. */
static void whole_numbers_are_parsed_strictly(void **state)
{
    (void)state;
    long v = 0;
    assert_true(nw_parse_long("5", 1, 10, &v));
    assert_int_equal(v, 5);
    assert_true(nw_parse_long("010", 1, 10, &v));
    assert_int_equal(v, 10);
    assert_true(nw_parse_long("-3", -5, 5, &v));
    assert_int_equal(v, -3);
    assert_true(nw_parse_long("1073741824", 1, 1L << 30, &v));
    static const char *const bad[] = {"",     "-",   " 5", "5 ", "+5", "5x",
                                      "0x10", "3.5", "11", "0",  "-3", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 42;
        if (nw_parse_long(bad[i], 1, 10, &v))
            fail_msg("'%s' was taken as a number from 1 to 10", bad[i]);
        assert_int_equal(v, 42); /* untouched */
    }
    assert_false(nw_parse_long("1073741825", 1, 1L << 30, &v));
}

static void environment_variables_expand(void **state)
{
    (void)state;
    setenv("NW_TEST_PASSWORD", "s3cr$t", 1);
    setenv("NW_TEST_EMPTY", "", 1);
    unsetenv("NW_TEST_UNSET");
    const char *text = "sasl.password = ${NW_TEST_PASSWORD}\n"
                       "[sinks]\n"
                       "webhook.header = Authorization: Bearer ${NW_TEST_PASSWORD}!\n"
                       "alertmanager.url = ${NW_TEST_UNSET:-http://127.0.0.1:9093}\n"
                       "generator.url = ${NW_TEST_EMPTY:-fallback}\n"
                       "webhook.url = cost $$5 and $HOME stays\n"
                       "rule = a\n"
                       "  ${NW_TEST_PASSWORD}\n";
    nw_kvconf *c;
    char err[512];
    assert_int_equal(nw_kvconf_new("e.conf", text, strlen(text), &c, err, sizeof err), NW_OK);
    assert_string_equal(nw_kvconf_at(c, 0)->value, "s3cr$t"); /* not expanded again */
    assert_string_equal(nw_kvconf_at(c, 1)->value, "Authorization: Bearer s3cr$t!");
    assert_string_equal(nw_kvconf_at(c, 2)->value, "http://127.0.0.1:9093");
    assert_string_equal(nw_kvconf_at(c, 3)->value, "fallback");
    assert_string_equal(nw_kvconf_at(c, 4)->value, "cost $5 and $HOME stays");
    assert_string_equal(nw_kvconf_at(c, 5)->value, "a s3cr$t"); /* a continued value too */
    nw_kvconf_free(c);

    const char *unset = "[sinks]\n\nwebhook.url = https://x/${NW_TEST_UNSET}\n";
    assert_int_equal(nw_kvconf_new("e.conf", unset, strlen(unset), &c, err, sizeof err),
                     NW_ECONFIG);
    assert_non_null(strstr(err, "e.conf:3:"));
    assert_non_null(strstr(err, "NW_TEST_UNSET"));
    assert_non_null(strstr(err, "webhook.url"));
    const char *open = "x = ${NW_TEST_PASSWORD\n";
    assert_int_equal(nw_kvconf_new("e.conf", open, strlen(open), &c, err, sizeof err), NW_ECONFIG);
    assert_non_null(strstr(err, "e.conf:1:"));
    const char *badname = "x = ${NW-TEST}\n";
    assert_int_equal(nw_kvconf_new("e.conf", badname, strlen(badname), &c, err, sizeof err),
                     NW_ECONFIG);
    assert_non_null(strstr(err, "NW-TEST"));
}

static void unknown_sections_and_suggestions(void **state)
{
    (void)state;
    const char *const known[] = {"kafka", "topics", "consumer", "sinks", NULL};
    assert_string_equal(nw_kvconf_suggest("sink", known), "sinks");
    assert_string_equal(nw_kvconf_suggest("consumr", known), "consumer");
    assert_string_equal(nw_kvconf_suggest("Topics", known), "topics");
    assert_null(nw_kvconf_suggest("pipeline", known)); /* nothing close */
    assert_null(nw_kvconf_suggest("x", known));
    char buf[64];
    assert_string_equal(nw_kvconf_did_you_mean("kafak", known, buf, sizeof buf),
                        " (did you mean 'kafka'?)");
    assert_string_equal(nw_kvconf_did_you_mean("zzzzzz", known, buf, sizeof buf), "");

    const char *text = "a = 1\n[topics]\nraw = r\n[sink]\nstdout = true\n";
    nw_kvconf *c;
    char err[512];
    assert_int_equal(nw_kvconf_new("s.conf", text, strlen(text), &c, err, sizeof err), NW_OK);
    assert_int_equal(nw_kvconf_check_sections(c, known, err, sizeof err), NW_ECONFIG);
    assert_non_null(strstr(err, "s.conf:5: unknown section [sink] (did you mean [sinks]?)"));
    nw_kvconf_free(c);
    const char *fine = "a = 1\n[topics]\nx = 1\n[sinks]\nx = 1\n";
    assert_int_equal(nw_kvconf_new("s.conf", fine, strlen(fine), &c, err, sizeof err), NW_OK);
    assert_int_equal(nw_kvconf_check_sections(c, known, err, sizeof err), NW_OK);
    nw_kvconf_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sections_keys_and_comments),
        cmocka_unit_test(errors_name_file_and_line),
        cmocka_unit_test(from_file_and_missing_file),
        cmocka_unit_test(split_command_line_properties),
        cmocka_unit_test(topics_defaults_and_overrides),
        cmocka_unit_test(whole_numbers_are_parsed_strictly),
        cmocka_unit_test(environment_variables_expand),
        cmocka_unit_test(unknown_sections_and_suggestions),
    };
    return cmocka_run_group_tests_name("kvconf", tests, NULL, NULL);
}
