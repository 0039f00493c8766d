#include "newswatch/conftable.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/topics.h"
#include "grow.h"

#define INT(lo, hi) NW_CONF_INT, lo, hi, NULL
#define TEXT        NW_CONF_TEXT, 0, 0, NULL
#define BOOL        NW_CONF_BOOL, 0, 0, NULL
#define TOPIC       NW_CONF_TOPIC, 0, 0, NULL
#define ENUM(c)     NW_CONF_ENUM, 0, 0, c

/* Every key, section by section (the order of docs/configuration.md). */
static const nw_conf_key table[] = {
    {"kafka", "*", NW_CONF_KAFKA, 0, 0, NULL, "", "both", false, false,
     "any librdkafka property (CONFIGURATION.md of librdkafka 2.0.2), for every Kafka client of "
     "the program; keys before the first section belong here"},

    {"topics", "raw", TOPIC, "news.raw", "both", false, false,
     "documents, written by the producer (its default -t), read by the enrich stage"},
    {"topics", "enriched", TOPIC, "news.enriched", "consumer", false, false,
     "enriched documents, written by the enrich stage"},
    {"topics", "matches", TOPIC, "news.matches", "consumer", false, false,
     "matches of tracked events, written by the enrich stage, read by the alert stage"},
    {"topics", "alerts", TOPIC, "news.alerts", "consumer", false, false,
     "alerts, written by the alert stage"},
    {"topics", "alert-state", TOPIC, "news.alert-state", "consumer", false, false,
     "the alert stage's state (compacted changelog)"},
    {"topics", "dlq", TOPIC, "news.dlq", "consumer", false, false, "dead letters of both stages"},
    {"topics", "feed-state", TOPIC, "news.feed-state", "producer", false, false,
     "the feed items the producer has published, per feed (compacted; docs/feeds.md)"},

    {"producer", "source", TEXT, "", "producer", false, false,
     "source of documents that do not name one (--source wins); unset: null"},
    {"producer", "max.document.bytes", INT(1, 1073741824L), "1000000", "producer", false, false,
     "largest message value; a larger document is skipped with a message (--max-bytes wins)"},

    {"feeds", "file", TEXT, "", "producer", false, false,
     "the feeds to poll, one section per feed (config/feeds.conf; --feeds wins; docs/feeds.md)"},
    {"feeds", "interval.ms", INT(1000, 86400000L), "300000", "producer", false, false,
     "time between two polls of a feed, unless its section says otherwise"},
    {"feeds", "jitter.percent", INT(0, 50), "10", "producer", false, false,
     "each interval is shortened or lengthened at random by up to this share"},
    {"feeds", "timeout.ms", INT(1000, 600000), "30000", "producer", false, false,
     "time limit of one fetch, connecting and redirects included"},
    {"feeds", "connect.timeout.ms", INT(100, 600000), "10000", "producer", false, false,
     "time limit of connecting to a feed's server"},
    {"feeds", "max.bytes", INT(1024, 16777216L), "8388608", "producer", false, false,
     "largest feed accepted, in bytes (decompressed); a larger one is an error of that feed"},
    {"feeds", "max.redirects", INT(0, 50), "5", "producer", false, false,
     "redirects followed per fetch"},
    {"feeds", "backoff.max.ms", INT(1000, 86400000L), "3600000", "producer", false, false,
     "after failed polls the interval doubles per failure up to this (Retry-After may ask for "
     "more)"},
    {"feeds", "user.agent", TEXT, "", "producer", false, false,
     "the User-Agent header; unset: newswatch-producer/VERSION (+feed poller; libcurl/VERSION)"},
    {"feeds", "state.items", INT(10, 100000), "2000", "producer", false, false,
     "items remembered per feed in the feed-state topic, so that none is published twice"},
    {"feeds", "transactional.id", TEXT, "", "producer", false, false,
     "the feed poller's transactional id; unset: newswatch-feeds-<host name>"},

    {"consumer", "group.enrich", TEXT, "newswatch-enrich", "consumer", false, false,
     "the enrich stage's consumer group"},
    {"consumer", "group.alert", TEXT, "newswatch-alert", "consumer", false, false,
     "the alert stage's consumer group"},
    {"consumer", "transactional.id.prefix", TEXT, "newswatch", "consumer", false, false,
     "prefix of the transactional ids (<prefix>-<stage>-<instance>)"},
    {"consumer", "instance.id", TEXT, "", "consumer", false, false,
     "this instance's stable name (1 to 100 letters, digits, '.', '_', '-'; default the host "
     "name; --instance-id wins): its group.instance.id and transactional ids"},
    {"consumer", "batch.messages", INT(1, 100000), "2000", "consumer", false, false,
     "messages per transaction at most"},
    {"consumer", "batch.ms", INT(1, 60000), "100", "consumer", false, false,
     "time to collect a batch at most (ms)"},
    {"consumer", "enrich.threads", INT(1, 64), "", "consumer", false, false,
     "threads that enrich a batch's documents (default: the number of CPUs)"},
    {"consumer", "processing.guarantee", ENUM("exactly_once|at_least_once"), "exactly_once",
     "consumer", false, false, "Kafka transactions, or none"},
    {"consumer", "max.document.bytes", INT(1, 1073741824L), "1000000", "consumer", false, false,
     "larger raw messages go to the dead-letter topic"},
    {"consumer", "startup.timeout.ms", INT(0, 86400000L), "0", "consumer", false, false,
     "how long a broker that does not answer at start is waited for (0: as long as it takes)"},
    {"consumer", "shutdown.timeout.ms", INT(1000, 600000), "30000", "consumer", false, false,
     "bound on a graceful stop; past it the daemon exits with status 1"},

    {"pipeline", "gazetteer", TEXT, "config/gazetteer.txt", "consumer", true, false,
     "the gazetteer (docs/gazetteer.md); relative to the working directory, else the installed "
     "copy"},
    {"pipeline", "furniture", TEXT, "config/furniture.conf", "consumer", true, false,
     "the page-furniture rules (docs/text-pipeline.md)"},
    {"pipeline", "events", TEXT, "config/events.conf", "consumer", true, false,
     "the tracked events (docs/tracked-events.md)"},

    {"log", "format", ENUM("text|json"), "text", "both", false, false,
     "text lines or one JSON object per line"},
    {"log", "level", ENUM("error|warn|warning|info|debug"), "info", "both", false, false,
     "the least level written"},

    {"http", "listen", TEXT, "127.0.0.1:9464", "consumer", false, false,
     "HOST:PORT of /metrics, /healthz and /readyz (port 0: any free port), or off "
     "(docs/metrics.md)"},
    {"http", "producer.listen", TEXT, "127.0.0.1:9465", "producer", false, false,
     "the same for newswatch-producer while it polls feeds (port 0: any free port), or off"},

    {"sinks", "stdout", BOOL, "true", "consumer", true, false,
     "each alert as a JSON line on stdout"},
    {"sinks", "alertmanager.url", TEXT, "", "consumer", true, false,
     "Alertmanager's base URL (alerts go to <url>/api/v2/alerts); unset: off"},
    {"sinks", "alertmanager.resend.ms", INT(100, 86400000L), "60000", "consumer", true, false,
     "how often active incidents are re-posted to Alertmanager (endsAt is 4 of these ahead)"},
    {"sinks", "generator.url", TEXT, "", "consumer", true, false,
     "generatorURL of the Alertmanager alerts"},
    {"sinks", "webhook.url", TEXT, "", "consumer", true, false,
     "a webhook that gets each alert's JSON; unset: off"},
    {"sinks", "webhook.header", TEXT, "", "consumer", true, true,
     "an extra webhook request header, 'Name: value' (one per line)"},
    {"sinks", "retry.attempts", INT(1, 100), "5", "consumer", true, false,
     "tries per alert, the first included"},
    {"sinks", "retry.backoff.ms", INT(1, 3600000L), "200", "consumer", true, false,
     "backoff before the first retry, doubling, with jitter"},
    {"sinks", "retry.backoff.max.ms", INT(1, 3600000L), "10000", "consumer", true, false,
     "the backoff's cap"},
    {"sinks", "timeout.ms", INT(100, 600000), "5000", "consumer", true, false,
     "time limit of one HTTP request, connecting included"},
    {"sinks", "queue.size", INT(1, 1000000), "1000", "consumer", true, false,
     "alerts waiting per HTTP sink; when full, the oldest is dropped"},
};

#define NKEYS (sizeof table / sizeof table[0])

size_t nw_conftable_count(void)
{
    return NKEYS;
}

const nw_conf_key *nw_conftable_at(size_t i)
{
    return i < NKEYS ? &table[i] : NULL;
}

const nw_conf_key *nw_conftable_find(const char *section, const char *key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(table[i].section, section) == 0 &&
            (table[i].type == NW_CONF_KAFKA || strcmp(table[i].key, key) == 0))
            return &table[i];
    return NULL;
}

/* The distinct sections, or the keys of one section, NULL-terminated (into out[cap]). */
static size_t names(const char *section, const char **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < NKEYS && n + 1 < cap; i++) {
        const char *name = section == NULL ? table[i].section : table[i].key;
        if (section != NULL && strcmp(table[i].section, section) != 0)
            continue;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = strcmp(out[k], name) == 0;
        if (!seen)
            out[n++] = name;
    }
    out[n] = NULL;
    return n;
}

static bool choice(const char *choices, const char *v)
{
    size_t len = strlen(v);
    for (const char *c = choices; *c != '\0';) {
        const char *bar = strchr(c, '|');
        size_t n = bar != NULL ? (size_t)(bar - c) : strlen(c);
        if (n == len && strncmp(c, v, n) == 0)
            return true;
        c += n + (bar != NULL);
    }
    return false;
}

/* What is wrong with value v for key k; NULL when nothing. */
static const char *problem(const nw_conf_key *k, const char *v, char *why, size_t len)
{
    long n;
    switch (k->type) {
    case NW_CONF_INT:
        if (!nw_parse_long(v, k->min, k->max, &n)) {
            snprintf(why, len, "must be a whole number from %ld to %ld, not '%s'", k->min, k->max,
                     v);
            return why;
        }
        return NULL;
    case NW_CONF_BOOL:
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
            snprintf(why, len, "must be true or false, not '%s'", v);
            return why;
        }
        return NULL;
    case NW_CONF_ENUM:
        if (!choice(k->choices, v)) {
            snprintf(why, len, "must be one of %s, not '%s'", k->choices, v);
            return why;
        }
        return NULL;
    case NW_CONF_TOPIC: {
        char err[300];
        if (nw_topics_check_name(v, err, sizeof err) != NW_OK) {
            snprintf(why, len, "%s", err);
            return why;
        }
        return NULL;
    }
    case NW_CONF_TEXT:
    case NW_CONF_KAFKA:
        return NULL;
    }
    return NULL;
}

nw_err nw_conftable_check(const nw_kvconf *conf, char *errbuf, size_t errlen)
{
    const char *sections[32];
    names(NULL, sections, sizeof sections / sizeof sections[0]);
    nw_err err = nw_kvconf_check_sections(conf, sections, errbuf, errlen);
    for (size_t i = 0; err == NW_OK && conf != NULL && i < nw_kvconf_count(conf); i++) {
        const nw_kvconf_entry *e = nw_kvconf_at(conf, i);
        const nw_conf_key *k = nw_conftable_find(e->section, e->key);
        if (k == NULL) {
            const char *keys[64];
            names(e->section, keys, sizeof keys / sizeof keys[0]);
            char list[1024] = "", near[128];
            for (size_t j = 0; keys[j] != NULL; j++) {
                size_t used = strlen(list);
                snprintf(list + used, sizeof list - used, "%s%s", j > 0 ? ", " : "", keys[j]);
            }
            return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                "%s:%u: unknown key '%s' in [%s]%s (known: %s)", e->file, e->line,
                                e->key, e->section,
                                nw_kvconf_did_you_mean(e->key, keys, near, sizeof near), list);
        }
        char why[512];
        if (problem(k, e->value, why, sizeof why) != NULL)
            err = nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: [%s] %s %s", e->file, e->line,
                               e->section, e->key, why);
    }
    return err;
}

/* Appends printf output to the growing text *buf (length *len, capacity *cap); false on ENOMEM. */
static bool add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !nw_grow((void **)buf, cap, *len + (size_t)n + 1, 1))
        return false;
    va_start(ap, fmt);
    vsnprintf(*buf + *len, *cap - *len, fmt, ap);
    va_end(ap);
    *len += (size_t)n;
    return true;
}

char *nw_conftable_markdown(void)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    bool ok = add(&buf, &len, &cap, "%s", "");
    const char *section = NULL;
    for (size_t i = 0; ok && i < NKEYS; i++) {
        const nw_conf_key *k = &table[i];
        if (section == NULL || strcmp(section, k->section) != 0) {
            section = k->section;
            ok = add(
                &buf, &len, &cap,
                "%s#### [%s]\n\n| key | type | default | used by | SIGHUP | what |\n| --- | --- | "
                "--- | --- | --- | --- |\n",
                i > 0 ? "\n" : "", section);
        }
        char type[128];
        switch (k->type) {
        case NW_CONF_INT:
            snprintf(type, sizeof type, "%ld to %ld", k->min, k->max);
            break;
        case NW_CONF_BOOL:
            snprintf(type, sizeof type, "true, false");
            break;
        case NW_CONF_ENUM:
            snprintf(type, sizeof type, "%s", k->choices);
            for (char *p = type; *p != '\0'; p++)
                if (*p == '|')
                    *p = '/';
            break;
        case NW_CONF_TOPIC:
            snprintf(type, sizeof type, "topic name");
            break;
        case NW_CONF_KAFKA:
            snprintf(type, sizeof type, "librdkafka");
            break;
        default:
            snprintf(type, sizeof type, "text%s", k->repeatable ? ", repeatable" : "");
        }
        ok = add(&buf, &len, &cap, "| `%s` | %s | %s%s%s | %s | %s | %s |\n", k->key, type,
                 k->def[0] != '\0' ? "`" : "", k->def[0] != '\0' ? k->def : "-",
                 k->def[0] != '\0' ? "`" : "", k->used_by, k->reloadable ? "applied" : "restart",
                 k->doc);
    }
    if (!ok) {
        free(buf);
        return NULL;
    }
    return buf;
}
