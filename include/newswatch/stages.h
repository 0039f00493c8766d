/*
 * The two stages of the chain, shared by --replay and the Kafka daemon so
 * that both give the same records for the same input:
 *
 *  - the enricher turns a news document into its newswatch.enriched/1
 *    record and one newswatch.match/1 record per tracked event it matches;
 *    a match carries what the alert stage needs (event time, fingerprint,
 *    claim, the entities named with the event), so the alert stage reads
 *    nothing else;
 *  - the alerter reads match records and keeps the alert state of each
 *    event, deciding new / update / counted / duplicate; it returns the
 *    alert record and the state record to publish.
 *
 * Ownership: both borrow the pipeline's gazetteer, furniture and rules (they
 * must outlive them). Output buffers belong to the stage and are valid until
 * its next call. Neither is thread-safe; use one per thread.
 */
#ifndef NEWSWATCH_STAGES_H
#define NEWSWATCH_STAGES_H

#include <stddef.h>
#include <stdint.h>

#include "newswatch/alerts.h"
#include "newswatch/doc.h"
#include "newswatch/pipeline.h"

typedef struct nw_enricher nw_enricher;

typedef struct nw_enriched {
    const char *enriched; /* newswatch.enriched/1 */
    size_t enriched_len;
    size_t nmatches;
    const char **event_ids; /* the key of each match */
    const char **matches;   /* newswatch.match/1 */
    const size_t *match_lens;
} nw_enriched;

nw_enricher *nw_enricher_new(const nw_pipeline *p, char *errbuf, size_t errlen);
void nw_enricher_free(nw_enricher *e);

/*
 * Runs the text pipeline and the tracked-event rules on doc. fallback_time
 * (seconds since the epoch) is the event time when the document has no
 * usable published_at: the Kafka timestamp, or the time it was read.
 */
nw_err nw_enricher_run(nw_enricher *e, const nw_doc *doc, int64_t fallback_time, nw_enriched *out,
                       char *errbuf, size_t errlen);

typedef struct nw_alerter nw_alerter;

typedef struct nw_alert_out {
    const char *event_id;
    nw_alert_outcome outcome;
    const char *alert; /* newswatch.alert/1 for NEW and UPDATE, else NULL */
    size_t alert_len;
    const char *state; /* newswatch.alert-state/1 after this match */
    size_t state_len;
    /* For the sinks: */
    char alert_id[512];
    const char *severity, *title, *evidence, *doc_id, *source, *url, *published_at;
    char detected_at[32];
} nw_alert_out;

nw_alerter *nw_alerter_new(const nw_rules *rules);
void nw_alerter_free(nw_alerter *a);

/* Restores an event's state from its newswatch.alert-state/1 record. */
nw_err nw_alerter_restore(nw_alerter *a, const char *state, size_t len, char *errbuf,
                          size_t errlen);
/* Forgets an event's state (its partition moved to another instance). */
void nw_alerter_forget(nw_alerter *a, const char *event_id);
/* Forgets every state. */
void nw_alerter_clear(nw_alerter *a);

/*
 * Decides about one newswatch.match/1 record. A record that is not one (bad
 * JSON, another schema, an unknown event) is NW_EJSON or NW_EINVAL with the
 * reason: the daemon sends it to the dead-letter topic.
 */
nw_err nw_alerter_process(nw_alerter *a, const char *match, size_t len, nw_alert_out *out,
                          char *errbuf, size_t errlen);

/* The rules changed (SIGHUP): states of events that still exist are kept. */
void nw_alerter_set_rules(nw_alerter *a, const nw_rules *rules);

#endif
