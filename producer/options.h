/*
 * newswatch-producer's command line. Parsed into nw_producer_opts, which
 * points into argv (argv must outlive it) except for the -X copies and the
 * --feed array, which it owns: free them with nw_producer_opts_free.
 */
#ifndef NEWSWATCH_PRODUCER_OPTIONS_H
#define NEWSWATCH_PRODUCER_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "newswatch/error.h"
#include "../kafka/nw_kafka.h"

typedef struct nw_producer_opts {
    const char *brokers;     /* -b, NULL when not given */
    const char *topic;       /* -t, NULL when not given */
    const char *config_file; /* -c, NULL when not given */
    const char *source;      /* --source, NULL when not given */
    const char *follow;      /* --follow FILE, NULL when not given (then no PATH) */
    const char *watch;       /* --watch DIR, NULL when not given (then no PATH) */
    const char **feeds;      /* --feed URL in order (owned array, strings in argv) */
    size_t nfeeds;
    const char *feeds_file; /* --feeds FILE, NULL when not given */
    bool once;              /* --once: poll each feed one time */
    size_t max_bytes;       /* --max-bytes, 0 when not given */
    nw_kafka_prop *props;   /* -X in order; key and value strings are owned */
    size_t nprops;
    bool dry_run, quiet, help, version;
    bool polls_feeds; /* --feed, --feeds or --once: the feed poller (no PATH) */
    bool no_path;     /* no PATH was given: paths is {"-"} */
    /* The PATHs; "-" (standard input) when none is given. Unused with --follow, --watch or feeds.
     */
    const char *const *paths;
    size_t npaths;
} nw_producer_opts;

/*
 * Parses argv. NW_EINVAL with a message for the user on a usage error.
 * With no input path, the input is "-" (standard input).
 */
nw_err nw_producer_opts_parse(int argc, char **argv, nw_producer_opts *o, char *errbuf,
                              size_t errlen);
/* Frees what the parse allocated; safe on a zeroed or already freed struct. */
void nw_producer_opts_free(nw_producer_opts *o);

/* The --help text. */
extern const char nw_producer_usage[];

#endif
