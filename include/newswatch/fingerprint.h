/*
 * Document fingerprints for duplicate detection: has this report been seen
 * already, as an exact copy or as a near copy (a syndicated copy with another
 * headline, a paragraph dropped, a sentence or a figure changed)?
 *
 * A fingerprint is computed from an analysed document's clean text (page
 * furniture already removed) and its tokens:
 *  - exact: FNV-1a 64 of the tokens' match-form bytes joined by one space
 *    (0x20), i.e. nw_hash_fnv1a64 of "w1 w2 ... wn". White space, line and
 *    paragraph breaks, punctuation, diacritics, letter variants and case do
 *    not change it; numbers and URL words do.
 *  - minhash: MinHash of the set of word 3-shingles (NW_FINGERPRINT_SHINGLE
 *    consecutive tokens) over the match form, with two rules that make the
 *    near-duplicate measure tolerant of what syndication and updates change:
 *    every number token counts as the same word ("32" and "35" give the same
 *    shingles: a rising death toll does not make a report new here; whether
 *    a figure is new information is the alert logic's business), and words
 *    inside URLs are skipped (tracking parameters differ between copies).
 *    Each of the NW_MINHASH_K slots is the minimum over the shingles of an
 *    independent hash function (multiply-shift over a mixed 64-bit shingle
 *    hash), so two fingerprints agree in a slot with probability equal to the
 *    Jaccard similarity of their shingle sets.
 *  - nshingles: the number of shingle positions (not distinct shingles). A
 *    text of fewer than NW_FINGERPRINT_SHINGLE words (after skipping URL words)
 *    has one shingle of all its words; a text with no words has none.
 *
 * Why K = 64: the standard error of the estimate is sqrt(J(1 - J) / K). On
 * variants of the seed documents (tests/unit/test_fingerprint.c) the lowest
 * true Jaccard of a near copy is 0.80 and the highest of two different
 * reports 0.04 (two reports of the same statements in other words), so with
 * K = 64 an estimate crosses the threshold 0.5 with probability about 1e-8
 * on the near side (6 standard errors) and 1e-28 on the other; 128 slots
 * would double the state kept per document without changing a decision. The
 * multiply-shift family was checked to give the textbook mean and variance.
 * A fingerprint holds 268 bytes of data, NW_FINGERPRINT_TEXT_LEN (364)
 * characters as text.
 *
 * Why 3-shingles: on the same variants 2-shingles keep near copies as close
 * (lowest 0.82) but bring different reports closer (up to 0.07), single words
 * up to 0.17; 4-shingles separate a little more (0.025) but lose more to each
 * edit and need longer texts.
 *
 * Computing is linear in the text (K multiply-shifts per shingle, about
 * 50 us for a report of 540 words, a tenth of what the analyzer takes) and
 * allocates nothing: the shingle window is a fixed array on the stack.
 *
 * Compatibility: stored fingerprints are only comparable with fingerprints
 * computed by the same rules. Any change to K, the shingle width, the hash
 * functions or the token rules must change NW_FINGERPRINT_PREFIX, so that
 * old state is rejected by nw_fingerprint_decode instead of silently
 * compared.
 *
 * Ownership: nw_fingerprint is a plain value (no pointers); the functions
 * write only into what the caller passes and keep no state, so they are
 * thread-safe.
 */
#ifndef NEWSWATCH_FINGERPRINT_H
#define NEWSWATCH_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "newswatch/error.h"
#include "newswatch/segment.h"
#include "newswatch/normalize.h"

/* MinHash slots (see above for why 64). */
#define NW_MINHASH_K 64
/* Words per shingle. */
#define NW_FINGERPRINT_SHINGLE 3
/*
 * Estimated Jaccard similarity at or above which two texts are near
 * duplicates. On the seeds' variants the lowest estimate for a near copy is
 * 0.797 (margin 0.30) and the highest for different reports 0.062 (margin
 * 0.44). 0.5 means that about two thirds of each text's shingles are shared.
 */
#define NW_FINGERPRINT_THRESHOLD 0.5
/*
 * Texts with fewer shingle positions than this (about 18 words) are
 * duplicates only when exact: in a headline or a one-line alert one changed
 * word or figure may be the whole news, and a shared template ("Breaking:
 * explosion in central ...") would otherwise count as the same report.
 */
#define NW_FINGERPRINT_MIN_SHINGLES 16

typedef struct nw_fingerprint {
    uint64_t exact;                 /* hash of the clean match-form words */
    uint32_t minhash[NW_MINHASH_K]; /* MinHash over word shingles of the match form */
    uint32_t nshingles;             /* shingle positions */
} nw_fingerprint;

/*
 * Text form: NW_FINGERPRINT_PREFIX followed by the unpadded base64url
 * (RFC 4648 section 5) of exact (8 bytes), nshingles (4 bytes) and the K
 * minhash slots (4 bytes each), every integer little-endian.
 */
#define NW_FINGERPRINT_PREFIX "nwfp1:"
#define NW_FINGERPRINT_BYTES  (12 + 4 * NW_MINHASH_K)
/* Characters of the text form, without the terminating NUL. */
#define NW_FINGERPRINT_TEXT_LEN                                                                    \
    (sizeof NW_FINGERPRINT_PREFIX - 1 + (4 * NW_FINGERPRINT_BYTES + 2) / 3)
/* Buffer size nw_fingerprint_encode needs, with the NUL. */
#define NW_FINGERPRINT_TEXT_SIZE (NW_FINGERPRINT_TEXT_LEN + 1)

/*
 * The fingerprint of an analysed document: t and s are an nw_analysis's text
 * (clean, furniture removed) and seg (its tokens). On x86-64 processors with
 * AVX2 the MinHash is computed four hash functions at a time; the result is
 * the same, and NW_FINGERPRINT_PORTABLE set in the environment selects the
 * portable code (the tests compare both).
 */
void nw_fingerprint_compute(const nw_text *t, const nw_segments *s, nw_fingerprint *out);

/*
 * Estimated Jaccard similarity of the two shingle sets, 0..1: the fraction
 * of MinHash slots that agree. A text without shingles has similarity 1 with
 * an exact copy and 0 with anything else.
 */
double nw_fingerprint_similarity(const nw_fingerprint *a, const nw_fingerprint *b);

/*
 * 1 when b is a copy of a: the exact hashes are equal, or both texts have at
 * least NW_FINGERPRINT_MIN_SHINGLES shingles and their similarity is at least
 * NW_FINGERPRINT_THRESHOLD. 0 otherwise.
 */
int nw_fingerprint_is_duplicate(const nw_fingerprint *a, const nw_fingerprint *b);

/*
 * Writes the text form of f into out, NUL-terminated. outlen must be at
 * least NW_FINGERPRINT_TEXT_SIZE; with less, out receives "" (when outlen > 0)
 * so that no truncated fingerprint is ever stored.
 */
void nw_fingerprint_encode(const nw_fingerprint *f, char *out, size_t outlen);

/*
 * Parses s[0..len) (the text form, no NUL needed) into out. Anything else
 * (another prefix or version, a wrong length, a character outside base64url,
 * non-zero padding bits) is NW_EINVAL with a message naming the offset;
 * out is then unchanged.
 */
nw_err nw_fingerprint_decode(const char *s, size_t len, nw_fingerprint *out, char *errbuf,
                             size_t errlen);

#endif
