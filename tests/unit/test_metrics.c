#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../consumer/http.h"
#include "../../consumer/metrics.h"
#include "newswatch/kvconf.h"

static nw_metrics *new_metrics(unsigned stages)
{
    nw_metrics *m = NULL;
    char err[256];
    assert_int_equal(nw_metrics_new(stages, &m, err, sizeof err), NW_OK);
    assert_non_null(m);
    return m;
}

static char *render(nw_metrics *m)
{
    char *text = NULL, err[256];
    size_t len = 0;
    assert_int_equal(nw_metrics_render(m, &text, &len, err, sizeof err), NW_OK);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    return text;
}

/* The value of the sample line that starts with `series ` (name and labels), or -1. */
static double value_of(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p != NULL && *p != '\0';) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return -1;
}

static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; p != NULL && *p != '\0';) {
        if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
            return true;
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return false;
}

static void fresh_registry_has_every_family_at_zero(void **state)
{
    (void)state;
    nw_metrics *m = new_metrics(0);
    char *t = render(m);
    assert_true(has_line(t, "# TYPE newswatch_documents_in_total counter"));
    assert_true(has_line(t, "# TYPE newswatch_batch_duration_seconds histogram"));
    assert_true(has_line(t, "# TYPE newswatch_kafka_consumer_lag gauge"));
    assert_true(has_line(t, "# TYPE newswatch_sink_queue_depth gauge"));
    assert_true(has_line(t, "# TYPE newswatch_config_last_reload_success_timestamp_seconds gauge"));
    assert_non_null(strstr(t, "# HELP newswatch_documents_in_total "));
    assert_true(value_of(t, "newswatch_documents_in_total{stage=\"enrich\"}") == 0);
    assert_true(value_of(t, "newswatch_documents_in_total{stage=\"alert\"}") == 0);
    assert_true(
        value_of(t, "newswatch_documents_out_total{stage=\"enrich\",output=\"enriched\"}") == 0);
    assert_true(
        value_of(t, "newswatch_documents_out_total{stage=\"alert\",output=\"alert-state\"}") == 0);
    assert_true(value_of(t, "newswatch_dlq_records_total{stage=\"alert\",reason=\"other\"}") == 0);
    assert_true(value_of(t, "newswatch_transactions_total{stage=\"enrich\",result=\"aborted\"}") ==
                0);
    assert_true(value_of(t, "newswatch_config_reloads_total{result=\"failure\"}") == 0);
    assert_true(value_of(t, "newswatch_config_last_reload_successful") == 1);
    assert_true(value_of(t, "newswatch_config_last_reload_success_timestamp_seconds") > 1.6e9);
    assert_true(value_of(t, "newswatch_start_time_seconds") > 1.6e9);
    assert_true(value_of(t, "newswatch_ready") == 0);
    assert_true(value_of(t, "newswatch_broker_reachable") == 1);
    assert_true(value_of(t, "newswatch_stage_assigned{stage=\"alert\"}") == 0);
    assert_true(value_of(t, "newswatch_batch_duration_seconds_count{stage=\"alert\"}") == 0);
    assert_true(
        value_of(t, "newswatch_end_to_end_latency_seconds_bucket{stage=\"enrich\",le=\"+Inf\"}") ==
        0);
    assert_non_null(strstr(t, "newswatch_build_info{version=\""));
    assert_non_null(strstr(t, "\",librdkafka=\""));
    /* Every line is a comment or a sample; the text ends with a newline. */
    assert_int_equal(t[strlen(t) - 1], '\n');
    free(t);
    nw_metrics_free(m);
    nw_metrics_free(NULL);
}

static void one_stage_only(void **state)
{
    (void)state;
    nw_metrics *m = new_metrics(NW_METRICS_STAGE_BIT(NW_METRICS_ENRICH));
    char *t = render(m);
    assert_true(value_of(t, "newswatch_documents_in_total{stage=\"enrich\"}") == 0);
    assert_true(value_of(t, "newswatch_documents_in_total{stage=\"alert\"}") == -1);
    free(t);
    char why[128];
    assert_false(nw_metrics_ready(m, why, sizeof why));
    assert_string_equal(why, "enrich: not assigned");
    nw_metrics_set_assigned(m, NW_METRICS_ENRICH, true);
    assert_true(nw_metrics_ready(m, why, sizeof why)); /* the alert stage does not run here */
    nw_metrics_free(m);
}

static void counts_wait_for_the_commit(void **state)
{
    (void)state;
    nw_metrics *m = new_metrics(0);
    /* An aborted batch: nothing of it is counted, but the abort is. */
    nw_metrics_doc_in(m, NW_METRICS_ENRICH, 3);
    nw_metrics_doc_out(m, NW_METRICS_ENRICH, NW_METRICS_OUT_ENRICHED);
    nw_metrics_dlq(m, NW_METRICS_ENRICH, "invalid UTF-8 at byte offset 3");
    nw_metrics_txn(m, NW_METRICS_ENRICH, false);
    /* The alert stage's batch in between is its own. */
    nw_metrics_doc_in(m, NW_METRICS_ALERT, 1);
    nw_metrics_alert(m, "baghdad-bombing", "new");
    nw_metrics_doc_out(m, NW_METRICS_ALERT, NW_METRICS_OUT_ALERTS);
    nw_metrics_doc_out(m, NW_METRICS_ALERT, NW_METRICS_OUT_ALERT_STATE);
    /* The enrich batch again, committed. */
    nw_metrics_doc_in(m, NW_METRICS_ENRICH, 3);
    nw_metrics_doc_out(m, NW_METRICS_ENRICH, NW_METRICS_OUT_ENRICHED);
    nw_metrics_doc_out(m, NW_METRICS_ENRICH, NW_METRICS_OUT_ENRICHED);
    nw_metrics_doc_out(m, NW_METRICS_ENRICH, NW_METRICS_OUT_MATCHES);
    nw_metrics_dlq(m, NW_METRICS_ENRICH, "invalid UTF-8 at byte offset 3");
    nw_metrics_txn(m, NW_METRICS_ENRICH, true);
    char *t = render(m);
    assert_true(value_of(t, "newswatch_documents_in_total{stage=\"enrich\"}") == 3);
    assert_true(
        value_of(t, "newswatch_documents_out_total{stage=\"enrich\",output=\"enriched\"}") == 2);
    assert_true(value_of(t, "newswatch_documents_out_total{stage=\"enrich\",output=\"matches\"}") ==
                1);
    assert_true(
        value_of(t, "newswatch_dlq_records_total{stage=\"enrich\",reason=\"invalid_utf8\"}") == 1);
    assert_true(
        value_of(t, "newswatch_transactions_total{stage=\"enrich\",result=\"committed\"}") == 1);
    assert_true(value_of(t, "newswatch_transactions_total{stage=\"enrich\",result=\"aborted\"}") ==
                1);
    /* The alert stage has not committed yet. */
    assert_true(value_of(t, "newswatch_documents_in_total{stage=\"alert\"}") == 0);
    assert_true(value_of(t, "newswatch_alerts_total{event=\"baghdad-bombing\",status=\"new\"}") ==
                0);
    free(t);
    nw_metrics_txn(m, NW_METRICS_ALERT, true);
    t = render(m);
    assert_true(value_of(t, "newswatch_documents_in_total{stage=\"alert\"}") == 1);
    assert_true(value_of(t, "newswatch_alerts_total{event=\"baghdad-bombing\",status=\"new\"}") ==
                1);
    assert_true(value_of(t, "newswatch_documents_out_total{stage=\"alert\",output=\"alerts\"}") ==
                1);
    free(t);
    /* NULL registries and bad stages are no-ops. */
    nw_metrics_doc_in(NULL, NW_METRICS_ENRICH, 1);
    nw_metrics_txn(NULL, NW_METRICS_ENRICH, true);
    nw_metrics_doc_in(m, (nw_metrics_stage)7, 1);
    nw_metrics_free(m);
}

static void histograms_are_cumulative(void **state)
{
    (void)state;
    nw_metrics *m = new_metrics(0);
    nw_metrics_batch_seconds(m, NW_METRICS_ENRICH, 0.003);
    nw_metrics_batch_seconds(m, NW_METRICS_ENRICH, 0.2);
    nw_metrics_batch_seconds(m, NW_METRICS_ENRICH, 0.25); /* le is inclusive */
    nw_metrics_batch_seconds(m, NW_METRICS_ENRICH, 100);
    nw_metrics_latency_seconds(m, NW_METRICS_ENRICH, -2); /* clock skew: counted as 0 */
    char *t = render(m);
    const char *b = "newswatch_batch_duration_seconds_bucket{stage=\"enrich\",le=";
    char s[200];
    snprintf(s, sizeof s, "%s\"0.005\"}", b);
    assert_true(value_of(t, s) == 1);
    snprintf(s, sizeof s, "%s\"0.1\"}", b);
    assert_true(value_of(t, s) == 1);
    snprintf(s, sizeof s, "%s\"0.25\"}", b);
    assert_true(value_of(t, s) == 3);
    snprintf(s, sizeof s, "%s\"60\"}", b);
    assert_true(value_of(t, s) == 3);
    snprintf(s, sizeof s, "%s\"+Inf\"}", b);
    assert_true(value_of(t, s) == 4);
    assert_true(value_of(t, "newswatch_batch_duration_seconds_count{stage=\"enrich\"}") == 4);
    double sum = value_of(t, "newswatch_batch_duration_seconds_sum{stage=\"enrich\"}");
    assert_true(sum > 100.452 && sum < 100.454);
    assert_true(
        value_of(t, "newswatch_end_to_end_latency_seconds_bucket{stage=\"enrich\",le=\"0.01\"}") ==
        1);
    assert_true(value_of(t, "newswatch_end_to_end_latency_seconds_sum{stage=\"enrich\"}") == 0);
    /* _bucket lines come before _sum and _count. */
    assert_true(strstr(t, "newswatch_batch_duration_seconds_bucket{stage=\"enrich\",le=\"+Inf\"}") <
                strstr(t, "newswatch_batch_duration_seconds_sum{stage=\"enrich\"}"));
    free(t);
    nw_metrics_free(m);
}

static void label_values_are_escaped_and_bounded(void **state)
{
    (void)state;
    nw_metrics *m = new_metrics(0);
    nw_metrics_alert(m, "a\"b\\c\nd", "new");
    for (int i = 0; i < 700; i++) {
        char ev[32];
        snprintf(ev, sizeof ev, "event-%d", i);
        nw_metrics_alert(m, ev, "update");
    }
    nw_metrics_txn(m, NW_METRICS_ALERT, true);
    char *t = render(m);
    assert_true(value_of(t, "newswatch_alerts_total{event=\"a\\\"b\\\\c\\nd\",status=\"new\"}") ==
                1);
    assert_true(value_of(t, "newswatch_alerts_total{event=\"event-0\",status=\"update\"}") == 1);
    /* 512 series at most, then the event is "other". */
    double other = value_of(t, "newswatch_alerts_total{event=\"other\",status=\"update\"}");
    assert_true(other == 700 - 511);
    size_t lines = 0;
    for (const char *p = t; (p = strstr(p, "\nnewswatch_alerts_total{")) != NULL; p++)
        lines++;
    assert_int_equal(lines, 513);
    free(t);
    nw_metrics_free(m);
}

static void dead_letter_classes(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"empty message (no value)", "empty"},
        {"the message is 2097183 bytes, over the limit of 1000000 bytes", "too_large"},
        {"invalid UTF-8 at byte offset 3", "invalid_utf8"},
        {"not valid JSON: unexpected token (column 1)", "invalid_json"},
        {"expected a JSON object, found array", "invalid_json"},
        {"not a newswatch.doc/1 document (its schema is x)", "invalid_document"},
        {"no 'body' member: every document needs one", "invalid_document"},
        {"'title' must be a string or null, found integer", "invalid_document"},
        {"the body has no visible text", "invalid_document"},
        {"event 'x' is not tracked", "unknown_event"},
        {"output too large: its enriched record is 558408 bytes", "output_too_large"},
        {"Kafka refused an output record to news.enriched (85405 bytes)", "refused"},
        {"processing error: out of memory", "processing"},
        {"something new", "other"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(nw_metrics_dlq_class(cases[i][0]), cases[i][1]);
    assert_string_equal(nw_metrics_dlq_class(NULL), "other");
    /* A free-text reason never becomes a label value. */
    nw_metrics *m = new_metrics(0);
    nw_metrics_dlq(m, NW_METRICS_ALERT, "event 'secret-thing' is not tracked");
    nw_metrics_txn(m, NW_METRICS_ALERT, true);
    char *t = render(m);
    assert_null(strstr(t, "secret-thing"));
    assert_true(
        value_of(t, "newswatch_dlq_records_total{stage=\"alert\",reason=\"unknown_event\"}") == 1);
    free(t);
    nw_metrics_free(m);
}

/* librdkafka 2.0.2's statistics of a consumer, cut down to what matters and a little more. */
static const char consumer_stats[] =
    "{\"name\":\"newswatch-consumer-enrich-news-1#consumer-1\",\"client_id\":\"x\","
    "\"type\":\"consumer\",\"ts\":1234,\"time\":1700000000,\"replyq\":0,"
    "\"brokers\":{\"127.0.0.1:9092/1\":{\"name\":\"127.0.0.1:9092/1\",\"nodeid\":1,"
    "\"state\":\"UP\"}},"
    "\"topics\":{\"news.raw\":{\"topic\":\"news.raw\",\"age\":1000,\"partitions\":{"
    "\"0\":{\"partition\":0,\"broker\":1,\"leader\":1,\"fetch_state\":\"active\","
    "\"committed_offset\":10,\"hi_offset\":25,\"consumer_lag\":15,\"consumer_lag_stored\":15},"
    "\"1\":{\"partition\":1,\"fetch_state\":\"active\",\"consumer_lag\":0},"
    "\"2\":{\"partition\":2,\"fetch_state\":\"none\",\"consumer_lag\":-1},"
    "\"-1\":{\"partition\":-1,\"consumer_lag\":-1}}}},"
    "\"cgrp\":{\"state\":\"up\",\"join_state\":\"steady\",\"assignment_size\":2}}";

static void consumer_lag_from_statistics(void **state)
{
    (void)state;
    nw_metrics *m = new_metrics(0);
    char err[256];
    assert_int_equal(
        nw_metrics_kafka_stats(m, consumer_stats, strlen(consumer_stats), err, sizeof err), NW_OK);
    const char alert_stats[] =
        "{\"name\":\"newswatch-consumer-alert-news-1#consumer-2\",\"type\":\"consumer\","
        "\"topics\":{\"news.matches\":{\"partitions\":{\"0\":{\"partition\":0,"
        "\"consumer_lag\":4}}}}}";
    assert_int_equal(nw_metrics_kafka_stats(m, alert_stats, strlen(alert_stats), err, sizeof err),
                     NW_OK);
    char *t = render(m);
    assert_true(value_of(t, "newswatch_kafka_consumer_lag{topic=\"news.raw\",partition=\"0\"}") ==
                15);
    assert_true(value_of(t, "newswatch_kafka_consumer_lag{topic=\"news.raw\",partition=\"1\"}") ==
                0);
    assert_true(value_of(t, "newswatch_kafka_consumer_lag{topic=\"news.raw\",partition=\"2\"}") ==
                -1);
    assert_null(strstr(t, "partition=\"-1\""));
    assert_true(
        value_of(t, "newswatch_kafka_consumer_lag{topic=\"news.matches\",partition=\"0\"}") == 4);
    free(t);
    /* Partition 0 revoked: gone with the client's next statistics; the other client's stay. */
    const char later[] = "{\"name\":\"newswatch-consumer-enrich-news-1#consumer-1\","
                         "\"type\":\"consumer\",\"topics\":{\"news.raw\":{\"partitions\":{"
                         "\"1\":{\"partition\":1,\"consumer_lag\":7}}}}}";
    assert_int_equal(nw_metrics_kafka_stats(m, later, strlen(later), err, sizeof err), NW_OK);
    t = render(m);
    assert_true(value_of(t, "newswatch_kafka_consumer_lag{topic=\"news.raw\",partition=\"0\"}") ==
                -1);
    assert_true(value_of(t, "newswatch_kafka_consumer_lag{topic=\"news.raw\",partition=\"1\"}") ==
                7);
    assert_true(
        value_of(t, "newswatch_kafka_consumer_lag{topic=\"news.matches\",partition=\"0\"}") == 4);
    free(t);
    /* A producer's statistics are ignored; what is not statistics is an error. */
    const char producer[] = "{\"name\":\"p#producer-1\",\"type\":\"producer\",\"topics\":{"
                            "\"news.enriched\":{\"partitions\":{\"0\":{\"partition\":0,"
                            "\"consumer_lag\":99}}}}}";
    assert_int_equal(nw_metrics_kafka_stats(m, producer, strlen(producer), err, sizeof err), NW_OK);
    t = render(m);
    assert_null(strstr(t, "news.enriched"));
    free(t);
    assert_int_equal(nw_metrics_kafka_stats(m, "{oops", 5, err, sizeof err), NW_EJSON);
    assert_non_null(strstr(err, "librdkafka statistics"));
    assert_int_equal(nw_metrics_kafka_stats(m, "[1]", 3, err, sizeof err), NW_EJSON);
    nw_metrics_free(m);
}

static void readiness_and_health(void **state)
{
    (void)state;
    nw_metrics *m = new_metrics(0);
    char why[128];
    assert_false(nw_metrics_ready(m, why, sizeof why));
    assert_string_equal(why, "enrich: not assigned");
    nw_metrics_set_assigned(m, NW_METRICS_ENRICH, true);
    assert_false(nw_metrics_ready(m, why, sizeof why));
    assert_string_equal(why, "alert: not assigned");
    nw_metrics_set_assigned(m, NW_METRICS_ALERT, true);
    nw_metrics_set_broker(m, false);
    assert_false(nw_metrics_ready(m, why, sizeof why));
    assert_string_equal(why, "broker unreachable");
    nw_metrics_set_broker(m, true);
    nw_metrics_set_held(m, 2);
    assert_false(nw_metrics_ready(m, why, sizeof why));
    assert_string_equal(why, "alert: state not restored (2 partitions held)");
    nw_metrics_set_held(m, 0);
    assert_true(nw_metrics_ready(m, why, sizeof why));
    char *t = render(m);
    assert_true(value_of(t, "newswatch_ready") == 1);
    assert_true(value_of(t, "newswatch_stage_assigned{stage=\"enrich\"}") == 1);
    free(t);
    nw_metrics_set_assigned(m, NW_METRICS_ALERT, false); /* revoked */
    assert_false(nw_metrics_ready(m, why, sizeof why));
    nw_metrics_set_assigned(m, NW_METRICS_ALERT, true);
    nw_metrics_set_stopping(m);
    assert_false(nw_metrics_ready(m, why, sizeof why));
    assert_string_equal(why, "stopping");

    nw_metrics_heartbeat(m);
    assert_true(nw_metrics_alive(m, 10000, why, sizeof why));
    struct timespec ms20 = {0, 20 * 1000000L};
    nanosleep(&ms20, NULL);
    assert_false(nw_metrics_alive(m, 5, why, sizeof why));
    assert_non_null(strstr(why, "main loop"));
    nw_metrics_heartbeat(m);
    assert_true(nw_metrics_alive(m, 5, why, sizeof why));
    assert_false(nw_metrics_ready(NULL, why, sizeof why));
    nw_metrics_free(m);
}

static void reloads_and_sinks(void **state)
{
    (void)state;
    nw_metrics *m = new_metrics(0);
    nw_metrics_reload(m, false, 0);
    char *t = render(m);
    assert_true(value_of(t, "newswatch_config_reloads_total{result=\"failure\"}") == 1);
    assert_true(value_of(t, "newswatch_config_last_reload_successful") == 0);
    free(t);
    nw_metrics_reload(m, true, 1700000000.5);
    nw_sink_stats s[NW_SINK_COUNT] = {
        {"stdout", 1, 3, 0, 0, 0, 0},
        {"alertmanager", 1, 2, 1, 4, 0, 5},
        {"webhook", 0, 0, 0, 0, 0, 0},
    };
    nw_metrics_sinks(m, s);
    t = render(m);
    assert_true(value_of(t, "newswatch_config_reloads_total{result=\"success\"}") == 1);
    assert_true(value_of(t, "newswatch_config_last_reload_successful") == 1);
    assert_true(value_of(t, "newswatch_config_last_reload_success_timestamp_seconds") ==
                1700000000.5);
    assert_true(value_of(t, "newswatch_sink_deliveries_total{sink=\"stdout\"}") == 3);
    assert_true(value_of(t, "newswatch_sink_failures_total{sink=\"alertmanager\"}") == 1);
    assert_true(value_of(t, "newswatch_sink_retries_total{sink=\"alertmanager\"}") == 4);
    assert_true(value_of(t, "newswatch_sink_queue_depth{sink=\"alertmanager\"}") == 5);
    assert_null(strstr(t, "sink=\"webhook\"")); /* not configured */
    free(t);
    nw_metrics_free(m);
}

static int collected;

static void collect(nw_metrics *m, void *arg)
{
    nw_sink_stats s[NW_SINK_COUNT] = {{"stdout", 1, *(unsigned long long *)arg, 0, 0, 0, 0},
                                      {"alertmanager", 0, 0, 0, 0, 0, 0},
                                      {"webhook", 0, 0, 0, 0, 0, 0}};
    collected++;
    nw_metrics_sinks(m, s);
}

static void collector_runs_at_each_render(void **state)
{
    (void)state;
    nw_metrics *m = new_metrics(0);
    unsigned long long delivered = 7;
    nw_metrics_set_collector(m, collect, &delivered);
    char *t = render(m);
    assert_true(value_of(t, "newswatch_sink_deliveries_total{sink=\"stdout\"}") == 7);
    free(t);
    delivered = 9;
    t = render(m);
    assert_true(value_of(t, "newswatch_sink_deliveries_total{sink=\"stdout\"}") == 9);
    free(t);
    assert_int_equal(collected, 2);
    nw_metrics_free(m);
}

static nw_err apply_http(const char *text, nw_http_config *c, char *err, size_t errlen)
{
    nw_kvconf *conf;
    assert_int_equal(nw_kvconf_new("n.conf", text, strlen(text), &conf, err, errlen), NW_OK);
    nw_http_config_init(c);
    nw_err rc = nw_http_config_apply(c, conf, "listen", err, errlen);
    nw_kvconf_free(conf);
    return rc;
}

/*
 * A feed poller's registry (newswatch-producer): the feed families, none of
 * the daemon's; series per feed from the start; a 304 is a success; ready
 * once the feed state is restored.
 */
static void feed_poller_registry(void **state)
{
    (void)state;
    nw_metrics *m = new_metrics(NW_METRICS_FEEDS);
    nw_metrics_set_held(m, 1);
    nw_metrics_feed_add(m, "aljazeera-ar");
    char why[128];
    assert_false(nw_metrics_ready(m, why, sizeof why));
    assert_string_equal(why, "feeds: state not restored");
    char *t = render(m);
    assert_true(has_line(t, "# TYPE newswatch_feed_polls_total counter"));
    assert_true(has_line(t, "# TYPE newswatch_feed_fetch_duration_seconds histogram"));
    assert_true(has_line(t, "# TYPE newswatch_build_info gauge"));
    assert_true(has_line(t, "newswatch_ready 0"));
    assert_null(strstr(t, "newswatch_documents_in_total"));
    assert_null(strstr(t, "newswatch_stage_assigned"));
    assert_null(strstr(t, "newswatch_config_reloads_total"));
    assert_true(
        value_of(t, "newswatch_feed_polls_total{feed=\"aljazeera-ar\",result=\"not_modified\"}") ==
        0);
    assert_true(
        value_of(t, "newswatch_feed_items_total{feed=\"aljazeera-ar\",outcome=\"duplicate\"}") ==
        0);
    assert_true(
        value_of(t, "newswatch_feed_last_success_timestamp_seconds{feed=\"aljazeera-ar\"}") <
        0); /* no success yet */
    free(t);
    nw_metrics_set_held(m, 0);
    nw_metrics_feed_poll(m, "aljazeera-ar", "ok", 0.3);
    nw_metrics_feed_poll(m, "aljazeera-ar", "not_modified", 0.02);
    nw_metrics_feed_poll(m, "aljazeera-ar", "http_error", 0.01);
    nw_metrics_feed_items(m, "aljazeera-ar", "published", 7);
    nw_metrics_feed_items(m, "aljazeera-ar", "duplicate", 13);
    assert_true(nw_metrics_ready(m, why, sizeof why));
    t = render(m);
    assert_true(value_of(t, "newswatch_feed_polls_total{feed=\"aljazeera-ar\",result=\"ok\"}") ==
                1);
    assert_true(
        value_of(t, "newswatch_feed_polls_total{feed=\"aljazeera-ar\",result=\"http_error\"}") ==
        1);
    assert_true(
        value_of(t, "newswatch_feed_items_total{feed=\"aljazeera-ar\",outcome=\"published\"}") ==
        7);
    assert_true(
        value_of(t, "newswatch_feed_last_success_timestamp_seconds{feed=\"aljazeera-ar\"}") >
        1.7e9);
    assert_true(value_of(t, "newswatch_feed_fetch_duration_seconds_count{feed=\"aljazeera-ar\"}") ==
                3);
    assert_true(has_line(t, "newswatch_ready 1"));
    free(t);
    nw_metrics_free(m);
}

static void http_listen_setting(void **state)
{
    (void)state;
    nw_http_config c;
    char err[256];
    nw_http_config_init(&c);
    assert_true(c.enabled);
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.port, 9464);
    assert_int_equal(nw_http_config_apply(&c, NULL, "listen", err, sizeof err), NW_OK);
    assert_int_equal(apply_http("[http]\nlisten = off\n", &c, err, sizeof err), NW_OK);
    assert_false(c.enabled);
    assert_int_equal(apply_http("[http]\nlisten = 0.0.0.0:19464\n", &c, err, sizeof err), NW_OK);
    assert_true(c.enabled);
    assert_string_equal(c.host, "0.0.0.0");
    assert_int_equal(c.port, 19464);
    assert_int_equal(apply_http("[http]\nlisten = [::1]:9465\n", &c, err, sizeof err), NW_OK);
    assert_string_equal(c.host, "::1");
    assert_int_equal(c.port, 9465);
    assert_int_equal(apply_http("[http]\nlisten = localhost:80\n", &c, err, sizeof err), NW_OK);
    assert_string_equal(c.host, "localhost");
    /* Port 0: any free port (nw_http_port says which); the tests' daemons use it. */
    assert_int_equal(apply_http("[http]\nlisten = 127.0.0.1:0\n", &c, err, sizeof err), NW_OK);
    assert_int_equal(c.port, 0);
    nw_http *any = NULL;
    assert_int_equal(nw_http_new(&c, NULL, &any, err, sizeof err), NW_OK);
    assert_non_null(any);
    assert_true(nw_http_port(any) > 0);
    nw_http_free(any);
    /* The producer's key is another's business, and the other way round. */
    nw_http_config_init(&c);
    assert_int_equal(apply_http("[http]\nproducer.listen = 127.0.0.1:1234\n", &c, err, sizeof err),
                     NW_OK);
    assert_int_equal(c.port, 9464);
    nw_kvconf *pk = NULL;
    const char *ptext = "[http]\nlisten = 127.0.0.1:1\nproducer.listen = 127.0.0.1:1234\n";
    assert_int_equal(nw_kvconf_new("p.conf", ptext, strlen(ptext), &pk, err, sizeof err), NW_OK);
    assert_int_equal(nw_http_config_apply(&c, pk, "producer.listen", err, sizeof err), NW_OK);
    assert_int_equal(c.port, 1234);
    nw_kvconf_free(pk);
    /* [sinks] and others are not [http]'s business. */
    assert_int_equal(apply_http("[sinks]\nlisten = x\n", &c, err, sizeof err), NW_OK);
    static const char *const bad[][2] = {
        {"listen = 9464", "HOST:PORT"},
        {"listen = 127.0.0.1:", "0 (any free port) to 65535"},
        {"listen = 127.0.0.1:70000", "0 (any free port) to 65535"},
        {"listen = 127.0.0.1:+80", "0 (any free port) to 65535"},
        {"listen = :9464", "host"},
        {"listen = ::1:9464", "brackets"},
        {"listen = [nonsense]:9464", "IPv6"},
        {"listen = bad_host:9464", "host"},
        {"listen = OFF", "HOST:PORT"},
        {"port = 9464", "unknown key 'port' in [http] (known: listen, producer.listen)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "# http\n[http]\n%s\n", bad[i][0]);
        nw_http_config_init(&c);
        assert_int_equal(apply_http(text, &c, err, sizeof err), NW_ECONFIG);
        assert_non_null(strstr(err, "n.conf:3: "));
        if (strstr(err, bad[i][1]) == NULL)
            fail_msg("%s: '%s' lacks '%s'", bad[i][0], err, bad[i][1]);
        assert_true(c.enabled); /* a bad value changes nothing */
        assert_int_equal(c.port, 9464);
    }
    /* Off: no server, no error. */
    nw_http *h = (nw_http *)&c;
    c.enabled = false;
    assert_int_equal(nw_http_new(&c, NULL, &h, err, sizeof err), NW_OK);
    assert_null(h);
    assert_int_equal(nw_http_port(NULL), 0);
    nw_http_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fresh_registry_has_every_family_at_zero),
        cmocka_unit_test(one_stage_only),
        cmocka_unit_test(counts_wait_for_the_commit),
        cmocka_unit_test(histograms_are_cumulative),
        cmocka_unit_test(label_values_are_escaped_and_bounded),
        cmocka_unit_test(dead_letter_classes),
        cmocka_unit_test(consumer_lag_from_statistics),
        cmocka_unit_test(readiness_and_health),
        cmocka_unit_test(reloads_and_sinks),
        cmocka_unit_test(collector_runs_at_each_render),
        cmocka_unit_test(feed_poller_registry),
        cmocka_unit_test(http_listen_setting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
