/*
 * Rule-based recognisers that need no gazetteer entry: casualty figures
 * (killed and wounded, in digits or number words, Arabic or English) and
 * names of people introduced by a title or role (اللواء، الباحث، رئيس
 * الوزراء; General, spokesman, analyst ...).
 *
 * The word lists are built in (lib/recognize.c) and matched through the same
 * normalisation and clitic handling as the gazetteer.
 *
 * Ownership: an nw_recognizer owns its word indexes and is read-only after
 * creation (one may serve several threads).
 */
#ifndef NEWSWATCH_RECOGNIZE_H
#define NEWSWATCH_RECOGNIZE_H

#include <stddef.h>
#include <stdint.h>

#include "newswatch/error.h"
#include "newswatch/phrases.h"
#include "newswatch/segment.h"
#include "newswatch/text.h"

typedef struct nw_recognizer nw_recognizer;

nw_recognizer *nw_recognizer_new(nw_normalizer *n, char *errbuf, size_t errlen);
/* Frees the recogniser; NULL is a no-op. */
void nw_recognizer_free(nw_recognizer *r);

/*
 * The index of the recognisers' words (for nw_phrases_memo: each token is
 * looked up there several times). Their stop words are in an index of their
 * own, looked up only after titles.
 */
const nw_phrases *nw_recognizer_words(const nw_recognizer *r);

typedef struct nw_casualties {
    int killed, wounded;                        /* the highest figure reported; -1 when none */
    uint32_t killed_sentence, wounded_sentence; /* where that figure is */
} nw_casualties;

/* The document's casualty figures. */
void nw_recognize_casualties(const nw_recognizer *r, const nw_text *t, const nw_segments *s,
                             nw_casualties *out);

/*
 * A name after a title. covered[i] is non-zero for tokens already part of a
 * gazetteer entity (those are never taken as a new name). Calls found() for
 * each name with the tokens [first, first + n); stops and returns non-zero
 * when found() does.
 */
typedef int (*nw_name_cb)(void *ctx, size_t first, size_t n);
int nw_recognize_titled_names(const nw_recognizer *r, const nw_text *t, const nw_segments *s,
                              const uint8_t *covered, nw_name_cb found, void *ctx);

/* The value of a number at token i (digits or number words) and the tokens it spans. */
int nw_recognize_number(const nw_recognizer *r, const nw_text *t, const nw_segments *s, size_t i,
                        size_t *ntokens);

#endif
