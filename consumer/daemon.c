#include "daemon.h"

#include <errno.h>
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
#include "newswatch/topics.h"
#include "newswatch/pipeline.h"
#include "newswatch/stages.h"
#include "../kafka/nw_kafka.h"
#include "../sinks/nw_sinks.h"

#define DEFAULT_BROKERS "127.0.0.1:9092"
#define TXN_TIMEOUT_MS  60000

/* ---- signals: the handlers only set flags ------------------------------ */

static volatile sig_atomic_t stop_signals; /* SIGTERM/SIGINT seen */
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
    int batch_messages, batch_ms, shutdown_ms;
    int enrich_threads; /* documents of a batch enriched in parallel */
    bool eos;
    size_t max_bytes;
} settings;

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
        else if (strcmp(k, "batch.messages") == 0)
            bad = !nw_parse_long(e->value, 1, 100000, &v) || !(s->batch_messages = (int)v);
        else if (strcmp(k, "batch.ms") == 0)
            bad = !nw_parse_long(e->value, 1, 60000, &v) || !(s->batch_ms = (int)v);
        else if (strcmp(k, "enrich.threads") == 0)
            bad = !nw_parse_long(e->value, 1, MAX_ENRICH_THREADS, &v) ||
                  !(s->enrich_threads = (int)v);
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
        } else
            return nw_set_error(
                errbuf, errlen, NW_ECONFIG,
                "%s:%u: unknown key '%s' in [consumer] (known: group.enrich, "
                "group.alert, transactional.id.prefix, batch.messages, batch.ms, "
                "enrich.threads, shutdown.timeout.ms, max.document.bytes, processing.guarantee)",
                e->file, e->line, k);
        if (bad)
            return nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: bad value '%s' for %s", e->file,
                                e->line, e->value, k);
    }
    return NW_OK;
}

nw_err nw_daemon_check_config(const nw_kvconf *conf, char *errbuf, size_t errlen)
{
    settings s;
    return read_settings(conf, &s, errbuf, errlen);
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

typedef struct stage {
    const char *name;
    int kind;
    daemon *d;
    rd_kafka_t *consumer, *producer, *restorer;
    const char *in_topic;
    rd_kafka_message_t **batch;
    size_t n, cap;
    rd_kafka_topic_partition_list_t *revoked; /* during the batch being collected */
    unsigned long delivery_errors;
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
    nw_enricher **enrichers; /* s.enrich_threads of them, one per thread of a batch */
    nw_sinks *sinks;
    stage enrich, alert;
    char brokers[512];
};

static stage *all_stages[2];

static void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void log_msg(const char *fmt, ...)
{
    char when[32];
    nw_time_now_rfc3339(when);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s " NW_CONSUMER ": ", when);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
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

/* Reads partition p of the state changelog to its end and restores every event in it. */
static int restore_partition(stage *st, int32_t p)
{
    const char *topic = st->d->topics.name[NW_TOPIC_ALERT_STATE];
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(st->restorer, topic, p, &lo, &hi, 10000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_msg("alert: cannot read the watermarks of %s [%d]: %s", topic, (int)p,
                rd_kafka_err2str(err));
        return -1;
    }
    if (hi <= lo)
        return 0;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(st->restorer, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    unsigned long restored = 0;
    int rc = 0;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(st->restorer, 200);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (m == NULL) {
            if (now.tv_sec - t0.tv_sec > 60) {
                log_msg("alert: restoring %s [%d] takes over 60 s; giving up", topic, (int)p);
                rc = -1;
                break;
            }
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            break;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->payload != NULL) {
            char why[512];
            if (nw_alerter_restore(st->alerter, m->payload, m->len, why, sizeof why) == NW_OK) {
                char event[256];
                snprintf(event, sizeof event, "%.*s", (int)m->key_len, (const char *)m->key);
                owners_set(st, event, p);
                restored++;
            } else {
                log_msg("alert: skipping a bad state record at %s [%d] offset %lld: %s", topic,
                        (int)p, (long long)m->offset, why);
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_assign(st->restorer, NULL);
    if (restored > 0)
        log_msg("alert: restored %lu state records from %s [%d]", restored, topic, (int)p);
    return rc;
}

static stage *stage_of(rd_kafka_t *rk)
{
    for (int i = 0; i < 2; i++)
        if (all_stages[i] != NULL && all_stages[i]->consumer == rk)
            return all_stages[i];
    return NULL;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    (void)opaque;
    stage *st = stage_of(rk);
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; st != NULL && st->kind == STAGE_ALERT && i < parts->cnt; i++)
            restore_partition(st, parts->elems[i].partition);
        if (st != NULL)
            log_msg("%s: assigned %d partition(s) of %s", st->name, parts->cnt, st->in_topic);
        rd_kafka_error_t *e = NULL;
        if (cooperative)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        if (e != NULL) {
            log_msg("assign failed: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
        return;
    }
    /* Revoked (or lost): messages of these partitions collected but not yet
     * processed are dropped from the batch; the next owner reads them from the
     * committed offsets. */
    if (st != NULL) {
        for (int i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_list_add(st->revoked, parts->elems[i].topic,
                                              parts->elems[i].partition);
            if (st->kind == STAGE_ALERT)
                forget_partition(st, parts->elems[i].partition);
        }
        log_msg("%s: %s %d partition(s) of %s", st->name,
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

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)opaque;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    for (int i = 0; i < 2; i++) {
        if (all_stages[i] != NULL && all_stages[i]->producer == rk) {
            all_stages[i]->delivery_errors++;
            log_msg("%s: a record to %s was not delivered: %s", all_stages[i]->name,
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
        nw_kafka_conf_apply(kc, d->conf, d->o->props, d->o->nprops, d->o->brokers, errbuf,
                            errlen) != NW_OK) {
        rd_kafka_conf_destroy(kc);
        return NULL;
    }
    nw_kafka_conf_set_logging(kc, NW_CONSUMER);
    return kc;
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
    if (type == RD_KAFKA_CONSUMER)
        rd_kafka_conf_set_rebalance_cb(kc, on_rebalance);
    else
        rd_kafka_conf_set_dr_msg_cb(kc, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(type, kc, errbuf, errlen);
    if (rk == NULL)
        rd_kafka_conf_destroy(kc);
    return rk;
}

/*
 * Asks for the metadata of the topics the stage writes, so that the first
 * batch's records do not wait for their partitions' leaders to be looked up
 * (about half a second for a stage's first transaction otherwise). A failure
 * only means the first batch pays that price.
 */
static void warm_producer(daemon *d, stage *st)
{
    static const nw_topic_role enrich_out[] = {NW_TOPIC_ENRICHED, NW_TOPIC_MATCHES, NW_TOPIC_DLQ};
    static const nw_topic_role alert_out[] = {NW_TOPIC_ALERTS, NW_TOPIC_ALERT_STATE, NW_TOPIC_DLQ};
    const nw_topic_role *roles = st->kind == STAGE_ENRICH ? enrich_out : alert_out;
    for (size_t i = 0; i < 3; i++) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(st->producer, d->topics.name[roles[i]], NULL);
        const rd_kafka_metadata_t *md = NULL;
        if (rkt != NULL &&
            rd_kafka_metadata(st->producer, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
            rd_kafka_metadata_destroy(md);
        if (rkt != NULL)
            rd_kafka_topic_destroy(rkt);
    }
}

static int open_stage(daemon *d, stage *st, int kind, char *errbuf, size_t errlen)
{
    memset(st, 0, sizeof *st);
    st->d = d;
    st->kind = kind;
    st->name = kind == STAGE_ENRICH ? "enrich" : "alert";
    st->in_topic = d->topics.name[kind == STAGE_ENRICH ? NW_TOPIC_RAW : NW_TOPIC_MATCHES];
    st->revoked = rd_kafka_topic_partition_list_new(8);
    const char *group = kind == STAGE_ENRICH ? d->s.group_enrich : d->s.group_alert;
    char client[300], txn[512], host[128] = "host";
    snprintf(client, sizeof client, NW_CONSUMER "-%s", st->name);
    gethostname(host, sizeof host - 1);
    snprintf(txn, sizeof txn, "%s-%s-%s-%ld", d->s.txn_prefix, st->name, host, (long)getpid());
    const char *const cprops[][2] = {
        {"group.id", group},
        {"client.id", client},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"isolation.level", "read_committed"},
        {"partition.assignment.strategy", "cooperative-sticky"},
        {"enable.partition.eof", "false"},
    };
    st->consumer =
        new_client(d, RD_KAFKA_CONSUMER, cprops, sizeof cprops / sizeof cprops[0], errbuf, errlen);
    if (st->consumer == NULL)
        return -1;
    rd_kafka_poll_set_consumer(st->consumer);
    const char *const pprops_eos[][2] = {
        {"client.id", client},
        {"transactional.id", txn},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"message.max.bytes", "10485760"},
        {"linger.ms", "5"},
        {"transaction.timeout.ms", "60000"},
    };
    const char *const pprops_alo[][2] = {
        {"client.id", client}, {"enable.idempotence", "true"},
        {"acks", "all"},       {"message.max.bytes", "10485760"},
        {"linger.ms", "5"},
    };
    st->producer = d->s.eos ? new_client(d, RD_KAFKA_PRODUCER, pprops_eos,
                                         sizeof pprops_eos / sizeof pprops_eos[0], errbuf, errlen)
                            : new_client(d, RD_KAFKA_PRODUCER, pprops_alo,
                                         sizeof pprops_alo / sizeof pprops_alo[0], errbuf, errlen);
    if (st->producer == NULL)
        return -1;
    if (kind == STAGE_ALERT) {
        char rgroup[300];
        snprintf(rgroup, sizeof rgroup, "%s-restore", group);
        const char *const rprops[][2] = {
            {"group.id", rgroup},
            {"client.id", client},
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
    if (d->s.eos) {
        rd_kafka_error_t *e = rd_kafka_init_transactions(st->producer, TXN_TIMEOUT_MS);
        if (e != NULL) {
            nw_set_error(errbuf, errlen, NW_EIO,
                         "%s: cannot start transactions (is the broker reachable, and does it "
                         "support them? processing.guarantee = at_least_once turns them off): %s",
                         st->name, rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            return -1;
        }
    }
    warm_producer(d, st);
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

static void free_pending(stage *st)
{
    for (size_t i = 0; i < st->npending; i++)
        nw_alert_free(st->pending[i].alert);
    st->npending = 0;
}

static void close_stage(stage *st)
{
    if (st->consumer != NULL) {
        rd_kafka_consumer_close(st->consumer); /* leaves the group */
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
    if (st->revoked != NULL)
        rd_kafka_topic_partition_list_destroy(st->revoked);
    for (size_t i = 0; i < st->n; i++)
        rd_kafka_message_destroy(st->batch[i]);
    free(st->batch);
    free(st->results); /* their contents are freed as each batch is produced */
    forget_partition(st, -1);
    free(st->owners);
    free_pending(st);
    free(st->pending);
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
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(st->producer, 50);
            continue;
        }
        if (headers != NULL)
            rd_kafka_headers_destroy(headers);
        log_msg("%s: cannot produce to %s: %s", st->name, topic, rd_kafka_err2str(err));
        return -1;
    }
}

static rd_kafka_headers_t *json_headers(const char *schema)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(2);
    rd_kafka_header_add(h, "content-type", -1, "application/json", -1);
    rd_kafka_header_add(h, "schema", -1, schema, -1);
    return h;
}

/* The dead-letter record: the original key and value, headers saying why. */
static int dead_letter(stage *st, const rd_kafka_message_t *m, const char *why)
{
    char part[16], off[32];
    snprintf(part, sizeof part, "%d", (int)m->partition);
    snprintf(off, sizeof off, "%lld", (long long)m->offset);
    rd_kafka_headers_t *h = rd_kafka_headers_new(6);
    rd_kafka_header_add(h, "error", -1, why, -1);
    rd_kafka_header_add(h, "stage", -1, st->name, -1);
    rd_kafka_header_add(h, "source.topic", -1, rd_kafka_topic_name(m->rkt), -1);
    rd_kafka_header_add(h, "source.partition", -1, part, -1);
    rd_kafka_header_add(h, "source.offset", -1, off, -1);
    st->dead_letters++;
    log_msg("%s: %s [%d] offset %lld to %s: %s", st->name, rd_kafka_topic_name(m->rkt),
            (int)m->partition, (long long)m->offset, st->d->topics.name[NW_TOPIC_DLQ], why);
    return produce(st, st->d->topics.name[NW_TOPIC_DLQ], RD_KAFKA_PARTITION_UA, m->key, m->key_len,
                   m->payload, m->len, h);
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

/* Produces what compute_enrich made of m (in the stage's open transaction). */
static int emit_enrich(stage *st, const rd_kafka_message_t *m, const enrich_result *r)
{
    daemon *d = st->d;
    if (r->why != NULL || r->enriched == NULL)
        return dead_letter(st, m, r->why != NULL ? r->why : "processing error: out of memory");
    int rc =
        produce(st, d->topics.name[NW_TOPIC_ENRICHED], RD_KAFKA_PARTITION_UA, r->key, r->key_len,
                r->enriched, r->enriched_len, json_headers("newswatch.enriched/1"));
    for (size_t i = 0; rc == 0 && i < r->nmatches; i++)
        rc = produce(st, d->topics.name[NW_TOPIC_MATCHES], RD_KAFKA_PARTITION_UA, r->event_ids[i],
                     strlen(r->event_ids[i]), r->matches[i], r->match_lens[i],
                     json_headers(NW_MATCH_SCHEMA));
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
    /* The state goes to the same partition of the changelog as the match came from. */
    int rc =
        produce(st, d->topics.name[NW_TOPIC_ALERT_STATE], m->partition, a->event_id,
                strlen(a->event_id), a->state, a->state_len, json_headers(NW_ALERT_STATE_SCHEMA));
    if (rc == 0 && a->json != NULL) {
        rc = produce(st, d->topics.name[NW_TOPIC_ALERTS], RD_KAFKA_PARTITION_UA, a->event_id,
                     strlen(a->event_id), a->json, a->json_len, json_headers(NW_ALERT_SCHEMA));
        st->alerts++;
        if (rc == 0 && d->sinks != NULL)
            return keep_pending(st, a);
    }
    nw_alert_free(a);
    return rc;
}

/* ---- the batch loop ------------------------------------------------------ */

static bool revoked(const stage *st, const rd_kafka_message_t *m)
{
    for (int i = 0; i < st->revoked->cnt; i++)
        if (st->revoked->elems[i].partition == m->partition &&
            strcmp(st->revoked->elems[i].topic, rd_kafka_topic_name(m->rkt)) == 0)
            return true;
    return false;
}

/*
 * Polls up to batch.messages messages or batch.ms. The batch closes early
 * when the messages already fetched run out (low latency under a light
 * load, full batches under a backlog). idle_ms bounds the wait for a first
 * message: short when the other stage of this thread has work.
 */
static void collect(stage *st, long idle_ms)
{
    const settings *s = &st->d->s;
    if (st->cap < (size_t)s->batch_messages) {
        rd_kafka_message_t **nb = realloc(st->batch, (size_t)s->batch_messages * sizeof(*nb));
        if (nb == NULL)
            return;
        st->batch = nb;
        st->cap = (size_t)s->batch_messages;
    }
    rd_kafka_topic_partition_list_destroy(st->revoked);
    st->revoked = rd_kafka_topic_partition_list_new(8);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long left = s->batch_ms;
    while (st->n < (size_t)s->batch_messages && left > 0 && stop_signals == 0) {
        long wait = st->n > 0 ? 5 : (idle_ms < left ? idle_ms : left);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(st->consumer, (int)(wait < 50 ? wait : 50));
        if (m == NULL && (st->n > 0 || idle_ms < s->batch_ms))
            break; /* nothing more fetched yet: close the batch */
        if (m != NULL) {
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                st->batch[st->n++] = m;
            } else {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                    log_msg("%s: consumer: %s", st->name, rd_kafka_message_errstr(m));
                rd_kafka_message_destroy(m);
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        left =
            s->batch_ms - ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
    }
    /* Drop what belongs to partitions revoked meanwhile. */
    size_t k = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (revoked(st, st->batch[i]))
            rd_kafka_message_destroy(st->batch[i]);
        else
            st->batch[k++] = st->batch[i];
    }
    st->n = k;
}

/* The offsets to commit: one past the last message of each partition in the batch. */
static rd_kafka_topic_partition_list_t *batch_offsets(const stage *st)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < st->n; i++) {
        const rd_kafka_message_t *m = st->batch[i];
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(l, rd_kafka_topic_name(m->rkt), m->partition);
        if (tp == NULL)
            tp = rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition);
        if (m->offset + 1 > tp->offset)
            tp->offset = m->offset + 1;
    }
    return l;
}

/* After a failed batch: back to the committed offsets, and (alert stage) to the committed state. */
static void rewind_batch(stage *st)
{
    rd_kafka_topic_partition_list_t *l = batch_offsets(st);
    rd_kafka_resp_err_t err = rd_kafka_committed(st->consumer, l, 10000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_msg("%s: cannot read the committed offsets: %s", st->name, rd_kafka_err2str(err));
    for (int i = 0; i < l->cnt; i++)
        if (l->elems[i].offset < 0)
            l->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_error_t *e = rd_kafka_seek_partitions(st->consumer, l, 10000);
    if (e != NULL) {
        log_msg("%s: cannot rewind: %s", st->name, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    if (st->kind == STAGE_ALERT) {
        for (int i = 0; i < l->cnt; i++) {
            forget_partition(st, l->elems[i].partition);
            restore_partition(st, l->elems[i].partition);
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    free_pending(st);
}

/* Commits the transaction, retrying what can be retried. 0, or -1 aborted, or -2 fatal. */
static int commit_txn(stage *st)
{
    rd_kafka_topic_partition_list_t *offsets = batch_offsets(st);
    rd_kafka_consumer_group_metadata_t *cgmd = rd_kafka_consumer_group_metadata(st->consumer);
    int rc = 0;
    for (int attempt = 0;; attempt++) {
        rd_kafka_error_t *e =
            rd_kafka_send_offsets_to_transaction(st->producer, offsets, cgmd, TXN_TIMEOUT_MS);
        if (e == NULL)
            e = rd_kafka_commit_transaction(st->producer, TXN_TIMEOUT_MS);
        if (e == NULL)
            break;
        if (rd_kafka_error_is_fatal(e)) {
            log_msg("%s: fatal transaction error: %s", st->name, rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            rc = -2;
            break;
        }
        if (rd_kafka_error_txn_requires_abort(e) || attempt >= 20 || stop_signals > 1) {
            log_msg("%s: aborting the transaction: %s", st->name, rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            rd_kafka_error_t *ae = rd_kafka_abort_transaction(st->producer, TXN_TIMEOUT_MS);
            if (ae != NULL) {
                log_msg("%s: abort failed: %s", st->name, rd_kafka_error_string(ae));
                rc = rd_kafka_error_is_fatal(ae) ? -2 : -1;
                rd_kafka_error_destroy(ae);
            } else {
                rc = -1;
            }
            break;
        }
        log_msg("%s: committing the transaction failed, retrying: %s", st->name,
                rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_consumer_group_metadata_destroy(cgmd);
    rd_kafka_topic_partition_list_destroy(offsets);
    return rc;
}

/* at_least_once: wait for every output's delivery report, then commit the offsets. */
static int commit_alo(stage *st)
{
    unsigned long before = st->delivery_errors;
    rd_kafka_flush(st->producer, TXN_TIMEOUT_MS);
    if (rd_kafka_outq_len(st->producer) > 0 || st->delivery_errors != before)
        return -1;
    rd_kafka_topic_partition_list_t *offsets = batch_offsets(st);
    rd_kafka_resp_err_t err = rd_kafka_commit(st->consumer, offsets, 0);
    rd_kafka_topic_partition_list_destroy(offsets);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_msg("%s: cannot commit offsets: %s", st->name, rd_kafka_err2str(err));
        return -1;
    }
    return 0;
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

/* One batch: collect, process in a transaction, commit. 0, or -2 on a fatal error. */
static int run_batch(stage *st, long idle_ms)
{
    collect(st, idle_ms);
    st->last_batch = st->n;
    if (st->n == 0)
        return 0;
    bool eos = st->d->s.eos;
    if (eos) {
        rd_kafka_error_t *e = rd_kafka_begin_transaction(st->producer);
        if (e != NULL) {
            log_msg("%s: cannot begin a transaction: %s", st->name, rd_kafka_error_string(e));
            int fatal = rd_kafka_error_is_fatal(e);
            rd_kafka_error_destroy(e);
            if (fatal)
                return -2;
            rewind_batch(st);
            goto done;
        }
    }
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
    if (rc != 0) {
        if (eos) {
            rd_kafka_error_t *e = rd_kafka_abort_transaction(st->producer, TXN_TIMEOUT_MS);
            if (e != NULL) {
                int fatal = rd_kafka_error_is_fatal(e);
                rd_kafka_error_destroy(e);
                if (fatal)
                    return -2;
            }
        }
        rewind_batch(st);
        goto done;
    }
    rc = eos ? commit_txn(st) : commit_alo(st);
    if (rc == -2)
        return -2;
    if (rc == -1)
        rewind_batch(st);
    else
        deliver_pending(st); /* only committed alerts reach the sinks */
done:
    for (size_t i = 0; i < st->n; i++)
        rd_kafka_message_destroy(st->batch[i]);
    st->n = 0;
    return 0;
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

/* SIGHUP: loads everything anew; a file with a mistake keeps the old configuration. */
static void reload(daemon *d)
{
    char err[1024];
    nw_pipeline next;
    nw_pipeline_paths paths = {d->o->gazetteer, d->o->furniture, d->o->events};
    if (nw_pipeline_load(&next, &paths, d->conf, err, sizeof err) != NW_OK) {
        log_msg("reload failed, keeping the old configuration: %s", err);
        return;
    }
    nw_pipeline old = d->pipeline;
    d->pipeline = next;
    nw_enricher **en = NULL;
    if (d->enrichers != NULL && (en = new_enrichers(d, err, sizeof err)) == NULL) {
        d->pipeline = old;
        nw_pipeline_unload(&next);
        log_msg("reload failed, keeping the old configuration: %s", err);
        return;
    }
    if (d->enrichers != NULL) {
        free_enrichers(d, d->enrichers);
        d->enrichers = en;
    }
    if (d->alert.alerter != NULL)
        nw_alerter_set_rules(d->alert.alerter, d->pipeline.rules);
    nw_pipeline_unload(&old);
    log_msg("reloaded: %zu entities, %zu furniture rules, %zu tracked events",
            nw_gazetteer_count(d->pipeline.gazetteer), nw_furniture_count(d->pipeline.furniture),
            nw_rules_event_count(d->pipeline.rules));
}

typedef struct watchdog {
    int shutdown_ms;
} watchdog;

/* A second signal exits at once; a shutdown that overruns its bound exits too. */
static void *watch(void *arg)
{
    const watchdog *w = arg;
    struct timespec first = {0, 0}, now;
    for (;;) {
        struct timespec tick = {0, 100 * 1000000L};
        nanosleep(&tick, NULL);
        if (stop_signals == 0)
            continue;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (first.tv_sec == 0)
            first = now;
        if (stop_signals > 1) {
            static const char msg[] = NW_CONSUMER ": second signal: exiting now\n";
            if (write(2, msg, sizeof msg - 1) < 0) {
            }
            _exit(130);
        }
        if ((now.tv_sec - first.tv_sec) * 1000 > w->shutdown_ms) {
            static const char msg[] = NW_CONSUMER ": shutdown took too long: exiting\n";
            if (write(2, msg, sizeof msg - 1) < 0) {
            }
            _exit(1);
        }
    }
    return NULL;
}

int nw_cmd_daemon(const nw_consumer_opts *o, const nw_kvconf *conf)
{
    static daemon d; /* large, and its address is shared with callbacks */
    memset(&d, 0, sizeof d);
    d.o = o;
    d.conf = conf;
    char err[1024];
    nw_topics_init(&d.topics);
    if (read_settings(conf, &d.s, err, sizeof err) != NW_OK ||
        nw_topics_configure(&d.topics, conf, err, sizeof err) != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        return NW_EXIT_USAGE;
    }
    nw_pipeline_paths paths = {o->gazetteer, o->furniture, o->events};
    if (nw_pipeline_load(&d.pipeline, &paths, conf, err, sizeof err) != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        return NW_EXIT_USAGE;
    }
    nw_sinks_config sc;
    nw_sinks_config_init(&sc);
    snprintf(sc.program, sizeof sc.program, "%s", NW_CONSUMER);
    if (nw_sinks_config_apply(&sc, conf, err, sizeof err) != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        nw_pipeline_unload(&d.pipeline);
        return NW_EXIT_USAGE;
    }
    /* The daemon's stdout is for alerts only when asked: logs go to stderr. */
    int stages = o->stages != 0 ? o->stages : STAGE_ENRICH | STAGE_ALERT;
    if ((stages & STAGE_ALERT) &&
        (sc.stdout_enabled || sc.alertmanager_url[0] != '\0' || sc.webhook_url[0] != '\0') &&
        nw_sinks_new(&sc, NULL, &d.sinks, err, sizeof err) != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        nw_pipeline_unload(&d.pipeline);
        return NW_EXIT_USAGE;
    }
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
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        status = NW_EXIT_FAILED;
        goto done;
    }
    if ((stages & STAGE_ENRICH) && open_stage(&d, &d.enrich, STAGE_ENRICH, err, sizeof err) != 0) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        status = NW_EXIT_KAFKA;
        goto done;
    }
    all_stages[0] = (stages & STAGE_ENRICH) ? &d.enrich : NULL;
    if ((stages & STAGE_ALERT) && open_stage(&d, &d.alert, STAGE_ALERT, err, sizeof err) != 0) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        status = NW_EXIT_KAFKA;
        goto done;
    }
    all_stages[1] = (stages & STAGE_ALERT) ? &d.alert : NULL;
    log_msg("running %s%s%s (%s) on %s", (stages & STAGE_ENRICH) ? "enrich" : "",
            stages == (STAGE_ENRICH | STAGE_ALERT) ? " and " : "",
            (stages & STAGE_ALERT) ? "alert" : "", d.s.eos ? "exactly-once" : "at-least-once",
            o->brokers != NULL ? o->brokers : "the configured brokers");
    while (stop_signals == 0) {
        if (reload_requested) {
            reload_requested = 0;
            reload(&d);
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
        long alert_wait = both && d.enrich.last_batch > 0 ? 0 : idle;
        if ((stages & STAGE_ALERT) && run_batch(&d.alert, alert_wait) == -2) {
            status = NW_EXIT_FAILED;
            break;
        }
    }
    log_msg("stopping: enrich %lu messages (%lu to the dead-letter topic), alert %lu messages "
            "(%lu alerts, %lu to the dead-letter topic)",
            d.enrich.processed, d.enrich.dead_letters, d.alert.processed, d.alert.alerts,
            d.alert.dead_letters);
done:
    close_stage(&d.enrich);
    close_stage(&d.alert);
    all_stages[0] = all_stages[1] = NULL;
    nw_sinks_free(d.sinks);
    free_enrichers(&d, d.enrichers);
    nw_pipeline_unload(&d.pipeline);
    return status;
}
