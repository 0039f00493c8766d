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
 * one bit per index and no probe.
 *
 * Ownership: an nw_phrases owns copies of its phrases.
 */
#ifndef NEWSWATCH_PHRASES_H
#define NEWSWATCH_PHRASES_H

#include <stddef.h>
#include <stdint.h>

#include "newswatch/error.h"
#include "newswatch/segment.h"
#include "newswatch/text.h"

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
 * fills *hit, or 0 when no phrase starts there.
 */
int nw_phrases_match(const nw_phrases *p, const nw_text *t, const nw_segments *s, size_t i,
                     nw_phrase_hit *hit);

/*
 * A screen: the filters of first words of up to NW_SEGMENTS_SCREENED
 * indexes, merged into one table (bit d of each entry for indexes[d]), so
 * that nw_phrases_prepare tests a reading against all of them with one load.
 * Make it once the indexes are complete. It keeps pointers to them, not
 * copies: they must outlive it, unchanged. NULL with NW_EINVAL in errbuf for
 * more than NW_SEGMENTS_SCREENED indexes, or NW_ENOMEM.
 */
typedef struct nw_phrases_screen nw_phrases_screen;
nw_phrases_screen *nw_phrases_screen_new(const nw_phrases *const *indexes, size_t n, char *errbuf,
                                         size_t errlen);
/* Frees the screen (not its indexes); NULL is a no-op. */
void nw_phrases_screen_free(nw_phrases_screen *sc);

/*
 * Prepares, once per segmentation, what a lookup in any index needs from each
 * token: the word, its heads after proclitics, and their hashes. They are kept
 * in s until the next nw_segment; nw_phrases_match uses them when they are
 * there and computes the same for each call when not (same results either
 * way). The analyzer prepares each document once for its four indexes.
 *
 * With a screen (sc may be NULL), each token is also tested against its
 * indexes: a lookup in one of them, at a token none of whose readings passes
 * that index's filter of first words (most tokens), then ends at one bit kept
 * in s. Other indexes are looked up as before. sc must outlive that use of s.
 * NW_ENOMEM is the only error.
 */
nw_err nw_phrases_prepare(const nw_text *t, nw_segments *s, const nw_phrases_screen *sc,
                          char *errbuf, size_t errlen);

/*
 * The first token at or after i (s->ntokens when none) where
 * nw_phrases_match in p may find a phrase, or a hashtag (whose words are
 * looked up with nw_phrases_match_words): where s was prepared with a screen
 * of p, the tokens in between are certain to start none of p's phrases, and a
 * loop over the tokens can skip them. i itself when s has no screen of p.
 */
size_t nw_phrases_next(const nw_phrases *p, const nw_segments *s, size_t i);

/*
 * Looks every token of a prepared segmentation up in p once and keeps the
 * results in s (until the next nw_segment or memo): nw_phrases_match on p
 * then reads them. For an index that is consulted several times per token
 * (the recognisers' words: casualties, titled names, numbers). Needs
 * nw_phrases_prepare first; NW_ENOMEM is the only error.
 */
nw_err nw_phrases_memo(const nw_phrases *p, const nw_text *t, nw_segments *s, char *errbuf,
                       size_t errlen);

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
