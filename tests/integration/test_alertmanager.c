/*
 * Alertmanager as Prometheus uses it (docs/sinks.md), against a real
 * Alertmanager (the Debian package's binary) and a receiver that records the
 * notifications Alertmanager sends (python3's http.server). No Kafka: the
 * test drives the alerter (nw_alerter_process on match records) and the
 * sinks (nw_sinks_send for each alert, nw_sinks_resend from nw_alerter_list
 * when nw_sinks_resend_due) the way the daemon's alert stage does, with
 * short intervals: resend every 500 ms, an incident quiet after 6 s,
 * group_wait and group_interval 1 s.
 *
 * It shows that a new incident and its news-bearing update each notify once,
 * that an Alertmanager restarted with empty storage mid-incident holds every
 * active alert again after the next resend (amtool alert query), that
 * nothing resolves while reports keep coming (endsAt keeps moving), and that
 * the alerts resolve once the incident has been quiet for its resolve_after.
 * Then the same through the daemon on the test's broker (NW_TEST_BROKERS):
 * the seeds' incidents reach Alertmanager, and an Alertmanager restarted
 * with empty storage holds them all again after the daemon's next re-post.
 *
 * Environment:
 *   NW_ALERTMANAGER   the Alertmanager binary (default /usr/bin/prometheus-alertmanager)
 *   NW_AMTOOL         amtool (default /usr/bin/amtool)
 *   NW_AM_PORT, NW_AM_RECEIVER_PORT   ports to use (default: free ones)
 * The test is skipped, saying why, when Alertmanager or amtool is missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../sinks/nw_sinks.h"
#include "newswatch/pipeline.h"
#include "newswatch/stages.h"
#include "support.h"

#define RESEND_MS     500
#define QUIET_S       6
#define EVENT         "am-test-bombing"
#define ROUTING_LABEL "team"

static const char events_conf[] = "[class.bombing]\n"
                                  "terms = bombing; blast\n"
                                  "\n"
                                  "[event." EVENT "]\n"
                                  "title = Test bombing in Baghdad\n"
                                  "severity = critical\n"
                                  "resolve_after = 6s\n"
                                  "label = team=news-ops\n"
                                  "match = loc.baghdad AND bombing\n";

static const char receiver_py[] =
    "import http.server, sys\n"
    "out = sys.argv[2]\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_POST(self):\n"
    "        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))\n"
    "        with open(out, 'ab') as f:\n"
    "            f.write(body.replace(b'\\n', b' ') + b'\\n')\n"
    "        self.send_response(200)\n"
    "        self.end_headers()\n"
    "    def do_GET(self):\n"
    "        self.send_response(200)\n"
    "        self.end_headers()\n"
    "    def log_message(self, *args):\n"
    "        pass\n"
    "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n";

typedef struct world {
    char *dir;
    const char *am_bin, *amtool;
    int am_port, rx_port;
    char am_url[64];
    long am_pid, rx_pid;
    int am_runs;
    nw_pipeline p;
    nw_alerter *alerter;
    nw_sinks *sinks;
    int reports; /* match records made so far */
} world;

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : dflt;
}

static int port_from_env(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? atoi(v) : it_free_port();
}

/* GET url: the HTTP status, 0 when nothing answered. */
static long http_status(const char *url)
{
    CURL *c = curl_easy_init();
    long status = 0;
    if (c == NULL)
        return 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fwrite);
    FILE *null = fopen("/dev/null", "w");
    curl_easy_setopt(c, CURLOPT_WRITEDATA, null);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (null != NULL)
        fclose(null);
    return status;
}

static void wait_ready(const char *url, long pid, const char *what)
{
    double t0 = it_now_ms();
    while (http_status(url) != 200) {
        int ws;
        if (waitpid((pid_t)pid, &ws, WNOHANG) == (pid_t)pid)
            fail_msg("%s exited before it was ready", what);
        if (it_now_ms() - t0 > 15000)
            fail_msg("%s was not ready within 15 s", what);
        it_sleep_ms(50);
    }
}

/* Starts Alertmanager with a fresh storage directory. */
static void am_start(world *w)
{
    char config[4200], storage[4200], listen[64], log[4200], data[64];
    snprintf(data, sizeof data, "data%d", w->am_runs++);
    snprintf(config, sizeof config, "--config.file=%s/alertmanager.yml", w->dir);
    snprintf(storage, sizeof storage, "--storage.path=%s/%s", w->dir, data);
    snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", w->am_port);
    snprintf(log, sizeof log, "%s/alertmanager.log", w->dir);
    char *argv[] = {(char *)w->am_bin,  config, storage, listen, "--cluster.listen-address=",
                    "--log.level=warn", NULL};
    w->am_pid = it_spawn(argv, log);
    char ready[128];
    snprintf(ready, sizeof ready, "%s/-/ready", w->am_url);
    wait_ready(ready, w->am_pid, "Alertmanager");
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    *state = w;
    w->am_bin = env_or("NW_ALERTMANAGER", "/usr/bin/prometheus-alertmanager");
    w->amtool = env_or("NW_AMTOOL", "/usr/bin/amtool");
    if (access(w->am_bin, X_OK) != 0 || access(w->amtool, X_OK) != 0) {
        fprintf(stderr,
                "test_alertmanager: SKIPPED: %s or %s not found: install prometheus-alertmanager "
                "(scripts/deps)\n",
                w->am_bin, w->amtool);
        return 0;
    }
    w->dir = tu_mkdtemp();
    w->am_port = port_from_env("NW_AM_PORT");
    w->rx_port = port_from_env("NW_AM_RECEIVER_PORT");
    snprintf(w->am_url, sizeof w->am_url, "http://127.0.0.1:%d", w->am_port);

    char yml[2048];
    int n = snprintf(yml, sizeof yml,
                     "# test_alertmanager: the route docs/sinks.md recommends, short timers\n"
                     "route:\n"
                     "  receiver: newswatch\n"
                     "  group_by: [alertname, event, incident, kind, sequence]\n"
                     "  group_wait: 1s\n"
                     "  group_interval: 1s\n"
                     "  repeat_interval: 1h\n"
                     "receivers:\n"
                     "  - name: newswatch\n"
                     "    webhook_configs:\n"
                     "      - url: http://127.0.0.1:%d/\n"
                     "        send_resolved: true\n",
                     w->rx_port);
    tu_write(w->dir, "alertmanager.yml", yml, (size_t)n);
    tu_write(w->dir, "receiver.py", receiver_py, strlen(receiver_py));
    tu_write(w->dir, "events.conf", events_conf, strlen(events_conf));
    tu_write(w->dir, "notifications.jsonl", "", 0);

    char script[4200], port[16], out[4200], log[4200];
    snprintf(script, sizeof script, "%s/receiver.py", w->dir);
    snprintf(port, sizeof port, "%d", w->rx_port);
    snprintf(out, sizeof out, "%s/notifications.jsonl", w->dir);
    snprintf(log, sizeof log, "%s/receiver.log", w->dir);
    char *py[] = {"/usr/bin/python3", script, port, out, NULL};
    w->rx_pid = it_spawn(py, log);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", w->rx_port);
    wait_ready(url, w->rx_pid, "the receiver");
    am_start(w);

    char err[512], events[4200];
    snprintf(events, sizeof events, "%s/events.conf", w->dir);
    nw_pipeline_paths paths = {NULL, NULL, events};
    if (nw_pipeline_load(&w->p, &paths, NULL, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    w->alerter = nw_alerter_new(w->p.rules);
    assert_non_null(w->alerter);
    nw_sinks_config c;
    nw_sinks_config_init(&c);
    c.stdout_enabled = 0;
    c.am_resend_ms = RESEND_MS;
    c.retry_attempts = 2;
    c.backoff_ms = 50;
    c.timeout_ms = 2000;
    snprintf(c.alertmanager_url, sizeof c.alertmanager_url, "%s", w->am_url);
    snprintf(c.program, sizeof c.program, "test_alertmanager");
    if (nw_sinks_new(&c, NULL, &w->sinks, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    return 0;
}

static void print_file(const world *w, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", w->dir, name);
    char *text = tu_read(path, NULL);
    fprintf(stderr, "--- %s\n%s---\n", path, text != NULL ? text : "(none)\n");
    free(text);
}

static int teardown(void **state)
{
    world *w = *state;
    if (w == NULL)
        return 0;
    nw_sinks_free(w->sinks);
    nw_alerter_free(w->alerter);
    nw_pipeline_unload(&w->p);
    if (w->am_pid > 0)
        it_stop(w->am_pid, 10000);
    if (w->rx_pid > 0)
        it_stop(w->rx_pid, 5000);
    if (w->dir != NULL) {
        tu_rmtree(w->dir);
        free(w->dir);
    }
    free(w);
    return 0;
}

/* ---- driving the alert stage ------------------------------------------- */

/* A match record of a distinct report of today's incident with this toll. */
static char *match_record(world *w, int killed)
{
    nw_fingerprint fp;
    memset(&fp, 0, sizeof fp);
    w->reports++;
    fp.exact = 0x9e3779b97f4a7c15ULL * (uint64_t)w->reports;
    for (int i = 0; i < NW_MINHASH_K; i++)
        fp.minhash[i] = (uint32_t)(w->reports * 7919 + i * 104729);
    fp.nshingles = 40;
    char fptext[NW_FINGERPRINT_TEXT_SIZE], now[32], day[11];
    nw_fingerprint_encode(&fp, fptext, sizeof fptext);
    nw_time_now_rfc3339(now);
    nw_day_format(nw_day_of_time((int64_t)time(NULL), 3 * 3600), day);
    char doc_id[32], title[64], url[96], evidence[128];
    snprintf(doc_id, sizeof doc_id, "doc-%d", w->reports);
    snprintf(title, sizeof title, "Report %d: blast in Baghdad", w->reports);
    snprintf(url, sizeof url, "https://news.example/%d", w->reports);
    snprintf(evidence, sizeof evidence, "A bombing in Baghdad killed %d people.", killed);
    json_t *m =
        json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:{s:i, s:n}, s:b, s:b, s:b, s:{s:s}, "
                  "s:s, s:s, s:s, s:s}",
                  "schema", NW_MATCH_SCHEMA, "event", EVENT, "event_time", now, "incident", day,
                  "day_stated", 1, "fingerprint", fptext, "casualties", "killed", killed, "wounded",
                  "claim", 0, "arrest", 0, "finding", 0, "evidence", "text", evidence, "doc_id",
                  doc_id, "doc_title", title, "url", url, "source", "test");
    assert_non_null(m);
    char *s = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    return s;
}

/* Processes one report; sends an alert to the sinks as the daemon does. Returns the decision. */
static nw_alert_decision report(world *w, int killed)
{
    char *m = match_record(w, killed), err[512];
    nw_alert *a;
    if (nw_alerter_process(w->alerter, m, strlen(m), &a, err, sizeof err) != NW_OK)
        fail_msg("nw_alerter_process: %s", err);
    free(m);
    nw_alert_decision d = a->decision;
    if (a->json != NULL) {
        nw_alert_view v = {a->id,           a->event_id,    nw_alert_decision_name(a->decision),
                           a->severity,     a->title,       a->evidence,
                           a->doc_id,       a->source,      a->url,
                           a->published_at, a->detected_at, a->json,
                           a->json_len};
        nw_sinks_send(w->sinks, &v);
    }
    nw_alert_free(a);
    return d;
}

/* The daemon's resend tick. */
static void tick(world *w)
{
    if (!nw_sinks_resend_due(w->sinks))
        return;
    nw_incident_list *l = nw_incident_list_new();
    char err[256];
    int64_t now = (int64_t)time(NULL);
    assert_non_null(l);
    if (nw_alerter_list(w->alerter, now, nw_sinks_resend_keep_s(w->sinks), l, err, sizeof err) !=
        NW_OK)
        fail_msg("nw_alerter_list: %s", err);
    nw_sinks_resend(w->sinks, l, now);
    nw_incident_list_free(l);
}

/* Ticks for ms milliseconds. */
static void run_for(world *w, int ms)
{
    double end = it_now_ms() + ms;
    while (it_now_ms() < end) {
        tick(w);
        it_sleep_ms(50);
    }
}

/* ---- what Alertmanager and the receiver saw ---------------------------- */

typedef struct seen {
    int firing, resolved; /* notifications listing the alert with that status */
} seen;

/* Counts the receiver's notifications per alert (kind, sequence) and status. */
static void notifications(const world *w, seen *incident, seen *update, int *total)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/notifications.jsonl", w->dir);
    size_t len;
    char *text = tu_read(path, &len);
    memset(incident, 0, sizeof *incident);
    memset(update, 0, sizeof *update);
    *total = 0;
    json_t *lines = it_json_lines(text, len);
    size_t i, k;
    json_t *n, *a;
    json_array_foreach(lines, i, n)
    {
        (*total)++;
        json_array_foreach(json_object_get(n, "alerts"), k, a)
        {
            json_t *labels = json_object_get(a, "labels");
            const char *kind = json_string_value(json_object_get(labels, "kind"));
            const char *status = json_string_value(json_object_get(a, "status"));
            seen *s = kind != NULL && strcmp(kind, "update") == 0 ? update : incident;
            if (status != NULL && strcmp(status, "resolved") == 0)
                s->resolved++;
            else
                s->firing++;
        }
    }
    json_decref(lines);
    free(text);
}

/* `amtool alert query` as JSON: the active alerts of the test's event. */
static json_t *amtool_query(const world *w)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' --alertmanager.url=%s -o json alert query event=%s", w->amtool,
             w->am_url, EVENT);
    it_result r;
    it_run(cmd, NULL, &r);
    if (r.status != 0)
        fail_msg("%s: exit %d: %s", cmd, r.status, r.err);
    json_error_t jerr;
    json_t *v = json_loads(r.out, 0, &jerr);
    if (!json_is_array(v))
        fail_msg("%s: not a JSON array: %s", cmd, r.out);
    it_result_free(&r);
    return v;
}

/* The alert of that kind in an amtool or API list, or NULL. */
static json_t *find_kind(json_t *alerts, const char *kind)
{
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a)
    {
        const char *k = json_string_value(json_object_get(json_object_get(a, "labels"), "kind"));
        if (k != NULL && strcmp(k, kind) == 0)
            return a;
    }
    return NULL;
}

static const char *label(json_t *a, const char *name)
{
    const char *v = json_string_value(json_object_get(json_object_get(a, "labels"), name));
    if (v == NULL)
        fail_msg("no label %s in %s", name, json_dumps(a, 0));
    return v;
}

static const char *annotation(json_t *a, const char *name)
{
    const char *v = json_string_value(json_object_get(json_object_get(a, "annotations"), name));
    if (v == NULL)
        fail_msg("no annotation %s in %s", name, json_dumps(a, 0));
    return v;
}

/* Ticks until the receiver has seen want firing notifications of the kind, or fails. */
static void wait_notified(world *w, bool update_kind, int want, int timeout_ms)
{
    double end = it_now_ms() + timeout_ms;
    for (;;) {
        seen inc, upd;
        int total;
        notifications(w, &inc, &upd, &total);
        if ((update_kind ? upd.firing : inc.firing) >= want)
            return;
        if (it_now_ms() > end) {
            print_file(w, "notifications.jsonl");
            print_file(w, "alertmanager.log");
            fail_msg("no notification of the %s within %d ms", update_kind ? "update" : "incident",
                     timeout_ms);
        }
        run_for(w, 100);
    }
}

/* ---- the test ----------------------------------------------------------- */

static void incidents_page_once_survive_a_restart_and_resolve_when_quiet(void **state)
{
    world *w = *state;
    if (w->dir == NULL)
        skip();
    double t0 = it_now_ms();

    /* 1. A new incident notifies once. */
    assert_int_equal(report(w, 10), NW_ALERT_NEW);
    wait_notified(w, false, 1, 8000);
    fprintf(stderr, "new incident notified after %.1f s\n", (it_now_ms() - t0) / 1000);

    /* 2. An update that brings news (the toll rose) notifies once, on its own. */
    assert_int_equal(report(w, 25), NW_ALERT_UPDATE);
    wait_notified(w, true, 1, 8000);
    fprintf(stderr, "update notified after %.1f s\n", (it_now_ms() - t0) / 1000);

    /* Reports without news keep the incident active: no new notification, no resolution,
     * and endsAt keeps moving. */
    json_t *before = amtool_query(w);
    const char *ends_before =
        json_string_value(json_object_get(find_kind(before, "incident"), "endsAt"));
    assert_non_null(ends_before);
    char ends0[64];
    snprintf(ends0, sizeof ends0, "%s", ends_before);
    json_decref(before);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(report(w, 25), NW_ALERT_COUNTED);
        run_for(w, 1500);
    }
    seen inc, upd;
    int total;
    notifications(w, &inc, &upd, &total);
    if (inc.firing != 1 || upd.firing != 1 || inc.resolved != 0 || upd.resolved != 0) {
        print_file(w, "notifications.jsonl");
        fail_msg("want the incident and the update notified once each, firing; got incident %d "
                 "firing %d resolved, update %d firing %d resolved",
                 inc.firing, inc.resolved, upd.firing, upd.resolved);
    }
    json_t *after = amtool_query(w);
    json_t *ia = find_kind(after, "incident"), *ua = find_kind(after, "update");
    if (ia == NULL || ua == NULL)
        fail_msg("amtool alert query: %s", json_dumps(after, 0));
    assert_true(strcmp(json_string_value(json_object_get(ia, "endsAt")), ends0) > 0);
    assert_string_equal(label(ia, "alertname"), "NewswatchTrackedEvent");
    assert_string_equal(label(ia, "event"), EVENT);
    assert_string_equal(label(ia, "severity"), "critical");
    assert_string_equal(label(ia, ROUTING_LABEL), "news-ops");
    assert_int_equal(strlen(label(ia, "incident")), 10);
    assert_string_equal(label(ua, "sequence"), "2");
    assert_string_equal(annotation(ia, "title"), "Test bombing in Baghdad");
    assert_string_equal(annotation(ia, "casualties"), "25 killed");
    assert_string_equal(annotation(ua, "reasons"), "killed rose from 10 to 25");
    assert_string_equal(annotation(ua, "doc_id"), "doc-2");
    assert_non_null(strstr(annotation(ia, "documents"), "doc-1 https://news.example/1"));
    assert_true(atoi(annotation(ia, "reports")) >= 4);
    json_decref(after);

    /* 3. Alertmanager restarts with empty storage: after the next resend it holds both again. */
    it_kill(w->am_pid);
    w->am_pid = 0;
    am_start(w);
    json_t *empty = amtool_query(w);
    fprintf(stderr, "Alertmanager restarted with empty storage: %zu alerts at first\n",
            json_array_size(empty));
    json_decref(empty);
    assert_int_equal(report(w, 25), NW_ALERT_COUNTED); /* the incident is still reported */
    double last_report = it_now_ms();
    run_for(w, RESEND_MS + 700);
    json_t *back = amtool_query(w);
    if (find_kind(back, "incident") == NULL || find_kind(back, "update") == NULL)
        fail_msg("after the restart and a resend, amtool alert query shows: %s",
                 json_dumps(back, 0));
    json_decref(back);
    fprintf(stderr, "both alerts back after the restart at %.1f s\n", (it_now_ms() - t0) / 1000);

    /* 4. No more reports: nothing resolves before QUIET_S, both resolve after it. */
    run_for(w, (QUIET_S - 3) * 1000);
    notifications(w, &inc, &upd, &total);
    assert_int_equal(inc.resolved + upd.resolved, 0);
    json_t *still = amtool_query(w);
    assert_int_equal(json_array_size(still), 2);
    json_decref(still);
    double end = it_now_ms() + (QUIET_S + 10) * 1000;
    for (;;) {
        notifications(w, &inc, &upd, &total);
        if (inc.resolved >= 1 && upd.resolved >= 1)
            break;
        if (it_now_ms() > end) {
            print_file(w, "notifications.jsonl");
            fail_msg("the alerts did not resolve after the incident went quiet");
        }
        run_for(w, 200);
    }
    double quiet_for = (it_now_ms() - last_report) / 1000;
    fprintf(stderr,
            "resolved %.1f s after the last report (resolve_after %d s); %d notifications "
            "in all, test %.1f s\n",
            quiet_for, QUIET_S, total, (it_now_ms() - t0) / 1000);
    assert_true(quiet_for >= QUIET_S - 1);
    json_t *none = amtool_query(w);
    assert_int_equal(json_array_size(none), 0); /* amtool lists active alerts only */
    json_decref(none);
}

/* ---- the daemon itself -------------------------------------------------- */

/* Every active newswatch alert Alertmanager holds (amtool), as a JSON array. */
static json_t *amtool_all(const world *w)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' --alertmanager.url=%s -o json alert query alertname=%s",
             w->amtool, w->am_url, "NewswatchTrackedEvent");
    it_result r;
    it_run(cmd, NULL, &r);
    json_error_t jerr;
    json_t *v = r.status == 0 ? json_loads(r.out, 0, &jerr) : NULL;
    it_result_free(&r);
    return json_is_array(v) ? v : (json_decref(v), json_array());
}

/* How many of the n incidents ("<event>:<day>") Alertmanager holds as kind="incident". */
static size_t incidents_held(const world *w, char incidents[][256], size_t n)
{
    json_t *alerts = amtool_all(w);
    size_t held = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i;
        json_t *a;
        json_array_foreach(alerts, i, a)
        {
            json_t *l = json_object_get(a, "labels");
            const char *ev = json_string_value(json_object_get(l, "event"));
            const char *day = json_string_value(json_object_get(l, "incident"));
            const char *kind = json_string_value(json_object_get(l, "kind"));
            char key[256];
            snprintf(key, sizeof key, "%s:%s", ev != NULL ? ev : "", day != NULL ? day : "");
            if (kind != NULL && strcmp(kind, "incident") == 0 && strcmp(key, incidents[k]) == 0) {
                held++;
                break;
            }
        }
    }
    json_decref(alerts);
    return held;
}

/*
 * The daemon on the test's broker, with the seeds: each incident --replay
 * opens is an alert in Alertmanager; Alertmanager restarted with empty
 * storage holds them all again after the daemon's next re-post.
 */
static void the_daemon_keeps_its_incidents_in_alertmanager(void **state)
{
    world *w = *state;
    if (w->dir == NULL)
        skip();
    char prefix[128], conf[4096];
    it_topic_name("am", prefix, sizeof prefix);
    int n = snprintf(conf, sizeof conf,
                     "bootstrap.servers = %s\n"
                     "[topics]\nraw = %s.raw\nenriched = %s.enriched\nmatches = %s.matches\n"
                     "alerts = %s.alerts\nalert-state = %s.alert-state\ndlq = %s.dlq\n"
                     "[consumer]\ngroup.enrich = %s-enrich\ngroup.alert = %s-alert\n"
                     "transactional.id.prefix = %s\nbatch.ms = 50\n"
                     "[sinks]\nstdout = false\nalertmanager.url = %s\n"
                     "alertmanager.resend.ms = %d\n[http]\nlisten = 127.0.0.1:0\n",
                     it_brokers(), prefix, prefix, prefix, prefix, prefix, prefix, prefix, prefix,
                     prefix, w->am_url, RESEND_MS);
    tu_write(w->dir, "n.conf", conf, (size_t)n);
    char path[4200], log[4200], cmd[8192];
    snprintf(path, sizeof path, "%s/n.conf", w->dir);
    snprintf(log, sizeof log, "%s/daemon.log", w->dir);
    it_result r;
    snprintf(cmd, sizeof cmd, "'%s' -q -c '%s' --create-topics --partitions 1",
             it_bin("newswatch-consumer"), path);
    it_run(cmd, NULL, &r);
    if (r.status != 0)
        fail_msg("--create-topics: %s", r.err);
    it_result_free(&r);
    /* The incidents --replay opens on the seeds: its alerts with status new. */
    snprintf(cmd, sizeof cmd, "'%s' -q --replay --emit alerts '%s'", it_bin("newswatch-consumer"),
             it_seeds_dir());
    it_run(cmd, NULL, &r);
    char incidents[16][256];
    size_t nin = 0;
    for (char *line = strtok(r.out, "\n"); line != NULL && nin < 16; line = strtok(NULL, "\n")) {
        json_error_t jerr;
        json_t *a = json_loads(line, 0, &jerr);
        const char *status = json_string_value(json_object_get(a, "status"));
        const char *id = json_string_value(json_object_get(a, "alert_id"));
        if (status != NULL && strcmp(status, "new") == 0 && id != NULL) {
            snprintf(incidents[nin], sizeof incidents[nin], "%s", id);
            char *last =
                strrchr(incidents[nin], ':'); /* "<event>:<day>:<seq>" -> "<event>:<day>" */
            if (last != NULL)
                *last = '\0';
            nin++;
        }
        json_decref(a);
    }
    it_result_free(&r);
    assert_true(nin >= 1);

    static char bin[4096];
    snprintf(bin, sizeof bin, "%s", it_bin("newswatch-consumer"));
    char *argv[] = {bin, "-c", path, NULL};
    long pid = it_spawn(argv, log);
    snprintf(cmd, sizeof cmd, "'%s' -q -c '%s' '%s'", it_bin("newswatch-producer"), path,
             it_seeds_dir());
    it_run(cmd, NULL, &r);
    assert_int_equal(r.status, 0);
    it_result_free(&r);
    double t0 = it_now_ms();
    while (incidents_held(w, incidents, nin) < nin && it_now_ms() - t0 < 60000)
        it_sleep_ms(250);
    if (incidents_held(w, incidents, nin) < nin) {
        it_show_log(log);
        fail_msg("Alertmanager holds %zu of the %zu incidents", incidents_held(w, incidents, nin),
                 nin);
    }
    fprintf(stderr, "the %zu incidents in Alertmanager after %.1f s\n", nin,
            (it_now_ms() - t0) / 1000);
    /* Alertmanager restarted with empty storage: the daemon's re-posts bring them back. */
    it_stop(w->am_pid, 10000);
    am_start(w);
    t0 = it_now_ms();
    while (incidents_held(w, incidents, nin) < nin && it_now_ms() - t0 < 10 * RESEND_MS + 5000)
        it_sleep_ms(100);
    assert_int_equal(incidents_held(w, incidents, nin), nin);
    fprintf(stderr, "all back %.1f s after the restart\n", (it_now_ms() - t0) / 1000);
    int ws = it_stop(pid, 30000);
    if (!(WIFEXITED(ws) && WEXITSTATUS(ws) == 0)) {
        it_show_log(log);
        fail_msg("the daemon did not exit 0 (wait status %d)", ws);
    }
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            incidents_page_once_survive_a_restart_and_resolve_when_quiet, setup, teardown),
        cmocka_unit_test_setup_teardown(the_daemon_keeps_its_incidents_in_alertmanager, setup,
                                        teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
