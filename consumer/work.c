/*
 * What the stages do with a batch: the enrich stage's worker pool (the
 * documents enriched in parallel, the records produced in the batch's
 * order by the stage's thread) and the alert stage's decisions, the alerts
 * it hands to the ops sinks once committed, and the incidents it re-posts
 * to Alertmanager.
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
#include "newswatch/str.h"
#include "newswatch/topics.h"
#include "../kafka/nw_kafka.h"
#include "../sinks/nw_sinks.h"
#include "http.h"
#include "metrics.h"
#include "notify.h"
#include "stage.h"

void work_free_pending(stage *st)
{
    for (size_t i = 0; i < st->npending; i++)
        nw_alert_free(st->pending[i].alert);
    st->npending = 0;
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

/* Copies what the enricher wrote (it is overwritten by the next document). */
static bool keep_output(enrich_result *r, const nw_doc *doc, const nw_enriched *out)
{
    size_t idlen;
    const char *id = nw_doc_get(doc, NW_DOC_ID, &idlen);
    r->key = nw_str_copy(id, idlen);
    r->key_len = idlen;
    r->enriched = nw_str_copy(out->enriched, out->enriched_len);
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
        r->matches[i] = nw_str_copy(out->matches[i], out->match_lens[i]);
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
    if (!stage_fits(st, NW_TOPIC_ENRICHED, r->key_len, r->enriched_len, 128)) {
        name = "enriched record";
        len = r->enriched_len;
    }
    for (size_t i = 0; name == NULL && i < r->nmatches; i++)
        if (!stage_fits(st, NW_TOPIC_MATCHES, strlen(r->event_ids[i]), r->match_lens[i], 128)) {
            name = "match record";
            len = r->match_lens[i];
            role = NW_TOPIC_MATCHES;
        }
    if (name == NULL)
        return NULL;
    snprintf(why, sizeof why,
             "output too large: its %s is %zu bytes, over the %ld bytes topic %s takes "
             "(max.message.bytes)",
             name, len, stage_limit_of(st, role), st->d->topics.name[role]);
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
        return stage_dead_letter(st, m,
                                 r->why != NULL ? r->why : "processing error: out of memory");
    char *too_big = oversized(st, r);
    if (too_big != NULL) {
        int rc = stage_dead_letter(st, m, too_big);
        free(too_big);
        return rc;
    }
    int rc = stage_produce(st, d->topics.name[NW_TOPIC_ENRICHED], RD_KAFKA_PARTITION_UA, r->key,
                           r->key_len, r->enriched, r->enriched_len,
                           stage_json_headers(st, NW_ENRICHED_SCHEMA, r->key, r->key_len, "%.*s",
                                              (int)r->key_len, r->key));
    for (size_t i = 0; rc == 0 && i < r->nmatches; i++)
        rc =
            stage_produce(st, d->topics.name[NW_TOPIC_MATCHES], RD_KAFKA_PARTITION_UA,
                          r->event_ids[i], strlen(r->event_ids[i]), r->matches[i], r->match_lens[i],
                          stage_json_headers(st, NW_MATCH_SCHEMA, r->key, r->key_len, "%.*s/%s",
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
        return stage_dead_letter(st, m, "empty message (no value)");
    nw_alert *a;
    if (nw_alerter_process(st->alerter, m->payload, m->len, &a, why, sizeof why) != NW_OK)
        return stage_dead_letter(st, m, why);
    restore_owners_set(st, a->event_id, m->partition);
    const char *too_big = NULL;
    size_t len = 0;
    nw_topic_role role = NW_TOPIC_ALERT_STATE;
    if (!stage_fits(st, NW_TOPIC_ALERT_STATE, strlen(a->event_id), a->state_len, 128)) {
        too_big = "state record";
        len = a->state_len;
    } else if (a->json != NULL &&
               !stage_fits(st, NW_TOPIC_ALERTS, strlen(a->event_id), a->json_len, 128)) {
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
                 too_big, len, stage_limit_of(st, role), d->topics.name[role]);
        nw_alert_free(a);
        return -1;
    }
    /* The state goes to the same partition of the changelog as the match came from. */
    int rc = stage_produce(st, d->topics.name[NW_TOPIC_ALERT_STATE], m->partition, a->event_id,
                           strlen(a->event_id), a->state, a->state_len,
                           stage_json_headers(st, NW_ALERT_STATE_SCHEMA, a->event_id,
                                              strlen(a->event_id), "state:%s:%s:%d:%lld",
                                              a->event_id, rd_kafka_topic_name(m->rkt),
                                              (int)m->partition, (long long)m->offset));
    if (rc == 0)
        nw_metrics_doc_out(d->metrics, NW_METRICS_ALERT, NW_METRICS_OUT_ALERT_STATE);
    if (rc == 0 && a->json != NULL) {
        rc = stage_produce(
            st, d->topics.name[NW_TOPIC_ALERTS], RD_KAFKA_PARTITION_UA, a->event_id,
            strlen(a->event_id), a->json, a->json_len,
            stage_json_headers(st, NW_ALERT_SCHEMA, a->event_id, strlen(a->event_id), "%s", a->id));
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

void work_deliver_pending(stage *st)
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
    work_free_pending(st);
}

/* Processes the batch into the open transaction (or the producer's queue). 0, or -1. */
int work_process_batch(stage *st)
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

/*
 * Between the alert stage's batches (its state is the committed one): every
 * alertmanager.resend.ms, the incidents of this instance's partitions are
 * posted to Alertmanager again with endsAt ahead, and the quiet ones
 * resolved (docs/sinks.md). Cheap when not due.
 */
void work_resend_incidents(daemon *d)
{
    if (d->alert.alerter == NULL || !nw_sinks_resend_due(d->sinks))
        return;
    char why[256] = "out of memory";
    int64_t now = (int64_t)time(NULL);
    nw_incident_list *l = nw_incident_list_new();
    if (l == NULL || nw_alerter_list(d->alert.alerter, now, nw_sinks_resend_keep_s(d->sinks), l,
                                     why, sizeof why) != NW_OK)
        daemon_log(NW_LOG_ERROR, "alert: cannot list the incidents for Alertmanager: %s", why);
    else
        nw_sinks_resend(d->sinks, l, now);
    nw_incident_list_free(l);
}

/* ---- reload, shutdown watchdog, main --------------------------------------- */

void work_free_enrichers(const daemon *d, nw_enricher **en)
{
    for (int i = 0; en != NULL && i < d->s.enrich_threads; i++)
        nw_enricher_free(en[i]);
    free(en);
}

/* One enricher per enrich thread, over d->pipeline; NULL with a message on failure. */
nw_enricher **work_new_enrichers(const daemon *d, char *errbuf, size_t errlen)
{
    nw_enricher **en = calloc((size_t)d->s.enrich_threads, sizeof(*en));
    if (en == NULL) {
        nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        return NULL;
    }
    for (int i = 0; i < d->s.enrich_threads; i++)
        if ((en[i] = nw_enricher_new(&d->pipeline, errbuf, errlen)) == NULL) {
            work_free_enrichers(d, en);
            return NULL;
        }
    return en;
}
