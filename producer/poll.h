/*
 * The feed poller's HTTP side (docs/feeds.md, "Fetching"): libcurl's multi
 * interface fetches many feeds at once on one thread, each on its own
 * schedule.
 *
 *  - Conditional GET: the validators the caller gives for a feed
 *    (ETag -> If-None-Match, Last-Modified -> If-Modified-Since).
 *  - Compression (every encoding libcurl has: gzip, deflate, br), redirects
 *    up to max_redirects (http and https only), connect and total time
 *    limits, at most max_bytes of (decompressed) body, a User-Agent that
 *    names newswatch, the feed's own headers.
 *  - Schedule: a feed is fetched at once, then every interval (the feed's,
 *    else the settings'), lengthened or shortened at random by up to
 *    jitter_percent. After a failure (what the caller's callback says) the
 *    wait doubles per failure in a row, from the interval up to
 *    backoff_max_ms; a Retry-After (seconds or an HTTP date) on any response
 *    asks for at least that long (at most a day).
 *  - once: each feed is fetched one time, with no retry.
 *
 * Ownership: the poller borrows the sources (they must outlive it) and owns
 * its transfers; a result's strings are valid during the callback only.
 * One thread.
 */
#ifndef NEWSWATCH_PRODUCER_POLL_H
#define NEWSWATCH_PRODUCER_POLL_H

#include <stdbool.h>
#include <stddef.h>

#include "newswatch/error.h"
#include "newswatch/feedconf.h"

typedef struct nw_poll nw_poll;

typedef struct nw_poll_result {
    size_t feed;       /* the index nw_poll_add returned */
    const char *error; /* NULL when a response came (any status), else why not */
    long status;       /* the final response's HTTP status; 0 with error */
    const char *body;  /* the body (decompressed), len bytes; not NUL-terminated */
    size_t len;
    const char *etag;          /* the final response's ETag, or NULL */
    const char *last_modified; /* its Last-Modified, or NULL */
    const char *charset;       /* the charset parameter of its Content-Type, or NULL */
    const char *url;           /* where the body came from (after redirects) */
    long retry_after_ms;       /* its Retry-After, -1 when none */
    double seconds;            /* the transfer's duration */
} nw_poll_result;

/* What the caller made of a result: it decides the feed's next wait. */
typedef enum nw_poll_outcome { NW_POLL_OK, NW_POLL_FAILED } nw_poll_outcome;

typedef struct nw_poll_callbacks {
    /* The validators to send for feed (either may be set to NULL). */
    void (*validators)(size_t feed, const char **etag, const char **last_modified, void *arg);
    /* A transfer ended. */
    nw_poll_outcome (*result)(const nw_poll_result *r, void *arg);
    void *arg;
} nw_poll_callbacks;

/* A poller (user_agent NULL: the default). NW_ENOMEM or NW_EIO (libcurl) with a message. */
nw_err nw_poll_new(const nw_feed_settings *settings, const char *user_agent, bool once,
                   const nw_poll_callbacks *cb, nw_poll **out, char *errbuf, size_t errlen);
/* Stops every transfer and frees the poller; NULL is a no-op. */
void nw_poll_free(nw_poll *p);

/* Adds a feed, due at once; returns its index (0, 1, ...), or -1 when out of memory. */
long nw_poll_add(nw_poll *p, const nw_feed_source *source);

/*
 * Starts the transfers that are due, waits up to max_wait_ms for the
 * network or the next due time, and hands every finished transfer to the
 * result callback. NW_EIO with libcurl's message on a failure of libcurl
 * itself.
 */
nw_err nw_poll_run(nw_poll *p, int max_wait_ms, char *errbuf, size_t errlen);

/* With once: true when every feed has been fetched and handled. */
bool nw_poll_finished(const nw_poll *p);

/* The delay before the next fetch of feed, in ms (for the log). */
long nw_poll_next_in_ms(const nw_poll *p, size_t feed);

/* The default User-Agent: "newswatch-producer/VERSION (feed poller; libcurl/VERSION)". */
const char *nw_poll_default_user_agent(void);

#endif
