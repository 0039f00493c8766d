#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_STALE_MS 120000L
#define METRICS_TYPE     "text/plain; version=0.0.4; charset=utf-8"
#define TEXT_TYPE        "text/plain; charset=utf-8"

struct nw_http {
    struct MHD_Daemon *d;
    nw_metrics *m;
    long stale_ms;
    unsigned port;
};

void nw_http_config_init(nw_http_config *c)
{
    memset(c, 0, sizeof *c);
    c->enabled = true;
    snprintf(c->host, sizeof c->host, "127.0.0.1");
    c->port = 9464;
    c->stale_ms = DEFAULT_STALE_MS;
}

/* A host name: letters, digits, '-' and '.', 1 to 253 bytes. */
static bool host_name(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '-' && c != '.')
            return false;
    }
    return true;
}

/* Parses "HOST:PORT", "[V6]:PORT" or "off" into *c; NULL, or what is wrong. */
static const char *parse_listen(const char *v, nw_http_config *c)
{
    if (strcmp(v, "off") == 0) {
        c->enabled = false;
        return NULL;
    }
    const char *colon = strrchr(v, ':');
    if (colon == NULL)
        return "expected HOST:PORT (such as 127.0.0.1:9464) or off";
    const char *host = v;
    size_t hlen = (size_t)(colon - v);
    char addr[NW_HTTP_HOST_MAX];
    unsigned char bin[sizeof(struct in6_addr)];
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host++;
        hlen -= 2;
        if (hlen >= sizeof addr)
            return "the IPv6 address is too long";
        memcpy(addr, host, hlen);
        addr[hlen] = '\0';
        if (inet_pton(AF_INET6, addr, bin) != 1)
            return "the address in brackets is not an IPv6 address";
    } else {
        if (memchr(host, ':', hlen) != NULL)
            return "an IPv6 address goes in brackets: [::1]:9464";
        if (!host_name(host, hlen))
            return "the host must be an IP address or a host name (letters, digits, '-', '.')";
        memcpy(addr, host, hlen);
        addr[hlen] = '\0';
    }
    long port;
    if (!nw_parse_long(colon + 1, 0, 65535, &port))
        return "the port must be a whole number from 0 (any free port) to 65535";
    c->enabled = true;
    snprintf(c->host, sizeof c->host, "%s", addr);
    c->port = (unsigned)port;
    return NULL;
}

nw_err nw_http_config_apply(nw_http_config *c, const nw_kvconf *conf, const char *key, char *errbuf,
                            size_t errlen)
{
    for (size_t i = 0; conf != NULL && i < nw_kvconf_count(conf); i++) {
        const nw_kvconf_entry *e = nw_kvconf_at(conf, i);
        if (strcmp(e->section, "http") != 0)
            continue;
        if (strcmp(e->key, "listen") != 0 && strcmp(e->key, "producer.listen") != 0)
            return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                "%s:%u: unknown key '%s' in [http] (known: listen, "
                                "producer.listen)",
                                e->file, e->line, e->key);
        if (strcmp(e->key, key) != 0)
            continue;
        nw_http_config next = *c;
        const char *why = parse_listen(e->value, &next);
        if (why != NULL)
            return nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: %s '%s': %s", e->file, e->line,
                                e->key, e->value, why);
        *c = next;
    }
    return NW_OK;
}

/* ---- requests ------------------------------------------------------------ */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (r == NULL) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* A one-line text answer ("ok\n", "enrich: not assigned\n"). */
static enum MHD_Result reply_line(struct MHD_Connection *conn, unsigned status, const char *text)
{
    char line[600];
    int n = snprintf(line, sizeof line, "%s\n", text);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    return reply(conn, status, TEXT_TYPE, line, len, MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)con_cls;
    nw_http *h = cls;
    char why[512];
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply_line(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: use GET");
    if (strcmp(url, "/metrics") == 0) {
        char *body;
        size_t len;
        if (nw_metrics_render(h->m, &body, &len, why, sizeof why) != NW_OK)
            return reply_line(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, why);
        return reply(conn, MHD_HTTP_OK, METRICS_TYPE, body, len, MHD_RESPMEM_MUST_FREE);
    }
    if (strcmp(url, "/healthz") == 0) {
        bool ok = nw_metrics_alive(h->m, h->stale_ms, why, sizeof why);
        return reply_line(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, ok ? "ok" : why);
    }
    if (strcmp(url, "/readyz") == 0) {
        bool ok = nw_metrics_ready(h->m, why, sizeof why);
        return reply_line(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, why);
    }
    return reply_line(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics, /healthz or /readyz");
}

/* ---- the server -------------------------------------------------------------- */

/* A listening socket on host:port (the first address that works); -1 with a message. */
static int listen_on(const nw_http_config *c, int *family, char *errbuf, size_t errlen)
{
    char port[16];
    snprintf(port, sizeof port, "%u", c->port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    char where[NW_HTTP_HOST_MAX + 16];
    snprintf(where, sizeof where, strchr(c->host, ':') != NULL ? "[%s]:%u" : "%s:%u", c->host,
             c->port);
    int rc = getaddrinfo(c->host, port, &hints, &res);
    if (rc != 0) {
        nw_set_error(errbuf, errlen, NW_EIO, "http: cannot listen on %s: %s", where,
                     gai_strerror(rc));
        return -1;
    }
    int fd = -1, err = 0;
    for (const struct addrinfo *a = res; a != NULL && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (a->ai_family == AF_INET6)
            (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 64) != 0) {
            err = errno;
            close(fd);
            fd = -1;
            continue;
        }
        *family = a->ai_family;
    }
    freeaddrinfo(res);
    if (fd < 0)
        nw_set_error(errbuf, errlen, NW_EIO, "http: cannot listen on %s: %s%s", where,
                     strerror(err),
                     err == EADDRINUSE      ? " (another process has the port: set [http] listen)"
                     : err == EADDRNOTAVAIL ? " (not an address of this host)"
                                            : "");
    return fd;
}

nw_err nw_http_new(const nw_http_config *c, nw_metrics *m, nw_http **out, char *errbuf,
                   size_t errlen)
{
    *out = NULL;
    if (!c->enabled)
        return NW_OK;
    nw_http *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    h->m = m;
    h->stale_ms = c->stale_ms > 0 ? c->stale_ms : DEFAULT_STALE_MS;
    int family = AF_INET;
    int fd = listen_on(c, &family, errbuf, errlen);
    if (fd < 0) {
        free(h);
        return NW_EIO;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    /* The server's thread inherits a mask that blocks every signal. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
                            MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                            MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (h->d == NULL) {
        close(fd);
        free(h);
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "http: cannot start the server on %s:%u",
                            c->host, c->port);
    }
    *out = h;
    return NW_OK;
}

unsigned nw_http_port(const nw_http *h)
{
    return h != NULL ? h->port : 0;
}

void nw_http_free(nw_http *h)
{
    if (h == NULL)
        return;
    MHD_stop_daemon(h->d); /* closes the listening socket too */
    free(h);
}
