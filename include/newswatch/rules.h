/*
 * Tracked events: rules in a commented configuration file
 * (config/events.conf, docs/tracked-events.md) over the entities and keyword
 * classes the text pipeline finds.
 *
 *     [class.bombing]
 *     terms = تفجير; انفجار; suicide bomber; car bomb
 *
 *     [event.baghdad-bombing]
 *     title = Baghdad bombing
 *     title_ar = تفجير في بغداد
 *     severity = critical
 *     episode_gap = 72h
 *     scope = words:12
 *     match = (loc.baghdad OR fac.tayaran-square) AND bombing AND NOT loc.mosul
 *
 * A rule is a boolean expression (AND, OR, NOT, parentheses) over gazetteer
 * entity ids, entity types (PERSON, ORG, LOC, FACILITY) and keyword class
 * names, that must hold inside one scope: a sentence, a paragraph, the whole
 * document, or a window of N words on each side of a term. Keyword class
 * terms go through the same normalisation and clitic handling as entity
 * names.
 *
 * Rules are compiled into an index from terms to rules: a document is only
 * checked against the rules whose positive terms it contains, so the cost
 * does not grow with the number of rules.
 *
 * Ownership: an nw_rules is read-only after loading and may be shared by
 * threads; it borrows the gazetteer, which must outlive it. An nw_matcher is
 * per thread; its matches are valid until its next run.
 */
#ifndef NEWSWATCH_RULES_H
#define NEWSWATCH_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "newswatch/analyze.h"
#include "newswatch/error.h"
#include "newswatch/gazetteer.h"

#define NW_MATCH_SCHEMA "newswatch.match/2"
/* A match record lists at most this many distinct terms, and as many distinct entities. */
#define NW_MATCH_TERMS_MAX 32

typedef enum nw_scope {
    NW_SCOPE_SENTENCE,
    NW_SCOPE_PARAGRAPH,
    NW_SCOPE_DOCUMENT,
    NW_SCOPE_WORDS
} nw_scope;

/* How the reports of an event group into incidents (docs/tracked-events.md). */
typedef enum nw_incident_kind {
    NW_INCIDENT_RECURRING, /* each occurrence is its own incident, told apart by its day */
    NW_INCIDENT_ANCHORED,  /* one incident on a known day, and the reports of it */
} nw_incident_kind;

/* What a keyword class is for besides the rules that name it. */
typedef enum nw_role {
    NW_ROLE_NONE,
    NW_ROLE_CLAIM,         /* a claim of responsibility: news about an incident */
    NW_ROLE_ARREST,        /* arrests, sentences of the perpetrators: news */
    NW_ROLE_FINDING,       /* an official finding (an investigation's result): news */
    NW_ROLE_BACKGROUND,    /* "since", "the deadliest since": a sentence recalling the past */
    NW_ROLE_RETROSPECTIVE, /* "anniversary", "a year on": a piece looking back */
    NW_ROLE_ATTACK,        /* "the attack": refers to an attack without saying what it was */
    NW_ROLE_COUNT
} nw_role;

/* Routing labels an event adds to its Alertmanager alerts (`label = name=value`). */
#define NW_EVENT_LABELS_MAX 8
typedef struct nw_label {
    const char *name;  /* [A-Za-z_][A-Za-z0-9_]*, not one of newswatch's own labels */
    const char *value; /* not empty */
} nw_label;

/* An incident's alerts resolve after this long without a report of it (resolve_after). */
#define NW_RESOLVE_AFTER_DEFAULT (24L * 3600)

typedef struct nw_event {
    const char *id;       /* "baghdad-bombing" */
    const char *title;    /* English */
    const char *title_ar; /* Arabic, may be "" */
    const char *severity; /* "info", "warning" or "critical" */
    nw_incident_kind incident;
    int64_t anchor_day;   /* NW_INCIDENT_ANCHORED: the incident's local day (nw_when.h) */
    long anchor_window_s; /* reports this long after the anchor that state no day are of it */
    const nw_entity *anchor_places[4]; /* where the anchored incident happened (may be none) */
    size_t nanchor_places;
    long episode_gap_s; /* recurring: a report stating no day joins the latest incident
                           whose last report is at most this old */
    long
        update_interval_s; /* at most one update per incident per interval, unless the toll rises */
    long background_age_s; /* a sentence stating a day older than this recalls the past */
    int utc_offset_s;      /* local days are at this offset from UTC (+03:00) */
    int lead_words;        /* the lead: the text's first N words */
    int min_sentences;     /* salient without title or lead: the rule holds in N sentences */
    nw_scope scope;
    int scope_words; /* NW_SCOPE_WORDS: N */
    const char *expression;
    long resolve_after_s; /* the incident's alerts resolve when no report of it has come for
                             this long (0: NW_RESOLVE_AFTER_DEFAULT) */
    nw_label labels[NW_EVENT_LABELS_MAX]; /* routing labels, in the file's order */
    size_t nlabels;
    const char *file;
    unsigned line; /* where its [event.*] section starts */
} nw_event;

typedef struct nw_rules nw_rules;

nw_err nw_rules_new(nw_normalizer *n, const nw_gazetteer *g, const char *file, const char *text,
                    size_t len, nw_rules **out, char *errbuf, size_t errlen);
nw_err nw_rules_new_from_file(nw_normalizer *n, const nw_gazetteer *g, const char *path,
                              nw_rules **out, char *errbuf, size_t errlen);
/* Frees the rules; NULL is a no-op. */
void nw_rules_free(nw_rules *r);

size_t nw_rules_event_count(const nw_rules *r);
/* Event i (i < nw_rules_event_count), in file order, or NULL. */
const nw_event *nw_rules_event_at(const nw_rules *r, size_t i);
const nw_event *nw_rules_find_event(const nw_rules *r, const char *id);
size_t nw_rules_class_count(const nw_rules *r);

/*
 * The index of the rules' terms (entity names and keyword class terms),
 * looked up at every token of every document the matcher runs on: give it to
 * nw_analyzer_new among the indexes it consults, and most of those lookups
 * end at one bit. Owned by r.
 */
const nw_phrases *nw_rules_terms(const nw_rules *r);

/* A term of a rule found in the text: an entity or a keyword class term. */
typedef struct nw_term {
    const nw_entity *entity; /* NULL for a keyword */
    nw_entity_type type;     /* for an entity */
    const char *class_name;  /* for a keyword */
    uint32_t start, end;     /* code points of the text */
    uint32_t sentence;
} nw_term;

typedef struct nw_match {
    const nw_event *event;
    uint32_t evidence;    /* the sentence that best shows the match */
    const nw_term *terms; /* the rule's positive terms in every scope where it holds */
    size_t nterms;
    const uint32_t *sentences; /* the sentences of those terms, ascending, each once */
    size_t nsentences;
    bool broad;            /* the rule holds only over the whole document, in no one scope */
    bool in_lead;          /* the rule holds within the lead (the first lead_words words) */
    bool in_title;         /* the rule holds within the title (nw_matcher_title) */
    bool title_looks_back; /* the title has a retrospective term (nw_matcher_title) */
} nw_match;

/* A term of a keyword class with a role, wherever it occurs in the text. */
typedef struct nw_role_term {
    nw_role role;
    uint32_t token, sentence;
} nw_role_term;

typedef struct nw_matcher nw_matcher;

nw_matcher *nw_matcher_new(const nw_rules *r);
/* Frees the matcher; NULL is a no-op. */
void nw_matcher_free(nw_matcher *m);

/*
 * The tracked events the analysed document matches, at most one match per
 * event, in the order of the events in the file: where the rule holds in
 * one or more windows of its scope, or else over the whole document (broad).
 * NW_ENOMEM is the only error.
 */
nw_err nw_matcher_run(nw_matcher *m, const nw_analysis *an, const nw_match **matches,
                      size_t *nmatches, char *errbuf, size_t errlen);

/*
 * How many events the last run evaluated: those whose trigger terms occur in
 * the document (the rest were never looked at).
 */
size_t nw_matcher_candidates(const nw_matcher *m);

/* The terms of classes with a role in the last analysed document, in text order. */
const nw_role_term *nw_matcher_roles(const nw_matcher *m, size_t *n);

/*
 * Does the rule of each event hold within a title analysed on its own
 * (a document whose body is its title)? Sets in_title on the matches of
 * the last run of `body` for the events whose rule holds in `title_an`,
 * and title_looks_back on all of them when the title has a term of the
 * retrospective class;
 * `title` is a second matcher on the same rules (its own run is spent).
 */
nw_err nw_matcher_title(nw_matcher *body, nw_matcher *title, const nw_analysis *title_an,
                        char *errbuf, size_t errlen);

/*
 * Writes the members of a match's `newswatch.match/2` record (schema through
 * casualties, docs/schemas.md) into the object w has open: each distinct term
 * and entity once, at most NW_MATCH_TERMS_MAX of each; the caller opens
 * and closes it and may append members (the enrich stage adds what the alert
 * stage needs). casualties are the figures to state (those attributed to
 * the incident; NULL: the document's). Errors surface in nw_jsonw_finish.
 */
void nw_match_write_members(const nw_match *match, const nw_analysis *an, const nw_doc *doc,
                            const nw_casualties *casualties, nw_jsonw *w);

/*
 * Checks a routing label `name=value` (an event's `label` key) and returns
 * NULL, or why it is not one. name_len receives the length of the name.
 * Names newswatch sets itself (alertname, event, incident, severity, kind,
 * sequence) and names starting with "__" are refused.
 */
const char *nw_label_problem(const char *name_eq_value, size_t *name_len);

/* Parses a duration: "90s", "45m", "72h", "7d" (a bare number is seconds). */
nw_err nw_parse_duration(const char *s, long *seconds, char *errbuf, size_t errlen);

#endif
