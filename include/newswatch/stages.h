/*
 * The two stages of the chain, shared by --replay and the Kafka daemon so
 * that both give the same records for the same input:
 *
 *  - the enricher turns a news document into its newswatch.enriched/2
 *    record and one newswatch.match/2 record per tracked event it reports
 *    (nw_report_counts: salient, and of the event's incident); a match
 *    carries what the alert stage needs (reference time, incident day,
 *    fingerprint, attributed casualties, claim, arrests, finding), so the
 *    alert stage reads nothing else. Events named only in passing are
 *    listed in the enriched record's "mentions" with the reason;
 *  - the alerter reads match records and keeps the alert state of each
 *    event, deciding new / update / counted / duplicate; it returns an
 *    owned nw_alert with the alert record and the state record to publish.
 *
 * Ownership: both borrow the pipeline's gazetteer, furniture and rules (they
 * must outlive them). The enricher's output buffers belong to it and are
 * valid until its next call. Neither is thread-safe; use one per thread.
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
    const char *enriched; /* newswatch.enriched/2 */
    size_t enriched_len;
    size_t nmatches;
    const char **event_ids; /* the key of each match */
    const char **matches;   /* newswatch.match/2 */
    const size_t *match_lens;
} nw_enriched;

nw_enricher *nw_enricher_new(const nw_pipeline *p, char *errbuf, size_t errlen);
void nw_enricher_free(nw_enricher *e);

/*
 * Runs the text pipeline and the tracked-event rules on doc. processed_at
 * (seconds since the epoch) is the reference time when the document has
 * neither a usable published_at nor ingested_at: the Kafka timestamp, or
 * the time it was read.
 */
nw_err nw_enricher_run(nw_enricher *e, const nw_doc *doc, int64_t processed_at, nw_enriched *out,
                       char *errbuf, size_t errlen);

typedef struct nw_alerter nw_alerter;

nw_alerter *nw_alerter_new(const nw_rules *rules);
void nw_alerter_free(nw_alerter *a);

/* Restores an event's state from its newswatch.alert-state/2 record. */
nw_err nw_alerter_restore(nw_alerter *a, const char *state, size_t len, char *errbuf,
                          size_t errlen);
/* Forgets an event's state (its partition moved to another instance). */
void nw_alerter_forget(nw_alerter *a, const char *event_id);
/* Forgets every state. */
void nw_alerter_clear(nw_alerter *a);

/*
 * Decides about one newswatch.match/2 record: *out is a new record the
 * caller frees with nw_alert_free (its json is NULL unless the decision is
 * NEW or UPDATE). A record that is not a match (bad JSON, another schema,
 * an unknown event) is NW_EJSON or NW_EINVAL with the reason: the daemon
 * sends it to the dead-letter topic.
 */
nw_err nw_alerter_process(nw_alerter *a, const char *match, size_t len, nw_alert **out,
                          char *errbuf, size_t errlen);

/*
 * Appends to out the Alertmanager alerts of every incident whose state the
 * alerter holds (the events of this instance's partitions), at time now
 * (wall clock, seconds): those that fire, and those that resolved within
 * keep_resolved_s (nw_alert_state_list). Call it from the thread that runs
 * the alerter, between batches (the state is then the committed one), and
 * hand the list to nw_sinks_resend. NW_ENOMEM is the only error.
 */
nw_err nw_alerter_list(const nw_alerter *a, int64_t now, long keep_resolved_s,
                       nw_incident_list *out, char *errbuf, size_t errlen);

/* The rules changed (SIGHUP): states of events that still exist are kept. */
void nw_alerter_set_rules(nw_alerter *a, const nw_rules *rules);

#endif
