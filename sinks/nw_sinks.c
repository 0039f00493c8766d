#include "nw_sinks.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "newswatch/str.h"
#include "newswatch/version.h"

#define AM_ALERTNAME    "NewswatchTrackedEvent"
#define AM_PATH         "/api/v2/alerts"
#define DEFAULT_GEN_URL "http://127.0.0.1/newswatch"

/* One alert waiting in an HTTP sink's queue; owns its strings. */
typedef struct job {
    char *alert_id;
    char *body;
    size_t body_len;
    int resend; /* a resend of the incidents' alerts: a newer one replaces it in the queue */
} job;

typedef enum post_result { POST_OK, POST_RETRY, POST_REJECTED, POST_ABORTED } post_result;

/* An HTTP sink: a worker thread, its queue and its curl handle. */
typedef struct http_sink {
    const nw_sinks *owner;
    const char *name;
    char *url;                  /* the endpoint posted to */
    char where[256];            /* scheme://host[:port] of url, for messages: no secrets */
    struct curl_slist *headers; /* headers every request carries */
    int idempotency_key;        /* add Idempotency-Key: <alert id> */
    CURL *curl;
    char curl_err[CURL_ERROR_SIZE];
    char reply[256]; /* the start of the response body, for messages */
    size_t reply_len;
    uint64_t rng; /* jitter; the worker's only */

    pthread_mutex_t mu;
    pthread_cond_t wake; /* to the worker: work, or stop */
    pthread_cond_t idle; /* to flushers: the queue drained */
    int sync_ready;      /* mu and the conds are initialised */
    pthread_t thread;
    int started;
    job *ring; /* queue of cap jobs, count of them from head; under mu */
    size_t cap, head, count;
    int busy;     /* the worker holds a job; under mu */
    int stopping; /* no more work: the worker drops what is queued and exits; under mu */
    atomic_int abort_now;

    atomic_ullong delivered, failed, retries, dropped, pending;
} http_sink;

struct nw_sinks {
    char program[64];
    FILE *out;
    int stdout_enabled;
    atomic_ullong out_delivered, out_failed;
    http_sink *http[NW_SINK_COUNT]; /* [NW_SINK_ALERTMANAGER], [NW_SINK_WEBHOOK]; NULL when off */
    char generator_url[NW_SINKS_URL_MAX];
    int attempts, backoff_ms, backoff_max_ms, timeout_ms;
    int am_resend_ms;
    atomic_llong last_resend_ms; /* monotonic; -1 before the first resend */
};

static const char *const sink_names[NW_SINK_COUNT] = {"stdout", "alertmanager", "webhook"};

/* ---- configuration ---------------------------------------------------- */

void nw_sinks_config_init(nw_sinks_config *c)
{
    memset(c, 0, sizeof *c);
    c->stdout_enabled = 1;
    c->retry_attempts = 5;
    c->backoff_ms = 200;
    c->backoff_max_ms = 10000;
    c->timeout_ms = 5000;
    c->queue_size = 1000;
    c->am_resend_ms = 60000;
    snprintf(c->generator_url, sizeof c->generator_url, "%s", DEFAULT_GEN_URL);
    snprintf(c->program, sizeof c->program, "newswatch");
}

/* NULL when url is an acceptable http(s) URL, else why not. */
static const char *url_problem(const char *url)
{
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return "must start with http:// or https://";
    const char *host = strstr(url, "://") + 3;
    if (*host == '\0' || *host == '/')
        return "has no host";
    for (const char *p = url; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch <= ' ' || ch == 0x7f)
            return "contains white space or a control character (percent-encode it)";
    }
    if (strlen(url) >= NW_SINKS_URL_MAX)
        return "is too long";
    return NULL;
}

/*
 * scheme://host[:port] of an http(s) URL, without user info: what messages
 * show, since a webhook's path, query or user info may hold a secret.
 */
static void url_origin(const char *url, char *out, size_t len)
{
    const char *sep = strstr(url, "://");
    const char *host = sep != NULL ? sep + 3 : url;
    size_t n = strcspn(host, "/?#");
    const char *at = memchr(host, '@', n);
    if (at != NULL) {
        n -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    snprintf(out, len, "%.*s%.*s", sep != NULL ? (int)(sep + 3 - url) : 0, url, (int)n, host);
}

/* An HTTP token character (RFC 9110), as allowed in header names. */
static int is_tchar(unsigned char ch)
{
    return isalnum(ch) || (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/*
 * Checks a "Name: value" header and writes it normalised ("Name: value",
 * white space around both trimmed) into out. NULL on success, else why not.
 */
static const char *header_problem(const char *h, char *out, size_t outlen)
{
    const char *colon = strchr(h, ':');
    if (colon == NULL)
        return "must be 'Name: value' (no ':' found)";
    const char *name = h;
    const char *name_end = colon;
    while (name < name_end && isspace((unsigned char)*name))
        name++;
    while (name_end > name && isspace((unsigned char)name_end[-1]))
        name_end--;
    if (name == name_end)
        return "has an empty header name before ':'";
    for (const char *p = name; p < name_end; p++)
        if (!is_tchar((unsigned char)*p))
            return "has a header name with a character HTTP does not allow (letters, digits and "
                   "!#$%&'*+-.^_`|~ only)";
    size_t nlen = (size_t)(name_end - name);
    if ((nlen == 12 && strncasecmp(name, "Content-Type", nlen) == 0) ||
        (nlen == 15 && strncasecmp(name, "Idempotency-Key", nlen) == 0))
        return "sets a header newswatch sets itself (Content-Type, Idempotency-Key)";
    const char *value = colon + 1;
    const char *value_end = value + strlen(value);
    while (value < value_end && isspace((unsigned char)*value))
        value++;
    while (value_end > value && isspace((unsigned char)value_end[-1]))
        value_end--;
    for (const char *p = value; p < value_end; p++)
        if ((unsigned char)*p < ' ' && *p != '\t')
            return "has a control character in its value";
    int n = snprintf(out, outlen, "%.*s: %.*s", (int)nlen, name, (int)(value_end - value), value);
    if (n < 0 || (size_t)n >= outlen)
        return "is too long";
    return NULL;
}

/* Parses "true" or "false"; 0 on success. */
static int parse_bool(const char *v, int *out)
{
    if (strcmp(v, "true") == 0)
        *out = 1;
    else if (strcmp(v, "false") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

nw_err nw_sinks_config_apply(nw_sinks_config *c, const nw_kvconf *conf, char *errbuf, size_t errlen)
{
    if (conf == NULL)
        return NW_OK;
    const nw_kvconf_entry *backoff_line = NULL; /* the later of the two backoff keys */
    for (size_t i = 0; i < nw_kvconf_count(conf); i++) {
        const nw_kvconf_entry *e = nw_kvconf_at(conf, i);
        if (strcmp(e->section, "sinks") != 0)
            continue;
        const char *k = e->key, *v = e->value;
        const char *why;
        long n;
        if (strcmp(k, "stdout") == 0) {
            if (parse_bool(v, &c->stdout_enabled) != 0)
                return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                    "%s:%u: stdout must be true or false, not '%s'", e->file,
                                    e->line, v);
        } else if (strcmp(k, "alertmanager.url") == 0 || strcmp(k, "webhook.url") == 0 ||
                   strcmp(k, "generator.url") == 0) {
            char *dst = k[0] == 'a'   ? c->alertmanager_url
                        : k[0] == 'w' ? c->webhook_url
                                      : c->generator_url;
            if (v[0] != '\0' && (why = url_problem(v)) != NULL)
                return nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: %s '%s' %s", e->file,
                                    e->line, k, v, why);
            if (v[0] == '\0' && k[0] == 'g')
                return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                    "%s:%u: generator.url must not be empty", e->file, e->line);
            snprintf(dst, NW_SINKS_URL_MAX, "%s", v);
        } else if (strcmp(k, "webhook.header") == 0) {
            if (c->webhook_header_count == NW_SINKS_HEADERS_MAX)
                return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                    "%s:%u: too many webhook.header lines (at most %d)", e->file,
                                    e->line, NW_SINKS_HEADERS_MAX);
            why =
                header_problem(v, c->webhook_headers[c->webhook_header_count], NW_SINKS_HEADER_MAX);
            if (why != NULL)
                return nw_set_error(
                    errbuf, errlen, NW_ECONFIG,
                    "%s:%u: webhook.header %s (the value is not shown: it may hold a secret)",
                    e->file, e->line, why);
            c->webhook_header_count++;
        } else if (strcmp(k, "retry.attempts") == 0) {
            if (!nw_parse_long(v, 1, 100, &n))
                return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                    "%s:%u: retry.attempts must be a whole number from 1 to 100 "
                                    "(tries per alert, the first included), not '%s'",
                                    e->file, e->line, v);
            c->retry_attempts = (int)n;
        } else if (strcmp(k, "retry.backoff.ms") == 0 || strcmp(k, "retry.backoff.max.ms") == 0) {
            if (!nw_parse_long(v, 1, 3600000, &n))
                return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                    "%s:%u: %s must be a whole number of milliseconds from 1 to "
                                    "3600000, not '%s'",
                                    e->file, e->line, k, v);
            if (strcmp(k, "retry.backoff.ms") == 0)
                c->backoff_ms = (int)n;
            else
                c->backoff_max_ms = (int)n;
            backoff_line = e;
        } else if (strcmp(k, "timeout.ms") == 0) {
            if (!nw_parse_long(v, 100, 600000, &n))
                return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                    "%s:%u: timeout.ms must be a whole number of milliseconds "
                                    "from 100 to 600000, not '%s'",
                                    e->file, e->line, v);
            c->timeout_ms = (int)n;
        } else if (strcmp(k, "alertmanager.resend.ms") == 0) {
            if (!nw_parse_long(v, 100, 86400000, &n))
                return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                    "%s:%u: alertmanager.resend.ms must be a whole number of "
                                    "milliseconds from 100 to 86400000, not '%s'",
                                    e->file, e->line, v);
            c->am_resend_ms = (int)n;
        } else if (strcmp(k, "queue.size") == 0) {
            if (!nw_parse_long(v, 1, 1000000, &n))
                return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                    "%s:%u: queue.size must be a whole number of alerts from 1 "
                                    "to 1000000, not '%s'",
                                    e->file, e->line, v);
            c->queue_size = (size_t)n;
        } else {
            static const char *const known[] = {"stdout",
                                                "alertmanager.url",
                                                "webhook.url",
                                                "webhook.header",
                                                "retry.attempts",
                                                "retry.backoff.ms",
                                                "retry.backoff.max.ms",
                                                "timeout.ms",
                                                "queue.size",
                                                "generator.url",
                                                "alertmanager.resend.ms",
                                                NULL};
            char near[128];
            return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                "%s:%u: unknown key '%s' in [sinks]%s (known: stdout, "
                                "alertmanager.url, webhook.url, webhook.header, retry.attempts, "
                                "retry.backoff.ms, retry.backoff.max.ms, timeout.ms, queue.size, "
                                "generator.url, alertmanager.resend.ms)",
                                e->file, e->line, k,
                                nw_kvconf_did_you_mean(k, known, near, sizeof near));
        }
    }
    if (backoff_line != NULL && c->backoff_max_ms < c->backoff_ms)
        return nw_set_error(errbuf, errlen, NW_ECONFIG,
                            "%s:%u: retry.backoff.max.ms (%d) is below retry.backoff.ms (%d)",
                            backoff_line->file, backoff_line->line, c->backoff_max_ms,
                            c->backoff_ms);
    return NW_OK;
}

/* ---- helpers ---------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timespec deadline_ts(int64_t deadline_ms)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(deadline_ms / 1000);
    ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000;
    return ts;
}

static void log_sink(const nw_sinks *s, const char *sink, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One line on stderr: "<program>: sink <name>: <message>". */
static void log_sink(const nw_sinks *s, const char *sink, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: sink %s: %s\n", s->program, sink, msg);
}

static const char *or_empty(const char *s)
{
    return s != NULL ? s : "";
}

static int digits(const char *p, int n)
{
    for (int i = 0; i < n; i++)
        if (!isdigit((unsigned char)p[i]))
            return 0;
    return 1;
}

/*
 * Whether s looks like an RFC 3339 date-time Alertmanager accepts:
 * YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM).
 */
static int is_rfc3339(const char *s)
{
    if (s == NULL || strlen(s) < 20)
        return 0;
    if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2) ||
        s[10] != 'T' || !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2) || s[16] != ':' ||
        !digits(s + 17, 2))
        return 0;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (strcmp(p, "Z") == 0)
        return 1;
    return (p[0] == '+' || p[0] == '-') && digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2) &&
           p[6] == '\0';
}

/* Sets o[key] = value; returns 1 when value is not valid UTF-8 (or memory ran out). */
static int put(json_t *o, const char *key, const char *value)
{
    return json_object_set_new(o, key, json_string(or_empty(value))) != 0;
}

/* RFC 3339 (UTC, seconds) of t into out[32]. */
static void format_time(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Appends text to a NUL-terminated buf[cap]; returns 1 when it did not fit. */
static int append(char *buf, size_t cap, const char *text)
{
    size_t n = strlen(buf);
    int w = snprintf(buf + n, cap - n, "%s", text);
    return w < 0 || (size_t)w >= cap - n;
}

/*
 * One alert of the Alertmanager API v2: labels alertname, event, incident,
 * severity, kind, (for an update) sequence and the event's routing labels;
 * annotations with what a pager shows. starts_at and ends_at are RFC 3339.
 * NULL when a string is not UTF-8 or memory ran out.
 */
static json_t *am_alert(const nw_sinks *s, const nw_incident_alert *a, const char *status,
                        const char *starts_at, const char *ends_at)
{
    json_t *labels = json_object(), *ann = json_object(), *alert = json_object();
    int bad = labels == NULL || ann == NULL || alert == NULL;
    if (!bad) {
        char buf[256];
        bad |= put(labels, "alertname", AM_ALERTNAME);
        bad |= put(labels, "event", a->event_id);
        if (a->incident[0] != '\0')
            bad |= put(labels, "incident", a->incident);
        bad |= put(labels, "severity", a->severity);
        bad |= put(labels, "kind", a->update ? "update" : "incident");
        if (a->update) {
            snprintf(buf, sizeof buf, "%u", a->sequence);
            bad |= put(labels, "sequence", buf);
        }
        for (size_t i = 0; i < a->nlabels; i++)
            bad |= put(labels, a->labels[i].name, a->labels[i].value);

        bad |= put(ann, "title", a->title);
        if (a->title_ar != NULL && a->title_ar[0] != '\0')
            bad |= put(ann, "title_ar", a->title_ar);
        bad |= put(ann, "summary",
                   a->doc_title != NULL && a->doc_title[0] != '\0' ? a->doc_title : a->title);
        bad |= put(ann, "description", a->evidence);
        bad |= put(ann, "evidence", a->evidence);
        if (a->reasons != NULL && a->reasons[0] != '\0')
            bad |= put(ann, "reasons", a->reasons);
        buf[0] = '\0';
        if (a->killed >= 0)
            snprintf(buf, sizeof buf, "%d killed", a->killed);
        if (a->wounded >= 0)
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%d wounded",
                     buf[0] != '\0' ? ", " : "", a->wounded);
        if (buf[0] != '\0')
            bad |= put(ann, "casualties", buf);
        if (a->claim)
            bad |= put(ann, "claim", "responsibility claimed");
        snprintf(buf, sizeof buf, "%u", a->reports);
        bad |= put(ann, "reports", buf);
        bad |= put(ann, "doc_id", a->doc_id);
        if (a->url != NULL && a->url[0] != '\0')
            bad |= put(ann, "url", a->url);
        char docs[2048] = "";
        for (size_t i = 0; i < a->ndocs; i++) {
            const char *id = a->doc_ids[i], *url = a->doc_urls[i];
            if ((id == NULL || id[0] == '\0') && (url == NULL || url[0] == '\0'))
                continue;
            if (docs[0] != '\0' && append(docs, sizeof docs, "\n"))
                break;
            if (append(docs, sizeof docs, or_empty(id)) ||
                (url != NULL && url[0] != '\0' &&
                 (append(docs, sizeof docs, " ") || append(docs, sizeof docs, url)))) {
                char *nl = strrchr(docs, '\n'); /* drop the line that did not fit */
                *(nl != NULL ? nl : docs) = '\0';
                break;
            }
        }
        if (docs[0] != '\0')
            bad |= put(ann, "documents", docs);
        bad |= put(ann, "alert_id", a->alert_id);
        bad |= put(ann, "status", status);
        bad |= put(alert, "startsAt", starts_at);
        bad |= put(alert, "endsAt", ends_at);
        bad |= put(alert, "generatorURL", s->generator_url);
        bad |= json_object_set(alert, "labels", labels) != 0;
        bad |= json_object_set(alert, "annotations", ann) != 0;
    }
    json_decref(labels);
    json_decref(ann);
    if (bad) {
        json_decref(alert);
        return NULL;
    }
    return alert;
}

static int64_t wall_s(void)
{
    return (int64_t)time(NULL);
}

/* endsAt of a firing alert posted at now: NW_SINKS_AM_LIFETIME resend intervals ahead. */
static int64_t firing_ends(const nw_sinks *s, int64_t now)
{
    int64_t ahead = ((int64_t)s->am_resend_ms * NW_SINKS_AM_LIFETIME + 999) / 1000;
    return now + (ahead > 0 ? ahead : 1);
}

static const char *json_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/*
 * The Alertmanager API v2 request body for a new or updated incident: a JSON
 * array of one alert, the incident's (new) or the update's, as
 * nw_sinks_resend will re-post it. The facts come from the alert's JSON
 * (newswatch.alert/2), else from the view.
 */
static char *alertmanager_body(const nw_sinks *s, const nw_alert_view *v)
{
    json_error_t jerr;
    json_t *o = v->json != NULL ? json_loadb(v->json, v->json_len, 0, &jerr) : NULL;
    nw_incident_alert a;
    memset(&a, 0, sizeof a);
    a.event_id = v->event != NULL ? v->event : or_empty(json_str(o, "event"));
    a.severity = v->severity != NULL ? v->severity : or_empty(json_str(o, "severity"));
    const char *title = json_str(o, "title");
    a.title = title != NULL ? title : or_empty(v->event);
    a.title_ar = or_empty(json_str(o, "title_ar"));
    a.alert_id = or_empty(v->alert_id);
    const char *status = or_empty(v->status);
    a.update = strcmp(status, "update") == 0;
    /* incident and sequence: the JSON's, else the alert id's "<event>:<incident>:<sequence>" */
    const char *inc = json_str(o, "incident");
    json_t *seq = json_object_get(o, "sequence");
    const char *last = strrchr(a.alert_id, ':');
    if (inc == NULL && last != NULL) {
        const char *prev = last;
        while (prev > a.alert_id && prev[-1] != ':')
            prev--;
        if (prev > a.alert_id && (size_t)(last - prev) < sizeof a.incident)
            snprintf(a.incident, sizeof a.incident, "%.*s", (int)(last - prev), prev);
    } else if (inc != NULL) {
        snprintf(a.incident, sizeof a.incident, "%s", inc);
    }
    a.sequence = json_is_integer(seq) ? (unsigned)json_integer_value(seq)
                 : last != NULL && isdigit((unsigned char)last[1])
                     ? (unsigned)strtoul(last + 1, NULL, 10)
                     : 1;
    json_t *cas = json_object_get(o, "casualties");
    json_t *k = json_object_get(cas, "killed"), *w = json_object_get(cas, "wounded");
    a.killed = json_is_integer(k) ? (int)json_integer_value(k) : -1;
    a.wounded = json_is_integer(w) ? (int)json_integer_value(w) : -1;
    a.claim = json_is_true(json_object_get(o, "claim"));
    json_t *rep = json_object_get(o, "reports");
    a.reports = json_is_integer(rep) ? (unsigned)json_integer_value(rep) : 1;
    a.reasons = or_empty(json_str(o, "reasons"));
    a.evidence = or_empty(v->evidence != NULL ? v->evidence : json_str(o, "evidence"));
    a.doc_id = or_empty(v->doc_id != NULL ? v->doc_id : json_str(o, "doc_id"));
    /* the view's title is the event's in the daemon: the document's comes from the JSON */
    a.doc_title = or_empty(json_str(o, "doc_title") != NULL ? json_str(o, "doc_title") : v->title);
    a.url = or_empty(v->url != NULL ? v->url : json_str(o, "url"));
    a.doc_ids[0] = a.doc_id;
    a.doc_urls[0] = a.url;
    a.ndocs = 1;
    nw_label labels[NW_EVENT_LABELS_MAX];
    const char *name;
    json_t *lv;
    json_object_foreach(json_object_get(o, "labels"), name, lv)
    {
        if (a.nlabels < NW_EVENT_LABELS_MAX && json_is_string(lv)) {
            labels[a.nlabels].name = name;
            labels[a.nlabels].value = json_string_value(lv);
            a.nlabels++;
        }
    }
    a.labels = labels;
    int64_t now = wall_s();
    char starts[32], ends[32];
    format_time(now, starts);
    if (is_rfc3339(v->detected_at)) /* the decision's own time */
        snprintf(starts, sizeof starts, "%s", v->detected_at);
    format_time(firing_ends(s, now), ends);
    json_t *alert = am_alert(s, &a, status, starts, ends);
    json_t *arr = json_array();
    char *body = NULL;
    if (alert != NULL && arr != NULL && json_array_append(arr, alert) == 0)
        body = json_dumps(arr, JSON_COMPACT);
    json_decref(alert);
    json_decref(arr);
    json_decref(o);
    return body;
}

static void job_clear(job *j)
{
    free(j->alert_id);
    free(j->body);
    j->alert_id = j->body = NULL;
}

/* ---- the HTTP worker -------------------------------------------------- */

static size_t on_reply(char *data, size_t size, size_t nmemb, void *userdata)
{
    http_sink *h = userdata;
    size_t n = size * nmemb;
    size_t room = sizeof h->reply - 1 - h->reply_len;
    size_t take = n < room ? n : room;
    memcpy(h->reply + h->reply_len, data, take);
    h->reply_len += take;
    return n;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    http_sink *h = userdata;
    return atomic_load(&h->abort_now) ? 1 : 0;
}

/* The response body so far, on one line, for a message. */
static void reply_text(http_sink *h, char *out, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < h->reply_len && n + 1 < len; i++) {
        unsigned char ch = (unsigned char)h->reply[i];
        out[n++] = ch < ' ' || ch == 0x7f ? ' ' : (char)ch;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

/*
 * One POST of j. POST_RETRY for a network error, a timeout, 408, 429 or 5xx
 * (*retry_after_ms from a Retry-After header, else 0); POST_REJECTED for any
 * other non-2xx status. why says what happened.
 */
static post_result post(http_sink *h, const job *j, char *why, size_t whylen, long *retry_after_ms)
{
    *retry_after_ms = 0;
    struct curl_slist *extra = NULL;
    if (h->idempotency_key) {
        size_t n = strlen(j->alert_id) + sizeof "Idempotency-Key: ";
        char *line = malloc(n);
        if (line == NULL) {
            snprintf(why, whylen, "out of memory");
            return POST_RETRY;
        }
        snprintf(line, n, "Idempotency-Key: %s", j->alert_id);
        for (char *p = line; *p != '\0'; p++) /* keep the header on its line */
            if ((unsigned char)*p < ' ' || (unsigned char)*p == 0x7f)
                *p = '_';
        extra = curl_slist_append(NULL, line);
        free(line);
        if (extra == NULL) {
            snprintf(why, whylen, "out of memory");
            return POST_RETRY;
        }
        extra->next = h->headers; /* borrowed tail: unlinked before freeing */
    }
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, extra != NULL ? extra : h->headers);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, j->body);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body_len);
    h->reply_len = 0;
    h->curl_err[0] = '\0';
    CURLcode rc = curl_easy_perform(h->curl);
    if (extra != NULL) {
        extra->next = NULL;
        curl_slist_free_all(extra);
    }
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
        snprintf(why, whylen, "aborted at shutdown");
        return POST_ABORTED;
    }
    if (rc != CURLE_OK) {
        snprintf(why, whylen, "%s", h->curl_err[0] != '\0' ? h->curl_err : curl_easy_strerror(rc));
        return POST_RETRY;
    }
    long status = 0;
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300)
        return POST_OK;
    char body[sizeof h->reply];
    reply_text(h, body, sizeof body);
    snprintf(why, whylen, "HTTP %ld%s%s", status, body[0] != '\0' ? ": " : "", body);
    if (status == 408 || status == 429 || status >= 500) {
        curl_off_t after = -1;
        if (curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0)
            *retry_after_ms = after > 3600 ? 3600000L : (long)after * 1000L;
        return POST_RETRY;
    }
    if (status >= 300 && status < 400)
        snprintf(why + strlen(why), whylen - strlen(why), " (redirects are not followed)");
    return POST_REJECTED;
}

static uint64_t next_random(http_sink *h)
{
    /* xorshift64* */
    h->rng ^= h->rng >> 12;
    h->rng ^= h->rng << 25;
    h->rng ^= h->rng >> 27;
    return h->rng * 2685821657736338717ULL;
}

/* The wait before retry number n (1, 2, ...): base doubling, capped, in [d/2, d]. */
static long backoff_ms(http_sink *h, int n, long retry_after_ms)
{
    const nw_sinks *s = h->owner;
    long d = s->backoff_ms;
    for (int i = 1; i < n && d < s->backoff_max_ms; i++)
        d *= 2;
    if (d > s->backoff_max_ms)
        d = s->backoff_max_ms;
    long half = d / 2;
    d = half + (long)(next_random(h) % (uint64_t)(d - half + 1));
    if (retry_after_ms > d)
        d = retry_after_ms < s->backoff_max_ms ? retry_after_ms : s->backoff_max_ms;
    return d;
}

/* Sleeps ms unless told to abort; returns nonzero when aborted. */
static int pause_ms(http_sink *h, long ms)
{
    int64_t deadline = now_ms() + ms;
    struct timespec ts = deadline_ts(deadline);
    pthread_mutex_lock(&h->mu);
    while (!atomic_load(&h->abort_now) && now_ms() < deadline)
        pthread_cond_timedwait(&h->wake, &h->mu, &ts);
    pthread_mutex_unlock(&h->mu);
    return atomic_load(&h->abort_now);
}

/* Delivers j with retries, counting the outcome. */
static void deliver(http_sink *h, const job *j)
{
    const nw_sinks *s = h->owner;
    char why[512];
    for (int attempt = 1;; attempt++) {
        long retry_after = 0;
        post_result r = post(h, j, why, sizeof why, &retry_after);
        if (r == POST_OK) {
            atomic_fetch_add(&h->delivered, 1);
            if (attempt > 1)
                log_sink(s, h->name, "alert %s delivered on attempt %d", j->alert_id, attempt);
            return;
        }
        if (r == POST_REJECTED) {
            atomic_fetch_add(&h->failed, 1);
            log_sink(s, h->name, "alert %s rejected by %s: %s (not retried)", j->alert_id, h->where,
                     why);
            return;
        }
        if (r == POST_ABORTED || atomic_load(&h->abort_now)) {
            atomic_fetch_add(&h->dropped, 1);
            log_sink(s, h->name, "alert %s not delivered: shutting down (%s)", j->alert_id, why);
            return;
        }
        if (attempt >= s->attempts) {
            atomic_fetch_add(&h->failed, 1);
            log_sink(s, h->name, "alert %s failed after %d attempt%s to %s: %s", j->alert_id,
                     attempt, attempt == 1 ? "" : "s", h->where, why);
            return;
        }
        long wait = backoff_ms(h, attempt, retry_after);
        log_sink(s, h->name, "alert %s: attempt %d of %d to %s failed: %s; retrying in %ld ms",
                 j->alert_id, attempt, s->attempts, h->where, why, wait);
        if (pause_ms(h, wait)) {
            atomic_fetch_add(&h->dropped, 1);
            log_sink(s, h->name, "alert %s not delivered: shutting down", j->alert_id);
            return;
        }
        atomic_fetch_add(&h->retries, 1);
    }
}

static void *worker(void *arg)
{
    http_sink *h = arg;
    for (;;) {
        pthread_mutex_lock(&h->mu);
        while (h->count == 0 && !h->stopping)
            pthread_cond_wait(&h->wake, &h->mu);
        if (h->stopping) {
            size_t left = h->count;
            while (h->count > 0) {
                job_clear(&h->ring[h->head]);
                h->head = (h->head + 1) % h->cap;
                h->count--;
            }
            atomic_fetch_add(&h->dropped, left);
            atomic_fetch_sub(&h->pending, left);
            pthread_cond_broadcast(&h->idle);
            pthread_mutex_unlock(&h->mu);
            if (left > 0)
                log_sink(h->owner, h->name, "shutting down: %zu queued alert%s not delivered", left,
                         left == 1 ? "" : "s");
            return NULL;
        }
        job j = h->ring[h->head];
        memset(&h->ring[h->head], 0, sizeof j);
        h->head = (h->head + 1) % h->cap;
        h->count--;
        h->busy = 1;
        pthread_mutex_unlock(&h->mu);

        deliver(h, &j);
        job_clear(&j);

        pthread_mutex_lock(&h->mu);
        h->busy = 0;
        atomic_fetch_sub(&h->pending, 1);
        if (h->count == 0)
            pthread_cond_broadcast(&h->idle);
        pthread_mutex_unlock(&h->mu);
    }
}

/* ---- sinks ------------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void init_curl(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void http_sink_free(http_sink *h)
{
    if (h == NULL)
        return;
    if (h->started) {
        pthread_mutex_lock(&h->mu);
        h->stopping = 1;
        atomic_store(&h->abort_now, 1);
        pthread_cond_broadcast(&h->wake);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->thread, NULL);
    }
    if (h->sync_ready) {
        pthread_cond_destroy(&h->idle);
        pthread_cond_destroy(&h->wake);
        pthread_mutex_destroy(&h->mu);
    }
    for (size_t i = 0; h->ring != NULL && i < h->count; i++)
        job_clear(&h->ring[(h->head + i) % h->cap]);
    free(h->ring);
    curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->headers);
    free(h->url);
    free(h);
}

static int init_sync(http_sink *h)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return -1;
    int rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0 && (rc = pthread_mutex_init(&h->mu, NULL)) == 0) {
        if ((rc = pthread_cond_init(&h->wake, &ca)) == 0) {
            if ((rc = pthread_cond_init(&h->idle, &ca)) != 0)
                pthread_cond_destroy(&h->wake);
        }
        if (rc != 0)
            pthread_mutex_destroy(&h->mu);
    }
    pthread_condattr_destroy(&ca);
    h->sync_ready = rc == 0;
    return rc == 0 ? 0 : -1;
}

/* Appends a header line to *list; -1 when out of memory. */
static int add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *l = curl_slist_append(*list, line);
    if (l == NULL)
        return -1;
    *list = l;
    return 0;
}

/*
 * Creates an HTTP sink posting to url with the given extra headers. The
 * worker thread is started by the caller.
 */
/*
 * The HTTP sinks, one entry each: a new sink is one entry here, its keys in
 * nw_sinks_config and the configuration table, and a page in docs/sinks.md.
 */
typedef struct sink_desc {
    nw_sink_kind kind;
    const char *(*url)(const nw_sinks_config *c); /* the configured URL; "" when off */
    char *(*endpoint)(const char *url);           /* the URL posted to (malloc'd); NULL: ENOMEM */
    /* headers beyond Content-Type (appended to *list); 0, or -1 when out of memory */
    int (*headers)(const nw_sinks_config *c, struct curl_slist **list);
    /* the request body for alert a (malloc'd, *len); NULL with *problem */
    char *(*body)(const nw_sinks *s, const nw_alert_view *a, size_t *len, const char **problem);
    int idempotency_key; /* add Idempotency-Key: <alert id> */
} sink_desc;

static const char *am_url(const nw_sinks_config *c)
{
    return c->alertmanager_url;
}

/* Alertmanager: a base URL; tolerate one that already ends in the API path. */
static char *am_endpoint(const char *url)
{
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    size_t plen = strlen(AM_PATH);
    int has_path = n >= plen && strncmp(url + n - plen, AM_PATH, plen) == 0;
    char *out = malloc(n + plen + 1);
    if (out != NULL)
        snprintf(out, n + plen + 1, "%.*s%s", (int)n, url, has_path ? "" : AM_PATH);
    return out;
}

static int am_headers(const nw_sinks_config *c, struct curl_slist **list)
{
    (void)c;
    return add_header(list, "Accept: application/json");
}

static char *am_body(const nw_sinks *s, const nw_alert_view *a, size_t *len, const char **problem)
{
    char *body = alertmanager_body(s, a);
    *len = body != NULL ? strlen(body) : 0;
    if (body == NULL)
        *problem = "cannot build the request (a field is not valid UTF-8, or out of memory)";
    return body;
}

static const char *webhook_url(const nw_sinks_config *c)
{
    return c->webhook_url;
}

static char *webhook_endpoint(const char *url)
{
    return nw_str_copy(url, strlen(url));
}

static int webhook_headers(const nw_sinks_config *c, struct curl_slist **list)
{
    for (size_t i = 0; i < c->webhook_header_count; i++)
        if (add_header(list, c->webhook_headers[i]) != 0)
            return -1;
    return 0;
}

/* The webhook: the alert's JSON as it is. */
static char *webhook_body(const nw_sinks *s, const nw_alert_view *a, size_t *len,
                          const char **problem)
{
    (void)s;
    if (a->json == NULL) {
        *problem = "no alert JSON";
        return NULL;
    }
    *len = a->json_len;
    char *body = nw_str_copy(a->json, a->json_len);
    if (body == NULL)
        *problem = "out of memory";
    return body;
}

static const sink_desc http_sinks[] = {
    {NW_SINK_ALERTMANAGER, am_url, am_endpoint, am_headers, am_body, 0},
    {NW_SINK_WEBHOOK, webhook_url, webhook_endpoint, webhook_headers, webhook_body, 1},
};

#define NHTTP (sizeof http_sinks / sizeof http_sinks[0])

static nw_err http_sink_new(nw_sinks *s, const nw_sinks_config *c, const sink_desc *d,
                            const char *url, http_sink **out, char *errbuf, size_t errlen)
{
    nw_sink_kind kind = d->kind;
    http_sink *h = calloc(1, sizeof *h);
    if (h == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "sink %s: out of memory", sink_names[kind]);
    h->owner = s;
    h->name = sink_names[kind];
    h->cap = c->queue_size;
    h->rng = (uint64_t)now_ms() * 6364136223846793005ULL ^ (uint64_t)(uintptr_t)h ^ (uint64_t)kind;
    if (h->rng == 0)
        h->rng = 88172645463325252ULL;
    atomic_init(&h->abort_now, 0);
    atomic_init(&h->delivered, 0);
    atomic_init(&h->failed, 0);
    atomic_init(&h->retries, 0);
    atomic_init(&h->dropped, 0);
    atomic_init(&h->pending, 0);

    h->idempotency_key = d->idempotency_key;
    h->url = d->endpoint(url);
    url_origin(url, h->where, sizeof h->where);
    int bad = h->url == NULL;
    bad = bad || add_header(&h->headers, "Content-Type: application/json") != 0;
    bad = bad || add_header(&h->headers, "Expect:") != 0; /* no 100-continue round trip */
    bad = bad || d->headers(c, &h->headers) != 0;
    h->ring = calloc(h->cap, sizeof *h->ring);
    if (bad || h->ring == NULL) {
        http_sink_free(h);
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "sink %s: out of memory", sink_names[kind]);
    }
    if (init_sync(h) != 0) {
        http_sink_free(h);
        return nw_set_error(errbuf, errlen, NW_ENOMEM,
                            "sink %s: cannot create a mutex or condition variable",
                            sink_names[kind]);
    }
    h->curl = curl_easy_init();
    if (h->curl == NULL) {
        http_sink_free(h);
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "sink %s: cannot create a libcurl handle",
                            sink_names[kind]);
    }
    CURL *cu = h->curl;
    curl_easy_setopt(cu, CURLOPT_URL, h->url);
    curl_easy_setopt(cu, CURLOPT_POST, 1L);
    curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(cu, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(cu, CURLOPT_USERAGENT, "newswatch/" NW_VERSION);
    curl_easy_setopt(cu, CURLOPT_ERRORBUFFER, h->curl_err);
    curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_reply);
    curl_easy_setopt(cu, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(cu, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(cu, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(cu, CURLOPT_XFERINFODATA, h);
    *out = h;
    return NW_OK;
}

nw_err nw_sinks_new(const nw_sinks_config *c, FILE *out, nw_sinks **sp, char *errbuf, size_t errlen)
{
    *sp = NULL;
    const char *why;
    if (c->retry_attempts < 1 || c->backoff_ms < 1 || c->backoff_max_ms < c->backoff_ms ||
        c->timeout_ms < 1 || c->queue_size < 1 || c->webhook_header_count > NW_SINKS_HEADERS_MAX)
        return nw_set_error(errbuf, errlen, NW_EINVAL,
                            "sinks: invalid settings (retry.attempts %d, retry.backoff.ms %d, "
                            "retry.backoff.max.ms %d, timeout.ms %d, queue.size %zu)",
                            c->retry_attempts, c->backoff_ms, c->backoff_max_ms, c->timeout_ms,
                            c->queue_size);
    bool any_http = false;
    for (size_t i = 0; i < NHTTP; i++) {
        const char *url = http_sinks[i].url(c);
        if (url[0] != '\0' && (why = url_problem(url)) != NULL)
            return nw_set_error(errbuf, errlen, NW_EINVAL, "sinks: %s.url '%s' %s",
                                sink_names[http_sinks[i].kind], url, why);
        any_http = any_http || url[0] != '\0';
    }

    nw_sinks *s = calloc(1, sizeof *s);
    if (s == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "sinks: out of memory");
    snprintf(s->program, sizeof s->program, "%s", c->program[0] != '\0' ? c->program : "newswatch");
    s->out = out != NULL ? out : stdout;
    s->stdout_enabled = c->stdout_enabled;
    atomic_init(&s->out_delivered, 0);
    atomic_init(&s->out_failed, 0);
    snprintf(s->generator_url, sizeof s->generator_url, "%s",
             c->generator_url[0] != '\0' ? c->generator_url : DEFAULT_GEN_URL);
    s->attempts = c->retry_attempts;
    s->backoff_ms = c->backoff_ms;
    s->backoff_max_ms = c->backoff_max_ms;
    s->timeout_ms = c->timeout_ms;
    s->am_resend_ms = c->am_resend_ms > 0 ? c->am_resend_ms : 60000;
    atomic_init(&s->last_resend_ms, -1);

    if (any_http) {
        pthread_once(&curl_once, init_curl);
        if (curl_init_rc != CURLE_OK) {
            free(s);
            return nw_set_error(errbuf, errlen, NW_ENOMEM, "sinks: cannot initialise libcurl: %s",
                                curl_easy_strerror(curl_init_rc));
        }
    }
    nw_err err = NW_OK;
    for (size_t i = 0; err == NW_OK && i < NHTTP; i++) {
        const char *url = http_sinks[i].url(c);
        if (url[0] != '\0')
            err = http_sink_new(s, c, &http_sinks[i], url, &s->http[http_sinks[i].kind], errbuf,
                                errlen);
    }

    /* Workers block every signal: they are for the program's own threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (int k = 0; err == NW_OK && k < NW_SINK_COUNT; k++) {
        http_sink *h = s->http[k];
        if (h == NULL)
            continue;
        int rc = pthread_create(&h->thread, NULL, worker, h);
        if (rc != 0)
            err = nw_set_error(errbuf, errlen, NW_ENOMEM, "sink %s: cannot start a thread: %s",
                               h->name, strerror(rc));
        else
            h->started = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != NW_OK) {
        for (int k = 0; k < NW_SINK_COUNT; k++)
            http_sink_free(s->http[k]);
        free(s);
        return err;
    }
    *sp = s;
    return NW_OK;
}

/*
 * Queues j (taking ownership) on h, dropping the oldest alert when full. A
 * resend replaces a resend still queued.
 */
static void enqueue(const nw_sinks *s, http_sink *h, job *j)
{
    job old = {NULL, NULL, 0, 0};
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; j->resend && i < h->count; i++) {
        job *q = &h->ring[(h->head + i) % h->cap];
        if (q->resend) {
            old = *q;
            *q = *j;
            pthread_mutex_unlock(&h->mu);
            job_clear(&old);
            return;
        }
    }
    if (h->count == h->cap) {
        old = h->ring[h->head];
        memset(&h->ring[h->head], 0, sizeof old);
        h->head = (h->head + 1) % h->cap;
        h->count--;
        atomic_fetch_add(&h->dropped, 1);
        atomic_fetch_sub(&h->pending, 1);
    }
    h->ring[(h->head + h->count) % h->cap] = *j;
    h->count++;
    atomic_fetch_add(&h->pending, 1);
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->mu);
    if (old.alert_id != NULL) {
        log_sink(s, h->name, "queue full (%zu): dropped the oldest alert, %s", h->cap,
                 old.alert_id);
        job_clear(&old);
    }
}

void nw_sinks_send(nw_sinks *s, const nw_alert_view *a)
{
    if (s == NULL || a == NULL)
        return;
    const char *id = or_empty(a->alert_id);
    if (s->stdout_enabled) {
        int ok = a->json != NULL;
        if (ok) {
            flockfile(s->out);
            ok = fwrite(a->json, 1, a->json_len, s->out) == a->json_len &&
                 putc_unlocked('\n', s->out) != EOF && fflush(s->out) == 0;
            funlockfile(s->out);
        }
        if (ok) {
            atomic_fetch_add(&s->out_delivered, 1);
        } else {
            atomic_fetch_add(&s->out_failed, 1);
            log_sink(s, "stdout", "alert %s not written: %s", id,
                     a->json == NULL ? "no alert JSON" : strerror(errno));
        }
    }
    for (size_t i = 0; i < NHTTP; i++) {
        http_sink *h = s->http[http_sinks[i].kind];
        if (h == NULL)
            continue;
        job j = {nw_str_copy(id, strlen(id)), NULL, 0, 0};
        const char *problem = "out of memory";
        j.body = http_sinks[i].body(s, a, &j.body_len, &problem);
        if (j.alert_id == NULL || j.body == NULL) {
            job_clear(&j);
            atomic_fetch_add(&h->failed, 1);
            log_sink(s, h->name, "alert %s not sent: %s", id, problem);
            continue;
        }
        enqueue(s, h, &j);
    }
}

bool nw_sinks_resend_due(const nw_sinks *s)
{
    if (s == NULL || s->http[NW_SINK_ALERTMANAGER] == NULL)
        return false;
    long long last = atomic_load(&s->last_resend_ms);
    return last < 0 || now_ms() - last >= s->am_resend_ms;
}

long nw_sinks_resend_keep_s(const nw_sinks *s)
{
    int ms = s != NULL ? s->am_resend_ms : 60000;
    return (long)(((int64_t)ms * NW_SINKS_AM_LIFETIME + 999) / 1000);
}

void nw_sinks_resend(nw_sinks *s, const nw_incident_list *l, int64_t now)
{
    if (s == NULL || s->http[NW_SINK_ALERTMANAGER] == NULL)
        return;
    atomic_store(&s->last_resend_ms, (long long)now_ms());
    http_sink *h = s->http[NW_SINK_ALERTMANAGER];
    size_t n = l != NULL ? nw_incident_list_count(l) : 0;
    json_t *arr = json_array();
    int64_t oldest = now - nw_sinks_resend_keep_s(s);
    size_t firing = 0, resolved = 0, bad = 0;
    char ends_firing[32];
    format_time(firing_ends(s, now), ends_firing);
    for (size_t i = 0; arr != NULL && i < n; i++) {
        const nw_incident_alert *a = nw_incident_list_at(l, i);
        if (a->ends_at != 0 && a->ends_at < oldest)
            continue;
        char starts[32], ends[32];
        /* Alertmanager refuses an alert that ends before it starts. */
        format_time(a->ends_at != 0 && a->starts_at > a->ends_at ? a->ends_at : a->starts_at,
                    starts);
        format_time(a->ends_at, ends);
        json_t *x = am_alert(s, a, a->update ? "update" : "new", starts,
                             a->ends_at != 0 ? ends : ends_firing);
        if (x == NULL || json_array_append_new(arr, x) != 0) {
            bad++;
            continue;
        }
        if (a->ends_at != 0)
            resolved++;
        else
            firing++;
    }
    if (bad > 0)
        log_sink(s, h->name,
                 "resend: %zu alert%s left out (a text is not valid UTF-8, or out of "
                 "memory)",
                 bad, bad == 1 ? "" : "s");
    if (arr == NULL || json_array_size(arr) == 0) {
        json_decref(arr);
        return;
    }
    char id[96];
    snprintf(id, sizeof id, "resend (%zu firing, %zu resolved)", firing, resolved);
    job j = {nw_str_copy(id, strlen(id)), json_dumps(arr, JSON_COMPACT), 0, 1};
    json_decref(arr);
    if (j.alert_id == NULL || j.body == NULL) {
        job_clear(&j);
        atomic_fetch_add(&h->failed, 1);
        log_sink(s, h->name, "resend not sent: out of memory");
        return;
    }
    j.body_len = strlen(j.body);
    enqueue(s, h, &j);
}

int nw_sinks_flush(nw_sinks *s, int timeout_ms)
{
    if (s == NULL)
        return 0;
    if (s->stdout_enabled)
        fflush(s->out);
    int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    struct timespec ts = deadline_ts(deadline);
    int drained = 1;
    for (int k = 0; k < NW_SINK_COUNT; k++) {
        http_sink *h = s->http[k];
        if (h == NULL)
            continue;
        pthread_mutex_lock(&h->mu);
        while ((h->count > 0 || h->busy) && now_ms() < deadline)
            pthread_cond_timedwait(&h->idle, &h->mu, &ts);
        if (h->count > 0 || h->busy)
            drained = 0;
        pthread_mutex_unlock(&h->mu);
    }
    return drained ? 0 : -1;
}

void nw_sinks_stats(const nw_sinks *s, nw_sink_stats stats[NW_SINK_COUNT])
{
    for (int k = 0; k < NW_SINK_COUNT; k++) {
        nw_sink_stats *st = &stats[k];
        memset(st, 0, sizeof *st);
        st->name = sink_names[k];
        if (s == NULL)
            continue;
        if (k == NW_SINK_STDOUT) {
            st->enabled = s->stdout_enabled;
            st->delivered = atomic_load(&s->out_delivered);
            st->failed = atomic_load(&s->out_failed);
            continue;
        }
        const http_sink *h = s->http[k];
        if (h == NULL)
            continue;
        st->enabled = 1;
        st->delivered = atomic_load(&h->delivered);
        st->failed = atomic_load(&h->failed);
        st->retries = atomic_load(&h->retries);
        st->dropped = atomic_load(&h->dropped);
        st->pending = atomic_load(&h->pending);
    }
}

void nw_sinks_free(nw_sinks *s)
{
    if (s == NULL)
        return;
    nw_sinks_flush(s, s->timeout_ms);
    /* Tell every worker first, so they wind down together. */
    for (int k = 0; k < NW_SINK_COUNT; k++) {
        http_sink *h = s->http[k];
        if (h == NULL)
            continue;
        pthread_mutex_lock(&h->mu);
        h->stopping = 1;
        atomic_store(&h->abort_now, 1);
        pthread_cond_broadcast(&h->wake);
        pthread_mutex_unlock(&h->mu);
    }
    for (int k = 0; k < NW_SINK_COUNT; k++)
        http_sink_free(s->http[k]);
    free(s);
}
