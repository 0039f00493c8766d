#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

const char nw_producer_usage[] =
    "Usage: newswatch-producer [OPTIONS] [PATH...]\n"
    "\n"
    "Publishes news documents to Kafka, one message per document: key = document id,\n"
    "value = the document as JSON (\"schema\": \"newswatch.doc/1\").\n"
    "\n"
    "PATH is a text file (one document: id = file name without extension, title =\n"
    "first non-empty line, body = the whole text), a directory (every file below it,\n"
    "in path order), a .jsonl file (one JSON document per line: body required; id,\n"
    "title, source, url, published_at, lang optional), or - for JSON Lines on\n"
    "standard input (the default when no PATH is given). Standard input's lines are\n"
    "published as they arrive.\n"
    "\n"
    "Options:\n"
    "  -b BROKERS         bootstrap brokers, host:port[,...] (default 127.0.0.1:9092)\n"
    "  -t TOPIC           topic to publish to (default news.raw)\n"
    "  -X KEY=VALUE       librdkafka property, repeatable (-X list: see librdkafka's\n"
    "                     CONFIGURATION.md); later ones win\n"
    "  -c FILE            configuration file of key = value lines ([kafka], [producer]\n"
    "                     and [topics] sections; see config/newswatch.conf)\n"
    "      --source NAME  source for documents that do not name one\n"
    "      --max-bytes N  largest document message, in bytes (default 1000000)\n"
    "      --follow FILE  follow a growing JSON Lines file, like tail -F (across\n"
    "                     rotation and truncation; a missing file is waited for), until\n"
    "                     SIGINT or SIGTERM; no PATH with it\n"
    "      --watch DIR    a drop folder: publish each file in DIR and each new one\n"
    "                     (written then closed, or moved in), then move it to\n"
    "                     DIR/.done/, or to DIR/.failed/ with NAME.reason; until\n"
    "                     SIGINT or SIGTERM; no PATH with it\n"
    "      --feed URL     poll an RSS, Atom or JSON Feed at URL (repeatable; its name\n"
    "                     is the URL without http://), publishing each new item, until\n"
    "                     SIGINT or SIGTERM; no PATH with it (docs/feeds.md)\n"
    "      --feeds FILE   poll the feeds of FILE, one [name] section each (url, source,\n"
    "                     lang, interval.ms, header; see config/feeds.conf); default:\n"
    "                     [feeds] file of -c\n"
    "      --once         poll each feed one time, publish, and exit\n"
    "                     (with no PATH, -c's [feeds] file is polled too)\n"
    "      --dry-run      print the messages' values as JSON Lines on stdout; no broker\n"
    "  -q, --quiet        no summary line\n"
    "  -h, --help         this help\n"
    "  -V, --version      print versions and exit\n"
    "\n"
    "Delivery is idempotent with acks=all; every delivery report is counted.\n"
    "A bad document (unreadable, invalid UTF-8, bad JSON, no body, too big) is\n"
    "named on stderr and skipped; the others are still published.\n"
    "SIGINT or SIGTERM: every line already read whole is published and delivered,\n"
    "then the summary says what was not (a line read only in part, in bytes).\n"
    "\n"
    "Feeds: the items published are recorded per feed in the topic news.feed-state\n"
    "([topics] feed-state), in the transaction that publishes them, so that no item\n"
    "is published twice, across restarts and hosts. With --dry-run, only in memory.\n"
    "\n"
    "Exit status: 0 every document delivered; 1 some document skipped or not\n"
    "delivered (feeds: a feed could not be fetched or read); 2 usage or\n"
    "configuration error; 3 Kafka unreachable or fatal error.\n";

enum {
    OPT_SOURCE = 256,
    OPT_MAX_BYTES,
    OPT_DRY_RUN,
    OPT_FOLLOW,
    OPT_WATCH,
    OPT_FEED,
    OPT_FEEDS,
    OPT_ONCE
};

void nw_producer_opts_free(nw_producer_opts *o)
{
    nw_kafka_props_free(&o->props, &o->nprops);
    free(o->feeds);
    o->feeds = NULL;
    o->nfeeds = 0;
}

static nw_err parse_size(const char *s, size_t *out, char *errbuf, size_t errlen)
{
    long v;
    if (!nw_parse_long(s, 1, 1L << 30, &v))
        return nw_set_error(errbuf, errlen, NW_EINVAL,
                            "--max-bytes '%s': expected a number of bytes from 1 to 1073741824", s);
    *out = (size_t)v;
    return NW_OK;
}

static const char *const stdin_path[] = {"-"};

nw_err nw_producer_opts_parse(int argc, char **argv, nw_producer_opts *o, char *errbuf,
                              size_t errlen)
{
    static const struct option longopts[] = {
        {"source", required_argument, NULL, OPT_SOURCE},
        {"max-bytes", required_argument, NULL, OPT_MAX_BYTES},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"follow", required_argument, NULL, OPT_FOLLOW},
        {"watch", required_argument, NULL, OPT_WATCH},
        {"feed", required_argument, NULL, OPT_FEED},
        {"feeds", required_argument, NULL, OPT_FEEDS},
        {"once", no_argument, NULL, OPT_ONCE},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    optind = 0; /* glibc: full re-initialisation, so tests can parse repeatedly */
    opterr = 0;
    int c;
    nw_err err = NW_OK;
    while (err == NW_OK && (c = getopt_long(argc, argv, ":b:t:X:c:qhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            o->brokers = optarg;
            break;
        case 't':
            o->topic = optarg;
            break;
        case 'c':
            o->config_file = optarg;
            break;
        case 'X':
            err = nw_kafka_props_add(&o->props, &o->nprops, optarg, errbuf, errlen);
            break;
        case OPT_SOURCE:
            o->source = optarg;
            break;
        case OPT_MAX_BYTES:
            err = parse_size(optarg, &o->max_bytes, errbuf, errlen);
            break;
        case OPT_DRY_RUN:
            o->dry_run = true;
            break;
        case OPT_FOLLOW:
            o->follow = optarg;
            break;
        case OPT_WATCH:
            o->watch = optarg;
            break;
        case OPT_FEED: {
            const char **nf = realloc(o->feeds, (o->nfeeds + 1) * sizeof(*nf));
            if (nf == NULL) {
                err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
                break;
            }
            o->feeds = nf;
            o->feeds[o->nfeeds++] = optarg;
            break;
        }
        case OPT_FEEDS:
            o->feeds_file = optarg;
            break;
        case OPT_ONCE:
            o->once = true;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'h':
            o->help = true;
            break;
        case 'V':
            o->version = true;
            break;
        case ':':
            err = nw_set_error(errbuf, errlen, NW_EINVAL, "option '%s' needs an argument",
                               argv[optind - 1]);
            break;
        default:
            err = nw_set_error(errbuf, errlen, NW_EINVAL, "unknown option '%s'", argv[optind - 1]);
            break;
        }
    }
    o->polls_feeds = o->nfeeds > 0 || o->feeds_file != NULL || o->once;
    if (err == NW_OK && o->polls_feeds && optind < argc)
        err = nw_set_error(errbuf, errlen, NW_EINVAL,
                           "--feed, --feeds and --once poll feeds: no PATH with them ('%s')",
                           argv[optind]);
    if (err == NW_OK && o->polls_feeds && (o->follow != NULL || o->watch != NULL))
        err = nw_set_error(errbuf, errlen, NW_EINVAL, "%s and the feed options exclude each other",
                           o->follow != NULL ? "--follow" : "--watch");
    if (err == NW_OK && (o->follow != NULL || o->watch != NULL) && optind < argc)
        err = nw_set_error(errbuf, errlen, NW_EINVAL, "%s: no PATH with it ('%s')",
                           o->follow != NULL ? "--follow" : "--watch", argv[optind]);
    if (err == NW_OK && o->follow != NULL && o->watch != NULL)
        err = nw_set_error(errbuf, errlen, NW_EINVAL, "--follow and --watch exclude each other");
    if (err == NW_OK && o->topic != NULL) {
        char why[300];
        if (nw_topics_check_name(o->topic, why, sizeof why) != NW_OK)
            err = nw_set_error(errbuf, errlen, NW_EINVAL, "-t: %s", why);
    }
    if (err != NW_OK) {
        nw_producer_opts_free(o);
        return err;
    }
    if (optind < argc) {
        o->paths = (const char *const *)&argv[optind];
        o->npaths = (size_t)(argc - optind);
    } else {
        o->paths = stdin_path;
        o->npaths = 1;
        o->no_path = true;
    }
    return NW_OK;
}
