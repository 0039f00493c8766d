/*
 * The daemon's stages (docs/daemon.md): their Kafka clients, the topics'
 * limits, producing with CloudEvents headers and dead letters, collecting a
 * batch, the transactional calls (one at a time, retried while retriable),
 * and the batch loop: collect, process, commit, or abort and rewind.
 */

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
#include "newswatch/pipeline.h"
#include "newswatch/stages.h"
#include "newswatch/topics.h"
#include "../kafka/nw_kafka.h"
#include "../sinks/nw_sinks.h"
#include "http.h"
#include "metrics.h"
#include "notify.h"
#include "stage.h"

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
static int new_consumer(stage *st, char *errbuf, size_t errlen);
static int reset_producer(stage *st);

/* The stage's label in the metrics. */
static nw_metrics_stage mstage(const stage *st)
{
    return st->kind == STAGE_ENRICH ? NW_METRICS_ENRICH : NW_METRICS_ALERT;
}

void daemon_log(nw_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nw_logv(level, NULL, fmt, ap);
    va_end(ap);
}

double daemon_now_ms(void)
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
    st->outage_since_ms = daemon_now_ms();
    nw_metrics_set_broker(st->d->metrics, false);
    daemon_log(NW_LOG_WARN, "%s: waiting for the broker (%s); the stage resumes when it answers",
               st->name, what);
    nw_notify_status(NULL, 0, "%s: waiting for the broker", st->name);
}

static void note_resumed(stage *st)
{
    if (st->outage_since_ms <= 0)
        return;
    daemon_log(NW_LOG_INFO, "%s: the broker answers again after %.0f s; resumed", st->name,
               (daemon_now_ms() - st->outage_since_ms) / 1000.0);
    st->outage_since_ms = 0;
    nw_metrics_set_broker(st->d->metrics,
                          st->d->enrich.outage_since_ms <= 0 && st->d->alert.outage_since_ms <= 0);
    nw_notify_status(NULL, 0, "running");
}

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
    rd_kafka_conf_t *kc = daemon_base_conf(st->d, true, err, sizeof err);
    if (kc == NULL || nw_kafka_conf_set(kc, "transactional.id", txn, err, sizeof err) != NW_OK) {
        if (kc != NULL)
            rd_kafka_conf_destroy(kc);
        daemon_log(NW_LOG_WARN, "%s: cannot fence %s: %s", st->name, txn, err);
        return;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof err);
    if (rk == NULL) {
        rd_kafka_conf_destroy(kc);
        daemon_log(NW_LOG_WARN, "%s: cannot fence %s: %s", st->name, txn, err);
        return;
    }
    rd_kafka_error_t *e = rd_kafka_init_transactions(rk, TXN_CALL_MS);
    if (e == NULL) {
        daemon_log(
            NW_LOG_INFO,
            "%s: instance %s left the group: fenced transactional.id %s (its open transaction "
            "is aborted)",
            st->name, instance, txn);
    } else {
        daemon_log(NW_LOG_WARN, "%s: cannot fence %s: %s", st->name, txn, rd_kafka_error_string(e));
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
        daemon_log(NW_LOG_WARN,
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

/* The stage of a consumer's callback: librdkafka's opaque (new_client); NULL for the restorer. */
static stage *stage_of(rd_kafka_t *rk)
{
    return rd_kafka_opaque(rk);
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
            daemon_log(NW_LOG_INFO, "%s: assigned %d partition(s) of %s", st->name, parts->cnt,
                       st->in_topic);
        rd_kafka_error_t *e = NULL;
        if (cooperative)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        if (e != NULL) {
            daemon_log(NW_LOG_ERROR, "assign failed: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
        if (st != NULL)
            fence_departed(st);
        /* All or nothing: a partition whose state cannot be restored is held. */
        for (int i = 0; st != NULL && st->kind == STAGE_ALERT && i < parts->cnt; i++)
            if (restore_partition(st, parts->elems[i].partition) != 0)
                restore_hold(st, parts->elems[i].partition);
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
                restore_forget_partition(st, parts->elems[i].partition);
            for (size_t k = 0; k < st->nunrestored; k++)
                if (st->unrestored[k].partition == parts->elems[i].partition) {
                    restore_pause_or_resume(st, parts->elems[i].partition, false);
                    restore_unhold(st, k);
                    break;
                }
        }
        daemon_log(NW_LOG_INFO, "%s: %s %d partition(s) of %s", st->name,
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

/* A delivery report of the stage's producer (opaque: the stage); a retired producer's are not. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    stage *st = opaque;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR || st == NULL || st->producer != rk)
        return;
    st->delivery_errors++;
    if (refused_record(m->err)) {
        st->refused = m->err;
        snprintf(st->refused_why, sizeof st->refused_why,
                 "Kafka refused an output record to %s (%zu bytes): %s",
                 rd_kafka_topic_name(m->rkt), m->len, rd_kafka_err2str(m->err));
    }
    daemon_log(NW_LOG_WARN, "%s: a record to %s was not delivered: %s", st->name,
               rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
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
rd_kafka_conf_t *daemon_base_conf(daemon *d, bool producer, char *errbuf, size_t errlen)
{
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    if (nw_kafka_conf_set(kc, "bootstrap.servers", DEFAULT_BROKERS, errbuf, errlen) != NW_OK ||
        (producer && nw_kafka_conf_set(kc, "retry.backoff.ms", "20", errbuf, errlen) != NW_OK) ||
        (!producer && nw_kafka_conf_set(kc, "session.timeout.ms", DEFAULT_SESSION_TIMEOUT_MS,
                                        errbuf, errlen) != NW_OK) ||
        /* the consumers' statistics give /metrics their lag (on_stats); [kafka] or -X may
         * change the interval (0 turns the lag off) */
        (!producer &&
         nw_kafka_conf_set(kc, "statistics.interval.ms", "5000", errbuf, errlen) != NW_OK) ||
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
void daemon_effective_brokers(daemon *d)
{
    char err[256];
    size_t n = sizeof d->brokers;
    rd_kafka_conf_t *kc = daemon_base_conf(d, false, err, sizeof err);
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
        daemon_log(NW_LOG_DEBUG, "%s: %s", st->name, err);
    return 0; /* librdkafka frees json */
}

/*
 * librdkafka's errors: logged, and "all brokers are down" is an outage. An
 * idle stage learns of one only here: nothing it sends fails, and with an
 * error callback set the errors do not reach the consumer's poll. It is
 * called on the thread that polls the client, the stage's.
 */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    nw_kafka_log_error(err, reason);
    stage *st = opaque;
    if (st != NULL && err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        note_outage(st, reason);
}

/* A client of the stage, which its callbacks get as librdkafka's opaque. */
static rd_kafka_t *new_client(stage *st, rd_kafka_type_t type, const char *const (*props)[2],
                              size_t nprops, char *errbuf, size_t errlen)
{
    rd_kafka_conf_t *kc = daemon_base_conf(st->d, type == RD_KAFKA_PRODUCER, errbuf, errlen);
    if (kc == NULL)
        return NULL;
    for (size_t i = 0; i < nprops; i++) {
        if (nw_kafka_conf_set(kc, props[i][0], props[i][1], errbuf, errlen) != NW_OK) {
            rd_kafka_conf_destroy(kc);
            return NULL;
        }
    }
    rd_kafka_conf_set_opaque(kc, st);
    rd_kafka_conf_set_error_cb(kc, on_error);
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

/* The topics a stage writes, the dead-letter topic last. */
static const nw_topic_role enrich_out[] = {NW_TOPIC_ENRICHED, NW_TOPIC_MATCHES, NW_TOPIC_DLQ};
static const nw_topic_role alert_out[] = {NW_TOPIC_ALERTS, NW_TOPIC_ALERT_STATE, NW_TOPIC_DLQ};
#define NOUT 3

static const nw_topic_role *out_roles(const stage *st)
{
    return st->kind == STAGE_ENRICH ? enrich_out : alert_out;
}

long stage_limit_of(const stage *st, nw_topic_role role)
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
void stage_ask_limits(stage *st)
{
    const char *names[NOUT];
    char err[512];
    topic_names(st, names);
    st->limits_asked = true;
    if (nw_kafka_topic_limits_send(st->consumer, names, NOUT, st->limits_q, LIMITS_TIMEOUT_MS, err,
                                   sizeof err) != NW_OK) {
        daemon_log(NW_LOG_WARN, "%s: %s", st->name, err);
        st->limits_asked = false;
        st->limits_retry_ms = daemon_now_ms() + LIMITS_RETRY_MS;
    }
}

/* Takes the answer to ask_limits() when it has come (waiting up to wait_ms); true when it had. */
static bool take_limits(stage *st, int wait_ms)
{
    if (!st->limits_asked) {
        if (st->limits_retry_ms > 0 && daemon_now_ms() >= st->limits_retry_ms) {
            st->limits_retry_ms = 0;
            stage_ask_limits(st);
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
        got[i] = stage_limit_of(st, out_roles(st)[i]);
    nw_err rc = nw_kafka_topic_limits_read(ev, names, NOUT, got, err, sizeof err);
    rd_kafka_event_destroy(ev);
    if (rc != NW_OK) {
        daemon_log(NW_LOG_WARN, "%s: %s; %s; asking again in %d s", st->name, err,
                   st->limits_known ? "records are checked against the limits known so far"
                                    : "until then only a record the broker refuses goes to the DLQ",
                   LIMITS_RETRY_MS / 1000);
        st->limits_retry_ms = daemon_now_ms() + LIMITS_RETRY_MS;
        return true;
    }
    for (size_t i = 0; i < NOUT; i++)
        st->limit[out_roles(st)[i]] = got[i];
    st->limits_known = true;
    daemon_log(NW_LOG_INFO,
               "%s: the topics take records of up to %ld (%s), %ld (%s) and %ld (%s) bytes",
               st->name, got[0], names[0], got[1], names[1], got[2], names[2]);
    return true;
}

/* The smallest limit of the stage's topics: the producer's batches must fit each. */
static long smallest_limit(const stage *st)
{
    long min = stage_limit_of(st, out_roles(st)[0]);

    for (size_t i = 1; i < NOUT; i++)
        if (stage_limit_of(st, out_roles(st)[i]) < min)
            min = stage_limit_of(st, out_roles(st)[i]);
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
    return st->d->s.eos ? new_client(st, RD_KAFKA_PRODUCER, pprops_eos,
                                     sizeof pprops_eos / sizeof pprops_eos[0], errbuf, errlen)
                        : new_client(st, RD_KAFKA_PRODUCER, pprops_alo,
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
    };
    st->consumer =
        new_client(st, RD_KAFKA_CONSUMER, cprops, sizeof cprops / sizeof cprops[0], errbuf, errlen);
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
    double start = daemon_now_ms(), said = 0;
    for (;;) {
        nw_notify_watchdog(NULL, 0);
        rd_kafka_error_t *e = rd_kafka_init_transactions(st->producer, START_TRY_MS);
        if (e == NULL) {
            if (said > 0)
                daemon_log(NW_LOG_INFO, "%s: the broker at %s answers; starting", st->name,
                           d->brokers);
            nw_metrics_set_broker(d->metrics, true);
            return 0;
        }
        double waited = daemon_now_ms() - start;
        bool retry = rd_kafka_error_is_retriable(e) && daemon_stop_signals == 0 &&
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
        if (said == 0 || daemon_now_ms() - said >= 60000) {
            daemon_log(NW_LOG_WARN, "%s: the broker at %s does not answer (%s); waiting for it%s",
                       st->name, d->brokers, rd_kafka_error_string(e),
                       d->s.startup_timeout_ms == 0 ? "" : " (startup.timeout.ms)");
            said = daemon_now_ms();
        }
        rd_kafka_error_destroy(e);
    }
}

int stage_open(daemon *d, stage *st, int kind, char *errbuf, size_t errlen)
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
    stage_ask_limits(st);
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
        rd_kafka_conf_t *kc = daemon_base_conf(d, false, errbuf, errlen);
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

void stage_close(stage *st)
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
    restore_forget_partition(st, -1);
    free(st->owners);
    work_free_pending(st);
    free(st->pending);
    free(st->unrestored);
    nw_kafka_strings_free(st->members, st->nmembers);
    nw_alerter_free(st->alerter);
}

/* ---- producing --------------------------------------------------------- */

/* Hands one record to the stage's producer (in its open transaction). */
int stage_produce(stage *st, const char *topic, int32_t partition, const void *key, size_t klen,
                  const void *value, size_t vlen, rd_kafka_headers_t *headers)
{
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            st->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE((void *)value, vlen),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            return 0;
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && daemon_stop_signals < 2) {
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
        daemon_log(NW_LOG_WARN, "%s: %s", st->name, st->last_error);
        return -1;
    }
}

/* Would a record of these sizes fit the limit of the topic of role? */
bool stage_fits(const stage *st, nw_topic_role role, size_t klen, size_t vlen, size_t hlen)
{
    /* Before the broker has said, only the producer's own limit (message.max.bytes) applies. */
    long limit = st->limits_known ? stage_limit_of(st, role) : PRODUCER_MAX_BYTES;
    return klen + vlen + hlen + RECORD_OVERHEAD <= (size_t)limit;
}

/* A record's ce_source (/newswatch/<stage>) and ce_time (now). */
static void origin(const stage *st, char source[64], char when[32])
{
    snprintf(source, 64, "/newswatch/%s", st->name);
    nw_time_now_rfc3339(when);
}

static rd_kafka_headers_t *event_headers(const stage *st, const char *type,
                                         const char *content_type, const char *subject,
                                         size_t subject_len, const char *id_fmt, ...)
{
    char id[1024], source[64], when[32];
    va_list ap;
    va_start(ap, id_fmt);
    vsnprintf(id, sizeof id, id_fmt, ap);
    va_end(ap);
    origin(st, source, when);
    return nw_kafka_event_headers(source, id, strlen(id), type, when, subject, subject_len,
                                  content_type);
}

rd_kafka_headers_t *stage_json_headers(const stage *st, const char *schema, const char *subject,
                                       size_t subject_len, const char *id_fmt, ...)
{
    char id[1024], source[64], when[32];
    va_list ap;
    va_start(ap, id_fmt);
    vsnprintf(id, sizeof id, id_fmt, ap);
    va_end(ap);
    origin(st, source, when);
    return nw_kafka_json_headers(source, id, strlen(id), schema, when, subject, subject_len);
}

/*
 * The dead-letter record: the original key and value, headers saying why. A
 * value over the dead-letter topic's own limit is left out (header
 * value.omitted says so), so that a dead letter is never refused itself.
 */
int stage_dead_letter(stage *st, const rd_kafka_message_t *m, const char *why)
{
    char part[16], off[32], omitted[128];
    snprintf(part, sizeof part, "%d", (int)m->partition);
    snprintf(off, sizeof off, "%lld", (long long)m->offset);
    bool whole = stage_fits(st, NW_TOPIC_DLQ, m->key_len, m->len, strlen(why) + 256);
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
    daemon_log(NW_LOG_WARN, "%s: %s [%d] offset %lld to %s: %s", st->name,
               rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset,
               st->d->topics.name[NW_TOPIC_DLQ], why);
    return stage_produce(st, st->d->topics.name[NW_TOPIC_DLQ], RD_KAFKA_PARTITION_UA, m->key,
                         m->key_len, whole ? m->payload : NULL, whole ? m->len : 0, h);
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
    while (st->n < most && left > 0 && daemon_stop_signals == 0) {
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
                    daemon_log(NW_LOG_WARN, "%s: the consumer was fenced (%s); making a new one",
                               st->name, why);
                    rd_kafka_message_destroy(m);
                    rc = 1;
                    break;
                }
                daemon_log(NW_LOG_ERROR, "%s: fatal consumer error: %s%s", st->name, why,
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
                    daemon_log(NW_LOG_WARN, "%s: consumer: %s", st->name,
                               rd_kafka_message_errstr(m));
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
        if (restore_held(st, st->batch[i]->partition))
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
        daemon_log(NW_LOG_WARN, "%s: cannot rewind: %s", st->name, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    for (int i = 0; seek && i < l->cnt; i++)
        if (l->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR)
            daemon_log(NW_LOG_WARN, "%s: cannot rewind %s [%d]: %s", st->name, l->elems[i].topic,
                       (int)l->elems[i].partition, rd_kafka_err2str(l->elems[i].err));
    if (st->kind == STAGE_ALERT) {
        for (int i = 0; i < l->cnt; i++)
            if (!restore_held(st, l->elems[i].partition) &&
                restore_partition(st, l->elems[i].partition) != 0)
                restore_hold(st, l->elems[i].partition);
    }
    rd_kafka_topic_partition_list_destroy(l);
    work_free_pending(st);
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
        if (e == NULL || !rd_kafka_error_is_retriable(e) || daemon_stop_signals > 1)
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
    double now = daemon_now_ms();
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
        daemon_log(NW_LOG_ERROR,
                   "%s: the producer had to be replaced %d times in %d s: another process may use "
                   "transactional.id %s (give each instance its own instance.id), or the cluster "
                   "keeps fencing it; stopping",
                   st->name, st->resets - 1, RESET_WINDOW_MS / 1000, st->txn_id);
        return -1;
    }
    daemon_log(NW_LOG_WARN, "%s: recreating the producer (transactional.id %s)", st->name,
               st->txn_id);
    retire_producer(st->producer);
    st->producer = NULL;
    while (daemon_stop_signals == 0) {
        nw_notify_watchdog(NULL, 0);
        char err[512];
        if ((st->producer = new_producer(st, err, sizeof err)) == NULL) {
            daemon_log(NW_LOG_ERROR, "%s: cannot create a producer: %s", st->name, err);
            return -1;
        }
        if (!st->d->s.eos)
            return 0;
        rd_kafka_error_t *e = txn(st, TXN_INIT, NULL, NULL);
        if (e == NULL)
            return 0;
        daemon_log(NW_LOG_WARN, "%s: %s failed: %s", st->name, txn_call_name[TXN_INIT],
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
    daemon_log(NW_LOG_WARN, "%s: %s failed: %s", st->name, txn_call_name[TXN_ABORT],
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
    daemon_log(NW_LOG_WARN, "%s: the transaction failed (%s): %s", st->name,
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
        daemon_log(NW_LOG_WARN, "%s: cannot commit offsets: %s", st->name, rd_kafka_err2str(err));
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
    daemon_log(NW_LOG_WARN, "%s: cannot begin a transaction: %s", st->name,
               rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return reset_producer(st) != 0 ? -1 : 1;
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
        daemon_log(NW_LOG_WARN,
                   "%s: a record was refused (%s); splitting the batch (%zu messages next)",
                   st->name, st->refused_why, st->batch_limit);
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
    if (stage_dead_letter(st, st->batch[0], why) != 0) {
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
    double now = daemon_now_ms();
    if (one_reset_too_many(st)) {
        daemon_log(NW_LOG_ERROR,
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
        restore_forget_partition(st, -1);
    st->nunrestored = 0;
    nw_kafka_strings_free(st->members, st->nmembers);
    st->members = NULL;
    st->nmembers = 0;
    char err[512] = "out of memory";
    if (new_consumer(st, err, sizeof err) != 0 ||
        (st->limits_q = rd_kafka_queue_new(st->consumer)) == NULL) {
        daemon_log(NW_LOG_ERROR, "%s: cannot make a new consumer: %s", st->name, err);
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
int stage_run_batch(stage *st, long idle_ms)
{
    double t0 = daemon_now_ms();
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
    if (work_process_batch(st) != 0) {
        rc = st->d->s.eos && abort_txn(st) != 0 ? -1 : 1;
        if (st->d->s.eos && rc > 0 && st->refused == RD_KAFKA_RESP_ERR_NO_ERROR)
            daemon_log(NW_LOG_WARN, "%s: the batch could not be produced; doing it again",
                       st->name);
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
    nw_metrics_batch_seconds(st->d->metrics, mstage(st), (daemon_now_ms() - t0) / 1000.0);
    if (rc == 0) {
        note_resumed(st);
        work_deliver_pending(st); /* only committed alerts reach the sinks */
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
            daemon_log(NW_LOG_WARN,
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
void stage_probe_broker(stage *st)
{
    double now = daemon_now_ms();
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
 * Between batches: takes the topics' limits when they come; a producer whose
 * batches no longer fit is replaced.
 */
void stage_refresh_limits(stage *st)
{
    if (!take_limits(st, 0) || smallest_limit(st) >= st->producer_limit)
        return;
    daemon_log(NW_LOG_INFO, "%s: a topic's max.message.bytes is now %ld bytes", st->name,
               smallest_limit(st));
    if (reset_producer(st) != 0)
        st->d->failed = true;
}
