/*
 * An index of phrases (names, keywords) in the matching form, and the
 * matcher that finds them in a segmented text: longest match wins, phrases
 * stay inside one sentence and span only white space and quotes between their
 * words (موقع "الحرة" is the phrase موقع الحرة).
 *
 * Arabic proclitics are handled here, guided by the index: the first word of
 * a phrase may carry و ف ب ل ك, the article ال, or a combination (وال بال
 * لل وب ول فب وبال ...), but only when what remains (with ال restored after
 * لل) is the start of an indexed phrase. A word found whole is never split:
 * بغداد stays بغداد. English possessives ('s) are handled the same way.
 *
 * Cost: a lookup hashes the text's own words; it never loops over phrases,
 * and it allocates nothing. Each index keeps a filter of its phrases' first
 * words and one of their first two words, so that most words of a text cost
 * one bit per index and no probe. The analyzer goes further behind this
 * interface (lib/lookups.h): each token's readings computed once for every
 * index, a screen of the indexes it consults at every token, a memo of the
 * recognisers' words; nw_phrases_match gives the same results either way.
 *
 * Ownership: an nw_phrases owns copies of its phrases.
 */
#ifndef NEWSWATCH_PHRASES_H
#define NEWSWATCH_PHRASES_H

#include <stddef.h>
#include <stdint.h>

#include "newswatch/error.h"
#include "newswatch/segment.h"
#include "newswatch/normalize.h"

/* Longest phrase, in words. */
#define NW_PHRASE_MAX_WORDS 12
/* Longest phrase, in bytes of its matching form. */
#define NW_PHRASE_MAX_BYTES 400

typedef struct nw_phrases nw_phrases;

typedef struct nw_phrase_hit {
    uint32_t first, ntokens; /* tokens[first .. first + ntokens) */
    uint32_t start, end;     /* code points of the name, proclitics excluded */
    const uint32_t *values;  /* the values added for this phrase */
    uint32_t nvalues;
} nw_phrase_hit;

nw_phrases *nw_phrases_new(void);
/* Frees the index; NULL is a no-op. */
void nw_phrases_free(nw_phrases *p);

/*
 * Adds a phrase with a value. phrase is raw text (any spelling: it is
 * normalised and split into words with n, t and s, scratch objects the caller
 * owns). Adding the same phrase again adds the value to it (no duplicates).
 * NW_EINVAL when the phrase has no words or is too long.
 */
nw_err nw_phrases_add(nw_phrases *p, nw_normalizer *n, nw_text *t, nw_segments *s,
                      const char *phrase, size_t len, uint32_t value, char *errbuf, size_t errlen);

/* The number of distinct phrases. */
size_t nw_phrases_count(const nw_phrases *p);

/*
 * The longest indexed phrase starting at token i of s (a segmentation of t),
 * with proclitics stripped from its first word when needed. Returns 1 and
 * fills *hit, or 0 when no phrase starts there. When an analyzer prepared s,
 * the lookup reads what it prepared (same results, faster).
 */
int nw_phrases_match(const nw_phrases *p, const nw_text *t, const nw_segments *s, size_t i,
                     nw_phrase_hit *hit);

/*
 * Like nw_phrases_match over an explicit list of words (byte ranges of
 * t->match), for text that is not split by the segmenter, such as the parts
 * of a hashtag. Words must be in order; hit->first and ntokens index them.
 */
typedef struct nw_word {
    uint32_t start, end; /* code points */
} nw_word;
int nw_phrases_match_words(const nw_phrases *p, const nw_text *t, const nw_word *words,
                           size_t nwords, size_t i, nw_phrase_hit *hit);

/*
 * The words of a hashtag's token: split at '_' and where a lower-case Latin
 * letter is followed by a capital (#BaghdadBombing). Writes at most max words
 * and returns how many.
 */
size_t nw_phrases_hashtag_words(const nw_text *t, const nw_token *tok, nw_word *out, size_t max);

#endif
