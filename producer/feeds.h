/*
 * newswatch-producer's feed poller (docs/feeds.md): polls the feeds of
 * nw_feedconf with the HTTP poller (poll.h), turns each new item into a
 * newswatch.doc/1 document (newswatch/feed.h) and publishes the new items of
 * one fetch, with the feed's newswatch.feed-state/1 record, in one Kafka
 * transaction, so that an item is published once: the feed state
 * (newswatch/feedstate.h) is restored from the feed-state topic at start and
 * follows it while running (another host's records included).
 *
 * Ownership: everything in nw_feeds_args is borrowed for the call.
 */
#ifndef NEWSWATCH_PRODUCER_FEEDS_H
#define NEWSWATCH_PRODUCER_FEEDS_H

#include <signal.h>
#include <stddef.h>

#include "newswatch/feedconf.h"
#include "newswatch/kvconf.h"
#include "options.h"

typedef struct nw_feeds_args {
    const nw_producer_opts *opts; /* -b, -X, --dry-run, --once, --source, -q */
    const nw_kvconf *conf;        /* -c, or NULL */
    const nw_feedconf *feeds;     /* at least one feed */
    const char *topic;            /* the documents' topic (news.raw) */
    const char *state_topic;      /* the feed-state topic */
    size_t max_bytes;             /* the largest document message */
    volatile sig_atomic_t *stop;  /* set by SIGINT/SIGTERM */
} nw_feeds_args;

/*
 * Polls until *stop (or, with --once, until each feed was polled one time).
 * Returns the exit status: 0; 1 (--once) when a feed could not be fetched,
 * read or published; 2 a configuration problem (the HTTP endpoint's
 * address); 3 Kafka unreachable at start, a topic missing, or a fatal error.
 */
int nw_feeds_run(const nw_feeds_args *a);

#endif
