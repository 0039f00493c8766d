/*
 * Page furniture: lines of a news page that are not news (share buttons,
 * read-also boxes, photo captions, comment policies, tweet attributions),
 * found by rules from a configuration file (config/furniture.conf documents
 * the format) and a few built-in recognisers.
 *
 * Ownership: an nw_furniture owns its rules and is read-only after loading
 * (one may serve several threads). An nw_furniture_result owns its arrays
 * and is reused across documents.
 */
#ifndef NEWSWATCH_FURNITURE_H
#define NEWSWATCH_FURNITURE_H

#include <stddef.h>
#include <stdint.h>

#include "newswatch/error.h"
#include "newswatch/segment.h"
#include "newswatch/normalize.h"

typedef struct nw_furniture nw_furniture;

/* An embedded tweet's attribution line: "— name (@handle) January 22, 2021". */
typedef struct nw_tweet {
    nw_span author, handle, date; /* code points of the text the rules read */
} nw_tweet;

typedef struct nw_furniture_result {
    nw_span *remove; /* code point ranges to remove, in order, not overlapping */
    size_t nremove;
    nw_tweet *tweets;
    size_t ntweets;
    nw_span page_date;             /* a date alone on the first line; start == end when none */
    size_t cap_remove, cap_tweets; /* private */
} nw_furniture_result;

/* Parses rules from text[0..len) named `file`; errors are "file:line: problem". */
nw_err nw_furniture_new(nw_normalizer *n, const char *file, const char *text, size_t len,
                        nw_furniture **out, char *errbuf, size_t errlen);
nw_err nw_furniture_new_from_file(nw_normalizer *n, const char *path, nw_furniture **out,
                                  char *errbuf, size_t errlen);
/* Frees the rules; NULL is a no-op. */
void nw_furniture_free(nw_furniture *f);
/* The number of rules. */
size_t nw_furniture_count(const nw_furniture *f);

nw_furniture_result *nw_furniture_result_new(void);
void nw_furniture_result_free(nw_furniture_result *r);

/*
 * Finds the furniture in t (segmented as s) and fills r. f may be NULL (then
 * only the built-in recognisers run). NW_ENOMEM is the only error.
 */
nw_err nw_furniture_find(const nw_furniture *f, const nw_text *t, const nw_segments *s,
                         nw_furniture_result *r, char *errbuf, size_t errlen);

#endif
