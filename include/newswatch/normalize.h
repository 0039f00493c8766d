/*
 * Text normalisation (ICU) for Arabic and English news.
 *
 * nw_normalize turns UTF-8 input into two strings with the same number of
 * code points, so that a code point offset means the same place in both:
 *  - display: NFKC; Arabic diacritics (tashkeel U+064B..U+065F, superscript
 *    alef U+0670, Quranic marks), tatweel (U+0640), zero-width and bidi
 *    controls (U+200B..U+200F, U+202A..U+202E, U+2060..U+2064, U+2066..U+2069,
 *    U+061C, U+FEFF, U+00AD) deleted; Arabic-Indic and Eastern Arabic-Indic
 *    digits mapped to ASCII; quotes to " and ', dashes to -, white space to
 *    one space (runs collapsed, lines trimmed, at most one blank line in a
 *    row).
 *  - match: display with أ إ آ ٱ folded to ا, ى to ي, ة to ه, ؤ to و, ئ to ي,
 *    Persian ک ی to ك ي, and letters case-folded (simple folding, one code
 *    point for one).
 * Offsets into either string can be converted between code points and bytes
 * with the cp_byte arrays.
 *
 * nw_text_remove cuts code point ranges (page furniture) out of a normalised
 * text, keeping both forms aligned. lib/normalize.c implements this header.
 *
 * Ownership: an nw_text owns its buffers and reuses them across calls; free it
 * with nw_text_free. An nw_normalizer holds ICU's NFKC instance and scratch
 * buffers; it is not thread-safe: use one per thread.
 */
#ifndef NEWSWATCH_NORMALIZE_H
#define NEWSWATCH_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "newswatch/error.h"

typedef struct nw_text {
    char *display;        /* UTF-8, NUL-terminated */
    char *match;          /* UTF-8, NUL-terminated */
    size_t display_len;   /* bytes */
    size_t match_len;     /* bytes */
    size_t ncp;           /* code points in each */
    uint32_t *display_cp; /* ncp + 1 entries: byte offset of code point i in display */
    uint32_t *match_cp;   /* ncp + 1 entries: byte offset of code point i in match */
    int32_t *cps;         /* ncp + 1 entries: the display form's code points, then 0 */
    size_t cap_display, cap_match, cap_cp; /* private: buffer capacities */
    struct nw_runs *runs; /* private to lib/ (lib/scan.h): what the segmenter reuses */
} nw_text;

/* A range of code points of a text. */
typedef struct nw_span {
    uint32_t start, end; /* code points */
} nw_span;

typedef struct nw_normalizer nw_normalizer;

/* An empty text (all zero). NULL when out of memory. */
nw_text *nw_text_new(void);
/* Frees the text and its buffers; NULL is a no-op. */
void nw_text_free(nw_text *t);

/* A normaliser; NULL with a message when ICU's NFKC data cannot be loaded. */
nw_normalizer *nw_normalizer_new(char *errbuf, size_t errlen);
/* Frees the normaliser; NULL is a no-op. */
void nw_normalizer_free(nw_normalizer *n);

/*
 * Normalises in[0..len) into out. Invalid UTF-8 is NW_EUTF8 naming the byte
 * offset; nothing is changed silently. Inputs over 256 MiB are NW_ETOOBIG.
 */
nw_err nw_normalize(nw_normalizer *n, const char *in, size_t len, nw_text *out, char *errbuf,
                    size_t errlen);

/*
 * nw_normalize maps texts whose code points NFKC leaves alone (Arabic, ASCII,
 * common punctuation) straight from UTF-8, and gives the rest to ICU's NFKC;
 * both paths give the same result. Turning the fast path off (tests compare
 * the two) sends every text through ICU.
 */
void nw_normalizer_set_fast_path(nw_normalizer *n, bool on);
/* How many texts took the fast path since the normaliser was made. */
size_t nw_normalizer_fast_texts(const nw_normalizer *n);

/*
 * The matching-form folding of one code point (after the display mapping):
 * what nw_normalize applies to each code point of display to get match.
 */
int32_t nw_fold_codepoint(int32_t c);

/*
 * Builds out from in, a normalised text (nw_normalize or nw_text_remove made
 * it), without the code point ranges in remove (sorted, not overlapping),
 * keeping the forms' invariants: lines trimmed, at most one blank line in a
 * row, no leading or trailing white space.
 */
nw_err nw_text_remove(const nw_text *in, const nw_span *remove, size_t nremove, nw_text *out,
                      char *errbuf, size_t errlen);

#endif
