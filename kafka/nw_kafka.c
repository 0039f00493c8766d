#include "nw_kafka.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/log.h"

nw_err nw_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *errbuf,
                         size_t errlen)
{
    char why[512];
    if (rd_kafka_conf_set(conf, key, value, why, sizeof why) != RD_KAFKA_CONF_OK)
        return nw_set_error(errbuf, errlen, NW_ECONFIG, "%s", why);
    return NW_OK;
}

void nw_kafka_conf_get(const rd_kafka_conf_t *conf, const char *key, char *buf, size_t len)
{
    size_t n = len;
    if (rd_kafka_conf_get(conf, key, buf, &n) != RD_KAFKA_CONF_OK && len > 0)
        buf[0] = '\0';
}

rd_kafka_headers_t *nw_kafka_event_headers(const char *source, const char *id, size_t idlen,
                                           const char *type, const char *when, const char *subject,
                                           size_t subject_len, const char *content_type)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(9);
    rd_kafka_header_add(h, "ce_specversion", -1, "1.0", -1);
    rd_kafka_header_add(h, "ce_id", -1, id, (ssize_t)idlen);
    rd_kafka_header_add(h, "ce_source", -1, source, -1);
    rd_kafka_header_add(h, "ce_type", -1, type, -1);
    rd_kafka_header_add(h, "ce_time", -1, when, -1);
    if (subject != NULL && subject_len > 0)
        rd_kafka_header_add(h, "ce_subject", -1, subject, (ssize_t)subject_len);
    rd_kafka_header_add(h, "content-type", -1, content_type, -1);
    return h;
}

rd_kafka_headers_t *nw_kafka_json_headers(const char *source, const char *id, size_t idlen,
                                          const char *schema, const char *when, const char *subject,
                                          size_t subject_len)
{
    char dataschema[160];
    snprintf(dataschema, sizeof dataschema, "urn:newswatch:schema:%s", schema);
    rd_kafka_headers_t *h = nw_kafka_event_headers(source, id, idlen, schema, when, subject,
                                                   subject_len, "application/json");
    rd_kafka_header_add(h, "ce_dataschema", -1, dataschema, -1);
    rd_kafka_header_add(h, "schema", -1, schema, -1);
    return h;
}

nw_err nw_kafka_props_add(nw_kafka_prop **props, size_t *nprops, const char *arg, char *errbuf,
                          size_t errlen)
{
    char *k, *v;
    nw_err err = nw_kvconf_split(arg, &k, &v, errbuf, errlen);
    if (err != NW_OK)
        return err == NW_EINVAL
                   ? nw_set_error(errbuf, errlen, NW_EINVAL, "-X '%s': expected KEY=VALUE", arg)
                   : err;
    nw_kafka_prop *np = realloc(*props, (*nprops + 1) * sizeof(*np));
    if (np == NULL) {
        free(k);
        free(v);
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    }
    *props = np;
    np[*nprops].key = k;
    np[*nprops].value = v;
    (*nprops)++;
    return NW_OK;
}

void nw_kafka_props_free(nw_kafka_prop **props, size_t *nprops)
{
    for (size_t i = 0; i < *nprops; i++) {
        free((char *)(*props)[i].key);
        free((char *)(*props)[i].value);
    }
    free(*props);
    *props = NULL;
    *nprops = 0;
}

nw_err nw_kafka_conf_apply(rd_kafka_conf_t *conf, const nw_kvconf *file_conf,
                           const nw_kafka_prop *props, size_t nprops, const char *brokers,
                           char *errbuf, size_t errlen)
{
    char why[512];
    /*
     * Nagle's algorithm off, as the Java clients and the broker have it
     * (librdkafka leaves it on). One connection carries a transactional
     * producer's Produce, AddOffsetsToTxn, TxnOffsetCommit and EndTxn; with
     * Nagle on, a small request written behind one not yet acknowledged waits
     * for the broker's delayed ACK (40 ms and more on Linux): commits that
     * took 40 ms and more now and then, a large part of the daemon's p99
     * latency (docs/PERFORMANCE.md). [kafka] or -X may turn it back on.
     */
    if (nw_kafka_conf_set(conf, "socket.nagle.disable", "true", errbuf, errlen) != NW_OK)
        return NW_ECONFIG;
    size_t n = file_conf != NULL ? nw_kvconf_count(file_conf) : 0;
    for (size_t i = 0; i < n; i++) {
        const nw_kvconf_entry *e = nw_kvconf_at(file_conf, i);
        if (strcmp(e->section, "kafka") != 0)
            continue;
        if (nw_kafka_conf_set(conf, e->key, e->value, why, sizeof why) != NW_OK)
            return nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: %s", e->file, e->line, why);
    }
    for (size_t i = 0; i < nprops; i++) {
        if (nw_kafka_conf_set(conf, props[i].key, props[i].value, why, sizeof why) != NW_OK)
            return nw_set_error(errbuf, errlen, NW_ECONFIG, "-X %s=%s: %s", props[i].key,
                                props[i].value, why);
    }
    if (brokers != NULL &&
        nw_kafka_conf_set(conf, "bootstrap.servers", brokers, why, sizeof why) != NW_OK)
        return nw_set_error(errbuf, errlen, NW_ECONFIG, "-b %s: %s", brokers, why);
    return NW_OK;
}

/* The last error error_cb wrote, for all the process's clients: each problem is said once. */
static pthread_mutex_t last_error_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_error[512];

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    /* syslog levels: 0..3 errors, 4 warnings, 5 and 6 notices (debug here); 7 debug= output. */
    nw_log(level <= 3   ? NW_LOG_ERROR
           : level == 4 ? NW_LOG_WARN
                        : NW_LOG_DEBUG,
           "kafka", "%s: %s", fac, buf);
}

void nw_kafka_log_error(int err, const char *reason)
{
    /* librdkafka retries by itself; say each distinct problem once. */
    pthread_mutex_lock(&last_error_lock);
    bool again = strcmp(last_error, reason) == 0;
    snprintf(last_error, sizeof last_error, "%s", reason);
    pthread_mutex_unlock(&last_error_lock);
    if (again)
        return;
    nw_log(err == RD_KAFKA_RESP_ERR__FATAL ? NW_LOG_ERROR : NW_LOG_WARN, "kafka", "%s%s", reason,
           err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ? " (retrying)" : "");
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    nw_kafka_log_error(err, reason);
}

void nw_kafka_conf_set_logging(rd_kafka_conf_t *conf)
{
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
}

nw_err nw_kafka_check_cluster(rd_kafka_t *rk, const char *brokers, const char *topic,
                              int *partitions, int timeout_ms, char *errbuf, size_t errlen)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = NULL;
    if (topic != NULL && (rkt = rd_kafka_topic_new(rk, topic, NULL)) == NULL)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "cannot use topic '%s': %s", topic,
                            rd_kafka_err2str(rd_kafka_last_error()));
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, rkt == NULL, rkt, &md, timeout_ms);
    if (rkt != NULL)
        rd_kafka_topic_destroy(rkt);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        return nw_set_error(errbuf, errlen, NW_EIO,
                            "cannot reach Kafka at %s within %d ms: %s (is the broker running? "
                            "`make kafka-up` starts a local one)",
                            brokers, timeout_ms, rd_kafka_err2str(err));
    nw_err result = NW_OK;
    if (topic != NULL) {
        if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_resp_err_t terr =
                md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
            result = nw_set_error(errbuf, errlen, NW_EIO,
                                  "topic '%s' is not available on %s: %s (create it with "
                                  "`newswatch-consumer --create-topics`)",
                                  topic, brokers, rd_kafka_err2str(terr));
        } else if (partitions != NULL) {
            *partitions = md->topics[0].partition_cnt;
        }
    }
    rd_kafka_metadata_destroy(md);
    return result;
}

void nw_kafka_topic_specs(const nw_topics *t, int partitions, int replication_factor,
                          nw_topic_spec *specs)
{
    for (int r = 0; r < NW_TOPIC_ROLE_COUNT; r++) {
        specs[r].name = t->name[r];
        specs[r].partitions = r == NW_TOPIC_DLQ || r == NW_TOPIC_FEED_STATE ? 1 : partitions;
        specs[r].replication_factor = replication_factor;
        specs[r].compacted = r == NW_TOPIC_ALERT_STATE || r == NW_TOPIC_FEED_STATE;
        specs[r].max_message_bytes = (r == NW_TOPIC_RAW || r == NW_TOPIC_DLQ) ? 10485760
                                     : r == NW_TOPIC_ENRICHED                 ? 8388608
                                                                              : 0;
    }
}

/* True when every topic in specs has metadata with a leader for each partition. */
static int topics_ready(rd_kafka_t *rk, const nw_topic_spec *specs, size_t n)
{
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 1, NULL, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    size_t ready = 0;
    for (size_t i = 0; i < n; i++) {
        for (int t = 0; t < md->topic_cnt; t++) {
            const struct rd_kafka_metadata_topic *mt = &md->topics[t];
            if (strcmp(mt->topic, specs[i].name) != 0 || mt->err != RD_KAFKA_RESP_ERR_NO_ERROR ||
                mt->partition_cnt == 0)
                continue;
            int leaders = 1;
            for (int p = 0; p < mt->partition_cnt; p++)
                if (mt->partitions[p].leader < 0 || mt->partitions[p].err)
                    leaders = 0;
            ready += leaders;
        }
    }
    rd_kafka_metadata_destroy(md);
    return ready == n;
}

nw_err nw_kafka_create_topics(rd_kafka_t *rk, const nw_topic_spec *specs, size_t n, int timeout_ms,
                              int quiet, char *errbuf, size_t errlen)
{
    nw_err result = NW_OK;
    char why[512];
    rd_kafka_NewTopic_t **nts = calloc(n, sizeof(*nts));
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    if (nts == NULL || q == NULL || opts == NULL) {
        result = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        goto done;
    }
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, why, sizeof why);
    rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, why, sizeof why);
    for (size_t i = 0; i < n; i++) {
        nts[i] = rd_kafka_NewTopic_new(specs[i].name, specs[i].partitions,
                                       specs[i].replication_factor, why, sizeof why);
        if (nts[i] == NULL) {
            result = nw_set_error(errbuf, errlen, NW_EINVAL, "topic '%s': %s", specs[i].name, why);
            goto done;
        }
        char mmb[32];
        snprintf(mmb, sizeof mmb, "%ld", specs[i].max_message_bytes);
        if ((specs[i].compacted &&
             rd_kafka_NewTopic_set_config(nts[i], "cleanup.policy", "compact") !=
                 RD_KAFKA_RESP_ERR_NO_ERROR) ||
            (specs[i].max_message_bytes > 0 &&
             rd_kafka_NewTopic_set_config(nts[i], "max.message.bytes", mmb) !=
                 RD_KAFKA_RESP_ERR_NO_ERROR)) {
            result = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
            goto done;
        }
    }
    rd_kafka_CreateTopics(rk, nts, n, opts, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 5000);
    if (ev == NULL) {
        result = nw_set_error(errbuf, errlen, NW_EIO, "no answer to CreateTopics within %d ms",
                              timeout_ms + 5000);
        goto done;
    }
    if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        result = nw_set_error(errbuf, errlen, NW_EIO, "cannot create topics: %s",
                              rd_kafka_event_error_string(ev));
    } else {
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        size_t cnt = 0;
        const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &cnt);
        for (size_t i = 0; i < cnt; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
            const char *name = rd_kafka_topic_result_name(tr[i]);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (!quiet)
                    fprintf(stderr, "created topic %s\n", name);
            } else if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                if (!quiet)
                    fprintf(stderr, "topic %s exists already\n", name);
            } else if (result == NW_OK) {
                const char *msg = rd_kafka_topic_result_error_string(tr[i]);
                result = nw_set_error(errbuf, errlen, NW_EIO, "cannot create topic '%s': %s", name,
                                      msg != NULL ? msg : rd_kafka_err2str(e));
            }
        }
    }
    rd_kafka_event_destroy(ev);
    /*
     * CreateTopics answers before every broker's metadata cache knows the new
     * topics: wait until they have leaders, so that they can be used at once.
     */
    for (int waited = 0; result == NW_OK && !topics_ready(rk, specs, n); waited += 100) {
        if (waited >= timeout_ms) {
            result =
                nw_set_error(errbuf, errlen, NW_EIO,
                             "the topics were created but have no leader after %d ms", timeout_ms);
            break;
        }
        rd_kafka_poll(rk, 100);
    }
done:
    if (nts != NULL) {
        for (size_t i = 0; i < n; i++)
            if (nts[i] != NULL)
                rd_kafka_NewTopic_destroy(nts[i]);
        free(nts);
    }
    if (opts != NULL)
        rd_kafka_AdminOptions_destroy(opts);
    if (q != NULL)
        rd_kafka_queue_destroy(q);
    return result;
}

nw_err nw_kafka_topic_limits_send(rd_kafka_t *rk, const char *const *names, size_t n,
                                  rd_kafka_queue_t *q, int timeout_ms, char *errbuf, size_t errlen)
{
    char why[512];
    nw_err result = NW_OK;
    rd_kafka_ConfigResource_t **res = calloc(n, sizeof(*res));
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    if (res == NULL || opts == NULL) {
        result = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        goto done;
    }
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, why, sizeof why);
    for (size_t i = 0; i < n; i++)
        if ((res[i] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, names[i])) == NULL) {
            result = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
            goto done;
        }
    rd_kafka_DescribeConfigs(rk, res, n, opts, q);
done:
    if (res != NULL) {
        for (size_t i = 0; i < n; i++)
            if (res[i] != NULL)
                rd_kafka_ConfigResource_destroy(res[i]);
        free(res);
    }
    if (opts != NULL)
        rd_kafka_AdminOptions_destroy(opts);
    return result;
}

nw_err nw_kafka_topic_limits_read(rd_kafka_event_t *ev, const char *const *names, size_t n,
                                  long *limits, char *errbuf, size_t errlen)
{
    if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return nw_set_error(errbuf, errlen, NW_EIO, "cannot read the topics' configuration: %s",
                            rd_kafka_event_error_string(ev));
    const rd_kafka_DescribeConfigs_result_t *r = rd_kafka_event_DescribeConfigs_result(ev);
    if (r == NULL)
        return nw_set_error(errbuf, errlen, NW_EIO, "not a DescribeConfigs result");
    size_t cnt = 0;
    const rd_kafka_ConfigResource_t **got = rd_kafka_DescribeConfigs_result_resources(r, &cnt);
    for (size_t k = 0; k < cnt; k++) {
        const char *name = rd_kafka_ConfigResource_name(got[k]);
        rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(got[k]);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            const char *msg = rd_kafka_ConfigResource_error_string(got[k]);
            return nw_set_error(errbuf, errlen, NW_EIO,
                                "cannot read the configuration of topic '%s': %s", name,
                                msg != NULL ? msg : rd_kafka_err2str(err));
        }
        size_t ncfg = 0;
        const rd_kafka_ConfigEntry_t **cfg = rd_kafka_ConfigResource_configs(got[k], &ncfg);
        for (size_t c = 0; c < ncfg; c++) {
            const char *v = rd_kafka_ConfigEntry_value(cfg[c]);
            if (strcmp(rd_kafka_ConfigEntry_name(cfg[c]), "max.message.bytes") != 0 || v == NULL)
                continue;
            for (size_t i = 0; i < n; i++)
                if (strcmp(names[i], name) == 0)
                    limits[i] = strtol(v, NULL, 10);
        }
    }
    return NW_OK;
}

nw_err nw_kafka_topic_limits(rd_kafka_t *rk, const char *const *names, size_t n, long *limits,
                             int timeout_ms, char *errbuf, size_t errlen)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    if (q == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    nw_err result = nw_kafka_topic_limits_send(rk, names, n, q, timeout_ms, errbuf, errlen);
    if (result == NW_OK) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
        if (ev == NULL) {
            result = nw_set_error(errbuf, errlen, NW_EIO,
                                  "no answer to DescribeConfigs within %d ms", timeout_ms + 1000);
        } else {
            result = nw_kafka_topic_limits_read(ev, names, n, limits, errbuf, errlen);
            rd_kafka_event_destroy(ev);
        }
    }
    rd_kafka_queue_destroy(q);
    return result;
}

void nw_kafka_strings_free(char **strings, size_t n)
{
    for (size_t i = 0; strings != NULL && i < n; i++)
        free(strings[i]);
    free(strings);
}

nw_err nw_kafka_group_clients(rd_kafka_t *rk, const char *group, int timeout_ms, char ***out,
                              size_t *n, char *errbuf, size_t errlen)
{
    *out = NULL;
    *n = 0;
    const struct rd_kafka_group_list *list = NULL;
    rd_kafka_resp_err_t err = rd_kafka_list_groups(rk, group, &list, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        return nw_set_error(errbuf, errlen, NW_EIO, "cannot list the members of group '%s': %s",
                            group, rd_kafka_err2str(err));
    nw_err result = NW_OK;
    for (int g = 0; g < list->group_cnt && result == NW_OK; g++) {
        const struct rd_kafka_group_info *gi = &list->groups[g];
        if (strcmp(gi->group, group) != 0)
            continue;
        if (gi->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            result =
                nw_set_error(errbuf, errlen, NW_EIO, "cannot list the members of group '%s': %s",
                             group, rd_kafka_err2str(gi->err));
            break;
        }
        char **more = realloc(*out, (*n + (size_t)gi->member_cnt + 1) * sizeof(char *));
        if (more == NULL) {
            result = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
            break;
        }
        *out = more;
        for (int m = 0; m < gi->member_cnt; m++)
            if (gi->members[m].client_id != NULL &&
                ((*out)[*n] = strdup(gi->members[m].client_id)) != NULL)
                (*n)++;
    }
    rd_kafka_group_list_destroy(list);
    if (result != NW_OK) {
        nw_kafka_strings_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return result;
}
