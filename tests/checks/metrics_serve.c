/*
 * tests/checks/metrics.sh's server: consumer/http.c serving a registry
 * filled with known values (what a daemon that processed the seeds would
 * show), for promtool and a real Prometheus to read.
 *
 *   metrics_serve PORT [STALE_MS]
 *
 * Listens on 127.0.0.1:PORT, prints "listening on 127.0.0.1:PORT" once it
 * serves, and runs until SIGTERM or SIGINT. It starts not ready (no stage
 * assigned); SIGUSR1 makes it ready, SIGUSR2 stops its heartbeat (so that
 * /healthz fails after STALE_MS, default 1000).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../consumer/http.h"
#include "../../consumer/metrics.h"

static volatile sig_atomic_t stop, make_ready, freeze;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        make_ready = 1;
    else if (sig == SIGUSR2)
        freeze = 1;
    else
        stop = 1;
}

static void collect_sinks(nw_metrics *m, void *arg)
{
    (void)arg;
    nw_sink_stats s[NW_SINK_COUNT] = {
        {"stdout", 1, 2, 0, 0, 0, 0},
        {"alertmanager", 1, 1, 1, 3, 0, 0},
        {"webhook", 0, 0, 0, 0, 0, 0},
    };
    nw_metrics_sinks(m, s);
}

/* What the seeds give: 42 documents in, two dead letters, two alerts. */
static void fill(nw_metrics *m)
{
    nw_metrics_doc_in(m, NW_METRICS_ENRICH, 42);
    for (int i = 0; i < 40; i++)
        nw_metrics_doc_out(m, NW_METRICS_ENRICH, NW_METRICS_OUT_ENRICHED);
    for (int i = 0; i < 3; i++)
        nw_metrics_doc_out(m, NW_METRICS_ENRICH, NW_METRICS_OUT_MATCHES);
    nw_metrics_dlq(m, NW_METRICS_ENRICH, "invalid UTF-8 at byte offset 3");
    nw_metrics_dlq(m, NW_METRICS_ENRICH, "the message is 2097183 bytes, over the limit");
    nw_metrics_txn(m, NW_METRICS_ENRICH, true);
    nw_metrics_doc_in(m, NW_METRICS_ENRICH, 5);
    nw_metrics_txn(m, NW_METRICS_ENRICH, false); /* aborted: not counted */
    nw_metrics_doc_in(m, NW_METRICS_ALERT, 3);
    nw_metrics_alert(m, "baghdad-bombing", "new");
    nw_metrics_alert(m, "baghdad-bombing", "update");
    nw_metrics_alert(m, "say \"hi\"\\\n", "new"); /* escaping, as promtool reads it */
    for (int i = 0; i < 3; i++)
        nw_metrics_doc_out(m, NW_METRICS_ALERT, NW_METRICS_OUT_ALERT_STATE);
    for (int i = 0; i < 3; i++)
        nw_metrics_doc_out(m, NW_METRICS_ALERT, NW_METRICS_OUT_ALERTS);
    nw_metrics_txn(m, NW_METRICS_ALERT, true);
    const double batches[] = {0.004, 0.012, 0.03, 0.2, 1.5};
    for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++) {
        nw_metrics_batch_seconds(m, NW_METRICS_ENRICH, batches[i]);
        nw_metrics_latency_seconds(m, NW_METRICS_ENRICH, batches[i] * 2);
    }
    nw_metrics_batch_seconds(m, NW_METRICS_ALERT, 0.02);
    nw_metrics_latency_seconds(m, NW_METRICS_ALERT, 0.05);
    static const char stats[] =
        "{\"name\":\"newswatch-consumer-enrich-check#consumer-1\",\"type\":\"consumer\","
        "\"topics\":{\"news.raw\":{\"partitions\":{"
        "\"0\":{\"partition\":0,\"consumer_lag\":12},\"1\":{\"partition\":1,\"consumer_lag\":0},"
        "\"-1\":{\"partition\":-1,\"consumer_lag\":-1}}}}}";
    char err[256];
    if (nw_metrics_kafka_stats(m, stats, sizeof stats - 1, err, sizeof err) != NW_OK)
        fprintf(stderr, "metrics_serve: %s\n", err);
    nw_metrics_reload(m, false, 0);
    nw_metrics_reload(m, true, (double)time(NULL));
    nw_metrics_set_collector(m, collect_sinks, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: metrics_serve PORT [STALE_MS]\n");
        return 2;
    }
    nw_http_config c;
    nw_http_config_init(&c);
    c.port = (unsigned)strtoul(argv[1], NULL, 10);
    c.stale_ms = argc > 2 ? strtol(argv[2], NULL, 10) : 1000;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    char err[512];
    nw_metrics *m = NULL;
    nw_http *h = NULL;
    if (nw_metrics_new(0, &m, err, sizeof err) != NW_OK ||
        nw_http_new(&c, m, &h, err, sizeof err) != NW_OK) {
        fprintf(stderr, "metrics_serve: %s\n", err);
        nw_metrics_free(m);
        return 1;
    }
    fill(m);
    printf("listening on 127.0.0.1:%u\n", nw_http_port(h));
    fflush(stdout);
    while (!stop) {
        if (!freeze)
            nw_metrics_heartbeat(m);
        if (make_ready) {
            make_ready = 0;
            nw_metrics_set_assigned(m, NW_METRICS_ENRICH, true);
            nw_metrics_set_assigned(m, NW_METRICS_ALERT, true);
            nw_metrics_set_broker(m, true);
        }
        struct timespec tick = {0, 50 * 1000000L};
        nanosleep(&tick, NULL);
    }
    nw_http_free(h);
    nw_metrics_free(m);
    return 0;
}
