/*
 * newswatch-consumer's command line. nw_consumer_opts points into argv
 * (argv must outlive it) except for the -X copies, which it owns: free them
 * with nw_consumer_opts_free.
 */
#ifndef NEWSWATCH_CONSUMER_OPTIONS_H
#define NEWSWATCH_CONSUMER_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "newswatch/error.h"
#include "../kafka/nw_kafka.h"

typedef enum nw_consumer_command {
    NW_CMD_NONE,
    NW_CMD_CREATE_TOPICS,
    NW_CMD_REPLAY,
    NW_CMD_CHECK_CONFIG,
    NW_CMD_CONFIG_REFERENCE, /* the configuration table as Markdown (newswatch/conftable.h) */
} nw_consumer_command;

enum nw_emit { NW_EMIT_ENRICHED = 1, NW_EMIT_MATCHES = 2, NW_EMIT_ALERTS = 4 };

typedef struct nw_consumer_opts {
    nw_consumer_command command;
    const char *brokers, *config_file, *gazetteer, *furniture, *events;
    nw_kafka_prop *props;
    size_t nprops;
    int partitions, replication_factor; /* --create-topics; replication -1: broker default */
    unsigned emit;                      /* nw_emit bits, --replay */
    int stages;                         /* daemon: 1 enrich, 2 alert, 0 both (--stage) */
    const char *instance_id;            /* daemon: --instance-id, NULL: the configured one */
    size_t max_bytes;                   /* 0: the default */
    bool quiet, help, version;
    const char *const *paths; /* --replay inputs; "-" when none given */
    size_t npaths;
} nw_consumer_opts;

nw_err nw_consumer_opts_parse(int argc, char **argv, nw_consumer_opts *o, char *errbuf,
                              size_t errlen);
void nw_consumer_opts_free(nw_consumer_opts *o);

extern const char nw_consumer_usage[];

#endif
