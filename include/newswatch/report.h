/*
 * What a report says about the tracked event it matched: the input of the
 * alert decision (alerts.h), computed from the document's analysis and the
 * match (rules.h). One function, nw_report_assess, so that --replay, the
 * daemon and the tests decide from the same facts:
 *
 *  - time: the reference time is the document's published_at, else its
 *    ingested_at (set by the producer), else the time of processing, unless
 *    the lead's latest full date is older than background_age before that
 *    (a page read long after it was written: that date is the reference); the
 *    event's day is the day the text states next to the event's terms
 *    (when.h), resolved against the reference, else the reference's day;
 *  - salience: the event is what the report is about: its rule holds in the
 *    title or in the lead, or in at least min_sentences sentences that do
 *    not recall the past (a "background" term, or a stated day older than
 *    background_age); a retrospective piece (a "retrospective" term in the
 *    title or lead) reports nothing;
 *  - the incident: for an anchored event, a report whose fresh sentences
 *    state another day is another incident; one that states none is of the
 *    anchored incident when it appeared within anchor_window of it. For a
 *    recurring event, the stated day (or none: the alert stage joins the
 *    report to the latest incident within episode_gap);
 *  - facts attributed to the incident: the highest killed and wounded
 *    figures, a claim of responsibility, arrests, an official finding, each
 *    only from the incident's sentences (the fresh sentences where the rule
 *    holds and the two after each of them).
 *
 * Ownership: an nw_report is a plain value; nothing in it points elsewhere.
 */
#ifndef NEWSWATCH_REPORT_H
#define NEWSWATCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "newswatch/analyze.h"
#include "newswatch/doc.h"
#include "newswatch/error.h"
#include "newswatch/rules.h"
#include "newswatch/when.h"

typedef enum nw_time_basis {
    NW_TIME_PUBLISHED, /* the document's published_at */
    NW_TIME_INGESTED,  /* when the producer read it */
    NW_TIME_PROCESSED, /* when the enrich stage saw it (Kafka timestamp or clock) */
    NW_TIME_STATED,    /* no publication time, and the lead dates the page long before it
                          was read: the latest full date of the lead (an archive replayed) */
} nw_time_basis;

/* "published_at", "ingested_at", "processed", "stated". */
const char *nw_time_basis_name(nw_time_basis b);

typedef struct nw_report {
    int64_t ref_time; /* seconds since the epoch */
    nw_time_basis basis;
    int64_t event_day;   /* the event's local day (when.h): stated, else the reference's */
    bool day_stated;     /* the text states it */
    bool salient;        /* the event is what the report is about */
    bool other_incident; /* anchored event: the text states another day */
    bool retrospective;  /* a piece looking back */
    char why[160];       /* why it is (not) a report of the event, for people */
    unsigned sentences;  /* fresh sentences where the rule holds */
    int killed, wounded; /* attributed to the incident; -1 when none */
    bool claim, arrest, finding;
} nw_report;

/*
 * A reusable workspace for nw_report_assess (the dates it finds); one per
 * thread. NULL when out of memory.
 */
typedef struct nw_assessor nw_assessor;
nw_assessor *nw_assessor_new(void);
/* Frees the assessor; NULL is a no-op. */
void nw_assessor_free(nw_assessor *a);

/*
 * Assesses one match of the analysed document. roles are the matcher's
 * role terms for the document (nw_matcher_roles). processed_at is the
 * fallback reference time. NW_ENOMEM is the only error.
 */
nw_err nw_report_assess(nw_assessor *a, const nw_analysis *an, const nw_doc *doc,
                        const nw_match *match, const nw_role_term *roles, size_t nroles,
                        int64_t processed_at, nw_report *out, char *errbuf, size_t errlen);

/* Is the report one the alert stage should see (salient and of the event's incident)? */
bool nw_report_counts(const nw_report *r);

#endif
