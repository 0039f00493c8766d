/*
 * The text pipeline for one document, with no Kafka in it: normalise (ICU),
 * remove page furniture, segment, detect the language, tag entities from the
 * gazetteer (through clitics, inside hashtags) and by title, and find dates,
 * casualty figures, hashtags, mentions and URLs. nw_analysis_to_json writes
 * the result as a `newswatch.enriched/1` document (docs/schemas.md).
 *
 * Ownership: an nw_analyzer borrows the gazetteer and the furniture rules
 * (they must outlive it) and owns everything else. The nw_analysis that
 * nw_analyzer_run returns belongs to the analyzer and is valid until the next
 * run or nw_analyzer_free. An analyzer is for one thread at a time; the
 * gazetteer and furniture rules may be shared by several analyzers.
 */
#ifndef NEWSWATCH_ANALYZE_H
#define NEWSWATCH_ANALYZE_H

#include <stddef.h>
#include <stdint.h>

#include "newswatch/dates.h"
#include "newswatch/doc.h"
#include "newswatch/error.h"
#include "newswatch/furniture.h"
#include "newswatch/gazetteer.h"
#include "newswatch/jsonw.h"
#include "newswatch/phrases.h"
#include "newswatch/recognize.h"
#include "newswatch/segment.h"
#include "newswatch/normalize.h"

#define NW_ENRICHED_SCHEMA "newswatch.enriched/2"

/*
 * The bounds that keep an enriched record proportionate to its document
 * (docs/schemas.md): an entity is listed at most NW_ENRICHED_MENTIONS_PER_ENTITY
 * times and the list holds at most NW_ENRICHED_ENTITIES_MAX mentions; dates,
 * hashtags, mentions and urls at most NW_ENRICHED_SPANS_MAX each. What is left
 * out is counted in the record's `omitted` member.
 */
#define NW_ENRICHED_MENTIONS_PER_ENTITY 50
#define NW_ENRICHED_ENTITIES_MAX        2000
#define NW_ENRICHED_SPANS_MAX           1000

typedef enum nw_lang { NW_LANG_AR, NW_LANG_EN, NW_LANG_MIXED, NW_LANG_OTHER } nw_lang;

/* "ar", "en", "mixed", "other". */
const char *nw_lang_name(nw_lang lang);

typedef struct nw_mention {
    const nw_entity *entity; /* NULL for a name found by its title (unlinked) */
    nw_entity_type type;
    uint32_t start, end; /* code points of the text */
    uint32_t sentence;
    uint32_t first_token, ntokens; /* for a hashtag part: the hashtag's token, 1 */
    uint8_t in_hashtag;
} nw_mention;

typedef struct nw_analysis {
    const nw_text *text;                  /* the clean text (furniture removed) */
    const nw_segments *seg;               /* its sentences, tokens and URLs */
    const nw_text *title;                 /* the normalised title (may be empty) */
    const nw_text *page;                  /* the normalised body before furniture removal */
    const nw_furniture_result *furniture; /* spans into page */
    nw_lang lang;
    const uint8_t *sentence_lang; /* nw_lang per sentence */
    const nw_mention *mentions;   /* in text order */
    size_t nmentions;
    const nw_dates *dates;
    nw_casualties casualties;         /* the document's highest figures */
    const nw_casualty *casualty_list; /* every figure, in text order */
    size_t ncasualty_list;
    size_t furniture_lines; /* lines removed as furniture */
} nw_analysis;

typedef struct nw_analyzer nw_analyzer;

/* At most this many indexes consulted besides the analyzer's own (nw_analyzer_new). */
#define NW_ANALYZER_CONSULTED_MAX 5

/*
 * An analyzer over a gazetteer (required) and furniture rules (may be NULL:
 * then only the built-in recognisers remove furniture). consulted[0..n) are
 * the other indexes looked up at every token of an analysis, such as
 * nw_rules_terms for the matcher (none: NULL, 0): each document's tokens are
 * screened against them with the analyzer's own (the gazetteer's, the
 * recognisers' words, nw_dates_words), so that most of those lookups end at
 * one bit. Results are the same without them, only slower. They are not
 * copied: the caller keeps them alive and unchanged while the analyzer
 * lives. NW_EINVAL for more than NW_ANALYZER_CONSULTED_MAX of them.
 */
nw_analyzer *nw_analyzer_new(const nw_gazetteer *g, const nw_furniture *f,
                             const nw_phrases *const *consulted, size_t nconsulted, char *errbuf,
                             size_t errlen);
/* Frees the analyzer; NULL is a no-op. */
void nw_analyzer_free(nw_analyzer *a);

/*
 * Analyses the document's title and body. Invalid UTF-8 is NW_EUTF8 with
 * the byte offset; out of memory is NW_ENOMEM.
 */
nw_err nw_analyzer_run(nw_analyzer *a, const nw_doc *doc, const nw_analysis **out, char *errbuf,
                       size_t errlen);

/*
 * Writes the members of the document's `newswatch.enriched/1` record (schema
 * through furniture_lines_removed, docs/schemas.md) into the object that w
 * has open: the caller opens and closes it, and may add members of its own
 * after these (the enrich stage adds "matches"). Errors surface in
 * nw_jsonw_finish.
 */
void nw_analysis_write_members(const nw_analysis *an, const nw_doc *doc, nw_jsonw *w);

/*
 * Writes the members "<key>" (the display text of code points [start, end)
 * of t), "start" and "end" into the object w has open.
 */
void nw_span_write_members(nw_jsonw *w, const nw_text *t, const char *key, uint32_t start,
                           uint32_t end);

/* Writes casualty figures as {"killed": n|null, "wounded": n|null}, or null when neither is known.
 */
void nw_casualties_write(nw_jsonw *w, const nw_casualties *c);

/*
 * Encodes the document and its analysis as one line of `newswatch.enriched/1`
 * JSON (no newline). extra_json, when not NULL, is a JSON object whose
 * members are appended (NW_EINVAL when it is not an object or repeats a
 * member of the record). The caller frees *out with free().
 */
nw_err nw_analysis_to_json(const nw_analysis *an, const nw_doc *doc, const char *extra_json,
                           char **out, size_t *outlen, char *errbuf, size_t errlen);

#endif
