#include "newswatch/feedconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "newswatch/conftable.h"
#include "newswatch/str.h"
#include "grow.h"

/* The keys of a feed's section (docs/feeds.md). */
static const char *const feed_keys[] = {"url", "source", "lang", "interval.ms", "header", NULL};

typedef struct feed {
    nw_feed_source pub;
    char *name, *url, *source, *lang, *file;
    char **headers;
    size_t nheaders, cap_headers;
} feed;

struct nw_feedconf {
    nw_feed_settings settings;
    char *file, *user_agent, *transactional_id;
    feed *feeds;
    size_t n, cap;
};

static void free_feed(feed *f)
{
    free(f->name);
    free(f->url);
    free(f->source);
    free(f->lang);
    free(f->file);
    for (size_t i = 0; i < f->nheaders; i++)
        free(f->headers[i]);
    free(f->headers);
}

/* The numeric [feeds] keys; their defaults and bounds are the configuration table's. */
static const struct {
    const char *key;
    size_t offset;
} numbers[] = {
    {"interval.ms", offsetof(nw_feed_settings, interval_ms)},
    {"jitter.percent", offsetof(nw_feed_settings, jitter_percent)},
    {"timeout.ms", offsetof(nw_feed_settings, timeout_ms)},
    {"connect.timeout.ms", offsetof(nw_feed_settings, connect_timeout_ms)},
    {"max.bytes", offsetof(nw_feed_settings, max_bytes)},
    {"max.redirects", offsetof(nw_feed_settings, max_redirects)},
    {"backoff.max.ms", offsetof(nw_feed_settings, backoff_max_ms)},
    {"state.items", offsetof(nw_feed_settings, state_items)},
};

nw_feedconf *nw_feedconf_new(void)
{
    nw_feedconf *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    for (size_t j = 0; j < sizeof numbers / sizeof numbers[0]; j++) {
        const nw_conf_key *k = nw_conftable_find("feeds", numbers[j].key);
        long v = 0;
        if (k != NULL)
            nw_parse_long(k->def, k->min, k->max, &v);
        *(long *)((char *)&c->settings + numbers[j].offset) = v;
    }
    return c;
}

void nw_feedconf_free(nw_feedconf *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        free_feed(&c->feeds[i]);
    free(c->feeds);
    free(c->file);
    free(c->user_agent);
    free(c->transactional_id);
    free(c);
}

/* Replaces *slot with a copy of value ("" means unset: NULL). */
static bool set_text(char **slot, const char *value)
{
    char *copy = value[0] != '\0' ? nw_str_dup(value) : NULL;
    if (value[0] != '\0' && copy == NULL)
        return false;
    free(*slot);
    *slot = copy;
    return true;
}

nw_err nw_feedconf_settings(nw_feedconf *c, const nw_kvconf *conf, char *errbuf, size_t errlen)
{
    for (size_t i = 0; conf != NULL && i < nw_kvconf_count(conf); i++) {
        const nw_kvconf_entry *e = nw_kvconf_at(conf, i);
        if (strcmp(e->section, "feeds") != 0)
            continue;
        const nw_conf_key *k = nw_conftable_find("feeds", e->key);
        bool done = false, ok = true;
        for (size_t j = 0; k != NULL && j < sizeof numbers / sizeof numbers[0]; j++) {
            if (strcmp(e->key, numbers[j].key) != 0)
                continue;
            long v;
            if (!nw_parse_long(e->value, k->min, k->max, &v))
                return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                    "%s:%u: [feeds] %s must be a whole number from %ld to %ld, "
                                    "not '%s'",
                                    e->file, e->line, e->key, k->min, k->max, e->value);
            *(long *)((char *)&c->settings + numbers[j].offset) = v;
            done = true;
        }
        if (strcmp(e->key, "file") == 0)
            ok = set_text(&c->file, e->value), done = true;
        else if (strcmp(e->key, "user.agent") == 0)
            ok = set_text(&c->user_agent, e->value), done = true;
        else if (strcmp(e->key, "transactional.id") == 0)
            ok = set_text(&c->transactional_id, e->value), done = true;
        if (!ok)
            return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        if (!done)
            return nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: unknown key '%s' in [feeds]",
                                e->file, e->line, e->key);
    }
    c->settings.file = c->file;
    c->settings.user_agent = c->user_agent;
    c->settings.transactional_id = c->transactional_id;
    return NW_OK;
}

const nw_feed_settings *nw_feedconf_get_settings(const nw_feedconf *c)
{
    return &c->settings;
}

size_t nw_feedconf_count(const nw_feedconf *c)
{
    return c->n;
}

const nw_feed_source *nw_feedconf_at(const nw_feedconf *c, size_t i)
{
    return i < c->n ? &c->feeds[i].pub : NULL;
}

static const char *http_scheme_end(const char *url)
{
    if (strncasecmp(url, "http://", 7) == 0)
        return url + 7;
    if (strncasecmp(url, "https://", 8) == 0)
        return url + 8;
    return NULL;
}

/* What is wrong with url as a feed's address, or NULL. */
static const char *url_problem(const char *url)
{
    const char *host = http_scheme_end(url);
    if (host == NULL)
        return "is not an http:// or https:// URL";
    if (*host == '\0' || *host == '/')
        return "has no host";
    for (const char *p = url; *p != '\0'; p++)
        if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
            return "contains a space or a control character";
    return NULL;
}

static feed *find(nw_feedconf *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->feeds[i].name, name) == 0)
            return &c->feeds[i];
    return NULL;
}

static feed *add_feed(nw_feedconf *c, const char *name, const char *file, unsigned line)
{
    if (!nw_grow((void **)&c->feeds, &c->cap, c->n + 1, sizeof(*c->feeds)))
        return NULL;
    feed *f = &c->feeds[c->n];
    memset(f, 0, sizeof(*f));
    f->name = nw_str_dup(name);
    f->file = nw_str_dup(file);
    if (f->name == NULL || f->file == NULL) {
        free_feed(f);
        return NULL;
    }
    f->pub.line = line;
    c->n++;
    return f;
}

/* Points the public view at the feed's strings (after they are all set). */
static void publish(feed *f)
{
    f->pub.name = f->name;
    f->pub.url = f->url;
    f->pub.source = f->source;
    f->pub.lang = f->lang;
    f->pub.headers = (const char *const *)f->headers;
    f->pub.nheaders = f->nheaders;
    f->pub.file = f->file;
}

nw_err nw_feedconf_add_url(nw_feedconf *c, const char *url, char *errbuf, size_t errlen)
{
    const char *why = url_problem(url);
    if (why != NULL)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "--feed '%s' %s", url, why);
    const char *name = http_scheme_end(url);
    size_t len = strlen(name);
    while (len > 0 && name[len - 1] == '/')
        len--;
    if (len > NW_FEED_NAME_MAX)
        len = NW_FEED_NAME_MAX;
    char buf[NW_FEED_NAME_MAX + 1];
    memcpy(buf, name, len);
    buf[len] = '\0';
    if (find(c, buf) != NULL)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "--feed '%s': that feed is given twice",
                            url);
    feed *f = add_feed(c, buf, "--feed", 0);
    if (f == NULL || (f->url = nw_str_dup(url)) == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    publish(f);
    return NW_OK;
}

/* Checks "Name: value": a token, a colon, a value without line breaks. */
static bool valid_header(const char *h)
{
    const char *colon = strchr(h, ':');
    if (colon == NULL || colon == h)
        return false;
    for (const char *p = h; p < colon; p++)
        if (!isgraph((unsigned char)*p))
            return false;
    return strpbrk(h, "\r\n") == NULL;
}

static nw_err apply_key(feed *f, const nw_kvconf_entry *e, char *errbuf, size_t errlen)
{
    bool ok = true;
    const char *v = e->value;
    if (strcmp(e->key, "url") == 0) {
        const char *why = url_problem(v);
        if (why != NULL)
            return nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: [%s] url '%s' %s", e->file,
                                e->line, f->name, v, why);
        ok = set_text(&f->url, v);
    } else if (strcmp(e->key, "source") == 0) {
        ok = set_text(&f->source, v);
    } else if (strcmp(e->key, "lang") == 0) {
        ok = set_text(&f->lang, v);
    } else if (strcmp(e->key, "interval.ms") == 0) {
        /* a feed's interval has the bounds of [feeds] interval.ms */
        const nw_conf_key *k = nw_conftable_find("feeds", "interval.ms");
        if (!nw_parse_long(v, k->min, k->max, &f->pub.interval_ms))
            return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                "%s:%u: [%s] interval.ms must be a whole number from %ld to %ld, "
                                "not '%s'",
                                e->file, e->line, f->name, k->min, k->max, v);
    } else if (strcmp(e->key, "header") == 0) {
        if (!valid_header(v))
            return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                "%s:%u: [%s] header '%s' is not 'Name: value'", e->file, e->line,
                                f->name, v);
        char *h = nw_str_dup(v);
        ok = h != NULL &&
             nw_grow((void **)&f->headers, &f->cap_headers, f->nheaders + 1, sizeof(char *));
        if (ok)
            f->headers[f->nheaders++] = h;
        else
            free(h);
    } else {
        char near[128];
        return nw_set_error(errbuf, errlen, NW_ECONFIG,
                            "%s:%u: unknown key '%s' in the feed [%s]%s (known: url, source, "
                            "lang, interval.ms, header)",
                            e->file, e->line, e->key, f->name,
                            nw_kvconf_did_you_mean(e->key, feed_keys, near, sizeof near));
    }
    return ok ? NW_OK : nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
}

nw_err nw_feedconf_add_file(nw_feedconf *c, const nw_kvconf *feeds, char *errbuf, size_t errlen)
{
    size_t first = c->n;
    for (size_t i = 0; i < nw_kvconf_count(feeds); i++) {
        const nw_kvconf_entry *e = nw_kvconf_at(feeds, i);
        feed *f = find(c, e->section);
        if (f != NULL && f - c->feeds < (ptrdiff_t)first)
            return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                "%s:%u: the feed [%s] is defined twice (also %s:%u)", e->file,
                                e->line, e->section, f->pub.file, f->pub.line);
        if (f == NULL) {
            /* kvconf puts keys before the first section in [kafka] */
            if (strcmp(e->section, "kafka") == 0)
                return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                    "%s:%u: '%s' is outside a feed: each feed is a [name] "
                                    "section ([kafka] is not a feed name)",
                                    e->file, e->line, e->key);
            if (strlen(e->section) > NW_FEED_NAME_MAX)
                return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                    "%s:%u: the feed name [%s] is longer than %d bytes", e->file,
                                    e->line, e->section, NW_FEED_NAME_MAX);
            if ((f = add_feed(c, e->section, e->file, e->line)) == NULL)
                return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        }
        nw_err err = apply_key(f, e, errbuf, errlen);
        if (err != NW_OK)
            return err;
    }
    for (size_t i = first; i < c->n; i++) {
        feed *f = &c->feeds[i];
        if (f->url == NULL)
            return nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: the feed [%s] has no url",
                                f->file, f->pub.line, f->name);
        publish(f);
    }
    return NW_OK;
}
