#include "poll.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "newswatch/log.h"
#include "newswatch/version.h"

/* The longest wait a Retry-After can ask for. */
#define RETRY_AFTER_MAX_MS (24L * 3600L * 1000L)
/* The longest header value kept (ETag, Last-Modified, Content-Type, Retry-After). */
#define HEADER_MAX 1024

typedef struct transfer {
    CURL *curl;
    struct curl_slist *headers;
    char *body;
    size_t len, cap;
    size_t max; /* the body's limit */
    bool too_big;
    char etag[HEADER_MAX], last_modified[HEADER_MAX], content_type[HEADER_MAX],
        retry_after[HEADER_MAX];
    char error[CURL_ERROR_SIZE];
    double started_ms;
} transfer;

typedef struct feed_slot {
    const nw_feed_source *src;
    double due_ms;  /* monotonic; when the next fetch starts */
    long next_ms;   /* the wait chosen after the last fetch */
    unsigned fails; /* failures in a row */
    bool fetched;   /* once: fetched and handled */
    transfer *t;    /* the transfer in flight, or NULL */
} feed_slot;

struct nw_poll {
    nw_feed_settings settings;
    char user_agent[256];
    bool once;
    nw_poll_callbacks cb;
    CURLM *multi;
    feed_slot *feeds;
    size_t n, cap;
    unsigned seed;
};

static double mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

const char *nw_poll_default_user_agent(void)
{
    static char ua[128];
    if (ua[0] == '\0')
        snprintf(ua, sizeof ua, "newswatch-producer/%s (feed poller; libcurl/%s)", NW_VERSION,
                 curl_version_info(CURLVERSION_NOW)->version);
    return ua;
}

nw_err nw_poll_new(const nw_feed_settings *settings, const char *user_agent, bool once,
                   const nw_poll_callbacks *cb, nw_poll **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    nw_poll *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    p->settings = *settings;
    snprintf(p->user_agent, sizeof p->user_agent, "%s",
             user_agent != NULL ? user_agent : nw_poll_default_user_agent());
    p->once = once;
    p->cb = *cb;
    p->seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    if ((p->multi = curl_multi_init()) == NULL) {
        free(p);
        return nw_set_error(errbuf, errlen, NW_EIO, "libcurl: cannot create a multi handle");
    }
    *out = p;
    return NW_OK;
}

static void free_transfer(nw_poll *p, transfer *t)
{
    if (t == NULL)
        return;
    if (t->curl != NULL) {
        curl_multi_remove_handle(p->multi, t->curl);
        curl_easy_cleanup(t->curl);
    }
    curl_slist_free_all(t->headers);
    free(t->body);
    free(t);
}

void nw_poll_free(nw_poll *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++)
        free_transfer(p, p->feeds[i].t);
    free(p->feeds);
    curl_multi_cleanup(p->multi);
    free(p);
}

long nw_poll_add(nw_poll *p, const nw_feed_source *source)
{
    if (p->n == p->cap) {
        size_t cap = p->cap > 0 ? p->cap * 2 : 8;
        feed_slot *nf = realloc(p->feeds, cap * sizeof(*nf));
        if (nf == NULL)
            return -1;
        p->feeds = nf;
        p->cap = cap;
    }
    p->feeds[p->n] = (feed_slot){.src = source, .due_ms = mono_ms()};
    return (long)p->n++;
}

bool nw_poll_finished(const nw_poll *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (!p->feeds[i].fetched)
            return false;
    return true;
}

long nw_poll_next_in_ms(const nw_poll *p, size_t feed)
{
    return feed < p->n ? p->feeds[feed].next_ms : 0;
}

/* libcurl's write callback: the body (decompressed), at most max bytes. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    transfer *t = arg;
    size_t n = size * nmemb;
    if (t->len + n > t->max) {
        t->too_big = true;
        return 0; /* libcurl stops the transfer: CURLE_WRITE_ERROR */
    }
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap > 0 ? t->cap : 16384;
        while (t->len + n + 1 > cap)
            cap *= 2;
        char *nb = realloc(t->body, cap);
        if (nb == NULL)
            return 0;
        t->body = nb;
        t->cap = cap;
    }
    memcpy(t->body + t->len, data, n);
    t->len += n;
    return n;
}

/* Copies a header's value (trimmed) when line is "name: value". */
static void take_header(const char *line, size_t len, const char *name, char *out)
{
    size_t n = strlen(name);
    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return;
    const char *v = line + n + 1;
    size_t vlen = len - n - 1;
    while (vlen > 0 && (*v == ' ' || *v == '\t'))
        v++, vlen--;
    while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ' ||
                        v[vlen - 1] == '\t'))
        vlen--;
    if (vlen >= HEADER_MAX)
        vlen = HEADER_MAX - 1;
    memcpy(out, v, vlen);
    out[vlen] = '\0';
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *arg)
{
    transfer *t = arg;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* a new response (after a redirect, or a 100): its headers replace the last's */
        t->etag[0] = t->last_modified[0] = t->content_type[0] = t->retry_after[0] = '\0';
        return n;
    }
    take_header(line, n, "etag", t->etag);
    take_header(line, n, "last-modified", t->last_modified);
    take_header(line, n, "content-type", t->content_type);
    take_header(line, n, "retry-after", t->retry_after);
    return n;
}

static bool add_header(struct curl_slist **list, const char *name, const char *value)
{
    char line[HEADER_MAX + 64];
    if (value != NULL)
        snprintf(line, sizeof line, "%s: %s", name, value);
    else
        snprintf(line, sizeof line, "%s", name);
    struct curl_slist *l = curl_slist_append(*list, line);
    if (l == NULL)
        return false;
    *list = l;
    return true;
}

/* Starts feed i's transfer; false when out of memory (it is then tried at the next interval). */
static bool start(nw_poll *p, size_t i)
{
    feed_slot *f = &p->feeds[i];
    transfer *t = calloc(1, sizeof(*t));
    if (t == NULL || (t->curl = curl_easy_init()) == NULL) {
        free(t);
        return false;
    }
    t->max = (size_t)p->settings.max_bytes;
    const char *etag = NULL, *modified = NULL;
    if (p->cb.validators != NULL)
        p->cb.validators(i, &etag, &modified, p->cb.arg);
    bool ok = add_header(&t->headers, "Accept",
                         "application/rss+xml, application/atom+xml, application/feed+json, "
                         "application/rdf+xml;q=0.9, application/xml;q=0.9, "
                         "application/json;q=0.8, text/xml;q=0.8, */*;q=0.5");
    if (ok && etag != NULL)
        ok = add_header(&t->headers, "If-None-Match", etag);
    if (ok && modified != NULL)
        ok = add_header(&t->headers, "If-Modified-Since", modified);
    for (size_t h = 0; ok && h < f->src->nheaders; h++)
        ok = add_header(&t->headers, f->src->headers[h], NULL);
    if (!ok) {
        free_transfer(p, t);
        return false;
    }
    CURL *c = t->curl;
    curl_easy_setopt(c, CURLOPT_URL, f->src->url);
    curl_easy_setopt(c, CURLOPT_PRIVATE, (void *)&p->feeds[i]);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, p->settings.max_redirects);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, p->settings.connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, p->settings.timeout_ms);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* every encoding libcurl has */
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)p->settings.max_bytes);
    curl_easy_setopt(c, CURLOPT_USERAGENT, p->user_agent);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
    if (curl_multi_add_handle(p->multi, c) != CURLM_OK) {
        free_transfer(p, t);
        return false;
    }
    t->started_ms = mono_ms();
    f->t = t;
    return true;
}

/* Seconds, or an HTTP date, as a wait in ms from now; -1 when neither. */
static long retry_after_ms(const char *v)
{
    if (v[0] == '\0')
        return -1;
    long secs;
    if (nw_parse_long(v, 0, RETRY_AFTER_MAX_MS / 1000, &secs))
        return secs * 1000;
    time_t when = curl_getdate(v, NULL);
    if (when < 0)
        return -1;
    double wait = difftime(when, time(NULL)) * 1000.0;
    return wait < 0 ? 0 : wait > (double)RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS : (long)wait;
}

/* The charset parameter of a Content-Type ("text/xml; charset="utf-8""), or NULL. */
static const char *charset_of(char *content_type)
{
    for (char *p = content_type; (p = strchr(p, ';')) != NULL;) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, "charset=", 8) != 0)
            continue;
        char *v = p + 8;
        if (*v == '"')
            v++;
        size_t n = strcspn(v, "\"; \t");
        v[n] = '\0';
        return n > 0 ? v : NULL;
    }
    return NULL;
}

/* The wait after a fetch: the interval with jitter, or a backoff after failures. */
static long next_wait(nw_poll *p, feed_slot *f, bool ok, long retry_after)
{
    long interval = f->src->interval_ms > 0 ? f->src->interval_ms : p->settings.interval_ms;
    long wait = interval;
    if (ok) {
        f->fails = 0;
    } else {
        f->fails++;
        for (unsigned k = 1; k < f->fails && wait < p->settings.backoff_max_ms; k++)
            wait *= 2;
        if (wait > p->settings.backoff_max_ms)
            wait = p->settings.backoff_max_ms > interval ? p->settings.backoff_max_ms : interval;
    }
    long spread = wait / 100 * p->settings.jitter_percent;
    if (spread > 0)
        wait += (long)(rand_r(&p->seed) % (unsigned)(2 * spread + 1)) - spread;
    if (retry_after > wait)
        wait = retry_after;
    return wait;
}

static void finish(nw_poll *p, CURL *c, CURLcode code)
{
    feed_slot *f = NULL;
    curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&f);
    transfer *t = f->t;
    nw_poll_result r = {.feed = (size_t)(f - p->feeds), .retry_after_ms = -1};
    char why[CURL_ERROR_SIZE + 128];
    if (t->too_big) {
        snprintf(why, sizeof why, "the response is over max.bytes (%ld bytes)",
                 p->settings.max_bytes);
        r.error = why;
    } else if (code == CURLE_FILESIZE_EXCEEDED) {
        snprintf(why, sizeof why, "the response is over max.bytes (%ld bytes; Content-Length)",
                 p->settings.max_bytes);
        r.error = why;
    } else if (code == CURLE_TOO_MANY_REDIRECTS) {
        snprintf(why, sizeof why, "more than %ld redirects (max.redirects)",
                 p->settings.max_redirects);
        r.error = why;
    } else if (code != CURLE_OK) {
        snprintf(why, sizeof why, "%s", t->error[0] != '\0' ? t->error : curl_easy_strerror(code));
        r.error = why;
    }
    if (r.error == NULL) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
        char *url = NULL;
        curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &url);
        r.url = url != NULL ? url : f->src->url;
        r.body = t->body != NULL ? t->body : "";
        r.len = t->len;
        r.etag = t->etag[0] != '\0' ? t->etag : NULL;
        r.last_modified = t->last_modified[0] != '\0' ? t->last_modified : NULL;
        r.charset = charset_of(t->content_type);
        r.retry_after_ms = retry_after_ms(t->retry_after);
    } else {
        r.url = f->src->url;
    }
    curl_off_t us = 0;
    if (curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK)
        r.seconds = (double)us / 1e6;
    else
        r.seconds = (mono_ms() - t->started_ms) / 1000.0;
    nw_poll_outcome outcome = p->cb.result(&r, p->cb.arg);
    f->next_ms = next_wait(p, f, outcome == NW_POLL_OK, r.retry_after_ms);
    if (outcome != NW_POLL_OK && !p->once)
        nw_log(NW_LOG_INFO, NULL, "feed %s: next try in %.0f s (failure %u in a row)", f->src->name,
               (double)f->next_ms / 1000.0, f->fails);
    f->due_ms = mono_ms() + (double)f->next_ms;
    f->fetched = true;
    f->t = NULL;
    free_transfer(p, t);
}

nw_err nw_poll_run(nw_poll *p, int max_wait_ms, char *errbuf, size_t errlen)
{
    double now = mono_ms(), next_due = now + max_wait_ms;
    for (size_t i = 0; i < p->n; i++) {
        feed_slot *f = &p->feeds[i];
        if (f->t != NULL || (p->once && f->fetched))
            continue;
        if (f->due_ms <= now && !start(p, i)) {
            f->next_ms = p->settings.interval_ms;
            f->due_ms = now + (double)f->next_ms;
            if (p->once) { /* no second try: the run must end */
                nw_poll_result r = {.feed = i,
                                    .error = "cannot start the transfer (out of memory)",
                                    .url = f->src->url,
                                    .retry_after_ms = -1};
                p->cb.result(&r, p->cb.arg);
                f->fetched = true;
            }
        }
        if (f->t == NULL && f->due_ms < next_due)
            next_due = f->due_ms;
    }
    int running = 0;
    CURLMcode mc = curl_multi_perform(p->multi, &running);
    if (mc == CURLM_OK) {
        long wait = (long)(next_due - mono_ms());
        if (wait > max_wait_ms)
            wait = max_wait_ms;
        if (wait > 0)
            mc = curl_multi_poll(p->multi, NULL, 0, (int)wait, NULL);
    }
    if (mc == CURLM_OK)
        mc = curl_multi_perform(p->multi, &running);
    if (mc != CURLM_OK)
        return nw_set_error(errbuf, errlen, NW_EIO, "libcurl: %s", curl_multi_strerror(mc));
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(p->multi, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE)
            finish(p, msg->easy_handle, msg->data.result);
    return NW_OK;
}
