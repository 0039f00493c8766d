/*
 * The ops sinks (sinks/nw_sinks.c) against real receivers on 127.0.0.1:
 * a real Prometheus Alertmanager (the Debian package's binary, started and
 * stopped by the tests that use it), a webhook receiver made with
 * libmicrohttpd, a closed port and a port that never answers. Needs no Kafka.
 *
 *   NW_ALERTMANAGER  the Alertmanager binary (default /usr/bin/prometheus-alertmanager)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "newswatch/kvconf.h"
#include "../../sinks/nw_sinks.h"
#include "support.h"

/* ---- a sample alert --------------------------------------------------- */

typedef struct sample {
    char id[96];
    char *json;
    nw_alert_view v;
} sample;

static const char *const TITLE = "تفجير انتحاري مزدوج في ساحة الطيران وسط بغداد";
static const char *const EVIDENCE = "قتل 32 شخصا وأصيب 110 آخرون في تفجيرين انتحاريين "
                                    "بساحة الطيران في بغداد";

/* An alert for event with published_at (may be NULL); id is unique to the process. */
static void sample_init(sample *s, const char *event, const char *published_at)
{
    static int n;
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s-%ld-%d", event, (long)getpid(), n++);
    s->v.alert_id = s->id;
    s->v.event = event;
    s->v.status = "new";
    s->v.severity = "critical";
    s->v.title = TITLE;
    s->v.evidence = EVIDENCE;
    s->v.doc_id = "000_c7189a82eabcfedc";
    s->v.source = "seeds";
    s->v.url = "https://example.org/news/2021/01/21/tayaran";
    s->v.published_at = published_at;
    s->v.detected_at = "2026-03-01T10:20:30.456Z";
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:o, s:s}", "schema",
                          "newswatch.alert/2", "alert_id", s->id, "event", event, "status", "new",
                          "severity", "critical", "title", TITLE, "evidence", EVIDENCE, "doc", "id",
                          s->v.doc_id, "source", s->v.source, "published_at",
                          published_at != NULL ? json_string(published_at) : json_null(),
                          "detected_at", s->v.detected_at);
    assert_non_null(o);
    s->json = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    assert_non_null(s->json);
    s->v.json = s->json;
    s->v.json_len = strlen(s->json);
}

static void sample_free(sample *s)
{
    free(s->json);
    s->json = NULL;
}

/* Small backoffs, so that the whole file runs in seconds. */
static void test_config(nw_sinks_config *c)
{
    nw_sinks_config_init(c);
    c->stdout_enabled = 0;
    c->retry_attempts = 5;
    c->backoff_ms = 40;
    c->backoff_max_ms = 400;
    c->timeout_ms = 3000;
    snprintf(c->program, sizeof c->program, "test_sinks");
}

static nw_sinks *start_sinks(const nw_sinks_config *c, FILE *out)
{
    nw_sinks *s = NULL;
    char err[512];
    if (nw_sinks_new(c, out, &s, err, sizeof err) != NW_OK)
        fail_msg("nw_sinks_new: %s", err);
    return s;
}

static nw_sink_stats stats_of(const nw_sinks *s, nw_sink_kind k)
{
    nw_sink_stats st[NW_SINK_COUNT];
    nw_sinks_stats(s, st);
    return st[k];
}

/* Waits up to timeout_ms for sink k to have delivered+failed+dropped >= n. */
static int wait_done(const nw_sinks *s, nw_sink_kind k, unsigned long long n, int timeout_ms)
{
    double end = it_now_ms() + timeout_ms;
    for (;;) {
        nw_sink_stats st = stats_of(s, k);
        if (st.delivered + st.failed + st.dropped >= n)
            return 1;
        if (it_now_ms() > end)
            return 0;
        it_sleep_ms(5);
    }
}

/* ---- HTTP client (libcurl, in the test) ------------------------------- */

static size_t collect(char *data, size_t size, size_t nmemb, void *userdata)
{
    char **buf = userdata;
    size_t old = *buf != NULL ? strlen(*buf) : 0, n = size * nmemb;
    char *p = realloc(*buf, old + n + 1);
    assert_non_null(p);
    memcpy(p + old, data, n);
    p[old + n] = '\0';
    *buf = p;
    return n;
}

/* GET url; returns the body (caller frees) and the status in *status (0: no answer). */
static char *http_get(const char *url, long *status)
{
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char *body = NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    *status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    return body;
}

/* ---- a real Prometheus Alertmanager ----------------------------------- */

typedef struct alertmanager {
    long pid;
    int port;
    char *dir;
    char url[64];
} alertmanager;

static const char am_config[] = "# test_sinks: accept alerts, notify nobody\n"
                                "route:\n"
                                "  receiver: \"null\"\n"
                                "receivers:\n"
                                "  - name: \"null\"\n";

static int am_stop(void **state);

static void am_print_log(const alertmanager *am)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/alertmanager.log", am->dir);
    char *log = tu_read(path, NULL);
    fprintf(stderr, "--- %s\n%s---\n", path, log != NULL ? log : "(none)\n");
    free(log);
}

/* Setup: starts Alertmanager on a free port and waits for GET /-/ready. */
static int am_start(void **state)
{
    const char *bin = getenv("NW_ALERTMANAGER");
    if (bin == NULL || bin[0] == '\0')
        bin = "/usr/bin/prometheus-alertmanager";
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "%s: not found: install prometheus-alertmanager (scripts/deps)\n", bin);
        return -1;
    }
    alertmanager *am = calloc(1, sizeof *am);
    assert_non_null(am);
    am->dir = tu_mkdtemp();
    tu_write(am->dir, "alertmanager.yml", am_config, strlen(am_config));
    am->port = it_free_port();
    snprintf(am->url, sizeof am->url, "http://127.0.0.1:%d", am->port);

    char config[4200], storage[4200], listen[64], log[4200];
    snprintf(config, sizeof config, "--config.file=%s/alertmanager.yml", am->dir);
    snprintf(storage, sizeof storage, "--storage.path=%s/data", am->dir);
    snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", am->port);
    snprintf(log, sizeof log, "%s/alertmanager.log", am->dir);
    char *argv[] = {(char *)bin,        config, storage, listen, "--cluster.listen-address=",
                    "--log.level=warn", NULL};
    double t0 = it_now_ms();
    am->pid = it_spawn(argv, log);
    *state = am;

    char ready[128];
    snprintf(ready, sizeof ready, "%s/-/ready", am->url);
    for (;;) {
        long status;
        free(http_get(ready, &status));
        if (status == 200)
            break;
        int ws;
        if (waitpid((pid_t)am->pid, &ws, WNOHANG) == (pid_t)am->pid) {
            am->pid = 0;
            fprintf(stderr, "Alertmanager exited before it was ready\n");
            am_print_log(am);
            am_stop(state);
            return -1;
        }
        if (it_now_ms() - t0 > 15000) {
            fprintf(stderr, "Alertmanager was not ready within 15 s\n");
            am_print_log(am);
            am_stop(state); /* cmocka runs no teardown after a failed setup */
            return -1;
        }
        it_sleep_ms(50);
    }
    fprintf(stderr, "Alertmanager ready on %s in %.0f ms\n", am->url, it_now_ms() - t0);
    return 0;
}

/* Teardown: SIGTERM, wait, remove its directory. */
static int am_stop(void **state)
{
    alertmanager *am = *state;
    if (am == NULL)
        return 0;
    int rc = 0;
    if (am->pid > 0) {
        int ws = it_stop(am->pid, 10000);
        if (!(WIFEXITED(ws) && WEXITSTATUS(ws) == 0)) {
            fprintf(stderr, "Alertmanager stopped with wait status %d\n", ws);
            am_print_log(am);
            rc = -1;
        }
    }
    tu_rmtree(am->dir);
    free(am->dir);
    free(am);
    *state = NULL;
    return rc;
}

/* GET /api/v2/alerts: the active alerts, as JSON. */
static json_t *am_alerts(const alertmanager *am)
{
    char url[128];
    snprintf(url, sizeof url, "%s/api/v2/alerts", am->url);
    long status;
    char *body = http_get(url, &status);
    if (status != 200)
        fail_msg("GET %s: HTTP %ld: %s", url, status, body != NULL ? body : "");
    json_error_t jerr;
    json_t *alerts = json_loads(body, 0, &jerr);
    free(body);
    if (!json_is_array(alerts))
        fail_msg("GET %s: not a JSON array: %s", url, jerr.text);
    return alerts;
}

/* The alert whose annotations.alert_id is id, or NULL. */
static json_t *am_find(json_t *alerts, const char *id)
{
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a)
    {
        const char *aid =
            json_string_value(json_object_get(json_object_get(a, "annotations"), "alert_id"));
        if (aid != NULL && strcmp(aid, id) == 0)
            return a;
    }
    return NULL;
}

/* The alert whose annotations.alert_id starts with prefix and ends with suffix, or NULL. */
static json_t *am_find_like(json_t *alerts, const char *prefix, const char *suffix)
{
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a)
    {
        const char *aid =
            json_string_value(json_object_get(json_object_get(a, "annotations"), "alert_id"));
        size_t n = aid != NULL ? strlen(aid) : 0, ns = strlen(suffix);
        if (n > ns && strncmp(aid, prefix, strlen(prefix)) == 0 &&
            strcmp(aid + n - ns, suffix) == 0)
            return a;
    }
    return NULL;
}

static const char *str_at(const json_t *o, const char *obj, const char *key)
{
    const json_t *v =
        obj != NULL ? json_object_get(json_object_get(o, obj), key) : json_object_get(o, key);
    const char *s = json_string_value(v);
    if (s == NULL)
        fail_msg("no string %s%s%s in the Alertmanager alert", obj != NULL ? obj : "",
                 obj != NULL ? "." : "", key);
    return s;
}

/* ---- a webhook receiver (libmicrohttpd) ------------------------------- */

#define HOOK_MAX 16

typedef struct hook {
    struct MHD_Daemon *d;
    int port;
    char url[64];
    pthread_mutex_t mu;
    int script[HOOK_MAX]; /* statuses to answer with, in order; then 200 */
    int nscript;
    int delay_first_ms; /* the first request waits this long before answering */
    int n;              /* requests received */
    char *body[HOOK_MAX], *key[HOOK_MAX], *ctype[HOOK_MAX], *token[HOOK_MAX], *team[HOOK_MAX];
    char *path[HOOK_MAX];
    double at_ms[HOOK_MAX];
} hook;

typedef struct upload {
    char *data;
    size_t len;
} upload;

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static enum MHD_Result on_hook_request(void *cls, struct MHD_Connection *conn, const char *url,
                                       const char *method, const char *version,
                                       const char *upload_data, size_t *upload_data_size,
                                       void **con_cls)
{
    (void)version;
    hook *h = cls;
    upload *u = *con_cls;
    if (u == NULL) {
        u = calloc(1, sizeof *u);
        if (u == NULL)
            return MHD_NO;
        *con_cls = u;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        char *p = realloc(u->data, u->len + *upload_data_size + 1);
        if (p == NULL)
            return MHD_NO;
        memcpy(p + u->len, upload_data, *upload_data_size);
        u->len += *upload_data_size;
        p[u->len] = '\0';
        u->data = p;
        *upload_data_size = 0;
        return MHD_YES;
    }
    int status = 200, delay = 0;
    pthread_mutex_lock(&h->mu);
    int i = h->n++;
    if (i < HOOK_MAX && strcmp(method, "POST") == 0) {
        h->body[i] = u->data != NULL ? strdup(u->data) : strdup("");
        h->key[i] =
            dup_or_null(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Idempotency-Key"));
        h->ctype[i] =
            dup_or_null(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type"));
        h->token[i] = dup_or_null(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Token"));
        h->team[i] = dup_or_null(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Team"));
        h->path[i] = strdup(url);
        h->at_ms[i] = it_now_ms();
    }
    if (i < h->nscript)
        status = h->script[i];
    if (i == 0)
        delay = h->delay_first_ms;
    pthread_mutex_unlock(&h->mu);
    if (delay > 0)
        it_sleep_ms(delay);
    static const char reply[] = "{\"ok\":false,\"why\":\"scripted\"}";
    const char *text = status < 300 ? "{\"ok\":true}" : reply;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static void on_hook_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    upload *u = *con_cls;
    if (u != NULL) {
        free(u->data);
        free(u);
        *con_cls = NULL;
    }
}

/* Setup: a receiver on 127.0.0.1, port chosen by the kernel (bound to port 0). */
static int hook_start(void **state)
{
    hook *h = calloc(1, sizeof *h);
    assert_non_null(h);
    pthread_mutex_init(&h->mu, NULL);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                MHD_USE_ERROR_LOG,
                            0, NULL, NULL, on_hook_request, h, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_NOTIFY_COMPLETED, on_hook_done, NULL, MHD_OPTION_END);
    if (h->d == NULL) {
        fprintf(stderr, "cannot start the webhook receiver\n");
        free(h);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info != NULL ? info->port : 0;
    assert_true(h->port > 0);
    snprintf(h->url, sizeof h->url, "http://127.0.0.1:%d/hooks/newswatch", h->port);
    *state = h;
    return 0;
}

static int hook_stop(void **state)
{
    hook *h = *state;
    if (h == NULL)
        return 0;
    MHD_stop_daemon(h->d);
    for (int i = 0; i < HOOK_MAX; i++) {
        free(h->body[i]);
        free(h->key[i]);
        free(h->ctype[i]);
        free(h->token[i]);
        free(h->team[i]);
        free(h->path[i]);
    }
    pthread_mutex_destroy(&h->mu);
    free(h);
    *state = NULL;
    return 0;
}

static void hook_script(hook *h, const int *statuses, int n, int delay_first_ms)
{
    pthread_mutex_lock(&h->mu);
    if (n > 0)
        memcpy(h->script, statuses, (size_t)n * sizeof *statuses);
    h->nscript = n;
    h->delay_first_ms = delay_first_ms;
    pthread_mutex_unlock(&h->mu);
}

static int hook_count(hook *h)
{
    pthread_mutex_lock(&h->mu);
    int n = h->n;
    pthread_mutex_unlock(&h->mu);
    return n;
}

/* ---- 1. Alertmanager -------------------------------------------------- */

static void alertmanager_receives_the_alert(void **state)
{
    alertmanager *am = *state;
    nw_sinks_config c;
    test_config(&c);
    snprintf(c.alertmanager_url, sizeof c.alertmanager_url, "%s/", am->url); /* trailing '/' */
    snprintf(c.generator_url, sizeof c.generator_url, "http://newswatch.test/alerts");
    nw_sinks *s = start_sinks(&c, NULL);

    sample a, b, d;
    sample_init(&a, "baghdad-bombing-2021", "2021-01-21T07:30:00Z");
    sample_init(&b, "baghdad-airport-rockets", NULL); /* startsAt: detected_at */
    b.v.status = "update";
    b.v.severity = "warning";
    b.v.source = NULL;
    b.v.url = NULL;
    sample_init(&d, "not-a-date", "21 January 2021"); /* not RFC 3339: detected_at */
    nw_sinks_send(s, &a.v);
    nw_sinks_send(s, &b.v);
    nw_sinks_send(s, &d.v);
    assert_int_equal(nw_sinks_flush(s, 10000), 0);
    nw_sink_stats st = stats_of(s, NW_SINK_ALERTMANAGER);
    assert_true(st.enabled);
    assert_int_equal(st.delivered, 3);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.retries, 0);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.pending, 0);
    assert_false(stats_of(s, NW_SINK_WEBHOOK).enabled);
    nw_sinks_free(s);

    json_t *alerts = am_alerts(am);
    json_t *x = am_find(alerts, a.id);
    if (x == NULL)
        fail_msg("alert %s is not in Alertmanager: %s", a.id, json_dumps(alerts, 0));
    assert_string_equal(str_at(x, "labels", "alertname"), "NewswatchTrackedEvent");
    assert_string_equal(str_at(x, "labels", "event"), "baghdad-bombing-2021");
    assert_string_equal(str_at(x, "labels", "severity"), "critical");
    assert_string_equal(str_at(x, "labels", "kind"), "incident");
    /* no incident label: this alert id is not "<event>:<incident>:<sequence>" */
    assert_int_equal(json_object_size(json_object_get(x, "labels")), 4);
    assert_string_equal(str_at(x, "annotations", "summary"), TITLE);
    assert_string_equal(str_at(x, "annotations", "description"), EVIDENCE);
    assert_string_equal(str_at(x, "annotations", "doc_id"), "000_c7189a82eabcfedc");
    assert_string_equal(str_at(x, "annotations", "url"),
                        "https://example.org/news/2021/01/21/tayaran");
    assert_string_equal(str_at(x, "annotations", "alert_id"), a.id);
    assert_string_equal(str_at(x, "annotations", "status"), "new");
    assert_string_equal(str_at(x, NULL, "generatorURL"), "http://newswatch.test/alerts");
    const char *starts = str_at(x, NULL, "startsAt");
    if (strncmp(starts, "2026-03-01T10:20:30.456", 23) != 0)
        fail_msg("startsAt is %s, not the detection time", starts);
    assert_string_equal(str_at(x, "status", "state"), "active");
    assert_non_null(json_object_get(x, "endsAt")); /* a few resend intervals ahead */

    x = am_find(alerts, b.id);
    assert_non_null(x);
    assert_string_equal(str_at(x, "labels", "event"), "baghdad-airport-rockets");
    assert_string_equal(str_at(x, "labels", "severity"), "warning");
    assert_string_equal(str_at(x, "annotations", "status"), "update");
    assert_string_equal(str_at(x, "labels", "kind"), "update");
    assert_string_equal(str_at(x, "labels", "sequence"), "1");
    assert_null(json_object_get(json_object_get(x, "annotations"), "url"));
    starts = str_at(x, NULL, "startsAt");
    if (strncmp(starts, "2026-03-01T10:20:30.456", 23) != 0)
        fail_msg("startsAt is %s, not the detection time", starts);

    x = am_find(alerts, d.id);
    assert_non_null(x);
    starts = str_at(x, NULL, "startsAt");
    if (strncmp(starts, "2026-03-01T10:20:30.456", 23) != 0)
        fail_msg("startsAt is %s, not the detection time", starts);
    json_decref(alerts);
    sample_free(&a);
    sample_free(&b);
    sample_free(&d);
}

/* ---- 2. webhook ------------------------------------------------------- */

static nw_sinks *webhook_sinks(const hook *h, int attempts)
{
    nw_sinks_config c;
    test_config(&c);
    c.retry_attempts = attempts;
    snprintf(c.webhook_url, sizeof c.webhook_url, "%s", h->url);
    snprintf(c.webhook_headers[0], NW_SINKS_HEADER_MAX, "X-Token: s3cret");
    snprintf(c.webhook_headers[1], NW_SINKS_HEADER_MAX, "X-Team: ops");
    c.webhook_header_count = 2;
    return start_sinks(&c, NULL);
}

static void webhook_retries_503_then_delivers(void **state)
{
    hook *h = *state;
    static const int script[] = {503, 503, 200};
    hook_script(h, script, 3, 0);
    nw_sinks *s = webhook_sinks(h, 5);
    sample a;
    sample_init(&a, "baghdad-bombing-2021", "2021-01-21T07:30:00Z");
    nw_sinks_send(s, &a.v);
    assert_int_equal(nw_sinks_flush(s, 10000), 0);
    nw_sink_stats st = stats_of(s, NW_SINK_WEBHOOK);
    assert_int_equal(st.delivered, 1);
    assert_int_equal(st.retries, 2);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.dropped, 0);
    nw_sinks_free(s);

    assert_int_equal(hook_count(h), 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(h->path[i], "/hooks/newswatch");
        assert_string_equal(h->body[i], a.json); /* the alert JSON, byte for byte */
        assert_non_null(h->key[i]);
        assert_string_equal(h->key[i], a.id); /* the same key on every retry */
        assert_non_null(h->ctype[i]);
        assert_string_equal(h->ctype[i], "application/json");
        assert_non_null(h->token[i]);
        assert_string_equal(h->token[i], "s3cret");
        assert_non_null(h->team[i]);
        assert_string_equal(h->team[i], "ops");
    }
    /* Backoff: 40 ms then 80 ms, each with jitter down to half. */
    double gap1 = h->at_ms[1] - h->at_ms[0], gap2 = h->at_ms[2] - h->at_ms[1];
    if (gap1 < 19.0 || gap2 < 39.0 || gap1 > 1000.0 || gap2 > 1000.0)
        fail_msg("backoff gaps %.1f ms and %.1f ms, expected about 20-40 and 40-80", gap1, gap2);
    sample_free(&a);
}

static void webhook_4xx_is_not_retried(void **state)
{
    hook *h = *state;
    static const int script[] = {400, 404, 429, 408, 200};
    hook_script(h, script, 5, 0);
    nw_sinks *s = webhook_sinks(h, 5);
    sample a, b, d;
    sample_init(&a, "baghdad-bombing-2021", NULL);
    sample_init(&b, "baghdad-bombing-2021", NULL);
    sample_init(&d, "baghdad-bombing-2021", NULL);
    nw_sinks_send(s, &a.v); /* 400: failed, not retried */
    nw_sinks_send(s, &b.v); /* 404: failed, not retried */
    nw_sinks_send(s, &d.v); /* 429, 408: retried; then 200 */
    assert_int_equal(nw_sinks_flush(s, 10000), 0);
    nw_sink_stats st = stats_of(s, NW_SINK_WEBHOOK);
    assert_int_equal(st.failed, 2);
    assert_int_equal(st.delivered, 1);
    assert_int_equal(st.retries, 2);
    assert_int_equal(st.dropped, 0);
    nw_sinks_free(s);
    assert_int_equal(hook_count(h), 5);
    assert_string_equal(h->key[0], a.id);
    assert_string_equal(h->key[1], b.id);
    assert_string_equal(h->key[2], d.id);
    assert_string_equal(h->key[4], d.id);
    sample_free(&a);
    sample_free(&b);
    sample_free(&d);
}

static void webhook_gives_up_after_the_attempts(void **state)
{
    hook *h = *state;
    static const int script[] = {500, 502, 503, 200};
    hook_script(h, script, 4, 0);
    nw_sinks *s = webhook_sinks(h, 3);
    sample a;
    sample_init(&a, "baghdad-bombing-2021", NULL);
    nw_sinks_send(s, &a.v);
    assert_int_equal(nw_sinks_flush(s, 10000), 0);
    nw_sink_stats st = stats_of(s, NW_SINK_WEBHOOK);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.retries, 2);
    assert_int_equal(st.delivered, 0);
    nw_sinks_free(s);
    assert_int_equal(hook_count(h), 3);
    sample_free(&a);
}

static void a_full_queue_drops_the_oldest(void **state)
{
    hook *h = *state;
    hook_script(h, NULL, 0, 500); /* the first request takes 500 ms */
    nw_sinks_config c;
    test_config(&c);
    c.queue_size = 1;
    snprintf(c.webhook_url, sizeof c.webhook_url, "%s", h->url);
    nw_sinks *s = start_sinks(&c, NULL);
    sample a[4];
    for (int i = 0; i < 4; i++)
        sample_init(&a[i], "baghdad-bombing-2021", NULL);
    nw_sinks_send(s, &a[0].v);
    double end = it_now_ms() + 3000;
    while (hook_count(h) == 0 && it_now_ms() < end) /* the worker holds a[0] */
        it_sleep_ms(2);
    assert_int_equal(hook_count(h), 1);
    for (int i = 1; i < 4; i++) /* a[1], then a[2], are pushed out */
        nw_sinks_send(s, &a[i].v);
    nw_sink_stats st = stats_of(s, NW_SINK_WEBHOOK);
    assert_int_equal(st.dropped, 2);
    assert_int_equal(st.pending, 2);
    assert_int_equal(nw_sinks_flush(s, 10000), 0);
    st = stats_of(s, NW_SINK_WEBHOOK);
    assert_int_equal(st.delivered, 2);
    assert_int_equal(st.dropped, 2);
    assert_int_equal(st.pending, 0);
    nw_sinks_free(s);
    assert_int_equal(hook_count(h), 2);
    assert_string_equal(h->key[0], a[0].id);
    assert_string_equal(h->key[1], a[3].id); /* the newest survives */
    for (int i = 0; i < 4; i++)
        sample_free(&a[i]);
}

/* ---- 3. a sink that is down ------------------------------------------- */

static void a_down_webhook_blocks_nothing(void **state)
{
    alertmanager *am = *state;
    char *out = NULL;
    size_t outlen = 0;
    FILE *fp = open_memstream(&out, &outlen);
    assert_non_null(fp);
    nw_sinks_config c;
    test_config(&c);
    c.stdout_enabled = 1;
    c.retry_attempts = 4;
    c.backoff_ms = 200;
    c.backoff_max_ms = 400;
    c.timeout_ms = 2000;
    snprintf(c.alertmanager_url, sizeof c.alertmanager_url, "%s", am->url);
    snprintf(c.webhook_url, sizeof c.webhook_url, "http://127.0.0.1:%d/hook", it_free_port());
    nw_sinks *s = start_sinks(&c, fp);

    sample a, b;
    sample_init(&a, "baghdad-bombing-2021", "2021-01-21T07:30:00Z");
    sample_init(&b, "baghdad-airport-rockets", NULL);
    double t0 = it_now_ms();
    nw_sinks_send(s, &a.v);
    double send_ms = it_now_ms() - t0;
    /* stdout is synchronous: the line is there when nw_sinks_send returns. */
    assert_int_equal(outlen, a.v.json_len + 1);
    assert_memory_equal(out, a.json, a.v.json_len);
    assert_int_equal(out[a.v.json_len], '\n');

    /* Alertmanager delivers while the webhook is still retrying. */
    assert_true(wait_done(s, NW_SINK_ALERTMANAGER, 1, 5000));
    nw_sink_stats wh = stats_of(s, NW_SINK_WEBHOOK);
    assert_int_equal(stats_of(s, NW_SINK_ALERTMANAGER).delivered, 1);
    assert_int_equal(wh.failed, 0);
    assert_int_equal(wh.pending, 1);

    t0 = it_now_ms();
    nw_sinks_send(s, &b.v); /* the webhook worker is busy with a: b just queues */
    double send2_ms = it_now_ms() - t0;
    assert_int_equal(outlen, a.v.json_len + 1 + b.v.json_len + 1);
    assert_true(wait_done(s, NW_SINK_ALERTMANAGER, 2, 5000));
    assert_int_equal(stats_of(s, NW_SINK_ALERTMANAGER).delivered, 2);
    assert_int_equal(stats_of(s, NW_SINK_WEBHOOK).failed, 0);

    /* Each alert: 4 attempts, backoffs of 100-200, 200-400, 200-400 ms. */
    assert_true(wait_done(s, NW_SINK_WEBHOOK, 2, 6000));
    nw_sink_stats st[NW_SINK_COUNT];
    nw_sinks_stats(s, st);
    assert_int_equal(st[NW_SINK_WEBHOOK].failed, 2);
    assert_int_equal(st[NW_SINK_WEBHOOK].retries, 6);
    assert_int_equal(st[NW_SINK_WEBHOOK].delivered, 0);
    assert_int_equal(st[NW_SINK_STDOUT].delivered, 2);
    assert_int_equal(st[NW_SINK_STDOUT].failed, 0);
    assert_int_equal(st[NW_SINK_ALERTMANAGER].failed, 0);

    t0 = it_now_ms();
    nw_sinks_free(s);
    double free_ms = it_now_ms() - t0;
    fprintf(stderr, "send %.2f ms and %.2f ms; free %.1f ms\n", send_ms, send2_ms, free_ms);
    assert_true(send_ms < 50.0); /* << timeout.ms (2000) */
    assert_true(send2_ms < 50.0);
    assert_true(free_ms < 1000.0);

    json_t *alerts = am_alerts(am);
    assert_non_null(am_find(alerts, a.id));
    assert_non_null(am_find(alerts, b.id));
    json_decref(alerts);
    fclose(fp);
    free(out);
    sample_free(&a);
    sample_free(&b);
}

/* A receiver that accepts connections and never answers: shutdown is still bounded. */
static void a_hanging_webhook_is_abandoned_at_shutdown(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    assert_int_equal(listen(fd, 16), 0); /* never accepted: the kernel completes connects */

    nw_sinks_config c;
    test_config(&c);
    c.timeout_ms = 1500;
    snprintf(c.webhook_url, sizeof c.webhook_url, "http://127.0.0.1:%d/", ntohs(sa.sin_port));
    nw_sinks *s = start_sinks(&c, NULL);
    sample a;
    sample_init(&a, "baghdad-bombing-2021", NULL);
    double t0 = it_now_ms();
    nw_sinks_send(s, &a.v);
    double send_ms = it_now_ms() - t0;
    assert_true(send_ms < 50.0);
    assert_int_equal(nw_sinks_flush(s, 200), -1); /* still waiting for an answer */
    nw_sink_stats st = stats_of(s, NW_SINK_WEBHOOK);
    assert_int_equal(st.pending, 1);
    assert_int_equal(st.delivered + st.failed + st.dropped, 0);
    t0 = it_now_ms();
    nw_sinks_free(s); /* waits up to timeout.ms, then abandons the alert */
    double free_ms = it_now_ms() - t0;
    fprintf(stderr, "hanging webhook: send %.2f ms, free %.1f ms\n", send_ms, free_ms);
    assert_true(free_ms < 1500.0 + 1200.0);
    close(fd);
    sample_free(&a);
}

/* ---- 4. configuration ------------------------------------------------- */

static nw_err apply_text(const char *text, nw_sinks_config *c, char *err, size_t errlen)
{
    nw_kvconf *conf = NULL;
    nw_err e = nw_kvconf_new("sinks.conf", text, strlen(text), &conf, err, errlen);
    if (e != NW_OK)
        fail_msg("nw_kvconf_new: %s", err);
    nw_sinks_config_init(c);
    e = nw_sinks_config_apply(c, conf, err, errlen);
    nw_kvconf_free(conf);
    return e;
}

static void config_keys_are_applied(void **state)
{
    (void)state;
    nw_sinks_config c;
    char err[512] = "";
    nw_sinks_config_init(&c);
    assert_true(c.stdout_enabled);
    assert_int_equal(c.retry_attempts, 5);
    assert_int_equal(c.backoff_ms, 200);
    assert_int_equal(c.backoff_max_ms, 10000);
    assert_int_equal(c.timeout_ms, 5000);
    assert_int_equal(c.queue_size, 1000);
    assert_string_equal(c.generator_url, "http://127.0.0.1/newswatch");
    assert_string_equal(c.alertmanager_url, "");
    assert_string_equal(c.webhook_url, "");

    const char *text = "bootstrap.servers = 127.0.0.1:9092\n"
                       "[sinks]\n"
                       "stdout = false\n"
                       "alertmanager.url = http://am.example:9093\n"
                       "webhook.url = https://hooks.example/newswatch?x=1\n"
                       "webhook.header = Authorization:   Bearer abc:def  \n"
                       "webhook.header = X-Team:ops\n"
                       "retry.attempts = 7\n"
                       "retry.backoff.ms = 100\n"
                       "retry.backoff.max.ms = 2000\n"
                       "timeout.ms = 1500\n"
                       "queue.size = 50\n"
                       "generator.url = https://newswatch.example/\n"
                       "[topics]\n"
                       "raw = news.raw\n";
    if (apply_text(text, &c, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    assert_false(c.stdout_enabled);
    assert_string_equal(c.alertmanager_url, "http://am.example:9093");
    assert_string_equal(c.webhook_url, "https://hooks.example/newswatch?x=1");
    assert_int_equal(c.webhook_header_count, 2);
    assert_string_equal(c.webhook_headers[0], "Authorization: Bearer abc:def");
    assert_string_equal(c.webhook_headers[1], "X-Team: ops");
    assert_int_equal(c.retry_attempts, 7);
    assert_int_equal(c.backoff_ms, 100);
    assert_int_equal(c.backoff_max_ms, 2000);
    assert_int_equal(c.timeout_ms, 1500);
    assert_int_equal(c.queue_size, 50);
    assert_string_equal(c.generator_url, "https://newswatch.example/");

    /* An empty URL turns a sink off again. */
    if (apply_text("[sinks]\nwebhook.url = https://h.example/\nwebhook.url =\n", &c, err,
                   sizeof err) != NW_OK)
        fail_msg("%s", err);
    assert_string_equal(c.webhook_url, "");
    /* No file: nothing changes. */
    assert_int_equal(nw_sinks_config_apply(&c, NULL, err, sizeof err), NW_OK);
}

/* config/newswatch.conf's [sinks] examples, uncommented, are valid. */
static void the_example_config_parses(void **state)
{
    (void)state;
    const char *path = getenv("NW_CONFIG_EXAMPLE");
    if (path == NULL)
        path = "config/newswatch.conf"; /* scripts/run-tests runs from the repository */
    size_t len;
    char *text = tu_read(path, &len);
    if (text == NULL)
        fail_msg("cannot read %s (run from the repository or set NW_CONFIG_EXAMPLE)", path);
    char *out = malloc(len + 1);
    assert_non_null(out);
    size_t n = 0, examples = 0;
    int in_sinks = 0;
    for (char *line = text; *line != '\0';) {
        char *nl = strchr(line, '\n');
        size_t l = nl != NULL ? (size_t)(nl - line + 1) : strlen(line);
        if (line[0] == '[')
            in_sinks = strncmp(line, "[sinks]", 7) == 0;
        /* "# key = value" with a one-word key: an example to uncomment. */
        size_t skip = 0;
        if (in_sinks && strncmp(line, "# ", 2) == 0) {
            size_t w = strcspn(line + 2, " \n");
            if (strncmp(line + 2 + w, " = ", 3) == 0) {
                skip = 2;
                examples++;
            }
        }
        memcpy(out + n, line + skip, l - skip);
        n += l - skip;
        line += l;
    }
    out[n] = '\0';
    assert_true(examples >= 10);
    nw_kvconf *conf = NULL;
    char err[512];
    if (nw_kvconf_new(path, out, n, &conf, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    nw_sinks_config c;
    nw_sinks_config_init(&c);
    if (nw_sinks_config_apply(&c, conf, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    assert_string_equal(c.alertmanager_url, "http://alertmanager.example.org:9093");
    assert_int_equal(c.webhook_header_count, 2);
    assert_int_equal(c.retry_attempts, 5);
    assert_int_equal(c.queue_size, 1000);
    nw_kvconf_free(conf);
    free(out);
    free(text);
}

static void config_errors_name_file_and_line(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *expect; /* the start of the message */
        const char *also;   /* and somewhere in it */
    } cases[] = {
        {"[sinks]\nstdout = true\nwebhok.url = http://x/\n",
         "sinks.conf:3: unknown key 'webhok.url'", "known: stdout"},
        {"[sinks]\nretry.attempts = five\n", "sinks.conf:2: retry.attempts must be", "'five'"},
        {"[sinks]\n\nretry.attempts = 0\n", "sinks.conf:3: retry.attempts must be", "1 to 100"},
        {"[sinks]\nretry.attempts = -3\n", "sinks.conf:2: retry.attempts", "'-3'"},
        {"[sinks]\ntimeout.ms = 5s\n", "sinks.conf:2: timeout.ms must be", "'5s'"},
        {"[sinks]\nqueue.size = 99999999999999999999\n", "sinks.conf:2: queue.size must be",
         "1000000"},
        {"[sinks]\nretry.backoff.ms = 1.5\n", "sinks.conf:2: retry.backoff.ms must be", "'1.5'"},
        {"[sinks]\nretry.backoff.ms = 500\nretry.backoff.max.ms = 100\n",
         "sinks.conf:3: retry.backoff.max.ms (100) is below retry.backoff.ms (500)", ""},
        {"[sinks]\nwebhook.header = Authorization Bearer x\n",
         "sinks.conf:2: webhook.header must be 'Name: value' (no ':' found)", "not shown"},
        {"[sinks]\nwebhook.header = : x\n", "sinks.conf:2: webhook.header", "empty header name"},
        {"[sinks]\nwebhook.header = X Token: x\n", "sinks.conf:2: webhook.header", "character"},
        {"[sinks]\nwebhook.header = idempotency-key: 1\n", "sinks.conf:2: webhook.header",
         "newswatch sets itself"},
        {"[sinks]\nwebhook.url = ftp://example.org/\n", "sinks.conf:2: webhook.url",
         "http:// or https://"},
        {"[sinks]\nalertmanager.url = http://\n", "sinks.conf:2: alertmanager.url", "no host"},
        {"[sinks]\nalertmanager.url = http://a b/\n", "sinks.conf:2: alertmanager.url",
         "white space"},
        {"[sinks]\ngenerator.url =\n", "sinks.conf:2: generator.url must not be empty", ""},
        {"[sinks]\nstdout = yes\n", "sinks.conf:2: stdout must be true or false", "'yes'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nw_sinks_config c;
        char err[1024] = "";
        nw_err e = apply_text(cases[i].text, &c, err, sizeof err);
        if (e != NW_ECONFIG || strncmp(err, cases[i].expect, strlen(cases[i].expect)) != 0 ||
            strstr(err, cases[i].also) == NULL)
            fail_msg("case %zu: got %d '%s', expected '%s...%s'", i, (int)e, err, cases[i].expect,
                     cases[i].also);
    }
    /* Too many headers. */
    char text[4096] = "[sinks]\n";
    for (int i = 0; i <= NW_SINKS_HEADERS_MAX; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "webhook.header = X-H%d: v\n", i);
    nw_sinks_config c;
    char err[512];
    assert_int_equal(apply_text(text, &c, err, sizeof err), NW_ECONFIG);
    char expect[64];
    snprintf(expect, sizeof expect, "sinks.conf:%d: too many webhook.header lines",
             NW_SINKS_HEADERS_MAX + 2);
    if (strncmp(err, expect, strlen(expect)) != 0)
        fail_msg("got '%s'", err);

    /* nw_sinks_new checks a hand-made configuration too. */
    nw_sinks_config_init(&c);
    c.retry_attempts = 0;
    nw_sinks *s = NULL;
    assert_int_equal(nw_sinks_new(&c, NULL, &s, err, sizeof err), NW_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err, "retry.attempts 0"));
    nw_sinks_free(NULL);
}

/* No sink configured but stdout off: sending is a harmless no-op. */
static void no_sinks_is_a_no_op(void **state)
{
    (void)state;
    nw_sinks_config c;
    test_config(&c);
    nw_sinks *s = start_sinks(&c, NULL);
    sample a;
    sample_init(&a, "baghdad-bombing-2021", NULL);
    nw_sinks_send(s, &a.v);
    assert_int_equal(nw_sinks_flush(s, 0), 0);
    nw_sink_stats st[NW_SINK_COUNT];
    nw_sinks_stats(s, st);
    for (int k = 0; k < NW_SINK_COUNT; k++) {
        assert_false(st[k].enabled);
        assert_int_equal(st[k].delivered, 0);
    }
    assert_string_equal(st[NW_SINK_STDOUT].name, "stdout");
    assert_string_equal(st[NW_SINK_ALERTMANAGER].name, "alertmanager");
    assert_string_equal(st[NW_SINK_WEBHOOK].name, "webhook");
    nw_sinks_free(s);
    sample_free(&a);
}

/* End to end: newswatch-consumer --replay on the seeds pages a real Alertmanager. */
static void replay_pages_alertmanager(void **state)
{
    const alertmanager *am = *state;
    char *dir = tu_mkdtemp();
    char conf[512], cmd[8192];
    int n = snprintf(conf, sizeof conf, "[sinks]\nalertmanager.url = %s\nretry.backoff.ms = 50\n",
                     am->url);
    tu_write(dir, "n.conf", conf, (size_t)n);
    snprintf(cmd, sizeof cmd, "'%s' -c '%s/n.conf' -q --replay --emit alerts '%s'",
             it_bin("newswatch-consumer"), dir, it_seeds_dir());
    it_result r;
    it_run(cmd, NULL, &r);
    if (r.status != 0)
        fail_msg("exit %d: %s", r.status, r.err);
    json_t *alerts = am_alerts(am);
    /* One Alertmanager alert per incident (kind "incident") and one per update. */
    /* The airport incident's day is the one seed 004 states, read today. */
    json_t *airport = am_find_like(alerts, "baghdad-airport-rockets:", ":1");
    json_t *bombing = am_find(alerts, "baghdad-bombing:2021-01-21:3");
    if (airport == NULL || bombing == NULL)
        fail_msg("Alertmanager holds: %s", json_dumps(alerts, 0));
    assert_string_equal(str_at(airport, "labels", "event"), "baghdad-airport-rockets");
    assert_string_equal(str_at(airport, "labels", "severity"), "critical");
    assert_string_equal(str_at(airport, "annotations", "doc_id"), "004_6be975f03497fb3e");
    assert_string_equal(str_at(bombing, "annotations", "status"), "update");
    json_decref(alerts);
    it_result_free(&r);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_keys_are_applied),
        cmocka_unit_test(config_errors_name_file_and_line),
        cmocka_unit_test(the_example_config_parses),
        cmocka_unit_test(no_sinks_is_a_no_op),
        cmocka_unit_test_setup_teardown(alertmanager_receives_the_alert, am_start, am_stop),
        cmocka_unit_test_setup_teardown(webhook_retries_503_then_delivers, hook_start, hook_stop),
        cmocka_unit_test_setup_teardown(webhook_4xx_is_not_retried, hook_start, hook_stop),
        cmocka_unit_test_setup_teardown(webhook_gives_up_after_the_attempts, hook_start, hook_stop),
        cmocka_unit_test_setup_teardown(a_full_queue_drops_the_oldest, hook_start, hook_stop),
        cmocka_unit_test_setup_teardown(a_down_webhook_blocks_nothing, am_start, am_stop),
        cmocka_unit_test(a_hanging_webhook_is_abandoned_at_shutdown),
        cmocka_unit_test_setup_teardown(replay_pages_alertmanager, am_start, am_stop),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
