/*
 * What the feed poller has published, per feed, so that no item is published
 * twice (docs/feeds.md, "No item twice"): for each feed, the items it has
 * published (a 64-bit hash of the document id and one of its title and body)
 * in the order they were published, at most `limit` of them (the oldest are
 * forgotten first), and the HTTP validators of its last fetch whose items
 * were all published (ETag, Last-Modified), for a conditional GET.
 *
 * The state travels as newswatch.feed-state/1 records (one per feed, key =
 * the feed's name; docs/schemas.md) in a compacted topic: the producer
 * writes a feed's record in the transaction that publishes its new items and
 * merges every record it reads back (its own and another host's) into the
 * items it knows, so a restart, or a second producer, does not publish them
 * again.
 *
 * A change is tentative until the caller says how its transaction ended:
 * nw_feedstate_begin(feed) remembers the feed's state, and
 * nw_feedstate_end(feed, committed) keeps what was added since or puts the
 * remembered state back.
 *
 * No Kafka here. Ownership: the state owns its feeds and their strings;
 * strings returned are valid until the next call that changes that feed.
 * Not thread-safe: one thread at a time.
 */
#ifndef NEWSWATCH_FEEDSTATE_H
#define NEWSWATCH_FEEDSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "newswatch/error.h"

#define NW_FEEDSTATE_SCHEMA "newswatch.feed-state/1"

typedef struct nw_feedstate nw_feedstate;

/* An item as the state knows it. */
typedef struct nw_feedstate_item {
    uint64_t id;      /* nw_feedstate_hash of the document id */
    uint64_t content; /* nw_feedstate_content_hash of its title and body */
} nw_feedstate_item;

/* A state that remembers at most limit (>= 1) items per feed; NULL when out of memory. */
nw_feedstate *nw_feedstate_new(size_t limit);
/* Frees the state; NULL is a no-op. */
void nw_feedstate_free(nw_feedstate *s);

/* The hash of a document id. */
uint64_t nw_feedstate_hash(const char *id, size_t len);
/*
 * The hash of a document's title and body (title may be NULL), so that an
 * item republished under a new GUID (a feed that changes its links) is
 * still known.
 */
uint64_t nw_feedstate_content_hash(const char *title, size_t tlen, const char *body, size_t blen);

/* Whether feed has published an item with this id or this content. */
bool nw_feedstate_seen(const nw_feedstate *s, const char *feed, nw_feedstate_item item);
/* Items remembered for feed (0 for a feed the state does not know). */
size_t nw_feedstate_count(const nw_feedstate *s, const char *feed);

/* Records item as published by feed (forgetting the oldest past the limit). NW_ENOMEM. */
nw_err nw_feedstate_add(nw_feedstate *s, const char *feed, nw_feedstate_item item);

/*
 * The validators of the last fetch of feed whose items are all published,
 * or NULL. Set both at once (either may be NULL: the server did not send
 * it). NW_ENOMEM.
 */
const char *nw_feedstate_etag(const nw_feedstate *s, const char *feed);
const char *nw_feedstate_last_modified(const nw_feedstate *s, const char *feed);
nw_err nw_feedstate_set_validators(nw_feedstate *s, const char *feed, const char *etag,
                                   const char *last_modified);

/* Remembers feed's state, for nw_feedstate_end. NW_ENOMEM. */
nw_err nw_feedstate_begin(nw_feedstate *s, const char *feed);
/*
 * Ends what nw_feedstate_begin started: committed keeps the changes since,
 * otherwise the feed gets its remembered state back. A no-op without a begin.
 */
void nw_feedstate_end(nw_feedstate *s, const char *feed, bool committed);

/*
 * feed's state as a newswatch.feed-state/1 record (url: the feed's address,
 * may be NULL; updated_at: RFC 3339) in *out (len bytes, malloc'd, the
 * caller frees). NW_ENOMEM.
 */
nw_err nw_feedstate_to_json(const nw_feedstate *s, const char *feed, const char *url,
                            const char *updated_at, char **out, size_t *len, char *errbuf,
                            size_t errlen);

/*
 * Merges a record read from the topic: key[0..keylen) names the feed; value
 * NULL (a tombstone) makes the state forget the feed. The record's items the
 * state does not know are added (the union of both), and its validators are
 * taken when the state has none for the feed. NW_EJSON or NW_EINVAL with the
 * problem (valid UTF-8: what it quotes of the record is mended) when the
 * record is not a newswatch.feed-state/1 of that feed; the state is then
 * unchanged.
 */
nw_err nw_feedstate_merge(nw_feedstate *s, const char *key, size_t keylen, const char *value,
                          size_t len, char *errbuf, size_t errlen);

#endif
