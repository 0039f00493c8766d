/*
 * The newswatch-consumer daemon against a real Kafka broker: alerts equal
 * --replay, dead letters, SIGTERM, SIGHUP, SIGKILL and restarts (exactly
 * once), two instances in one group, and a broker restart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

/* One test's world: its own topics, groups and files. */
typedef struct world {
    char prefix[128], dir[512], conf[600], log[600];
} world;

static void world_init(world *w, const char *name, int partitions, const char *extra)
{
    it_topic_name(name, w->prefix, sizeof w->prefix);
    char *dir = tu_mkdtemp();
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    free(dir);
    snprintf(w->conf, sizeof w->conf, "%s/n.conf", w->dir);
    snprintf(w->log, sizeof w->log, "%s/daemon.log", w->dir);
    char text[4096];
    int n = snprintf(text, sizeof text,
                     "bootstrap.servers = %s\n"
                     "[topics]\nraw = %s.raw\nenriched = %s.enriched\nmatches = %s.matches\n"
                     "alerts = %s.alerts\nalert-state = %s.alert-state\ndlq = %s.dlq\n"
                     "[consumer]\ngroup.enrich = %s-enrich\ngroup.alert = %s-alert\n"
                     "transactional.id.prefix = %s\nbatch.ms = 50\nbatch.messages = 50\n"
                     "enrich.threads = 3\n"
                     "[sinks]\nstdout = false\n[http]\nlisten = 127.0.0.1:0\n%s",
                     it_brokers(), w->prefix, w->prefix, w->prefix, w->prefix, w->prefix, w->prefix,
                     w->prefix, w->prefix, w->prefix, extra != NULL ? extra : "");
    tu_write(w->dir, "n.conf", text, (size_t)n);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' -q -c '%s' --create-topics --partitions %d",
             it_bin("newswatch-consumer"), w->conf, partitions);
    it_result r;
    it_run(cmd, NULL, &r);
    if (r.status != 0)
        fail_msg("create topics: %s", r.err);
    it_result_free(&r);
}

static void world_free(world *w)
{
    tu_rmtree(w->dir);
}

static const char *topic(const world *w, const char *role)
{
    static char name[256];
    snprintf(name, sizeof name, "%s.%s", w->prefix, role);
    return name;
}

static long start_daemon(const world *w, const char *extra_arg)
{
    char *argv[] = {(char *)it_bin("newswatch-consumer"), "-c", (char *)w->conf, (char *)extra_arg,
                    NULL};
    static char bin[4096];
    snprintf(bin, sizeof bin, "%s", it_bin("newswatch-consumer"));
    argv[0] = bin;
    return it_spawn(argv, w->log);
}

static void publish(const world *w, const char *path)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' -q -c '%s' -X message.max.bytes=8000000 '%s'",
             it_bin("newswatch-producer"), w->conf, path);
    it_result r;
    it_run(cmd, NULL, &r);
    /* Bad inputs are the test's business: the producer skips what it cannot send. */
    it_result_free(&r);
}

/* Waits until the topic holds at least n committed records; returns them. */
static json_t *wait_for(const world *w, const char *role, size_t n, int timeout_ms)
{
    double end = it_now_ms() + timeout_ms;
    for (;;) {
        json_t *msgs = it_kcat_consume(topic(w, role));
        if (json_array_size(msgs) >= n || it_now_ms() > end)
            return msgs;
        json_decref(msgs);
        it_sleep_ms(300);
    }
}

static void show_log(const world *w)
{
    it_show_log(w->log);
}

/* The replay of a path: its records of one schema, as an array. */
static json_t *replay(const char *path, const char *emit)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' -q --replay --emit %s '%s'", it_bin("newswatch-consumer"), emit,
             path);
    it_result r;
    it_run(cmd, NULL, &r);
    if (r.status != 0)
        fail_msg("replay failed: %s", r.err);
    json_t *all = it_json_lines(r.out, r.outlen);
    it_result_free(&r);
    return all;
}

static json_t *payload(const json_t *env)
{
    json_error_t jerr;
    return json_loads(json_string_value(json_object_get(env, "payload")), JSON_ALLOW_NUL, &jerr);
}

/*
 * The CloudEvents headers of a record (docs/schemas.md, "CloudEvents"): type,
 * source, id and subject as given (subject NULL: none), a time, and the JSON
 * content type with its schema (type NULL: a dead letter).
 */
static void assert_cloud_event(const json_t *env, const char *type, const char *source,
                               const char *id, const char *subject)
{
    const char *t = it_kcat_header(env, "ce_time");
    if (it_kcat_header(env, "ce_specversion") == NULL || t == NULL)
        fail_msg("no CloudEvents headers on the record with key %s",
                 json_string_value(json_object_get(env, "key")));
    assert_string_equal(it_kcat_header(env, "ce_specversion"), "1.0");
    assert_int_equal(strlen(t), 24); /* 2026-12-07T01:50:00.123Z */
    assert_string_equal(it_kcat_header(env, "ce_source"), source);
    assert_string_equal(it_kcat_header(env, "ce_id"), id);
    if (subject != NULL)
        assert_string_equal(it_kcat_header(env, "ce_subject"), subject);
    if (type == NULL) {
        assert_string_equal(it_kcat_header(env, "ce_type"), "newswatch.dead-letter");
        assert_string_equal(it_kcat_header(env, "content-type"), "application/octet-stream");
        return;
    }
    char dataschema[128];
    snprintf(dataschema, sizeof dataschema, "urn:newswatch:schema:%s", type);
    assert_string_equal(it_kcat_header(env, "ce_type"), type);
    assert_string_equal(it_kcat_header(env, "ce_dataschema"), dataschema);
    assert_string_equal(it_kcat_header(env, "content-type"), "application/json");
    assert_string_equal(it_kcat_header(env, "schema"), type);
}

/*
 * The value of the sample of metric name whose labels include every one of
 * want ("stage=\"enrich\"", ...; NULL-terminated) in a /metrics body; -1
 * when there is none.
 */
static double metric_value(const char *body, const char *name, const char *const *want)
{
    size_t nlen = strlen(name);
    for (const char *line = body; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        if (len > nlen && strncmp(line, name, nlen) == 0 &&
            (line[nlen] == '{' || line[nlen] == ' ')) {
            bool all = true;
            for (size_t i = 0; want[i] != NULL && all; i++) {
                const char *at = strstr(line, want[i]);
                all = at != NULL && at < line + len;
            }
            size_t sp = len;
            while (sp > 0 && line[sp - 1] != ' ')
                sp--;
            if (all && sp > 0)
                return strtod(line + sp, NULL);
        }
        line = end != NULL ? end + 1 : NULL;
    }
    return -1;
}

/*
 * The daemon's own endpoint (docs/metrics.md), after it committed docs
 * documents and alerts alerts: ready, healthy, and /metrics in the format
 * promtool accepts with counters that match.
 */
static void the_endpoint_counts_what_was_done(const world *w, size_t docs, size_t alerts)
{
    int port = it_daemon_http_port(w->log);
    if (port == 0) {
        show_log(w);
        fail_msg("the daemon's log does not say where it serves /metrics");
    }
    char *body = NULL;
    int code = it_http_get(port, "/readyz", &body);
    if (code != 200)
        fail_msg("/readyz: %d %s", code, body);
    free(body);
    assert_int_equal(it_http_get(port, "/healthz", &body), 200);
    free(body);
    static const char *const enrich_in[] = {"stage=\"enrich\"", NULL};
    static const char *const enriched_out[] = {"stage=\"enrich\"", "output=\"enriched\"", NULL};
    static const char *const alerts_out[] = {"stage=\"alert\"", "output=\"alerts\"", NULL};
    static const char *const committed[] = {"stage=\"enrich\"", "result=\"committed\"", NULL};
    static const char *const none[] = {NULL};
    /* The counters move just after the commits a reader sees: a moment's grace. */
    double t0 = it_now_ms();
    for (;;) {
        body = NULL;
        assert_int_equal(it_http_get(port, "/metrics", &body), 200);
        if ((metric_value(body, "newswatch_documents_in_total", enrich_in) == (double)docs &&
             metric_value(body, "newswatch_documents_out_total", alerts_out) == (double)alerts) ||
            it_now_ms() - t0 > 10000)
            break;
        free(body);
        it_sleep_ms(200);
    }
    if (metric_value(body, "newswatch_documents_in_total", enrich_in) != (double)docs ||
        metric_value(body, "newswatch_documents_out_total", enriched_out) != (double)docs ||
        metric_value(body, "newswatch_documents_out_total", alerts_out) != (double)alerts ||
        metric_value(body, "newswatch_transactions_total", committed) < 1 ||
        metric_value(body, "newswatch_ready", none) != 1)
        fail_msg("/metrics does not count %zu documents and %zu alerts:\n%s", docs, alerts, body);
    /* promtool (Debian's prometheus) checks the text format. */
    it_result r;
    it_run("command -v promtool", NULL, &r);
    bool have = r.status == 0;
    it_result_free(&r);
    if (have) {
        tu_write(w->dir, "metrics.txt", body, strlen(body));
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "promtool check metrics < '%s/metrics.txt'", w->dir);
        it_run(cmd, NULL, &r);
        if (r.status != 0)
            fail_msg("promtool check metrics: %s%s", r.out, r.err);
        it_result_free(&r);
    } else {
        fprintf(stderr, "promtool is not installed: /metrics format not checked (scripts/deps)\n");
    }
    free(body);
}

/* (a) The seeds through the daemon: news.alerts holds what --replay prints. */
static void seeds_alerts_equal_replay(void **state)
{
    (void)state;
    world w;
    world_init(&w, "seeds", 1, NULL); /* one partition: the replay's order */
    long pid = start_daemon(&w, NULL);
    publish(&w, it_seeds_dir());
    json_t *expect = replay(it_seeds_dir(), "alerts");
    size_t nalerts = json_array_size(expect);
    json_t *got = wait_for(&w, "alerts", nalerts, 60000);
    if (json_array_size(got) != json_array_size(expect)) {
        show_log(&w);
        fail_msg("%zu alerts in Kafka, --replay prints %zu", json_array_size(got),
                 json_array_size(expect));
    }
    for (size_t i = 0; i < json_array_size(expect); i++) {
        json_t *a = payload(json_array_get(got, i));
        json_t *b = json_array_get(expect, i);
        static const char *const keys[] = {"alert_id", "event",   "status",
                                           "doc_id",   "reasons", "evidence"};
        for (size_t k = 0; k < 6; k++) {
            const char *x = json_string_value(json_object_get(a, keys[k]));
            const char *y = json_string_value(json_object_get(b, keys[k]));
            if (x == NULL || y == NULL || strcmp(x, y) != 0)
                fail_msg("alert %zu: %s is '%s' in Kafka, '%s' in --replay", i, keys[k],
                         x ? x : "null", y ? y : "null");
        }
        const char *id = json_string_value(json_object_get(b, "alert_id"));
        const char *event = json_string_value(json_object_get(b, "event"));
        assert_cloud_event(json_array_get(got, i), "newswatch.alert/2", "/newswatch/alert", id,
                           event);
        json_decref(a);
    }
    /* Keys: the event id. */
    assert_string_equal(json_string_value(json_object_get(json_array_get(got, 0), "key")),
                        "baghdad-bombing");
    json_decref(got);
    json_decref(expect);
    json_t *enriched = wait_for(&w, "enriched", 5, 30000);
    assert_int_equal(json_array_size(enriched), 5);
    for (size_t i = 0; i < 5; i++) {
        const json_t *env = json_array_get(enriched, i);
        const char *key = json_string_value(json_object_get(env, "key"));
        assert_cloud_event(env, "newswatch.enriched/2", "/newswatch/enrich", key, key);
    }
    json_decref(enriched);
    json_t *matches = it_kcat_consume(topic(&w, "matches"));
    assert_true(json_array_size(matches) > 0);
    for (size_t i = 0; i < json_array_size(matches); i++) {
        json_t *m = payload(json_array_get(matches, i));
        const char *doc = json_string_value(json_object_get(m, "doc_id"));
        const char *event = json_string_value(json_object_get(m, "event"));
        assert_non_null(doc);
        assert_non_null(event);
        char id[600];
        snprintf(id, sizeof id, "%s/%s", doc, event);
        assert_cloud_event(json_array_get(matches, i), "newswatch.match/2", "/newswatch/enrich", id,
                           doc);
        json_decref(m);
    }
    json_decref(matches);
    json_t *states = it_kcat_consume(topic(&w, "alert-state"));
    assert_true(json_array_size(states) > 0);
    for (size_t i = 0; i < json_array_size(states); i++) {
        const json_t *env = json_array_get(states, i);
        const char *id = it_kcat_header(env, "ce_id");
        if (id == NULL || strncmp(id, "state:", 6) != 0)
            fail_msg("state record %zu: ce_id '%s'", i, id ? id : "none");
        assert_cloud_event(env, "newswatch.alert-state/2", "/newswatch/alert", id,
                           json_string_value(json_object_get(env, "key")));
    }
    json_decref(states);
    the_endpoint_counts_what_was_done(&w, 5, nalerts);
    /* (g) SIGTERM: exit 0 in bounded time. */
    double t0 = it_now_ms();
    int ws = it_stop(pid, 30000);
    if (!(WIFEXITED(ws) && WEXITSTATUS(ws) == 0)) {
        show_log(&w);
        fail_msg("the daemon did not exit 0 on SIGTERM (wait status %d)", ws);
    }
    assert_true(it_now_ms() - t0 < 20000);
    /* Offsets were committed: a restart processes nothing again. */
    pid = start_daemon(&w, NULL);
    it_sleep_ms(4000);
    assert_int_equal(it_stop(pid, 30000), 0);
    enriched = it_kcat_consume(topic(&w, "enriched"));
    assert_int_equal(json_array_size(enriched), 5);
    json_decref(enriched);
    world_free(&w);
}

/* (d) Invalid UTF-8, broken JSON, a 2 MB document and a wrong schema go to the DLQ. */
static void bad_messages_go_to_the_dead_letter_topic(void **state)
{
    (void)state;
    world w;
    world_init(&w, "dlq", 3, NULL);
    long pid = start_daemon(&w, NULL);
    char cmd[8192];
    it_result r;
    snprintf(
        cmd, sizeof cmd,
        "printf 'caf\\351 bomb' | kcat -b '%s' -P -t '%s' -k bad-utf8 && "
        "printf '{\"id\":\"x\",\"body\":' | kcat -b '%s' -P -t '%s' -k bad-json && "
        "printf '{\"schema\":\"other/1\",\"id\":\"y\",\"body\":\"text\"}' | kcat -b '%s' -P -t "
        "'%s' -k bad-schema",
        it_brokers(), topic(&w, "raw"), it_brokers(), topic(&w, "raw"), it_brokers(),
        topic(&w, "raw"));
    it_run(cmd, NULL, &r);
    assert_int_equal(r.status, 0);
    it_result_free(&r);
    /* A 2 MB document, sent with a raised message.max.bytes. */
    size_t big = 2 * 1024 * 1024;
    char *line = malloc(big + 100);
    size_t n = (size_t)sprintf(line, "{\"id\":\"big\",\"body\":\"");
    for (size_t i = 0; i < big / 2; i++, n += 2)
        memcpy(line + n, "ب", 2);
    n += (size_t)sprintf(line + n, "\"}\n");
    tu_write(w.dir, "big.jsonl", line, n);
    free(line);
    char path[700];
    snprintf(path, sizeof path, "%s/big.jsonl", w.dir);
    snprintf(cmd, sizeof cmd,
             "'%s' -q -c '%s' --max-bytes 8000000 -X message.max.bytes=8000000 '%s'",
             it_bin("newswatch-producer"), w.conf, path);
    it_run(cmd, NULL, &r);
    if (r.status != 0)
        fail_msg("could not publish the 2 MB document: %s", r.err);
    it_result_free(&r);
    /* And a good one after them: processing goes on. */
    char seed[700];
    snprintf(seed, sizeof seed, "%s/003_36327a287adc8b89.txt", it_seeds_dir());
    publish(&w, seed);

    json_t *dlq = wait_for(&w, "dlq", 4, 60000);
    json_t *enriched = wait_for(&w, "enriched", 1, 30000);
    if (json_array_size(dlq) != 4 || json_array_size(enriched) != 1)
        show_log(&w);
    assert_int_equal(json_array_size(dlq), 4);
    assert_int_equal(json_array_size(enriched), 1);
    static const struct {
        const char *key, *error;
    } want[] = {
        {"bad-utf8", "invalid UTF-8 at byte offset 3"},
        {"bad-json", "not valid JSON"},
        {"bad-schema", "not a newswatch.doc/1 document"},
        {"big", "over the limit of 1000000 bytes"},
    };
    for (size_t k = 0; k < 4; k++) {
        json_t *found = NULL;
        size_t i;
        json_t *env;
        json_array_foreach(dlq, i, env)
        {
            const char *key = json_string_value(json_object_get(env, "key"));
            if (key != NULL && strcmp(key, want[k].key) == 0)
                found = env;
        }
        if (found == NULL)
            fail_msg("no dead letter for %s", want[k].key);
        const char *err = it_kcat_header(found, "error");
        if (err == NULL || strstr(err, want[k].error) == NULL)
            fail_msg("%s: error header '%s'", want[k].key, err ? err : "none");
        assert_string_equal(it_kcat_header(found, "stage"), "enrich");
        assert_string_equal(it_kcat_header(found, "source.topic"), topic(&w, "raw"));
        assert_non_null(it_kcat_header(found, "source.partition"));
        assert_non_null(it_kcat_header(found, "source.offset"));
        char id[300];
        snprintf(id, sizeof id, "dlq:%s:%s:%s", topic(&w, "raw"),
                 it_kcat_header(found, "source.partition"), it_kcat_header(found, "source.offset"));
        assert_cloud_event(found, NULL, "/newswatch/enrich", id, want[k].key);
    }
    json_decref(dlq);
    json_decref(enriched);
    assert_int_equal(it_stop(pid, 30000), 0);
    world_free(&w);
}

/* (f) SIGHUP: a new tracked event applies to later documents; a broken file changes nothing. */
static void sighup_reloads_tracked_events(void **state)
{
    (void)state;
    world w;
    char extra[1024];
    char dir_events[700];
    it_topic_name("hup", w.prefix, sizeof w.prefix); /* for the events path below */
    char *tmp = tu_mkdtemp();
    snprintf(dir_events, sizeof dir_events, "%s/events.conf", tmp);
    size_t len;
    char *events = tu_read("config/events.conf", &len);
    assert_non_null(events);
    assert_non_null(events);
    tu_write(tmp, "events.conf", events, len);
    snprintf(extra, sizeof extra, "[pipeline]\nevents = %s\n", dir_events);
    world_init(&w, "hup", 1, extra);
    long pid = start_daemon(&w, NULL);

    tu_write(w.dir, "a.txt", "انفجار سيارة مفخخة في البصرة يوقع ضحايا",
             strlen("انفجار سيارة مفخخة في البصرة يوقع ضحايا"));
    char path[700];
    snprintf(path, sizeof path, "%s/a.txt", w.dir);
    publish(&w, path);
    json_t *e = wait_for(&w, "enriched", 1, 30000);
    assert_int_equal(json_array_size(e), 1);
    json_decref(e);
    json_t *m = it_kcat_consume(topic(&w, "matches"));
    assert_int_equal(json_array_size(m), 0); /* no event about Basra yet */
    json_decref(m);

    /* A new event, then SIGHUP. */
    char *more = malloc(len + 256);
    memcpy(more, events, len);
    int n = snprintf(more + len, 256,
                     "\n[event.basra-blast]\ntitle = Blast in Basra\n"
                     "severity = warning\nmatch = loc.basra AND bombing\n");
    tu_write(tmp, "events.conf", more, len + (size_t)n);
    free(more);
    /* The configuration file too: the sinks are reloaded (stdout on: the alert is printed), and
     * a change only a restart applies ([consumer]) is said. */
    FILE *cf = fopen(w.conf, "a"); /* a later key overrides an earlier one */
    assert_non_null(cf);
    fputs("[sinks]\nstdout = true\n[consumer]\nbatch.ms = 60\n", cf);
    fclose(cf);
    kill((pid_t)pid, SIGHUP);
    it_sleep_ms(1500);
    /* It says when ("اليوم"): a recurring event's first report must, to open an incident. */
    static const char b_txt[] = "تفجير عبوة ناسفة اليوم في سوق بمدينة البصرة جنوبي العراق";
    tu_write(w.dir, "b.txt", b_txt, strlen(b_txt));
    snprintf(path, sizeof path, "%s/b.txt", w.dir);
    publish(&w, path);
    json_t *alerts = wait_for(&w, "alerts", 1, 30000);
    if (json_array_size(alerts) != 1)
        show_log(&w);
    assert_int_equal(json_array_size(alerts), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(alerts, 0), "key")),
                        "basra-blast");
    json_decref(alerts);
    char *said = tu_read(w.log, NULL);
    if (strstr(said, "sinks: on") == NULL ||
        strstr(said, "reload: [consumer] batch.ms changed in ") == NULL ||
        strstr(said, "\"schema\":\"newswatch.alert/2\"") == NULL)
        show_log(&w);
    assert_non_null(strstr(said, "sinks: on"));
    assert_non_null(strstr(said, "a restart applies it"));
    assert_non_null(strstr(said, "\"schema\":\"newswatch.alert/2\"")); /* on stdout now */
    free(said);

    /* A broken file: the old configuration stays, and says why. */
    tu_write(tmp, "events.conf", "[event.x]\nmatch = (broken\n", 26);
    kill((pid_t)pid, SIGHUP);
    it_sleep_ms(1500);
    tu_write(w.dir, "c.txt", "انفجار جديد في البصرة أدى إلى أضرار في المباني القريبة",
             strlen("انفجار جديد في البصرة أدى إلى أضرار في المباني القريبة"));
    snprintf(path, sizeof path, "%s/c.txt", w.dir);
    publish(&w, path);
    json_t *matches = wait_for(&w, "matches", 2, 30000);
    assert_int_equal(json_array_size(matches), 2); /* basra-blast still tracked */
    json_decref(matches);
    char *log = tu_read(w.log, NULL);
    assert_non_null(strstr(log, "reloaded "));
    assert_non_null(strstr(log, "reload failed, keeping the old configuration"));
    free(log);
    assert_int_equal(it_stop(pid, 30000), 0);
    free(events);
    tu_rmtree(tmp);
    free(tmp);
    world_free(&w);
}

/* Writes n documents as JSON Lines: the seeds, reports written here, and filler. */
static void write_corpus(const world *w, size_t n, char *path, size_t pathlen)
{
    static const char *const places[] = {"الكرادة",  "مدينة الصدر", "الدورة",  "الشعب",
                                         "الكاظمية", "الأعظمية",    "المنصور", "بغداد الجديدة"};
    static const char *const filler[] = {
        "مهرجان",    "ثقافي",  "في",  "تونس",  "يستقطب", "الزوار", "من",      "كل",      "الجهات",
        "والفنانين", "الشباب", "هذا", "العام", "مع",     "عروض",   "موسيقية", "ومسرحية", "جديدة"};
    size_t cap = 4 << 20, len = 0;
    char *out = malloc(cap);
    static const char *const seeds[] = {"000_c7189a82eabcfedc", "001_36b4ca6c38791fab",
                                        "002_cf9858d6c968c6dd", "003_36327a287adc8b89",
                                        "004_6be975f03497fb3e"};
    size_t i = 0;
    for (; i < 5; i++) {
        char p[700];
        snprintf(p, sizeof p, "%s/%s.txt", it_seeds_dir(), seeds[i]);
        char *text = tu_read(p, NULL);
        json_t *doc = json_pack("{s:s, s:s}", "id", seeds[i], "body", text);
        char *s = json_dumps(doc, JSON_COMPACT);
        len += (size_t)snprintf(out + len, cap - len, "%s\n", s);
        free(s);
        json_decref(doc);
        free(text);
    }
    for (; i < 45; i++) { /* reports of events, worded differently each time */
        const char *place = places[i % 8];
        if (i % 3 == 0)
            len += (size_t)snprintf(out + len, cap - len,
                                    "{\"id\":\"report-%03zu\",\"body\":\"سقوط %zu صواريخ كاتيوشا "
                                    "قرب مطار بغداد الدولي مساء اليوم رقم %zu دون إصابات\"}\n",
                                    i, i % 5 + 2, i);
        else
            len += (size_t)snprintf(out + len, cap - len,
                                    "{\"id\":\"report-%03zu\",\"body\":\"انفجار عبوة ناسفة في "
                                    "منطقة %s في بغداد أسفر عن مقتل %zu أشخاص في الحادث رقم "
                                    "%zu\"}\n",
                                    i, place, i % 7 + 1, i);
    }
    for (; i < n; i++) {
        len += (size_t)snprintf(out + len, cap - len, "{\"id\":\"filler-%03zu\",\"body\":\"", i);
        for (size_t k = 0; k < 30; k++)
            len += (size_t)snprintf(out + len, cap - len, "%s ", filler[(i * 7 + k * 3) % 18]);
        len += (size_t)snprintf(out + len, cap - len, "%zu\"}\n", i);
    }
    tu_write(w->dir, "corpus.jsonl", out, len);
    free(out);
    snprintf(path, pathlen, "%s/corpus.jsonl", w->dir);
}

/* Every document enriched once, matches as --replay, no alert twice. */
static void check_exactly_once(const world *w, const char *corpus, size_t n)
{
    json_t *enriched = wait_for(w, "enriched", n, 120000);
    size_t got = json_array_size(enriched);
    /* Give a duplicate time to show up too. */
    it_sleep_ms(2000);
    json_decref(enriched);
    enriched = it_kcat_consume(topic(w, "enriched"));
    got = json_array_size(enriched);
    if (got != n)
        show_log(w);
    assert_int_equal(got, n);
    char **ids = calloc(n, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        const char *key = json_string_value(json_object_get(json_array_get(enriched, i), "key"));
        for (size_t k = 0; k < i; k++)
            if (strcmp(ids[k], key) == 0)
                fail_msg("document %s enriched twice", key);
        ids[i] = strdup(key);
    }
    json_t *expect = replay(corpus, "matches");
    json_t *matches = wait_for(w, "matches", json_array_size(expect), 30000);
    assert_int_equal(json_array_size(matches), json_array_size(expect));
    for (size_t i = 0; i < json_array_size(expect); i++) {
        const char *doc = json_string_value(json_object_get(json_array_get(expect, i), "doc_id"));
        const char *ev = json_string_value(json_object_get(json_array_get(expect, i), "event"));
        bool found = false;
        for (size_t k = 0; k < json_array_size(matches) && !found; k++) {
            json_t *p = payload(json_array_get(matches, k));
            found = strcmp(json_string_value(json_object_get(p, "doc_id")), doc) == 0 &&
                    strcmp(json_string_value(json_object_get(p, "event")), ev) == 0;
            json_decref(p);
        }
        if (!found)
            fail_msg("match (%s, %s) of --replay is not in Kafka", doc, ev);
    }
    json_t *alerts = wait_for(w, "alerts", 2, 60000);
    if (json_array_size(alerts) < 2)
        show_log(w);
    assert_true(json_array_size(alerts) >= 2);
    for (size_t i = 0; i < json_array_size(alerts); i++) {
        json_t *a = payload(json_array_get(alerts, i));
        for (size_t k = 0; k < i; k++) {
            json_t *b = payload(json_array_get(alerts, k));
            if (strcmp(json_string_value(json_object_get(a, "alert_id")),
                       json_string_value(json_object_get(b, "alert_id"))) == 0)
                fail_msg("alert %s published twice",
                         json_string_value(json_object_get(a, "alert_id")));
            json_decref(b);
        }
        json_decref(a);
    }
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    json_decref(alerts);
    json_decref(matches);
    json_decref(expect);
    json_decref(enriched);
}

/* (b) SIGKILL several times mid-run: every document once, no alert twice. */
static void sigkill_and_restart_lose_and_repeat_nothing(void **state)
{
    (void)state;
    world w;
    world_init(&w, "kill", 3, NULL);
    char corpus[700];
    write_corpus(&w, 300, corpus, sizeof corpus);
    publish(&w, corpus);
    for (int round = 0; round < 3; round++) {
        long pid = start_daemon(&w, NULL);
        it_sleep_ms(2500 + round * 700);
        it_kill(pid);
    }
    long pid = start_daemon(&w, NULL);
    check_exactly_once(&w, corpus, 300);
    assert_int_equal(it_stop(pid, 30000), 0);
    world_free(&w);
}

/* (c) Two instances in one group on six partitions, one stopped mid-run. */
static void two_instances_share_the_work(void **state)
{
    (void)state;
    world w;
    world_init(&w, "two", 6, NULL);
    char corpus[700];
    write_corpus(&w, 300, corpus, sizeof corpus);
    /* Two instances need two instance ids (static membership, transactional ids). */
    long a = start_daemon(&w, "--instance-id=it-a");
    long b = start_daemon(&w, "--instance-id=it-b");
    it_sleep_ms(3000);
    publish(&w, corpus);
    it_sleep_ms(1500);
    int ws = it_stop(b, 30000);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    check_exactly_once(&w, corpus, 300);
    assert_int_equal(it_stop(a, 30000), 0);
    world_free(&w);
}

/* (e) The broker stopped and restarted mid-run: nothing lost, nothing twice. */
static void a_broker_restart_loses_nothing(void **state)
{
    (void)state;
    const char *script = getenv("NW_KAFKA_SCRIPT");
    if (script == NULL || getenv("KAFKA_STATE_DIR") == NULL) {
        fprintf(stderr, "skipped: run through `make test` (needs scripts/kafka and its state)\n");
        skip();
    }
    world w;
    world_init(&w, "restart", 3, NULL);
    char corpus[700];
    write_corpus(&w, 200, corpus, sizeof corpus);
    long pid = start_daemon(&w, NULL);
    publish(&w, corpus);
    it_sleep_ms(800);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' restart", script);
    it_result r;
    it_run(cmd, NULL, &r);
    if (r.status != 0)
        fail_msg("broker restart failed: %s", r.err);
    it_result_free(&r);
    check_exactly_once(&w, corpus, 200);
    int ws = it_stop(pid, 30000);
    if (ws != 0)
        show_log(&w);
    assert_int_equal(ws, 0);
    world_free(&w);
}

/* processing.guarantee = at_least_once: no transactions, nothing lost. */
static void at_least_once_without_transactions(void **state)
{
    (void)state;
    world w;
    world_init(&w, "alo", 1, "[consumer]\nprocessing.guarantee = at_least_once\n");
    long pid = start_daemon(&w, NULL);
    publish(&w, it_seeds_dir());
    json_t *expect = replay(it_seeds_dir(), "alerts");
    json_t *got = wait_for(&w, "alerts", json_array_size(expect), 60000);
    if (json_array_size(got) != json_array_size(expect))
        show_log(&w);
    assert_int_equal(json_array_size(got), json_array_size(expect));
    json_decref(got);
    json_decref(expect);
    char *log = tu_read(w.log, NULL);
    assert_non_null(strstr(log, "at-least-once"));
    free(log);
    assert_int_equal(it_stop(pid, 30000), 0);
    world_free(&w);
}

/* Teardown: whatever a failed test left running. */
static int kill_leftovers(void **state)
{
    (void)state;
    it_kill_spawned();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(seeds_alerts_equal_replay, kill_leftovers),
        cmocka_unit_test_teardown(bad_messages_go_to_the_dead_letter_topic, kill_leftovers),
        cmocka_unit_test_teardown(sighup_reloads_tracked_events, kill_leftovers),
        cmocka_unit_test_teardown(sigkill_and_restart_lose_and_repeat_nothing, kill_leftovers),
        cmocka_unit_test_teardown(two_instances_share_the_work, kill_leftovers),
        cmocka_unit_test_teardown(at_least_once_without_transactions, kill_leftovers),
        cmocka_unit_test_teardown(a_broker_restart_loses_nothing, kill_leftovers),
    };
    return cmocka_run_group_tests_name("daemon", tests, NULL, NULL);
}
