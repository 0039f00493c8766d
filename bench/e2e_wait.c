/*
 * nw-bench-wait: waits until a consumer group has committed, on every
 * partition of a topic, the topic's end offset, and prints the wall time
 * that took in milliseconds. bench/bench.sh uses it to time the daemon:
 * the enrich stage commits its raw offsets in the same transaction as the
 * enriched records, so "committed == end of news.raw" means every document
 * is enriched and visible to read_committed readers. Unlike reading the
 * enriched topic over and over, it costs the broker and the two cores the
 * daemon shares almost nothing.
 *
 * With a fifth argument, txn, TOPIC is one written in transactions (the
 * daemon's news.matches): its end offset is then one past the last commit
 * marker, which no consumer commits, so a partition is done when the committed
 * offset reaches the end offset less one; the end offsets are read again at
 * every poll (a marker can follow its records by a few milliseconds).
 * bench.sh uses it to wait for the alert stage.
 *
 * Usage: nw-bench-wait BROKERS GROUP TOPIC TIMEOUT_S [txn]
 * Exit status: 0 when done (prints milliseconds), 1 on timeout (prints how
 * many of the topic's messages are committed), 2 on a usage or Kafka error.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The partitions of topic, with their end offsets in ends[]; -1 on error. */
static int topic_ends(rd_kafka_t *rk, const char *topic, rd_kafka_topic_partition_list_t **parts,
                      int64_t **ends)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "nw-bench-wait: no metadata for %s: %s\n", topic,
                rd_kafka_err2str(err ? err : md->topics[0].err));
        if (md != NULL)
            rd_kafka_metadata_destroy(md);
        return -1;
    }
    int n = md->topics[0].partition_cnt;
    *parts = rd_kafka_topic_partition_list_new(n);
    *ends = calloc((size_t)n, sizeof **ends);
    for (int i = 0; i < n; i++) {
        int32_t p = md->topics[0].partitions[i].id;
        int64_t lo, hi;
        err = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "nw-bench-wait: %s [%d]: %s\n", topic, (int)p, rd_kafka_err2str(err));
            rd_kafka_metadata_destroy(md);
            return -1;
        }
        rd_kafka_topic_partition_list_add(*parts, topic, p);
        (*ends)[i] = hi;
    }
    rd_kafka_metadata_destroy(md);
    return n;
}

int main(int argc, char **argv)
{
    int txn = argc == 6 && strcmp(argv[5], "txn") == 0;
    if (argc != 5 && !txn) {
        fprintf(stderr, "usage: nw-bench-wait BROKERS GROUP TOPIC TIMEOUT_S [txn]\n");
        return 2;
    }
    const char *topic = argv[3];
    double timeout_ms = atof(argv[4]) * 1e3;
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "group.id", argv[2], errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof errstr)) {
        fprintf(stderr, "nw-bench-wait: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 2;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        fprintf(stderr, "nw-bench-wait: %s\n", errstr);
        return 2;
    }
    double t0 = now_ms();
    rd_kafka_topic_partition_list_t *parts = NULL;
    int64_t *ends = NULL;
    int n = topic_ends(rk, topic, &parts, &ends), status = 2;
    int64_t total = 0, done = 0;
    for (int i = 0; i < n; i++)
        total += ends[i];
    while (n >= 0) {
        rd_kafka_resp_err_t err = rd_kafka_committed(rk, parts, 10000);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "nw-bench-wait: committed offsets: %s\n", rd_kafka_err2str(err));
            break;
        }
        done = 0;
        int behind = 0; /* txn: partitions not yet committed to their end */
        for (int i = 0; i < n; i++) {
            int64_t off = parts->elems[i].offset, lo = 0, hi = ends[i];
            if (txn && rd_kafka_query_watermark_offsets(rk, topic, parts->elems[i].partition, &lo,
                                                        &hi, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR)
                ends[i] = hi;
            if (txn && hi > lo && off < hi - 1)
                behind++;
            done += off < 0 ? 0 : (off < ends[i] ? off : ends[i]);
        }
        if (txn ? behind == 0 : done >= total) {
            printf("%.0f\n", now_ms() - t0);
            status = 0;
            break;
        }
        if (now_ms() - t0 > timeout_ms) {
            printf("%lld\n", (long long)done);
            status = 1;
            break;
        }
        pause_ms(50);
    }
    if (parts != NULL)
        rd_kafka_topic_partition_list_destroy(parts);
    free(ends);
    rd_kafka_destroy(rk);
    return status;
}
