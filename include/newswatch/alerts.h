/*
 * Alert decisions per tracked event: is a report of the event a new
 * incident, news about an incident already paged, or a copy?
 *
 * Each event has a state: the incidents it has seen (at most
 * NW_ALERT_INCIDENTS, the least recently reported forgotten first), each
 * with its day, its highest casualty figures and what it has been told
 * (a claim, arrests, a finding), and the fingerprints of the event's last
 * NW_ALERT_FINGERPRINTS distinct reports.
 *
 *  - An exact or near copy of a report already seen raises nothing
 *    (nw_fingerprint_is_duplicate).
 *  - A report is of the incident on the day it states (nw_report.h). A
 *    report that states no day joins the latest incident whose last report
 *    is at most episode_gap before it (and that is not after it); it opens
 *    none (it is counted) when there is none; a report stating a day one day off an
 *    incident that was opened without a stated day joins that one. An
 *    anchored event has one incident, on its anchor day.
 *  - The first report of an incident is an alert with status "new".
 *  - A later one raises an "update" only when it brings news attributed to
 *    the incident: a higher killed or wounded figure, a first claim of
 *    responsibility, arrests or an official finding (again after
 *    update_interval). At most one update per incident per update_interval,
 *    unless the toll rises. Otherwise it is counted.
 *
 * Alert ids are "<event>:<incident day>:<sequence>", the same whatever the
 * order the reports arrive in, for the same incidents.
 *
 * The state is bounded and serialises to JSON (newswatch.alert-state/2) so
 * that the Kafka stage can keep it in a compacted topic.
 *
 * Alertmanager (docs/sinks.md): each incident also keeps when the alert
 * stage last saw a report of it and what its last NW_ALERT_NOTES alerts said,
 * so that any instance holding the state can list the incident's alerts
 * (nw_alert_state_list) and re-post them. Every alert of an incident (its
 * own, kind "incident", and one per update) fires from its decision until
 * the incident has been quiet (no distinct report) for the event's
 * resolve_after; then they all resolve. A report after that revives none of
 * them; a later update fires its own alert.
 *
 * Ownership: an nw_alert_state owns copies of everything it keeps; an
 * nw_alert owns its strings (nw_alert_free).
 */
#ifndef NEWSWATCH_ALERTS_H
#define NEWSWATCH_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "newswatch/error.h"
#include "newswatch/fingerprint.h"
#include "newswatch/rules.h"
#include "newswatch/when.h" /* nw_time_parse_rfc3339, for the records */

#define NW_ALERT_SCHEMA       "newswatch.alert/2"
#define NW_ALERT_STATE_SCHEMA "newswatch.alert-state/2"
/* Fingerprints kept per event (the oldest is forgotten first). */
#define NW_ALERT_FINGERPRINTS 64
/* Incidents kept per event (the least recently reported is forgotten first). */
#define NW_ALERT_INCIDENTS 64
/* Alerts (new and updates) whose text an incident keeps for re-posting: the latest ones. */
#define NW_ALERT_NOTES 3

typedef enum nw_alert_decision {
    NW_ALERT_DUPLICATE, /* a copy of a report already seen: nothing */
    NW_ALERT_COUNTED,   /* a distinct report with no news: counted */
    NW_ALERT_NEW,       /* the first report of an incident */
    NW_ALERT_UPDATE,    /* a report with news about a known incident */
} nw_alert_decision;

/* "duplicate", "counted", "new", "update". */
const char *nw_alert_decision_name(nw_alert_decision d);

/* What the alert stage knows about one report of one event (the match record's facts). */
typedef struct nw_alert_report {
    int64_t ref_time;  /* the report's time: published, ingested or processed (seconds) */
    int64_t event_day; /* the incident's local day (when.h) */
    bool day_stated;   /* the text states the day */
    nw_fingerprint fingerprint;
    int killed, wounded; /* attributed to the incident; -1 when not reported */
    bool claim, arrest, finding;
    /* When the alert stage saw the report (wall clock, seconds; 0: ref_time). Incidents
     * resolve by this clock. */
    int64_t seen_at;
    /* What an alert about this report says, kept with the incident (borrowed; may be NULL). */
    const char *doc_id, *doc_title, *url, *evidence;
} nw_alert_report;

/*
 * One decision and, for NEW and UPDATE, the alert. Strings are owned by the
 * record (nw_alert_free); those the decision does not fill are NULL.
 */
typedef struct nw_alert {
    nw_alert_decision decision;
    char *event_id;
    char incident[11];   /* the incident's day, YYYY-MM-DD */
    unsigned sequence;   /* alerts so far for the incident (this one included) */
    unsigned reports;    /* distinct reports of the incident so far, this one included */
    unsigned duplicates; /* copies of the event's reports seen so far */
    int killed, wounded; /* the incident's highest figures after this report, -1 unknown */
    bool claim;          /* responsibility has been claimed */
    char reasons[512];   /* what is new, "; "-separated */
    char *id;            /* "<event>:<incident>:<sequence>" */
    /* What the alert says (NEW and UPDATE). */
    char *severity, *title, *doc_id, *doc_title, *source, *url, *published_at, *evidence;
    char *entities_json; /* a JSON array, or NULL */
    int64_t event_time;
    char detected_at[32]; /* RFC 3339 */
    char *json;           /* newswatch.alert/2 for NEW and UPDATE, else NULL */
    size_t json_len;
    char *state; /* newswatch.alert-state/2 of the event after this report */
    size_t state_len;
} nw_alert;

/* An empty record (NULL when out of memory). */
nw_alert *nw_alert_new(void);
/* Frees the record and its strings; NULL is a no-op. */
void nw_alert_free(nw_alert *a);

typedef struct nw_alert_state nw_alert_state;

/* A fresh state for the event with this id. NULL when out of memory. */
nw_alert_state *nw_alert_state_new(const char *event_id);
/* Frees the state; NULL is a no-op. */
void nw_alert_state_free(nw_alert_state *st);
/* The event the state is of. */
const char *nw_alert_state_event(const nw_alert_state *st);

/*
 * Decides about one report, updates the state and fills the decision
 * members of out (decision through id; out->event_id must be set or NULL).
 * NW_ENOMEM is the only error.
 */
nw_err nw_alert_state_observe(nw_alert_state *st, const nw_event *ev, const nw_alert_report *r,
                              nw_alert *out, char *errbuf, size_t errlen);

/* The state as one line of newswatch.alert-state/2 JSON; the caller frees *out. */
nw_err nw_alert_state_to_json(const nw_alert_state *st, char **out, size_t *outlen, char *errbuf,
                              size_t errlen);
/* A state from its JSON (NW_EJSON with a message when it is not valid). */
nw_err nw_alert_state_from_json(const char *json, size_t len, nw_alert_state **out, char *errbuf,
                                size_t errlen);

/* One line of newswatch.alert/2 JSON for a NEW or UPDATE alert into a->json. */
nw_err nw_alert_encode(nw_alert *a, const nw_event *ev, char *errbuf, size_t errlen);

/*
 * One Alertmanager alert of an incident, as nw_alert_state_list gives it:
 * the incident's own (update false) or an update's. Strings belong to the
 * list and stay valid until it is cleared or freed; those with nothing to
 * say are "".
 */
typedef struct nw_incident_alert {
    const char *event_id, *severity, *title, *title_ar;
    const nw_label *labels; /* the event's routing labels (copies) */
    size_t nlabels;
    char incident[11];    /* the incident's day, YYYY-MM-DD */
    bool update;          /* an update's alert (kind "update"), else the incident's */
    unsigned sequence;    /* the update's sequence; for the incident's alert its latest */
    const char *alert_id; /* "<event>:<incident>:<sequence>" of the alert whose text it shows */
    int64_t starts_at;    /* when it began to fire (seconds since the epoch) */
    int64_t ends_at;      /* 0 while it fires; else when it resolved */
    unsigned reports;     /* distinct reports of the incident */
    int killed, wounded;  /* the incident's highest figures, -1 unknown */
    bool claim;           /* responsibility has been claimed */
    const char *reasons;  /* what was new ("" for the first report) */
    const char *evidence; /* the sentence that matched */
    const char *doc_id, *doc_title, *url; /* the report it is about */
    /* The documents of the incident's kept alerts, newest first (links). */
    size_t ndocs;
    const char *doc_ids[NW_ALERT_NOTES], *doc_urls[NW_ALERT_NOTES];
} nw_incident_alert;

/* A list of incident alerts; owns copies of all its strings. */
typedef struct nw_incident_list nw_incident_list;

/* An empty list (NULL when out of memory). */
nw_incident_list *nw_incident_list_new(void);
/* Frees the list and its strings; NULL is a no-op. */
void nw_incident_list_free(nw_incident_list *l);
/* Empties the list (its strings are freed). */
void nw_incident_list_clear(nw_incident_list *l);
size_t nw_incident_list_count(const nw_incident_list *l);
const nw_incident_alert *nw_incident_list_at(const nw_incident_list *l, size_t i);

/*
 * Appends to out the alerts of the state's incidents at time now (wall clock,
 * seconds): every alert that fires, and every one that resolved at or after
 * now - keep_resolved_s (ends_at set), so that a resolution is re-sent for a
 * while. ev is the state's event (its resolve_after, severity, titles and
 * labels). NW_ENOMEM is the only error.
 */
nw_err nw_alert_state_list(const nw_alert_state *st, const nw_event *ev, int64_t now,
                           long keep_resolved_s, nw_incident_list *out, char *errbuf,
                           size_t errlen);

#endif
