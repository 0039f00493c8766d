#include "daemon.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "newswatch/input.h"
#include "newswatch/log.h"
#include "newswatch/topics.h"
#include "newswatch/pipeline.h"
#include "newswatch/stages.h"
#include "../kafka/nw_kafka.h"
#include "../sinks/nw_sinks.h"
#include "http.h"
#include "metrics.h"
#include "notify.h"

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

/* ---- signals: the handlers only set flags ------------------------------ */

static volatile sig_atomic_t stop_signals; /* SIGTERM/SIGINT seen */
/* The loop has ended (a signal or a fatal error): the watchdog bounds the rest. */
static volatile sig_atomic_t shutdown_begun;
static volatile sig_atomic_t reload_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_signals = stop_signals + 1;
}

static void on_hup(int sig)
{
    (void)sig;
    reload_requested = 1;
}

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

/* An instance id: 1 to 100 letters, digits, '.', '_' or '-' (it goes into Kafka ids). */
static bool valid_instance_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 100)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

static nw_err read_settings(const nw_kvconf *conf, settings *s, char *errbuf, size_t errlen)
{
    snprintf(s->group_enrich, sizeof s->group_enrich, "newswatch-enrich");
    snprintf(s->group_alert, sizeof s->group_alert, "newswatch-alert");
    snprintf(s->txn_prefix, sizeof s->txn_prefix, "newswatch");
    s->batch_messages = 2000;
    s->batch_ms = 100;
    s->shutdown_ms = 30000;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    s->enrich_threads = cpus < 1 ? 1 : cpus > MAX_ENRICH_THREADS ? MAX_ENRICH_THREADS : (int)cpus;
    s->eos = true;
    s->max_bytes = NW_INPUT_DEFAULT_MAX_BYTES;
    char host[128] = "";
    if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
        snprintf(host, sizeof host, "localhost");
    snprintf(s->instance_id, sizeof s->instance_id, "%s", host);
    for (size_t i = 0; conf != NULL && i < nw_kvconf_count(conf); i++) {
        const nw_kvconf_entry *e = nw_kvconf_at(conf, i);
        if (strcmp(e->section, "consumer") != 0)
            continue;
        long v;
        const char *k = e->key;
        int bad = 0;
        if (strcmp(k, "group.enrich") == 0)
            snprintf(s->group_enrich, sizeof s->group_enrich, "%s", e->value);
        else if (strcmp(k, "group.alert") == 0)
            snprintf(s->group_alert, sizeof s->group_alert, "%s", e->value);
        else if (strcmp(k, "transactional.id.prefix") == 0)
            snprintf(s->txn_prefix, sizeof s->txn_prefix, "%s", e->value);
        else if (strcmp(k, "instance.id") == 0)
            bad = !valid_instance_id(e->value) ||
                  !snprintf(s->instance_id, sizeof s->instance_id, "%s", e->value);
        else if (strcmp(k, "batch.messages") == 0)
            bad = !nw_parse_long(e->value, 1, 100000, &v) || !(s->batch_messages = (int)v);
        else if (strcmp(k, "batch.ms") == 0)
            bad = !nw_parse_long(e->value, 1, 60000, &v) || !(s->batch_ms = (int)v);
        else if (strcmp(k, "enrich.threads") == 0)
            bad = !nw_parse_long(e->value, 1, MAX_ENRICH_THREADS, &v) ||
                  !(s->enrich_threads = (int)v);
        else if (strcmp(k, "startup.timeout.ms") == 0)
            bad = !nw_parse_long(e->value, 0, 86400000L, &s->startup_timeout_ms);
        else if (strcmp(k, "shutdown.timeout.ms") == 0)
            bad = !nw_parse_long(e->value, 1000, 600000, &v) || !(s->shutdown_ms = (int)v);
        else if (strcmp(k, "max.document.bytes") == 0)
            bad = !nw_parse_long(e->value, 1, 1L << 30, &v) || !(s->max_bytes = (size_t)v);
        else if (strcmp(k, "processing.guarantee") == 0) {
            if (strcmp(e->value, "exactly_once") == 0)
                s->eos = true;
            else if (strcmp(e->value, "at_least_once") == 0)
                s->eos = false;
            else
                bad = 1;
        } else {
            static const char *const known[] = {
                "group.enrich",       "group.alert",          "transactional.id.prefix",
                "instance.id",        "batch.messages",       "batch.ms",
                "enrich.threads",     "startup.timeout.ms",   "shutdown.timeout.ms",
                "max.document.bytes", "processing.guarantee", NULL};
            char near[128];
            return nw_set_error(
                errbuf, errlen, NW_ECONFIG,
                "%s:%u: unknown key '%s' in [consumer]%s (known: group.enrich, "
                "group.alert, transactional.id.prefix, instance.id, batch.messages, batch.ms, "
                "enrich.threads, startup.timeout.ms, shutdown.timeout.ms, max.document.bytes, "
                "processing.guarantee)",
                e->file, e->line, k, nw_kvconf_did_you_mean(k, known, near, sizeof near));
        }
        if (bad)
            return nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: bad value '%s' for %s", e->file,
                                e->line, e->value, k);
    }
    return NW_OK;
}

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

static stage *all_stages[2];

/* The stage's label in the metrics. */
static nw_metrics_stage mstage(const stage *st)
{
    return st->kind == STAGE_ENRICH ? NW_METRICS_ENRICH : NW_METRICS_ALERT;
}

/* One line of the daemon's log (newswatch/log.h: time, level, program). */
static void log_msg(nw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_msg(nw_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nw_logv(level, NULL, fmt, ap);
    va_end(ap);
}

static void owners_set(stage *st, const char *event, int32_t partition)
{
    for (size_t i = 0; i < st->nowners; i++) {
        if (strcmp(st->owners[i].event, event) == 0) {
            st->owners[i].partition = partition;
            return;
        }
    }
    if (st->nowners == st->capowners) {
        size_t n = st->capowners ? st->capowners * 2 : 16;
        owner *no = realloc(st->owners, n * sizeof(owner));
        if (no == NULL)
            return;
        st->owners = no;
        st->capowners = n;
    }
    char *e = strdup(event);
    if (e != NULL)
        st->owners[st->nowners++] = (owner){e, partition};
}

/* Forgets the states of the events whose partition is p (-1: every partition). */
static void forget_partition(stage *st, int32_t p)
{
    for (size_t i = 0; i < st->nowners;) {
        if (p < 0 || st->owners[i].partition == p) {
            nw_alerter_forget(st->alerter, st->owners[i].event);
            free(st->owners[i].event);
            st->owners[i] = st->owners[--st->nowners];
        } else {
            i++;
        }
    }
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* The broker stopped answering: said once, until it answers again. */
static void note_outage(stage *st, const char *what)
{
    if (st->outage_since_ms > 0)
        return;
    st->outage_since_ms = now_ms();
    nw_metrics_set_broker(st->d->metrics, false);
    log_msg(NW_LOG_WARN, "%s: waiting for the broker (%s); the stage resumes when it answers",
            st->name, what);
    nw_notify_status(NULL, 0, "%s: waiting for the broker", st->name);
}

static void note_resumed(stage *st)
{
    if (st->outage_since_ms <= 0)
        return;
    log_msg(NW_LOG_INFO, "%s: the broker answers again after %.0f s; resumed", st->name,
            (now_ms() - st->outage_since_ms) / 1000.0);
    st->outage_since_ms = 0;
    nw_metrics_set_broker(st->d->metrics,
                          st->d->enrich.outage_since_ms <= 0 && st->d->alert.outage_since_ms <= 0);
    nw_notify_status(NULL, 0, "running");
}

static void forget_owner(stage *st, const char *event)
{
    for (size_t i = 0; i < st->nowners; i++) {
        if (strcmp(st->owners[i].event, event) == 0) {
            free(st->owners[i].event);
            st->owners[i] = st->owners[--st->nowners];
            return;
        }
    }
}

/* A state record of an older schema: superseded, not broken (its alert ids cannot collide). */
static bool older_state_schema(const void *payload, size_t len)
{
    json_error_t jerr;
    json_t *o = json_loadb(payload, len, 0, &jerr);
    const char *schema = json_string_value(json_object_get(o, "schema"));
    bool older = schema != NULL && strcmp(schema, "newswatch.alert-state/1") == 0;
    json_decref(o);
    return older;
}

/* The events whose last state record could not be read (a later record of the event clears it). */
typedef struct bad_record {
    char event[256];
    long long offset;
    char why[512];
} bad_record;

static void bad_records_clear(bad_record *bad, size_t *nbad, const char *event)
{
    for (size_t i = 0; i < *nbad; i++)
        if (strcmp(bad[i].event, event) == 0) {
            bad[i] = bad[--*nbad];
            return;
        }
}

/*
 * Reads partition p of the state changelog to its end and restores every
 * event in it: all or nothing. The last record of an event decides (a
 * tombstone forgets it; a record of the older newswatch.alert-state/1 schema
 * is superseded: it is skipped). When a record cannot be read and no later
 * record of its event replaces it, or the partition cannot be read to its
 * end, the partition's state is forgotten again and -1 returned: the caller
 * keeps the partition out of processing.
 */
static int restore_partition(stage *st, int32_t p)
{
    const char *topic = st->d->topics.name[NW_TOPIC_ALERT_STATE];
    forget_partition(st, p);
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(st->restorer, topic, p, &lo, &hi, 10000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_msg(NW_LOG_WARN, "alert: cannot read the watermarks of %s [%d]: %s", topic, (int)p,
                rd_kafka_err2str(err));
        return -1;
    }
    if (hi <= lo)
        return 0;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(st->restorer, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    unsigned long restored = 0, superseded = 0;
    bad_record *bad = NULL;
    size_t nbad = 0, capbad = 0;
    int rc = 0;
    double t0 = now_ms();
    for (;;) {
        nw_notify_watchdog(NULL, 0);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(st->restorer, 200);
        if (m == NULL) {
            if (now_ms() - t0 > 60000) {
                log_msg(NW_LOG_ERROR, "alert: restoring %s [%d] takes over 60 s; giving up", topic,
                        (int)p);
                rc = -1;
                break;
            }
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            break;
        }
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_message_destroy(m);
            continue; /* transient (the deadline bounds it) */
        }
        char event[256];
        snprintf(event, sizeof event, "%.*s", (int)(m->key_len < 255 ? m->key_len : 255),
                 m->key != NULL ? (const char *)m->key : "");
        char why[512];
        if (m->payload == NULL) { /* a tombstone: the event has no state */
            nw_alerter_forget(st->alerter, event);
            forget_owner(st, event);
            bad_records_clear(bad, &nbad, event);
        } else if (nw_alerter_restore(st->alerter, m->payload, m->len, why, sizeof why) == NW_OK) {
            owners_set(st, event, p);
            bad_records_clear(bad, &nbad, event);
            restored++;
        } else if (older_state_schema(m->payload, m->len)) {
            nw_alerter_forget(st->alerter, event);
            forget_owner(st, event);
            bad_records_clear(bad, &nbad, event);
            superseded++;
        } else {
            bad_records_clear(bad, &nbad, event);
            if (nbad == capbad) {
                size_t n = capbad ? capbad * 2 : 4;
                bad_record *nb = realloc(bad, n * sizeof(*nb));
                if (nb == NULL) {
                    rd_kafka_message_destroy(m);
                    rc = -1;
                    break;
                }
                bad = nb;
                capbad = n;
            }
            bad_record *b = &bad[nbad++];
            snprintf(b->event, sizeof b->event, "%s", event);
            b->offset = (long long)m->offset;
            snprintf(b->why, sizeof b->why, "%s", why);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_assign(st->restorer, NULL);
    for (size_t i = 0; i < nbad; i++)
        log_msg(NW_LOG_ERROR,
                "alert: cannot restore the state of event '%s' from %s [%d] offset %lld: %s "
                "(a newer record of the event, or a tombstone for key '%s', replaces it)",
                bad[i].event, topic, (int)p, bad[i].offset, bad[i].why, bad[i].event);
    if (nbad > 0)
        rc = -1;
    free(bad);
    if (rc != 0) {
        forget_partition(st, p);
        return rc;
    }
    if (restored > 0 || superseded > 0)
        log_msg(NW_LOG_INFO, "alert: restored %lu state records from %s [%d]%s", restored, topic,
                (int)p,
                superseded > 0 ? " (records of the older alert-state/1 schema skipped)" : "");
    return 0;
}

static bool held(const stage *st, int32_t partition)
{
    for (size_t i = 0; i < st->nunrestored; i++)
        if (st->unrestored[i].partition == partition)
            return true;
    return false;
}

static void pause_or_resume(stage *st, int32_t partition, bool pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, st->in_topic, partition);
    rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(st->consumer, l)
                                    : rd_kafka_resume_partitions(st->consumer, l);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_msg(NW_LOG_WARN, "%s: cannot %s %s [%d]: %s", st->name, pause ? "pause" : "resume",
                st->in_topic, (int)partition, rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
}

/* Keeps a partition whose state could not be restored out of processing until it can be. */
static void hold_partition(stage *st, int32_t partition)
{
    if (held(st, partition))
        return;
    if (st->nunrestored == st->capunrestored) {
        size_t n = st->capunrestored ? st->capunrestored * 2 : 8;
        unrestored *nu = realloc(st->unrestored, n * sizeof(*nu));
        if (nu == NULL)
            return; /* collect() still drops nothing of it: see held() */
        st->unrestored = nu;
        st->capunrestored = n;
    }
    st->unrestored[st->nunrestored++] = (unrestored){partition, 1, now_ms() + RESTORE_RETRY_MS};
    pause_or_resume(st, partition, true);
    log_msg(NW_LOG_ERROR,
            "alert: %s [%d] is held out of processing until its state is restored (next try in "
            "%d s)",
            st->in_topic, (int)partition, RESTORE_RETRY_MS / 1000);
}

static void unhold(stage *st, size_t i)
{
    st->unrestored[i] = st->unrestored[--st->nunrestored];
}

/*
 * Tries again to restore the held partitions whose time has come; one that is
 * restored goes back to its committed offset and is resumed.
 */
static void retry_restores(stage *st)
{
    double now = now_ms();
    for (size_t i = 0; i < st->nunrestored;) {
        unrestored *u = &st->unrestored[i];
        if (now < u->next_ms) {
            i++;
            continue;
        }
        int32_t p = u->partition;
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, st->in_topic, p);
        bool ok = restore_partition(st, p) == 0 &&
                  rd_kafka_committed(st->consumer, l, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR;
        if (ok) {
            if (l->elems[0].offset < 0)
                l->elems[0].offset = RD_KAFKA_OFFSET_BEGINNING;
            rd_kafka_error_t *e = rd_kafka_seek_partitions(st->consumer, l, 10000);
            ok = e == NULL;
            if (e != NULL)
                rd_kafka_error_destroy(e);
        }
        rd_kafka_topic_partition_list_destroy(l);
        if (ok) {
            unhold(st, i);
            pause_or_resume(st, p, false);
            log_msg(NW_LOG_INFO, "alert: the state of %s [%d] is restored; processing it again",
                    st->in_topic, (int)p);
            continue;
        }
        forget_partition(st, p);
        u = &st->unrestored[i];
        long wait = RESTORE_RETRY_MS << (u->attempts < 5 ? u->attempts : 5);
        if (wait > RESTORE_RETRY_MAX_MS)
            wait = RESTORE_RETRY_MAX_MS;
        u->attempts++;
        u->next_ms = now_ms() + (double)wait;
        log_msg(NW_LOG_ERROR,
                "alert: %s [%d] still held: its state cannot be restored (attempt %d; next in %ld "
                "s)",
                st->in_topic, (int)p, u->attempts, wait / 1000);
        i++;
    }
}

static rd_kafka_conf_t *base_conf(daemon *d, bool producer, char *errbuf, size_t errlen);

/*
 * Fences the transactional id of an instance that has left the group: a
 * producer with its id calls init_transactions, which aborts the open
 * transaction it left (the offsets that transaction holds back would keep
 * its partitions unreadable to their new owner until transaction.timeout.ms
 * and the broker's next check). A zombie that is in fact alive is fenced as
 * it should be; it replaces its producer and goes on.
 */
static void fence_instance(stage *st, const char *client)
{
    char instance[256], txn[512], err[512], prefix[64];
    snprintf(prefix, sizeof prefix, NW_CONSUMER "-%s-", st->name);
    size_t plen = strlen(prefix);
    if (strncmp(client, prefix, plen) != 0 || client[plen] == '\0')
        return; /* not one of ours: newswatch-consumer-<stage>-<instance> */
    snprintf(instance, sizeof instance, "%s", client + plen);
    snprintf(txn, sizeof txn, "%s-%s-%s", st->d->s.txn_prefix, st->name, instance);
    rd_kafka_conf_t *kc = base_conf(st->d, true, err, sizeof err);
    if (kc == NULL || nw_kafka_conf_set(kc, "transactional.id", txn, err, sizeof err) != NW_OK) {
        if (kc != NULL)
            rd_kafka_conf_destroy(kc);
        log_msg(NW_LOG_WARN, "%s: cannot fence %s: %s", st->name, txn, err);
        return;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof err);
    if (rk == NULL) {
        rd_kafka_conf_destroy(kc);
        log_msg(NW_LOG_WARN, "%s: cannot fence %s: %s", st->name, txn, err);
        return;
    }
    rd_kafka_error_t *e = rd_kafka_init_transactions(rk, TXN_CALL_MS);
    if (e == NULL) {
        log_msg(NW_LOG_INFO,
                "%s: instance %s left the group: fenced transactional.id %s (its open transaction "
                "is aborted)",
                st->name, instance, txn);
    } else {
        log_msg(NW_LOG_WARN, "%s: cannot fence %s: %s", st->name, txn, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_destroy(rk);
}

/*
 * At an assignment (exactly-once): fences the instances that were members
 * last time and are gone. The members are known by their client.id,
 * newswatch-consumer-<stage>-<instance>.
 */
static void fence_departed(stage *st)
{
    char **now = NULL, err[512];
    size_t n = 0;
    const char *group = st->kind == STAGE_ENRICH ? st->d->s.group_enrich : st->d->s.group_alert;
    if (!st->d->s.eos)
        return;
    if (nw_kafka_group_clients(st->consumer, group, 5000, &now, &n, err, sizeof err) != NW_OK) {
        log_msg(NW_LOG_WARN,
                "%s: %s (an instance that left keeps its partitions unreadable until its "
                "transaction times out)",
                st->name, err);
        return;
    }
    for (size_t i = 0; i < st->nmembers; i++) {
        bool still = false;
        for (size_t k = 0; k < n && !still; k++)
            still = strcmp(st->members[i], now[k]) == 0;
        if (!still)
            fence_instance(st, st->members[i]);
    }
    nw_kafka_strings_free(st->members, st->nmembers);
    st->members = now;
    st->nmembers = n;
}

static stage *stage_of(rd_kafka_t *rk)
{
    for (int i = 0; i < 2; i++)
        if (all_stages[i] != NULL && all_stages[i]->consumer == rk)
            return all_stages[i];
    return NULL;
}

/* Drops the collected messages of the partitions in parts from the batch. */
static void drop_from_batch(stage *st, const rd_kafka_topic_partition_list_t *parts)
{
    size_t k = 0;
    for (size_t i = 0; i < st->n; i++) {
        const rd_kafka_message_t *m = st->batch[i];
        if (rd_kafka_topic_partition_list_find(parts, rd_kafka_topic_name(m->rkt), m->partition))
            rd_kafka_message_destroy(st->batch[i]);
        else
            st->batch[k++] = st->batch[i];
    }
    st->n = k;
}

/*
 * The groups use an eager assignor (range), not cooperative-sticky: Debian's
 * librdkafka 2.0.2 asserts when a cooperative-sticky consumer is destroyed
 * before its first assignment (upstream #4312, fixed in 2.3.0), which a
 * daemon stopped during start-up does. With static membership a restart
 * causes no rebalance, so the eager protocol's stop-the-world rebalances are
 * rare (a member joining or leaving for good).
 */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    (void)opaque;
    stage *st = stage_of(rk);
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (st != NULL)
            log_msg(NW_LOG_INFO, "%s: assigned %d partition(s) of %s", st->name, parts->cnt,
                    st->in_topic);
        rd_kafka_error_t *e = NULL;
        if (cooperative)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        if (e != NULL) {
            log_msg(NW_LOG_ERROR, "assign failed: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
        if (st != NULL)
            fence_departed(st);
        /* All or nothing: a partition whose state cannot be restored is held. */
        for (int i = 0; st != NULL && st->kind == STAGE_ALERT && i < parts->cnt; i++)
            if (restore_partition(st, parts->elems[i].partition) != 0)
                hold_partition(st, parts->elems[i].partition);
        if (st != NULL)
            nw_metrics_set_assigned(st->d->metrics, mstage(st), true);
        return;
    }
    /*
     * Revoked (or lost): messages of these partitions collected but not yet
     * processed are dropped from the batch now (this runs inside collect()'s
     * poll); the next owner reads them from the committed offsets. Now, not
     * at the end of the batch: the eager protocol revokes every partition and
     * may assign some back at once, and what is fetched after that is read
     * from the committed offsets again and must be kept.
     */
    if (st != NULL) {
        nw_metrics_set_assigned(st->d->metrics, mstage(st), false);
        drop_from_batch(st, parts);
        for (int i = 0; i < parts->cnt; i++) {
            if (st->kind == STAGE_ALERT)
                forget_partition(st, parts->elems[i].partition);
            for (size_t k = 0; k < st->nunrestored; k++)
                if (st->unrestored[k].partition == parts->elems[i].partition) {
                    pause_or_resume(st, parts->elems[i].partition, false);
                    unhold(st, k);
                    break;
                }
        }
        log_msg(NW_LOG_INFO, "%s: %s %d partition(s) of %s", st->name,
                rd_kafka_assignment_lost(rk) ? "lost" : "revoked", parts->cnt, st->in_topic);
    }
    if (cooperative) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
        if (e != NULL)
            rd_kafka_error_destroy(e);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

/* An error the broker gives for one record itself: retrying the same record fails the same way. */
static bool refused_record(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_INVALID_RECORD || err == RD_KAFKA_RESP_ERR_INVALID_MSG ||
           err == RD_KAFKA_RESP_ERR_POLICY_VIOLATION;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)opaque;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    for (int i = 0; i < 2; i++) {
        if (all_stages[i] != NULL && all_stages[i]->producer == rk) {
            all_stages[i]->delivery_errors++;
            if (refused_record(m->err)) {
                all_stages[i]->refused = m->err;
                snprintf(all_stages[i]->refused_why, sizeof all_stages[i]->refused_why,
                         "Kafka refused an output record to %s (%zu bytes): %s",
                         rd_kafka_topic_name(m->rkt), m->len, rd_kafka_err2str(m->err));
            }
            log_msg(NW_LOG_WARN, "%s: a record to %s was not delivered: %s", all_stages[i]->name,
                    rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
        }
    }
}

/* ---- clients ------------------------------------------------------------- */

/*
 * The configuration every client of the daemon starts from: the defaults,
 * then [kafka] and -X (which win). Producers retry after 20 ms rather than
 * librdkafka's 100: a transaction begun right after a commit often gets
 * CONCURRENT_TRANSACTIONS while the broker writes the previous one's markers,
 * and the backoff is then added to the batch (KAFKA-5477; the Java client
 * uses 20 ms for that retry). It took the p99 latency's 100 ms commit spikes
 * away (docs/PERFORMANCE.md).
 */
static rd_kafka_conf_t *base_conf(daemon *d, bool producer, char *errbuf, size_t errlen)
{
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    if (nw_kafka_conf_set(kc, "bootstrap.servers", DEFAULT_BROKERS, errbuf, errlen) != NW_OK ||
        (producer && nw_kafka_conf_set(kc, "retry.backoff.ms", "20", errbuf, errlen) != NW_OK) ||
        (!producer && nw_kafka_conf_set(kc, "session.timeout.ms", DEFAULT_SESSION_TIMEOUT_MS,
                                        errbuf, errlen) != NW_OK) ||
        (producer && d->s.eos &&
         nw_kafka_conf_set(kc, "transaction.timeout.ms", DEFAULT_TRANSACTION_TIMEOUT_MS, errbuf,
                           errlen) != NW_OK) ||
        nw_kafka_conf_apply(kc, d->conf, d->o->props, d->o->nprops, d->o->brokers, errbuf,
                            errlen) != NW_OK) {
        rd_kafka_conf_destroy(kc);
        return NULL;
    }
    nw_kafka_conf_set_logging(kc);
    return kc;
}

/* d->brokers: bootstrap.servers as the clients will have it (default, [kafka], -b, -X). */
static void effective_brokers(daemon *d)
{
    char err[256];
    size_t n = sizeof d->brokers;
    rd_kafka_conf_t *kc = base_conf(d, false, err, sizeof err);
    if (kc == NULL ||
        rd_kafka_conf_get(kc, "bootstrap.servers", d->brokers, &n) != RD_KAFKA_CONF_OK)
        snprintf(d->brokers, sizeof d->brokers, "%s", "the configured brokers");
    if (kc != NULL)
        rd_kafka_conf_destroy(kc);
}

/* librdkafka's statistics (statistics.interval.ms) of a stage's consumer: its lag per partition. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)opaque;
    stage *st = stage_of(rk);
    char err[256];
    if (st != NULL && nw_metrics_kafka_stats(st->d->metrics, json, len, err, sizeof err) != NW_OK)
        log_msg(NW_LOG_DEBUG, "%s: %s", st->name, err);
    return 0; /* librdkafka frees json */
}

static rd_kafka_t *new_client(daemon *d, rd_kafka_type_t type, const char *const (*props)[2],
                              size_t nprops, char *errbuf, size_t errlen)
{
    rd_kafka_conf_t *kc = base_conf(d, type == RD_KAFKA_PRODUCER, errbuf, errlen);
    if (kc == NULL)
        return NULL;
    for (size_t i = 0; i < nprops; i++) {
        if (nw_kafka_conf_set(kc, props[i][0], props[i][1], errbuf, errlen) != NW_OK) {
            rd_kafka_conf_destroy(kc);
            return NULL;
        }
    }
    if (type == RD_KAFKA_CONSUMER) {
        rd_kafka_conf_set_rebalance_cb(kc, on_rebalance);
        rd_kafka_conf_set_stats_cb(kc, on_stats);
    } else
        rd_kafka_conf_set_dr_msg_cb(kc, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(type, kc, errbuf, errlen);
    if (rk == NULL)
        rd_kafka_conf_destroy(kc);
    return rk;
}

nw_err nw_daemon_check_config(const nw_consumer_opts *o, const nw_kvconf *conf, char *errbuf,
                              size_t errlen)
{
    static daemon d; /* large */
    memset(&d, 0, sizeof d);
    d.o = o;
    d.conf = conf;
    nw_err err = nw_log_setup_from_conf(conf, NW_CONSUMER, errbuf, errlen);
    if (err == NW_OK)
        err = read_settings(conf, &d.s, errbuf, errlen);
    for (int producer = 0; err == NW_OK && producer < 2; producer++) {
        rd_kafka_conf_t *kc = base_conf(&d, producer == 1, errbuf, errlen);
        if (kc == NULL)
            err = NW_ECONFIG;
        else
            rd_kafka_conf_destroy(kc);
    }
    return err;
}

/* The topics a stage writes, the dead-letter topic last. */
static const nw_topic_role enrich_out[] = {NW_TOPIC_ENRICHED, NW_TOPIC_MATCHES, NW_TOPIC_DLQ};
static const nw_topic_role alert_out[] = {NW_TOPIC_ALERTS, NW_TOPIC_ALERT_STATE, NW_TOPIC_DLQ};
#define NOUT 3

static const nw_topic_role *out_roles(const stage *st)
{
    return st->kind == STAGE_ENRICH ? enrich_out : alert_out;
}

static long limit_of(const stage *st, nw_topic_role role)
{
    return st->limit[role] > 0 ? st->limit[role] : DEFAULT_TOPIC_LIMIT;
}

static void topic_names(const stage *st, const char **names)
{
    for (size_t i = 0; i < NOUT; i++)
        names[i] = st->d->topics.name[out_roles(st)[i]];
}

/*
 * Asks for max.message.bytes of the topics the stage writes (at start, after
 * SIGHUP, and again after a failure); the answer is taken by take_limits()
 * between batches, so no batch waits for it.
 */
static void ask_limits(stage *st)
{
    const char *names[NOUT];
    char err[512];
    topic_names(st, names);
    st->limits_asked = true;
    if (nw_kafka_topic_limits_send(st->consumer, names, NOUT, st->limits_q, LIMITS_TIMEOUT_MS, err,
                                   sizeof err) != NW_OK) {
        log_msg(NW_LOG_WARN, "%s: %s", st->name, err);
        st->limits_asked = false;
        st->limits_retry_ms = now_ms() + LIMITS_RETRY_MS;
    }
}

/* Takes the answer to ask_limits() when it has come (waiting up to wait_ms); true when it had. */
static bool take_limits(stage *st, int wait_ms)
{
    if (!st->limits_asked) {
        if (st->limits_retry_ms > 0 && now_ms() >= st->limits_retry_ms) {
            st->limits_retry_ms = 0;
            ask_limits(st);
        }
        return false;
    }
    rd_kafka_event_t *ev = rd_kafka_queue_poll(st->limits_q, wait_ms);
    if (ev == NULL)
        return false;
    st->limits_asked = false;
    const char *names[NOUT];
    long got[NOUT];
    char err[512];
    topic_names(st, names);
    for (size_t i = 0; i < NOUT; i++)
        got[i] = limit_of(st, out_roles(st)[i]);
    nw_err rc = nw_kafka_topic_limits_read(ev, names, NOUT, got, err, sizeof err);
    rd_kafka_event_destroy(ev);
    if (rc != NW_OK) {
        log_msg(NW_LOG_WARN, "%s: %s; %s; asking again in %d s", st->name, err,
                st->limits_known ? "records are checked against the limits known so far"
                                 : "until then only a record the broker refuses goes to the DLQ",
                LIMITS_RETRY_MS / 1000);
        st->limits_retry_ms = now_ms() + LIMITS_RETRY_MS;
        return true;
    }
    for (size_t i = 0; i < NOUT; i++)
        st->limit[out_roles(st)[i]] = got[i];
    st->limits_known = true;
    log_msg(NW_LOG_INFO,
            "%s: the topics take records of up to %ld (%s), %ld (%s) and %ld (%s) bytes", st->name,
            got[0], names[0], got[1], names[1], got[2], names[2]);
    return true;
}

/* The smallest limit of the stage's topics: the producer's batches must fit each. */
static long smallest_limit(const stage *st)
{
    long min = limit_of(st, out_roles(st)[0]);

    for (size_t i = 1; i < NOUT; i++)
        if (limit_of(st, out_roles(st)[i]) < min)
            min = limit_of(st, out_roles(st)[i]);
    return min;
}

/* A new producer for the stage (transactional unless at_least_once); NULL with a message. */
static rd_kafka_t *new_producer(stage *st, char *errbuf, size_t errlen)
{
    /* A batch of records to one partition must fit the topic's limit too. */
    st->producer_limit = smallest_limit(st);
    long batch = st->producer_limit - 4096;
    char batch_size[32];
    snprintf(batch_size, sizeof batch_size, "%ld",
             batch < 16384     ? 16384
             : batch > 1000000 ? 1000000
                               : batch);
    const char *const pprops_eos[][2] = {
        {"client.id", st->client_id},
        {"transactional.id", st->txn_id},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"message.max.bytes", PRODUCER_MAX_BYTES_STR},
        {"batch.size", batch_size},
        {"linger.ms", "5"},
    };
    const char *const pprops_alo[][2] = {
        {"client.id", st->client_id},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"message.max.bytes", PRODUCER_MAX_BYTES_STR},
        {"batch.size", batch_size},
        {"linger.ms", "5"},
    };
    return st->d->s.eos ? new_client(st->d, RD_KAFKA_PRODUCER, pprops_eos,
                                     sizeof pprops_eos / sizeof pprops_eos[0], errbuf, errlen)
                        : new_client(st->d, RD_KAFKA_PRODUCER, pprops_alo,
                                     sizeof pprops_alo / sizeof pprops_alo[0], errbuf, errlen);
}

/*
 * Asks for the metadata of the topics the stage writes, so that the first
 * batch's records do not wait for their partitions' leaders to be looked up
 * (about half a second for a stage's first transaction otherwise). A failure
 * only means the first batch pays that price.
 */
static void warm_producer(daemon *d, stage *st)
{
    for (size_t i = 0; i < NOUT; i++) {
        rd_kafka_topic_t *rkt =
            rd_kafka_topic_new(st->producer, d->topics.name[out_roles(st)[i]], NULL);
        const rd_kafka_metadata_t *md = NULL;
        if (rkt != NULL &&
            rd_kafka_metadata(st->producer, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
            rd_kafka_metadata_destroy(md);
        if (rkt != NULL)
            rd_kafka_topic_destroy(rkt);
    }
}

/* The stage's consumer, subscribed to its input (static member <instance>-<stage>). */
static int new_consumer(stage *st, char *errbuf, size_t errlen)
{
    daemon *d = st->d;
    const char *group = st->kind == STAGE_ENRICH ? d->s.group_enrich : d->s.group_alert;
    char member[300];
    snprintf(member, sizeof member, "%s-%s", d->s.instance_id, st->name);
    const char *const cprops[][2] = {
        {"group.id", group},
        {"group.instance.id", member},
        {"client.id", st->client_id},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"isolation.level", "read_committed"},
        {"partition.assignment.strategy", "range"}, /* not cooperative-sticky: on_rebalance */
        {"enable.partition.eof", "false"},
        {"statistics.interval.ms", "5000"}, /* the lag in /metrics (on_stats) */
    };
    st->consumer =
        new_client(d, RD_KAFKA_CONSUMER, cprops, sizeof cprops / sizeof cprops[0], errbuf, errlen);
    if (st->consumer == NULL)
        return -1;
    rd_kafka_poll_set_consumer(st->consumer);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, st->in_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(st->consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        nw_set_error(errbuf, errlen, NW_EIO, "%s: cannot subscribe to %s: %s", st->name,
                     st->in_topic, rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

/*
 * init_transactions at start. A broker that does not answer is waited for
 * (the log names its address at once and every minute), until it answers,
 * a signal comes, or startup.timeout.ms (0: no limit) has passed.
 */
static int start_transactions(stage *st, char *errbuf, size_t errlen)
{
    const daemon *d = st->d;
    double start = now_ms(), said = 0;
    for (;;) {
        nw_notify_watchdog(NULL, 0);
        rd_kafka_error_t *e = rd_kafka_init_transactions(st->producer, START_TRY_MS);
        if (e == NULL) {
            if (said > 0)
                log_msg(NW_LOG_INFO, "%s: the broker at %s answers; starting", st->name,
                        d->brokers);
            nw_metrics_set_broker(d->metrics, true);
            return 0;
        }
        double waited = now_ms() - start;
        bool retry = rd_kafka_error_is_retriable(e) && stop_signals == 0 &&
                     (d->s.startup_timeout_ms == 0 || waited < d->s.startup_timeout_ms);
        if (!retry) {
            nw_set_error(errbuf, errlen, NW_EIO,
                         "%s: cannot start transactions with the broker at %s after %.0f s (is "
                         "it reachable, and does it support them? processing.guarantee = "
                         "at_least_once turns them off): %s",
                         st->name, d->brokers, waited / 1000.0, rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            return -1;
        }
        nw_metrics_set_broker(d->metrics, false);
        nw_metrics_heartbeat(d->metrics);
        if (said == 0 || now_ms() - said >= 60000) {
            log_msg(NW_LOG_WARN, "%s: the broker at %s does not answer (%s); waiting for it%s",
                    st->name, d->brokers, rd_kafka_error_string(e),
                    d->s.startup_timeout_ms == 0 ? "" : " (startup.timeout.ms)");
            said = now_ms();
        }
        rd_kafka_error_destroy(e);
    }
}

static int open_stage(daemon *d, stage *st, int kind, char *errbuf, size_t errlen)
{
    memset(st, 0, sizeof *st);
    st->d = d;
    st->kind = kind;
    st->name = kind == STAGE_ENRICH ? "enrich" : "alert";
    st->in_topic = d->topics.name[kind == STAGE_ENRICH ? NW_TOPIC_RAW : NW_TOPIC_MATCHES];
    const char *group = kind == STAGE_ENRICH ? d->s.group_enrich : d->s.group_alert;
    /*
     * Stable names per instance and stage, so that a restarted instance takes
     * its place at once: the same group.instance.id gets its partitions back
     * without a rebalance (static membership), and the same transactional.id
     * fences the killed incarnation's producer and aborts its open
     * transaction at init_transactions (docs/daemon.md, "Restarts").
     */
    snprintf(st->client_id, sizeof st->client_id, NW_CONSUMER "-%s-%s", st->name, d->s.instance_id);
    snprintf(st->txn_id, sizeof st->txn_id, "%s-%s-%s", d->s.txn_prefix, st->name,
             d->s.instance_id);
    if (new_consumer(st, errbuf, errlen) != 0)
        return -1;
    /* The limits: asked now, waited for briefly (a broker answers in milliseconds). */
    if ((st->limits_q = rd_kafka_queue_new(st->consumer)) == NULL) {
        nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        return -1;
    }
    ask_limits(st);
    take_limits(st, LIMITS_WAIT_MS);
    if ((st->producer = new_producer(st, errbuf, errlen)) == NULL)
        return -1;
    if (kind == STAGE_ALERT) {
        char rgroup[300];
        snprintf(rgroup, sizeof rgroup, "%s-restore", group);
        const char *const rprops[][2] = {
            {"group.id", rgroup},
            {"client.id", st->client_id},
            {"enable.auto.commit", "false"},
            {"isolation.level", "read_committed"},
            {"enable.partition.eof", "true"},
        };
        rd_kafka_conf_t *kc = base_conf(d, false, errbuf, errlen);
        if (kc == NULL)
            return -1;
        for (size_t i = 0; i < sizeof rprops / sizeof rprops[0]; i++)
            if (nw_kafka_conf_set(kc, rprops[i][0], rprops[i][1], errbuf, errlen) != NW_OK) {
                rd_kafka_conf_destroy(kc);
                return -1;
            }
        if ((st->restorer = rd_kafka_new(RD_KAFKA_CONSUMER, kc, errbuf, errlen)) == NULL) {
            rd_kafka_conf_destroy(kc);
            return -1;
        }
        rd_kafka_poll_set_consumer(st->restorer);
        if ((st->alerter = nw_alerter_new(d->pipeline.rules)) == NULL) {
            nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
            return -1;
        }
    }
    if (d->s.eos && start_transactions(st, errbuf, errlen) != 0)
        return -1;
    warm_producer(d, st);
    return 0;
}

static void free_pending(stage *st)
{
    for (size_t i = 0; i < st->npending; i++)
        nw_alert_free(st->pending[i].alert);
    st->npending = 0;
}

static void close_stage(stage *st)
{
    if (st->limits_q != NULL)
        rd_kafka_queue_destroy(st->limits_q);
    if (st->consumer != NULL) {
        /* A static member does not leave its group: a restart within
         * session.timeout.ms gets its partitions back without a rebalance. */
        rd_kafka_consumer_close(st->consumer);
        rd_kafka_destroy(st->consumer);
    }
    if (st->restorer != NULL) {
        rd_kafka_consumer_close(st->restorer);
        rd_kafka_destroy(st->restorer);
    }
    if (st->producer != NULL) {
        rd_kafka_flush(st->producer, 10000);
        rd_kafka_destroy(st->producer);
    }
    for (size_t i = 0; i < st->n; i++)
        rd_kafka_message_destroy(st->batch[i]);
    free(st->batch);
    free(st->results); /* their contents are freed as each batch is produced */
    forget_partition(st, -1);
    free(st->owners);
    free_pending(st);
    free(st->pending);
    free(st->unrestored);
    nw_kafka_strings_free(st->members, st->nmembers);
    nw_alerter_free(st->alerter);
}

/* ---- producing --------------------------------------------------------- */

/* Hands one record to the stage's producer (in its open transaction). */
static int produce(stage *st, const char *topic, int32_t partition, const void *key, size_t klen,
                   const void *value, size_t vlen, rd_kafka_headers_t *headers)
{
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            st->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE((void *)value, vlen),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            return 0;
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && stop_signals < 2) {
            rd_kafka_poll(st->producer, 50);
            continue;
        }
        if (headers != NULL)
            rd_kafka_headers_destroy(headers);
        if (refused_record(err)) {
            st->refused = err;
            snprintf(st->refused_why, sizeof st->refused_why,
                     "Kafka refused an output record to %s (%zu bytes): %s", topic, vlen,
                     rd_kafka_err2str(err));
        }
        snprintf(st->last_error, sizeof st->last_error, "cannot produce to %s: %s", topic,
                 rd_kafka_err2str(err));
        log_msg(NW_LOG_WARN, "%s: %s", st->name, st->last_error);
        return -1;
    }
}

/* Would a record of these sizes fit the limit of the topic of role? */
static bool fits(const stage *st, nw_topic_role role, size_t klen, size_t vlen, size_t hlen)
{
    /* Before the broker has said, only the producer's own limit (message.max.bytes) applies. */
    long limit = st->limits_known ? limit_of(st, role) : PRODUCER_MAX_BYTES;
    return klen + vlen + hlen + RECORD_OVERHEAD <= (size_t)limit;
}

/*
 * CloudEvents 1.0 in the Kafka protocol binding's binary mode, on every
 * record the daemon writes (docs/schemas.md, "CloudEvents"): ce_specversion,
 * ce_id (unique within ce_source, the same when a record is written again
 * after a failure, so a subscriber can deduplicate on it), ce_source
 * (/newswatch/<stage>), ce_type, ce_time (when it was written), ce_subject
 * when there is one, and content-type.
 */
static rd_kafka_headers_t *event_headers(const stage *st, const char *type,
                                         const char *content_type, const char *subject,
                                         size_t subject_len, const char *id_fmt, ...)
    __attribute__((format(printf, 6, 7)));

static rd_kafka_headers_t *event_headers(const stage *st, const char *type,
                                         const char *content_type, const char *subject,
                                         size_t subject_len, const char *id_fmt, ...)
{
    char id[1024], source[64], when[32];
    va_list ap;
    va_start(ap, id_fmt);
    vsnprintf(id, sizeof id, id_fmt, ap);
    va_end(ap);
    snprintf(source, sizeof source, "/newswatch/%s", st->name);
    nw_time_now_rfc3339(when);
    rd_kafka_headers_t *h = rd_kafka_headers_new(9);
    rd_kafka_header_add(h, "ce_specversion", -1, "1.0", -1);
    rd_kafka_header_add(h, "ce_id", -1, id, -1);
    rd_kafka_header_add(h, "ce_source", -1, source, -1);
    rd_kafka_header_add(h, "ce_type", -1, type, -1);
    rd_kafka_header_add(h, "ce_time", -1, when, -1);
    if (subject != NULL && subject_len > 0)
        rd_kafka_header_add(h, "ce_subject", -1, subject, (ssize_t)subject_len);
    rd_kafka_header_add(h, "content-type", -1, content_type, -1);
    return h;
}

/* A JSON record of schema: its CloudEvent's type is the schema, with its dataschema and schema. */
static rd_kafka_headers_t *json_headers(const stage *st, const char *schema, const char *subject,
                                        size_t subject_len, const char *id_fmt, ...)
    __attribute__((format(printf, 5, 6)));

static rd_kafka_headers_t *json_headers(const stage *st, const char *schema, const char *subject,
                                        size_t subject_len, const char *id_fmt, ...)
{
    char id[1024], dataschema[128];
    va_list ap;
    va_start(ap, id_fmt);
    vsnprintf(id, sizeof id, id_fmt, ap);
    va_end(ap);
    rd_kafka_headers_t *h =
        event_headers(st, schema, "application/json", subject, subject_len, "%s", id);
    snprintf(dataschema, sizeof dataschema, "urn:newswatch:schema:%s", schema);
    rd_kafka_header_add(h, "ce_dataschema", -1, dataschema, -1);
    rd_kafka_header_add(h, "schema", -1, schema, -1);
    return h;
}

/*
 * The dead-letter record: the original key and value, headers saying why. A
 * value over the dead-letter topic's own limit is left out (header
 * value.omitted says so), so that a dead letter is never refused itself.
 */
static int dead_letter(stage *st, const rd_kafka_message_t *m, const char *why)
{
    char part[16], off[32], omitted[128];
    snprintf(part, sizeof part, "%d", (int)m->partition);
    snprintf(off, sizeof off, "%lld", (long long)m->offset);
    bool whole = fits(st, NW_TOPIC_DLQ, m->key_len, m->len, strlen(why) + 256);
    /* The input as it came (any bytes), with why; its id names the input record. */
    rd_kafka_headers_t *h = event_headers(
        st, "newswatch.dead-letter", "application/octet-stream", m->key, m->key_len,
        "dlq:%s:%d:%lld", rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset);
    rd_kafka_header_add(h, "error", -1, why, -1);
    rd_kafka_header_add(h, "stage", -1, st->name, -1);
    rd_kafka_header_add(h, "source.topic", -1, rd_kafka_topic_name(m->rkt), -1);
    rd_kafka_header_add(h, "source.partition", -1, part, -1);
    rd_kafka_header_add(h, "source.offset", -1, off, -1);
    if (!whole) {
        snprintf(omitted, sizeof omitted, "%zu bytes, over the dead-letter topic's limit", m->len);
        rd_kafka_header_add(h, "value.omitted", -1, omitted, -1);
    }
    st->dead_letters++;
    nw_metrics_dlq(st->d->metrics, mstage(st), why);
    log_msg(NW_LOG_WARN, "%s: %s [%d] offset %lld to %s: %s", st->name, rd_kafka_topic_name(m->rkt),
            (int)m->partition, (long long)m->offset, st->d->topics.name[NW_TOPIC_DLQ], why);
    return produce(st, st->d->topics.name[NW_TOPIC_DLQ], RD_KAFKA_PARTITION_UA, m->key, m->key_len,
                   whole ? m->payload : NULL, whole ? m->len : 0, h);
}

static void free_result(enrich_result *r)
{
    free(r->why);
    free(r->key);
    free(r->enriched);
    for (size_t i = 0; i < r->nmatches; i++) {
        free(r->matches[i]);
        free(r->event_ids[i]);
    }
    free(r->matches);
    free(r->event_ids);
    free(r->match_lens);
    memset(r, 0, sizeof *r);
}

static char *copy_bytes(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c != NULL) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

/* Copies what the enricher wrote (it is overwritten by the next document). */
static bool keep_output(enrich_result *r, const nw_doc *doc, const nw_enriched *out)
{
    size_t idlen;
    const char *id = nw_doc_get(doc, NW_DOC_ID, &idlen);
    r->key = copy_bytes(id, idlen);
    r->key_len = idlen;
    r->enriched = copy_bytes(out->enriched, out->enriched_len);
    r->enriched_len = out->enriched_len;
    if (r->key == NULL || r->enriched == NULL)
        return false;
    if (out->nmatches == 0)
        return true;
    r->matches = calloc(out->nmatches, sizeof(char *));
    r->event_ids = calloc(out->nmatches, sizeof(char *));
    r->match_lens = calloc(out->nmatches, sizeof(size_t));
    if (r->matches == NULL || r->event_ids == NULL || r->match_lens == NULL)
        return false;
    for (size_t i = 0; i < out->nmatches; i++, r->nmatches++) {
        r->matches[i] = copy_bytes(out->matches[i], out->match_lens[i]);
        r->event_ids[i] = strdup(out->event_ids[i]);
        r->match_lens[i] = out->match_lens[i];
        if (r->matches[i] == NULL || r->event_ids[i] == NULL) {
            r->nmatches++;
            return false;
        }
    }
    return true;
}

/*
 * Enriches one message with en into r; no Kafka calls, so that the messages of
 * a batch can be enriched on several threads (each with its own enricher).
 */
static void compute_enrich(const daemon *d, nw_enricher *en, const rd_kafka_message_t *m,
                           enrich_result *r)
{
    char why[1024];
    memset(r, 0, sizeof *r);
    if (m->payload == NULL) {
        r->why = strdup("empty message (no value)");
        return;
    }
    if (m->len > d->s.max_bytes) {
        snprintf(why, sizeof why, "the message is %zu bytes, over the limit of %zu bytes", m->len,
                 d->s.max_bytes);
        r->why = strdup(why);
        return;
    }
    /* One parse: UTF-8, JSON, the newswatch.doc/1 schema and the fields. */
    nw_doc *doc = NULL;
    if (nw_doc_from_record(m->payload, m->len, &doc, why, sizeof why) != NW_OK) {
        r->why = strdup(why);
        return;
    }
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    int64_t fallback = ts > 0 ? ts / 1000 : (int64_t)time(NULL);
    nw_enriched out;
    if (nw_enricher_run(en, doc, fallback, &out, why, sizeof why) != NW_OK) {
        char msg[1100];
        snprintf(msg, sizeof msg, "processing error: %s", why);
        r->why = strdup(msg);
    } else if (!keep_output(r, doc, &out)) {
        free_result(r);
        r->why = strdup("processing error: out of memory");
    }
    nw_doc_free(doc);
}

/* The reason a record of a document's output cannot be produced, or NULL when all fit. */
static char *oversized(const stage *st, const enrich_result *r)
{
    char why[512];
    const char *name = NULL;
    size_t len = 0;
    nw_topic_role role = NW_TOPIC_ENRICHED;
    if (!fits(st, NW_TOPIC_ENRICHED, r->key_len, r->enriched_len, 128)) {
        name = "enriched record";
        len = r->enriched_len;
    }
    for (size_t i = 0; name == NULL && i < r->nmatches; i++)
        if (!fits(st, NW_TOPIC_MATCHES, strlen(r->event_ids[i]), r->match_lens[i], 128)) {
            name = "match record";
            len = r->match_lens[i];
            role = NW_TOPIC_MATCHES;
        }
    if (name == NULL)
        return NULL;
    snprintf(why, sizeof why,
             "output too large: its %s is %zu bytes, over the %ld bytes topic %s takes "
             "(max.message.bytes)",
             name, len, limit_of(st, role), st->d->topics.name[role]);
    return strdup(why);
}

/*
 * Produces what compute_enrich made of m (in the stage's open transaction).
 * Every record is checked against its topic's limit first: a document with
 * one that would not fit goes to the dead-letter topic whole, and nothing of
 * it is produced.
 */
static int emit_enrich(stage *st, const rd_kafka_message_t *m, const enrich_result *r)
{
    daemon *d = st->d;
    if (r->why != NULL || r->enriched == NULL)
        return dead_letter(st, m, r->why != NULL ? r->why : "processing error: out of memory");
    char *too_big = oversized(st, r);
    if (too_big != NULL) {
        int rc = dead_letter(st, m, too_big);
        free(too_big);
        return rc;
    }
    int rc = produce(
        st, d->topics.name[NW_TOPIC_ENRICHED], RD_KAFKA_PARTITION_UA, r->key, r->key_len,
        r->enriched, r->enriched_len,
        json_headers(st, NW_ENRICHED_SCHEMA, r->key, r->key_len, "%.*s", (int)r->key_len, r->key));
    for (size_t i = 0; rc == 0 && i < r->nmatches; i++)
        rc = produce(st, d->topics.name[NW_TOPIC_MATCHES], RD_KAFKA_PARTITION_UA, r->event_ids[i],
                     strlen(r->event_ids[i]), r->matches[i], r->match_lens[i],
                     json_headers(st, NW_MATCH_SCHEMA, r->key, r->key_len, "%.*s/%s",
                                  (int)r->key_len, r->key, r->event_ids[i]));
    if (rc == 0) {
        nw_metrics_doc_out(d->metrics, NW_METRICS_ENRICH, NW_METRICS_OUT_ENRICHED);
        for (size_t i = 0; i < r->nmatches; i++)
            nw_metrics_doc_out(d->metrics, NW_METRICS_ENRICH, NW_METRICS_OUT_MATCHES);
    }
    return rc;
}

typedef struct enrich_worker {
    stage *st;
    nw_enricher *en;
    size_t first, step; /* messages first, first + step, ... of the batch */
} enrich_worker;

static void *enrich_slice(void *arg)
{
    const enrich_worker *w = arg;
    for (size_t i = w->first; i < w->st->n; i += w->step)
        compute_enrich(w->st->d, w->en, w->st->batch[i], &w->st->results[i]);
    return NULL;
}

/*
 * Enriches the whole batch into st->results, on up to s.enrich_threads
 * threads (this one included); the records are produced afterwards, in the
 * batch's order, by this thread. -1 when out of memory.
 */
static int enrich_batch(stage *st)
{
    daemon *d = st->d;
    if (st->capresults < st->n) {
        enrich_result *nr = realloc(st->results, st->n * sizeof(*nr));
        if (nr == NULL)
            return -1;
        st->results = nr;
        st->capresults = st->n;
    }
    size_t nthreads = (size_t)d->s.enrich_threads;
    if (nthreads > st->n)
        nthreads = st->n;
    enrich_worker w[MAX_ENRICH_THREADS];
    pthread_t tid[MAX_ENRICH_THREADS];
    bool started[MAX_ENRICH_THREADS] = {false};
    for (size_t t = 0; t < nthreads; t++)
        w[t] = (enrich_worker){st, d->enrichers[t], t, nthreads};
    /* Threads that cannot start leave their messages to this thread. */
    for (size_t t = 1; t < nthreads; t++)
        started[t] = pthread_create(&tid[t], NULL, enrich_slice, &w[t]) == 0;
    enrich_slice(&w[0]);
    for (size_t t = 1; t < nthreads; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            enrich_slice(&(enrich_worker){st, d->enrichers[0], t, nthreads});
    }
    return 0;
}

static int keep_pending(stage *st, nw_alert *a)
{
    if (st->npending == st->cappending) {
        size_t n = st->cappending ? st->cappending * 2 : 16;
        pending_alert *np = realloc(st->pending, n * sizeof(*np));
        if (np == NULL) {
            nw_alert_free(a);
            return -1;
        }
        st->pending = np;
        st->cappending = n;
    }
    st->pending[st->npending++].alert = a;
    return 0;
}

static int process_alert(stage *st, const rd_kafka_message_t *m)
{
    daemon *d = st->d;
    char why[1024];
    if (m->payload == NULL)
        return dead_letter(st, m, "empty message (no value)");
    nw_alert *a;
    if (nw_alerter_process(st->alerter, m->payload, m->len, &a, why, sizeof why) != NW_OK)
        return dead_letter(st, m, why);
    owners_set(st, a->event_id, m->partition);
    const char *too_big = NULL;
    size_t len = 0;
    nw_topic_role role = NW_TOPIC_ALERT_STATE;
    if (!fits(st, NW_TOPIC_ALERT_STATE, strlen(a->event_id), a->state_len, 128)) {
        too_big = "state record";
        len = a->state_len;
    } else if (a->json != NULL &&
               !fits(st, NW_TOPIC_ALERTS, strlen(a->event_id), a->json_len, 128)) {
        too_big = "alert";
        len = a->json_len;
        role = NW_TOPIC_ALERTS;
    }
    if (too_big != NULL) {
        /*
         * The alerter's state already counts this match: the batch is aborted
         * (the state restored from the changelog) and split until this match
         * is alone, which then goes to the dead-letter topic (run_batch).
         */
        st->refused = RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;
        snprintf(st->refused_why, sizeof st->refused_why,
                 "output too large: its %s is %zu bytes, over the %ld bytes topic %s takes "
                 "(max.message.bytes)",
                 too_big, len, limit_of(st, role), d->topics.name[role]);
        nw_alert_free(a);
        return -1;
    }
    /* The state goes to the same partition of the changelog as the match came from. */
    int rc = produce(st, d->topics.name[NW_TOPIC_ALERT_STATE], m->partition, a->event_id,
                     strlen(a->event_id), a->state, a->state_len,
                     json_headers(st, NW_ALERT_STATE_SCHEMA, a->event_id, strlen(a->event_id),
                                  "state:%s:%s:%d:%lld", a->event_id, rd_kafka_topic_name(m->rkt),
                                  (int)m->partition, (long long)m->offset));
    if (rc == 0)
        nw_metrics_doc_out(d->metrics, NW_METRICS_ALERT, NW_METRICS_OUT_ALERT_STATE);
    if (rc == 0 && a->json != NULL) {
        rc = produce(
            st, d->topics.name[NW_TOPIC_ALERTS], RD_KAFKA_PARTITION_UA, a->event_id,
            strlen(a->event_id), a->json, a->json_len,
            json_headers(st, NW_ALERT_SCHEMA, a->event_id, strlen(a->event_id), "%s", a->id));
        st->alerts++;
        if (rc == 0) {
            nw_metrics_doc_out(d->metrics, NW_METRICS_ALERT, NW_METRICS_OUT_ALERTS);
            nw_metrics_alert(d->metrics, a->event_id, nw_alert_decision_name(a->decision));
        }
        if (rc == 0 && d->sinks != NULL)
            return keep_pending(st, a);
    }
    nw_alert_free(a);
    return rc;
}

/* ---- the batch loop ------------------------------------------------------ */

/* A consumer error that means the broker is away (the stage waits for it, quietly). */
static bool broker_away(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
           err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__RESOLVE;
}

/*
 * Polls up to batch.messages messages (or batch_limit while a refused record
 * is being isolated) or batch.ms. The batch closes early when the messages
 * already fetched run out (low latency under a light load, full batches
 * under a backlog). idle_ms bounds the wait for a first message: short when
 * the other stage of this thread has work. -1 on a fatal consumer error, 1 when
 * the consumer was fenced and must be replaced.
 */
static int collect(stage *st, long idle_ms)
{
    const settings *s = &st->d->s;
    if (st->cap < (size_t)s->batch_messages) {
        rd_kafka_message_t **nb = realloc(st->batch, (size_t)s->batch_messages * sizeof(*nb));
        if (nb == NULL)
            return 0;
        st->batch = nb;
        st->cap = (size_t)s->batch_messages;
    }
    size_t most = (size_t)s->batch_messages;
    if (st->batch_limit > 0 && st->batch_limit < most)
        most = st->batch_limit;
    int rc = 0;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long left = s->batch_ms;
    while (st->n < most && left > 0 && stop_signals == 0) {
        nw_notify_watchdog(NULL, 0);
        long wait = st->n > 0 ? 5 : (idle_ms < left ? idle_ms : left);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(st->consumer, (int)(wait < 50 ? wait : 50));
        if (m == NULL && (st->n > 0 || idle_ms < s->batch_ms))
            break; /* nothing more fetched yet: close the batch */
        if (m != NULL) {
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                st->batch[st->n++] = m;
            } else if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
                char why[512];
                if (rd_kafka_fatal_error(st->consumer, why, sizeof why) ==
                    RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID) {
                    /*
                     * Also what librdkafka 2.0.2 says to a static member whose
                     * session expired in an outage and that joined again: a
                     * new consumer takes its place (run_batch).
                     */
                    log_msg(NW_LOG_WARN, "%s: the consumer was fenced (%s); making a new one",
                            st->name, why);
                    rd_kafka_message_destroy(m);
                    rc = 1;
                    break;
                }
                log_msg(NW_LOG_ERROR, "%s: fatal consumer error: %s%s", st->name, why,
                        strstr(why, "instance") != NULL
                            ? " (another process uses this instance.id: give each instance its "
                              "own, with --instance-id or [consumer] instance.id)"
                            : "");
                rd_kafka_message_destroy(m);
                rc = -1;
                break;
            } else {
                if (broker_away(m->err))
                    note_outage(st, rd_kafka_message_errstr(m));
                else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                    log_msg(NW_LOG_WARN, "%s: consumer: %s", st->name, rd_kafka_message_errstr(m));
                rd_kafka_message_destroy(m);
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        left =
            s->batch_ms - ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
    }
    /* Drop what belongs to partitions held until their state is restored. */
    size_t k = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (held(st, st->batch[i]->partition))
            rd_kafka_message_destroy(st->batch[i]);
        else
            st->batch[k++] = st->batch[i];
    }
    st->n = k;
    return rc;
}

/*
 * One past the last message (first: at the first message) of each partition
 * in the batch: the offsets a commit stores, or where a failed batch starts
 * again.
 */
static rd_kafka_topic_partition_list_t *batch_offsets(const stage *st, bool first)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < st->n; i++) {
        const rd_kafka_message_t *m = st->batch[i];
        int64_t at = first ? m->offset : m->offset + 1;
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(l, rd_kafka_topic_name(m->rkt), m->partition);
        if (tp == NULL) {
            tp = rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition);
            tp->offset = at;
        } else if (first ? at < tp->offset : at > tp->offset) {
            tp->offset = at;
        }
    }
    return l;
}

/*
 * After a failed batch: back to its first messages (everything before them
 * is committed: batches follow one another, and a failed one is started
 * again; seek false: the consumer stays where it is), and in the alert stage
 * back to the committed state. The seek needs no broker, so it works in an
 * outage; a partition whose state cannot be read back then is held until it
 * can.
 */
static void rewind_batch(stage *st, bool seek)
{
    rd_kafka_topic_partition_list_t *l = batch_offsets(st, true);
    rd_kafka_error_t *e = seek ? rd_kafka_seek_partitions(st->consumer, l, 10000) : NULL;
    if (e != NULL) {
        log_msg(NW_LOG_WARN, "%s: cannot rewind: %s", st->name, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    for (int i = 0; seek && i < l->cnt; i++)
        if (l->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR)
            log_msg(NW_LOG_WARN, "%s: cannot rewind %s [%d]: %s", st->name, l->elems[i].topic,
                    (int)l->elems[i].partition, rd_kafka_err2str(l->elems[i].err));
    if (st->kind == STAGE_ALERT) {
        for (int i = 0; i < l->cnt; i++)
            if (!held(st, l->elems[i].partition) &&
                restore_partition(st, l->elems[i].partition) != 0)
                hold_partition(st, l->elems[i].partition);
    }
    rd_kafka_topic_partition_list_destroy(l);
    free_pending(st);
}

/* ---- transactions: one call at a time, a timed-out call called again ---- */

typedef enum txn_call { TXN_INIT, TXN_BEGIN, TXN_SEND_OFFSETS, TXN_COMMIT, TXN_ABORT } txn_call;

static const char *const txn_call_name[] = {"initialising transactions", "beginning a transaction",
                                            "sending the offsets", "committing",
                                            "aborting the transaction"};

static rd_kafka_error_t *txn_once(stage *st, txn_call call,
                                  const rd_kafka_topic_partition_list_t *offsets,
                                  const rd_kafka_consumer_group_metadata_t *cgmd)
{
    switch (call) {
    case TXN_INIT:
        return rd_kafka_init_transactions(st->producer, TXN_CALL_MS);
    case TXN_BEGIN:
        return rd_kafka_begin_transaction(st->producer);
    case TXN_SEND_OFFSETS:
        return rd_kafka_send_offsets_to_transaction(st->producer, offsets, cgmd, TXN_CALL_MS);
    case TXN_COMMIT:
        return rd_kafka_commit_transaction(st->producer, TXN_CALL_MS);
    case TXN_ABORT:
        return rd_kafka_abort_transaction(st->producer, TXN_CALL_MS);
    }
    return NULL;
}

/*
 * Makes one transactional call, calling it again while it fails with a
 * retriable error (a timeout, the broker away: librdkafka requires the same
 * call again, and no other call meanwhile). So a broker that is away for
 * ten minutes is waited for. Returns NULL, or the error that ended it (the
 * caller destroys it); a second signal ends the wait.
 */
static rd_kafka_error_t *txn(stage *st, txn_call call,
                             const rd_kafka_topic_partition_list_t *offsets,
                             const rd_kafka_consumer_group_metadata_t *cgmd)
{
    for (;;) {
        rd_kafka_error_t *e = txn_once(st, call, offsets, cgmd);
        if (e == NULL || !rd_kafka_error_is_retriable(e) || stop_signals > 1)
            return e;
        char what[600];
        snprintf(what, sizeof what, "%s: %s", txn_call_name[call], rd_kafka_error_string(e));
        note_outage(st, what);
        nw_metrics_heartbeat(st->d->metrics); /* waiting for the broker is not hanging */
        rd_kafka_error_destroy(e);
        nw_notify_watchdog(NULL, 0); /* waiting for the broker is not hanging */
        sleep_ms(200);
    }
}

static int new_consumer(stage *st, char *errbuf, size_t errlen);

/* Destroys a producer that may hang on a broker that is away: on a thread of its own. */
static void *destroy_client(void *rk)
{
    rd_kafka_destroy(rk);
    return NULL;
}

static void retire_producer(rd_kafka_t *rk)
{
    if (rk == NULL)
        return;
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT |
                           RD_KAFKA_PURGE_F_NON_BLOCKING);
    pthread_t t;
    if (pthread_create(&t, NULL, destroy_client, rk) == 0)
        pthread_detach(t);
    else
        rd_kafka_destroy(rk);
}

/*
 * Counts one replacement of a stage's client (producer or consumer) in the
 * current RESET_WINDOW_MS; true when it is one more than RESETS_MAX.
 */
static bool one_reset_too_many(stage *st)
{
    double now = now_ms();
    if (now - st->reset_window_ms > RESET_WINDOW_MS) {
        st->reset_window_ms = now;
        st->resets = 0;
    }
    return ++st->resets > RESETS_MAX;
}

/*
 * Replaces the stage's producer after an error that left it unusable (fatal,
 * fenced because its transaction timed out in an outage, or a failed abort):
 * the new one's init_transactions fences the old and aborts its transaction.
 * Waits for the broker as long as it takes. -1 when the daemon must stop:
 * producers reset over and over mean another instance shares this one's
 * transactional.id.
 */
static int reset_producer(stage *st)
{
    if (one_reset_too_many(st)) {
        log_msg(NW_LOG_ERROR,
                "%s: the producer had to be replaced %d times in %d s: another process may use "
                "transactional.id %s (give each instance its own instance.id), or the cluster "
                "keeps fencing it; stopping",
                st->name, st->resets - 1, RESET_WINDOW_MS / 1000, st->txn_id);
        return -1;
    }
    log_msg(NW_LOG_WARN, "%s: recreating the producer (transactional.id %s)", st->name, st->txn_id);
    retire_producer(st->producer);
    st->producer = NULL;
    while (stop_signals == 0) {
        nw_notify_watchdog(NULL, 0);
        char err[512];
        if ((st->producer = new_producer(st, err, sizeof err)) == NULL) {
            log_msg(NW_LOG_ERROR, "%s: cannot create a producer: %s", st->name, err);
            return -1;
        }
        if (!st->d->s.eos)
            return 0;
        rd_kafka_error_t *e = txn(st, TXN_INIT, NULL, NULL);
        if (e == NULL)
            return 0;
        log_msg(NW_LOG_WARN, "%s: %s failed: %s", st->name, txn_call_name[TXN_INIT],
                rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        retire_producer(st->producer);
        st->producer = NULL;
        sleep_ms(1000);
    }
    return 0; /* stopping: the loop ends before the producer is needed */
}

/* Aborts the open transaction; a producer that cannot abort is replaced. 0, or -1 to stop. */
static int abort_txn(stage *st)
{
    rd_kafka_error_t *e = txn(st, TXN_ABORT, NULL, NULL);
    if (e == NULL)
        return 0;
    log_msg(NW_LOG_WARN, "%s: %s failed: %s", st->name, txn_call_name[TXN_ABORT],
            rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return reset_producer(st);
}

/*
 * Commits the transaction with the batch's offsets: 0 committed, 1 aborted
 * (the batch is to be done again), -1 the daemon must stop.
 */
static int commit_txn(stage *st)
{
    rd_kafka_topic_partition_list_t *offsets = batch_offsets(st, false);
    rd_kafka_consumer_group_metadata_t *cgmd = rd_kafka_consumer_group_metadata(st->consumer);
    rd_kafka_error_t *e = txn(st, TXN_SEND_OFFSETS, offsets, cgmd);
    if (e == NULL)
        e = txn(st, TXN_COMMIT, NULL, NULL);
    rd_kafka_consumer_group_metadata_destroy(cgmd);
    rd_kafka_topic_partition_list_destroy(offsets);
    if (e == NULL)
        return 0;
    bool abortable = rd_kafka_error_txn_requires_abort(e);
    snprintf(st->last_error, sizeof st->last_error, "%s", rd_kafka_error_string(e));
    log_msg(NW_LOG_WARN, "%s: the transaction failed (%s): %s", st->name,
            abortable ? "aborting it" : "recreating the producer", st->last_error);
    rd_kafka_error_destroy(e);
    int rc = abortable ? abort_txn(st) : reset_producer(st);
    return rc != 0 ? -1 : 1;
}

/* at_least_once: wait for every output's delivery report, then commit the offsets. 0 or 1. */
static int commit_alo(stage *st)
{
    unsigned long before = st->delivery_errors;
    rd_kafka_flush(st->producer, TXN_TIMEOUT_MS);
    if (rd_kafka_outq_len(st->producer) > 0 || st->delivery_errors != before) {
        snprintf(st->last_error, sizeof st->last_error, "outputs were not delivered");
        return 1;
    }
    rd_kafka_topic_partition_list_t *offsets = batch_offsets(st, false);
    rd_kafka_resp_err_t err = rd_kafka_commit(st->consumer, offsets, 0);
    rd_kafka_topic_partition_list_destroy(offsets);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_msg(NW_LOG_WARN, "%s: cannot commit offsets: %s", st->name, rd_kafka_err2str(err));
        return 1;
    }
    return 0;
}

/* Begins a transaction (exactly-once); 0, 1 when the batch must wait, -1 to stop. */
static int begin_txn(stage *st)
{
    if (!st->d->s.eos)
        return 0;
    if (st->producer == NULL && reset_producer(st) != 0)
        return -1;
    if (st->producer == NULL)
        return 1; /* stopping */
    rd_kafka_error_t *e = txn(st, TXN_BEGIN, NULL, NULL);
    if (e == NULL)
        return 0;
    log_msg(NW_LOG_WARN, "%s: cannot begin a transaction: %s", st->name, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return reset_producer(st) != 0 ? -1 : 1;
}

static void deliver_pending(stage *st)
{
    for (size_t i = 0; st->d->sinks != NULL && i < st->npending; i++) {
        const nw_alert *a = st->pending[i].alert;
        nw_alert_view v = {a->id,           a->event_id,    nw_alert_decision_name(a->decision),
                           a->severity,     a->title,       a->evidence,
                           a->doc_id,       a->source,      a->url,
                           a->published_at, a->detected_at, a->json,
                           a->json_len};
        nw_sinks_send(st->d->sinks, &v);
    }
    free_pending(st);
}

/* Processes the batch into the open transaction (or the producer's queue). 0, or -1. */
static int process_batch(stage *st)
{
    int rc = 0;
    if (st->kind == STAGE_ENRICH) {
        bool computed = enrich_batch(st) == 0; /* false: no results to produce or free */
        rc = computed ? 0 : -1;
        for (size_t i = 0; computed && i < st->n; i++) {
            if (rc == 0) {
                rc = emit_enrich(st, st->batch[i], &st->results[i]);
                st->processed++;
            }
            free_result(&st->results[i]);
        }
    } else {
        for (size_t i = 0; i < st->n && rc == 0; i++) {
            rc = process_alert(st, st->batch[i]);
            st->processed++;
        }
    }
    return rc;
}

/* Commits what the open transaction holds: 0, 1 (the batch is to be done again), -1 to stop. */
static int commit(stage *st)
{
    return st->d->s.eos ? commit_txn(st) : commit_alo(st);
}

/*
 * A batch failed because Kafka refused a record (or one would not fit): the
 * next batches are halved until the input that made it is alone, and that
 * input then goes to the dead-letter topic in a transaction of its own.
 * Returns -1 when the daemon must stop.
 */
static int isolate_refused(stage *st)
{
    if (st->n > 1) {
        st->batch_limit = st->n / 2;
        log_msg(NW_LOG_WARN,
                "%s: a record was refused (%s); splitting the batch (%zu messages next)", st->name,
                st->refused_why, st->batch_limit);
        return 0;
    }
    char why[600];
    snprintf(why, sizeof why, "%s", st->refused_why);
    st->refused = RD_KAFKA_RESP_ERR_NO_ERROR;
    int rc = begin_txn(st);
    if (rc != 0) {
        if (rc > 0)
            rewind_batch(st, true);
        return rc < 0 ? -1 : 0;
    }
    if (dead_letter(st, st->batch[0], why) != 0) {
        nw_metrics_txn(st->d->metrics, mstage(st), false);
        if (st->d->s.eos && abort_txn(st) != 0)
            return -1;
        rewind_batch(st, true);
        return 0;
    }
    rc = commit(st);
    if (rc == 0)
        nw_metrics_doc_in(st->d->metrics, mstage(st), 1);
    nw_metrics_txn(st->d->metrics, mstage(st), rc == 0);
    if (rc == 1)
        rewind_batch(st, true);
    else if (rc == 0)
        st->failures = 0;
    return rc < 0 ? -1 : 0;
}

/*
 * Replaces a consumer that was fenced (its group.instance.id taken over): the
 * batch collected is dropped (its offsets are not committed), the alert
 * stage's state forgotten until the new assignment restores it. -1 when the
 * daemon must stop: replaced over and over, another process has this name.
 */
static int recreate_consumer(stage *st)
{
    double now = now_ms();
    if (one_reset_too_many(st)) {
        log_msg(NW_LOG_ERROR,
                "%s: the consumer was fenced %d times in %d s: another process uses instance.id "
                "%s (give each instance its own, with --instance-id or [consumer] instance.id); "
                "stopping",
                st->name, st->resets - 1, RESET_WINDOW_MS / 1000, st->d->s.instance_id);
        return -1;
    }
    for (size_t i = 0; i < st->n; i++)
        rd_kafka_message_destroy(st->batch[i]);
    st->n = 0;
    if (st->limits_q != NULL)
        rd_kafka_queue_destroy(st->limits_q);
    st->limits_q = NULL;
    st->limits_asked = false;
    st->limits_retry_ms = now; /* asked again at once, on the new consumer */
    rd_kafka_destroy_flags(st->consumer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    st->consumer = NULL;
    if (st->kind == STAGE_ALERT)
        forget_partition(st, -1);
    st->nunrestored = 0;
    nw_kafka_strings_free(st->members, st->nmembers);
    st->members = NULL;
    st->nmembers = 0;
    char err[512] = "out of memory";
    if (new_consumer(st, err, sizeof err) != 0 ||
        (st->limits_q = rd_kafka_queue_new(st->consumer)) == NULL) {
        log_msg(NW_LOG_ERROR, "%s: cannot make a new consumer: %s", st->name, err);
        return -1;
    }
    return 0;
}

/* End-to-end latency of a committed batch's messages: their record timestamps to now. */
static void observe_latency(const stage *st)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    double now = (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
    for (size_t i = 0; i < st->n; i++) {
        int64_t ts = rd_kafka_message_timestamp(st->batch[i], NULL);
        if (ts > 0)
            nw_metrics_latency_seconds(st->d->metrics, mstage(st), (now - (double)ts) / 1000.0);
    }
}

/* One batch: collect, process in a transaction, commit. 0, or -2 when the daemon must stop. */
static int run_batch(stage *st, long idle_ms)
{
    double t0 = now_ms();
    int collected = collect(st, idle_ms);
    if (collected > 0)
        return recreate_consumer(st) != 0 ? -2 : 0;
    if (collected != 0)
        return -2;
    st->last_batch = st->n;
    if (st->n == 0)
        return 0;
    int rc = begin_txn(st);
    if (rc != 0) {
        nw_metrics_txn(st->d->metrics, mstage(st), false);
        rewind_batch(st, true);
        goto done;
    }
    st->refused = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (process_batch(st) != 0) {
        rc = st->d->s.eos && abort_txn(st) != 0 ? -1 : 1;
        if (st->d->s.eos && rc > 0 && st->refused == RD_KAFKA_RESP_ERR_NO_ERROR)
            log_msg(NW_LOG_WARN, "%s: the batch could not be produced; doing it again", st->name);
    } else {
        rc = commit(st);
    }
    /* What the batch counted reaches the totals only when it is committed. */
    if (rc == 0) {
        nw_metrics_doc_in(st->d->metrics, mstage(st), st->n);
        nw_metrics_txn(st->d->metrics, mstage(st), true);
        observe_latency(st);
    } else {
        nw_metrics_txn(st->d->metrics, mstage(st), false);
    }
    nw_metrics_batch_seconds(st->d->metrics, mstage(st), (now_ms() - t0) / 1000.0);
    if (rc == 0) {
        note_resumed(st);
        deliver_pending(st); /* only committed alerts reach the sinks */
        st->failures = 0;
        if (st->batch_limit > 0 && (st->batch_limit *= 2) >= (size_t)st->d->s.batch_messages)
            st->batch_limit = 0;
    } else if (rc > 0) {
        bool refused = st->refused != RD_KAFKA_RESP_ERR_NO_ERROR;
        st->failures++;
        /* A message alone and refused is dead-lettered where the consumer stands. */
        rewind_batch(st, !(refused && st->n == 1));
        if (refused) {
            if (isolate_refused(st) != 0)
                rc = -1;
        } else if (st->failures >= FAILURES_TO_SPLIT && st->n > 1) {
            st->batch_limit = st->n / 2;
            log_msg(NW_LOG_WARN,
                    "%s: %d batches failed in a row (last: %s); splitting the batch (%zu "
                    "messages next)",
                    st->name, st->failures, st->last_error, st->batch_limit);
        }
    }
done:
    for (size_t i = 0; i < st->n; i++)
        rd_kafka_message_destroy(st->batch[i]);
    st->n = 0;
    return rc < 0 ? -2 : 0;
}

/*
 * During an outage, an idle stage would learn that the broker is back only
 * from its next message: every PROBE_MS it asks for metadata (a second at
 * most) and, when the broker answers, says so (the log, /readyz).
 */
static void probe_broker(stage *st)
{
    double now = now_ms();
    if (st->consumer == NULL || st->outage_since_ms <= 0 || now - st->probed_ms < PROBE_MS)
        return;
    st->probed_ms = now;
    const rd_kafka_metadata_t *md = NULL;
    if (rd_kafka_metadata(st->consumer, 0, NULL, &md, 1000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_metadata_destroy(md);
        note_resumed(st);
    }
}

/*
 * Between the alert stage's batches (its state is the committed one): every
 * alertmanager.resend.ms, the incidents of this instance's partitions are
 * posted to Alertmanager again with endsAt ahead, and the quiet ones
 * resolved (docs/sinks.md). Cheap when not due.
 */
static void resend_incidents(daemon *d)
{
    if (d->alert.alerter == NULL || !nw_sinks_resend_due(d->sinks))
        return;
    char why[256] = "out of memory";
    int64_t now = (int64_t)time(NULL);
    nw_incident_list *l = nw_incident_list_new();
    if (l == NULL || nw_alerter_list(d->alert.alerter, now, nw_sinks_resend_keep_s(d->sinks), l,
                                     why, sizeof why) != NW_OK)
        log_msg(NW_LOG_ERROR, "alert: cannot list the incidents for Alertmanager: %s", why);
    else
        nw_sinks_resend(d->sinks, l, now);
    nw_incident_list_free(l);
}

/* ---- reload, shutdown watchdog, main --------------------------------------- */

static void free_enrichers(const daemon *d, nw_enricher **en)
{
    for (int i = 0; en != NULL && i < d->s.enrich_threads; i++)
        nw_enricher_free(en[i]);
    free(en);
}

/* One enricher per enrich thread, over d->pipeline; NULL with a message on failure. */
static nw_enricher **new_enrichers(const daemon *d, char *errbuf, size_t errlen)
{
    nw_enricher **en = calloc((size_t)d->s.enrich_threads, sizeof(*en));
    if (en == NULL) {
        nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        return NULL;
    }
    for (int i = 0; i < d->s.enrich_threads; i++)
        if ((en[i] = nw_enricher_new(&d->pipeline, errbuf, errlen)) == NULL) {
            free_enrichers(d, en);
            return NULL;
        }
    return en;
}

static int reset_producer(stage *st);

/*
 * Between batches: takes the topics' limits when they come; a producer whose
 * batches no longer fit is replaced.
 */
static void refresh_limits(stage *st)
{
    if (!take_limits(st, 0) || smallest_limit(st) >= st->producer_limit)
        return;
    log_msg(NW_LOG_INFO, "%s: a topic's max.message.bytes is now %ld bytes", st->name,
            smallest_limit(st));
    if (reset_producer(st) != 0)
        st->d->failed = true;
}

/* SIGHUP: loads everything anew; a file with a mistake keeps the old configuration. */
/* The configuration file the daemon read: -c FILE, or config/newswatch.conf; NULL: none. */
static const char *config_path(const daemon *d)
{
    if (d->o->config_file != NULL)
        return d->o->config_file;
    if (d->conf != NULL && nw_kvconf_count(d->conf) > 0)
        return nw_kvconf_at(d->conf, 0)->file;
    return access("config/newswatch.conf", R_OK) == 0 ? "config/newswatch.conf" : NULL;
}

/* Do the entries of section differ between a and b (either may be NULL)? */
static bool section_changed(const nw_kvconf *a, const nw_kvconf *b, const char *section)
{
    size_t na = a != NULL ? nw_kvconf_count(a) : 0, nb = b != NULL ? nw_kvconf_count(b) : 0;
    size_t i = 0, k = 0;
    for (;;) {
        while (i < na && strcmp(nw_kvconf_at(a, i)->section, section) != 0)
            i++;
        while (k < nb && strcmp(nw_kvconf_at(b, k)->section, section) != 0)
            k++;
        if (i == na || k == nb)
            return (i == na) != (k == nb);
        const nw_kvconf_entry *x = nw_kvconf_at(a, i++), *y = nw_kvconf_at(b, k++);
        if (strcmp(x->key, y->key) != 0 || strcmp(x->value, y->value) != 0)
            return true;
    }
}

/* At each scrape of /metrics (the HTTP thread): the sinks' counters. */
static void collect_sink_stats(nw_metrics *m, void *arg)
{
    daemon *d = arg;
    pthread_mutex_lock(&d->sinks_lock);
    if (d->sinks != NULL) {
        nw_sink_stats stats[NW_SINK_COUNT];
        nw_sinks_stats(d->sinks, stats);
        nw_metrics_sinks(m, stats);
    }
    pthread_mutex_unlock(&d->sinks_lock);
}

/* The sinks conf asks for (NULL *out when none, or when the stage has no alerts). */
static nw_err make_sinks(const daemon *d, const nw_kvconf *conf, nw_sinks **out, char *errbuf,
                         size_t errlen)
{
    *out = NULL;
    nw_sinks_config sc;
    nw_sinks_config_init(&sc);
    snprintf(sc.program, sizeof sc.program, "%s", NW_CONSUMER);
    nw_err err = nw_sinks_config_apply(&sc, conf, errbuf, errlen);
    /* The daemon's stdout is for alerts only when asked: logs go to stderr. */
    if (err == NW_OK && (d->stages & STAGE_ALERT) &&
        (sc.stdout_enabled || sc.alertmanager_url[0] != '\0' || sc.webhook_url[0] != '\0'))
        err = nw_sinks_new(&sc, NULL, out, errbuf, errlen);
    return err;
}

static void reload_failed(daemon *d, const char *why)
{
    log_msg(NW_LOG_ERROR, "reload failed, keeping the old configuration: %s", why);
    nw_metrics_reload(d->metrics, false, (double)time(NULL));
}

/*
 * SIGHUP: the configuration file is read again, with the pipeline's files
 * and the sinks; a file with a mistake keeps the old configuration. What
 * only a restart applies ([kafka], [topics], [consumer], [http], [log]) is
 * named in the log when it changed.
 */
static void reload(daemon *d)
{
    char err[1024];
    const char *path = config_path(d);
    nw_kvconf *conf = NULL;
    if (path != NULL &&
        (nw_kvconf_new_from_file(path, &conf, err, sizeof err) != NW_OK ||
         nw_kvconf_check_sections(conf, nw_config_sections, err, sizeof err) != NW_OK)) {
        nw_kvconf_free(conf);
        reload_failed(d, err);
        return;
    }
    nw_pipeline next;
    nw_pipeline_paths paths = {d->o->gazetteer, d->o->furniture, d->o->events};
    if (nw_pipeline_load(&next, &paths, conf, err, sizeof err) != NW_OK) {
        nw_kvconf_free(conf);
        reload_failed(d, err);
        return;
    }
    nw_sinks *sinks = NULL;
    if (make_sinks(d, conf, &sinks, err, sizeof err) != NW_OK) {
        nw_pipeline_unload(&next);
        nw_kvconf_free(conf);
        reload_failed(d, err);
        return;
    }
    nw_pipeline old = d->pipeline;
    d->pipeline = next;
    nw_enricher **en = NULL;
    if (d->enrichers != NULL && (en = new_enrichers(d, err, sizeof err)) == NULL) {
        d->pipeline = old;
        nw_pipeline_unload(&next);
        nw_sinks_free(sinks);
        nw_kvconf_free(conf);
        reload_failed(d, err);
        return;
    }
    if (d->enrichers != NULL) {
        free_enrichers(d, d->enrichers);
        d->enrichers = en;
    }
    if (d->alert.alerter != NULL)
        nw_alerter_set_rules(d->alert.alerter, d->pipeline.rules);
    stage *stages[2] = {&d->enrich, &d->alert};
    for (int i = 0; i < 2; i++)
        if (stages[i]->consumer != NULL && !stages[i]->limits_asked)
            ask_limits(stages[i]);
    nw_pipeline_unload(&old);
    /* The sinks: the new ones take the next alerts; the old drain what they hold. */
    pthread_mutex_lock(&d->sinks_lock);
    nw_sinks *old_sinks = d->sinks;
    d->sinks = sinks;
    pthread_mutex_unlock(&d->sinks_lock);
    nw_sinks_free(old_sinks);
    static const char *const restart_only[] = {"kafka", "topics", "consumer", "http", "log"};
    for (size_t i = 0; i < sizeof restart_only / sizeof restart_only[0]; i++)
        if (section_changed(d->conf, conf, restart_only[i]))
            log_msg(NW_LOG_WARN, "reload: [%s] changed in %s; a restart applies it",
                    restart_only[i], path);
    nw_kvconf_free(conf);
    nw_metrics_reload(d->metrics, true, (double)time(NULL));
    log_msg(NW_LOG_INFO,
            "reloaded%s%s: %zu entities, %zu furniture rules, %zu tracked events; sinks: %s",
            path != NULL ? " " : "", path != NULL ? path : "",
            nw_gazetteer_count(d->pipeline.gazetteer), nw_furniture_count(d->pipeline.furniture),
            nw_rules_event_count(d->pipeline.rules), d->sinks != NULL ? "on" : "off");
}

typedef struct watchdog {
    int shutdown_ms;
} watchdog;

/*
 * A second signal exits at once; a shutdown that overruns its bound exits
 * too, whether a signal or a fatal error began it (closing the clients can
 * hang on a broker that is away).
 */
static void *watch(void *arg)
{
    const watchdog *w = arg;
    struct timespec first = {0, 0}, now;
    for (;;) {
        struct timespec tick = {0, 100 * 1000000L};
        nanosleep(&tick, NULL);
        if (stop_signals == 0 && shutdown_begun == 0)
            continue;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (first.tv_sec == 0)
            first = now;
        if (stop_signals > 1) {
            log_msg(NW_LOG_WARN, "second signal: exiting now");
            _exit(130);
        }
        if ((now.tv_sec - first.tv_sec) * 1000 > w->shutdown_ms) {
            log_msg(NW_LOG_ERROR, "shutdown took longer than %d ms (shutdown.timeout.ms): exiting",
                    w->shutdown_ms);
            _exit(1);
        }
    }
    return NULL;
}

/*
 * glibc's allocator: at most two arenas unless MALLOC_ARENA_MAX says
 * otherwise (the daemon has about twenty threads, librdkafka's and a batch's
 * enrich threads, and each would keep an arena of freed memory), set before
 * any thread starts; and what a backlog freed is given back once the daemon
 * is idle. docs/PERFORMANCE.md ("Memory") has the measurements: peak RSS on a
 * 500,000-document backlog 174 -> 127 MB, 142 -> 20 MB idle after it.
 */
static void limit_arenas(void)
{
#ifdef __GLIBC__
    if (getenv("MALLOC_ARENA_MAX") == NULL)
        mallopt(M_ARENA_MAX, 2);
#endif
}

/* Gives freed memory back when both stages were idle and work was done since the last time. */
static void trim_when_idle(const daemon *d, unsigned long *done_at_trim, double *last_trim_ms)
{
#ifdef __GLIBC__
    unsigned long done = d->enrich.processed + d->alert.processed;
    double now = now_ms();
    if (d->enrich.last_batch == 0 && d->alert.last_batch == 0 && done != *done_at_trim &&
        now - *last_trim_ms >= 1000) {
        malloc_trim(0);
        *done_at_trim = done;
        *last_trim_ms = now;
    }
#else
    (void)d;
    (void)done_at_trim;
    (void)last_trim_ms;
#endif
}

int nw_cmd_daemon(const nw_consumer_opts *o, const nw_kvconf *conf)
{
    static daemon d; /* large, and its address is shared with callbacks */
    memset(&d, 0, sizeof d);
    limit_arenas(); /* before the sinks and the Kafka clients start their threads */
    d.o = o;
    d.conf = conf;
    char err[1024];
    nw_topics_init(&d.topics);
    if (nw_log_setup_from_conf(conf, NW_CONSUMER, err, sizeof err) != NW_OK ||
        read_settings(conf, &d.s, err, sizeof err) != NW_OK ||
        nw_topics_configure(&d.topics, conf, err, sizeof err) != NW_OK) {
        log_msg(NW_LOG_ERROR, "%s", err);
        return NW_EXIT_USAGE;
    }
    if (o->instance_id != NULL) {
        if (!valid_instance_id(o->instance_id)) {
            log_msg(NW_LOG_ERROR,
                    "--instance-id '%s': expected 1 to 100 letters, digits, '.', '_' or '-'",
                    o->instance_id);
            return NW_EXIT_USAGE;
        }
        snprintf(d.s.instance_id, sizeof d.s.instance_id, "%s", o->instance_id);
    }
    nw_pipeline_paths paths = {o->gazetteer, o->furniture, o->events};
    if (nw_pipeline_load(&d.pipeline, &paths, conf, err, sizeof err) != NW_OK) {
        log_msg(NW_LOG_ERROR, "%s", err);
        return NW_EXIT_USAGE;
    }
    int stages = o->stages != 0 ? o->stages : STAGE_ENRICH | STAGE_ALERT;
    d.stages = stages;
    pthread_mutex_init(&d.sinks_lock, NULL);
    if (make_sinks(&d, conf, &d.sinks, err, sizeof err) != NW_OK) {
        log_msg(NW_LOG_ERROR, "%s", err);
        nw_pipeline_unload(&d.pipeline);
        return NW_EXIT_USAGE;
    }
    /* /metrics, /healthz, /readyz: up before the stages, so that a start that waits shows. */
    nw_http_config hc;
    nw_http_config_init(&hc);
    unsigned mstages = ((stages & STAGE_ENRICH) ? NW_METRICS_STAGE_BIT(NW_METRICS_ENRICH) : 0) |
                       ((stages & STAGE_ALERT) ? NW_METRICS_STAGE_BIT(NW_METRICS_ALERT) : 0);
    if (nw_http_config_apply(&hc, conf, err, sizeof err) != NW_OK ||
        nw_metrics_new(mstages, &d.metrics, err, sizeof err) != NW_OK ||
        nw_http_new(&hc, d.metrics, &d.http, err, sizeof err) != NW_OK) {
        log_msg(NW_LOG_ERROR, "%s", err);
        nw_metrics_free(d.metrics);
        nw_sinks_free(d.sinks);
        nw_pipeline_unload(&d.pipeline);
        return NW_EXIT_USAGE;
    }
    nw_metrics_set_collector(d.metrics, collect_sink_stats, &d);
    if (d.http != NULL)
        log_msg(NW_LOG_INFO, "serving /metrics, /healthz and /readyz on %s:%u", hc.host,
                nw_http_port(d.http));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    static watchdog w;
    w.shutdown_ms = d.s.shutdown_ms;
    pthread_t wt;
    pthread_create(&wt, NULL, watch, &w);
    pthread_detach(wt);

    int status = 0;
    d.enrichers = (stages & STAGE_ENRICH) ? new_enrichers(&d, err, sizeof err) : NULL;
    if ((stages & STAGE_ENRICH) && d.enrichers == NULL) {
        log_msg(NW_LOG_ERROR, "%s", err);
        status = NW_EXIT_FAILED;
        goto done;
    }
    effective_brokers(&d);
    int opened =
        (stages & STAGE_ENRICH) ? open_stage(&d, &d.enrich, STAGE_ENRICH, err, sizeof err) : 0;
    all_stages[0] = (stages & STAGE_ENRICH) ? &d.enrich : NULL;
    if (opened == 0 && (stages & STAGE_ALERT))
        opened = open_stage(&d, &d.alert, STAGE_ALERT, err, sizeof err);
    if (opened != 0) {
        if (stop_signals != 0) {
            log_msg(NW_LOG_INFO, "stopped while starting");
        } else {
            log_msg(NW_LOG_ERROR, "%s", err);
            status = NW_EXIT_KAFKA;
        }
        goto done;
    }
    all_stages[1] = (stages & STAGE_ALERT) ? &d.alert : NULL;
    log_msg(NW_LOG_INFO, "running %s%s%s (%s) on %s as instance %s",
            (stages & STAGE_ENRICH) ? "enrich" : "",
            stages == (STAGE_ENRICH | STAGE_ALERT) ? " and " : "",
            (stages & STAGE_ALERT) ? "alert" : "", d.s.eos ? "exactly-once" : "at-least-once",
            d.brokers, d.s.instance_id);
    char nerr[256];
    if (nw_notify_ready(nerr, sizeof nerr) != NW_OK)
        log_msg(NW_LOG_WARN, "%s", nerr);
    nw_notify_status(NULL, 0, "running (%s) on %s as instance %s",
                     d.s.eos ? "exactly-once" : "at-least-once", d.brokers, d.s.instance_id);
    unsigned long done_at_trim = 0;
    double last_trim_ms = 0;
    while (stop_signals == 0 && !d.failed) {
        nw_metrics_heartbeat(d.metrics);
        nw_metrics_set_held(d.metrics, d.alert.nunrestored);
        nw_notify_watchdog(NULL, 0);
        trim_when_idle(&d, &done_at_trim, &last_trim_ms);
        if (reload_requested) {
            reload_requested = 0;
            nw_notify_reloading(NULL, 0);
            reload(&d);
            nw_notify_ready(NULL, 0);
        }
        /*
         * One thread runs both stages. A stage waits for its first message
         * only while the other is idle, and then only briefly: a document that
         * reaches news.raw while the thread waits on news.matches would wait
         * out that poll (up to batch.ms, the p99 latency's tail).
         */
        bool both = stages == (STAGE_ENRICH | STAGE_ALERT);
        long idle =
            both ? (d.s.batch_ms < BOTH_IDLE_MS ? d.s.batch_ms : BOTH_IDLE_MS) : d.s.batch_ms;
        long enrich_wait = both && d.alert.last_batch > 0 ? 0 : idle;
        if ((stages & STAGE_ENRICH) && run_batch(&d.enrich, enrich_wait) == -2) {
            status = NW_EXIT_FAILED;
            break;
        }
        if (stages & STAGE_ALERT)
            retry_restores(&d.alert);
        if (stages & STAGE_ENRICH)
            refresh_limits(&d.enrich);
        if (stages & STAGE_ALERT)
            refresh_limits(&d.alert);
        long alert_wait = both && d.enrich.last_batch > 0 ? 0 : idle;
        if ((stages & STAGE_ALERT) && run_batch(&d.alert, alert_wait) == -2) {
            status = NW_EXIT_FAILED;
            break;
        }
        if (stages & STAGE_ALERT)
            resend_incidents(&d);
        if (stages & STAGE_ENRICH)
            probe_broker(&d.enrich);
        if (stages & STAGE_ALERT)
            probe_broker(&d.alert);
    }
    shutdown_begun = 1; /* from here on the watchdog bounds the stop */
    nw_metrics_set_stopping(d.metrics);
    if (d.failed)
        status = NW_EXIT_FAILED;
    log_msg(NW_LOG_INFO,
            "stopping: enrich %lu messages (%lu to the dead-letter topic), alert %lu messages "
            "(%lu alerts, %lu to the dead-letter topic)",
            d.enrich.processed, d.enrich.dead_letters, d.alert.processed, d.alert.alerts,
            d.alert.dead_letters);
done:
    shutdown_begun = 1; /* also when a stage could not start */
    nw_notify_stopping(NULL, 0);
    nw_notify_status(NULL, 0, "stopping");
    close_stage(&d.enrich);
    close_stage(&d.alert);
    all_stages[0] = all_stages[1] = NULL;
    nw_http_free(d.http); /* before the registry it serves */
    nw_metrics_free(d.metrics);
    nw_sinks_free(d.sinks);
    free_enrichers(&d, d.enrichers);
    nw_pipeline_unload(&d.pipeline);
    return status;
}
