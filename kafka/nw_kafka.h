/*
 * Kafka glue shared by newswatch-producer and newswatch-consumer: applying
 * configuration to librdkafka, logging its errors, creating topics, the
 * CloudEvents headers of a record. This is the only code besides the two
 * programs that includes rdkafka.h; lib/ has no Kafka in it.
 */
#ifndef NEWSWATCH_KAFKA_H
#define NEWSWATCH_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "newswatch/error.h"
#include "newswatch/kvconf.h"
#include "newswatch/topics.h"

/* A -X key=value given on the command line, in order. */
typedef struct nw_kafka_prop {
    const char *key;
    const char *value;
} nw_kafka_prop;

/*
 * Appends a command line's "-X key=value" to *props (*nprops entries; the
 * strings are copies the list owns). NW_EINVAL with a message when arg is not
 * key=value.
 */
nw_err nw_kafka_props_add(nw_kafka_prop **props, size_t *nprops, const char *arg, char *errbuf,
                          size_t errlen);
/* Frees the list and its strings; sets it to empty. */
void nw_kafka_props_free(nw_kafka_prop **props, size_t *nprops);

/*
 * Sets, in this order (later wins): socket.nagle.disable=true (the
 * project's default for every client), the [kafka] entries of file_conf (may be
 * NULL), the command line's -X properties, then bootstrap.servers = brokers
 * when brokers is not NULL. A property librdkafka rejects is NW_ECONFIG with
 * "file:line: ..." or "-X key=value: ...".
 */
nw_err nw_kafka_conf_apply(rd_kafka_conf_t *conf, const nw_kvconf *file_conf,
                           const nw_kafka_prop *props, size_t nprops, const char *brokers,
                           char *errbuf, size_t errlen);

/* Sets one property, failing with a message that names it. */
nw_err nw_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *errbuf,
                         size_t errlen);

/* Reads a property back from conf into buf (empty when unset). */
void nw_kafka_conf_get(const rd_kafka_conf_t *conf, const char *key, char *buf, size_t len);

/*
 * Installs log and error callbacks that write librdkafka's lines to the
 * program's log (newswatch/log.h, component "kafka", with librdkafka's
 * level), an error only when it differs from the process's last one.
 */
void nw_kafka_conf_set_logging(rd_kafka_conf_t *conf);

/*
 * The CloudEvents headers of a record (docs/schemas.md, "CloudEvents"):
 * ce_specversion 1.0, ce_id (id, idlen bytes), ce_source (source), ce_type
 * (type), ce_time (when, RFC 3339), ce_subject (subject_len bytes of subject,
 * left out when there are none) and content-type (content_type). The caller
 * owns the result (never NULL: librdkafka aborts when out of memory) and may
 * add headers to it: rd_kafka_producev takes it with RD_KAFKA_V_HEADERS when
 * the call succeeds; otherwise rd_kafka_headers_destroy frees it.
 */
rd_kafka_headers_t *nw_kafka_event_headers(const char *source, const char *id, size_t idlen,
                                           const char *type, const char *when, const char *subject,
                                           size_t subject_len, const char *content_type);

/*
 * Those of a JSON record of schema: ce_type and schema are the schema,
 * ce_dataschema urn:newswatch:schema:<schema>, content-type application/json.
 * Owned as nw_kafka_event_headers's.
 */
rd_kafka_headers_t *nw_kafka_json_headers(const char *source, const char *id, size_t idlen,
                                          const char *schema, const char *when, const char *subject,
                                          size_t subject_len);

/*
 * What the error callback nw_kafka_conf_set_logging sets does: logs a
 * librdkafka error (each distinct reason once in a row), for a program that
 * sets an error callback of its own.
 */
void nw_kafka_log_error(int err, const char *reason);

/*
 * Asks the cluster for metadata within timeout_ms. When topic is not NULL,
 * also checks that it exists and returns its partition count in *partitions.
 * Errors say what failed in words a user can act on (cannot reach the
 * brokers, the topic does not exist).
 */
nw_err nw_kafka_check_cluster(rd_kafka_t *rk, const char *brokers, const char *topic,
                              int *partitions, int timeout_ms, char *errbuf, size_t errlen);

typedef struct nw_topic_spec {
    const char *name;
    int partitions;
    int replication_factor; /* -1: the broker's default */
    int compacted;          /* cleanup.policy=compact */
    long max_message_bytes; /* max.message.bytes, 0: the broker's default */
} nw_topic_spec;

/*
 * The topics newswatch needs: raw, enriched, matches and alerts with
 * `partitions` partitions, alert-state compacted with as many as matches,
 * dlq with 1, feed-state (the producer's feed state) compacted with 1. raw and dlq take messages of
 * up to 10 MiB, so that an oversized document reaches the daemon (which sends it to the dead-letter
 * topic) instead of being refused by the broker; enriched takes 8 MiB (the
 * enriched record of a document of max.document.bytes, 1 MB by default, with
 * its annotations: docs/schemas.md). specs must hold NW_TOPIC_ROLE_COUNT
 * entries; names point into t.
 */
void nw_kafka_topic_specs(const nw_topics *t, int partitions, int replication_factor,
                          nw_topic_spec *specs);

/*
 * Creates the topics that do not exist yet; existing ones are left as they
 * are (and reported as such on stderr unless quiet). Returns once every topic
 * has a leader for each partition, so it can be used at once. NW_EIO on any
 * other failure, with the broker's reason.
 */
nw_err nw_kafka_create_topics(rd_kafka_t *rk, const nw_topic_spec *specs, size_t n, int timeout_ms,
                              int quiet, char *errbuf, size_t errlen);

/*
 * Reads each topic's max.message.bytes (the largest record batch the broker
 * accepts for it) with the admin API into limits[i] for names[i]. NW_EIO when
 * the cluster does not answer within timeout_ms or refuses (limits are then
 * left as they were, so a caller can keep the last known ones).
 */
/*
 * The client.id of each member of a consumer group, with the classic
 * ListGroups/DescribeGroups requests (rd_kafka_list_groups), not the admin
 * API's DescribeConsumerGroups: in librdkafka 2.0.2 a coordinator request of
 * the admin API aborts the process when its connection drops (upstream
 * #4605). *out is an array of *n strings the caller frees with
 * nw_kafka_strings_free. NW_EIO when the cluster does not answer within
 * timeout_ms.
 */
nw_err nw_kafka_group_clients(rd_kafka_t *rk, const char *group, int timeout_ms, char ***out,
                              size_t *n, char *errbuf, size_t errlen);
void nw_kafka_strings_free(char **strings, size_t n);

nw_err nw_kafka_topic_limits(rd_kafka_t *rk, const char *const *names, size_t n, long *limits,
                             int timeout_ms, char *errbuf, size_t errlen);
/*
 * The same in two steps, so that a program need not wait: _send asks (the
 * answer arrives on q as a DescribeConfigs result event), _read takes the
 * limits from that event.
 */
nw_err nw_kafka_topic_limits_send(rd_kafka_t *rk, const char *const *names, size_t n,
                                  rd_kafka_queue_t *q, int timeout_ms, char *errbuf, size_t errlen);
nw_err nw_kafka_topic_limits_read(rd_kafka_event_t *ev, const char *const *names, size_t n,
                                  long *limits, char *errbuf, size_t errlen);

#endif
