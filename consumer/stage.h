/*
 * What the daemon's modules share (consumer/daemon.c, stage.c, restore.c,
 * work.c): its settings, the stage and daemon structures, and the functions
 * one module calls in another. Private to newswatch-consumer.
 *
 * Ownership: the daemon (one, static in nw_cmd_daemon) owns its two stages,
 * the pipeline, the enrichers, the sinks and the metrics; a stage owns its
 * Kafka clients, its batch and what the alert stage holds. Threads: one
 * runs both stages; the enrich stage's workers only read the pipeline.
 */
#ifndef NEWSWATCH_CONSUMER_STAGE_H
#define NEWSWATCH_CONSUMER_STAGE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "newswatch/log.h"
#include "newswatch/pipeline.h"
#include "newswatch/stages.h"
#include "newswatch/topics.h"
#include "../sinks/nw_sinks.h"
#include "http.h"
#include "metrics.h"
#include "options.h"

#define DEFAULT_BROKERS "127.0.0.1:9092"
#define TXN_TIMEOUT_MS  60000
/* During an outage, an idle stage asks the broker for metadata this often (probe_broker). */
#define PROBE_MS 5000
/* init_transactions at start: each try's bound, so that a wait is said and a signal heard. */
#define START_TRY_MS 5000
/* One wait of a transactional call; a call that times out is called again. */
#define TXN_CALL_MS 10000
/*
 * The consumer groups' session timeout and the producers' transaction timeout
 * unless [kafka] or -X sets others (librdkafka: 45 s and 60 s). A killed
 * instance's partitions move to another after the first, and become readable
 * once the broker has aborted its open transaction after the second
 * (docs/daemon.md, "Restarts and failover").
 */
#define DEFAULT_SESSION_TIMEOUT_MS     "10000"
#define DEFAULT_TRANSACTION_TIMEOUT_MS "10000"
/* Kafka's default max.message.bytes: a topic's limit until the broker says otherwise. */
#define DEFAULT_TOPIC_LIMIT 1048588L
/* The producers' message.max.bytes: no record larger than this is ever produced. */
#define PRODUCER_MAX_BYTES     10485760L
#define PRODUCER_MAX_BYTES_STR "10485760"
/* The topics' limits: how long a request may take, how long start-up waits, when to ask again. */
#define LIMITS_TIMEOUT_MS 10000
#define LIMITS_WAIT_MS    2000
#define LIMITS_RETRY_MS   30000
/* A record batch's and a record's overhead beyond key, value and headers (bytes, generous). */
#define RECORD_OVERHEAD 256
/* Retry a partition whose state could not be restored after this long, doubling up to a minute. */
#define RESTORE_RETRY_MS     2000
#define RESTORE_RETRY_MAX_MS 60000
/*
 * Batches that fail one after another for no reason a record gave: from the
 * FAILURES_TO_SPLIT-th the batch is halved. Such a failure is never blamed on
 * a message (a cluster short of in-sync replicas fails every batch alike):
 * only a record the broker refuses for itself sends its input to the DLQ.
 */
#define FAILURES_TO_SPLIT 3
/* Producer resets within RESET_WINDOW_MS beyond which another instance must share our id. */
#define RESETS_MAX      4
#define RESET_WINDOW_MS 120000
/* ---- settings ([consumer]) --------------------------------------------- */

enum { STAGE_ENRICH = 1, STAGE_ALERT = 2 };
#define MAX_ENRICH_THREADS 64
/* With both stages on one thread, the longest wait on one stage's input (ms). */
#define BOTH_IDLE_MS 5
typedef struct settings {
    char group_enrich[256], group_alert[256], txn_prefix[128];
    char instance_id[128]; /* group.instance.id and transactional.id carry it */
    int batch_messages, batch_ms, shutdown_ms;
    long startup_timeout_ms; /* 0: wait for the broker at start as long as it takes */
    int enrich_threads;      /* documents of a batch enriched in parallel */
    bool eos;
    size_t max_bytes;
} settings;
/* ---- the stages ---------------------------------------------------------- */

typedef struct owner {
    char *event;
    int32_t partition;
} owner;
typedef struct pending_alert {
    nw_alert *alert; /* owned */
} pending_alert;
/* What enriching one message gave: a dead-letter reason, or the records to produce. */
typedef struct enrich_result {
    char *why; /* the dead-letter reason; NULL when enriched */
    char *key; /* the document id */
    size_t key_len;
    char *enriched;
    size_t enriched_len;
    size_t nmatches;
    char **matches, **event_ids;
    size_t *match_lens;
} enrich_result;
typedef struct daemon daemon;
/* A partition of the alert stage whose state could not be restored: paused until it is. */
typedef struct unrestored {
    int32_t partition;
    int attempts;
    double next_ms; /* when to try again (monotonic ms) */
} unrestored;
typedef struct stage {
    const char *name;
    int kind;
    daemon *d;
    rd_kafka_t *consumer, *producer, *restorer;
    const char *in_topic;
    char client_id[300], txn_id[512];
    rd_kafka_message_t **batch;
    size_t n, cap;
    unsigned long delivery_errors;
    /* max.message.bytes of each topic (by nw_topic_role); 0 for those the stage does not write */
    long limit[NW_TOPIC_ROLE_COUNT];
    bool limits_known;          /* the broker has said them */
    bool limits_asked;          /* a DescribeConfigs is on its way to limits_q */
    double limits_retry_ms;     /* 0, or when to ask again after a failure */
    rd_kafka_queue_t *limits_q; /* its answer */
    /*
     * A record the broker refused for itself (too large, invalid) in the open
     * transaction: the batch is split until the input that made it is alone,
     * and that input goes to the dead-letter topic (batch_limit: 0, or the
     * largest batch to collect).
     */
    rd_kafka_resp_err_t refused;
    char refused_why[512];
    size_t batch_limit;
    int failures;           /* batches failed in a row */
    char last_error[512];   /* why the last one failed */
    double outage_since_ms; /* 0, or when the broker stopped answering */
    double probed_ms;       /* when probe_broker last asked it, during an outage */
    long producer_limit;    /* smallest_limit() when the producer was made (its batch.size) */
    int resets;             /* producer resets in the current window */
    double reset_window_ms; /* when that window began */
    unrestored *unrestored;
    size_t nunrestored, capunrestored;
    /* The group's members (client.id) at the last assignment, this one's included. */
    char **members;
    size_t nmembers;
    /* the enrich stage: one result per message of the batch */
    enrich_result *results;
    size_t capresults;
    /* the alert stage */
    nw_alerter *alerter;
    owner *owners;
    size_t nowners, capowners;
    pending_alert *pending;
    size_t npending, cappending;
    unsigned long processed, dead_letters, alerts;
    size_t last_batch; /* messages in the last batch */
} stage;

struct daemon {
    const nw_consumer_opts *o;
    const nw_kvconf *conf;
    settings s;
    nw_topics topics;
    nw_pipeline pipeline;
    nw_enricher **enrichers;    /* s.enrich_threads of them, one per thread of a batch */
    nw_sinks *sinks;            /* replaced at a reload, under sinks_lock */
    pthread_mutex_t sinks_lock; /* the /metrics thread reads the sinks' counters */
    int stages;                 /* STAGE_ENRICH | STAGE_ALERT, or one of them */
    nw_metrics *metrics;        /* /metrics, /healthz, /readyz (docs/metrics.md) */
    nw_http *http;              /* NULL when [http] listen = off */
    stage enrich, alert;
    char brokers[512];
    bool failed; /* a fatal error outside a batch (a reload's producer reset): stop */
};

/* SIGTERM/SIGINT seen (daemon.c's handler counts them). */
extern volatile sig_atomic_t daemon_stop_signals;

/* ---- stage.c ---- */

/* One line of the daemon's log (newswatch/log.h: time, level, program). */
void daemon_log(nw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The monotonic clock in milliseconds. */
double daemon_now_ms(void);

/*
 * The configuration every client of the daemon starts from: the defaults,
 * then [kafka] and -X (which win). Producers retry after 20 ms rather than
 * librdkafka's 100: a transaction begun right after a commit often gets
 * CONCURRENT_TRANSACTIONS while the broker writes the previous one's markers,
 * and the backoff is then added to the batch (KAFKA-5477; the Java client
 * uses 20 ms for that retry). It took the p99 latency's 100 ms commit spikes
 * away (docs/PERFORMANCE.md).
 */
rd_kafka_conf_t *daemon_base_conf(daemon *d, bool producer, char *errbuf, size_t errlen);

/* d->brokers: bootstrap.servers as the clients will have it (default, [kafka], -b, -X). */
void daemon_effective_brokers(daemon *d);

/* max.message.bytes of the topic of role, as the broker said it (or Kafka's default). */
long stage_limit_of(const stage *st, nw_topic_role role);

/*
 * Asks for max.message.bytes of the topics the stage writes (at start, after
 * SIGHUP, and again after a failure); the answer is taken by take_limits()
 * between batches, so no batch waits for it.
 */
void stage_ask_limits(stage *st);

/*
 * Makes the stage of kind (STAGE_ENRICH or STAGE_ALERT): its consumer, subscribed,
 * its producer with transactions initialised (waiting for the broker), and for
 * the alert stage the changelog reader and the alerter. -1 with a message.
 */
int stage_open(daemon *d, stage *st, int kind, char *errbuf, size_t errlen);

/* Closes the stage's clients (a static member does not leave its group) and frees it. */
void stage_close(stage *st);

/* Hands one record to the stage's producer (in its open transaction). */
int stage_produce(stage *st, const char *topic, int32_t partition, const void *key, size_t klen,
                  const void *value, size_t vlen, rd_kafka_headers_t *headers);

/* Would a record of these sizes fit the limit of the topic of role? */
bool stage_fits(const stage *st, nw_topic_role role, size_t klen, size_t vlen, size_t hlen);

/* A JSON record of schema: its CloudEvent's type is the schema, with its dataschema and schema. */
rd_kafka_headers_t *stage_json_headers(const stage *st, const char *schema, const char *subject,
                                       size_t subject_len, const char *id_fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * The dead-letter record: the original key and value, headers saying why. A
 * value over the dead-letter topic's own limit is left out (header
 * value.omitted says so), so that a dead letter is never refused itself.
 */
int stage_dead_letter(stage *st, const rd_kafka_message_t *m, const char *why);

/* One batch: collect, process in a transaction, commit. 0, or -2 when the daemon must stop. */
int stage_run_batch(stage *st, long idle_ms);

/*
 * During an outage, an idle stage would learn that the broker is back only
 * from its next message: every PROBE_MS it asks for metadata (a second at
 * most) and, when the broker answers, says so (the log, /readyz).
 */
void stage_probe_broker(stage *st);

/*
 * Between batches: takes the topics' limits when they come; a producer whose
 * batches no longer fit is replaced.
 */
void stage_refresh_limits(stage *st);

/* ---- restore.c ---- */

/* Notes that event's state lives in partition (of news.matches and the changelog). */
void restore_owners_set(stage *st, const char *event, int32_t partition);

/* Forgets the states of the events whose partition is p (-1: every partition). */
void restore_forget_partition(stage *st, int32_t p);

/*
 * Reads partition p of the state changelog to its end and restores every
 * event in it: all or nothing. The last record of an event decides (a
 * tombstone forgets it; a record of the older newswatch.alert-state/1 schema
 * is superseded: it is skipped). When a record cannot be read and no later
 * record of its event replaces it, or the partition cannot be read to its
 * end, the partition's state is forgotten again and -1 returned: the caller
 * keeps the partition out of processing.
 */
int restore_partition(stage *st, int32_t p);

/* Is partition held out of processing until its state is restored? */
bool restore_held(const stage *st, int32_t partition);

/* Pauses or resumes fetching partition of the stage's input. */
void restore_pause_or_resume(stage *st, int32_t partition, bool pause);

/* Keeps a partition whose state could not be restored out of processing until it can be. */
void restore_hold(stage *st, int32_t partition);

/* Forgets the i-th held partition (restored, or revoked). */
void restore_unhold(stage *st, size_t i);

/*
 * Tries again to restore the held partitions whose time has come; one that is
 * restored goes back to its committed offset and is resumed.
 */
void restore_retry(stage *st);

/* ---- work.c ---- */

/* Frees the alerts kept for the sinks (a batch that was not committed). */
void work_free_pending(stage *st);

/* Hands the committed batch's alerts to the sinks, then frees them. */
void work_deliver_pending(stage *st);

/* Processes the batch into the open transaction (or the producer's queue). 0, or -1. */
int work_process_batch(stage *st);

/*
 * Between the alert stage's batches (its state is the committed one): every
 * alertmanager.resend.ms, the incidents of this instance's partitions are
 * posted to Alertmanager again with endsAt ahead, and the quiet ones
 * resolved (docs/sinks.md). Cheap when not due.
 */
void work_resend_incidents(daemon *d);

/* Frees d->s.enrich_threads enrichers (NULL is a no-op). */
void work_free_enrichers(const daemon *d, nw_enricher **en);

/* One enricher per enrich thread, over d->pipeline; NULL with a message on failure. */
nw_enricher **work_new_enrichers(const daemon *d, char *errbuf, size_t errlen);

#endif
