/*
 * newswatch-consumer: the stream processor daemon. This release sets up the
 * topics it will use (--create-topics); the enrich and alert stages come next
 * (see README.md, "Status").
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/kvconf.h"
#include "newswatch/topics.h"
#include "newswatch/version.h"
#include "../kafka/nw_kafka.h"

#define PROGRAM         "newswatch-consumer"
#define DEFAULT_BROKERS "127.0.0.1:9092"

enum { EXIT_FAILURE_RUN = 1, EXIT_USAGE = 2, EXIT_KAFKA = 3 };

static const char usage[] =
    "Usage: newswatch-consumer [OPTIONS] --create-topics\n"
    "\n"
    "The newswatch stream processor. It reads news documents from news.raw and\n"
    "writes enriched documents, tracked-event matches and alerts (see README.md).\n"
    "\n"
    "Commands:\n"
    "      --create-topics     create the topics newswatch uses, if missing:\n"
    "                          raw, enriched, matches, alerts (--partitions each),\n"
    "                          alert-state (compacted, as many as matches), dlq (1)\n"
    "\n"
    "Options:\n"
    "  -b BROKERS              bootstrap brokers, host:port[,...] (default 127.0.0.1:9092)\n"
    "  -X KEY=VALUE            librdkafka property, repeatable; later ones win\n"
    "  -c FILE                 configuration file (see config/newswatch.conf): [kafka]\n"
    "                          properties and [topics] names\n"
    "      --partitions N      partitions for new topics (default 3)\n"
    "      --replication-factor N\n"
    "                          replication factor for new topics (default: the broker's)\n"
    "  -q, --quiet             say nothing on success\n"
    "  -h, --help              this help\n"
    "  -V, --version           print versions and exit\n"
    "\n"
    "Exit status: 0 success; 1 the command failed; 2 usage or configuration error;\n"
    "3 Kafka unreachable.\n";

enum { OPT_CREATE_TOPICS = 256, OPT_PARTITIONS, OPT_REPLICATION };

static int parse_int(const char *opt, const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, PROGRAM ": %s '%s': expected a whole number from %d to %d\n", opt, s, lo,
                hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"create-topics", no_argument, NULL, OPT_CREATE_TOPICS},
        {"partitions", required_argument, NULL, OPT_PARTITIONS},
        {"replication-factor", required_argument, NULL, OPT_REPLICATION},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *brokers = NULL, *config_file = NULL;
    nw_kafka_prop props[64];
    char *owned[128];
    size_t nprops = 0, nowned = 0;
    int create_topics = 0, partitions = 3, replication = -1, quiet = 0, c;
    int status = 0;
    char err[1024];
    nw_kvconf *conf = NULL;
    rd_kafka_t *rk = NULL;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":b:X:c:qhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            brokers = optarg;
            break;
        case 'c':
            config_file = optarg;
            break;
        case 'X': {
            char *k, *v;
            if (nprops == sizeof props / sizeof props[0]) {
                fprintf(stderr, PROGRAM ": too many -X options\n");
                status = EXIT_USAGE;
                goto done;
            }
            if (nw_kvconf_split(optarg, &k, &v, err, sizeof err) != NW_OK) {
                fprintf(stderr, PROGRAM ": -X '%s': expected KEY=VALUE\n", optarg);
                status = EXIT_USAGE;
                goto done;
            }
            owned[nowned++] = k;
            owned[nowned++] = v;
            props[nprops].key = k;
            props[nprops].value = v;
            nprops++;
            break;
        }
        case OPT_CREATE_TOPICS:
            create_topics = 1;
            break;
        case OPT_PARTITIONS:
            if (parse_int("--partitions", optarg, 1, 10000, &partitions) != 0) {
                status = EXIT_USAGE;
                goto done;
            }
            break;
        case OPT_REPLICATION:
            if (parse_int("--replication-factor", optarg, 1, 100, &replication) != 0) {
                status = EXIT_USAGE;
                goto done;
            }
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            goto done;
        case 'V':
            printf(PROGRAM " %s (librdkafka %s)\n", NW_VERSION, rd_kafka_version_str());
            goto done;
        case ':':
            fprintf(stderr, PROGRAM ": option '%s' needs an argument\nTry '" PROGRAM " --help'.\n",
                    argv[optind - 1]);
            status = EXIT_USAGE;
            goto done;
        default:
            fprintf(stderr, PROGRAM ": unknown option '%s'\nTry '" PROGRAM " --help'.\n",
                    argv[optind - 1]);
            status = EXIT_USAGE;
            goto done;
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROGRAM ": unexpected argument '%s'\nTry '" PROGRAM " --help'.\n",
                argv[optind]);
        status = EXIT_USAGE;
        goto done;
    }
    if (!create_topics) {
        fprintf(stderr, PROGRAM ": the stream-processing stages are not in this release yet; "
                                "only --create-topics is\nTry '" PROGRAM " --help'.\n");
        status = EXIT_USAGE;
        goto done;
    }

    nw_topics topics;
    nw_topics_init(&topics);
    if (config_file != NULL &&
        (nw_kvconf_new_from_file(config_file, &conf, err, sizeof err) != NW_OK ||
         nw_topics_configure(&topics, conf, err, sizeof err) != NW_OK)) {
        fprintf(stderr, PROGRAM ": %s\n", err);
        status = EXIT_USAGE;
        goto done;
    }
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    if (nw_kafka_conf_set(kc, "client.id", PROGRAM, err, sizeof err) != NW_OK ||
        nw_kafka_conf_set(kc, "bootstrap.servers", DEFAULT_BROKERS, err, sizeof err) != NW_OK ||
        nw_kafka_conf_apply(kc, conf, props, nprops, brokers, err, sizeof err) != NW_OK) {
        fprintf(stderr, PROGRAM ": %s\n", err);
        rd_kafka_conf_destroy(kc);
        status = EXIT_USAGE;
        goto done;
    }
    char servers[512];
    nw_kafka_conf_get(kc, "bootstrap.servers", servers, sizeof servers);
    nw_kafka_conf_set_logging(kc, PROGRAM);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof err);
    if (rk == NULL) {
        fprintf(stderr, PROGRAM ": %s\n", err);
        rd_kafka_conf_destroy(kc);
        status = EXIT_USAGE;
        goto done;
    }
    if (nw_kafka_check_cluster(rk, servers, NULL, NULL, 10000, err, sizeof err) != NW_OK) {
        fprintf(stderr, PROGRAM ": %s\n", err);
        status = EXIT_KAFKA;
        goto done;
    }
    nw_topic_spec specs[NW_TOPIC_ROLE_COUNT];
    nw_kafka_topic_specs(&topics, partitions, replication, specs);
    if (nw_kafka_create_topics(rk, specs, NW_TOPIC_ROLE_COUNT, 30000, quiet, err, sizeof err) !=
        NW_OK) {
        fprintf(stderr, PROGRAM ": %s\n", err);
        status = EXIT_FAILURE_RUN;
    }
done:
    if (rk != NULL)
        rd_kafka_destroy(rk);
    nw_kvconf_free(conf);
    for (size_t i = 0; i < nowned; i++)
        free(owned[i]);
    return status;
}
