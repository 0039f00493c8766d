/*
 * newswatch-producer: publishes news documents to Kafka (README.md, "The producer").
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "newswatch/doc.h"
#include "newswatch/feedconf.h"
#include "newswatch/input.h"
#include "newswatch/conftable.h"
#include "newswatch/kvconf.h"
#include "newswatch/log.h"
#include "newswatch/topics.h"
#include "newswatch/version.h"
#include "newswatch/when.h"
#include "../kafka/nw_kafka.h"
#include "feeds.h"
#include "options.h"

#define PROGRAM                    "newswatch-producer"
#define DEFAULT_BROKERS            "127.0.0.1:9092"
#define DEFAULT_MESSAGE_TIMEOUT_MS "30000"
#define METADATA_TIMEOUT_MS        10000

enum { EXIT_PARTIAL = 1, EXIT_USAGE = 2, EXIT_KAFKA = 3 };

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct counters {
    unsigned long docs_read;  /* documents handed to Kafka (or printed) */
    unsigned long skipped;    /* bad input */
    unsigned long delivered;  /* delivery reports without error */
    unsigned long failed;     /* delivery reports with an error, or produce failures */
    unsigned long long bytes; /* value bytes delivered (or printed) */
} counters;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    counters *cnt = m->_private; /* the RD_KAFKA_V_OPAQUE given to produce() */
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        cnt->failed++;
        fprintf(stderr, PROGRAM ": %.*s: not delivered: %s\n", (int)m->key_len,
                (const char *)m->key, rd_kafka_err2str(m->err));
    } else {
        cnt->delivered++;
        cnt->bytes += m->len;
    }
}

/* Settings the configuration file gives for the producer ([producer], [topics]). */
typedef struct file_settings {
    const char *topic;
    const char *state_topic; /* [topics] feed-state */
    const char *source;
    size_t max_bytes;
} file_settings;

static int read_file_settings(const nw_kvconf *conf, file_settings *fs, char *errbuf, size_t errlen)
{
    nw_topics topics;
    nw_topics_init(&topics);
    if (nw_topics_configure(&topics, conf, errbuf, errlen) != NW_OK)
        return -1;
    for (size_t i = 0; i < nw_kvconf_count(conf); i++) {
        const nw_kvconf_entry *e = nw_kvconf_at(conf, i);
        if (strcmp(e->section, "topics") == 0 && strcmp(e->key, "raw") == 0) {
            fs->topic = e->value;
        } else if (strcmp(e->section, "topics") == 0 && strcmp(e->key, "feed-state") == 0) {
            fs->state_topic = e->value;
        } else if (strcmp(e->section, "producer") == 0) {
            if (strcmp(e->key, "source") == 0) {
                fs->source = e->value;
            } else if (strcmp(e->key, "max.document.bytes") == 0) {
                long v;
                if (!nw_parse_long(e->value, 1, 1L << 30, &v)) {
                    nw_set_error(errbuf, errlen, NW_ECONFIG,
                                 "%s:%u: max.document.bytes must be a number of bytes from 1 to "
                                 "1073741824",
                                 e->file, e->line);
                    return -1;
                }
                fs->max_bytes = (size_t)v;
            } else {
                nw_set_error(errbuf, errlen, NW_ECONFIG,
                             "%s:%u: unknown key '%s' in [producer] (known: source, "
                             "max.document.bytes)",
                             e->file, e->line, e->key);
                return -1;
            }
        }
    }
    return 0;
}

static rd_kafka_t *make_producer(const nw_producer_opts *o, const nw_kvconf *conf, char *brokers,
                                 size_t brokers_len, int *timeout_ms, char *errbuf, size_t errlen)
{
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    static const char *const defaults[][2] = {
        {"client.id", PROGRAM},
        {"bootstrap.servers", DEFAULT_BROKERS},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"message.timeout.ms", DEFAULT_MESSAGE_TIMEOUT_MS},
        {"linger.ms", "5"},
    };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (nw_kafka_conf_set(kc, defaults[i][0], defaults[i][1], errbuf, errlen) != NW_OK)
            goto fail;
    if (nw_kafka_conf_apply(kc, conf, o->props, o->nprops, o->brokers, errbuf, errlen) != NW_OK)
        goto fail;
    nw_kafka_conf_get(kc, "bootstrap.servers", brokers, brokers_len);
    char buf[32];
    nw_kafka_conf_get(kc, "message.timeout.ms", buf, sizeof buf);
    *timeout_ms = atoi(buf) > 0 ? atoi(buf) : 300000;
    nw_kafka_conf_set_logging(kc);
    rd_kafka_conf_set_dr_msg_cb(kc, on_delivery);
    char why[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, why, sizeof why);
    if (rk == NULL) {
        nw_set_error(errbuf, errlen, NW_ECONFIG, "%s", why);
        goto fail;
    }
    return rk;
fail:
    rd_kafka_conf_destroy(kc);
    return NULL;
}

/*
 * Hands one encoded document to librdkafka; takes ownership of value. Its
 * headers: a CloudEvent in the Kafka binding's binary mode (docs/schemas.md,
 * "CloudEvents": id the document's, time its ingested_at) and schema.
 */
static int produce(rd_kafka_t *rk, const char *topic, const nw_doc *doc, const char *ingested_at,
                   char *value, size_t len, counters *cnt)
{
    size_t idlen;
    const char *id = nw_doc_get(doc, NW_DOC_ID, &idlen);
    rd_kafka_headers_t *headers = nw_kafka_json_headers("/newswatch/producer", id, idlen,
                                                        NW_DOC_SCHEMA, ingested_at, NULL, 0);
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(id, idlen), RD_KAFKA_V_VALUE(value, len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_HEADERS(headers),
            RD_KAFKA_V_OPAQUE(cnt), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            return 0;
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 100); /* serve delivery reports to make room */
            continue;
        }
        fprintf(stderr, PROGRAM ": %.*s: cannot produce: %s\n", (int)idlen, id,
                rd_kafka_err2str(err));
        rd_kafka_headers_destroy(headers);
        free(value);
        cnt->failed++;
        return -1;
    }
}

/* Waits until every queued message has a delivery report (bounded by their timeout). */
static void flush_all(rd_kafka_t *rk, int timeout_ms)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (rd_kafka_outq_len(rk) > 0) {
        rd_kafka_flush(rk, 200);
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed =
            (now.tv_sec - start.tv_sec) * 1000L + (now.tv_nsec - start.tv_nsec) / 1000000L;
        if (elapsed > (long)timeout_ms + 10000)
            break; /* librdkafka times messages out by itself: this is a safety net */
    }
}

/* --watch: what a file of the drop folder gave, to move it where it belongs. */
typedef struct drop_state {
    rd_kafka_t *rk; /* NULL with --dry-run */
    int timeout_ms;
    const char *dir;
    counters *cnt;
    counters at_start;  /* the counters when the file began */
    char reasons[4096]; /* why its documents were skipped, one per line */
} drop_state;

/* dir/sub/name, with ".2", ".3", ... added when that name is taken; "" on failure. */
static void destination(const char *dir, const char *sub, const char *name, char *out, size_t len)
{
    char d[4200];
    snprintf(d, sizeof d, "%s/%s", dir, sub);
    if (mkdir(d, 0755) != 0 && errno != EEXIST) {
        out[0] = '\0';
        return;
    }
    snprintf(out, len, "%s/%s", d, name);
    for (int k = 2; access(out, F_OK) == 0 && k < 10000; k++)
        snprintf(out, len, "%s/%s.%d", d, name, k);
}

/*
 * nw_input's file_done: every document of path is produced; once delivered,
 * the file goes to DIR/.done/, or to DIR/.failed/ with NAME.reason when a
 * document was skipped or not delivered.
 */
static void drop_done(const char *path, void *arg)
{
    drop_state *w = arg;
    if (w->rk != NULL)
        flush_all(w->rk, w->timeout_ms);
    const counters *c = w->cnt, *a = &w->at_start;
    unsigned long read = c->docs_read - a->docs_read, delivered = c->delivered - a->delivered,
                  failed = c->failed - a->failed, skipped = c->skipped - a->skipped;
    unsigned long lost = read > delivered + failed ? read - delivered - failed : 0;
    bool ok = failed + skipped + lost == 0;
    const char *name = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
    char to[8400];
    destination(w->dir, ok ? ".done" : ".failed", name, to, sizeof to);
    if (to[0] == '\0' || rename(path, to) != 0) {
        nw_log(NW_LOG_ERROR, NULL, "%s: cannot move it to %s/%s: %s (it stays)", path, w->dir,
               ok ? ".done" : ".failed", strerror(errno));
    } else if (ok) {
        nw_log(NW_LOG_INFO, NULL, "%s: %lu documents delivered; moved to %s", path, delivered, to);
    } else {
        char reason[8500];
        snprintf(reason, sizeof reason, "%s.reason", to);
        FILE *f = fopen(reason, "w");
        if (f != NULL) {
            fprintf(f, "%lu documents delivered, %lu skipped, %lu not delivered\n%s", delivered,
                    skipped, failed + lost, w->reasons);
            fclose(f);
        }
        nw_log(NW_LOG_WARN, NULL,
               "%s: %lu documents delivered, %lu skipped, %lu not delivered; moved to %s (why: "
               "%s)",
               path, delivered, skipped, failed + lost, to, reason);
    }
    w->at_start = *c;
    w->reasons[0] = '\0';
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/*
 * --feed, --feeds, --once, or -c's [feeds] file with no PATH: the feed
 * poller (feeds.h). The feeds file's configuration goes to *feeds_file (the
 * caller frees it after feeds).
 */
static int run_feeds(const nw_producer_opts *o, const nw_kvconf *conf, nw_feedconf *feeds,
                     const char *list, const char *topic, const char *state_topic, size_t max_bytes,
                     nw_kvconf **feeds_file)
{
    char err[1024];
    for (size_t i = 0; i < o->nfeeds; i++)
        if (nw_feedconf_add_url(feeds, o->feeds[i], err, sizeof err) != NW_OK) {
            fprintf(stderr, PROGRAM ": %s\n", err);
            return EXIT_USAGE;
        }
    if (list != NULL && (nw_kvconf_new_from_file(list, feeds_file, err, sizeof err) != NW_OK ||
                         nw_feedconf_add_file(feeds, *feeds_file, err, sizeof err) != NW_OK)) {
        fprintf(stderr, PROGRAM ": %s\n", err);
        return EXIT_USAGE;
    }
    if (nw_feedconf_count(feeds) == 0) {
        fprintf(stderr, PROGRAM ": no feed to poll: give --feed URL or --feeds FILE (or [feeds] "
                                "file in -c)\n");
        return EXIT_USAGE;
    }
    char why[300];
    if (nw_topics_check_name(state_topic, why, sizeof why) != NW_OK) {
        fprintf(stderr, PROGRAM ": [topics] feed-state: %s\n", why);
        return EXIT_USAGE;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, PROGRAM ": libcurl cannot start\n");
        return EXIT_KAFKA;
    }
    install_signals();
    nw_feeds_args a = {o, conf, feeds, topic, state_topic, max_bytes, &stop_requested};
    int status = nw_feeds_run(&a);
    curl_global_cleanup();
    return status;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
    char err[1024];
    nw_producer_opts o;
    nw_log_setup(PROGRAM, NW_LOG_TEXT, NW_LOG_INFO);
    if (nw_producer_opts_parse(argc, argv, &o, err, sizeof err) != NW_OK) {
        fprintf(stderr, PROGRAM ": %s\nTry '" PROGRAM " --help'.\n", err);
        return EXIT_USAGE;
    }
    if (o.help) {
        fputs(nw_producer_usage, stdout);
        nw_producer_opts_free(&o);
        return 0;
    }
    if (o.version) {
        printf(PROGRAM " %s (librdkafka %s)\n", NW_VERSION, rd_kafka_version_str());
        nw_producer_opts_free(&o);
        return 0;
    }

    int status = 0;
    nw_kvconf *conf = NULL, *feeds_file = NULL;
    nw_feedconf *feeds = NULL;
    rd_kafka_t *rk = NULL;
    nw_input *in = NULL;
    file_settings fs = {NULL, NULL, NULL, 0};
    if (o.config_file != NULL &&
        (nw_kvconf_new_from_file(o.config_file, &conf, err, sizeof err) != NW_OK ||
         nw_conftable_check(conf, err, sizeof err) != NW_OK ||
         nw_log_setup_from_conf(conf, PROGRAM, err, sizeof err) != NW_OK ||
         read_file_settings(conf, &fs, err, sizeof err) != 0)) {
        fprintf(stderr, PROGRAM ": %s\n", err);
        status = EXIT_USAGE;
        goto done;
    }
    if ((feeds = nw_feedconf_new()) == NULL ||
        nw_feedconf_settings(feeds, conf, err, sizeof err) != NW_OK) {
        fprintf(stderr, PROGRAM ": %s\n", feeds == NULL ? "out of memory" : err);
        status = EXIT_USAGE;
        goto done;
    }
    const char *topic = o.topic != NULL ? o.topic : fs.topic != NULL ? fs.topic : "news.raw";
    const char *source = o.source != NULL ? o.source : fs.source;
    size_t max_bytes = o.max_bytes != 0    ? o.max_bytes
                       : fs.max_bytes != 0 ? fs.max_bytes
                                           : NW_INPUT_DEFAULT_MAX_BYTES;

    const char *list = o.feeds_file != NULL ? o.feeds_file : nw_feedconf_get_settings(feeds)->file;
    if (o.polls_feeds || (o.no_path && list != NULL)) {
        status = run_feeds(&o, conf, feeds, list, topic,
                           fs.state_topic != NULL ? fs.state_topic : "news.feed-state", max_bytes,
                           &feeds_file);
        goto done;
    }

    char brokers[512] = "";
    int timeout_ms = 0;
    if (!o.dry_run) {
        rk = make_producer(&o, conf, brokers, sizeof brokers, &timeout_ms, err, sizeof err);
        if (rk == NULL) {
            fprintf(stderr, PROGRAM ": %s\n", err);
            status = EXIT_USAGE;
            goto done;
        }
        int mt = timeout_ms < METADATA_TIMEOUT_MS ? timeout_ms : METADATA_TIMEOUT_MS;
        if (nw_kafka_check_cluster(rk, brokers, topic, NULL, mt, err, sizeof err) != NW_OK) {
            fprintf(stderr, PROGRAM ": %s\n", err);
            status = EXIT_KAFKA;
            goto done;
        }
    }

    install_signals();

    snprintf(err, sizeof err, "out of memory");
    in = o.watch != NULL    ? nw_input_new_watch(o.watch, max_bytes, err, sizeof err)
         : o.follow != NULL ? nw_input_new_follow(o.follow, max_bytes)
                            : nw_input_new(o.paths, o.npaths, max_bytes);
    if (in == NULL) {
        fprintf(stderr, PROGRAM ": %s\n", err);
        status = o.watch != NULL ? EXIT_USAGE : EXIT_KAFKA;
        goto done;
    }
    /* A stop: the lines read whole are still published (nw_input_set_stop), then EOF. */
    nw_input_set_stop(in, &stop_requested);
    counters cnt = {0, 0, 0, 0, 0};
    static drop_state drop; /* --watch */
    drop = (drop_state){rk, timeout_ms, o.watch, &cnt, cnt, ""};
    if (o.watch != NULL)
        nw_input_on_file_done(in, drop_done, &drop);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char origin[1024];
    for (;;) {
        nw_doc *doc = NULL;
        nw_err e = nw_input_next(in, &doc, origin, sizeof origin, err, sizeof err);
        if (e == NW_EOF)
            break;
        char *value = NULL;
        size_t len = 0;
        char now[32];
        nw_time_now_rfc3339(now);
        if (e == NW_OK && (e = nw_doc_complete(doc, source, err, sizeof err)) == NW_OK &&
            (e = nw_doc_to_json(doc, now, &value, &len, err, sizeof err)) == NW_OK &&
            len > max_bytes) {
            e = nw_set_error(err, sizeof err, NW_ETOOBIG,
                             "the document's message is %zu bytes, over the limit of %zu bytes",
                             len, max_bytes);
            free(value);
            value = NULL;
        }
        if (e != NW_OK) {
            fprintf(stderr, PROGRAM ": %s: skipped: %s\n", origin, err);
            cnt.skipped++;
            if (o.watch != NULL) {
                size_t used = strlen(drop.reasons);
                snprintf(drop.reasons + used, sizeof drop.reasons - used, "%s: %s\n", origin, err);
            }
            nw_doc_free(doc);
            continue;
        }
        cnt.docs_read++;
        if (o.dry_run) {
            fwrite(value, 1, len, stdout);
            fputc('\n', stdout);
            cnt.delivered++;
            cnt.bytes += len;
            free(value);
        } else {
            produce(rk, topic, doc, now, value, len, &cnt);
            rd_kafka_poll(rk, 0);
        }
        nw_doc_free(doc);
    }
    if (rk != NULL)
        flush_all(rk, timeout_ms);
    if (o.dry_run && fflush(stdout) != 0) {
        fprintf(stderr, PROGRAM ": cannot write to standard output\n");
        cnt.failed++;
    }
    unsigned long lost = cnt.docs_read - cnt.delivered - cnt.failed; /* no report: timed out */
    size_t unfinished = nw_input_unfinished_bytes(in);
    char unread[160] = "";
    if (unfinished > 0)
        snprintf(unread, sizeof unread,
                 "; not published: a line read only in part (%zu bytes) when the signal came",
                 unfinished);
    if (!o.quiet || cnt.failed + cnt.skipped + lost > 0 || unfinished > 0)
        fprintf(stderr,
                PROGRAM ": %lu documents %s %s (%llu bytes) in %.2f s; %lu failed, %lu "
                        "skipped%s%s\n",
                cnt.delivered, o.dry_run ? "printed for" : "delivered to", topic, cnt.bytes,
                seconds_since(&t0), cnt.failed + lost, cnt.skipped,
                stop_requested ? "; stopped by a signal" : "", unread);
    if (rk != NULL) {
        char reason[512];
        rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(rk, reason, sizeof reason);
        if (fatal != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, PROGRAM ": fatal Kafka error: %s\n", reason);
            status = EXIT_KAFKA;
        }
    }
    /* --follow and --watch end with a signal: that is their normal end. */
    if (status == 0 && (cnt.failed + cnt.skipped + lost > 0 || unfinished > 0 ||
                        (stop_requested && o.follow == NULL && o.watch == NULL)))
        status = EXIT_PARTIAL;
done:
    nw_feedconf_free(feeds);
    nw_kvconf_free(feeds_file);
    nw_input_free(in);
    if (rk != NULL)
        rd_kafka_destroy(rk);
    nw_kvconf_free(conf);
    nw_producer_opts_free(&o);
    return status;
}
