/*
 * The daemon's metrics, health and readiness (docs/metrics.md): a small
 * thread-safe registry of counters, gauges and histograms with fixed
 * buckets and bounded label sets, rendered in the Prometheus text
 * exposition format 0.0.4, and the state /healthz and /readyz answer from
 * (consumer/http.h serves them).
 *
 * Every metric is defined once, in the table in metrics.c (name, type,
 * help, labels, buckets, most series). The daemon reports what happens
 * through the calls below; none of them fails (out of memory loses a
 * sample, not the daemon), and each one is a no-op on a NULL registry, so a
 * caller without metrics needs no checks.
 *
 * Transactions: what a stage counts while a batch is in flight (documents
 * in and out, dead letters, alerts) is held back until the batch's
 * transaction ends: nw_metrics_txn(..., true) adds it to the totals,
 * nw_metrics_txn(..., false) forgets it. So the counters say what Kafka
 * holds, not what was attempted (an aborted batch is done again).
 *
 * Threads: every function may be called from any thread. Ownership: the
 * registry owns its series; strings passed in are copied.
 */
#ifndef NEWSWATCH_CONSUMER_METRICS_H
#define NEWSWATCH_CONSUMER_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "newswatch/error.h"
#include "../sinks/nw_sinks.h"

typedef enum nw_metrics_stage {
    NW_METRICS_ENRICH,
    NW_METRICS_ALERT,
    NW_METRICS_STAGE_COUNT
} nw_metrics_stage;

/* Bits of nw_metrics_new's stages: the stages this process runs. */
#define NW_METRICS_STAGE_BIT(s) (1u << (s))
/*
 * nw_metrics_new's stages for a feed poller (newswatch-producer with feeds):
 * no stage; the newswatch_feed_* families, build info, start time,
 * readiness and broker instead of the daemon's. Ready when the broker
 * answers and the feed state is restored (nw_metrics_set_held(m, 0)).
 */
#define NW_METRICS_FEEDS (1u << 8)

/* Output records of a stage, the label `output` of newswatch_documents_out_total. */
typedef enum nw_metrics_output {
    NW_METRICS_OUT_ENRICHED,
    NW_METRICS_OUT_MATCHES,
    NW_METRICS_OUT_ALERTS,
    NW_METRICS_OUT_ALERT_STATE,
    NW_METRICS_OUTPUT_COUNT
} nw_metrics_output;

typedef struct nw_metrics nw_metrics;

/*
 * A registry for a process that runs the stages in stages (a mask of
 * NW_METRICS_STAGE_BIT; 0 means both): only they must be assigned for
 * readiness, and their series exist from the start at 0. NW_ENOMEM with a
 * message. Free it with nw_metrics_free.
 */
nw_err nw_metrics_new(unsigned stages, nw_metrics **out, char *errbuf, size_t errlen);
/* Frees the registry; NULL is a no-op. No HTTP server may use it any more. */
void nw_metrics_free(nw_metrics *m);

/* The stage's name as in labels and log lines: "enrich", "alert". */
const char *nw_metrics_stage_name(nw_metrics_stage stage);

/*
 * The dead-letter class of a reason as the daemon writes it in the `error`
 * header (a static string): empty, too_large, invalid_utf8, invalid_json,
 * invalid_document, output_too_large, refused, processing, other. The free
 * text stays in the header and the log; the class keeps the label set small.
 */
const char *nw_metrics_dlq_class(const char *why);

/* ---- held until the batch's transaction ends (above) ---- */

/* n input messages of a batch (processed, dead letters included). */
void nw_metrics_doc_in(nw_metrics *m, nw_metrics_stage stage, unsigned long n);
/* One output record to the output topic. */
void nw_metrics_doc_out(nw_metrics *m, nw_metrics_stage stage, nw_metrics_output output);
/* One dead letter; why is the reason (classified with nw_metrics_dlq_class). */
void nw_metrics_dlq(nw_metrics *m, nw_metrics_stage stage, const char *why);
/* One alert decision of event (status: "new", "update", ...); counted by the alert stage. */
void nw_metrics_alert(nw_metrics *m, const char *event, const char *status);
/*
 * The end of a batch's transaction (or, at_least_once, its offset commit):
 * committed adds what was held back to the totals and counts a committed
 * transaction; otherwise it is forgotten and an aborted one counted.
 */
void nw_metrics_txn(nw_metrics *m, nw_metrics_stage stage, bool committed);

/* ---- feeds (a registry made with NW_METRICS_FEEDS) ---- */

/* A feed's series, at 0 from the start (so that rate() and increase() see them). */
void nw_metrics_feed_add(nw_metrics *m, const char *feed);
/*
 * One fetch of feed, by result (ok, not_modified, http_error,
 * network_error, parse_error, publish_error) and its duration in seconds (<
 * 0: none); ok and not_modified set the feed's last success to now.
 */
void nw_metrics_feed_poll(nw_metrics *m, const char *feed, const char *result, double seconds);
/* n items of feed, by outcome: published, duplicate, skipped. */
void nw_metrics_feed_items(nw_metrics *m, const char *feed, const char *outcome, unsigned long n);

/* ---- observations ---- */

/* The time from a batch's first poll to its commit or abort, in seconds. */
void nw_metrics_batch_seconds(nw_metrics *m, nw_metrics_stage stage, double seconds);
/*
 * End-to-end latency of one input message, in seconds: from its record's
 * timestamp (for news.raw, the producer's ingested_at) to the commit of the
 * transaction that holds its outputs.
 */
void nw_metrics_latency_seconds(nw_metrics *m, nw_metrics_stage stage, double seconds);

/* A SIGHUP reload: ok or not, at unix time when (seconds); start-up counts as a good load. */
void nw_metrics_reload(nw_metrics *m, bool ok, double when);

/*
 * One sink's counters (absolute values since the sinks started, as
 * nw_sinks_stats gives them); disabled sinks are not shown.
 */
void nw_metrics_sinks(nw_metrics *m, const nw_sink_stats stats[NW_SINK_COUNT]);

/*
 * Called at the start of every nw_metrics_render, without the registry's
 * lock held, so that values kept elsewhere (the sinks' counters) are fresh.
 * fn may call the functions above; NULL removes it. arg is borrowed.
 */
void nw_metrics_set_collector(nw_metrics *m, void (*fn)(nw_metrics *, void *), void *arg);

/*
 * librdkafka's statistics JSON (stats_cb, statistics.interval.ms): the
 * consumer_lag of each topic-partition of a consumer becomes
 * newswatch_kafka_consumer_lag{topic,partition}; partition -1 (internal)
 * and lag -1 (unknown) are skipped, and a partition the client no longer
 * reports (revoked) is removed. Statistics of producers are ignored.
 * NW_EJSON with a message when json is not librdkafka's statistics.
 */
nw_err nw_metrics_kafka_stats(nw_metrics *m, const char *json, size_t len, char *errbuf,
                              size_t errlen);

/* ---- health and readiness ---- */

/* The main loop is alive: /healthz answers 200 while the last beat is recent. */
void nw_metrics_heartbeat(nw_metrics *m);
/* Whether the stage has its assignment (set on assign, cleared on revoke or loss). */
void nw_metrics_set_assigned(nw_metrics *m, nw_metrics_stage stage, bool assigned);
/* Whether the broker answers (cleared when the daemon waits for it). */
void nw_metrics_set_broker(nw_metrics *m, bool reachable);
/* Partitions of the alert stage held because their state is not restored (0: all restored). */
void nw_metrics_set_held(nw_metrics *m, unsigned long partitions);
/* The daemon is stopping: not ready any more. */
void nw_metrics_set_stopping(nw_metrics *m);

/*
 * True when the last heartbeat is at most stale_ms old (the registry's
 * creation counts as one); otherwise false with the reason in why.
 */
bool nw_metrics_alive(nw_metrics *m, long stale_ms, char *why, size_t len);
/*
 * True when the daemon is not stopping, the broker is reachable, every
 * stage of the process is assigned and the state is restored; otherwise
 * false with the first reason in why, in that order ("stopping", "broker
 * unreachable", "enrich: not assigned", "alert: state not restored (2
 * partitions held)").
 */
bool nw_metrics_ready(nw_metrics *m, char *why, size_t len);

/*
 * The registry in the Prometheus text format 0.0.4 into *out (len bytes,
 * NUL-terminated; the caller frees it). NW_ENOMEM with a message.
 */
nw_err nw_metrics_render(nw_metrics *m, char **out, size_t *len, char *errbuf, size_t errlen);

#endif
