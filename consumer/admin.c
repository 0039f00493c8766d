#include <stdio.h>

#include "commands.h"
#include "newswatch/topics.h"

#define DEFAULT_BROKERS "127.0.0.1:9092"

int nw_cmd_create_topics(const nw_consumer_opts *o, const nw_kvconf *conf)
{
    char err[1024];
    nw_topics topics;
    nw_topics_init(&topics);
    if (nw_topics_configure(&topics, conf, err, sizeof err) != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        return NW_EXIT_USAGE;
    }
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    if (nw_kafka_conf_set(kc, "client.id", NW_CONSUMER, err, sizeof err) != NW_OK ||
        nw_kafka_conf_set(kc, "bootstrap.servers", DEFAULT_BROKERS, err, sizeof err) != NW_OK ||
        nw_kafka_conf_apply(kc, conf, o->props, o->nprops, o->brokers, err, sizeof err) != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        rd_kafka_conf_destroy(kc);
        return NW_EXIT_USAGE;
    }
    char servers[512];
    nw_kafka_conf_get(kc, "bootstrap.servers", servers, sizeof servers);
    nw_kafka_conf_set_logging(kc);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof err);
    if (rk == NULL) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        rd_kafka_conf_destroy(kc);
        return NW_EXIT_USAGE;
    }
    int status = 0;
    nw_topic_spec specs[NW_TOPIC_ROLE_COUNT];
    if (nw_kafka_check_cluster(rk, servers, NULL, NULL, 10000, err, sizeof err) != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        status = NW_EXIT_KAFKA;
    } else {
        nw_kafka_topic_specs(&topics, o->partitions, o->replication_factor, specs);
        if (nw_kafka_create_topics(rk, specs, NW_TOPIC_ROLE_COUNT, 30000, o->quiet, err,
                                   sizeof err) != NW_OK) {
            fprintf(stderr, NW_CONSUMER ": %s\n", err);
            status = NW_EXIT_FAILED;
        }
    }
    rd_kafka_destroy(rk);
    return status;
}
