/*
 * The feeds newswatch-producer polls (docs/feeds.md): the [feeds] settings
 * of the configuration file (conftable.h lists them) and the feeds
 * themselves, from `--feed URL` and from a feeds file such as
 * config/feeds.conf, with one section per feed:
 *
 *     [aljazeera-ar]                  <- the feed's name: its state's key
 *     url =
 * https://www.aljazeera.net/aljazeerarss/a7c186be-1baa-4bd4-9d80-a84db769f779/73d0e1b4-532f-45ef-b135-bfdff8b8cab9
 *     source = aljazeera              <- its documents' source (default: the name)
 *     lang = ar                       <- when the feed does not say
 *     interval.ms = 120000            <- [feeds] interval.ms unless given
 *     header = Authorization: Bearer ${ALJAZEERA_TOKEN}   <- repeatable
 *
 * A problem names the file, the line and what is wrong; an unknown key gets
 * a suggestion. No network and no Kafka here.
 *
 * Ownership: an nw_feedconf owns its feeds and their strings, valid until
 * nw_feedconf_free.
 */
#ifndef NEWSWATCH_FEEDCONF_H
#define NEWSWATCH_FEEDCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "newswatch/error.h"
#include "newswatch/kvconf.h"

/* The longest feed name: a Kafka record key and a metrics label. */
#define NW_FEED_NAME_MAX 100

typedef struct nw_feed_source {
    const char *name;           /* unique; from the section, or the URL for --feed */
    const char *url;            /* http or https */
    const char *source;         /* the documents' source; NULL: the name */
    const char *lang;           /* the documents' lang when the feed does not say; NULL: none */
    long interval_ms;           /* 0: the settings' interval_ms */
    const char *const *headers; /* "Name: value" request headers */
    size_t nheaders;
    const char *file; /* where it was defined: the feeds file, or "--feed" */
    unsigned line;
} nw_feed_source;

/* [feeds] of the configuration file, at their defaults after nw_feedconf_new. */
typedef struct nw_feed_settings {
    const char *file; /* NULL: none */
    long interval_ms;
    long jitter_percent;
    long timeout_ms;
    long connect_timeout_ms;
    long max_bytes;
    long max_redirects;
    long backoff_max_ms;
    const char *user_agent;       /* NULL: the default */
    long state_items;             /* items remembered per feed */
    const char *transactional_id; /* NULL: the default */
} nw_feed_settings;

typedef struct nw_feedconf nw_feedconf;

/* An empty list with the default settings; NULL when out of memory. */
nw_feedconf *nw_feedconf_new(void);
/* Frees it; NULL is a no-op. */
void nw_feedconf_free(nw_feedconf *c);

/*
 * Applies [feeds] of conf (may be NULL) to the settings. NW_ECONFIG with
 * "file:line: problem" for a value out of bounds or an unknown key.
 */
nw_err nw_feedconf_settings(nw_feedconf *c, const nw_kvconf *conf, char *errbuf, size_t errlen);
const nw_feed_settings *nw_feedconf_get_settings(const nw_feedconf *c);

/*
 * Adds a feed given on the command line (--feed URL): its name is the URL
 * without its scheme (at most NW_FEED_NAME_MAX bytes). NW_EINVAL when the URL
 * is not http(s) or the name is taken.
 */
nw_err nw_feedconf_add_url(nw_feedconf *c, const char *url, char *errbuf, size_t errlen);
/*
 * Adds every section of a feeds file as a feed. NW_ECONFIG with "file:line:
 * problem": a section without url, a url that is not http(s), an unknown
 * key, a number out of bounds, a header that is not "Name: value", a name
 * that is taken, too long or not letters, digits, '.', '_' and '-'.
 */
nw_err nw_feedconf_add_file(nw_feedconf *c, const nw_kvconf *feeds, char *errbuf, size_t errlen);

size_t nw_feedconf_count(const nw_feedconf *c);
/* Feed i (i < nw_feedconf_count) or NULL. */
const nw_feed_source *nw_feedconf_at(const nw_feedconf *c, size_t i);

#endif
