/*
 * newswatch-producer and newswatch-consumer --create-topics against a real
 * Kafka broker; every topic is read back with kcat.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "newswatch/doc.h"
#include "../../kafka/nw_kafka.h"
#include "support.h"

static const char *const seed_ids[] = {
    "000_c7189a82eabcfedc", "001_36b4ca6c38791fab", "002_cf9858d6c968c6dd",
    "003_36327a287adc8b89", "004_6be975f03497fb3e",
};

/* The envelope whose key is id, or NULL. */
static json_t *find_key(json_t *msgs, const char *id)
{
    size_t i;
    json_t *env;
    json_array_foreach(msgs, i, env)
    {
        const char *key = json_string_value(json_object_get(env, "key"));
        if (key != NULL && strcmp(key, id) == 0)
            return env;
    }
    return NULL;
}

static json_t *payload_json(const json_t *env)
{
    const char *payload = json_string_value(json_object_get(env, "payload"));
    assert_non_null(payload);
    json_error_t jerr;
    json_t *doc = json_loads(payload, JSON_ALLOW_NUL, &jerr);
    if (doc == NULL)
        fail_msg("payload is not JSON: %s", jerr.text);
    return doc;
}

static void seeds_round_trip_through_kafka(void **state)
{
    (void)state;
    char topic[128];
    it_topic_name("seeds", topic, sizeof topic);
    it_create_topic(topic, 3);

    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' -b '%s' -t '%s' --source seeds '%s'",
             it_bin("newswatch-producer"), it_brokers(), topic, it_seeds_dir());
    it_result r;
    it_run(cmd, NULL, &r);
    if (r.status != 0)
        fail_msg("producer exited %d: %s", r.status, r.err);
    /* One summary line naming the count. */
    assert_non_null(strstr(r.err, "5 documents delivered to"));
    assert_non_null(strstr(r.err, "0 failed, 0 skipped"));
    it_result_free(&r);

    json_t *msgs = it_kcat_consume(topic);
    assert_int_equal(json_array_size(msgs), 5);
    long last_offset[3] = {-1, -1, -1};
    for (size_t i = 0; i < 5; i++) {
        json_t *env = find_key(msgs, seed_ids[i]);
        if (env == NULL)
            fail_msg("no message with key %s", seed_ids[i]);
        /* Input order: within a partition, offsets grow in file order. */
        int part = (int)json_integer_value(json_object_get(env, "partition"));
        long off = (long)json_integer_value(json_object_get(env, "offset"));
        assert_true(part >= 0 && part < 3);
        assert_true(off > last_offset[part]);
        last_offset[part] = off;

        const char *ct = it_kcat_header(env, "content-type");
        const char *schema = it_kcat_header(env, "schema");
        assert_non_null(ct);
        assert_non_null(schema);
        assert_string_equal(ct, "application/json");
        assert_string_equal(schema, "newswatch.doc/1");
        /* A CloudEvent in Kafka's binary mode: id the document's, time its ingested_at. */
        assert_string_equal(it_kcat_header(env, "ce_specversion"), "1.0");
        assert_string_equal(it_kcat_header(env, "ce_id"), seed_ids[i]);
        assert_string_equal(it_kcat_header(env, "ce_source"), "/newswatch/producer");
        assert_string_equal(it_kcat_header(env, "ce_type"), "newswatch.doc/1");
        assert_string_equal(it_kcat_header(env, "ce_dataschema"),
                            "urn:newswatch:schema:newswatch.doc/1");
        assert_non_null(it_kcat_header(env, "ce_time"));

        json_t *doc = payload_json(env);
        assert_string_equal(json_string_value(json_object_get(doc, "schema")), "newswatch.doc/1");
        assert_string_equal(json_string_value(json_object_get(doc, "id")), seed_ids[i]);
        assert_string_equal(json_string_value(json_object_get(doc, "source")), "seeds");
        assert_non_null(json_string_value(json_object_get(doc, "title")));
        const char *ingested = json_string_value(json_object_get(doc, "ingested_at"));
        assert_non_null(ingested);
        assert_int_equal(strlen(ingested), 24); /* 2026-11-23T23:35:20.455Z */
        assert_string_equal(it_kcat_header(env, "ce_time"), ingested);

        char path[4096];
        snprintf(path, sizeof path, "%s/%s.txt", it_seeds_dir(), seed_ids[i]);
        size_t flen;
        char *file = tu_read(path, &flen);
        assert_non_null(file);
        json_t *body = json_object_get(doc, "body");
        assert_int_equal(json_string_length(body), flen);
        assert_memory_equal(json_string_value(body), file, flen); /* byte-identical */
        free(file);
        json_decref(doc);
    }
    json_decref(msgs);
}

static void bad_inputs_are_skipped_and_good_ones_delivered(void **state)
{
    (void)state;
    char topic[128];
    it_topic_name("bad", topic, sizeof topic);
    it_create_topic(topic, 1);
    char *dir = tu_mkdtemp();
    tu_write(dir, "a-good.txt", "Rockets hit Baghdad airport\nbody", 32);
    tu_write(dir, "b-latin1.txt", "caf\xE9 bomb", 9);
    tu_write(dir, "c-empty.txt", "\n\n", 2);
    char big[3000];
    memset(big, 'x', sizeof big);
    tu_write(dir, "d-big.txt", big, sizeof big);
    const char *lines = "{\"id\":\"j-good\",\"body\":\"تفجير في بغداد\",\"published_at\":"
                        "\"2021-01-21T08:00:00Z\"}\n"
                        "{\"id\":\"j-broken\",\"body\":\n"
                        "{\"id\":\"j-nobody\",\"title\":\"t\"}\n"
                        "{\"body\":\"no id: hashed\"}\n";
    tu_write(dir, "e-feed.jsonl", lines, strlen(lines));

    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' -b '%s' -t '%s' --max-bytes 2000 '%s' '%s/missing.txt'",
             it_bin("newswatch-producer"), it_brokers(), topic, dir, dir);
    it_result r;
    it_run(cmd, NULL, &r);
    assert_int_equal(r.status, 1); /* some input was bad */
    static const char *const said[] = {
        "b-latin1.txt: skipped: invalid UTF-8 at byte offset 3",
        "c-empty.txt: skipped: the body has no visible text",
        "d-big.txt: skipped: the file is 3000 bytes, over the limit of 2000 bytes",
        "e-feed.jsonl:2: skipped: not valid JSON",
        "e-feed.jsonl:3: skipped: no 'body' member",
        "missing.txt: skipped: cannot read: No such file or directory",
        "3 documents delivered to",
        "0 failed, 6 skipped",
    };
    for (size_t i = 0; i < sizeof said / sizeof said[0]; i++)
        if (strstr(r.err, said[i]) == NULL)
            fail_msg("stderr lacks '%s':\n%s", said[i], r.err);
    it_result_free(&r);

    json_t *msgs = it_kcat_consume(topic);
    assert_int_equal(json_array_size(msgs), 3);
    /* One partition: the order is the input order. */
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "key")),
                        "a-good");
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 1), "key")),
                        "j-good");
    json_t *doc = payload_json(json_array_get(msgs, 1));
    assert_string_equal(json_string_value(json_object_get(doc, "published_at")),
                        "2021-01-21T08:00:00Z");
    assert_string_equal(json_string_value(json_object_get(doc, "body")), "تفجير في بغداد");
    json_decref(doc);
    char hashed[17];
    nw_doc_id_for_body("no id: hashed", 13, hashed);
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 2), "key")), hashed);
    json_decref(msgs);
    tu_rmtree(dir);
    free(dir);
}

static void json_lines_from_stdin(void **state)
{
    (void)state;
    char topic[128];
    it_topic_name("stdin", topic, sizeof topic);
    it_create_topic(topic, 2);
    char *dir = tu_mkdtemp();
    char feed[8192];
    size_t n = 0;
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(feed + n, sizeof feed - n,
                              "{\"id\":\"s%02d\",\"body\":\"خبر رقم %d\",\"lang\":\"ar\"}\n", i, i);
    tu_write(dir, "feed", feed, n);
    char in[4200], cmd[4096];
    snprintf(in, sizeof in, "%s/feed", dir);
    snprintf(cmd, sizeof cmd, "'%s' -q -b '%s' -t '%s' -", it_bin("newswatch-producer"),
             it_brokers(), topic);
    it_result r;
    it_run(cmd, in, &r);
    if (r.status != 0)
        fail_msg("producer exited %d: %s", r.status, r.err);
    assert_int_equal(r.errlen, 0); /* -q: nothing on stderr when all is well */
    it_result_free(&r);
    json_t *msgs = it_kcat_consume(topic);
    assert_int_equal(json_array_size(msgs), 40);
    json_t *env = find_key(msgs, "s07");
    assert_non_null(env);
    json_t *doc = payload_json(env);
    assert_string_equal(json_string_value(json_object_get(doc, "lang")), "ar");
    assert_string_equal(json_string_value(json_object_get(doc, "title")), "خبر رقم 7");
    json_decref(doc);
    json_decref(msgs);
    tu_rmtree(dir);
    free(dir);
}

static void unreachable_broker_fails_fast_and_clearly(void **state)
{
    (void)state;
    char cmd[4096];
    /* Port 1 on loopback: nothing listens there. */
    snprintf(cmd, sizeof cmd, "'%s' -b 127.0.0.1:1 -X message.timeout.ms=3000 '%s'",
             it_bin("newswatch-producer"), it_seeds_dir());
    it_result r;
    it_run(cmd, NULL, &r);
    assert_int_equal(r.status, 3);
    assert_true(r.seconds < 15.0);
    if (strstr(r.err, "cannot reach Kafka at 127.0.0.1:1") == NULL)
        fail_msg("unclear error: %s", r.err);
    it_result_free(&r);
}

static void missing_topic_is_a_clear_error(void **state)
{
    (void)state;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' -b '%s' -t it.no-such-topic '%s'", it_bin("newswatch-producer"),
             it_brokers(), it_seeds_dir());
    it_result r;
    it_run(cmd, NULL, &r);
    assert_int_equal(r.status, 3);
    if (strstr(r.err, "topic 'it.no-such-topic' is not available") == NULL)
        fail_msg("unclear error: %s", r.err);
    it_result_free(&r);
}

static void config_file_sets_topic_and_kafka_properties(void **state)
{
    (void)state;
    char topic[128];
    it_topic_name("conf", topic, sizeof topic);
    it_create_topic(topic, 1);
    char *dir = tu_mkdtemp();
    char conf[1024];
    int n = snprintf(conf, sizeof conf,
                     "# a producer configuration\n"
                     "bootstrap.servers = %s\n"
                     "[topics]\n"
                     "raw = %s\n"
                     "[producer]\n"
                     "source = from-config\n",
                     it_brokers(), topic);
    tu_write(dir, "p.conf", conf, (size_t)n);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' -c '%s/p.conf' '%s/000_c7189a82eabcfedc.txt'",
             it_bin("newswatch-producer"), dir, it_seeds_dir());
    it_result r;
    it_run(cmd, NULL, &r);
    if (r.status != 0)
        fail_msg("producer exited %d: %s", r.status, r.err);
    it_result_free(&r);
    json_t *msgs = it_kcat_consume(topic);
    assert_int_equal(json_array_size(msgs), 1);
    json_t *doc = payload_json(json_array_get(msgs, 0));
    assert_string_equal(json_string_value(json_object_get(doc, "source")), "from-config");
    json_decref(doc);
    json_decref(msgs);

    /* A property librdkafka does not know: file and line, exit 2. */
    const char *bad = "[kafka]\n\nno.such.property = 1\n";
    tu_write(dir, "bad.conf", bad, strlen(bad));
    snprintf(cmd, sizeof cmd, "'%s' -c '%s/bad.conf' '%s'", it_bin("newswatch-producer"), dir,
             it_seeds_dir());
    it_run(cmd, NULL, &r);
    assert_int_equal(r.status, 2);
    if (strstr(r.err, "bad.conf:3: No such configuration property: \"no.such.property\"") == NULL)
        fail_msg("unclear error: %s", r.err);
    it_result_free(&r);
    tu_rmtree(dir);
    free(dir);
}

/* Reads a topic's cleanup.policy with the admin API. */
static char *cleanup_policy(const char *topic)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512];
    rd_kafka_conf_set(conf, "bootstrap.servers", it_brokers(), err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    assert_non_null(rk);
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DescribeConfigs(rk, &res, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
    assert_non_null(ev);
    assert_int_equal(rd_kafka_event_error(ev), 0);
    const rd_kafka_DescribeConfigs_result_t *dr = rd_kafka_event_DescribeConfigs_result(ev);
    size_t cnt;
    const rd_kafka_ConfigResource_t **rs = rd_kafka_DescribeConfigs_result_resources(dr, &cnt);
    assert_int_equal(cnt, 1);
    size_t nentries;
    const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(rs[0], &nentries);
    char *value = NULL;
    for (size_t i = 0; i < nentries; i++)
        if (strcmp(rd_kafka_ConfigEntry_name(entries[i]), "cleanup.policy") == 0)
            value = strdup(rd_kafka_ConfigEntry_value(entries[i]));
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(res);
    rd_kafka_destroy(rk);
    return value;
}

static void consumer_creates_the_topics(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char prefix[128];
    it_topic_name("ct", prefix, sizeof prefix);
    char conf[2048];
    int n = snprintf(conf, sizeof conf,
                     "[topics]\nraw = %s.raw\nenriched = %s.enriched\nmatches = %s.matches\n"
                     "alerts = %s.alerts\nalert-state = %s.alert-state\ndlq = %s.dlq\n",
                     prefix, prefix, prefix, prefix, prefix, prefix);
    tu_write(dir, "t.conf", conf, (size_t)n);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' -b '%s' -c '%s/t.conf' --create-topics --partitions 4",
             it_bin("newswatch-consumer"), it_brokers(), dir);
    it_result r;
    it_run(cmd, NULL, &r);
    if (r.status != 0)
        fail_msg("consumer exited %d: %s", r.status, r.err);
    assert_non_null(strstr(r.err, "created topic"));
    it_result_free(&r);
    /* Again: nothing to do, still success. */
    it_run(cmd, NULL, &r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, "exists already"));
    it_result_free(&r);

    snprintf(cmd, sizeof cmd, "kcat -b '%s' -L -J", it_brokers());
    it_run(cmd, NULL, &r);
    assert_int_equal(r.status, 0);
    json_error_t jerr;
    json_t *md = json_loads(r.out, 0, &jerr);
    assert_non_null(md);
    static const struct {
        const char *suffix;
        int partitions;
    } want[] = {{"raw", 4},    {"enriched", 4},    {"matches", 4},
                {"alerts", 4}, {"alert-state", 4}, {"dlq", 1}};
    for (size_t i = 0; i < 6; i++) {
        char name[256];
        snprintf(name, sizeof name, "%s.%s", prefix, want[i].suffix);
        size_t k;
        json_t *t;
        int found = -1;
        json_array_foreach(json_object_get(md, "topics"), k, t)
        {
            if (strcmp(json_string_value(json_object_get(t, "topic")), name) == 0)
                found = (int)json_array_size(json_object_get(t, "partitions"));
        }
        if (found != want[i].partitions)
            fail_msg("%s: %d partitions, expected %d", name, found, want[i].partitions);
        char *policy = cleanup_policy(name);
        assert_non_null(policy);
        assert_string_equal(policy, i == 4 ? "compact" : "delete");
        free(policy);
    }
    json_decref(md);
    it_result_free(&r);
    tu_rmtree(dir);
    free(dir);
}

/* Waits up to timeout_ms until topic holds a record with key id. */
static bool seen_within(const char *topic, const char *id, int timeout_ms)
{
    double end = it_now_ms() + timeout_ms;
    for (;;) {
        json_t *msgs = it_kcat_consume(topic);
        bool found = find_key(msgs, id) != NULL;
        json_decref(msgs);
        if (found || it_now_ms() > end)
            return found;
        it_sleep_ms(200);
    }
}

/* The keys in topic, each counted: fails unless they are exactly want[0..n), once each. */
static void exactly_once(const char *topic, const char *const *want, size_t n)
{
    json_t *msgs = it_kcat_consume(topic);
    if (json_array_size(msgs) != n)
        fail_msg("%zu records in %s, expected %zu", json_array_size(msgs), topic, n);
    for (size_t i = 0; i < n; i++)
        if (find_key(msgs, want[i]) == NULL)
            fail_msg("no record %s in %s", want[i], topic);
    json_decref(msgs);
}

#define DOC(id) "{\"id\":\"" id "\",\"body\":\"خبر عاجل من بغداد\"}\n"

/*
 * Standard input is published as its lines arrive (not when a block fills or
 * the pipe closes), and SIGTERM publishes every line already read whole and
 * says what it did not publish (issue 15).
 */
static void stdin_streams_and_a_signal_keeps_every_whole_line(void **state)
{
    (void)state;
    char topic[128];
    it_topic_name("stream", topic, sizeof topic);
    it_create_topic(topic, 2);
    char *dir = tu_mkdtemp();
    char fifo[4200], log[4200], cmd[8192];
    snprintf(fifo, sizeof fifo, "%s/in.fifo", dir);
    snprintf(log, sizeof log, "%s/producer.log", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    snprintf(cmd, sizeof cmd, "exec '%s' -b '%s' -t '%s' - < '%s'", it_bin("newswatch-producer"),
             it_brokers(), topic, fifo);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    long pid = it_spawn(argv, log);
    int w = open(fifo, O_WRONLY); /* the producer has it open for reading now */
    assert_true(w >= 0);
    /* One line, the pipe left open: published within seconds, not at EOF. */
    assert_true(write(w, DOC("s1"), strlen(DOC("s1"))) > 0);
    if (!seen_within(topic, "s1", 10000)) {
        it_show_log(log);
        fail_msg("a line written to the producer's stdin was not published while the pipe was "
                 "open");
    }
    /* Three whole lines and the start of a fourth in one write, then SIGTERM. */
    const char batch[] = DOC("s2") DOC("s3") DOC("s4") "{\"id\":\"s5\",\"bo";
    assert_true(write(w, batch, strlen(batch)) == (ssize_t)strlen(batch));
    it_sleep_ms(500);
    int ws = it_stop(pid, 30000);
    close(w);
    char *said = tu_read(log, NULL);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 1 || strstr(said, "4 documents delivered") == NULL ||
        strstr(said, "a line read only in part (14 bytes)") == NULL)
        fail_msg("wait status %d; the producer said: %s", ws, said);
    free(said);
    static const char *const want[] = {"s1", "s2", "s3", "s4"};
    exactly_once(topic, want, 4);
    tu_rmtree(dir);
    free(dir);
}

/* --follow: a growing file, rotated, like tail -F; SIGTERM is its normal end (status 0). */
static void follow_publishes_a_growing_file(void **state)
{
    (void)state;
    char topic[128];
    it_topic_name("follow", topic, sizeof topic);
    it_create_topic(topic, 2);
    char *dir = tu_mkdtemp();
    char path[4200], old[4200], log[4200];
    snprintf(path, sizeof path, "%s/wire.jsonl", dir);
    snprintf(old, sizeof old, "%s/wire.jsonl.1", dir);
    snprintf(log, sizeof log, "%s/producer.log", dir);
    tu_write(dir, "wire.jsonl", DOC("f1"), strlen(DOC("f1")));
    static char bin[4096];
    snprintf(bin, sizeof bin, "%s", it_bin("newswatch-producer"));
    char *argv[] = {bin, "-b", (char *)it_brokers(), "-t", topic, "--follow", path, NULL};
    long pid = it_spawn(argv, log);
    assert_true(seen_within(topic, "f1", 10000));
    FILE *f = fopen(path, "a");
    fputs(DOC("f2"), f);
    fclose(f);
    assert_true(seen_within(topic, "f2", 10000));
    assert_int_equal(rename(path, old), 0); /* rotated */
    tu_write(dir, "wire.jsonl", DOC("f3"), strlen(DOC("f3")));
    if (!seen_within(topic, "f3", 10000)) {
        it_show_log(log);
        fail_msg("the rotated file's new line was not published");
    }
    int ws = it_stop(pid, 30000);
    char *said = tu_read(log, NULL);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0 || strstr(said, "rotated") == NULL)
        fail_msg("wait status %d; the producer said: %s", ws, said);
    free(said);
    static const char *const want[] = {"f1", "f2", "f3"};
    exactly_once(topic, want, 3);
    tu_rmtree(dir);
    free(dir);
}

/*
 * --watch: a drop folder. A file there at start, one moved in, one written in
 * place are each published once and moved to .done/; a file with a bad line
 * goes to .failed/ with NAME.reason (its good line is still published).
 */
static void watch_publishes_each_dropped_file_once(void **state)
{
    (void)state;
    char topic[128];
    it_topic_name("drop", topic, sizeof topic);
    it_create_topic(topic, 2);
    char *dir = tu_mkdtemp();
    char drop[512], log[600], path[700], tmp[700];
    snprintf(drop, sizeof drop, "%s/drop", dir);
    snprintf(log, sizeof log, "%s/producer.log", dir);
    assert_int_equal(mkdir(drop, 0755), 0);
    tu_write(drop, "a.jsonl", DOC("w1"), strlen(DOC("w1")));
    static char bin[4096];
    snprintf(bin, sizeof bin, "%s", it_bin("newswatch-producer"));
    char *argv[] = {bin, "-b", (char *)it_brokers(), "-t", topic, "--watch", drop, NULL};
    long pid = it_spawn(argv, log);
    assert_true(seen_within(topic, "w1", 10000));
    /* moved in: written elsewhere, then renamed into the folder */
    tu_write(dir, "b.jsonl", DOC("w2") DOC("w3"), strlen(DOC("w2") DOC("w3")));
    snprintf(tmp, sizeof tmp, "%s/b.jsonl", dir);
    snprintf(path, sizeof path, "%s/b.jsonl", drop);
    assert_int_equal(rename(tmp, path), 0);
    /* written in place (published once it is closed) */
    tu_write(drop, "c.jsonl", DOC("w4"), strlen(DOC("w4")));
    /* a bad line among good ones */
    tu_write(drop, "d.jsonl", "{not json\n" DOC("w5"), strlen("{not json\n" DOC("w5")));
    if (!seen_within(topic, "w5", 10000)) {
        it_show_log(log);
        fail_msg("the dropped files were not published");
    }
    it_sleep_ms(1000); /* the last file's delivery, then its move */
    int ws = it_stop(pid, 30000);
    char *said = tu_read(log, NULL);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 1) /* 1: a line was skipped */
        fail_msg("wait status %d; the producer said: %s", ws, said);
    free(said);
    static const char *const want[] = {"w1", "w2", "w3", "w4", "w5"};
    exactly_once(topic, want, 5);
    static const char *const done[] = {".done/a.jsonl", ".done/b.jsonl", ".done/c.jsonl",
                                       ".failed/d.jsonl", ".failed/d.jsonl.reason"};
    for (size_t i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/%s", drop, done[i]);
        if (access(path, F_OK) != 0) {
            it_show_log(log);
            fail_msg("no %s", path);
        }
    }
    snprintf(path, sizeof path, "%s/.failed/d.jsonl.reason", drop);
    char *reason = tu_read(path, NULL);
    assert_non_null(strstr(reason, "1 skipped"));
    assert_non_null(strstr(reason, "d.jsonl:1"));
    free(reason);
    /* nothing left in the folder itself */
    for (const char *n = "a.jsonl"; n != NULL; n = NULL) {
        snprintf(path, sizeof path, "%s/%s", drop, n);
        assert_int_not_equal(access(path, F_OK), 0);
    }
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seeds_round_trip_through_kafka),
        cmocka_unit_test(bad_inputs_are_skipped_and_good_ones_delivered),
        cmocka_unit_test(json_lines_from_stdin),
        cmocka_unit_test(stdin_streams_and_a_signal_keeps_every_whole_line),
        cmocka_unit_test(follow_publishes_a_growing_file),
        cmocka_unit_test(watch_publishes_each_dropped_file_once),
        cmocka_unit_test(unreachable_broker_fails_fast_and_clearly),
        cmocka_unit_test(missing_topic_is_a_clear_error),
        cmocka_unit_test(config_file_sets_topic_and_kafka_properties),
        cmocka_unit_test(consumer_creates_the_topics),
    };
    return cmocka_run_group_tests_name("producer_kafka", tests, NULL, NULL);
}
