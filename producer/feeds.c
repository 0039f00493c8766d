#include "feeds.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "newswatch/doc.h"
#include "newswatch/feed.h"
#include "newswatch/feedstate.h"
#include "newswatch/hash.h"
#include "newswatch/log.h"
#include "newswatch/when.h"
#include "../consumer/http.h"
#include "../consumer/metrics.h"
#include "../kafka/nw_kafka.h"
#include "poll.h"

#define PROGRAM         "newswatch-producer"
#define DEFAULT_BROKERS "127.0.0.1:9092"
/* The transaction's time limit, and the time given to each transactional call. */
#define TXN_TIMEOUT_MS "60000"
#define TXN_CALL_MS    30000
/* How long one wait of init_transactions lasts before it is logged and tried again. */
#define INIT_WAIT_MS 10000
/* Commits tried when the broker says the error is retriable. */
#define COMMIT_TRIES 3
/* The main loop's longest sleep: how soon a signal or another host's state is seen. */
#define LOOP_WAIT_MS        200
#define METADATA_TIMEOUT_MS 10000

typedef struct feeds {
    const nw_feeds_args *a;
    nw_feedstate *state;
    nw_poll *poll;
    nw_metrics *metrics;
    nw_http *http;
    rd_kafka_t *rk;       /* transactional producer; NULL with --dry-run */
    rd_kafka_t *follower; /* consumer of the feed-state topic; NULL with --dry-run */
    char brokers[512];
    char txn_id[256];
    bool kafka_fatal; /* a fatal error that recreating the producer did not cure */
    unsigned long polls, not_modified, failed_polls, published, duplicates, skipped;
    unsigned long failed_feeds_once; /* --once: fetches that failed */
} feeds;

/*
 * The documents' source: the feed's own source, else --source, else (for
 * --feed) the feed's title, else its name.
 */
static const char *source_of(const feeds *f, const nw_feed_source *src, const nw_feed *feed)
{
    if (src->source != NULL)
        return src->source;
    if (f->a->opts->source != NULL)
        return f->a->opts->source;
    if (src->line == 0 && nw_feed_title(feed) != NULL && nw_feed_title(feed)[0] != '\0')
        return nw_feed_title(feed);
    return src->name;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR)
        nw_log(NW_LOG_WARN, NULL, "%.*s: not delivered to %s: %s (the transaction fails)",
               (int)m->key_len, (const char *)m->key, rd_kafka_topic_name(m->rkt),
               rd_kafka_err2str(m->err));
}

/* The [kafka] entries, -X and -b over the given defaults; NULL with the problem in errbuf. */
static rd_kafka_conf_t *kafka_conf(const feeds *f, const char *const defaults[][2], size_t n,
                                   char *errbuf, size_t errlen)
{
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    for (size_t i = 0; i < n; i++)
        if (nw_kafka_conf_set(kc, defaults[i][0], defaults[i][1], errbuf, errlen) != NW_OK)
            goto fail;
    const nw_producer_opts *o = f->a->opts;
    if (nw_kafka_conf_apply(kc, f->a->conf, o->props, o->nprops, o->brokers, errbuf, errlen) !=
        NW_OK)
        goto fail;
    nw_kafka_conf_set_logging(kc);
    return kc;
fail:
    rd_kafka_conf_destroy(kc);
    return NULL;
}

static rd_kafka_t *new_producer(feeds *f, char *errbuf, size_t errlen)
{
    const char *defaults[][2] = {
        {"client.id", PROGRAM "-feeds"},
        {"bootstrap.servers", DEFAULT_BROKERS},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "5"},
        {"transaction.timeout.ms", TXN_TIMEOUT_MS},
        {"message.timeout.ms", TXN_TIMEOUT_MS},
        {"transactional.id", f->txn_id},
    };
    rd_kafka_conf_t *kc =
        kafka_conf(f, defaults, sizeof defaults / sizeof defaults[0], errbuf, errlen);
    if (kc == NULL)
        return NULL;
    nw_kafka_conf_get(kc, "bootstrap.servers", f->brokers, sizeof f->brokers);
    rd_kafka_conf_set_dr_msg_cb(kc, on_delivery);
    char why[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, why, sizeof why);
    if (rk == NULL) {
        rd_kafka_conf_destroy(kc);
        nw_set_error(errbuf, errlen, NW_ECONFIG, "%s", why);
    }
    return rk;
}

/* init_transactions, waiting as long as the broker is away (and no signal comes). */
static nw_err init_transactions(feeds *f, char *errbuf, size_t errlen)
{
    for (int waits = 0;; waits++) {
        rd_kafka_error_t *e = rd_kafka_init_transactions(f->rk, INIT_WAIT_MS);
        if (e == NULL) {
            nw_metrics_set_broker(f->metrics, true);
            return NW_OK;
        }
        bool retry = rd_kafka_error_is_retriable(e) ||
                     rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__TIMED_OUT;
        nw_set_error(errbuf, errlen, NW_EIO, "cannot start transactions (%s) on %s: %s", f->txn_id,
                     f->brokers, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        if (!retry || *f->a->stop)
            return NW_EIO;
        nw_metrics_set_broker(f->metrics, false);
        nw_log(NW_LOG_WARN, NULL, "%s; waiting for the broker (%d s so far)", errbuf,
               (waits + 1) * INIT_WAIT_MS / 1000);
    }
}

/*
 * After a fatal error: a new producer with the same transactional id. But
 * when another producer with that id fenced this one, it is the one that
 * runs now: this one stops (two pollers on one id would fence each other in
 * turn).
 */
static bool recreate_producer(feeds *f)
{
    char err[1024];
    rd_kafka_resp_err_t code = rd_kafka_fatal_error(f->rk, err, sizeof err);
    if (code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
        code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH) {
        nw_log(NW_LOG_ERROR, NULL,
               "another producer with the transactional id %s has started (%s): stopping; give "
               "each poller its own [feeds] transactional.id",
               f->txn_id, err);
        f->kafka_fatal = true;
        return false;
    }
    nw_log(NW_LOG_WARN, NULL,
           "the transactional producer had a fatal error (%s); starting a new one",
           code != RD_KAFKA_RESP_ERR_NO_ERROR ? err : "unknown");
    rd_kafka_destroy(f->rk);
    f->rk = new_producer(f, err, sizeof err);
    if (f->rk != NULL && init_transactions(f, err, sizeof err) == NW_OK)
        return true;
    nw_log(NW_LOG_ERROR, NULL, "%s", err);
    f->kafka_fatal = true;
    return false;
}

/* ---- the feed-state topic --------------------------------------------------- */

/* Merges one record of the feed-state topic (or logs why it cannot). */
static void merge_record(feeds *f, const rd_kafka_message_t *m)
{
    char err[512];
    if (m->key == NULL) {
        nw_log(NW_LOG_WARN, NULL,
               "%s [%" PRId32 "] at offset %" PRId64 ": a record without a key "
               "(ignored)",
               rd_kafka_topic_name(m->rkt), m->partition, m->offset);
        return;
    }
    if (nw_feedstate_merge(f->state, m->key, m->key_len, m->payload, m->len, err, sizeof err) !=
        NW_OK)
        nw_log(NW_LOG_WARN, NULL,
               "%s [%" PRId32 "] at offset %" PRId64 ": %s (ignored: that feed's items may be "
               "published again; the daemon drops exact duplicates)",
               rd_kafka_topic_name(m->rkt), m->partition, m->offset, err);
}

static rd_kafka_t *new_follower(feeds *f, int partitions, char *errbuf, size_t errlen)
{
    static const char *const defaults[][2] = {
        {"client.id", PROGRAM "-feed-state"},
        /* assign() needs a group id; the group never sees a join or a commit */
        {"group.id", PROGRAM "-feed-state"},
        {"bootstrap.servers", DEFAULT_BROKERS},
        {"isolation.level", "read_committed"},
        {"enable.partition.eof", "true"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
    };
    rd_kafka_conf_t *kc =
        kafka_conf(f, defaults, sizeof defaults / sizeof defaults[0], errbuf, errlen);
    if (kc == NULL)
        return NULL;
    char why[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, why, sizeof why);
    if (rk == NULL) {
        rd_kafka_conf_destroy(kc);
        nw_set_error(errbuf, errlen, NW_ECONFIG, "%s", why);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *tps = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(tps, f->a->state_topic, p)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, tps);
    rd_kafka_topic_partition_list_destroy(tps);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        nw_set_error(errbuf, errlen, NW_EIO, "cannot read %s: %s", f->a->state_topic,
                     rd_kafka_err2str(e));
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
}

/*
 * Reads the feed-state topic to its end (the last committed record of each
 * partition). False when a signal came first (or out of memory, logged).
 */
static bool restore_state(feeds *f, int partitions)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool *eof = calloc((size_t)partitions, sizeof(bool));
    if (eof == NULL) {
        nw_log(NW_LOG_ERROR, NULL, "out of memory reading %s", f->a->state_topic);
        return false;
    }
    int at_end = 0;
    unsigned long records = 0;
    while (at_end < partitions && !*f->a->stop) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(f->follower, LOOP_WAIT_MS);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->partition >= 0 && m->partition < partitions && !eof[m->partition]) {
                eof[m->partition] = true;
                at_end++;
            }
        } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            nw_log(NW_LOG_WARN, NULL, "reading %s: %s", f->a->state_topic,
                   rd_kafka_message_errstr(m));
        } else {
            merge_record(f, m);
            records++;
        }
        rd_kafka_message_destroy(m);
    }
    free(eof);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (at_end < partitions)
        return false;
    size_t items = 0;
    for (size_t i = 0; i < nw_feedconf_count(f->a->feeds); i++)
        items += nw_feedstate_count(f->state, nw_feedconf_at(f->a->feeds, i)->name);
    nw_log(NW_LOG_INFO, NULL,
           "feed state restored from %s: %lu records, %zu items known of the %zu feed%s polled, "
           "in %.2f s",
           f->a->state_topic, records, items, nw_feedconf_count(f->a->feeds),
           nw_feedconf_count(f->a->feeds) == 1 ? "" : "s",
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return true;
}

/* What other producers (and this one) have written since: merged without waiting. */
static void follow_state(feeds *f)
{
    rd_kafka_message_t *m;
    while (f->follower != NULL && (m = rd_kafka_consumer_poll(f->follower, 0)) != NULL) {
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
            merge_record(f, m);
        rd_kafka_message_destroy(m);
    }
}

/* ---- publishing ------------------------------------------------------------- */

/* One document of a fetch, ready to produce. */
typedef struct out_doc {
    char id[NW_DOC_MAX_ID_BYTES + 1];
    char *value; /* its JSON; owned until produced */
    size_t len;
} out_doc;

/*
 * Produces value (owned from here on: freed when it cannot be produced) with key, its
 * CloudEvent's id event_id (unique per record: the document id, or the feed's state at a
 * time), schema and time now.
 */
static bool produce_one(feeds *f, const char *topic, const char *key, size_t keylen,
                        const char *event_id, char *value, size_t len, const char *schema,
                        const char *now, char *errbuf, size_t errlen)
{
    rd_kafka_headers_t *headers = nw_kafka_json_headers("/newswatch/producer/feeds", event_id,
                                                        strlen(event_id), schema, now, NULL, 0);
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            f->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, keylen),
            RD_KAFKA_V_VALUE(value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
            RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            return true;
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(f->rk, 100);
            continue;
        }
        nw_set_error(errbuf, errlen, NW_EIO, "cannot produce %.*s to %s: %s", (int)keylen, key,
                     topic, rd_kafka_err2str(e));
        rd_kafka_headers_destroy(headers);
        free(value);
        return false;
    }
}

/* Handles a failed transactional call: abort, or a new producer. Logs what happened. */
static void txn_failed(feeds *f, rd_kafka_error_t *e, const char *what)
{
    nw_log(NW_LOG_WARN, NULL, "%s failed: %s", what, rd_kafka_error_string(e));
    bool fatal = rd_kafka_error_is_fatal(e);
    rd_kafka_error_destroy(e);
    if (fatal) {
        recreate_producer(f);
        return;
    }
    rd_kafka_error_t *ae = rd_kafka_abort_transaction(f->rk, TXN_CALL_MS);
    if (ae != NULL) {
        nw_log(NW_LOG_WARN, NULL, "abort_transaction failed: %s", rd_kafka_error_string(ae));
        bool afatal = rd_kafka_error_is_fatal(ae);
        rd_kafka_error_destroy(ae);
        if (afatal || !recreate_producer(f))
            return;
    }
}

/*
 * Publishes docs[0..n) and the feed's state record in one transaction.
 * Takes the values (freed either way). False when the transaction did not
 * commit (the caller forgets what it added to the state).
 */
static bool publish_txn(feeds *f, const nw_feed_source *src, out_doc *docs, size_t n,
                        const char *now)
{
    char err[1024];
    char *record = NULL;
    size_t rlen = 0;
    if (nw_feedstate_to_json(f->state, src->name, src->url, now, &record, &rlen, err, sizeof err) !=
        NW_OK) {
        nw_log(NW_LOG_WARN, NULL, "feed %s: %s", src->name, err);
        return false;
    }
    /* The state record's CloudEvent id: the feed's state at this time (its key, the feed's
     * name, is the same in every record of the feed). */
    size_t idcap = strlen(src->name) + strlen(now) + sizeof "state::";
    char *state_id = malloc(idcap);
    if (state_id == NULL) {
        free(record);
        nw_log(NW_LOG_WARN, NULL, "feed %s: out of memory", src->name);
        return false;
    }
    snprintf(state_id, idcap, "state:%s:%s", src->name, now);
    rd_kafka_error_t *e = rd_kafka_begin_transaction(f->rk);
    if (e != NULL) {
        free(record);
        free(state_id);
        txn_failed(f, e, "begin_transaction");
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        if (ok)
            ok = produce_one(f, f->a->topic, docs[i].id, strlen(docs[i].id), docs[i].id,
                             docs[i].value, docs[i].len, NW_DOC_SCHEMA, now, err, sizeof err);
        else
            free(docs[i].value);
        docs[i].value = NULL;
        rd_kafka_poll(f->rk, 0);
    }
    if (ok)
        ok = produce_one(f, f->a->state_topic, src->name, strlen(src->name), state_id, record, rlen,
                         NW_FEEDSTATE_SCHEMA, now, err, sizeof err);
    else
        free(record);
    free(state_id);
    if (!ok) {
        nw_log(NW_LOG_WARN, NULL, "feed %s: %s", src->name, err);
        e = rd_kafka_abort_transaction(f->rk, TXN_CALL_MS);
        if (e != NULL)
            txn_failed(f, e, "abort_transaction");
        return false;
    }
    for (int tries = 1;; tries++) {
        e = rd_kafka_commit_transaction(f->rk, TXN_CALL_MS);
        if (e == NULL)
            return true;
        if (rd_kafka_error_is_retriable(e) && tries < COMMIT_TRIES) {
            nw_log(NW_LOG_WARN, NULL, "commit_transaction: %s (trying again)",
                   rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            continue;
        }
        txn_failed(f, e, "commit_transaction");
        return false;
    }
}

/* The document id of an item: a URL or URN as it is; anything else gets "<feed>:" first. */
static nw_err item_id(const nw_feed_source *src, nw_doc *doc, char *errbuf, size_t errlen)
{
    size_t len;
    const char *id = nw_doc_get(doc, NW_DOC_ID, &len);
    if (id == NULL)
        return NW_OK;
    bool global =
        (len > 4 && memcmp(id, "urn:", 4) == 0) || (len > 4 && memcmp(id, "tag:", 4) == 0);
    for (size_t i = 0; i + 3 <= len && !global; i++)
        global = memcmp(id + i, "://", 3) == 0;
    if (global)
        return NW_OK;
    char buf[2 * NW_DOC_MAX_ID_BYTES + 2];
    int n = snprintf(buf, sizeof buf, "%s:%.*s", src->name, (int)len, id);
    if (n < 0 || (size_t)n > NW_DOC_MAX_ID_BYTES) {
        uint64_t h = nw_hash_fnv1a64(buf, n < 0 ? 0 : strlen(buf));
        n = snprintf(buf, sizeof buf, "%016" PRIx64, h);
    }
    return nw_doc_set(doc, NW_DOC_ID, buf, (size_t)n, errbuf, errlen);
}

/* The documents of a parsed feed that are new; counts the others. */
static size_t new_documents(feeds *f, const nw_feed_source *src, const nw_feed *feed, out_doc *out,
                            const char *now, unsigned long *dups, unsigned long *skipped)
{
    size_t n = 0;
    char err[1024];
    /* feeds list the newest first: publish the oldest first */
    for (size_t k = nw_feed_count(feed); k-- > 0;) {
        const nw_feed_item *item = nw_feed_at(feed, k);
        nw_doc *doc = NULL;
        char *value = NULL;
        size_t len = 0;
        nw_err e = nw_feed_item_to_doc(item, source_of(f, src, feed), &doc, err, sizeof err);
        if (e == NW_OK)
            e = item_id(src, doc, err, sizeof err);
        if (e == NW_OK && src->lang != NULL && nw_doc_get(doc, NW_DOC_LANG, NULL) == NULL)
            e = nw_doc_set(doc, NW_DOC_LANG, src->lang, strlen(src->lang), err, sizeof err);
        size_t idlen = 0, tlen = 0, blen = 0;
        const char *id = doc != NULL ? nw_doc_get(doc, NW_DOC_ID, &idlen) : NULL;
        const char *title = doc != NULL ? nw_doc_get(doc, NW_DOC_TITLE, &tlen) : NULL;
        const char *body = doc != NULL ? nw_doc_get(doc, NW_DOC_BODY, &blen) : NULL;
        nw_feedstate_item key = {0, 0};
        if (e == NW_OK) {
            key.id = nw_feedstate_hash(id, idlen);
            key.content = nw_feedstate_content_hash(title, tlen, body, blen);
            if (nw_feedstate_seen(f->state, src->name, key)) {
                (*dups)++;
                nw_doc_free(doc);
                continue;
            }
            e = nw_doc_to_json(doc, now, &value, &len, err, sizeof err);
        }
        if (e == NW_OK && len > f->a->max_bytes)
            e = nw_set_error(err, sizeof err, NW_ETOOBIG,
                             "the document's message is %zu bytes, over the limit of %zu bytes",
                             len, f->a->max_bytes);
        if (e == NW_OK && nw_feedstate_add(f->state, src->name, key) != NW_OK)
            e = nw_set_error(err, sizeof err, NW_ENOMEM, "out of memory");
        if (e != NW_OK) {
            const char *what = nw_feed_item_get(item, NW_DOC_ID);
            nw_log(NW_LOG_WARN, NULL, "feed %s: item %zu (%s): skipped: %s", src->name, k + 1,
                   what != NULL ? what : "no id", err);
            (*skipped)++;
            free(value);
            nw_doc_free(doc);
            continue;
        }
        const char *problem = nw_feed_item_date_problem(item);
        if (problem != NULL)
            nw_log(NW_LOG_WARN, NULL, "feed %s: item %.*s: %s; published_at is null", src->name,
                   (int)idlen, id, problem);
        snprintf(out[n].id, sizeof out[n].id, "%.*s", (int)idlen, id);
        out[n].value = value;
        out[n].len = len;
        n++;
        nw_doc_free(doc);
    }
    return n;
}

/* A 200: the feed's new items published with its state; false when that failed. */
static nw_poll_outcome handle_feed(feeds *f, const nw_feed_source *src, const nw_poll_result *r)
{
    char err[1024];
    nw_feed *feed = NULL;
    if (nw_feed_parse(r->body, r->len, r->url, r->charset, &feed, err, sizeof err) != NW_OK) {
        nw_log(NW_LOG_WARN, NULL, "feed %s: %s: cannot read it: %s", src->name, r->url, err);
        nw_metrics_feed_poll(f->metrics, src->name, "parse_error", r->seconds);
        f->failed_polls++;
        return NW_POLL_FAILED;
    }
    if (nw_feed_warning(feed) != NULL)
        nw_log(NW_LOG_WARN, NULL, "feed %s: %s", src->name, nw_feed_warning(feed));
    char now[32];
    nw_time_now_rfc3339(now);
    size_t count = nw_feed_count(feed);
    out_doc *docs = count > 0 ? calloc(count, sizeof(*docs)) : NULL;
    if (count > 0 && docs == NULL) {
        nw_feed_free(feed);
        return NW_POLL_FAILED;
    }
    bool began = nw_feedstate_begin(f->state, src->name) == NW_OK;
    unsigned long dups = 0, skipped = 0;
    size_t n = began ? new_documents(f, src, feed, docs, now, &dups, &skipped) : 0;
    const char *old_etag = nw_feedstate_etag(f->state, src->name);
    const char *old_mod = nw_feedstate_last_modified(f->state, src->name);
    bool validators_changed = (old_etag == NULL) != (r->etag == NULL) ||
                              (old_mod == NULL) != (r->last_modified == NULL) ||
                              (old_etag != NULL && strcmp(old_etag, r->etag) != 0) ||
                              (old_mod != NULL && strcmp(old_mod, r->last_modified) != 0);
    /* Validators only with every item published: a 304 must not hide a skipped one. */
    bool keep_validators = skipped == 0;
    bool ok = began;
    if (!keep_validators)
        validators_changed = old_etag != NULL || old_mod != NULL;
    if (ok && validators_changed)
        ok = nw_feedstate_set_validators(f->state, src->name, keep_validators ? r->etag : NULL,
                                         keep_validators ? r->last_modified : NULL) == NW_OK;
    if (ok && (n > 0 || validators_changed)) {
        if (f->rk != NULL) {
            ok = publish_txn(f, src, docs, n, now);
        } else { /* --dry-run */
            for (size_t i = 0; i < n; i++) {
                fwrite(docs[i].value, 1, docs[i].len, stdout);
                fputc('\n', stdout);
                free(docs[i].value);
            }
            ok = fflush(stdout) == 0;
        }
    }
    if (began)
        nw_feedstate_end(f->state, src->name, ok);
    free(docs);
    nw_feed_free(feed);
    if (!ok) {
        nw_metrics_feed_poll(f->metrics, src->name, "publish_error", r->seconds);
        nw_log(NW_LOG_WARN, NULL, "feed %s: %zu new items not published; they are tried again",
               src->name, n);
        f->failed_polls++;
        return NW_POLL_FAILED;
    }
    f->published += n;
    f->duplicates += dups;
    f->skipped += skipped;
    nw_metrics_feed_poll(f->metrics, src->name, "ok", r->seconds);
    nw_metrics_feed_items(f->metrics, src->name, "published", n);
    nw_metrics_feed_items(f->metrics, src->name, "duplicate", dups);
    nw_metrics_feed_items(f->metrics, src->name, "skipped", skipped);
    nw_log(n > 0 || skipped > 0 ? NW_LOG_INFO : NW_LOG_DEBUG, NULL,
           "feed %s: %zu items: %zu new %s, %lu published before, %lu skipped (%.2f s)", src->name,
           count, n, f->rk != NULL ? "published" : "printed", dups, skipped, r->seconds);
    return NW_POLL_OK;
}

static nw_poll_outcome on_result(const nw_poll_result *r, void *arg)
{
    feeds *f = arg;
    const nw_feed_source *src = nw_feedconf_at(f->a->feeds, r->feed);
    f->polls++;
    follow_state(f);
    nw_poll_outcome out = NW_POLL_FAILED;
    if (r->error != NULL) {
        nw_log(NW_LOG_WARN, NULL, "feed %s: %s: %s", src->name, src->url, r->error);
        nw_metrics_feed_poll(f->metrics, src->name, "network_error", r->seconds);
        f->failed_polls++;
    } else if (r->status == 304) {
        nw_log(NW_LOG_DEBUG, NULL, "feed %s: not modified (%.2f s)", src->name, r->seconds);
        nw_metrics_feed_poll(f->metrics, src->name, "not_modified", r->seconds);
        f->not_modified++;
        out = NW_POLL_OK;
    } else if (r->status < 200 || r->status > 299) {
        nw_log(NW_LOG_WARN, NULL, "feed %s: %s: HTTP %ld%s", src->name, r->url, r->status,
               r->retry_after_ms >= 0 ? " (the server asks to wait: Retry-After)" : "");
        nw_metrics_feed_poll(f->metrics, src->name, "http_error", r->seconds);
        f->failed_polls++;
    } else {
        out = handle_feed(f, src, r);
    }
    if (out != NW_POLL_OK)
        f->failed_feeds_once++;
    return out;
}

static void validators(size_t feed, const char **etag, const char **last_modified, void *arg)
{
    feeds *f = arg;
    const char *name = nw_feedconf_at(f->a->feeds, feed)->name;
    *etag = nw_feedstate_etag(f->state, name);
    *last_modified = nw_feedstate_last_modified(f->state, name);
}

/* ---- the run ---------------------------------------------------------------- */

static int start_kafka(feeds *f)
{
    char err[1024];
    char host[200] = "localhost";
    gethostname(host, sizeof host - 1);
    const char *tid = nw_feedconf_get_settings(f->a->feeds)->transactional_id;
    if (tid != NULL)
        snprintf(f->txn_id, sizeof f->txn_id, "%s", tid);
    else
        snprintf(f->txn_id, sizeof f->txn_id, "newswatch-feeds-%s", host);
    if ((f->rk = new_producer(f, err, sizeof err)) == NULL) {
        nw_log(NW_LOG_ERROR, NULL, "%s", err);
        return 2;
    }
    int partitions = 0;
    if (nw_kafka_check_cluster(f->rk, f->brokers, f->a->topic, NULL, METADATA_TIMEOUT_MS, err,
                               sizeof err) != NW_OK ||
        nw_kafka_check_cluster(f->rk, f->brokers, f->a->state_topic, &partitions,
                               METADATA_TIMEOUT_MS, err, sizeof err) != NW_OK) {
        nw_log(NW_LOG_ERROR, NULL, "%s", err);
        return 3;
    }
    if ((f->follower = new_follower(f, partitions, err, sizeof err)) == NULL) {
        nw_log(NW_LOG_ERROR, NULL, "%s", err);
        return 3;
    }
    if (!restore_state(f, partitions))
        return *f->a->stop ? -1 : 3; /* a signal, or out of memory */
    nw_metrics_set_held(f->metrics, 0);
    if (init_transactions(f, err, sizeof err) != NW_OK) {
        if (*f->a->stop)
            return -1;
        nw_log(NW_LOG_ERROR, NULL, "%s", err);
        return 3;
    }
    nw_log(NW_LOG_INFO, NULL, "publishing feed items to %s with transactional id %s", f->a->topic,
           f->txn_id);
    return 0;
}

static int start_http(feeds *f)
{
    char err[1024];
    nw_http_config hc;
    nw_http_config_init(&hc);
    snprintf(hc.host, sizeof hc.host, "127.0.0.1");
    hc.port = 9465;
    if (nw_metrics_new(NW_METRICS_FEEDS, &f->metrics, err, sizeof err) != NW_OK ||
        nw_http_config_apply(&hc, f->a->conf, "producer.listen", err, sizeof err) != NW_OK) {
        nw_log(NW_LOG_ERROR, NULL, "%s", err);
        return 2;
    }
    nw_metrics_set_held(f->metrics, f->a->opts->dry_run ? 0 : 1);
    for (size_t i = 0; i < nw_feedconf_count(f->a->feeds); i++)
        nw_metrics_feed_add(f->metrics, nw_feedconf_at(f->a->feeds, i)->name);
    if (nw_http_new(&hc, f->metrics, &f->http, err, sizeof err) != NW_OK) {
        nw_log(NW_LOG_ERROR, NULL, "%s ([http] producer.listen)", err);
        return 2;
    }
    if (f->http != NULL)
        nw_log(NW_LOG_INFO, NULL, "serving /metrics, /healthz and /readyz on %s:%u", hc.host,
               nw_http_port(f->http));
    return 0;
}

int nw_feeds_run(const nw_feeds_args *a)
{
    feeds f = {.a = a};
    const nw_feed_settings *s = nw_feedconf_get_settings(a->feeds);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char err[1024];
    int status = 0;
    if ((f.state = nw_feedstate_new((size_t)s->state_items)) == NULL) {
        nw_log(NW_LOG_ERROR, NULL, "out of memory");
        return 3;
    }
    status = start_http(&f);
    if (status == 0 && !a->opts->dry_run)
        status = start_kafka(&f);
    nw_poll_callbacks cb = {validators, on_result, &f};
    if (status == 0 &&
        nw_poll_new(s, s->user_agent, a->opts->once, &cb, &f.poll, err, sizeof err) != NW_OK) {
        nw_log(NW_LOG_ERROR, NULL, "%s", err);
        status = 3;
    }
    for (size_t i = 0; status == 0 && i < nw_feedconf_count(a->feeds); i++)
        if (nw_poll_add(f.poll, nw_feedconf_at(a->feeds, i)) < 0)
            status = 3;
    if (status == 0)
        nw_log(NW_LOG_INFO, NULL, "polling %zu feed%s%s", nw_feedconf_count(a->feeds),
               nw_feedconf_count(a->feeds) == 1 ? "" : "s",
               a->opts->once ? " once" : " until stopped");
    while (status == 0 && !*a->stop && !f.kafka_fatal &&
           !(a->opts->once && nw_poll_finished(f.poll))) {
        nw_metrics_heartbeat(f.metrics);
        if (nw_poll_run(f.poll, LOOP_WAIT_MS, err, sizeof err) != NW_OK) {
            nw_log(NW_LOG_ERROR, NULL, "%s", err);
            status = 3;
        }
        follow_state(&f);
        if (f.rk != NULL)
            rd_kafka_poll(f.rk, 0);
    }
    if (status < 0)
        status = 0; /* stopped by a signal before the first poll */
    nw_metrics_set_stopping(f.metrics);
    if (f.kafka_fatal)
        status = 3;
    else if (status == 0 && a->opts->once && f.failed_feeds_once > 0)
        status = 1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!a->opts->quiet || status != 0)
        nw_log(NW_LOG_INFO, NULL,
               "%lu documents %s %s from %zu feed%s in %.2f s: %lu polls (%lu not modified, %lu "
               "failed); %lu items published before, %lu skipped%s",
               f.published, a->opts->dry_run ? "printed for" : "delivered to", a->topic,
               nw_feedconf_count(a->feeds), nw_feedconf_count(a->feeds) == 1 ? "" : "s",
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, f.polls,
               f.not_modified, f.failed_polls, f.duplicates, f.skipped,
               *a->stop ? "; stopped by a signal" : "");
    nw_poll_free(f.poll);
    nw_http_free(f.http);
    if (f.follower != NULL) {
        rd_kafka_consumer_close(f.follower);
        rd_kafka_destroy(f.follower);
    }
    if (f.rk != NULL) {
        rd_kafka_flush(f.rk, 5000);
        rd_kafka_destroy(f.rk);
    }
    nw_metrics_free(f.metrics);
    nw_feedstate_free(f.state);
    return status;
}
