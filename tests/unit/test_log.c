/* The programs' log lines: levels, time stamps, text and JSON, hostile messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "newswatch/kvconf.h"
#include "newswatch/log.h"
#include "newswatch/utf8.h"
#include "testutil.h"

static const char *const when = "2021-01-21T07:30:00.123Z";

static void a_text_line_has_time_level_program_and_component(void **state)
{
    (void)state;
    char buf[512];
    nw_log_setup("newswatch-consumer", NW_LOG_TEXT, NW_LOG_INFO);
    size_t n = nw_log_format_line(buf, sizeof buf, when, NW_LOG_WARN, "kafka",
                                  "FAIL: 127.0.0.1:9092/bootstrap: Connect failed");
    assert_string_equal(buf, "2021-01-21T07:30:00.123Z WARN newswatch-consumer: kafka: FAIL: "
                             "127.0.0.1:9092/bootstrap: Connect failed\n");
    assert_int_equal(n, strlen(buf));
    nw_log_format_line(buf, sizeof buf, when, NW_LOG_INFO, NULL, "enrich: assigned 3 partition(s)");
    assert_string_equal(
        buf, "2021-01-21T07:30:00.123Z INFO newswatch-consumer: enrich: assigned 3 partition(s)\n");
}

static void a_text_line_is_one_line_whatever_the_message(void **state)
{
    (void)state;
    char buf[512];
    nw_log_setup("p", NW_LOG_TEXT, NW_LOG_INFO);
    /* a newline, a tab, invalid UTF-8 (a lone continuation byte, a truncated sequence); Arabic kept
     */
    nw_log_format_line(buf, sizeof buf, when, NW_LOG_ERROR, NULL,
                       "doc \"x\"\nsecond line\tbad \x80 and \xd8 end بغداد");
    assert_string_equal(buf, "2021-01-21T07:30:00.123Z ERROR p: doc \"x\" second line bad ? and ? "
                             "end بغداد\n");
}

static void a_json_line_parses_with_every_member(void **state)
{
    (void)state;
    char buf[512];
    nw_log_setup("newswatch-consumer", NW_LOG_JSON, NW_LOG_DEBUG);
    nw_log_format_line(buf, sizeof buf, when, NW_LOG_DEBUG, "sink",
                       "quote \" backslash \\ newline\n bad \xff بغداد");
    assert_int_equal(buf[strlen(buf) - 1], '\n');
    json_error_t e;
    json_t *j = json_loads(buf, 0, &e);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "time")), when);
    assert_string_equal(json_string_value(json_object_get(j, "level")), "debug");
    assert_string_equal(json_string_value(json_object_get(j, "program")), "newswatch-consumer");
    assert_string_equal(json_string_value(json_object_get(j, "component")), "sink");
    assert_string_equal(json_string_value(json_object_get(j, "message")),
                        "quote \" backslash \\ newline\n bad \xef\xbf\xbd بغداد");
    json_decref(j);
    nw_log_format_line(buf, sizeof buf, when, NW_LOG_INFO, NULL, "no component");
    j = json_loads(buf, 0, &e);
    assert_non_null(j);
    assert_null(json_object_get(j, "component"));
    json_decref(j);
}

static void a_long_message_is_cut_and_the_json_stays_valid(void **state)
{
    (void)state;
    char msg[3000], buf[600];
    for (size_t i = 0; i + 1 < sizeof msg; i++)
        msg[i] = "ab\"\\\n"[i % 5];
    msg[sizeof msg - 1] = '\0';
    nw_log_setup("p", NW_LOG_JSON, NW_LOG_INFO);
    size_t n = nw_log_format_line(buf, sizeof buf, when, NW_LOG_INFO, NULL, msg);
    assert_true(n < sizeof buf);
    json_error_t e;
    json_t *j = json_loads(buf, 0, &e);
    assert_non_null(j);
    assert_true(strlen(json_string_value(json_object_get(j, "message"))) > 150);
    json_decref(j);
    /* Cut inside a multi-byte sequence: never half a character in text either. */
    nw_log_setup("p", NW_LOG_TEXT, NW_LOG_INFO);
    char arabic[2000] = "";
    for (int i = 0; i < 150; i++) /* 1,650 bytes */
        strcat(arabic, "بغداد ");
    n = nw_log_format_line(buf, sizeof buf, when, NW_LOG_INFO, NULL, arabic);
    assert_true(nw_utf8_valid(buf, n, NULL));
    assert_int_equal(buf[n - 1], '\n');
}

static void levels_filter_and_parse(void **state)
{
    (void)state;
    nw_log_setup("p", NW_LOG_TEXT, NW_LOG_WARN);
    assert_true(nw_log_enabled(NW_LOG_ERROR));
    assert_true(nw_log_enabled(NW_LOG_WARN));
    assert_false(nw_log_enabled(NW_LOG_INFO));
    nw_log_level l;
    char err[256];
    assert_int_equal(nw_log_level_parse("debug", &l, err, sizeof err), NW_OK);
    assert_int_equal(l, NW_LOG_DEBUG);
    assert_int_equal(nw_log_level_parse("WARNING", &l, err, sizeof err), NW_OK);
    assert_int_equal(l, NW_LOG_WARN);
    assert_int_not_equal(nw_log_level_parse("verbose", &l, err, sizeof err), NW_OK);
    assert_non_null(strstr(err, "verbose"));
    nw_log_format f;
    assert_int_not_equal(nw_log_format_parse("xml", &f, err, sizeof err), NW_OK);
}

static void the_log_section_is_checked(void **state)
{
    (void)state;
    const char *good = "[log]\nformat = json\nlevel = warn\n";
    nw_kvconf *conf = NULL;
    char err[512];
    assert_int_equal(nw_kvconf_new("n.conf", good, strlen(good), &conf, err, sizeof err), NW_OK);
    assert_int_equal(nw_log_setup_from_conf(conf, "p", err, sizeof err), NW_OK);
    assert_false(nw_log_enabled(NW_LOG_INFO));
    nw_kvconf_free(conf);
    const char *bad = "[log]\nformat = text\nlevle = info\n";
    assert_int_equal(nw_kvconf_new("n.conf", bad, strlen(bad), &conf, err, sizeof err), NW_OK);
    assert_int_equal(nw_log_setup_from_conf(conf, "p", err, sizeof err), NW_ECONFIG);
    assert_non_null(strstr(err, "n.conf:3:"));
    assert_non_null(strstr(err, "levle"));
    nw_kvconf_free(conf);
    const char *badval = "[log]\nlevel = loud\n";
    assert_int_equal(nw_kvconf_new("n.conf", badval, strlen(badval), &conf, err, sizeof err),
                     NW_OK);
    assert_int_equal(nw_log_setup_from_conf(conf, "p", err, sizeof err), NW_ECONFIG);
    assert_non_null(strstr(err, "n.conf:2:"));
    nw_kvconf_free(conf);
    assert_int_equal(nw_log_setup_from_conf(NULL, "p", err, sizeof err), NW_OK);
    assert_true(nw_log_enabled(NW_LOG_INFO));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_text_line_has_time_level_program_and_component),
        cmocka_unit_test(a_text_line_is_one_line_whatever_the_message),
        cmocka_unit_test(a_json_line_parses_with_every_member),
        cmocka_unit_test(a_long_message_is_cut_and_the_json_stays_valid),
        cmocka_unit_test(levels_filter_and_parse),
        cmocka_unit_test(the_log_section_is_checked),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
