/*
 * The names of newswatch's Kafka topics (the BRIEF's defaults unless the
 * configuration's [topics] section says otherwise). Only names and partition
 * counts live here: the library has no Kafka in it.
 */
#ifndef NEWSWATCH_TOPICS_H
#define NEWSWATCH_TOPICS_H

#include <stddef.h>

#include "newswatch/error.h"
#include "newswatch/kvconf.h"

#define NW_TOPIC_NAME_MAX 249 /* Kafka's limit */

typedef enum nw_topic_role {
    NW_TOPIC_RAW,
    NW_TOPIC_ENRICHED,
    NW_TOPIC_MATCHES,
    NW_TOPIC_ALERTS,
    NW_TOPIC_ALERT_STATE,
    NW_TOPIC_DLQ,
    NW_TOPIC_FEED_STATE, /* the producer's record of the feed items it published */
    NW_TOPIC_ROLE_COUNT
} nw_topic_role;

typedef struct nw_topics {
    char name[NW_TOPIC_ROLE_COUNT][NW_TOPIC_NAME_MAX + 1];
} nw_topics;

/* Fills *t with the default names. */
void nw_topics_init(nw_topics *t);

/*
 * Applies the [topics] entries of conf (may be NULL). An unknown key or an
 * invalid topic name is NW_ECONFIG with "file:line: problem".
 */
nw_err nw_topics_configure(nw_topics *t, const nw_kvconf *conf, char *errbuf, size_t errlen);

/*
 * Checks a topic name against Kafka's rules: 1 to 249 characters of
 * [a-zA-Z0-9._-], not "." or "..".
 */
nw_err nw_topics_check_name(const char *name, char *errbuf, size_t errlen);

#endif
