#include "newswatch/analyze.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>

#include "newswatch/hash.h"
#include "newswatch/jsonw.h"
#include "newswatch/phrases.h"
#include "grow.h"
#include "lookups.h"

struct nw_analyzer {
    const nw_gazetteer *g;
    const nw_furniture *f;
    nw_normalizer *norm;
    nw_recognizer *rec;
    nw_text *page, *text, *title;
    nw_segments *page_seg, *seg;
    nw_furniture_result *fr;
    nw_mention *mentions;
    size_t nmentions, cap_mentions;
    uint8_t *covered, *sent_lang;
    size_t cap_covered, cap_sent_lang;
    nw_word *words;
    size_t cap_words;
    nw_dates dates;
    nw_casualty_list casualties;
    nw_analysis result;
    /* Each document's lookups, screened against the indexes consulted at every token. */
    nw_lookups *lookups;
};

/* The analyzer's own screened indexes: the gazetteer's, the recognisers' words, the dates' words.
 */
#define OWN_SCREENED 3
_Static_assert(OWN_SCREENED + NW_ANALYZER_CONSULTED_MAX <= NW_LOOKUPS_SCREENED,
               "the lookups screen every index the analyzer consults");

const char *nw_lang_name(nw_lang lang)
{
    static const char *const names[] = {"ar", "en", "mixed", "other"};
    return lang <= NW_LANG_OTHER ? names[lang] : "other";
}

void nw_analyzer_free(nw_analyzer *a)
{
    if (a == NULL)
        return;
    nw_normalizer_free(a->norm);
    nw_recognizer_free(a->rec);
    nw_lookups_free(a->lookups);
    nw_text_free(a->page);
    nw_text_free(a->text);
    nw_text_free(a->title);
    nw_segments_free(a->page_seg);
    nw_segments_free(a->seg);
    nw_furniture_result_free(a->fr);
    free(a->mentions);
    free(a->covered);
    free(a->sent_lang);
    free(a->words);
    free(a->dates.dates);
    nw_casualty_list_free(&a->casualties);
    free(a);
}

/* Adds p to list[0..*n) unless it is there. */
static void add_index(const nw_phrases **list, size_t *n, const nw_phrases *p)
{
    for (size_t d = 0; d < *n; d++)
        if (list[d] == p)
            return;
    list[(*n)++] = p;
}

nw_analyzer *nw_analyzer_new(const nw_gazetteer *g, const nw_furniture *f,
                             const nw_phrases *const *consulted, size_t nconsulted, char *errbuf,
                             size_t errlen)
{
    if (nconsulted > NW_ANALYZER_CONSULTED_MAX) {
        nw_set_error(errbuf, errlen, NW_EINVAL,
                     "%zu indexes consulted at every token; at most %d can be screened", nconsulted,
                     NW_ANALYZER_CONSULTED_MAX);
        return NULL;
    }
    nw_analyzer *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        return NULL;
    }
    a->g = g;
    a->f = f;
    if ((a->norm = nw_normalizer_new(errbuf, errlen)) == NULL ||
        (a->rec = nw_recognizer_new(a->norm, errbuf, errlen)) == NULL) {
        nw_analyzer_free(a);
        return NULL;
    }
    a->page = nw_text_new();
    a->text = nw_text_new();
    a->title = nw_text_new();
    a->page_seg = nw_segments_new();
    a->seg = nw_segments_new();
    a->fr = nw_furniture_result_new();
    if (a->page == NULL || a->text == NULL || a->title == NULL || a->page_seg == NULL ||
        a->seg == NULL || a->fr == NULL) {
        nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        nw_analyzer_free(a);
        return NULL;
    }
    const nw_phrases *screened[OWN_SCREENED + NW_ANALYZER_CONSULTED_MAX];
    size_t n = 0;
    add_index(screened, &n, nw_gazetteer_phrases(g));
    add_index(screened, &n, nw_recognizer_words(a->rec));
    if (nw_dates_words() != NULL)
        add_index(screened, &n, nw_dates_words());
    for (size_t k = 0; k < nconsulted; k++)
        add_index(screened, &n, consulted[k]);
    if ((a->lookups = nw_lookups_new(screened, n, errbuf, errlen)) == NULL) {
        nw_analyzer_free(a);
        return NULL;
    }
    return a;
}

static bool add_mention(nw_analyzer *a, const nw_entity *e, nw_entity_type type, uint32_t start,
                        uint32_t end, uint32_t sentence, uint32_t first, uint32_t n,
                        uint8_t in_hashtag)
{
    if (!nw_grow((void **)&a->mentions, &a->cap_mentions, a->nmentions + 1, sizeof(nw_mention)))
        return false;
    a->mentions[a->nmentions++] = (nw_mention){e, type, start, end, sentence, first, n, in_hashtag};
    return true;
}

/* Is code points [start, end) of the display form written in capitals (BIAP)? */
static bool in_capitals(const nw_text *t, uint32_t start, uint32_t end)
{
    for (uint32_t i = start; i < end; i++) {
        unsigned char c = (unsigned char)t->display[t->display_cp[i]];
        if (c >= 'a' && c <= 'z')
            return false;
    }
    return true;
}

/* The entity of a gazetteer hit, honouring capitals-only aliases; NULL when none fits. */
static const nw_entity *hit_entity(const nw_analyzer *a, const nw_text *t, const nw_phrase_hit *h)
{
    for (uint32_t k = 0; k < h->nvalues; k++) {
        uint32_t v = h->values[k];
        if ((v & 1) && !in_capitals(t, h->start, h->end))
            continue;
        return nw_gazetteer_at(a->g, v >> 1);
    }
    return NULL;
}

/* The parts of a hashtag's token. */
static size_t hashtag_parts(nw_analyzer *a, const nw_text *t, const nw_token *tok)
{
    size_t max = tok->end - tok->start + 1;
    if (!nw_grow((void **)&a->words, &a->cap_words, max, sizeof(nw_word)))
        return 0;
    return nw_phrases_hashtag_words(t, tok, a->words, max);
}

static int compare_mentions(const void *x, const void *y)
{
    const nw_mention *a = x, *b = y;
    return a->start < b->start ? -1 : a->start > b->start ? 1 : 0;
}

typedef struct name_ctx {
    nw_analyzer *a;
    const nw_segments *s;
} name_ctx;

static int on_titled_name(void *ctx, size_t first, size_t n)
{
    name_ctx *c = ctx;
    const nw_token *tok = &c->s->tokens[first];
    return !add_mention(c->a, NULL, NW_ENTITY_PERSON, tok->start, c->s->tokens[first + n - 1].end,
                        tok->sentence, (uint32_t)first, (uint32_t)n, 0);
}

static nw_err tag_entities(nw_analyzer *a, const nw_text *t, const nw_segments *s, char *errbuf,
                           size_t errlen)
{
    const nw_phrases *p = nw_gazetteer_phrases(a->g);
    a->nmentions = 0;
    if (!nw_grow((void **)&a->covered, &a->cap_covered, s->ntokens + 1, 1))
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    memset(a->covered, 0, s->ntokens + 1);
    /* Only the tokens the screen lets through (and hashtags) can start an entity's name. */
    for (size_t i = 0; (i = nw_lookups_next(p, s, i)) < s->ntokens;) {
        const nw_token *tok = &s->tokens[i];
        if (tok->flags & NW_TOKEN_IN_URL) {
            i++;
            continue;
        }
        if (tok->flags & NW_TOKEN_HASHTAG) {
            size_t n = hashtag_parts(a, t, tok);
            for (size_t k = 0; k < n;) {
                nw_phrase_hit h;
                const nw_entity *e = NULL;
                if (nw_phrases_match_words(p, t, a->words, n, k, &h) &&
                    (e = hit_entity(a, t, &h)) != NULL) {
                    if (!add_mention(a, e, e->type, h.start, h.end, tok->sentence, (uint32_t)i, 1,
                                     1))
                        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
                    k += h.ntokens;
                } else {
                    k++;
                }
            }
            a->covered[i] = 1;
            i++;
            continue;
        }
        nw_phrase_hit h;
        const nw_entity *e = NULL;
        if (nw_phrases_match(p, t, s, i, &h) && (e = hit_entity(a, t, &h)) != NULL) {
            if (!add_mention(a, e, e->type, h.start, h.end, tok->sentence, (uint32_t)i, h.ntokens,
                             0))
                return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
            memset(a->covered + i, 1, h.ntokens);
            i += h.ntokens;
        } else {
            i++;
        }
    }
    name_ctx ctx = {a, s};
    if (nw_recognize_titled_names(a->rec, t, s, a->covered, on_titled_name, &ctx))
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    if (a->nmentions > 1) /* qsort(NULL, 0, ...) is undefined */
        qsort(a->mentions, a->nmentions, sizeof(nw_mention), compare_mentions);
    return NW_OK;
}

static bool english_function_word(const char *w, size_t len)
{
    /* Not "a", "on" or "an": French and other Latin-script languages have them too. */
    static const char *const words[] = {"the",  "of",   "and",  "to",  "in",   "is",   "was",
                                        "for",  "that", "with", "as",  "by",   "has",  "from",
                                        "at",   "this", "are",  "be",  "it",   "have", "were",
                                        "will", "said", "not",  "but", "been", "they", "which"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == len && memcmp(words[i], w, len) == 0)
            return true;
    return false;
}

/* Letters by script, and Latin words, of some tokens: what their language is decided on. */
typedef struct lang_counts {
    size_t ar, latin, other, latin_words, function_words;
} lang_counts;

static void add_counts(lang_counts *sum, const lang_counts *c)
{
    sum->ar += c->ar;
    sum->latin += c->latin;
    sum->other += c->other;
    sum->latin_words += c->latin_words;
    sum->function_words += c->function_words;
}

/* The counts of tokens [first, first + n). */
static lang_counts count_scripts(const nw_text *t, const nw_segments *s, size_t first, size_t n)
{
    size_t ar = 0, latin = 0, other = 0, latin_words = 0, function_words = 0;
    for (size_t i = first; i < first + n; i++) {
        const nw_token *tok = &s->tokens[i];
        if (tok->kind != NW_TOKEN_WORD || (tok->flags & (NW_TOKEN_IN_URL | NW_TOKEN_MENTION)))
            continue;
        size_t len = tok->end - tok->start;
        if (tok->script == NW_SCRIPT_ARABIC) {
            ar += len;
        } else if (tok->script == NW_SCRIPT_LATIN) {
            latin += len;
            latin_words++;
            function_words +=
                english_function_word(t->match + t->match_cp[tok->start],
                                      t->match_cp[tok->end] - t->match_cp[tok->start]);
        } else {
            other += len;
        }
    }
    return (lang_counts){ar, latin, other, latin_words, function_words};
}

/*
 * The shares of letters (in tenths) that make a text Arabic or English (at
 * least 8), or mixed (at least 2 of each); and the Latin words with no
 * English function word among them that make a Latin text another language.
 */
#define LANG_MAIN_TENTHS      8
#define LANG_MIXED_TENTHS     2
#define LANG_LATIN_WORDS_TEST 5

/* The language those counts say. */
static nw_lang detect(const lang_counts *c)
{
    size_t ar = c->ar, latin = c->latin, other = c->other;
    size_t latin_words = c->latin_words, function_words = c->function_words;
    size_t total = ar + latin + other;
    if (total == 0)
        return NW_LANG_OTHER;
    if (ar * 10 >= total * LANG_MAIN_TENTHS)
        return NW_LANG_AR;
    if (latin * 10 >= total * LANG_MAIN_TENTHS)
        return (latin_words >= LANG_LATIN_WORDS_TEST && function_words == 0) ? NW_LANG_OTHER
                                                                             : NW_LANG_EN;
    if (ar * 10 >= total * LANG_MIXED_TENTHS && latin * 10 >= total * LANG_MIXED_TENTHS)
        return NW_LANG_MIXED;
    return NW_LANG_OTHER;
}

nw_err nw_analyzer_run(nw_analyzer *a, const nw_doc *doc, const nw_analysis **out, char *errbuf,
                       size_t errlen)
{
    *out = NULL;
    size_t blen, tlen;
    const char *body = nw_doc_get(doc, NW_DOC_BODY, &blen);
    const char *title = nw_doc_get(doc, NW_DOC_TITLE, &tlen);
    if (body == NULL)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "the document has no body");
    nw_err err = nw_normalize(a->norm, body, blen, a->page, errbuf, errlen);
    if (err == NW_OK)
        err = nw_normalize(a->norm, title != NULL ? title : "", title != NULL ? tlen : 0, a->title,
                           errbuf, errlen);
    if (err == NW_OK)
        err = nw_segment(a->page, a->page_seg, errbuf, errlen);
    if (err == NW_OK)
        err = nw_furniture_find(a->f, a->page, a->page_seg, a->fr, errbuf, errlen);
    if (err != NW_OK)
        return err;
    const nw_text *clean = a->page;
    nw_segments *seg = a->page_seg;
    if (a->fr->nremove > 0) {
        err = nw_text_remove(a->page, a->fr->remove, a->fr->nremove, a->text, errbuf, errlen);
        if (err == NW_OK)
            err = nw_segment_after_removal(a->page, a->page_seg, a->fr->remove, a->fr->nremove,
                                           a->text, a->seg, errbuf, errlen);
        if (err != NW_OK)
            return err;
        clean = a->text;
        seg = a->seg;
    }
    /* Each token's lookup keys, once for the four indexes (gazetteer, titles, casualties, rules).
     */
    err = nw_lookups_prepare(a->lookups, clean, seg, errbuf, errlen);
    /* The recognisers' words are looked up at each token several times: once, here. */
    if (err == NW_OK)
        err = nw_lookups_memo(a->lookups, nw_recognizer_words(a->rec), clean, seg, errbuf, errlen);
    if (err == NW_OK)
        err = tag_entities(a, clean, seg, errbuf, errlen);
    if (err == NW_OK)
        err = nw_dates_find(clean, seg, &a->dates, errbuf, errlen);
    if (err == NW_OK)
        err = nw_recognize_casualty_list(a->rec, clean, seg, &a->casualties, errbuf, errlen);
    if (err != NW_OK)
        return err;

    if (!nw_grow((void **)&a->sent_lang, &a->cap_sent_lang, seg->nsentences + 1, 1))
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    /* Each sentence's language, and the document's from the sum (sentences hold every token). */
    lang_counts whole = {0, 0, 0, 0, 0};
    for (size_t i = 0; i < seg->nsentences; i++) {
        lang_counts c =
            count_scripts(clean, seg, seg->sentences[i].first_token, seg->sentences[i].ntokens);
        a->sent_lang[i] = (uint8_t)detect(&c);
        add_counts(&whole, &c);
    }
    if (seg->nsentences == 0)
        whole = count_scripts(clean, seg, 0, seg->ntokens);

    nw_analysis *r = &a->result;
    memset(r, 0, sizeof *r);
    r->text = clean;
    r->seg = seg;
    r->title = a->title;
    r->page = a->page;
    r->furniture = a->fr;
    r->lang = detect(&whole);
    r->sentence_lang = a->sent_lang;
    r->mentions = a->mentions;
    r->nmentions = a->nmentions;
    r->dates = &a->dates;
    r->casualty_list = a->casualties.items;
    r->ncasualty_list = a->casualties.n;
    nw_casualties_from_list(&a->casualties, NULL, &r->casualties);
    for (size_t i = 0; i < a->fr->nremove; i++) {
        /* Count whole lines removed (a stripped link is not a line). */
        const nw_span *sp = &a->fr->remove[i];
        bool line_start =
            sp->start == 0 || a->page->match[a->page->match_cp[sp->start - 1]] == '\n';
        if (line_start)
            for (uint32_t c = sp->start; c < sp->end; c++)
                r->furniture_lines +=
                    a->page->match[a->page->match_cp[c]] == '\n' || c + 1 == a->page->ncp;
    }
    *out = r;
    return NW_OK;
}

/* A JSON string of display code points [start, end) of t. */
static void slice(nw_jsonw *w, const nw_text *t, uint32_t start, uint32_t end)
{
    nw_jsonw_string(w, t->display + t->display_cp[start],
                    t->display_cp[end] - t->display_cp[start]);
}

void nw_span_write_members(nw_jsonw *w, const nw_text *t, const char *key, uint32_t start,
                           uint32_t end)
{
    nw_jsonw_key(w, key);
    slice(w, t, start, end);
    nw_jsonw_key(w, "start");
    nw_jsonw_int(w, start);
    nw_jsonw_key(w, "end");
    nw_jsonw_int(w, end);
}

/* {"<key>": text, "start": start, "end": end}, left open for more members. */
static void span_object_begin(nw_jsonw *w, const nw_text *t, const char *key, uint32_t start,
                              uint32_t end)
{
    nw_jsonw_object_begin(w);
    nw_span_write_members(w, t, key, start, end);
}

static void span_object(nw_jsonw *w, const nw_text *t, const char *key, uint32_t start,
                        uint32_t end)
{
    span_object_begin(w, t, key, start, end);
    nw_jsonw_object_end(w);
}

/*
 * How many times each entity has been listed so far (linked: by gazetteer
 * entry; unlinked: by surface), in an open-addressing table of 64-bit keys.
 * Without memory the table is empty and only the total bound applies.
 */
typedef struct mention_counts {
    uint64_t *keys;
    uint32_t *counts;
    size_t mask;
} mention_counts;

static mention_counts mention_counts_new(size_t nmentions)
{
    size_t cap = 16;
    while (cap < 2 * nmentions && cap < 2 * NW_ENRICHED_ENTITIES_MAX * 4)
        cap *= 2;
    mention_counts mc = {NULL, NULL, cap - 1};
    /* One block: the keys, then the counts. */
    mc.keys = calloc(cap, sizeof(uint64_t) + sizeof(uint32_t));
    if (mc.keys != NULL)
        mc.counts = (uint32_t *)(mc.keys + cap);
    return mc;
}

/* Counts m once more; returns its count (0 when the table cannot say). */
static size_t mention_counts_add(mention_counts *mc, const nw_mention *m, const nw_text *t)
{
    if (mc->keys == NULL)
        return 0;
    uint64_t key = m->entity != NULL
                       ? (uint64_t)(uintptr_t)m->entity
                       : nw_hash_table64(t->display + t->display_cp[m->start],
                                         t->display_cp[m->end] - t->display_cp[m->start]);
    key |= 1; /* 0 marks an empty slot */
    for (size_t i = (size_t)(key * 0x9E3779B97F4A7C15ull >> 20) & mc->mask, n = 0; n <= mc->mask;
         i = (i + 1) & mc->mask, n++) {
        if (mc->keys[i] == key)
            return ++mc->counts[i];
        if (mc->keys[i] == 0) {
            mc->keys[i] = key;
            return mc->counts[i] = 1;
        }
    }
    return 0; /* full: only the total bound applies */
}

static void write_entity(nw_jsonw *w, const nw_text *t, const nw_mention *m)
{
    nw_jsonw_object_begin(w);
    nw_jsonw_key(w, "id");
    nw_jsonw_cstring(w, m->entity ? m->entity->id : NULL);
    nw_jsonw_key(w, "type");
    nw_jsonw_cstring(w, nw_entity_type_name(m->type));
    nw_jsonw_key(w, "name");
    if (m->entity && m->entity->name[0])
        nw_jsonw_cstring(w, m->entity->name);
    else
        slice(w, t, m->start, m->end);
    nw_jsonw_key(w, "name_ar");
    if (m->entity && m->entity->name_ar[0])
        nw_jsonw_cstring(w, m->entity->name_ar);
    else if (m->entity)
        nw_jsonw_null(w);
    else
        slice(w, t, m->start, m->end);
    nw_jsonw_key(w, "surface");
    slice(w, t, m->start, m->end);
    nw_jsonw_key(w, "start");
    nw_jsonw_int(w, m->start);
    nw_jsonw_key(w, "end");
    nw_jsonw_int(w, m->end);
    nw_jsonw_key(w, "sentence");
    nw_jsonw_int(w, m->sentence);
    nw_jsonw_key(w, "linked");
    nw_jsonw_bool(w, m->entity != NULL);
    if (m->in_hashtag) {
        nw_jsonw_key(w, "in_hashtag");
        nw_jsonw_bool(w, true);
    }
    nw_jsonw_object_end(w);
}

/* The lists an enriched record bounds, in the order of its `omitted` member. */
enum {
    NW_OMIT_ENTITIES,
    NW_OMIT_DATES,
    NW_OMIT_HASHTAGS,
    NW_OMIT_MENTIONS,
    NW_OMIT_URLS,
    NW_OMIT_COUNT
};
static const char *const omit_names[NW_OMIT_COUNT] = {"entities", "dates", "hashtags", "mentions",
                                                      "urls"};

/* span_object for the n-th item of a list bounded by NW_ENRICHED_SPANS_MAX. */
static void bounded_span(nw_jsonw *w, const nw_text *t, const char *key, uint32_t start,
                         uint32_t end, size_t *n, size_t *omitted)
{
    if ((*n)++ >= NW_ENRICHED_SPANS_MAX)
        (*omitted)++;
    else
        span_object(w, t, key, start, end);
}

/* The members nw_analysis_write_members writes, for nw_analysis_to_json's check. */
static const char *const enriched_members[] = {
    "schema",    "id",       "source",    "url",      "published_at", "title",
    "lang",      "text",     "sentences", "entities", "casualties",   "dates",
    "page_date", "hashtags", "mentions",  "urls",     "tweets",       "furniture_lines_removed",
    "omitted",   NULL};

void nw_analysis_write_members(const nw_analysis *an, const nw_doc *doc, nw_jsonw *w)
{
    const nw_text *t = an->text;
    const nw_segments *s = an->seg;
    nw_jsonw_key(w, "schema");
    nw_jsonw_cstring(w, NW_ENRICHED_SCHEMA);
    nw_jsonw_key(w, "id");
    nw_doc_write_field(w, doc, NW_DOC_ID);
    nw_jsonw_key(w, "source");
    nw_doc_write_field(w, doc, NW_DOC_SOURCE);
    nw_jsonw_key(w, "url");
    nw_doc_write_field(w, doc, NW_DOC_URL);
    nw_jsonw_key(w, "published_at");
    nw_doc_write_field(w, doc, NW_DOC_PUBLISHED_AT);
    nw_jsonw_key(w, "title");
    nw_jsonw_string(w, an->title->display, an->title->display_len);
    nw_jsonw_key(w, "lang");
    nw_jsonw_cstring(w, nw_lang_name(an->lang));
    nw_jsonw_key(w, "text");
    nw_jsonw_string(w, t->display, t->display_len);

    nw_jsonw_key(w, "sentences");
    nw_jsonw_array_begin(w);
    for (size_t i = 0; i < s->nsentences; i++) {
        nw_jsonw_object_begin(w);
        nw_jsonw_key(w, "start");
        nw_jsonw_int(w, s->sentences[i].start);
        nw_jsonw_key(w, "end");
        nw_jsonw_int(w, s->sentences[i].end);
        nw_jsonw_key(w, "paragraph");
        nw_jsonw_int(w, s->sentences[i].paragraph);
        nw_jsonw_key(w, "lang");
        nw_jsonw_cstring(w, nw_lang_name((nw_lang)an->sentence_lang[i]));
        nw_jsonw_object_end(w);
    }
    nw_jsonw_array_end(w);

    size_t omitted[NW_OMIT_COUNT] = {0};
    nw_jsonw_key(w, "entities");
    nw_jsonw_array_begin(w);
    mention_counts mc = mention_counts_new(an->nmentions);
    size_t listed = 0;
    for (size_t i = 0; i < an->nmentions; i++) {
        const nw_mention *m = &an->mentions[i];
        if (listed >= NW_ENRICHED_ENTITIES_MAX ||
            mention_counts_add(&mc, m, t) > NW_ENRICHED_MENTIONS_PER_ENTITY) {
            omitted[NW_OMIT_ENTITIES]++;
            continue;
        }
        listed++;
        write_entity(w, t, m);
    }
    free(mc.keys);
    nw_jsonw_array_end(w);

    nw_jsonw_key(w, "casualties");
    nw_casualties_write(w, &an->casualties);

    nw_jsonw_key(w, "dates");
    nw_jsonw_array_begin(w);
    for (size_t i = 0; i < an->dates->ndates; i++) {
        const nw_date *d = &an->dates->dates[i];
        if (i >= NW_ENRICHED_SPANS_MAX) {
            omitted[NW_OMIT_DATES] = an->dates->ndates - i;
            break;
        }
        char iso[32];
        nw_date_iso(d, iso);
        span_object_begin(w, t, "text", d->start, d->end);
        nw_jsonw_key(w, "date");
        nw_jsonw_cstring(w, iso);
        nw_jsonw_object_end(w);
    }
    nw_jsonw_array_end(w);
    const nw_furniture_result *fr = an->furniture;
    nw_jsonw_key(w, "page_date");
    if (fr->page_date.end > fr->page_date.start)
        slice(w, an->page, fr->page_date.start, fr->page_date.end);
    else
        nw_jsonw_null(w);

    size_t n = 0;
    nw_jsonw_key(w, "hashtags");
    nw_jsonw_array_begin(w);
    for (size_t i = 0; i < s->ntokens; i++) {
        const nw_token *tok = &s->tokens[i];
        if ((tok->flags & NW_TOKEN_HASHTAG) && !(tok->flags & NW_TOKEN_IN_URL))
            bounded_span(w, t, "tag", tok->start - 1, tok->end, &n, &omitted[NW_OMIT_HASHTAGS]);
    }
    nw_jsonw_array_end(w);
    n = 0;
    nw_jsonw_key(w, "mentions");
    nw_jsonw_array_begin(w);
    for (size_t i = 0; i < s->ntokens; i++) {
        const nw_token *tok = &s->tokens[i];
        if (tok->flags & NW_TOKEN_MENTION)
            bounded_span(w, t, "handle", tok->start, tok->end, &n, &omitted[NW_OMIT_MENTIONS]);
    }
    nw_jsonw_array_end(w);
    n = 0;
    nw_jsonw_key(w, "urls");
    nw_jsonw_array_begin(w);
    for (size_t i = 0; i < s->nurls; i++)
        bounded_span(w, t, "url", s->urls[i].start, s->urls[i].end, &n, &omitted[NW_OMIT_URLS]);
    nw_jsonw_array_end(w);

    nw_jsonw_key(w, "tweets");
    nw_jsonw_array_begin(w);
    for (size_t i = 0; i < fr->ntweets; i++) {
        const nw_tweet *tw = &fr->tweets[i];
        nw_jsonw_object_begin(w);
        nw_jsonw_key(w, "author");
        slice(w, an->page, tw->author.start, tw->author.end);
        nw_jsonw_key(w, "handle");
        slice(w, an->page, tw->handle.start, tw->handle.end);
        nw_jsonw_key(w, "date");
        slice(w, an->page, tw->date.start, tw->date.end);
        nw_jsonw_object_end(w);
    }
    nw_jsonw_array_end(w);
    nw_jsonw_key(w, "furniture_lines_removed");
    nw_jsonw_int(w, (int64_t)an->furniture_lines);
    nw_jsonw_key(w, "omitted");
    nw_jsonw_object_begin(w);
    for (int k = 0; k < NW_OMIT_COUNT; k++) {
        nw_jsonw_key(w, omit_names[k]);
        nw_jsonw_int(w, (int64_t)omitted[k]);
    }
    nw_jsonw_object_end(w);
}

void nw_casualties_write(nw_jsonw *w, const nw_casualties *c)
{
    if (c->killed < 0 && c->wounded < 0) {
        nw_jsonw_null(w);
        return;
    }
    nw_jsonw_object_begin(w);
    nw_jsonw_key(w, "killed");
    if (c->killed >= 0)
        nw_jsonw_int(w, c->killed);
    else
        nw_jsonw_null(w);
    nw_jsonw_key(w, "wounded");
    if (c->wounded >= 0)
        nw_jsonw_int(w, c->wounded);
    else
        nw_jsonw_null(w);
    nw_jsonw_object_end(w);
}

nw_err nw_analysis_to_json(const nw_analysis *an, const nw_doc *doc, const char *extra_json,
                           char **out, size_t *outlen, char *errbuf, size_t errlen)
{
    *out = NULL;
    *outlen = 0;
    nw_jsonw *w = nw_jsonw_new();
    if (w == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    nw_jsonw_object_begin(w);
    nw_analysis_write_members(an, doc, w);
    nw_err err =
        nw_jsonw_end_object_copy(w, extra_json, enriched_members, out, outlen, errbuf, errlen);
    nw_jsonw_free(w);
    return err;
}
