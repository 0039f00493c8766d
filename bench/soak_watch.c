/*
 * nw-bench-soak: follows a running daemon through a soak run (bench/soak.sh,
 * `make bench-soak`). Every INTERVAL_MS it asks for GROUP's committed offsets
 * on TOPIC (the enrich stage commits its raw offsets in the same transaction
 * as the enriched records, so their sum is the number of documents done; the
 * raw topic is written by a plain idempotent producer, so it holds no
 * transaction markers and offsets count documents) and reads the daemon's
 * VmRSS, RssAnon and VmHWM from /proc/PID/status. It prints one line per
 * sample:
 *
 *   sample SECONDS DOCS RSS_MB ANON_MB HWM_MB
 *
 * then, when DOCS reaches TOTAL, one line per mark (10 %, 20 %, ... 100 %:
 * the first sample at or past it):
 *
 *   mark PERCENT SECONDS DOCS RSS_MB ANON_MB
 *
 * and a last line:
 *
 *   done SECONDS DOCS DOCS_PER_S HWM_MB
 *
 * SECONDS count from the program's start; DOCS_PER_S is TOTAL over the time
 * until the first sample at or past it.
 *
 * With GROUP2 and TOPIC2 (the alert stage's group and news.matches), it then
 * waits until GROUP2 has committed every record of TOPIC2 and prints
 *
 *   second SECONDS
 *
 * TOPIC2 is written in transactions, so its end offset is one past the last
 * commit marker: a partition is done when the committed offset reaches the end
 * offset less one (or the end offset).
 *
 * Usage: nw-bench-soak BROKERS GROUP TOPIC TOTAL PID INTERVAL_MS TIMEOUT_S [GROUP2 TOPIC2]
 * Exit status: 0 when done, 1 on timeout or when PID exits first, 2 on a
 * usage or Kafka error.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NMARKS 10

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* VmRSS, RssAnon and VmHWM of pid in MB (2^20 B); 0 when pid is gone. */
static int read_rss(long pid, double *rss, double *anon, double *hwm)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    *rss = *anon = *hwm = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        long kb;
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            *rss = kb / 1024.0;
        else if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
            *anon = kb / 1024.0;
        else if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            *hwm = kb / 1024.0;
    }
    fclose(f);
    return *rss > 0;
}

/* A consumer (never subscribed) that reads group's committed offsets; NULL on error. */
static rd_kafka_t *group_client(const char *brokers, const char *group)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof errstr)) {
        fprintf(stderr, "nw-bench-soak: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (rk == NULL)
        fprintf(stderr, "nw-bench-soak: %s\n", errstr);
    return rk;
}

/* The topic's partitions, in a list for rd_kafka_committed; -1 on error. */
static int topic_parts(rd_kafka_t *rk, const char *topic, rd_kafka_topic_partition_list_t **parts)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "nw-bench-soak: no metadata for %s: %s\n", topic,
                rd_kafka_err2str(err ? err : md->topics[0].err));
        if (md != NULL)
            rd_kafka_metadata_destroy(md);
        return -1;
    }
    int n = md->topics[0].partition_cnt;
    *parts = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(*parts, topic, md->topics[0].partitions[i].id);
    rd_kafka_metadata_destroy(md);
    return n;
}

/*
 * Waits until group has committed every record of topic (transactional: the
 * end offset less its last commit marker), then prints "second SECONDS".
 */
static int wait_second(const char *brokers, const char *group, const char *topic, double t0,
                       double timeout)
{
    rd_kafka_t *rk = group_client(brokers, group);
    if (rk == NULL)
        return 2;
    rd_kafka_topic_partition_list_t *parts = NULL;
    int n = topic_parts(rk, topic, &parts), status = 2;
    while (n >= 0) {
        rd_kafka_resp_err_t err = rd_kafka_committed(rk, parts, 10000);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "nw-bench-soak: committed offsets: %s\n", rd_kafka_err2str(err));
            break;
        }
        int done = 1;
        for (int i = 0; i < n && done; i++) {
            int64_t lo = 0, hi = 0;
            if (rd_kafka_query_watermark_offsets(rk, topic, parts->elems[i].partition, &lo, &hi,
                                                 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                done = 0;
                break;
            }
            if (hi > lo && parts->elems[i].offset < hi - 1)
                done = 0;
        }
        double t = now_s() - t0;
        if (done) {
            printf("second %.1f\n", t);
            status = 0;
            break;
        }
        if (t > timeout) {
            fprintf(stderr, "nw-bench-soak: %s has not committed all of %s after %.0f s\n", group,
                    topic, t);
            status = 1;
            break;
        }
        pause_ms(200);
    }
    if (parts != NULL)
        rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_destroy(rk);
    return status;
}

int main(int argc, char **argv)
{
    if (argc != 8 && argc != 10) {
        fprintf(stderr, "usage: nw-bench-soak BROKERS GROUP TOPIC TOTAL PID INTERVAL_MS "
                        "TIMEOUT_S [GROUP2 TOPIC2]\n");
        return 2;
    }
    const char *topic = argv[3];
    long long total = atoll(argv[4]);
    long pid = atol(argv[5]), interval = atol(argv[6]);
    double timeout = atof(argv[7]);
    if (total <= 0 || pid <= 0 || interval <= 0) {
        fprintf(stderr, "nw-bench-soak: TOTAL, PID and INTERVAL_MS must be positive\n");
        return 2;
    }
    rd_kafka_t *rk = group_client(argv[1], argv[2]);
    if (rk == NULL)
        return 2;
    double t0 = now_s();
    rd_kafka_topic_partition_list_t *parts = NULL;
    int n = topic_parts(rk, topic, &parts), status = 2;
    struct {
        double t, rss, anon;
        long long docs;
        int seen;
    } marks[NMARKS];
    memset(marks, 0, sizeof marks);
    double hwm = 0;
    while (n >= 0) {
        rd_kafka_resp_err_t err = rd_kafka_committed(rk, parts, 10000);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "nw-bench-soak: committed offsets: %s\n", rd_kafka_err2str(err));
            break;
        }
        long long done = 0;
        for (int i = 0; i < n; i++)
            done += parts->elems[i].offset < 0 ? 0 : parts->elems[i].offset;
        double t = now_s() - t0, rss, anon;
        if (!read_rss(pid, &rss, &anon, &hwm)) {
            fprintf(stderr, "nw-bench-soak: process %ld is gone after %lld documents\n", pid, done);
            status = 1;
            break;
        }
        printf("sample %.1f %lld %.1f %.1f %.1f\n", t, done, rss, anon, hwm);
        fflush(stdout);
        for (int k = 0; k < NMARKS; k++) {
            if (!marks[k].seen && done * NMARKS >= total * (k + 1)) {
                marks[k].seen = 1;
                marks[k].t = t;
                marks[k].docs = done;
                marks[k].rss = rss;
                marks[k].anon = anon;
            }
        }
        if (done >= total) {
            for (int k = 0; k < NMARKS; k++)
                printf("mark %d %.1f %lld %.1f %.1f\n", (k + 1) * 100 / NMARKS, marks[k].t,
                       marks[k].docs, marks[k].rss, marks[k].anon);
            printf("done %.1f %lld %.0f %.1f\n", t, done, (double)total / (t > 0 ? t : 1), hwm);
            status = 0;
            break;
        }
        if (t > timeout) {
            fprintf(stderr, "nw-bench-soak: %lld of %lld documents after %.0f s\n", done, total, t);
            status = 1;
            break;
        }
        pause_ms(interval);
    }
    if (parts != NULL)
        rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_destroy(rk);
    if (status == 0 && argc == 10)
        status = wait_second(argv[1], argv[8], argv[9], t0, timeout);
    return status;
}
