/*
 * Internal to lib/: the speed machinery behind nw_phrases_match, owned by
 * lib/phrases.c (docs/PERFORMANCE.md, proposals 2, 3, 15-22).
 *
 * An nw_lookups belongs to one analyzer (one thread at a time). It is made
 * once over the indexes the analyzer consults at every token (its screen:
 * their filters of first words merged into one table, a bit per index), and
 * then, for each document, prepared on the one segmentation the analyzer
 * hands to the recognisers and the matcher:
 *  - nw_lookups_prepare computes each token's readings (the word, its heads
 *    after proclitics, the possessive) and their hashes once for every index,
 *    and tests them against the screen;
 *  - nw_lookups_memo looks every token up in one index once (the recognisers'
 *    words, read several times per token).
 * nw_lookups_prepare links the segmentation to the lookups (nw_segments'
 * private lookups pointer); nw_segment and nw_segment_after_removal unlink
 * it. While linked, nw_phrases_match on that segmentation reads what was
 * prepared: a screened index at a token whose bit is clear ends at that bit,
 * the memoised index reads its memo. The results are the same as without
 * (tests/unit/test_phrases.c and test_gazetteer.c compare them).
 *
 * Ownership: the lookups keep pointers to their indexes, not copies (they
 * must outlive it, unchanged), and own the per-document arrays.
 */
#ifndef NEWSWATCH_LIB_LOOKUPS_H
#define NEWSWATCH_LIB_LOOKUPS_H

#include <stddef.h>

#include "newswatch/error.h"
#include "newswatch/phrases.h"
#include "newswatch/segment.h"
#include "newswatch/normalize.h"

/* At most this many indexes in a screen (a byte per table entry, a bit per index). */
#define NW_LOOKUPS_SCREENED 8

typedef struct nw_lookups nw_lookups;

/*
 * Lookups screening indexes[0..n) (n may be 0: no screen, readings only).
 * NULL with NW_EINVAL in errbuf for more than NW_LOOKUPS_SCREENED indexes,
 * or NW_ENOMEM. Make it once the indexes are complete.
 */
nw_lookups *nw_lookups_new(const nw_phrases *const *indexes, size_t n, char *errbuf, size_t errlen);
/* Frees the lookups (not their indexes); NULL is a no-op. */
void nw_lookups_free(nw_lookups *l);

/*
 * Prepares each token of s (a segmentation of t) for every index, tests it
 * against the screen, and links s to l until the next segmentation of s or
 * the next nw_lookups_prepare of l. A hashtag's token stays a candidate for
 * every index (its words are looked up one by one). NW_ENOMEM is the only
 * error (s is then not linked).
 */
nw_err nw_lookups_prepare(nw_lookups *l, const nw_text *t, nw_segments *s, char *errbuf,
                          size_t errlen);

/*
 * Looks every token of s, prepared by l, up in p once and keeps the results
 * until the next prepare or memo: nw_phrases_match on p then reads them.
 * Nothing is kept when s is not prepared by l. NW_ENOMEM is the only error.
 */
nw_err nw_lookups_memo(nw_lookups *l, const nw_phrases *p, const nw_text *t, const nw_segments *s,
                       char *errbuf, size_t errlen);

/*
 * The first token at or after i (s->ntokens when none) where nw_phrases_match
 * in p may find a phrase, or a hashtag: when s is prepared with a screen of
 * p, the tokens in between are certain to start none of p's phrases and a
 * loop can skip them. i itself otherwise.
 */
size_t nw_lookups_next(const nw_phrases *p, const nw_segments *s, size_t i);

#endif
