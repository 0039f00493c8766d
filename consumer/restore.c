/*
 * The alert stage's state (docs/daemon.md, "State"): restored from the
 * changelog (news.alert-state) for each partition it is assigned, all or
 * nothing. A partition whose state cannot be read is held (paused) and
 * tried again, never processed with an empty state. Also which events'
 * states belong to which partition.
 */

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "newswatch/input.h"
#include "newswatch/log.h"
#include "newswatch/pipeline.h"
#include "newswatch/stages.h"
#include "newswatch/topics.h"
#include "../kafka/nw_kafka.h"
#include "../sinks/nw_sinks.h"
#include "http.h"
#include "metrics.h"
#include "notify.h"
#include "stage.h"

void restore_owners_set(stage *st, const char *event, int32_t partition)
{
    for (size_t i = 0; i < st->nowners; i++) {
        if (strcmp(st->owners[i].event, event) == 0) {
            st->owners[i].partition = partition;
            return;
        }
    }
    if (st->nowners == st->capowners) {
        size_t n = st->capowners ? st->capowners * 2 : 16;
        owner *no = realloc(st->owners, n * sizeof(owner));
        if (no == NULL)
            return;
        st->owners = no;
        st->capowners = n;
    }
    char *e = strdup(event);
    if (e != NULL)
        st->owners[st->nowners++] = (owner){e, partition};
}

/* Forgets the states of the events whose partition is p (-1: every partition). */
void restore_forget_partition(stage *st, int32_t p)
{
    for (size_t i = 0; i < st->nowners;) {
        if (p < 0 || st->owners[i].partition == p) {
            nw_alerter_forget(st->alerter, st->owners[i].event);
            free(st->owners[i].event);
            st->owners[i] = st->owners[--st->nowners];
        } else {
            i++;
        }
    }
}

static void forget_owner(stage *st, const char *event)
{
    for (size_t i = 0; i < st->nowners; i++) {
        if (strcmp(st->owners[i].event, event) == 0) {
            free(st->owners[i].event);
            st->owners[i] = st->owners[--st->nowners];
            return;
        }
    }
}

/* A state record of an older schema: superseded, not broken (its alert ids cannot collide). */
static bool older_state_schema(const void *payload, size_t len)
{
    json_error_t jerr;
    json_t *o = json_loadb(payload, len, 0, &jerr);
    const char *schema = json_string_value(json_object_get(o, "schema"));
    bool older = schema != NULL && strcmp(schema, "newswatch.alert-state/1") == 0;
    json_decref(o);
    return older;
}

/* The events whose last state record could not be read (a later record of the event clears it). */
typedef struct bad_record {
    char event[256];
    long long offset;
    char why[512];
} bad_record;

static void bad_records_clear(bad_record *bad, size_t *nbad, const char *event)
{
    for (size_t i = 0; i < *nbad; i++)
        if (strcmp(bad[i].event, event) == 0) {
            bad[i] = bad[--*nbad];
            return;
        }
}

/*
 * Reads partition p of the state changelog to its end and restores every
 * event in it: all or nothing. The last record of an event decides (a
 * tombstone forgets it; a record of the older newswatch.alert-state/1 schema
 * is superseded: it is skipped). When a record cannot be read and no later
 * record of its event replaces it, or the partition cannot be read to its
 * end, the partition's state is forgotten again and -1 returned: the caller
 * keeps the partition out of processing.
 */
int restore_partition(stage *st, int32_t p)
{
    const char *topic = st->d->topics.name[NW_TOPIC_ALERT_STATE];
    restore_forget_partition(st, p);
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(st->restorer, topic, p, &lo, &hi, 10000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        daemon_log(NW_LOG_WARN, "alert: cannot read the watermarks of %s [%d]: %s", topic, (int)p,
                   rd_kafka_err2str(err));
        return -1;
    }
    if (hi <= lo)
        return 0;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(st->restorer, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    unsigned long restored = 0, superseded = 0;
    bad_record *bad = NULL;
    size_t nbad = 0, capbad = 0;
    int rc = 0;
    double t0 = daemon_now_ms();
    for (;;) {
        nw_notify_watchdog(NULL, 0);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(st->restorer, 200);
        if (m == NULL) {
            if (daemon_now_ms() - t0 > 60000) {
                daemon_log(NW_LOG_ERROR, "alert: restoring %s [%d] takes over 60 s; giving up",
                           topic, (int)p);
                rc = -1;
                break;
            }
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            break;
        }
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_message_destroy(m);
            continue; /* transient (the deadline bounds it) */
        }
        char event[256];
        snprintf(event, sizeof event, "%.*s", (int)(m->key_len < 255 ? m->key_len : 255),
                 m->key != NULL ? (const char *)m->key : "");
        char why[512];
        if (m->payload == NULL) { /* a tombstone: the event has no state */
            nw_alerter_forget(st->alerter, event);
            forget_owner(st, event);
            bad_records_clear(bad, &nbad, event);
        } else if (nw_alerter_restore(st->alerter, m->payload, m->len, why, sizeof why) == NW_OK) {
            restore_owners_set(st, event, p);
            bad_records_clear(bad, &nbad, event);
            restored++;
        } else if (older_state_schema(m->payload, m->len)) {
            nw_alerter_forget(st->alerter, event);
            forget_owner(st, event);
            bad_records_clear(bad, &nbad, event);
            superseded++;
        } else {
            bad_records_clear(bad, &nbad, event);
            if (nbad == capbad) {
                size_t n = capbad ? capbad * 2 : 4;
                bad_record *nb = realloc(bad, n * sizeof(*nb));
                if (nb == NULL) {
                    rd_kafka_message_destroy(m);
                    rc = -1;
                    break;
                }
                bad = nb;
                capbad = n;
            }
            bad_record *b = &bad[nbad++];
            snprintf(b->event, sizeof b->event, "%s", event);
            b->offset = (long long)m->offset;
            snprintf(b->why, sizeof b->why, "%s", why);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_assign(st->restorer, NULL);
    for (size_t i = 0; i < nbad; i++)
        daemon_log(NW_LOG_ERROR,
                   "alert: cannot restore the state of event '%s' from %s [%d] offset %lld: %s "
                   "(a newer record of the event, or a tombstone for key '%s', replaces it)",
                   bad[i].event, topic, (int)p, bad[i].offset, bad[i].why, bad[i].event);
    if (nbad > 0)
        rc = -1;
    free(bad);
    if (rc != 0) {
        restore_forget_partition(st, p);
        return rc;
    }
    if (restored > 0 || superseded > 0)
        daemon_log(NW_LOG_INFO, "alert: restored %lu state records from %s [%d]%s", restored, topic,
                   (int)p,
                   superseded > 0 ? " (records of the older alert-state/1 schema skipped)" : "");
    return 0;
}

bool restore_held(const stage *st, int32_t partition)
{
    for (size_t i = 0; i < st->nunrestored; i++)
        if (st->unrestored[i].partition == partition)
            return true;
    return false;
}

void restore_pause_or_resume(stage *st, int32_t partition, bool pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, st->in_topic, partition);
    rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(st->consumer, l)
                                    : rd_kafka_resume_partitions(st->consumer, l);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        daemon_log(NW_LOG_WARN, "%s: cannot %s %s [%d]: %s", st->name, pause ? "pause" : "resume",
                   st->in_topic, (int)partition, rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
}

/* Keeps a partition whose state could not be restored out of processing until it can be. */
void restore_hold(stage *st, int32_t partition)
{
    if (restore_held(st, partition))
        return;
    if (st->nunrestored == st->capunrestored) {
        size_t n = st->capunrestored ? st->capunrestored * 2 : 8;
        unrestored *nu = realloc(st->unrestored, n * sizeof(*nu));
        if (nu == NULL)
            return; /* collect() still drops nothing of it: see held() */
        st->unrestored = nu;
        st->capunrestored = n;
    }
    st->unrestored[st->nunrestored++] =
        (unrestored){partition, 1, daemon_now_ms() + RESTORE_RETRY_MS};
    restore_pause_or_resume(st, partition, true);
    daemon_log(NW_LOG_ERROR,
               "alert: %s [%d] is held out of processing until its state is restored (next try in "
               "%d s)",
               st->in_topic, (int)partition, RESTORE_RETRY_MS / 1000);
}

void restore_unhold(stage *st, size_t i)
{
    st->unrestored[i] = st->unrestored[--st->nunrestored];
}

/*
 * Tries again to restore the held partitions whose time has come; one that is
 * restored goes back to its committed offset and is resumed.
 */
void restore_retry(stage *st)
{
    double now = daemon_now_ms();
    for (size_t i = 0; i < st->nunrestored;) {
        unrestored *u = &st->unrestored[i];
        if (now < u->next_ms) {
            i++;
            continue;
        }
        int32_t p = u->partition;
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, st->in_topic, p);
        bool ok = restore_partition(st, p) == 0 &&
                  rd_kafka_committed(st->consumer, l, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR;
        if (ok) {
            if (l->elems[0].offset < 0)
                l->elems[0].offset = RD_KAFKA_OFFSET_BEGINNING;
            rd_kafka_error_t *e = rd_kafka_seek_partitions(st->consumer, l, 10000);
            ok = e == NULL;
            if (e != NULL)
                rd_kafka_error_destroy(e);
        }
        rd_kafka_topic_partition_list_destroy(l);
        if (ok) {
            restore_unhold(st, i);
            restore_pause_or_resume(st, p, false);
            daemon_log(NW_LOG_INFO, "alert: the state of %s [%d] is restored; processing it again",
                       st->in_topic, (int)p);
            continue;
        }
        restore_forget_partition(st, p);
        u = &st->unrestored[i];
        long wait = RESTORE_RETRY_MS << (u->attempts < 5 ? u->attempts : 5);
        if (wait > RESTORE_RETRY_MAX_MS)
            wait = RESTORE_RETRY_MAX_MS;
        u->attempts++;
        u->next_ms = daemon_now_ms() + (double)wait;
        daemon_log(
            NW_LOG_ERROR,
            "alert: %s [%d] still held: its state cannot be restored (attempt %d; next in %ld "
            "s)",
            st->in_topic, (int)p, u->attempts, wait / 1000);
        i++;
    }
}
