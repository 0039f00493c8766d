/*
 * The table of every key of newswatch's configuration file (both programs;
 * docs/configuration.md): section, key, type and bounds, default, which
 * program uses it, whether SIGHUP applies it, and what it does. In the
 * style of redis's config table: one place that says what a key is.
 *
 * nw_conftable_check is the first look at a file: every section and key
 * must be in the table (a misspelt one gets a suggestion), numbers within
 * their bounds, booleans and choices among theirs, topic names valid. The
 * modules that use a section then read their keys (and check what only
 * they can: a URL, a header, an address to listen on); the table is kept
 * in step with them by tests/checks/config_reference.sh, which also checks
 * that docs/configuration.md's reference is the one nw_conftable_markdown
 * writes and that config/newswatch.conf names every key.
 *
 * Ownership: the table is static; nw_conftable_markdown's text is the
 * caller's to free.
 */
#ifndef NEWSWATCH_CONFTABLE_H
#define NEWSWATCH_CONFTABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "newswatch/error.h"
#include "newswatch/kvconf.h"

typedef enum nw_conf_type {
    NW_CONF_TEXT,  /* any text; its module checks it */
    NW_CONF_INT,   /* a whole number from min to max */
    NW_CONF_BOOL,  /* true or false */
    NW_CONF_ENUM,  /* one of choices */
    NW_CONF_TOPIC, /* a Kafka topic name */
    NW_CONF_KAFKA  /* [kafka]: any librdkafka property (librdkafka checks it) */
} nw_conf_type;

typedef struct nw_conf_key {
    const char *section;
    const char *key; /* "*" in [kafka] */
    nw_conf_type type;
    long min, max;       /* NW_CONF_INT */
    const char *choices; /* NW_CONF_ENUM: "a|b|c" */
    const char *def;     /* the default as a value in the file; "" when there is none */
    const char *used_by; /* "consumer", "producer" or "both" */
    bool reloadable;     /* SIGHUP applies a change (the daemon) */
    bool repeatable;     /* each line adds a value */
    const char *doc;     /* what it does, one sentence */
} nw_conf_key;

size_t nw_conftable_count(void);

/* The i-th key (i < nw_conftable_count), in the order of the sections. */
const nw_conf_key *nw_conftable_at(size_t i);

/* The key of section, or NULL; in [kafka] every key is the "*" entry. */
const nw_conf_key *nw_conftable_find(const char *section, const char *key);

/*
 * Checks conf (may be NULL) against the table: NW_ECONFIG with "file:line:
 * problem" for the first section or key the table does not know (with a
 * suggestion when one is close), or a value of the wrong type or out of
 * bounds.
 */
nw_err nw_conftable_check(const nw_kvconf *conf, char *errbuf, size_t errlen);

/*
 * The reference of every key as Markdown, one table per section (what
 * docs/configuration.md shows between its "generated" markers). NULL when
 * out of memory; the caller frees it.
 */
char *nw_conftable_markdown(void);

#endif
