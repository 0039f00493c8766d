/*
 * Sentences and words of a normalised text (nw_text), by the rules of
 * Unicode's text segmentation (UAX #29) for words and a subset of them for
 * sentences, reading ICU's Word_Break and Sentence_Break properties. The
 * tests check that the words and sentences agree with ICU's break iterators
 * on the seed documents; this segmenter is faster because it makes no
 * UTF-16 copy and allocates nothing per token: it reads the code points the
 * normaliser keeps (nw_text.cps).
 *
 * Offsets are code points into the text (the same in display and match).
 * A line break always ends a sentence; a blank line ends a paragraph.
 *
 * Ownership: an nw_segments owns its arrays and reuses them across calls.
 */
#ifndef NEWSWATCH_SEGMENT_H
#define NEWSWATCH_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "newswatch/error.h"
#include "newswatch/normalize.h"

enum nw_token_kind { NW_TOKEN_WORD = 1, NW_TOKEN_NUMBER = 2 };
enum nw_script { NW_SCRIPT_OTHER = 0, NW_SCRIPT_ARABIC = 1, NW_SCRIPT_LATIN = 2 };
enum nw_token_flag {
    NW_TOKEN_HASHTAG = 1, /* preceded by '#' */
    NW_TOKEN_MENTION = 2, /* starts with '@' (which ICU's word rules count as a letter) */
    NW_TOKEN_UPPER = 4,   /* starts with an upper-case letter in the display form */
    NW_TOKEN_IN_URL = 8,  /* inside a URL */
};

typedef struct nw_token {
    uint32_t start, end; /* code points */
    uint32_t sentence;   /* index into sentences */
    uint32_t paragraph;  /* 0-based */
    uint8_t kind;        /* nw_token_kind */
    uint8_t script;      /* nw_script of its first letter */
    uint8_t flags;       /* nw_token_flag bits */
} nw_token;

typedef struct nw_sentence {
    uint32_t start, end;           /* code points, trailing white space excluded */
    uint32_t first_token, ntokens; /* tokens[first_token .. first_token + ntokens) */
    uint32_t paragraph;
} nw_sentence;

typedef struct nw_segments {
    nw_token *tokens;
    size_t ntokens;
    nw_sentence *sentences;
    size_t nsentences;
    nw_span *urls; /* http(s)://..., www...., pic.twitter.com/... */
    size_t nurls;
    size_t cap_tokens, cap_sentences, cap_urls; /* private */
    /* Private to lib/ (lib/lookups.h): the analyzer's lookups prepared for these segments. */
    const struct nw_lookups *lookups;
} nw_segments;

nw_segments *nw_segments_new(void);
/* Frees the segments; NULL is a no-op. */
void nw_segments_free(nw_segments *s);

/* Segments t into s (replacing what s held). NW_ENOMEM is the only error. */
nw_err nw_segment(const nw_text *t, nw_segments *s, char *errbuf, size_t errlen);

/*
 * Segments out, which nw_text_remove made of page without the code point
 * ranges in remove, into s, from page_seg (page's segmentation). When every
 * range is whole lines (page furniture), page's tokens are kept, moved to
 * their place in out (a token never crosses a line), and only sentences and
 * URLs are found again; otherwise (a link cut out of a line) out is
 * segmented anew. The result is nw_segment(out, s)'s either way, in about
 * half its time for a page. NW_ENOMEM is the only error.
 */
nw_err nw_segment_after_removal(const nw_text *page, const nw_segments *page_seg,
                                const nw_span *remove, size_t nremove, const nw_text *out,
                                nw_segments *s, char *errbuf, size_t errlen);

#endif
