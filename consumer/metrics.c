#include "metrics.h"

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "newswatch/version.h"

/* ---- the metrics: one table ---------------------------------------------- */

typedef enum kind { COUNTER, GAUGE, HISTOGRAM } kind;

enum {
    F_BUILD_INFO,
    F_START_TIME,
    F_DOCS_IN,
    F_DOCS_OUT,
    F_DLQ,
    F_TXN,
    F_BATCH,
    F_LATENCY,
    F_LAG,
    F_ALERTS,
    F_SINK_DELIVERED,
    F_SINK_FAILED,
    F_SINK_RETRIES,
    F_SINK_DROPPED,
    F_SINK_QUEUE,
    F_RELOADS,
    F_RELOAD_OK,
    F_RELOAD_TIME,
    F_READY,
    F_ASSIGNED,
    F_BROKER,
    F_HELD,
    F_FEED_POLLS,
    F_FEED_ITEMS,
    F_FEED_SUCCESS,
    F_FEED_FETCH,
    F_COUNT
};

#define MAX_LABELS 3

static const double batch_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                       1,     2.5,  5,     10,   30,  60};
static const double latency_buckets[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                         2.5,  5,     10,   30,  60,   300};
static const double fetch_buckets[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
#define NBUCKETS(b) (sizeof(b) / sizeof((b)[0]))
/* Feeds with series of their own; the others share feed="other". */
#define MAX_FEED_SERIES 200

typedef struct family_def {
    const char *name; /* with its unit and _total suffix (Prometheus conventions) */
    kind type;
    const char *help;
    const char *labels[MAX_LABELS]; /* NULL-terminated when fewer */
    const double *buckets;          /* histograms: upper bounds, increasing; +Inf implied */
    size_t nbuckets;
    size_t max_series; /* beyond it, free_label's value becomes "other" (or the sample is lost) */
    int free_label;    /* the label whose values are not known in advance; -1: none */
    bool held;         /* counted per batch and added at commit (nw_metrics_txn) */
} family_def;

static const family_def defs[F_COUNT] = {
    [F_BUILD_INFO] = {"newswatch_build_info",
                      GAUGE,
                      "Always 1; the labels say the newswatch and librdkafka versions.",
                      {"version", "librdkafka"},
                      NULL,
                      0,
                      1,
                      -1,
                      false},
    [F_START_TIME] = {"newswatch_start_time_seconds",
                      GAUGE,
                      "When the daemon started, in seconds since the Unix epoch.",
                      {NULL},
                      NULL,
                      0,
                      1,
                      -1,
                      false},
    [F_DOCS_IN] = {"newswatch_documents_in_total",
                   COUNTER,
                   "Input messages of committed batches, dead letters included.",
                   {"stage"},
                   NULL,
                   0,
                   NW_METRICS_STAGE_COUNT,
                   -1,
                   true},
    [F_DOCS_OUT] = {"newswatch_documents_out_total",
                    COUNTER,
                    "Output records in committed transactions, by output topic.",
                    {"stage", "output"},
                    NULL,
                    0,
                    8,
                    -1,
                    true},
    [F_DLQ] = {"newswatch_dlq_records_total",
               COUNTER,
               "Messages sent to the dead-letter topic in committed transactions, by reason "
               "class.",
               {"stage", "reason"},
               NULL,
               0,
               64,
               -1,
               true},
    [F_TXN] = {"newswatch_transactions_total",
               COUNTER,
               "Batches ended, by result: committed or aborted (at_least_once: offset commits).",
               {"stage", "result"},
               NULL,
               0,
               4,
               -1,
               false},
    [F_BATCH] = {"newswatch_batch_duration_seconds",
                 HISTOGRAM,
                 "Time from a batch's first poll to its commit or abort.",
                 {"stage"},
                 batch_buckets,
                 NBUCKETS(batch_buckets),
                 NW_METRICS_STAGE_COUNT,
                 -1,
                 false},
    [F_LATENCY] = {"newswatch_end_to_end_latency_seconds",
                   HISTOGRAM,
                   "Time from an input record's timestamp (news.raw: the producer's "
                   "ingested_at) to the commit of its outputs.",
                   {"stage"},
                   latency_buckets,
                   NBUCKETS(latency_buckets),
                   NW_METRICS_STAGE_COUNT,
                   -1,
                   false},
    [F_LAG] = {"newswatch_kafka_consumer_lag",
               GAUGE,
               "Messages between a partition's committed offset and its end (librdkafka "
               "statistics).",
               {"topic", "partition"},
               NULL,
               0,
               1024,
               -1,
               false},
    [F_ALERTS] = {"newswatch_alerts_total",
                  COUNTER,
                  "Alerts published in committed transactions, by tracked event and status.",
                  {"event", "status"},
                  NULL,
                  0,
                  512,
                  0,
                  true},
    [F_SINK_DELIVERED] = {"newswatch_sink_deliveries_total",
                          COUNTER,
                          "Alerts an ops sink accepted.",
                          {"sink"},
                          NULL,
                          0,
                          NW_SINK_COUNT,
                          -1,
                          false},
    [F_SINK_FAILED] = {"newswatch_sink_failures_total",
                       COUNTER,
                       "Alerts an ops sink gave up on (attempts exhausted or rejected).",
                       {"sink"},
                       NULL,
                       0,
                       NW_SINK_COUNT,
                       -1,
                       false},
    [F_SINK_RETRIES] = {"newswatch_sink_retries_total",
                        COUNTER,
                        "Repeated requests to an ops sink.",
                        {"sink"},
                        NULL,
                        0,
                        NW_SINK_COUNT,
                        -1,
                        false},
    [F_SINK_DROPPED] = {"newswatch_sink_dropped_total",
                        COUNTER,
                        "Alerts never tried to the end: a full queue, or shutdown.",
                        {"sink"},
                        NULL,
                        0,
                        NW_SINK_COUNT,
                        -1,
                        false},
    [F_SINK_QUEUE] = {"newswatch_sink_queue_depth",
                      GAUGE,
                      "Alerts queued or in flight to an ops sink.",
                      {"sink"},
                      NULL,
                      0,
                      NW_SINK_COUNT,
                      -1,
                      false},
    [F_RELOADS] = {"newswatch_config_reloads_total",
                   COUNTER,
                   "Configuration reloads (SIGHUP), by result: success or failure.",
                   {"result"},
                   NULL,
                   0,
                   2,
                   -1,
                   false},
    [F_RELOAD_OK] = {"newswatch_config_last_reload_successful",
                     GAUGE,
                     "1 when the last configuration load succeeded, else 0.",
                     {NULL},
                     NULL,
                     0,
                     1,
                     -1,
                     false},
    [F_RELOAD_TIME] = {"newswatch_config_last_reload_success_timestamp_seconds",
                       GAUGE,
                       "When the configuration was last loaded successfully, in seconds since the "
                       "Unix epoch.",
                       {NULL},
                       NULL,
                       0,
                       1,
                       -1,
                       false},
    [F_READY] = {"newswatch_ready",
                 GAUGE,
                 "1 when /readyz answers 200, else 0.",
                 {NULL},
                 NULL,
                 0,
                 1,
                 -1,
                 false},
    [F_ASSIGNED] = {"newswatch_stage_assigned",
                    GAUGE,
                    "1 when the stage's consumer has its assignment, else 0.",
                    {"stage"},
                    NULL,
                    0,
                    NW_METRICS_STAGE_COUNT,
                    -1,
                    false},
    [F_BROKER] = {"newswatch_broker_reachable",
                  GAUGE,
                  "1 unless the daemon is waiting for the broker.",
                  {NULL},
                  NULL,
                  0,
                  1,
                  -1,
                  false},
    [F_HELD] = {"newswatch_state_partitions_held",
                GAUGE,
                "Partitions of the alert stage held because their state is not restored.",
                {NULL},
                NULL,
                0,
                1,
                -1,
                false},
    [F_FEED_POLLS] = {"newswatch_feed_polls_total",
                      COUNTER,
                      "Fetches of each feed, by result: ok, not_modified (304), http_error, "
                      "network_error, parse_error, publish_error.",
                      {"feed", "result"},
                      NULL,
                      0,
                      MAX_FEED_SERIES * 6,
                      0,
                      false},
    [F_FEED_ITEMS] = {"newswatch_feed_items_total",
                      COUNTER,
                      "Items of each feed, by outcome: published, duplicate (published before), "
                      "skipped (cannot be a document).",
                      {"feed", "outcome"},
                      NULL,
                      0,
                      MAX_FEED_SERIES * 3,
                      0,
                      false},
    [F_FEED_SUCCESS] = {"newswatch_feed_last_success_timestamp_seconds",
                        GAUGE,
                        "When each feed was last fetched and handled without error (304 included), "
                        "in seconds since the Unix epoch.",
                        {"feed"},
                        NULL,
                        0,
                        MAX_FEED_SERIES,
                        0,
                        false},
    [F_FEED_FETCH] = {"newswatch_feed_fetch_duration_seconds",
                      HISTOGRAM,
                      "Time of each feed's fetches, connecting and redirects included.",
                      {"feed"},
                      fetch_buckets,
                      NBUCKETS(fetch_buckets),
                      MAX_FEED_SERIES,
                      0,
                      false},
};

static const char *const stage_names[NW_METRICS_STAGE_COUNT] = {"enrich", "alert"};
static const char *const output_names[NW_METRICS_OUTPUT_COUNT] = {"enriched", "matches", "alerts",
                                                                  "alert-state"};
static const char *const dlq_classes[] = {
    "empty",         "too_large",        "invalid_utf8", "invalid_json", "invalid_document",
    "unknown_event", "output_too_large", "refused",      "processing",   "other"};
#define NDLQ_CLASSES (sizeof dlq_classes / sizeof dlq_classes[0])

/* ---- the registry ---------------------------------------------------------- */

typedef struct series {
    char *label[MAX_LABELS];
    double value;
    double held[NW_METRICS_STAGE_COUNT]; /* counted in the open transaction of each stage */
    double *bucket;                      /* histograms: per-bucket counts (not cumulative) */
    double sum;
    double count;
    char *owner; /* the lag: the client whose statistics set it */
    bool seen;   /* the lag: in the client's latest statistics */
} series;

typedef struct family {
    series *s;
    size_t n, cap;
} family;

struct nw_metrics {
    pthread_mutex_t lock;
    family fam[F_COUNT];
    unsigned stages;
    bool feeds;     /* a feed poller (NW_METRICS_FEEDS): no stages */
    double beat_ms; /* monotonic */
    bool assigned[NW_METRICS_STAGE_COUNT];
    bool broker_down, stopping;
    unsigned long held;
    void (*collector)(nw_metrics *, void *);
    void *collector_arg;
};

static double mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

static double unix_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static size_t nlabels(const family_def *d)
{
    size_t n = 0;
    while (n < MAX_LABELS && d->labels[n] != NULL)
        n++;
    return n;
}

static void free_series(series *s)
{
    for (size_t i = 0; i < MAX_LABELS; i++)
        free(s->label[i]);
    free(s->bucket);
    free(s->owner);
}

static series *find(family *f, size_t nl, const char *const *labels)
{
    for (size_t i = 0; i < f->n; i++) {
        size_t k = 0;
        while (k < nl && strcmp(f->s[i].label[k], labels[k]) == 0)
            k++;
        if (k == nl)
            return &f->s[i];
    }
    return NULL;
}

/* The series of family id with these label values, added when new; NULL when out of memory. */
static series *get(nw_metrics *m, int id, const char *const *labels)
{
    const family_def *d = &defs[id];
    family *f = &m->fam[id];
    size_t nl = nlabels(d);
    series *s = find(f, nl, labels);
    if (s != NULL)
        return s;
    const char *use[MAX_LABELS];
    for (size_t k = 0; k < nl; k++)
        use[k] = labels[k];
    if (f->n >= d->max_series) {
        if (d->free_label < 0)
            return NULL; /* bounded: the sample is lost */
        use[d->free_label] = "other";
        if ((s = find(f, nl, use)) != NULL)
            return s;
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 4;
        series *ns = realloc(f->s, cap * sizeof(*ns));
        if (ns == NULL)
            return NULL;
        f->s = ns;
        f->cap = cap;
    }
    s = &f->s[f->n];
    memset(s, 0, sizeof *s);
    bool ok = true;
    for (size_t k = 0; k < nl; k++)
        ok = ok && (s->label[k] = strdup(use[k])) != NULL;
    if (ok && d->type == HISTOGRAM)
        ok = (s->bucket = calloc(d->nbuckets, sizeof(double))) != NULL;
    if (!ok) {
        free_series(s);
        return NULL;
    }
    f->n++;
    return s;
}

static void set_value(nw_metrics *m, int id, const char *const *labels, double v)
{
    series *s = get(m, id, labels);
    if (s != NULL)
        s->value = v;
}

static void add_value(nw_metrics *m, int id, const char *const *labels, double v)
{
    series *s = get(m, id, labels);
    if (s != NULL)
        s->value += v;
}

static void hold_value(nw_metrics *m, int id, nw_metrics_stage stage, const char *const *labels,
                       double v)
{
    series *s = get(m, id, labels);
    if (s != NULL)
        s->held[stage] += v;
}

static void observe(nw_metrics *m, int id, const char *const *labels, double v)
{
    series *s = get(m, id, labels);
    if (s == NULL || isnan(v))
        return;
    const family_def *d = &defs[id];
    for (size_t i = 0; i < d->nbuckets; i++)
        if (v <= d->buckets[i]) {
            s->bucket[i] += 1;
            break;
        }
    s->sum += v;
    s->count += 1;
}

static bool valid_stage(nw_metrics_stage stage)
{
    return (unsigned)stage < NW_METRICS_STAGE_COUNT;
}

const char *nw_metrics_stage_name(nw_metrics_stage stage)
{
    return valid_stage(stage) ? stage_names[stage] : "?";
}

nw_err nw_metrics_new(unsigned stages, nw_metrics **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    nw_metrics *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m);
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "cannot create a mutex");
    }
    m->feeds = stages == NW_METRICS_FEEDS;
    m->stages = m->feeds      ? 0
                : stages != 0 ? stages
                              : NW_METRICS_STAGE_BIT(NW_METRICS_ENRICH) |
                                    NW_METRICS_STAGE_BIT(NW_METRICS_ALERT);
    m->beat_ms = mono_ms();
    /* The series that exist from the start, at 0, so that rate() and increase() see them. */
    const char *none[1] = {NULL};
    const char *build[] = {NW_VERSION, rd_kafka_version_str()};
    double now = unix_now();
    set_value(m, F_BUILD_INFO, build, 1);
    set_value(m, F_START_TIME, none, now);
    set_value(m, F_READY, none, 0);
    set_value(m, F_BROKER, none, 1);
    if (!m->feeds) {
        set_value(m, F_RELOAD_OK, none, 1);
        set_value(m, F_RELOAD_TIME, none, now);
        set_value(m, F_HELD, none, 0);
        const char *ok[] = {"success"}, *bad[] = {"failure"};
        set_value(m, F_RELOADS, ok, 0);
        set_value(m, F_RELOADS, bad, 0);
    }
    for (int st = 0; st < NW_METRICS_STAGE_COUNT; st++) {
        if (!(m->stages & NW_METRICS_STAGE_BIT(st)))
            continue;
        const char *one[] = {stage_names[st]};
        set_value(m, F_DOCS_IN, one, 0);
        set_value(m, F_ASSIGNED, one, 0);
        get(m, F_BATCH, one);
        get(m, F_LATENCY, one);
        const char *c[] = {stage_names[st], "committed"}, *a[] = {stage_names[st], "aborted"};
        set_value(m, F_TXN, c, 0);
        set_value(m, F_TXN, a, 0);
        for (int o = 0; o < NW_METRICS_OUTPUT_COUNT; o++) {
            if ((st == NW_METRICS_ENRICH) != (o <= NW_METRICS_OUT_MATCHES))
                continue;
            const char *lo[] = {stage_names[st], output_names[o]};
            set_value(m, F_DOCS_OUT, lo, 0);
        }
        for (size_t k = 0; k < NDLQ_CLASSES; k++) {
            const char *lr[] = {stage_names[st], dlq_classes[k]};
            set_value(m, F_DLQ, lr, 0);
        }
    }
    *out = m;
    return NW_OK;
}

void nw_metrics_free(nw_metrics *m)
{
    if (m == NULL)
        return;
    for (int id = 0; id < F_COUNT; id++) {
        for (size_t i = 0; i < m->fam[id].n; i++)
            free_series(&m->fam[id].s[i]);
        free(m->fam[id].s);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

const char *nw_metrics_dlq_class(const char *why)
{
    static const struct {
        const char *text;
        bool prefix; /* at the start, else anywhere */
        const char *cls;
    } rules[] = {
        {"empty message", true, "empty"},
        {"the message is ", true, "too_large"},
        {"invalid UTF-8", false, "invalid_utf8"},
        {"not valid JSON", true, "invalid_json"},
        {"expected a JSON object", true, "invalid_json"},
        {"output too large", true, "output_too_large"},
        {"Kafka refused", true, "refused"},
        {"processing error", true, "processing"},
        {" is not tracked", false, "unknown_event"},
        {"not a ", true, "invalid_document"},
        {"no 'body'", true, "invalid_document"},
        {"must be a string", false, "invalid_document"},
        {"the id ", true, "invalid_document"},
        {"the body ", true, "invalid_document"},
        {"the document ", true, "invalid_document"},
        {"the match ", true, "invalid_document"},
    };
    if (why == NULL)
        return "other";
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        size_t n = strlen(rules[i].text);
        if (rules[i].prefix ? strncmp(why, rules[i].text, n) == 0
                            : strstr(why, rules[i].text) != NULL)
            return rules[i].cls;
    }
    return "other";
}

/* ---- what the daemon reports --------------------------------------------- */

void nw_metrics_doc_in(nw_metrics *m, nw_metrics_stage stage, unsigned long n)
{
    if (m == NULL || !valid_stage(stage))
        return;
    const char *l[] = {stage_names[stage]};
    pthread_mutex_lock(&m->lock);
    hold_value(m, F_DOCS_IN, stage, l, (double)n);
    pthread_mutex_unlock(&m->lock);
}

void nw_metrics_doc_out(nw_metrics *m, nw_metrics_stage stage, nw_metrics_output output)
{
    if (m == NULL || !valid_stage(stage) || (unsigned)output >= NW_METRICS_OUTPUT_COUNT)
        return;
    const char *l[] = {stage_names[stage], output_names[output]};
    pthread_mutex_lock(&m->lock);
    hold_value(m, F_DOCS_OUT, stage, l, 1);
    pthread_mutex_unlock(&m->lock);
}

void nw_metrics_dlq(nw_metrics *m, nw_metrics_stage stage, const char *why)
{
    if (m == NULL || !valid_stage(stage))
        return;
    const char *l[] = {stage_names[stage], nw_metrics_dlq_class(why)};
    pthread_mutex_lock(&m->lock);
    hold_value(m, F_DLQ, stage, l, 1);
    pthread_mutex_unlock(&m->lock);
}

void nw_metrics_alert(nw_metrics *m, const char *event, const char *status)
{
    if (m == NULL)
        return;
    const char *l[] = {event != NULL ? event : "", status != NULL ? status : ""};
    pthread_mutex_lock(&m->lock);
    hold_value(m, F_ALERTS, NW_METRICS_ALERT, l, 1);
    pthread_mutex_unlock(&m->lock);
}

void nw_metrics_txn(nw_metrics *m, nw_metrics_stage stage, bool committed)
{
    if (m == NULL || !valid_stage(stage))
        return;
    pthread_mutex_lock(&m->lock);
    for (int id = 0; id < F_COUNT; id++) {
        if (!defs[id].held)
            continue;
        for (size_t i = 0; i < m->fam[id].n; i++) {
            series *s = &m->fam[id].s[i];
            if (committed)
                s->value += s->held[stage];
            s->held[stage] = 0;
        }
    }
    const char *l[] = {stage_names[stage], committed ? "committed" : "aborted"};
    add_value(m, F_TXN, l, 1);
    pthread_mutex_unlock(&m->lock);
}

void nw_metrics_feed_poll(nw_metrics *m, const char *feed, const char *result, double seconds)
{
    if (m == NULL)
        return;
    const char *l[] = {feed, result}, *one[] = {feed};
    pthread_mutex_lock(&m->lock);
    add_value(m, F_FEED_POLLS, l, 1);
    if (strcmp(result, "ok") == 0 || strcmp(result, "not_modified") == 0)
        set_value(m, F_FEED_SUCCESS, one, unix_now());
    if (seconds >= 0)
        observe(m, F_FEED_FETCH, one, seconds);
    pthread_mutex_unlock(&m->lock);
}

void nw_metrics_feed_items(nw_metrics *m, const char *feed, const char *outcome, unsigned long n)
{
    if (m == NULL)
        return;
    const char *l[] = {feed, outcome};
    pthread_mutex_lock(&m->lock);
    add_value(m, F_FEED_ITEMS, l, (double)n);
    pthread_mutex_unlock(&m->lock);
}

void nw_metrics_feed_add(nw_metrics *m, const char *feed)
{
    if (m == NULL)
        return;
    static const char *const results[] = {
        "ok", "not_modified", "http_error", "network_error", "parse_error", "publish_error"};
    static const char *const outcomes[] = {"published", "duplicate", "skipped"};
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < sizeof results / sizeof results[0]; i++) {
        const char *l[] = {feed, results[i]};
        add_value(m, F_FEED_POLLS, l, 0);
    }
    for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++) {
        const char *l[] = {feed, outcomes[i]};
        add_value(m, F_FEED_ITEMS, l, 0);
    }
    const char *one[] = {feed};
    get(m, F_FEED_FETCH, one);
    pthread_mutex_unlock(&m->lock);
}

void nw_metrics_batch_seconds(nw_metrics *m, nw_metrics_stage stage, double seconds)
{
    if (m == NULL || !valid_stage(stage))
        return;
    const char *l[] = {stage_names[stage]};
    pthread_mutex_lock(&m->lock);
    observe(m, F_BATCH, l, seconds);
    pthread_mutex_unlock(&m->lock);
}

void nw_metrics_latency_seconds(nw_metrics *m, nw_metrics_stage stage, double seconds)
{
    if (m == NULL || !valid_stage(stage))
        return;
    const char *l[] = {stage_names[stage]};
    pthread_mutex_lock(&m->lock);
    observe(m, F_LATENCY, l, seconds < 0 ? 0 : seconds); /* clocks differ between hosts */
    pthread_mutex_unlock(&m->lock);
}

void nw_metrics_reload(nw_metrics *m, bool ok, double when)
{
    if (m == NULL)
        return;
    const char *none[1] = {NULL};
    const char *l[] = {ok ? "success" : "failure"};
    pthread_mutex_lock(&m->lock);
    add_value(m, F_RELOADS, l, 1);
    set_value(m, F_RELOAD_OK, none, ok ? 1 : 0);
    if (ok)
        set_value(m, F_RELOAD_TIME, none, when);
    pthread_mutex_unlock(&m->lock);
}

void nw_metrics_sinks(nw_metrics *m, const nw_sink_stats stats[NW_SINK_COUNT])
{
    if (m == NULL || stats == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < NW_SINK_COUNT; i++) {
        if (!stats[i].enabled || stats[i].name == NULL)
            continue;
        const char *l[] = {stats[i].name};
        set_value(m, F_SINK_DELIVERED, l, (double)stats[i].delivered);
        set_value(m, F_SINK_FAILED, l, (double)stats[i].failed);
        set_value(m, F_SINK_RETRIES, l, (double)stats[i].retries);
        set_value(m, F_SINK_DROPPED, l, (double)stats[i].dropped);
        set_value(m, F_SINK_QUEUE, l, (double)stats[i].pending);
    }
    pthread_mutex_unlock(&m->lock);
}

void nw_metrics_set_collector(nw_metrics *m, void (*fn)(nw_metrics *, void *), void *arg)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    m->collector = fn;
    m->collector_arg = arg;
    pthread_mutex_unlock(&m->lock);
}

/* ---- librdkafka's statistics ----------------------------------------------- */

/* A whole number member of o, or def when missing or not one. */
static long long int_member(const json_t *o, const char *key, long long def)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : def;
}

nw_err nw_metrics_kafka_stats(nw_metrics *m, const char *json, size_t len, char *errbuf,
                              size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    if (root == NULL)
        return nw_set_error(errbuf, errlen, NW_EJSON, "librdkafka statistics: not valid JSON: %s",
                            jerr.text);
    const char *name = json_string_value(json_object_get(root, "name"));
    const char *type = json_string_value(json_object_get(root, "type"));
    json_t *topics = json_object_get(root, "topics");
    if (name == NULL || type == NULL || (topics != NULL && !json_is_object(topics))) {
        json_decref(root);
        return nw_set_error(errbuf, errlen, NW_EJSON,
                            "librdkafka statistics: no client name and type, or 'topics' is not "
                            "an object");
    }
    if (m == NULL || strcmp(type, "consumer") != 0) {
        json_decref(root);
        return NW_OK;
    }
    pthread_mutex_lock(&m->lock);
    family *f = &m->fam[F_LAG];
    for (size_t i = 0; i < f->n; i++)
        f->s[i].seen = false;
    const char *topic;
    json_t *t;
    json_object_foreach(topics, topic, t)
    {
        json_t *parts = json_object_get(t, "partitions");
        const char *pkey;
        json_t *p;
        json_object_foreach(parts, pkey, p)
        {
            long long partition = int_member(p, "partition", -1);
            long long lag = int_member(p, "consumer_lag", -1);
            if (partition < 0 || lag < 0)
                continue;
            char pbuf[24];
            snprintf(pbuf, sizeof pbuf, "%lld", partition);
            const char *l[] = {topic, pbuf};
            series *s = get(m, F_LAG, l);
            if (s == NULL)
                continue;
            s->value = (double)lag;
            s->seen = true;
            if (s->owner == NULL || strcmp(s->owner, name) != 0) {
                free(s->owner);
                s->owner = strdup(name);
            }
        }
    }
    /* What this client reported before and not now (revoked, lag unknown) goes. */
    size_t k = 0;
    for (size_t i = 0; i < f->n; i++) {
        series *s = &f->s[i];
        if (!s->seen && s->owner != NULL && strcmp(s->owner, name) == 0)
            free_series(s);
        else
            f->s[k++] = *s;
    }
    f->n = k;
    pthread_mutex_unlock(&m->lock);
    json_decref(root);
    return NW_OK;
}

/* ---- health and readiness -------------------------------------------------- */

void nw_metrics_heartbeat(nw_metrics *m)
{
    if (m == NULL)
        return;
    double now = mono_ms();
    pthread_mutex_lock(&m->lock);
    m->beat_ms = now;
    pthread_mutex_unlock(&m->lock);
}

void nw_metrics_set_assigned(nw_metrics *m, nw_metrics_stage stage, bool assigned)
{
    if (m == NULL || !valid_stage(stage))
        return;
    pthread_mutex_lock(&m->lock);
    m->assigned[stage] = assigned;
    pthread_mutex_unlock(&m->lock);
}

void nw_metrics_set_broker(nw_metrics *m, bool reachable)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    m->broker_down = !reachable;
    pthread_mutex_unlock(&m->lock);
}

void nw_metrics_set_held(nw_metrics *m, unsigned long partitions)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    m->held = partitions;
    pthread_mutex_unlock(&m->lock);
}

void nw_metrics_set_stopping(nw_metrics *m)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    m->stopping = true;
    pthread_mutex_unlock(&m->lock);
}

bool nw_metrics_alive(nw_metrics *m, long stale_ms, char *why, size_t len)
{
    if (m == NULL) {
        snprintf(why, len, "no metrics");
        return false;
    }
    double now = mono_ms();
    pthread_mutex_lock(&m->lock);
    double age = now - m->beat_ms;
    pthread_mutex_unlock(&m->lock);
    if (age <= (double)stale_ms)
        return true;
    snprintf(why, len, "the main loop has not run for %.0f s (limit %ld s)", age / 1000.0,
             stale_ms / 1000);
    return false;
}

/* Readiness with the lock held. */
static bool ready_locked(const nw_metrics *m, char *why, size_t len)
{
    if (m->stopping) {
        snprintf(why, len, "stopping");
        return false;
    }
    if (m->broker_down) {
        snprintf(why, len, "broker unreachable");
        return false;
    }
    for (int st = 0; st < NW_METRICS_STAGE_COUNT; st++)
        if ((m->stages & NW_METRICS_STAGE_BIT(st)) && !m->assigned[st]) {
            snprintf(why, len, "%s: not assigned", stage_names[st]);
            return false;
        }
    if (m->held > 0 && m->feeds) {
        snprintf(why, len, "feeds: state not restored");
        return false;
    }
    if (m->held > 0) {
        snprintf(why, len, "alert: state not restored (%lu partition%s held)", m->held,
                 m->held == 1 ? "" : "s");
        return false;
    }
    snprintf(why, len, "ready");
    return true;
}

bool nw_metrics_ready(nw_metrics *m, char *why, size_t len)
{
    if (m == NULL) {
        snprintf(why, len, "no metrics");
        return false;
    }
    pthread_mutex_lock(&m->lock);
    bool ok = ready_locked(m, why, len);
    pthread_mutex_unlock(&m->lock);
    return ok;
}

/* ---- the text exposition format 0.0.4 -------------------------------------- */

typedef struct buf {
    char *p;
    size_t len, cap;
    bool oom;
} buf;

static void buf_add(buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (np == NULL) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

/* HELP text: backslash and newline escaped; label values: the double quote too. */
static void buf_escaped(buf *b, const char *s, bool quote)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            buf_str(b, "\\\\");
        else if (*s == '\n')
            buf_str(b, "\\n");
        else if (*s == '"' && quote)
            buf_str(b, "\\\"");
        else
            buf_add(b, s, 1);
    }
}

/* A sample value as Prometheus reads it: +Inf, -Inf, NaN, or the shortest exact decimal. */
static void format_value(double v, char *out, size_t len)
{
    if (isnan(v))
        snprintf(out, len, "NaN");
    else if (isinf(v))
        snprintf(out, len, "%s", v > 0 ? "+Inf" : "-Inf");
    else if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
        snprintf(out, len, "%.0f", v);
    else {
        snprintf(out, len, "%.15g", v);
        if (strtod(out, NULL) != v)
            snprintf(out, len, "%.17g", v);
    }
}

/* name{labels[,le="..."]} value */
static void sample(buf *b, const char *name, const char *suffix, const family_def *d,
                   const series *s, const char *le, double v)
{
    char num[64];
    buf_str(b, name);
    buf_str(b, suffix);
    size_t nl = nlabels(d);
    if (nl > 0 || le != NULL) {
        buf_str(b, "{");
        for (size_t k = 0; k < nl; k++) {
            if (k > 0)
                buf_str(b, ",");
            buf_str(b, d->labels[k]);
            buf_str(b, "=\"");
            buf_escaped(b, s->label[k], true);
            buf_str(b, "\"");
        }
        if (le != NULL) {
            buf_str(b, nl > 0 ? ",le=\"" : "le=\"");
            buf_str(b, le);
            buf_str(b, "\"");
        }
        buf_str(b, "}");
    }
    format_value(v, num, sizeof num);
    buf_str(b, " ");
    buf_str(b, num);
    buf_str(b, "\n");
}

static void render_family(buf *b, const family_def *d, const family *f)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    buf_str(b, "# HELP ");
    buf_str(b, d->name);
    buf_str(b, " ");
    buf_escaped(b, d->help, false);
    buf_str(b, "\n# TYPE ");
    buf_str(b, d->name);
    buf_str(b, " ");
    buf_str(b, type_names[d->type]);
    buf_str(b, "\n");
    for (size_t i = 0; i < f->n; i++) {
        const series *s = &f->s[i];
        if (d->type != HISTOGRAM) {
            sample(b, d->name, "", d, s, NULL, s->value);
            continue;
        }
        double cum = 0;
        char le[64];
        for (size_t k = 0; k < d->nbuckets; k++) {
            cum += s->bucket[k];
            format_value(d->buckets[k], le, sizeof le);
            sample(b, d->name, "_bucket", d, s, le, cum);
        }
        sample(b, d->name, "_bucket", d, s, "+Inf", s->count);
        sample(b, d->name, "_sum", d, s, NULL, s->sum);
        sample(b, d->name, "_count", d, s, NULL, s->count);
    }
}

/* Whether the process shows family id: the daemon's or the feed poller's, and what both have. */
static bool family_shown(const nw_metrics *m, int id)
{
    bool common = id == F_BUILD_INFO || id == F_START_TIME || id == F_READY || id == F_BROKER;
    bool feed = id >= F_FEED_POLLS && id <= F_FEED_FETCH;
    return common || feed == m->feeds;
}

nw_err nw_metrics_render(nw_metrics *m, char **out, size_t *len, char *errbuf, size_t errlen)
{
    *out = NULL;
    *len = 0;
    if (m == NULL)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "no metrics");
    pthread_mutex_lock(&m->lock);
    void (*fn)(nw_metrics *, void *) = m->collector;
    void *arg = m->collector_arg;
    pthread_mutex_unlock(&m->lock);
    if (fn != NULL)
        fn(m, arg);
    buf b = {0};
    char why[128];
    const char *none[1] = {NULL};
    pthread_mutex_lock(&m->lock);
    set_value(m, F_READY, none, ready_locked(m, why, sizeof why) ? 1 : 0);
    set_value(m, F_BROKER, none, m->broker_down ? 0 : 1);
    if (!m->feeds)
        set_value(m, F_HELD, none, (double)m->held);
    for (int st = 0; st < NW_METRICS_STAGE_COUNT; st++)
        if (m->stages & NW_METRICS_STAGE_BIT(st)) {
            const char *l[] = {stage_names[st]};
            set_value(m, F_ASSIGNED, l, m->assigned[st] ? 1 : 0);
        }
    for (int id = 0; id < F_COUNT; id++)
        if (family_shown(m, id))
            render_family(&b, &defs[id], &m->fam[id]);
    pthread_mutex_unlock(&m->lock);
    if (b.oom || b.p == NULL) {
        free(b.p);
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    }
    *out = b.p;
    *len = b.len;
    return NW_OK;
}
