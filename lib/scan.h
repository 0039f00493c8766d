/*
 * Internal to lib/: what the segmenter needs to know of each code point,
 * given to the normaliser so that it can note the runs of letters and digits
 * while it writes the text (nw_text's runs), and the segmenter can take the
 * common tokens from them instead of looking at every code point again.
 */
#ifndef NEWSWATCH_LIB_SCAN_H
#define NEWSWATCH_LIB_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#include "newswatch/normalize.h"

enum {
    NW_SCAN_WORD = 1,        /* a letter or digit that joins the next (WB5, WB8-10), below U+0800 */
    NW_SCAN_OTHER_START = 2, /* any other code point a word may start with: the general rules */
};

/* The classes of code point c (the display form's). Thread-safe. */
uint8_t nw_scan_class(int32_t c);

/*
 * The runs the normaliser notes (nw_text's runs, v[0..n)): two entries per run, its
 * first code point and the one after its last. A run is a maximal run of
 * NW_SCAN_WORD code points, or, flagged NW_RUN_OTHER in its second entry, one
 * NW_SCAN_OTHER_START code point, where the segmenter's general rules take
 * over. Deleted code points are not in the text and split no run.
 */
#define NW_RUN_OTHER 0x80000000u

/* A text's runs (nw_text's private runs, owned by the text); ok is false when it was made
 * otherwise than by the normaliser's fast path. */
typedef struct nw_runs {
    uint32_t *v;
    size_t n, cap;
    bool ok;
} nw_runs;

/* The runs noted for t, or NULL when it has none (the segmenter then reads every code point). */
static inline const nw_runs *nw_text_runs(const nw_text *t)
{
    return t->runs != NULL && t->runs->ok ? t->runs : NULL;
}

_Static_assert(sizeof(wchar_t) == sizeof(int32_t), "code points are searched with wmemchr");

/*
 * The first i in [from, to) with cps[i] == c, or to. wchar_t is a 32-bit int
 * here, and glibc's wmemchr reads many code points at a time.
 */
static inline size_t nw_cps_find(const int32_t *cps, size_t from, size_t to, int32_t c)
{
    if (from >= to)
        return to;
    const wchar_t *hit = wmemchr((const wchar_t *)cps + from, (wchar_t)c, to - from);
    return hit != NULL ? (size_t)(hit - (const wchar_t *)cps) : to;
}

#endif
