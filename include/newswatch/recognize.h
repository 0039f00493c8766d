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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "newswatch/error.h"
#include "newswatch/phrases.h"
#include "newswatch/segment.h"
#include "newswatch/normalize.h"

typedef struct nw_recognizer nw_recognizer;

nw_recognizer *nw_recognizer_new(nw_normalizer *n, char *errbuf, size_t errlen);
/* Frees the recogniser; NULL is a no-op. */
void nw_recognizer_free(nw_recognizer *r);

/*
 * The index of the recognisers' words (each token is looked up there several
 * times: the analyzer looks each up once and keeps the result). Their stop
 * words are in an index of their own, looked up only after titles.
 */
const nw_phrases *nw_recognizer_words(const nw_recognizer *r);

/*
 * Casualty figures. A figure is a head count (digits or number words, not a
 * year, not followed by a unit or a counted thing: 3 rockets, 32 kilometres,
 * 21 January), or a singular or dual person noun right after an Arabic verb
 * or verbal noun (مقتل متعاقد: 1; مقتل جنديين: 2). Each figure belongs to one
 * word of killing or wounding, chosen in this order:
 *  - the word after it, over at most three other words and no punctuation,
 *    conjunction (and, و ...), negation or number, when that word takes the
 *    figure before it: a noun (32 قتيلا، 110 جرحى، 32 dead), or a verb
 *    (three were wounded, 32 people killed, 15 إصابة) that is not joined to
 *    the clause before by و or ف (وإصابة 73) and has no figure of its own
 *    after it (two bombers killed 32: the 32 is the verb's);
 *  - else the nearest verb, verbal noun or toll before it that takes a figure
 *    after it, at most four words before (قتل 32، أصيب أكثر من 110) or twelve
 *    for a toll (the death toll ... has reached 32; a toll of the wounded:
 *    حصيلة الجرحى ... 110, is wounded), when it is the first head count
 *    after that word (killed 3 in 2 separate attacks: 3). An English verb
 *    after was/were takes no figure after it (32 people were killed by 2
 *    bombers).
 * A word of killing or wounding after a negation (no, without, لم، دون،
 * عدم) takes no figure: "no casualties", "دون وقوع إصابات", and "no one was
 * killed" report nothing.
 */
typedef struct nw_casualty {
    int value;
    bool killed;         /* else wounded */
    uint32_t sentence;   /* index into the segments' sentences */
    uint32_t start, end; /* code points of the figure (a و or ف joined to digits excluded) */
} nw_casualty;

/*
 * Figures in text order. The caller owns the list: zero it before the first
 * use ({0}), pass it again for the next document (its items are reused and
 * grow by doubling), and free it with nw_casualty_list_free (items is
 * malloc'd: free(items) is the same).
 */
typedef struct nw_casualty_list {
    nw_casualty *items;
    size_t n, cap; /* cap is private */
} nw_casualty_list;

/* Frees the list's items and zeroes it; the struct itself is the caller's. NULL is a no-op. */
void nw_casualty_list_free(nw_casualty_list *l);

/*
 * Every casualty figure of the text, in text order, replacing what out held.
 * NW_ENOMEM is the only error (out then holds the figures found so far).
 */
nw_err nw_recognize_casualty_list(const nw_recognizer *r, const nw_text *t, const nw_segments *s,
                                  nw_casualty_list *out, char *errbuf, size_t errlen);

typedef struct nw_casualties {
    int killed, wounded;                        /* the highest figure reported; -1 when none */
    uint32_t killed_sentence, wounded_sentence; /* where that figure is (its first place) */
} nw_casualties;

/*
 * The highest killed and wounded figures of a list among the sentences i with
 * sentence_mask[i] != 0 (NULL: every sentence); the mask has an entry for
 * every sentence of the list's figures.
 */
void nw_casualties_from_list(const nw_casualty_list *l, const uint8_t *sentence_mask,
                             nw_casualties *out);

/*
 * The document's casualty figures: the same as nw_casualties_from_list of
 * nw_recognize_casualty_list with every sentence, without a list (it
 * allocates nothing).
 */
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

/*
 * The value of a number at token i and the tokens it spans: digits (1,000;
 * و or ف joined: و110), or number words up to 999 (خمسة وعشرين، ثلاثة عشر،
 * مئة وعشرة، ثلاثمئة; twenty-five, two hundred and five). -1 (and
 * *ntokens 0) when there is none; a decimal (3.5) is none.
 */
int nw_recognize_number(const nw_recognizer *r, const nw_text *t, const nw_segments *s, size_t i,
                        size_t *ntokens);

#endif
