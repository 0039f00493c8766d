/*
 * Alert decisions per tracked event: is a matching report a new incident, an
 * update worth paging about, or a copy of what was already seen?
 *
 * Each event has a state: its current episode (a run of reports with no gap
 * longer than the event's episode_gap between them), what the episode has
 * reported so far (highest casualty figures, whether responsibility was
 * claimed, the organisations and places named with the event) and the
 * fingerprints of its last NW_ALERT_FINGERPRINTS distinct reports.
 *
 *  - The first report of an episode is an alert with status "new".
 *  - An exact or near copy of a report already seen in the episode raises
 *    nothing (nw_fingerprint_is_duplicate).
 *  - Another report raises an "update" when it brings news: a higher killed
 *    or wounded figure, a claim of responsibility, or an organisation, place
 *    or facility not named before in the episode next to the event's terms.
 *    Otherwise it is counted in the episode.
 *
 * Event time is the report's published_at when it has one, else the Kafka
 * timestamp or the ingest time: a replay of the same input gives the same
 * decisions and the same alert ids ("<event>:<episode>:<sequence>").
 *
 * The state is bounded and serialises to JSON (newswatch.alert-state/1) so
 * that the Kafka stage can keep it in a compacted topic.
 *
 * Ownership: an nw_alert_state owns copies of everything it keeps.
 */
#ifndef NEWSWATCH_ALERTS_H
#define NEWSWATCH_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "newswatch/error.h"
#include "newswatch/fingerprint.h"
#include "newswatch/rules.h"

#define NW_ALERT_SCHEMA       "newswatch.alert/1"
#define NW_ALERT_STATE_SCHEMA "newswatch.alert-state/1"
/* Fingerprints kept per event (the oldest is forgotten first). */
#define NW_ALERT_FINGERPRINTS 64
/* Entity ids remembered per episode. */
#define NW_ALERT_ENTITIES 256

typedef enum nw_alert_decision {
    NW_ALERT_DUPLICATE, /* a copy of a report already seen: nothing */
    NW_ALERT_COUNTED,   /* a distinct report with nothing new: counted */
    NW_ALERT_NEW,       /* the first report of a new episode */
    NW_ALERT_UPDATE,    /* a report that brings news in an open episode */
} nw_alert_decision;

/* What the alert stage knows about one report that matched one event. */
typedef struct nw_alert_report {
    int64_t event_time; /* seconds since the epoch */
    nw_fingerprint fingerprint;
    int killed, wounded;         /* -1 when not reported */
    bool claim;                  /* a claim of responsibility */
    const char *const *entities; /* ORG, LOC and FACILITY ids named with the event's terms */
    size_t nentities;
} nw_alert_report;

/* What a decision adds up to. */
typedef struct nw_alert_outcome {
    nw_alert_decision decision;
    unsigned episode;    /* 1, 2, ... */
    unsigned sequence;   /* alerts so far in the episode (the new one included) */
    unsigned reports;    /* distinct reports in the episode so far, this one included */
    unsigned duplicates; /* copies seen in the episode so far */
    int killed, wounded; /* the episode's highest figures after this report, -1 unknown */
    char reasons[512];   /* for an update: what is new, "; "-separated */
} nw_alert_outcome;

typedef struct nw_alert_state nw_alert_state;

/* A fresh state for the event with this id. NULL when out of memory. */
nw_alert_state *nw_alert_state_new(const char *event_id);
/* Frees the state; NULL is a no-op. */
void nw_alert_state_free(nw_alert_state *st);

/* Decides about one report and updates the state. NW_ENOMEM is the only error. */
nw_err nw_alert_state_observe(nw_alert_state *st, const nw_event *ev, const nw_alert_report *r,
                              nw_alert_outcome *out, char *errbuf, size_t errlen);

/* The state as one line of newswatch.alert-state/1 JSON; the caller frees *out. */
nw_err nw_alert_state_to_json(const nw_alert_state *st, char **out, size_t *outlen, char *errbuf,
                              size_t errlen);
/* A state from its JSON (NW_EJSON with a message when it is not valid). */
nw_err nw_alert_state_from_json(const char *json, size_t len, nw_alert_state **out, char *errbuf,
                                size_t errlen);

/*
 * Parses an RFC 3339 time ("2021-01-21T08:00:00Z", "2021-01-21T11:00:00+03:00",
 * fractions allowed) into seconds since the epoch.
 */
nw_err nw_time_parse_rfc3339(const char *s, int64_t *out, char *errbuf, size_t errlen);
/* Formats seconds since the epoch as RFC 3339 UTC ("2021-01-21T08:00:00Z"). */
void nw_time_format_rfc3339(int64_t t, char out[32]);

/* Everything an alert says besides the decision. Strings are borrowed. */
typedef struct nw_alert_info {
    const nw_event *event;
    const char *doc_id, *source, *url, *doc_title, *published_at;
    const char *evidence;
    const char *entities_json; /* a JSON array (the match's entities), or NULL */
    int64_t event_time;
    const char *detected_at; /* RFC 3339 */
} nw_alert_info;

/* The alert id: "<event>:<episode>:<sequence>". */
void nw_alert_id(const nw_event *ev, const nw_alert_outcome *o, char *out, size_t outlen);

/* One line of newswatch.alert/1 JSON for a NEW or UPDATE outcome; the caller frees *out. */
nw_err nw_alert_to_json(const nw_alert_info *info, const nw_alert_outcome *o, char **out,
                        size_t *outlen, char *errbuf, size_t errlen);

#endif
