/*
 * Faults a real broker cannot be made to show on demand, injected with
 * librdkafka's mock cluster (rdkafka_mock.h): request errors, slow brokers,
 * coordinators that move. The mock cluster listens on 127.0.0.1 inside this
 * test process; the daemon runs as a separate process against it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

/* Kafka protocol request types. */
enum {
    API_PRODUCE = 0,
    API_FETCH = 1,
    API_FIND_COORDINATOR = 10,
    API_END_TXN = 26,
    API_ADD_OFFSETS_TO_TXN = 25,
    API_TXN_OFFSET_COMMIT = 28
};
/* Error codes. */
enum {
    NOT_ENOUGH_REPLICAS = 19,
    NOT_COORDINATOR = 16,
    COORDINATOR_LOAD_IN_PROGRESS = 14,
    REQUEST_TIMED_OUT = 7
};

typedef struct mock {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *cluster;
    char bootstraps[512];
    char dir[512], conf[600], log[600];
} mock;

static int mock_start(void **state)
{
    mock *m = calloc(1, sizeof *m);
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (m->rk == NULL)
        return -1;
    m->cluster = rd_kafka_mock_cluster_new(m->rk, 3);
    if (m->cluster == NULL)
        return -1;
    snprintf(m->bootstraps, sizeof m->bootstraps, "%s",
             rd_kafka_mock_cluster_bootstraps(m->cluster));
    static const struct {
        const char *name;
        int partitions;
    } topics[] = {{"news.raw", 3},    {"news.enriched", 3},    {"news.matches", 3},
                  {"news.alerts", 3}, {"news.alert-state", 3}, {"news.dlq", 1}};
    for (size_t i = 0; i < 6; i++)
        rd_kafka_mock_topic_create(m->cluster, topics[i].name, topics[i].partitions, 1);
    char *dir = tu_mkdtemp();
    snprintf(m->dir, sizeof m->dir, "%s", dir);
    free(dir);
    snprintf(m->conf, sizeof m->conf, "%s/n.conf", m->dir);
    snprintf(m->log, sizeof m->log, "%s/daemon.log", m->dir);
    char text[1024];
    int n = snprintf(text, sizeof text,
                     "bootstrap.servers = %s\n[consumer]\nbatch.ms = 50\nbatch.messages = 20\n"
                     "transactional.id.prefix = mock\n[sinks]\nstdout = false\n"
                     "[http]\nlisten = 127.0.0.1:0\n",
                     m->bootstraps);
    tu_write(m->dir, "n.conf", text, (size_t)n);
    *state = m;
    return 0;
}

static int mock_stop(void **state)
{
    mock *m = *state;
    it_kill_spawned(); /* a daemon a failed test left running */
    rd_kafka_mock_cluster_destroy(m->cluster);
    rd_kafka_destroy(m->rk);
    tu_rmtree(m->dir);
    free(m);
    return 0;
}

static void show_log(const mock *m)
{
    it_show_log(m->log);
}

static long start_daemon(const mock *m)
{
    static char bin[4096];
    snprintf(bin, sizeof bin, "%s", it_bin("newswatch-consumer"));
    char *argv[] = {bin, "-c", (char *)m->conf, NULL};
    return it_spawn(argv, m->log);
}

/* Publishes n small documents (every tenth about a Baghdad bombing). */
static void publish(const mock *m, const char *prefix, int n)
{
    size_t cap = (size_t)n * 300 + 64, len = 0;
    char *out = malloc(cap);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, cap - len,
                                i % 10 == 0 ? "{\"id\":\"%s-%03d\",\"body\":\"انفجار سيارة مفخخة "
                                              "في منطقة الكرادة في بغداد رقم %d\"}\n"
                                            : "{\"id\":\"%s-%03d\",\"body\":\"خبر اقتصادي عن "
                                              "أسعار النفط في الأسواق العالمية رقم %d\"}\n",
                                prefix, i, i);
    char name[128];
    snprintf(name, sizeof name, "%s.jsonl", prefix);
    tu_write(m->dir, name, out, len);
    free(out);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' -q -c '%s' '%s/%s'", it_bin("newswatch-producer"), m->conf,
             m->dir, name);
    it_result r;
    it_run(cmd, NULL, &r);
    if (r.status != 0)
        fail_msg("publishing to the mock cluster failed: %s", r.err);
    it_result_free(&r);
}

/* The committed records of a topic of the mock cluster, read with kcat. */
static json_t *consume(const mock *m, const char *topic)
{
    return it_kcat_consume_from(m->bootstraps, topic);
}

/* Waits until news.enriched holds n records, then checks that every key is there once. */
static void expect_each_once(const mock *m, const char *prefix, int n, int timeout_ms)
{
    double end = it_now_ms() + timeout_ms;
    json_t *e = NULL;
    size_t have = 0;
    for (;;) {
        json_decref(e);
        e = consume(m, "news.enriched");
        have = 0;
        size_t i;
        json_t *v;
        json_array_foreach(e, i, v)
        {
            const char *key = json_string_value(json_object_get(v, "key"));
            have += key != NULL && strncmp(key, prefix, strlen(prefix)) == 0;
        }
        if ((int)have >= n || it_now_ms() > end)
            break;
        it_sleep_ms(500);
    }
    it_sleep_ms(1000); /* a duplicate would show up now */
    json_decref(e);
    e = consume(m, "news.enriched");
    int seen[1000] = {0};
    size_t i;
    json_t *v;
    json_array_foreach(e, i, v)
    {
        const char *key = json_string_value(json_object_get(v, "key"));
        if (key == NULL || strncmp(key, prefix, strlen(prefix)) != 0)
            continue;
        int k = atoi(key + strlen(prefix) + 1);
        if (++seen[k] > 1)
            fail_msg("%s enriched twice", key);
    }
    for (int k = 0; k < n; k++)
        if (seen[k] != 1) {
            show_log(m);
            fail_msg("%s-%03d enriched %d times", prefix, k, seen[k]);
        }
    json_decref(e);
}

/* Produce, commit and coordinator requests that fail, and a slow broker. */
static void request_errors_and_timeouts(void **state)
{
    mock *m = *state;
    long pid = start_daemon(m);
    it_sleep_ms(3000);
    rd_kafka_mock_push_request_errors(m->cluster, API_PRODUCE, 4, NOT_ENOUGH_REPLICAS,
                                      NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS);
    rd_kafka_mock_push_request_errors(m->cluster, API_END_TXN, 2, NOT_COORDINATOR,
                                      COORDINATOR_LOAD_IN_PROGRESS);
    rd_kafka_mock_push_request_errors(m->cluster, API_TXN_OFFSET_COMMIT, 2,
                                      COORDINATOR_LOAD_IN_PROGRESS, NOT_COORDINATOR);
    rd_kafka_mock_push_request_errors(m->cluster, API_FETCH, 2, NOT_ENOUGH_REPLICAS,
                                      REQUEST_TIMED_OUT);
    for (int b = 1; b <= 3; b++)
        rd_kafka_mock_broker_set_rtt(m->cluster, b, 500);
    publish(m, "errs", 60);
    it_sleep_ms(3000);
    for (int b = 1; b <= 3; b++)
        rd_kafka_mock_broker_set_rtt(m->cluster, b, 0);
    expect_each_once(m, "errs", 60, 60000);
    int ws = it_stop(pid, 30000);
    if (!(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) || getenv("NW_SHOW_LOGS") != NULL)
        show_log(m);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
}

/* The transaction and group coordinators move to other brokers mid-run. */
static void coordinators_move(void **state)
{
    mock *m = *state;
    long pid = start_daemon(m);
    it_sleep_ms(3000);
    publish(m, "move", 40);
    char host[128] = "host", txn[256];
    gethostname(host, sizeof host - 1);
    snprintf(txn, sizeof txn, "mock-enrich-%s-%ld", host, pid);
    for (int round = 0; round < 3; round++) {
        rd_kafka_mock_coordinator_set(m->cluster, "transaction", txn, 1 + (round + 1) % 3);
        rd_kafka_mock_coordinator_set(m->cluster, "group", "newswatch-enrich", 1 + round % 3);
        it_sleep_ms(1000);
    }
    expect_each_once(m, "move", 40, 60000);
    assert_int_equal(it_stop(pid, 30000), 0);
}

/* A broker that goes down and comes back. */
static void a_broker_goes_down(void **state)
{
    mock *m = *state;
    long pid = start_daemon(m);
    it_sleep_ms(3000);
    publish(m, "down", 40);
    rd_kafka_mock_broker_set_down(m->cluster, 2);
    it_sleep_ms(3000);
    rd_kafka_mock_broker_set_up(m->cluster, 2);
    expect_each_once(m, "down", 40, 90000);
    assert_int_equal(it_stop(pid, 30000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(request_errors_and_timeouts, mock_start, mock_stop),
        cmocka_unit_test_setup_teardown(coordinators_move, mock_start, mock_stop),
        cmocka_unit_test_setup_teardown(a_broker_goes_down, mock_start, mock_stop),
    };
    return cmocka_run_group_tests_name("daemon_faults", tests, NULL, NULL);
}
