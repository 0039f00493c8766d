/*
 * The producer's feed poller against a local HTTP server (libmicrohttpd)
 * and a real Kafka broker, read back with kcat (read_committed):
 *
 *  - realistic feeds: Arabic RSS with CDATA and HTML, Atom with xml:base and
 *    relative links, JSON Feed, a gzip-compressed RSS, a windows-1256 RSS,
 *    one that answers 304 to its ETag;
 *  - hostile or broken ones: a 500, a 503 with Retry-After, a server that
 *    hangs, a redirect loop, a billion-laughs document, bytes that are not
 *    UTF-8; each is named in the log and none stops the others;
 *  - each item reaches news.raw once, with title, body as clean text, url
 *    and published_at; a second run (a restart) publishes nothing new;
 *  - polling until stopped: 304s, backoff, Retry-After, /metrics;
 *  - the daemon turns the feed's rocket attack on Baghdad airport into an
 *    alert.
 * The feeds are the fixtures of tests/fixtures/feeds (see its README).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

#define FIXTURES "tests/fixtures/feeds/"
/* How long /hang waits before it answers: far past the producer's timeout.ms (2 s). */
#define HANG_MS 15000

/* ---- the feed server -------------------------------------------------------- */

typedef struct route {
    const char *path;
    const char *file;         /* fixture to serve, or NULL */
    const char *content_type; /* with its charset */
    int status;               /* what to answer with */
    bool gzip;                /* serve the fixture gzip-compressed (Content-Encoding) */
    bool etag;                /* ETag "v1"; If-None-Match "v1" gets 304 */
    int hang_ms;              /* wait this long before answering */
    const char *location;     /* a redirect's target */
    const char *retry_after;
    /* what the server saw */
    int requests, not_modified, gzip_asked;
    char user_agent[256];
} route;

typedef struct server {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    route *routes;
    size_t nroutes;
    char dir[512]; /* the gzip copies */
} server;

static route routes_template[] = {
    {"/ar.xml", FIXTURES "rss2-ar.xml", "application/rss+xml; charset=utf-8", 200, false, false, 0,
     NULL, NULL, 0, 0, 0, ""},
    {"/en.atom", FIXTURES "atom.xml", "application/atom+xml", 200, false, false, 0, NULL, NULL, 0,
     0, 0, ""},
    {"/feed.json", FIXTURES "jsonfeed.json", "application/feed+json", 200, false, false, 0, NULL,
     NULL, 0, 0, 0, ""},
    {"/wire.xml", FIXTURES "rss2-en.xml", "application/rss+xml", 200, true, false, 0, NULL, NULL, 0,
     0, 0, ""},
    {"/old.xml", FIXTURES "rss2-windows-1256.xml", "text/xml; charset=windows-1256", 200, false,
     false, 0, NULL, NULL, 0, 0, 0, ""},
    {"/etag.xml", FIXTURES "rss1-rdf.xml", "application/rdf+xml", 200, false, true, 0, NULL, NULL,
     0, 0, 0, ""},
    {"/broken", NULL, "text/plain", 500, false, false, 0, NULL, NULL, 0, 0, 0, ""},
    {"/busy", NULL, "text/plain", 503, false, false, 0, NULL, "3", 0, 0, 0, ""},
    {"/hang", FIXTURES "rss2-en.xml", "application/rss+xml", 200, false, false, HANG_MS, NULL, NULL,
     0, 0, 0, ""},
    {"/loop", NULL, "text/plain", 302, false, false, 0, "/loop2", NULL, 0, 0, 0, ""},
    {"/loop2", NULL, "text/plain", 302, false, false, 0, "/loop", NULL, 0, 0, 0, ""},
    {"/laughs.xml", FIXTURES "billion-laughs.xml", "application/xml", 200, false, false, 0, NULL,
     NULL, 0, 0, 0, ""},
    {"/bad-bytes.xml", FIXTURES "rss2-bad-utf8.xml", "application/rss+xml; charset=utf-8", 200,
     false, false, 0, NULL, NULL, 0, 0, 0, ""},
};

static route *find_route(server *s, const char *path)
{
    for (size_t i = 0; i < s->nroutes; i++)
        if (strcmp(s->routes[i].path, path) == 0)
            return &s->routes[i];
    return NULL;
}

static enum MHD_Result answer(struct MHD_Connection *conn, int status, const char *type,
                              const char *body, size_t len, const route *r)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", type);
    if (r != NULL && r->etag)
        MHD_add_response_header(resp, "ETag", "\"v1\"");
    if (r != NULL && r->gzip && status == 200)
        MHD_add_response_header(resp, "Content-Encoding", "gzip");
    if (r != NULL && r->location != NULL)
        MHD_add_response_header(resp, "Location", r->location);
    if (r != NULL && r->retry_after != NULL)
        MHD_add_response_header(resp, "Retry-After", r->retry_after);
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    (void)method;
    (void)version;
    (void)data;
    (void)size;
    (void)con_cls;
    server *s = cls;
    pthread_mutex_lock(&s->mu);
    route *r = find_route(s, url);
    if (r == NULL) {
        pthread_mutex_unlock(&s->mu);
        return answer(conn, 404, "text/plain", "not found", 9, NULL);
    }
    r->requests++;
    const char *ua = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "User-Agent");
    snprintf(r->user_agent, sizeof r->user_agent, "%s", ua != NULL ? ua : "");
    const char *ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");
    if (ae != NULL && strstr(ae, "gzip") != NULL)
        r->gzip_asked++;
    const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
    bool not_modified = r->etag && inm != NULL && strcmp(inm, "\"v1\"") == 0;
    if (not_modified)
        r->not_modified++;
    route copy = *r;
    pthread_mutex_unlock(&s->mu);
    if (copy.hang_ms > 0)
        it_sleep_ms(copy.hang_ms);
    if (not_modified)
        return answer(conn, 304, copy.content_type, "", 0, &copy);
    if (copy.file == NULL)
        return answer(conn, copy.status, copy.content_type, "no", 2, &copy);
    char path[1024];
    if (copy.gzip)
        snprintf(path, sizeof path, "%s/%s.gz", s->dir, copy.path + 1);
    else
        snprintf(path, sizeof path, "%s", copy.file);
    size_t len = 0;
    char *body = tu_read(path, &len);
    enum MHD_Result rc = answer(conn, copy.status, copy.content_type, body, len, &copy);
    free(body);
    return rc;
}

static server *server_start(void)
{
    server *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    pthread_mutex_init(&s->mu, NULL);
    s->nroutes = sizeof routes_template / sizeof routes_template[0];
    s->routes = malloc(sizeof routes_template);
    assert_non_null(s->routes);
    memcpy(s->routes, routes_template, sizeof routes_template);
    char *dir = tu_mkdtemp();
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    free(dir);
    for (size_t i = 0; i < s->nroutes; i++) {
        if (!s->routes[i].gzip)
            continue;
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "gzip -c '%s' > '%s/%s.gz'", s->routes[i].file, s->dir,
                 s->routes[i].path + 1);
        it_result r;
        it_run(cmd, NULL, &r);
        assert_int_equal(r.status, 0);
        it_result_free(&r);
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    assert_non_null(s->d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info != NULL ? info->port : 0;
    assert_true(s->port > 0);
    return s;
}

static void server_stop(server *s)
{
    MHD_stop_daemon(s->d);
    tu_rmtree(s->dir);
    free(s->routes);
    free(s);
}

static route server_route(server *s, const char *path)
{
    pthread_mutex_lock(&s->mu);
    route r = *find_route(s, path);
    pthread_mutex_unlock(&s->mu);
    return r;
}

/* ---- one test's world ------------------------------------------------------- */

typedef struct world {
    char prefix[128], dir[512], conf[600], feeds[600], log[600];
    server *srv;
} world;

/*
 * The configuration: the world's topics, [feeds] with short limits, the
 * HTTP endpoint on a free port; the feeds file names the routes given.
 */
static void world_init(world *w, const char *name, const char *const *feeds, size_t nfeeds,
                       const char *feed_settings)
{
    w->srv = server_start();
    it_topic_name(name, w->prefix, sizeof w->prefix);
    char *dir = tu_mkdtemp();
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    free(dir);
    snprintf(w->conf, sizeof w->conf, "%s/n.conf", w->dir);
    snprintf(w->feeds, sizeof w->feeds, "%s/feeds.conf", w->dir);
    snprintf(w->log, sizeof w->log, "%s/producer.log", w->dir);
    char text[4096];
    int n = snprintf(text, sizeof text,
                     "bootstrap.servers = %s\n"
                     "[topics]\nraw = %s.raw\nenriched = %s.enriched\nmatches = %s.matches\n"
                     "alerts = %s.alerts\nalert-state = %s.alert-state\ndlq = %s.dlq\n"
                     "feed-state = %s.feed-state\n"
                     "[consumer]\ngroup.enrich = %s-enrich\ngroup.alert = %s-alert\n"
                     "transactional.id.prefix = %s\nbatch.ms = 50\n"
                     "[feeds]\nfile = %s\ntransactional.id = %s-feeds\ntimeout.ms = 2000\n"
                     "connect.timeout.ms = 1000\njitter.percent = 0\n%s"
                     "[sinks]\nstdout = false\n[http]\nlisten = 127.0.0.1:0\n"
                     "producer.listen = 127.0.0.1:0\n",
                     it_brokers(), w->prefix, w->prefix, w->prefix, w->prefix, w->prefix, w->prefix,
                     w->prefix, w->prefix, w->prefix, w->prefix, w->feeds, w->prefix,
                     feed_settings != NULL ? feed_settings : "");
    tu_write(w->dir, "n.conf", text, (size_t)n);
    char list[8192] = "# the test's feeds\n";
    for (size_t i = 0; i < nfeeds; i++) {
        size_t used = strlen(list);
        const char *path = feeds[i];
        char section[64];
        snprintf(section, sizeof section, "%s", path + 1);
        for (char *p = section; *p != '\0'; p++)
            if (*p == '.' || *p == '/')
                *p = '-';
        snprintf(list + used, sizeof list - used, "[%s]\nurl = http://127.0.0.1:%d%s\n", section,
                 w->srv->port, path);
    }
    tu_write(w->dir, "feeds.conf", list, strlen(list));
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' -q -c '%s' --create-topics --partitions 2",
             it_bin("newswatch-consumer"), w->conf);
    it_result r;
    it_run(cmd, NULL, &r);
    if (r.status != 0)
        fail_msg("create topics: %s", r.err);
    it_result_free(&r);
}

static void world_free(world *w)
{
    server_stop(w->srv);
    tu_rmtree(w->dir);
}

static const char *topic(const world *w, const char *role)
{
    static char name[256];
    snprintf(name, sizeof name, "%s.%s", w->prefix, role);
    return name;
}

/* newswatch-producer -c CONF ARGS, run to its end. */
static void run_producer(const world *w, const char *args, it_result *r)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' -c '%s' %s", it_bin("newswatch-producer"), w->conf, args);
    it_run(cmd, NULL, r);
}

static const char *field(const json_t *doc, const char *name);

/* The record kcat printed as env has header name, with the value want. */
static void assert_header(const json_t *env, const char *name, const char *want)
{
    const char *got = it_kcat_header(env, name);
    if (got == NULL || want == NULL || strcmp(got, want) != 0)
        fail_msg("header %s: got %s, want %s", name, got != NULL ? got : "(none)",
                 want != NULL ? want : "(none)");
}

/* The payloads of a topic's records, as JSON objects. */
static json_t *documents(const world *w)
{
    json_t *msgs = it_kcat_consume(topic(w, "raw"));
    json_t *docs = json_array();
    size_t i;
    json_t *env;
    json_array_foreach(msgs, i, env)
    {
        const char *payload = json_string_value(json_object_get(env, "payload"));
        json_error_t jerr;
        json_t *d = payload != NULL ? json_loads(payload, 0, &jerr) : NULL;
        if (d == NULL)
            fail_msg("not a JSON document in news.raw: %s", payload != NULL ? payload : "(null)");
        /* A CloudEvent like every record (docs/schemas.md): id the document's, time its
         * ingested_at, and its JSON Schema named. */
        assert_header(env, "ce_specversion", "1.0");
        assert_header(env, "ce_id", field(d, "id"));
        assert_header(env, "ce_source", "/newswatch/producer/feeds");
        assert_header(env, "ce_type", "newswatch.doc/1");
        assert_header(env, "ce_dataschema", "urn:newswatch:schema:newswatch.doc/1");
        assert_header(env, "ce_time", field(d, "ingested_at"));
        assert_header(env, "content-type", "application/json");
        assert_header(env, "schema", "newswatch.doc/1");
        json_array_append_new(docs, d);
    }
    json_decref(msgs);
    return docs;
}

static const json_t *doc_titled(const json_t *docs, const char *title)
{
    size_t i;
    const json_t *d;
    json_array_foreach(docs, i, d)
    {
        const char *t = json_string_value(json_object_get(d, "title"));
        if (t != NULL && strcmp(t, title) == 0)
            return d;
    }
    return NULL;
}

static const char *field(const json_t *doc, const char *name)
{
    return json_string_value(json_object_get(doc, name));
}

/* No two documents with one id. */
static void assert_each_once(const json_t *docs)
{
    for (size_t i = 0; i < json_array_size(docs); i++)
        for (size_t k = i + 1; k < json_array_size(docs); k++)
            if (strcmp(field(json_array_get(docs, i), "id"),
                       field(json_array_get(docs, k), "id")) == 0)
                fail_msg("%s is in news.raw twice", field(json_array_get(docs, i), "id"));
}

/* A document as the issue asks: title, clean text, absolute url, RFC 3339 date. */
static void assert_document(const json_t *docs, const char *title, const char *body_part,
                            const char *url_prefix, const char *published_at, const char *source)
{
    const json_t *d = doc_titled(docs, title);
    if (d == NULL)
        fail_msg("no document titled '%s' in news.raw", title);
    const char *body = field(d, "body"), *url = field(d, "url");
    assert_non_null(body);
    if (strstr(body, body_part) == NULL)
        fail_msg("'%s': the body does not contain '%s': %s", title, body_part, body);
    if (strpbrk(body, "<>") != NULL || strstr(body, "&amp;") != NULL || strstr(body, "]]>") != NULL)
        fail_msg("'%s': the body is not clean text: %s", title, body);
    if (url_prefix != NULL && (url == NULL || strncmp(url, url_prefix, strlen(url_prefix)) != 0))
        fail_msg("'%s': url %s, expected %s...", title, url != NULL ? url : "null", url_prefix);
    if (published_at != NULL &&
        (field(d, "published_at") == NULL || strcmp(field(d, "published_at"), published_at) != 0))
        fail_msg("'%s': published_at %s, expected %s", title,
                 field(d, "published_at") != NULL ? field(d, "published_at") : "null",
                 published_at);
    if (source != NULL)
        assert_string_equal(field(d, "source"), source);
}

static void assert_logged(const char *log, const char *a, const char *b)
{
    for (const char *line = log; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        char buf[4096];
        snprintf(buf, sizeof buf, "%.*s", (int)len, line);
        if (strstr(buf, a) != NULL && strstr(buf, b) != NULL)
            return;
        line = end != NULL ? end + 1 : NULL;
    }
    fail_msg("no log line says both '%s' and '%s':\n%s", a, b, log);
}

/* ---- the tests -------------------------------------------------------------- */

static const char *const all_feeds[] = {"/ar.xml",  "/en.atom",  "/feed.json",  "/wire.xml",
                                        "/old.xml", "/etag.xml", "/broken",     "/busy",
                                        "/hang",    "/loop",     "/laughs.xml", "/bad-bytes.xml"};

/*
 * --once over good and bad feeds: every good item once with its fields, every
 * bad feed named with its reason; a second run (a restart) publishes nothing
 * and gets a 304 for the feed with an ETag.
 */
static void each_item_once_and_bad_feeds_named(void **state)
{
    (void)state;
    world w;
    world_init(&w, "feeds", all_feeds, sizeof all_feeds / sizeof all_feeds[0], NULL);
    it_result r;
    double t0 = it_now_ms();
    run_producer(&w, "--once", &r);
    double took = it_now_ms() - t0;
    /* some feeds failed: status 1, and each is named with its reason */
    if (r.status != 1)
        fail_msg("status %d, expected 1 (some feeds failed):\n%s", r.status, r.err);
    assert_logged(r.err, "feed broken:", "HTTP 500");
    assert_logged(r.err, "feed busy:", "HTTP 503");
    assert_logged(r.err, "feed hang:", "timed out");
    assert_logged(r.err, "feed loop:", "more than 5 redirects");
    assert_logged(r.err, "feed laughs-xml:", "entity");
    assert_logged(r.err, "feed bad-bytes-xml:", "UTF-8");
    /* the hanging server was given up on at timeout.ms, long before it would have answered */
    if (took >= HANG_MS - 3000)
        fail_msg("the run took %.1f s: the hanging server held it up", took / 1000);

    json_t *docs = documents(&w);
    assert_each_once(docs);
    /* Arabic RSS: CDATA and HTML in content:encoded, a +0300 date in UTC */
    assert_document(docs, "سقوط صواريخ كاتيوشا قرب مطار بغداد الدولي", "صواريخ كاتيوشا",
                    "https://ar.example.iq/news/2021/01/22/", "2021-01-22T20:10:00Z", "ar-xml");
    /* Atom: xml:base and relative links resolved; XHTML content as text */
    assert_document(docs, "صواريخ على مطار بغداد", "سقطت ثلاثة صواريخ قرب المطار.",
                    "https://blog.example.net/ar/2021/01/airport", "2021-01-22T23:59:59Z", NULL);
    assert_document(docs, "Plain text entry", "A new paragraph & an ampersand.", "https://", NULL,
                    NULL);
    /* JSON Feed */
    assert_document(docs, "Rockets near the airport", "Three rockets struck near the airport.",
                    "https://elsewhere.example.org/story", NULL, NULL);
    /* gzip on the wire */
    assert_document(docs, "Twin suicide bombings hit Baghdad's Tayaran Square",
                    "At least 32 people were killed", "https://news.example.com/iraq/2021/01/21/",
                    "2021-01-21T07:45:00Z", "wire-xml");
    route wire = server_route(w.srv, "/wire.xml");
    assert_int_equal(wire.gzip_asked, 1);
    if (strncmp(wire.user_agent, "newswatch-producer/", 19) != 0)
        fail_msg("User-Agent '%s' does not name newswatch", wire.user_agent);
    /* windows-1256, from the HTTP charset */
    assert_document(docs, "مجلس الوزراء يعقد جلسة طارئة بعد تفجير ساحة الطيران",
                    "عقد مجلس الوزراء جلسة طارئة", "http://old.example.iq/", NULL, NULL);
    size_t n = json_array_size(docs);
    /* what reached the topics is valid by the JSON Schemas (an independent validator) */
    char raw[256], states[256], cmd[2048];
    snprintf(raw, sizeof raw, "%s", topic(&w, "raw"));
    snprintf(states, sizeof states, "%s", topic(&w, "feed-state"));
    snprintf(cmd, sizeof cmd,
             "{ kcat -b '%s' -C -t '%s' -e -q -X isolation.level=read_committed; "
             "kcat -b '%s' -C -t '%s' -e -q -X isolation.level=read_committed; } | "
             "/usr/bin/python3 tests/checks/validate_schemas.py --expect newswatch.doc/1=%zu "
             "--expect newswatch.feed-state/1=6 -",
             it_brokers(), raw, it_brokers(), states, n);
    it_result v;
    it_run(cmd, NULL, &v);
    if (v.status != 0)
        fail_msg("the records are not valid by schemas/ (%s): %s%s", cmd, v.out, v.err);
    it_result_free(&v);
    json_decref(docs);
    it_result_free(&r);

    /* a restart: nothing new, and the ETag feed answers 304 */
    run_producer(&w, "--once", &r);
    if (r.status != 1)
        fail_msg("second run: status %d:\n%s", r.status, r.err);
    docs = documents(&w);
    if (json_array_size(docs) != n)
        fail_msg("the second run published %zu documents more:\n%s", json_array_size(docs) - n,
                 r.err);
    json_decref(docs);
    route etag = server_route(w.srv, "/etag.xml");
    assert_int_equal(etag.requests, 2);
    assert_int_equal(etag.not_modified, 1);
    it_result_free(&r);

    /* each feed-state record is a CloudEvent of its own: the key stays the feed's name
     * (compaction), the id names the state at its time, so that a subscriber that drops
     * repeated ids keeps every change of a feed */
    json_t *st = it_kcat_consume(topic(&w, "feed-state"));
    if (json_array_size(st) < 6)
        fail_msg("%zu feed-state records after a run of six feeds", json_array_size(st));
    size_t i;
    json_t *env;
    json_array_foreach(st, i, env)
    {
        const char *key = json_string_value(json_object_get(env, "key"));
        const char *when = it_kcat_header(env, "ce_time");
        assert_non_null(key);
        assert_non_null(when);
        char want[512];
        snprintf(want, sizeof want, "state:%s:%s", key, when);
        assert_header(env, "ce_id", want);
        assert_header(env, "ce_source", "/newswatch/producer/feeds");
        assert_header(env, "ce_type", "newswatch.feed-state/1");
        assert_header(env, "ce_dataschema", "urn:newswatch:schema:newswatch.feed-state/1");
    }
    json_decref(st);
    world_free(&w);
}

/* The value of a sample line "name{labels} value" in a metrics page; -1 when absent. */
static double sample(const char *page, const char *series)
{
    const char *p = strstr(page, series);
    if (p == NULL)
        return -1;
    return atof(p + strlen(series) + 1);
}

/*
 * Polling until stopped: 304s; a failing feed backs off (the wait doubles),
 * a 503 with Retry-After waits as long as asked; /metrics counts it all;
 * SIGTERM stops with status 0; nothing is published twice. Then the daemon
 * raises the alert for the rocket attack on Baghdad airport from the feed.
 */
static void polls_until_stopped_and_alerts(void **state)
{
    (void)state;
    static const char *const feeds[] = {"/ar.xml", "/etag.xml", "/broken", "/busy"};
    world w;
    world_init(&w, "feedpoll", feeds, 4, "interval.ms = 1000\n");
    char *argv[] = {(char *)it_bin("newswatch-producer"), "-c", w.conf, NULL};
    static char bin[4096];
    snprintf(bin, sizeof bin, "%s", it_bin("newswatch-producer"));
    argv[0] = bin;
    long pid = it_spawn(argv, w.log);
    int port = 0;
    for (double end = it_now_ms() + 20000; port == 0 && it_now_ms() < end; it_sleep_ms(100))
        port = it_daemon_http_port(w.log);
    if (port == 0) {
        it_show_log(w.log);
        fail_msg("the producer does not say where /metrics is");
    }
    /* wait for the first poll of each feed, then for ~6 s of polling */
    double start = 0;
    for (double end = it_now_ms() + 20000; it_now_ms() < end; it_sleep_ms(100)) {
        if (server_route(w.srv, "/etag.xml").requests >= 1 &&
            server_route(w.srv, "/busy").requests >= 1) {
            start = it_now_ms();
            break;
        }
    }
    assert_true(start > 0);
    it_sleep_ms(6500);
    route etag = server_route(w.srv, "/etag.xml"), broken = server_route(w.srv, "/broken"),
          busy = server_route(w.srv, "/busy");
    char *page = NULL;
    assert_int_equal(it_http_get(port, "/metrics", &page), 200);
    char *ready = NULL;
    int rs = it_http_get(port, "/readyz", &ready);
    int status = it_stop(pid, 20000);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        it_show_log(w.log);
        fail_msg("SIGTERM: the producer did not exit with status 0 (%d)", status);
    }
    /* every second: the ETag feed was polled again and again, and got 304s */
    if (etag.requests < 4 || etag.not_modified < etag.requests - 1)
        fail_msg("etag.xml: %d requests, %d answered 304", etag.requests, etag.not_modified);
    /* backoff: 1 s, 2 s, 4 s after each failure: at most 4 tries in ~6.5 s (not 7) */
    if (broken.requests < 2 || broken.requests > 4)
        fail_msg("/broken was fetched %d times in 6.5 s: no backoff", broken.requests);
    /* Retry-After: 3: at most 3 tries */
    if (busy.requests < 2 || busy.requests > 3)
        fail_msg("/busy (Retry-After: 3) was fetched %d times in 6.5 s", busy.requests);
    assert_int_equal(rs, 200);
    double nm =
        sample(page, "newswatch_feed_polls_total{feed=\"etag-xml\",result=\"not_modified\"}");
    if (nm < 3)
        fail_msg("no 304s counted:\n%s", page);
    assert_true(sample(page, "newswatch_feed_polls_total{feed=\"broken\",result=\"http_error\"}") >=
                2);
    assert_true(sample(page, "newswatch_feed_items_total{feed=\"ar-xml\",outcome=\"published\"}") ==
                3);
    assert_true(sample(page, "newswatch_feed_items_total{feed=\"ar-xml\",outcome=\"duplicate\"}") >=
                3);
    assert_null(strstr(page, "newswatch_documents_in_total")); /* the daemon's, not here */
    free(page);
    free(ready);

    json_t *docs = documents(&w);
    assert_each_once(docs);
    /* rss2-ar.xml: 3 items; rss1-rdf.xml: its items, once */
    size_t n = json_array_size(docs);
    assert_true(n >= 4);
    json_decref(docs);

    /* the daemon: the feed's rocket attack on Baghdad airport is an alert */
    char daemon_log[700];
    snprintf(daemon_log, sizeof daemon_log, "%s/daemon.log", w.dir);
    char *dargv[] = {NULL, "-c", w.conf, NULL};
    static char dbin[4096];
    snprintf(dbin, sizeof dbin, "%s", it_bin("newswatch-consumer"));
    dargv[0] = dbin;
    long dpid = it_spawn(dargv, daemon_log);
    bool found = false;
    for (double end = it_now_ms() + 60000; !found && it_now_ms() < end; it_sleep_ms(500)) {
        json_t *alerts = it_kcat_consume(topic(&w, "alerts"));
        size_t i;
        json_t *env;
        json_array_foreach(alerts, i, env)
        {
            const char *p = json_string_value(json_object_get(env, "payload"));
            if (p != NULL && strstr(p, "\"event\":\"baghdad-airport-rockets\"") != NULL)
                found = true;
        }
        json_decref(alerts);
    }
    it_stop(dpid, 30000);
    if (!found) {
        it_show_log(daemon_log);
        fail_msg("no baghdad-airport-rockets alert from the feed's item");
    }
    world_free(&w);
}

static int kill_leftovers(void **state)
{
    (void)state;
    it_kill_spawned();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(each_item_once_and_bad_feeds_named, kill_leftovers),
        cmocka_unit_test_teardown(polls_until_stopped_and_alerts, kill_leftovers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
