/*
 * Ops sinks for alerts (newswatch.alert/2): where the alert stage's alerts
 * go besides Kafka. Glue used by the programs, like kafka/; the only code
 * that uses libcurl (lib/ has no network code in it). docs/sinks.md
 * describes what each sink sends.
 *
 *   stdout        the alert JSON and '\n', written synchronously by
 *                 nw_sinks_send (JSON Lines)
 *   alertmanager  POST {url}/api/v2/alerts (Prometheus Alertmanager API v2):
 *                 nw_sinks_send posts a new incident's or an update's alert
 *                 at once; nw_sinks_resend re-posts every alert of the
 *                 incidents the caller holds, as Prometheus does, with endsAt
 *                 ALERTMANAGER_LIFETIME resend intervals ahead while they fire
 *                 and in the past once they resolved
 *   webhook       POST {url} with the alert JSON as the body and
 *                 `Idempotency-Key: <alert id>`
 *
 * Each HTTP sink has its own worker thread, bounded queue and libcurl easy
 * handle: nw_sinks_send copies what it needs, enqueues and returns at once,
 * so a slow or dead sink never blocks the caller or another sink. Delivery
 * is at-least-once: failures are retried with exponential backoff and
 * jitter, a bounded number of times; receivers deduplicate on the alert id.
 * A full queue drops its oldest alert. Problems are logged on stderr as
 * "<program>: sink <name>: ..." and counted (nw_sinks_stats).
 *
 * Threads: nw_sinks_send, nw_sinks_flush and nw_sinks_stats may be called
 * from any thread; nw_sinks_new and nw_sinks_free from one. The worker
 * threads block every signal, so signals go to the program's own threads.
 */
#ifndef NEWSWATCH_SINKS_H
#define NEWSWATCH_SINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "newswatch/alerts.h"
#include "newswatch/error.h"
#include "newswatch/kvconf.h"

#define NW_SINKS_URL_MAX     2048 /* bytes of a URL, NUL included */
#define NW_SINKS_HEADER_MAX  1024 /* bytes of one "Name: value" header, NUL included */
#define NW_SINKS_HEADERS_MAX 16   /* webhook.header entries */
/* A firing alert's endsAt is this many resend intervals ahead (Prometheus: 4). */
#define NW_SINKS_AM_LIFETIME 4

/*
 * One alert as the sinks see it. Every pointer is borrowed: it only has to
 * stay valid during nw_sinks_send, which copies what it keeps. Strings are
 * NUL-terminated UTF-8; those marked "may be NULL" may be, and a NULL among
 * the others is sent as "".
 */
typedef struct nw_alert_view {
    const char *alert_id;     /* stable across retries: receivers deduplicate on it */
    const char *event;        /* tracked event id */
    const char *status;       /* "new" or "update" */
    const char *severity;     /* as configured for the event, e.g. "critical" */
    const char *title;        /* the document's title */
    const char *evidence;     /* the sentence that matched */
    const char *doc_id;       /* the document's id */
    const char *source;       /* may be NULL */
    const char *url;          /* the document's URL; may be NULL */
    const char *published_at; /* RFC 3339; may be NULL */
    const char *detected_at;  /* RFC 3339 */
    const char *json;         /* the whole newswatch.alert/2 object, on one line */
    size_t json_len;          /* its length in bytes (json need not be NUL-terminated) */
} nw_alert_view;

/*
 * What to send where. A plain struct the caller owns: nw_sinks_new copies
 * what it needs. An empty URL turns that sink off.
 */
typedef struct nw_sinks_config {
    int stdout_enabled;                      /* stdout = true|false (default true) */
    char alertmanager_url[NW_SINKS_URL_MAX]; /* alertmanager.url: base URL ("" = off) */
    char webhook_url[NW_SINKS_URL_MAX];      /* webhook.url ("" = off) */
    char webhook_headers[NW_SINKS_HEADERS_MAX][NW_SINKS_HEADER_MAX]; /* "Name: value" */
    size_t webhook_header_count; /* webhook.header, repeatable */
    int retry_attempts;          /* retry.attempts: tries per alert, first included (5) */
    int backoff_ms;              /* retry.backoff.ms: first backoff (200) */
    int backoff_max_ms;          /* retry.backoff.max.ms: cap (10000) */
    int timeout_ms;              /* timeout.ms: per HTTP request, connect included (5000) */
    size_t queue_size;           /* queue.size: alerts per HTTP sink queue (1000) */
    char generator_url[NW_SINKS_URL_MAX]; /* generator.url: Alertmanager generatorURL */
    int am_resend_ms; /* alertmanager.resend.ms: re-post active alerts this often (60000) */
    char program[64]; /* prefix of stderr messages ("newswatch") */
} nw_sinks_config;

/* The sinks, in the order of nw_sinks_stats' array. */
typedef enum nw_sink_kind {
    NW_SINK_STDOUT,
    NW_SINK_ALERTMANAGER,
    NW_SINK_WEBHOOK,
    NW_SINK_COUNT
} nw_sink_kind;

/* Counters of one sink since nw_sinks_new. */
typedef struct nw_sink_stats {
    const char *name;             /* "stdout", "alertmanager", "webhook" (static) */
    int enabled;                  /* configured */
    unsigned long long delivered; /* alerts the sink accepted (HTTP 2xx; written for stdout) */
    unsigned long long failed;    /* alerts given up on: attempts exhausted or a 4xx rejection */
    unsigned long long retries;   /* repeated requests (attempts after the first) */
    unsigned long long dropped;   /* alerts never tried to the end: full queue, or shutdown */
    unsigned long long pending;   /* alerts queued or in flight now */
} nw_sink_stats;

typedef struct nw_sinks nw_sinks;

/* Fills *c with the defaults above (stdout on, both HTTP sinks off). */
void nw_sinks_config_init(nw_sinks_config *c);

/*
 * Applies the [sinks] entries of conf (may be NULL) on top of *c. An
 * unknown key, a bad number, a URL that is not http(s), a header without
 * ':' and the like are NW_ECONFIG with "file:line: problem" in errbuf.
 */
nw_err nw_sinks_config_apply(nw_sinks_config *c, const nw_kvconf *conf, char *errbuf,
                             size_t errlen);

/*
 * Starts the sinks *c turns on: a worker thread per HTTP sink. out is where
 * the stdout sink writes (NULL: stdout); it must outlive the sinks and is
 * not closed. NW_EINVAL for an invalid configuration, NW_ENOMEM when memory,
 * libcurl or a thread cannot be had. *s is freed with nw_sinks_free.
 */
nw_err nw_sinks_new(const nw_sinks_config *c, FILE *out, nw_sinks **s, char *errbuf, size_t errlen);

/*
 * Sends one alert to every sink: writes it to stdout now, queues a copy for
 * each HTTP sink and returns without waiting for the network. Failures are
 * logged and counted, never returned: a sink's trouble is not the caller's.
 */
void nw_sinks_send(nw_sinks *s, const nw_alert_view *a);

/*
 * Waits up to timeout_ms for every HTTP sink's queue to drain (each alert
 * delivered, failed or dropped). Returns 0 when drained, -1 on timeout.
 */
int nw_sinks_flush(nw_sinks *s, int timeout_ms);

/*
 * Alertmanager's resend, as Prometheus does it. The caller (the alert
 * stage's thread, between batches) asks nw_sinks_resend_due; when it says
 * yes, it lists the incidents it holds (nw_alerter_list with
 * nw_sinks_resend_keep_s) and hands the list to nw_sinks_resend.
 *
 * nw_sinks_resend_due: true when the Alertmanager sink is on and
 * alertmanager.resend.ms has passed since the last nw_sinks_resend (or there
 * was none). Call it from one thread.
 */
bool nw_sinks_resend_due(const nw_sinks *s);

/* How long a resolved alert is still re-posted, in seconds (the lifetime of a firing one). */
long nw_sinks_resend_keep_s(const nw_sinks *s);

/*
 * Queues one POST of every alert of l (borrowed: copied before it returns)
 * to Alertmanager: firing ones with endsAt NW_SINKS_AM_LIFETIME resend
 * intervals after now, resolved ones with endsAt when they resolved. now is
 * the wall clock in seconds, the time l was listed at. A resend still queued
 * is replaced by the newer one. Nothing is posted for an empty list. A no-op
 * when the Alertmanager sink is off or s is NULL.
 */
void nw_sinks_resend(nw_sinks *s, const nw_incident_list *l, int64_t now);

/* Copies each sink's counters into stats[NW_SINK_COUNT] (see nw_sink_kind). */
void nw_sinks_stats(const nw_sinks *s, nw_sink_stats stats[NW_SINK_COUNT]);

/*
 * Waits up to timeout.ms for the queues to drain, then stops the workers
 * (aborting a transfer in flight within about a second), counts what is
 * left as dropped (logged), joins the threads and frees everything. A
 * caller with more time calls nw_sinks_flush first. NULL is a no-op.
 */
void nw_sinks_free(nw_sinks *s);

#endif
