/*
 * The daemon's lifecycle: its settings ([consumer]), signals (the handlers
 * only set flags), the main loop over both stages, SIGHUP reloads, the
 * shutdown watchdog, the allocator's arenas, /metrics and systemd. The
 * stages themselves are in stage.c, restore.c and work.c (stage.h).
 */
#include "daemon.h"

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
#include "newswatch/conftable.h"
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

/* ---- signals: the handlers only set flags ------------------------------ */

volatile sig_atomic_t daemon_stop_signals; /* SIGTERM/SIGINT seen */
/* The loop has ended (a signal or a fatal error): the watchdog bounds the rest. */
static volatile sig_atomic_t shutdown_begun;
static volatile sig_atomic_t reload_requested;

static void on_stop(int sig)
{
    (void)sig;
    daemon_stop_signals = daemon_stop_signals + 1;
}

static void on_hup(int sig)
{
    (void)sig;
    reload_requested = 1;
}

/* An instance id: 1 to 100 letters, digits, '.', '_' or '-' (it goes into Kafka ids). */
static bool valid_instance_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 100)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

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
    char host[128] = "";
    if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
        snprintf(host, sizeof host, "localhost");
    snprintf(s->instance_id, sizeof s->instance_id, "%s", host);
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
        else if (strcmp(k, "instance.id") == 0)
            bad = !valid_instance_id(e->value) ||
                  !snprintf(s->instance_id, sizeof s->instance_id, "%s", e->value);
        else if (strcmp(k, "batch.messages") == 0)
            bad = !nw_parse_long(e->value, 1, 100000, &v) || !(s->batch_messages = (int)v);
        else if (strcmp(k, "batch.ms") == 0)
            bad = !nw_parse_long(e->value, 1, 60000, &v) || !(s->batch_ms = (int)v);
        else if (strcmp(k, "enrich.threads") == 0)
            bad = !nw_parse_long(e->value, 1, MAX_ENRICH_THREADS, &v) ||
                  !(s->enrich_threads = (int)v);
        else if (strcmp(k, "startup.timeout.ms") == 0)
            bad = !nw_parse_long(e->value, 0, 86400000L, &s->startup_timeout_ms);
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
        } else {
            static const char *const known[] = {
                "group.enrich",       "group.alert",          "transactional.id.prefix",
                "instance.id",        "batch.messages",       "batch.ms",
                "enrich.threads",     "startup.timeout.ms",   "shutdown.timeout.ms",
                "max.document.bytes", "processing.guarantee", NULL};
            char near[128];
            return nw_set_error(
                errbuf, errlen, NW_ECONFIG,
                "%s:%u: unknown key '%s' in [consumer]%s (known: group.enrich, "
                "group.alert, transactional.id.prefix, instance.id, batch.messages, batch.ms, "
                "enrich.threads, startup.timeout.ms, shutdown.timeout.ms, max.document.bytes, "
                "processing.guarantee)",
                e->file, e->line, k, nw_kvconf_did_you_mean(k, known, near, sizeof near));
        }
        if (bad)
            return nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: bad value '%s' for %s", e->file,
                                e->line, e->value, k);
    }
    return NW_OK;
}

nw_err nw_daemon_check_config(const nw_consumer_opts *o, const nw_kvconf *conf, char *errbuf,
                              size_t errlen)
{
    static daemon d; /* large */
    memset(&d, 0, sizeof d);
    d.o = o;
    d.conf = conf;
    nw_err err = nw_log_setup_from_conf(conf, NW_CONSUMER, errbuf, errlen);
    if (err == NW_OK)
        err = read_settings(conf, &d.s, errbuf, errlen);
    for (int producer = 0; err == NW_OK && producer < 2; producer++) {
        rd_kafka_conf_t *kc = daemon_base_conf(&d, producer == 1, errbuf, errlen);
        if (kc == NULL)
            err = NW_ECONFIG;
        else
            rd_kafka_conf_destroy(kc);
    }
    return err;
}

/* SIGHUP: loads everything anew; a file with a mistake keeps the old configuration. */
/* The configuration file the daemon read: -c FILE, or config/newswatch.conf; NULL: none. */
static const char *config_path(const daemon *d)
{
    if (d->o->config_file != NULL)
        return d->o->config_file;
    if (d->conf != NULL && nw_kvconf_count(d->conf) > 0)
        return nw_kvconf_at(d->conf, 0)->file;
    return access("config/newswatch.conf", R_OK) == 0 ? "config/newswatch.conf" : NULL;
}

/* The last value of section's key in conf (NULL: conf does not set it). */
static const char *value_of(const nw_kvconf *conf, const char *section, const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; conf != NULL && i < nw_kvconf_count(conf); i++) {
        const nw_kvconf_entry *e = nw_kvconf_at(conf, i);
        if (strcmp(e->section, section) == 0 && strcmp(e->key, key) == 0)
            v = e->value;
    }
    return v;
}

/*
 * Says which keys that only a restart applies (newswatch/conftable.h) have
 * changed between the running configuration and next.
 */
static void say_restart_only(const daemon *d, const nw_kvconf *next, const char *path)
{
    for (size_t i = 0; next != NULL && i < nw_kvconf_count(next); i++) {
        const nw_kvconf_entry *e = nw_kvconf_at(next, i);
        const nw_conf_key *k = nw_conftable_find(e->section, e->key);
        const char *was = value_of(d->conf, e->section, e->key);
        if (k != NULL && !k->reloadable && value_of(next, e->section, e->key) == e->value &&
            (was == NULL || strcmp(was, e->value) != 0))
            daemon_log(NW_LOG_WARN, "reload: [%s] %s changed in %s; a restart applies it",
                       e->section, e->key, path);
    }
    for (size_t i = 0; d->conf != NULL && i < nw_kvconf_count(d->conf); i++) {
        const nw_kvconf_entry *e = nw_kvconf_at(d->conf, i);
        const nw_conf_key *k = nw_conftable_find(e->section, e->key);
        if (k != NULL && !k->reloadable && value_of(d->conf, e->section, e->key) == e->value &&
            value_of(next, e->section, e->key) == NULL)
            daemon_log(NW_LOG_WARN, "reload: [%s] %s was removed from %s; a restart applies it",
                       e->section, e->key, path);
    }
}

/* At each scrape of /metrics (the HTTP thread): the sinks' counters. */
static void collect_sink_stats(nw_metrics *m, void *arg)
{
    daemon *d = arg;
    pthread_mutex_lock(&d->sinks_lock);
    if (d->sinks != NULL) {
        nw_sink_stats stats[NW_SINK_COUNT];
        nw_sinks_stats(d->sinks, stats);
        nw_metrics_sinks(m, stats);
    }
    pthread_mutex_unlock(&d->sinks_lock);
}

/* The sinks conf asks for (NULL *out when none, or when the stage has no alerts). */
static nw_err make_sinks(const daemon *d, const nw_kvconf *conf, nw_sinks **out, char *errbuf,
                         size_t errlen)
{
    *out = NULL;
    nw_sinks_config sc;
    nw_sinks_config_init(&sc);
    snprintf(sc.program, sizeof sc.program, "%s", NW_CONSUMER);
    nw_err err = nw_sinks_config_apply(&sc, conf, errbuf, errlen);
    /* The daemon's stdout is for alerts only when asked: logs go to stderr. */
    if (err == NW_OK && (d->stages & STAGE_ALERT) &&
        (sc.stdout_enabled || sc.alertmanager_url[0] != '\0' || sc.webhook_url[0] != '\0'))
        err = nw_sinks_new(&sc, NULL, out, errbuf, errlen);
    return err;
}

static void reload_failed(daemon *d, const char *why)
{
    daemon_log(NW_LOG_ERROR, "reload failed, keeping the old configuration: %s", why);
    nw_metrics_reload(d->metrics, false, (double)time(NULL));
}

/*
 * SIGHUP: the configuration file is read again, with the pipeline's files
 * and the sinks; a file with a mistake keeps the old configuration. What
 * only a restart applies ([kafka], [topics], [consumer], [http], [log]) is
 * named in the log when it changed.
 */
static void reload(daemon *d)
{
    char err[1024];
    const char *path = config_path(d);
    nw_kvconf *conf = NULL;
    if (path != NULL && (nw_kvconf_new_from_file(path, &conf, err, sizeof err) != NW_OK ||
                         nw_conftable_check(conf, err, sizeof err) != NW_OK)) {
        nw_kvconf_free(conf);
        reload_failed(d, err);
        return;
    }
    nw_pipeline next;
    nw_pipeline_paths paths = {d->o->gazetteer, d->o->furniture, d->o->events};
    if (nw_pipeline_load(&next, &paths, conf, err, sizeof err) != NW_OK) {
        nw_kvconf_free(conf);
        reload_failed(d, err);
        return;
    }
    nw_sinks *sinks = NULL;
    if (make_sinks(d, conf, &sinks, err, sizeof err) != NW_OK) {
        nw_pipeline_unload(&next);
        nw_kvconf_free(conf);
        reload_failed(d, err);
        return;
    }
    nw_pipeline old = d->pipeline;
    d->pipeline = next;
    nw_enricher **en = NULL;
    if (d->enrichers != NULL && (en = work_new_enrichers(d, err, sizeof err)) == NULL) {
        d->pipeline = old;
        nw_pipeline_unload(&next);
        nw_sinks_free(sinks);
        nw_kvconf_free(conf);
        reload_failed(d, err);
        return;
    }
    if (d->enrichers != NULL) {
        work_free_enrichers(d, d->enrichers);
        d->enrichers = en;
    }
    if (d->alert.alerter != NULL)
        nw_alerter_set_rules(d->alert.alerter, d->pipeline.rules);
    stage *stages[2] = {&d->enrich, &d->alert};
    for (int i = 0; i < 2; i++)
        if (stages[i]->consumer != NULL && !stages[i]->limits_asked)
            stage_ask_limits(stages[i]);
    nw_pipeline_unload(&old);
    /* The sinks: the new ones take the next alerts; the old drain what they hold. */
    pthread_mutex_lock(&d->sinks_lock);
    nw_sinks *old_sinks = d->sinks;
    d->sinks = sinks;
    pthread_mutex_unlock(&d->sinks_lock);
    nw_sinks_free(old_sinks);
    say_restart_only(d, conf, path);
    nw_kvconf_free(conf);
    nw_metrics_reload(d->metrics, true, (double)time(NULL));
    daemon_log(NW_LOG_INFO,
               "reloaded%s%s: %zu entities, %zu furniture rules, %zu tracked events; sinks: %s",
               path != NULL ? " " : "", path != NULL ? path : "",
               nw_gazetteer_count(d->pipeline.gazetteer), nw_furniture_count(d->pipeline.furniture),
               nw_rules_event_count(d->pipeline.rules), d->sinks != NULL ? "on" : "off");
}

typedef struct watchdog {
    int shutdown_ms;
} watchdog;

/*
 * A second signal exits at once; a shutdown that overruns its bound exits
 * too, whether a signal or a fatal error began it (closing the clients can
 * hang on a broker that is away).
 */
static void *watch(void *arg)
{
    const watchdog *w = arg;
    struct timespec first = {0, 0}, now;
    for (;;) {
        struct timespec tick = {0, 100 * 1000000L};
        nanosleep(&tick, NULL);
        if (daemon_stop_signals == 0 && shutdown_begun == 0)
            continue;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (first.tv_sec == 0)
            first = now;
        if (daemon_stop_signals > 1) {
            daemon_log(NW_LOG_WARN, "second signal: exiting now");
            _exit(130);
        }
        if ((now.tv_sec - first.tv_sec) * 1000 > w->shutdown_ms) {
            daemon_log(NW_LOG_ERROR,
                       "shutdown took longer than %d ms (shutdown.timeout.ms): exiting",
                       w->shutdown_ms);
            _exit(1);
        }
    }
    return NULL;
}

/*
 * glibc's allocator: at most two arenas unless MALLOC_ARENA_MAX says
 * otherwise (the daemon has about twenty threads, librdkafka's and a batch's
 * enrich threads, and each would keep an arena of freed memory), set before
 * any thread starts; and what a backlog freed is given back once the daemon
 * is idle. docs/PERFORMANCE.md ("Memory") has the measurements: peak RSS on a
 * 500,000-document backlog 174 -> 127 MB, 142 -> 20 MB idle after it.
 */
static void limit_arenas(void)
{
#ifdef __GLIBC__
    if (getenv("MALLOC_ARENA_MAX") == NULL)
        mallopt(M_ARENA_MAX, 2);
#endif
}

/* Gives freed memory back when both stages were idle and work was done since the last time. */
static void trim_when_idle(const daemon *d, unsigned long *done_at_trim, double *last_trim_ms)
{
#ifdef __GLIBC__
    unsigned long done = d->enrich.processed + d->alert.processed;
    double now = daemon_now_ms();
    if (d->enrich.last_batch == 0 && d->alert.last_batch == 0 && done != *done_at_trim &&
        now - *last_trim_ms >= 1000) {
        malloc_trim(0);
        *done_at_trim = done;
        *last_trim_ms = now;
    }
#else
    (void)d;
    (void)done_at_trim;
    (void)last_trim_ms;
#endif
}

int nw_cmd_daemon(const nw_consumer_opts *o, const nw_kvconf *conf)
{
    static daemon d; /* large, and its address is shared with callbacks */
    memset(&d, 0, sizeof d);
    limit_arenas(); /* before the sinks and the Kafka clients start their threads */
    d.o = o;
    d.conf = conf;
    char err[1024];
    nw_topics_init(&d.topics);
    if (nw_log_setup_from_conf(conf, NW_CONSUMER, err, sizeof err) != NW_OK ||
        read_settings(conf, &d.s, err, sizeof err) != NW_OK ||
        nw_topics_configure(&d.topics, conf, err, sizeof err) != NW_OK) {
        daemon_log(NW_LOG_ERROR, "%s", err);
        return NW_EXIT_USAGE;
    }
    if (o->instance_id != NULL) {
        if (!valid_instance_id(o->instance_id)) {
            daemon_log(NW_LOG_ERROR,
                       "--instance-id '%s': expected 1 to 100 letters, digits, '.', '_' or '-'",
                       o->instance_id);
            return NW_EXIT_USAGE;
        }
        snprintf(d.s.instance_id, sizeof d.s.instance_id, "%s", o->instance_id);
    }
    nw_pipeline_paths paths = {o->gazetteer, o->furniture, o->events};
    if (nw_pipeline_load(&d.pipeline, &paths, conf, err, sizeof err) != NW_OK) {
        daemon_log(NW_LOG_ERROR, "%s", err);
        return NW_EXIT_USAGE;
    }
    int stages = o->stages != 0 ? o->stages : STAGE_ENRICH | STAGE_ALERT;
    d.stages = stages;
    pthread_mutex_init(&d.sinks_lock, NULL);
    if (make_sinks(&d, conf, &d.sinks, err, sizeof err) != NW_OK) {
        daemon_log(NW_LOG_ERROR, "%s", err);
        nw_pipeline_unload(&d.pipeline);
        return NW_EXIT_USAGE;
    }
    /* /metrics, /healthz, /readyz: up before the stages, so that a start that waits shows. */
    nw_http_config hc;
    nw_http_config_init(&hc);
    unsigned mstages = ((stages & STAGE_ENRICH) ? NW_METRICS_STAGE_BIT(NW_METRICS_ENRICH) : 0) |
                       ((stages & STAGE_ALERT) ? NW_METRICS_STAGE_BIT(NW_METRICS_ALERT) : 0);
    if (nw_http_config_apply(&hc, conf, "listen", err, sizeof err) != NW_OK ||
        nw_metrics_new(mstages, &d.metrics, err, sizeof err) != NW_OK ||
        nw_http_new(&hc, d.metrics, &d.http, err, sizeof err) != NW_OK) {
        daemon_log(NW_LOG_ERROR, "%s", err);
        nw_metrics_free(d.metrics);
        nw_sinks_free(d.sinks);
        nw_pipeline_unload(&d.pipeline);
        return NW_EXIT_USAGE;
    }
    nw_metrics_set_collector(d.metrics, collect_sink_stats, &d);
    if (d.http != NULL)
        daemon_log(NW_LOG_INFO, "serving /metrics, /healthz and /readyz on %s:%u", hc.host,
                   nw_http_port(d.http));
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
    d.enrichers = (stages & STAGE_ENRICH) ? work_new_enrichers(&d, err, sizeof err) : NULL;
    if ((stages & STAGE_ENRICH) && d.enrichers == NULL) {
        daemon_log(NW_LOG_ERROR, "%s", err);
        status = NW_EXIT_FAILED;
        goto done;
    }
    daemon_effective_brokers(&d);
    int opened =
        (stages & STAGE_ENRICH) ? stage_open(&d, &d.enrich, STAGE_ENRICH, err, sizeof err) : 0;
    if (opened == 0 && (stages & STAGE_ALERT))
        opened = stage_open(&d, &d.alert, STAGE_ALERT, err, sizeof err);
    if (opened != 0) {
        if (daemon_stop_signals != 0) {
            daemon_log(NW_LOG_INFO, "stopped while starting");
        } else {
            daemon_log(NW_LOG_ERROR, "%s", err);
            status = NW_EXIT_KAFKA;
        }
        goto done;
    }
    daemon_log(NW_LOG_INFO, "running %s%s%s (%s) on %s as instance %s",
               (stages & STAGE_ENRICH) ? "enrich" : "",
               stages == (STAGE_ENRICH | STAGE_ALERT) ? " and " : "",
               (stages & STAGE_ALERT) ? "alert" : "", d.s.eos ? "exactly-once" : "at-least-once",
               d.brokers, d.s.instance_id);
    char nerr[256];
    if (nw_notify_ready(nerr, sizeof nerr) != NW_OK)
        daemon_log(NW_LOG_WARN, "%s", nerr);
    nw_notify_status(NULL, 0, "running (%s) on %s as instance %s",
                     d.s.eos ? "exactly-once" : "at-least-once", d.brokers, d.s.instance_id);
    unsigned long done_at_trim = 0;
    double last_trim_ms = 0;
    while (daemon_stop_signals == 0 && !d.failed) {
        nw_metrics_heartbeat(d.metrics);
        nw_metrics_set_held(d.metrics, d.alert.nunrestored);
        nw_notify_watchdog(NULL, 0);
        trim_when_idle(&d, &done_at_trim, &last_trim_ms);
        if (reload_requested) {
            reload_requested = 0;
            nw_notify_reloading(NULL, 0);
            reload(&d);
            nw_notify_ready(NULL, 0);
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
        if ((stages & STAGE_ENRICH) && stage_run_batch(&d.enrich, enrich_wait) == -2) {
            status = NW_EXIT_FAILED;
            break;
        }
        if (stages & STAGE_ALERT)
            restore_retry(&d.alert);
        if (stages & STAGE_ENRICH)
            stage_refresh_limits(&d.enrich);
        if (stages & STAGE_ALERT)
            stage_refresh_limits(&d.alert);
        long alert_wait = both && d.enrich.last_batch > 0 ? 0 : idle;
        if ((stages & STAGE_ALERT) && stage_run_batch(&d.alert, alert_wait) == -2) {
            status = NW_EXIT_FAILED;
            break;
        }
        if (stages & STAGE_ALERT)
            work_resend_incidents(&d);
        if (stages & STAGE_ENRICH)
            stage_probe_broker(&d.enrich);
        if (stages & STAGE_ALERT)
            stage_probe_broker(&d.alert);
    }
    shutdown_begun = 1; /* from here on the watchdog bounds the stop */
    nw_metrics_set_stopping(d.metrics);
    if (d.failed)
        status = NW_EXIT_FAILED;
    daemon_log(NW_LOG_INFO,
               "stopping: enrich %lu messages (%lu to the dead-letter topic), alert %lu messages "
               "(%lu alerts, %lu to the dead-letter topic)",
               d.enrich.processed, d.enrich.dead_letters, d.alert.processed, d.alert.alerts,
               d.alert.dead_letters);
done:
    shutdown_begun = 1; /* also when a stage could not start */
    nw_notify_stopping(NULL, 0);
    nw_notify_status(NULL, 0, "stopping");
    stage_close(&d.enrich);
    stage_close(&d.alert);
    nw_http_free(d.http); /* before the registry it serves */
    nw_metrics_free(d.metrics);
    nw_sinks_free(d.sinks);
    work_free_enrichers(&d, d.enrichers);
    nw_pipeline_unload(&d.pipeline);
    return status;
}
