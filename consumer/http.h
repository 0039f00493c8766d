/*
 * The daemon's HTTP endpoint (docs/metrics.md), served with libmicrohttpd
 * on its own thread, bound to the configured address only:
 *
 *   GET /metrics  the registry in the Prometheus text format 0.0.4
 *   GET /healthz  200 "ok" while the main loop beats (nw_metrics_heartbeat),
 *                 503 with the reason when the last beat is too old
 *   GET /readyz   200 "ready" when nw_metrics_ready says so, else 503 with
 *                 a one-line reason ("enrich: not assigned")
 *
 * Configuration: [http] listen = HOST:PORT | off (default 127.0.0.1:9464);
 * newswatch-producer's feed poller: [http] producer.listen (127.0.0.1:9465).
 * HOST is an IPv4 address, an IPv6 address in brackets ([::1]:9464) or a
 * host name that resolves to one; PORT is 1 to 65535.
 *
 * Ownership: the server borrows the registry, which must outlive it. The
 * server's thread blocks every signal, so signals go to the program's own
 * threads. nw_http_new and nw_http_free are called from one thread.
 */
#ifndef NEWSWATCH_CONSUMER_HTTP_H
#define NEWSWATCH_CONSUMER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "newswatch/error.h"
#include "newswatch/kvconf.h"
#include "metrics.h"

#define NW_HTTP_DEFAULT_LISTEN "127.0.0.1:9464"
#define NW_HTTP_HOST_MAX       256

/* What to serve where. A plain struct the caller owns. */
typedef struct nw_http_config {
    bool enabled;                /* false: listen = off */
    char host[NW_HTTP_HOST_MAX]; /* without brackets */
    unsigned port;               /* 0 (tests only): any free port, see nw_http_port */
    long stale_ms;               /* /healthz fails when the last heartbeat is older (120000) */
} nw_http_config;

typedef struct nw_http nw_http;

/* Fills *c with the defaults: on, 127.0.0.1:9464, stale after 120 s. */
void nw_http_config_init(nw_http_config *c);

/*
 * Applies [http] key of conf (may be NULL) on top of *c: "listen" (the
 * daemon) or "producer.listen" (the feed poller). An unknown key or a value
 * that is not HOST:PORT or off is NW_ECONFIG with "file:line: problem" in
 * errbuf.
 */
nw_err nw_http_config_apply(nw_http_config *c, const nw_kvconf *conf, const char *key, char *errbuf,
                            size_t errlen);

/*
 * Starts serving m as *c says. With c->enabled false, *out is NULL and
 * NW_OK returned. NW_EIO with "cannot listen on HOST:PORT: reason" when the
 * address cannot be had (in use, not local), NW_ENOMEM otherwise. *out is
 * freed with nw_http_free.
 */
nw_err nw_http_new(const nw_http_config *c, nw_metrics *m, nw_http **out, char *errbuf,
                   size_t errlen);

/* The port the server listens on (the chosen one when c->port was 0); 0 for NULL. */
unsigned nw_http_port(const nw_http *h);

/* Stops the server (requests in flight are ended) and frees it; NULL is a no-op. */
void nw_http_free(nw_http *h);

#endif
