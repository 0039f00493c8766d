#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

const char nw_consumer_usage[] =
    "Usage: newswatch-consumer [OPTIONS] [--stage enrich|alert|all]\n"
    "       newswatch-consumer [OPTIONS] --replay [--emit LIST] [PATH...]\n"
    "       newswatch-consumer [OPTIONS] --create-topics\n"
    "       newswatch-consumer [OPTIONS] --check-config\n"
    "       newswatch-consumer --config-reference\n"
    "\n"
    "The newswatch stream processor: it normalises Arabic and English news,\n"
    "removes page furniture, and tags people, organisations, places, dates and\n"
    "casualty figures (see README.md).\n"
    "\n"
    "With no command it runs the daemon: the enrich stage (news.raw ->\n"
    "news.enriched, news.matches) and the alert stage (news.matches ->\n"
    "news.alerts, news.alert-state, ops sinks), in Kafka transactions, until\n"
    "SIGTERM or SIGINT (a second one exits at once); SIGHUP reloads the\n"
    "gazetteer, furniture rules and tracked events. Without -c it reads\n"
    "config/newswatch.conf when that file exists.\n"
    "\n"
    "Commands:\n"
    "      --replay            run the pipeline on local files with no broker and write\n"
    "                          one JSON line per document to stdout; PATH is a text\n"
    "                          file, a directory, a .jsonl file, or - for JSON Lines on\n"
    "                          stdin (the default), as for newswatch-producer\n"
    "      --emit LIST         what --replay writes, comma-separated, in this order per\n"
    "                          document: enriched (newswatch.enriched/2), matches\n"
    "                          (newswatch.match/2), alerts (newswatch.alert/2);\n"
    "                          default enriched\n"
    "      --create-topics     create the topics newswatch uses, if missing:\n"
    "                          raw, enriched, matches, alerts (--partitions each),\n"
    "                          alert-state (compacted, as many as matches), dlq (1),\n"
    "                          feed-state (compacted, 1)\n"
    "      --check-config      load every configuration file and report problems as\n"
    "                          file:line: message\n"
    "      --config-reference  print every configuration key (section, type, default,\n"
    "                          whether SIGHUP applies it) as Markdown\n"
    "\n"
    "Options:\n"
    "  -b BROKERS              bootstrap brokers, host:port[,...] (default 127.0.0.1:9092)\n"
    "      --stage STAGE       the daemon runs enrich, alert or all (default all)\n"
    "      --instance-id ID    the daemon's stable name in its consumer groups and\n"
    "                          transactions (default: [consumer] instance.id, else\n"
    "                          the host name); two instances need two ids\n"
    "  -X KEY=VALUE            librdkafka property, repeatable; later ones win\n"
    "  -c FILE                 configuration file (see config/newswatch.conf)\n"
    "      --gazetteer FILE    entities (default: [pipeline] gazetteer, else\n"
    "                          config/gazetteer.txt)\n"
    "      --furniture FILE    page furniture rules (default: [pipeline] furniture,\n"
    "                          else config/furniture.conf)\n"
    "      --events FILE       tracked events (default: [pipeline] events, else\n"
    "                          config/events.conf)\n"
    "      --max-bytes N       largest input document for --replay (default 1000000)\n"
    "      --partitions N      partitions for new topics (default 3)\n"
    "      --replication-factor N\n"
    "                          replication factor for new topics (default: the broker's)\n"
    "  -q, --quiet             say nothing on success\n"
    "  -h, --help              this help\n"
    "  -V, --version           print versions and exit\n"
    "\n"
    "Exit status: 0 success (the daemon: stopped by a signal, work committed);\n"
    "1 some document or the command failed, or a fatal Kafka error; 2 usage or\n"
    "configuration error; 3 Kafka unreachable at start.\n";

enum {
    OPT_CREATE_TOPICS = 256,
    OPT_PARTITIONS,
    OPT_REPLICATION,
    OPT_REPLAY,
    OPT_EMIT,
    OPT_CHECK_CONFIG,
    OPT_CONFIG_REFERENCE,
    OPT_GAZETTEER,
    OPT_FURNITURE,
    OPT_MAX_BYTES,
    OPT_EVENTS,
    OPT_STAGE,
    OPT_INSTANCE_ID,
};

void nw_consumer_opts_free(nw_consumer_opts *o)
{
    nw_kafka_props_free(&o->props, &o->nprops);
}

static nw_err parse_long(const char *opt, const char *s, long lo, long hi, long *out, char *errbuf,
                         size_t errlen)
{
    if (!nw_parse_long(s, lo, hi, out))
        return nw_set_error(errbuf, errlen, NW_EINVAL,
                            "%s '%s': expected a whole number from %ld to %ld", opt, s, lo, hi);
    return NW_OK;
}

static nw_err parse_emit(const char *s, unsigned *out, char *errbuf, size_t errlen)
{
    *out = 0;
    const char *p = s;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (n == 8 && memcmp(p, "enriched", 8) == 0)
            *out |= NW_EMIT_ENRICHED;
        else if (n == 7 && memcmp(p, "matches", 7) == 0)
            *out |= NW_EMIT_MATCHES;
        else if (n == 6 && memcmp(p, "alerts", 6) == 0)
            *out |= NW_EMIT_ALERTS;
        else
            return nw_set_error(errbuf, errlen, NW_EINVAL,
                                "--emit '%.*s': expected a list of enriched, matches, alerts",
                                (int)n, p);
        p += n + (comma != NULL);
    }
    if (*out == 0)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "--emit needs at least one output");
    return NW_OK;
}

static const char *const stdin_path[] = {"-"};

nw_err nw_consumer_opts_parse(int argc, char **argv, nw_consumer_opts *o, char *errbuf,
                              size_t errlen)
{
    static const struct option longopts[] = {
        {"create-topics", no_argument, NULL, OPT_CREATE_TOPICS},
        {"partitions", required_argument, NULL, OPT_PARTITIONS},
        {"replication-factor", required_argument, NULL, OPT_REPLICATION},
        {"replay", no_argument, NULL, OPT_REPLAY},
        {"emit", required_argument, NULL, OPT_EMIT},
        {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
        {"config-reference", no_argument, NULL, OPT_CONFIG_REFERENCE},
        {"gazetteer", required_argument, NULL, OPT_GAZETTEER},
        {"furniture", required_argument, NULL, OPT_FURNITURE},
        {"max-bytes", required_argument, NULL, OPT_MAX_BYTES},
        {"events", required_argument, NULL, OPT_EVENTS},
        {"stage", required_argument, NULL, OPT_STAGE},
        {"instance-id", required_argument, NULL, OPT_INSTANCE_ID},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->partitions = 3;
    o->replication_factor = -1;
    o->emit = NW_EMIT_ENRICHED;
    optind = 0;
    opterr = 0;
    nw_err err = NW_OK;
    int c;
    long v;
    while (err == NW_OK && (c = getopt_long(argc, argv, ":b:X:c:qhV", longopts, NULL)) != -1) {
        nw_consumer_command cmd = NW_CMD_NONE;
        switch (c) {
        case 'b':
            o->brokers = optarg;
            break;
        case 'c':
            o->config_file = optarg;
            break;
        case 'X':
            err = nw_kafka_props_add(&o->props, &o->nprops, optarg, errbuf, errlen);
            break;
        case OPT_CREATE_TOPICS:
            cmd = NW_CMD_CREATE_TOPICS;
            break;
        case OPT_REPLAY:
            cmd = NW_CMD_REPLAY;
            break;
        case OPT_CHECK_CONFIG:
            cmd = NW_CMD_CHECK_CONFIG;
            break;
        case OPT_CONFIG_REFERENCE:
            cmd = NW_CMD_CONFIG_REFERENCE;
            break;
        case OPT_PARTITIONS:
            if ((err = parse_long("--partitions", optarg, 1, 10000, &v, errbuf, errlen)) == NW_OK)
                o->partitions = (int)v;
            break;
        case OPT_REPLICATION:
            if ((err = parse_long("--replication-factor", optarg, 1, 100, &v, errbuf, errlen)) ==
                NW_OK)
                o->replication_factor = (int)v;
            break;
        case OPT_EMIT:
            err = parse_emit(optarg, &o->emit, errbuf, errlen);
            break;
        case OPT_GAZETTEER:
            o->gazetteer = optarg;
            break;
        case OPT_FURNITURE:
            o->furniture = optarg;
            break;
        case OPT_EVENTS:
            o->events = optarg;
            break;
        case OPT_STAGE:
            if (strcmp(optarg, "enrich") == 0)
                o->stages = 1;
            else if (strcmp(optarg, "alert") == 0)
                o->stages = 2;
            else if (strcmp(optarg, "all") == 0)
                o->stages = 3;
            else
                err = nw_set_error(errbuf, errlen, NW_EINVAL,
                                   "--stage '%s': expected enrich, alert or all", optarg);
            break;
        case OPT_INSTANCE_ID:
            o->instance_id = optarg;
            break;
        case OPT_MAX_BYTES:
            if ((err = parse_long("--max-bytes", optarg, 1, 1L << 30, &v, errbuf, errlen)) == NW_OK)
                o->max_bytes = (size_t)v;
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
        if (cmd != NW_CMD_NONE) {
            if (o->command != NW_CMD_NONE && o->command != cmd)
                err = nw_set_error(errbuf, errlen, NW_EINVAL,
                                   "--replay, --create-topics, --check-config and "
                                   "--config-reference exclude each other");
            o->command = cmd;
        }
    }
    if (err == NW_OK && optind < argc && o->command != NW_CMD_REPLAY)
        err = nw_set_error(errbuf, errlen, NW_EINVAL,
                           "unexpected argument '%s' (paths go with "
                           "--replay)",
                           argv[optind]);
    if (err != NW_OK) {
        nw_consumer_opts_free(o);
        return err;
    }
    if (optind < argc) {
        o->paths = (const char *const *)&argv[optind];
        o->npaths = (size_t)(argc - optind);
    } else {
        o->paths = stdin_path;
        o->npaths = 1;
    }
    return NW_OK;
}
