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

#include <stddef.h>
#include <stdint.h>

#include "newswatch/analyze.h"
#include "newswatch/error.h"
#include "newswatch/gazetteer.h"

#define NW_MATCH_SCHEMA "newswatch.match/1"

typedef enum nw_scope {
    NW_SCOPE_SENTENCE,
    NW_SCOPE_PARAGRAPH,
    NW_SCOPE_DOCUMENT,
    NW_SCOPE_WORDS
} nw_scope;

typedef struct nw_event {
    const char *id;       /* "baghdad-bombing" */
    const char *title;    /* English */
    const char *title_ar; /* Arabic, may be "" */
    const char *severity; /* "info", "warning" or "critical" */
    long episode_gap_s;   /* a report later than this after the last one opens a new episode */
    nw_scope scope;
    int scope_words; /* NW_SCOPE_WORDS: N */
    const char *expression;
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
const nw_event *nw_rules_event_at(const nw_rules *r, size_t i);
const nw_event *nw_rules_find_event(const nw_rules *r, const char *id);
size_t nw_rules_class_count(const nw_rules *r);

/*
 * The index of the rules' terms (entity names and keyword class terms),
 * looked up at every token of every document the matcher runs on: give it to
 * nw_analyzer_screen, and most of those lookups end at one bit. Owned by r.
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
    const nw_term *terms; /* the rule's positive terms in the matching scope */
    size_t nterms;
} nw_match;

typedef struct nw_matcher nw_matcher;

nw_matcher *nw_matcher_new(const nw_rules *r);
/* Frees the matcher; NULL is a no-op. */
void nw_matcher_free(nw_matcher *m);

/*
 * The tracked events the analysed document matches, at most one match per
 * event, in the order of the events in the file. NW_ENOMEM is the only error.
 */
nw_err nw_matcher_run(nw_matcher *m, const nw_analysis *an, const nw_match **matches,
                      size_t *nmatches, char *errbuf, size_t errlen);

/*
 * How many events the last run evaluated: those whose trigger terms occur in
 * the document (the rest were never looked at).
 */
size_t nw_matcher_candidates(const nw_matcher *m);

/* Does the last analysed document contain a term of the keyword class (anywhere)? */
int nw_matcher_has_class(const nw_matcher *m, const char *class_name);

/*
 * Writes the members of a match's `newswatch.match/1` record (schema through
 * casualties, docs/schemas.md) into the object w has open; the caller opens
 * and closes it and may append members (the enrich stage adds what the alert
 * stage needs). Errors surface in nw_jsonw_finish.
 */
void nw_match_write_members(const nw_match *match, const nw_analysis *an, const nw_doc *doc,
                            nw_jsonw *w);

/*
 * Encodes a match as one line of `newswatch.match/1` JSON. extra_json, when
 * not NULL, is a JSON object whose members are appended (NW_EINVAL when it is
 * not an object or repeats a member of the record). The caller frees *out
 * with free().
 */
nw_err nw_match_to_json(const nw_match *match, const nw_analysis *an, const nw_doc *doc,
                        const char *extra_json, char **out, size_t *outlen, char *errbuf,
                        size_t errlen);

/* Parses a duration: "90s", "45m", "72h", "7d" (a bare number is seconds). */
nw_err nw_parse_duration(const char *s, long *seconds, char *errbuf, size_t errlen);

#endif
