/*
 * The phrase index (lib/phrases.c) on its own: the Arabic a news text writes
 * a name in (diacritics, tatweel, alef, yeh and teh marbuta variants, bidi
 * marks, Arabic-Indic digits), the clitics it handles (و ف ب ك ل, the article,
 * لل for ل + ال) and those it must not split, phrases of several words,
 * English possessives, mentions and hashtags. Each text is looked up both
 * unprepared and prepared by lookups that screen the index (lib/lookups.h,
 * as the analyzer does): the results must be the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/normalize.h"
#include "newswatch/phrases.h"
#include "newswatch/segment.h"
#include "../../lib/lookups.h"

/* The phrases and their values. */
enum { BAGHDAD = 1, GHADAD, IRAQ, BIAP, AIRPORT, ERBIL, BASRA, MUSTAFA, HURRA, DIVISION, KADHIMI };
static const struct {
    const char *phrase;
    uint32_t value;
} phrases[] = {
    {"بغداد", BAGHDAD},    {"Baghdad", BAGHDAD},        {"غداد", GHADAD},
    {"العراق", IRAQ},      {"مطار بغداد الدولي", BIAP}, {"مطار بغداد", AIRPORT},
    {"أربيل", ERBIL},      {"البصرة", BASRA},           {"مصطفى", MUSTAFA},
    {"موقع الحرة", HURRA}, {"الفرقة 7", DIVISION},      {"Kadhimi", KADHIMI},
};

typedef struct fixture {
    nw_normalizer *n;
    nw_phrases *p;
    nw_lookups *lookups;
    nw_text *t;
    nw_segments *s;
} fixture;

static int teardown(void **state)
{
    fixture *f = *state;
    if (f == NULL)
        return 0;
    nw_lookups_free(f->lookups);
    nw_phrases_free(f->p);
    nw_normalizer_free(f->n);
    nw_text_free(f->t);
    nw_segments_free(f->s);
    free(f);
    *state = NULL;
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[256] = "out of memory";
    *state = f;
    if (f == NULL || (f->n = nw_normalizer_new(err, sizeof err)) == NULL ||
        (f->p = nw_phrases_new()) == NULL || (f->t = nw_text_new()) == NULL ||
        (f->s = nw_segments_new()) == NULL) {
        fprintf(stderr, "%s\n", err);
        teardown(state);
        return -1;
    }
    for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++) {
        if (nw_phrases_add(f->p, f->n, f->t, f->s, phrases[i].phrase, strlen(phrases[i].phrase),
                           phrases[i].value, err, sizeof err) != NW_OK) {
            fprintf(stderr, "%s\n", err);
            teardown(state);
            return -1;
        }
    }
    const nw_phrases *screened = f->p;
    if ((f->lookups = nw_lookups_new(&screened, 1, err, sizeof err)) == NULL) {
        fprintf(stderr, "%s\n", err);
        teardown(state);
        return -1;
    }
    return 0;
}

/* The display text of code points [start, end) in a static buffer. */
static const char *slice(const nw_text *t, uint32_t start, uint32_t end)
{
    static char buf[512];
    size_t a = t->display_cp[start], b = t->display_cp[end];
    snprintf(buf, sizeof buf, "%.*s", (int)(b - a), t->display + a);
    return buf;
}

/*
 * The phrase at token k of text, unprepared and prepared (they must agree):
 * 1 and *h, or 0.
 */
static int match_at(fixture *f, const char *text, size_t k, nw_phrase_hit *h)
{
    char err[256];
    assert_int_equal(nw_normalize(f->n, text, strlen(text), f->t, err, sizeof err), NW_OK);
    assert_int_equal(nw_segment(f->t, f->s, err, sizeof err), NW_OK);
    assert_true(k < f->s->ntokens);
    nw_phrase_hit plain;
    int r = nw_phrases_match(f->p, f->t, f->s, k, &plain);
    assert_int_equal(nw_lookups_prepare(f->lookups, f->t, f->s, err, sizeof err), NW_OK);
    int rp = nw_phrases_match(f->p, f->t, f->s, k, h);
    if (r != rp)
        fail_msg("'%s' token %zu: %d unprepared, %d prepared", text, k, r, rp);
    if (r) {
        assert_int_equal(plain.first, h->first);
        assert_int_equal(plain.ntokens, h->ntokens);
        assert_int_equal(plain.start, h->start);
        assert_int_equal(plain.end, h->end);
        assert_ptr_equal(plain.values, h->values);
    }
    return r;
}

/* Token k of text names the phrase of value (whose text, proclitics excluded, is name). */
static void expect(fixture *f, const char *text, size_t k, uint32_t value, const char *name)
{
    nw_phrase_hit h;
    if (!match_at(f, text, k, &h))
        fail_msg("'%s' token %zu: no phrase, expected '%s'", text, k, name);
    if (h.nvalues != 1 || h.values[0] != value || strcmp(slice(f->t, h.start, h.end), name) != 0)
        fail_msg("'%s' token %zu: '%s' (value %u), expected '%s' (%u)", text, k,
                 slice(f->t, h.start, h.end), h.values[0], name, value);
}

static void expect_none(fixture *f, const char *text, size_t k)
{
    nw_phrase_hit h;
    if (match_at(f, text, k, &h))
        fail_msg("'%s' token %zu: found '%s' (value %u), expected none", text, k,
                 slice(f->t, h.start, h.end), h.values[0]);
}

/* Diacritics, tatweel and bidi controls are gone in the matching form. */
static void spellings_are_folded(void **state)
{
    fixture *f = *state;
    expect(f, "بَغْدَادُ", 0, BAGHDAD, "بغداد");
    expect(f, "بغـــداد", 0, BAGHDAD, "بغداد");
    expect(f,
           "\xE2\x80\x8F"
           "بغداد"
           "\xE2\x80\x8E",
           0, BAGHDAD, "بغداد"); /* RLM, LRM */
    expect(f,
           "بغ\xE2\x80\x8C"
           "داد",
           0, BAGHDAD, "بغداد"); /* ZWNJ inside */
    /* Alef with hamza above or below, madda, wasla: أربيل is written all these ways. */
    expect(f, "اربيل", 0, ERBIL, "اربيل");
    expect(f, "إربيل", 0, ERBIL, "إربيل");
    expect(f, "آربيل", 0, ERBIL, "آربيل");
    /* Teh marbuta and heh, alef maksura and yeh, Persian yeh. */
    expect(f, "البصره", 0, BASRA, "البصره");
    expect(f, "مصطفي", 0, MUSTAFA, "مصطفي");
    expect(f, "مصطفی", 0, MUSTAFA, "مصطفی");
    /* Arabic-Indic and Eastern Arabic-Indic digits are ASCII digits. */
    expect(f, "الفرقة ٧", 0, DIVISION, "الفرقة 7");
    expect(f, "الفرقة ۷", 0, DIVISION, "الفرقة 7");
    /* Latin letter case. */
    expect(f, "BAGHDAD", 0, BAGHDAD, "BAGHDAD");
}

/* و ف ب ك ل, the article and their combinations before a name; the name excludes them. */
static void clitics_are_stripped(void **state)
{
    fixture *f = *state;
    expect(f, "وبغداد", 0, BAGHDAD, "بغداد");
    expect(f, "فبغداد", 0, BAGHDAD, "بغداد");
    expect(f, "ببغداد", 0, BAGHDAD, "بغداد");
    expect(f, "كبغداد", 0, BAGHDAD, "بغداد");
    expect(f, "لبغداد", 0, BAGHDAD, "بغداد");
    expect(f, "وببغداد", 0, BAGHDAD, "بغداد");
    expect(f, "والعراق", 0, IRAQ, "العراق");
    expect(f, "بالعراق", 0, IRAQ, "العراق");
    expect(f, "وبالعراق", 0, IRAQ, "العراق");
    /* لل is ل + ال whose alef is dropped: the name is what follows both lams. */
    expect(f, "للعراق", 0, IRAQ, "عراق");
    expect(f, "وللعراق", 0, IRAQ, "عراق");
    /* A whole word is never split: بغداد is not ب + غداد. */
    expect(f, "بغداد", 0, BAGHDAD, "بغداد");
    expect(f, "غداد", 0, GHADAD, "غداد");
    /* Letters that are not clitics, and clitics that leave fewer than two letters. */
    expect_none(f, "مبغداد", 0);
    expect_none(f, "تبغداد", 0);
    expect_none(f, "بغ", 0);
}

/* Phrases of several words: longest first, inside a sentence, over spaces and quotes. */
static void phrases_of_words(void **state)
{
    fixture *f = *state;
    nw_phrase_hit h;
    expect(f, "ولمطار بغداد الدولي", 0, BIAP, "مطار بغداد الدولي");
    assert_true(match_at(f, "ولمطار بغداد الدولي", 0, &h));
    assert_int_equal(h.ntokens, 3);
    expect(f, "مطار بغداد القديم", 0, AIRPORT, "مطار بغداد");
    expect(f, "نقل موقع \"الحرة\" أن", 1, HURRA, "موقع \"الحرة");
    /* A sentence ends the phrase: مطار alone is nothing, بغداد is found at its own token. */
    expect_none(f, "مطار. بغداد الدولي", 0);
    expect(f, "مطار. بغداد الدولي", 1, BAGHDAD, "بغداد");
    /* Only white space and quotes between words: a comma breaks the phrase. */
    expect_none(f, "موقع، الحرة", 0);
}

/* English possessives and mentions: the name without 's or '@'. */
static void possessives_and_mentions(void **state)
{
    fixture *f = *state;
    expect(f, "Baghdad's airport", 0, BAGHDAD, "Baghdad");
    expect(f, "said @Kadhimi today", 1, KADHIMI, "Kadhimi");
    expect_none(f, "Baghdadi", 0);
}

/* A hashtag's words: split at '_' and at a capital after a lower-case letter. */
static void hashtag_words(void **state)
{
    fixture *f = *state;
    char err[256];
    static const char text[] = "#BaghdadBombing و #العراق_الآن و #مطار_بغداد_الدولي";
    assert_int_equal(nw_normalize(f->n, text, strlen(text), f->t, err, sizeof err), NW_OK);
    assert_int_equal(nw_segment(f->t, f->s, err, sizeof err), NW_OK);
    nw_word w[8];
    size_t tags = 0;
    for (size_t k = 0; k < f->s->ntokens; k++) {
        const nw_token *tok = &f->s->tokens[k];
        if (!(tok->flags & NW_TOKEN_HASHTAG))
            continue;
        size_t n = nw_phrases_hashtag_words(f->t, tok, w, 8);
        nw_phrase_hit h;
        if (tags == 0) {
            assert_int_equal(n, 2);
            assert_string_equal(slice(f->t, w[0].start, w[0].end), "Baghdad");
            assert_string_equal(slice(f->t, w[1].start, w[1].end), "Bombing");
            assert_int_equal(nw_phrases_match_words(f->p, f->t, w, n, 0, &h), 1);
            assert_int_equal(h.values[0], BAGHDAD);
            assert_int_equal(nw_phrases_match_words(f->p, f->t, w, n, 1, &h), 0);
        } else if (tags == 1) {
            assert_int_equal(n, 2);
            assert_int_equal(nw_phrases_match_words(f->p, f->t, w, n, 0, &h), 1);
            assert_int_equal(h.values[0], IRAQ);
        } else {
            /* The words of a hashtag make phrases of several words too. */
            assert_int_equal(n, 3);
            assert_int_equal(nw_phrases_match_words(f->p, f->t, w, n, 0, &h), 1);
            assert_int_equal(h.values[0], BIAP);
            assert_int_equal(h.ntokens, 3);
        }
        tags++;
    }
    assert_int_equal(tags, 3);
    /* At most max words are written. */
    assert_int_equal(nw_phrases_hashtag_words(f->t, &f->s->tokens[0], w, 1), 1);
}

/* Adding: the same phrase twice is one phrase with both values; empty and too long are refused. */
static void adding(void **state)
{
    fixture *f = *state;
    char err[256];
    nw_phrases *p = nw_phrases_new();
    assert_int_equal(
        nw_phrases_add(p, f->n, f->t, f->s, "بغداد", strlen("بغداد"), 1, err, sizeof err), NW_OK);
    assert_int_equal(
        nw_phrases_add(p, f->n, f->t, f->s, "بَغداد", strlen("بَغداد"), 2, err, sizeof err), NW_OK);
    assert_int_equal(
        nw_phrases_add(p, f->n, f->t, f->s, "بغداد", strlen("بغداد"), 2, err, sizeof err), NW_OK);
    assert_int_equal(nw_phrases_count(p), 1);
    static const char text[] = "في بغداد";
    assert_int_equal(nw_normalize(f->n, text, strlen(text), f->t, err, sizeof err), NW_OK);
    assert_int_equal(nw_segment(f->t, f->s, err, sizeof err), NW_OK);
    nw_phrase_hit h;
    assert_int_equal(nw_phrases_match(p, f->t, f->s, 1, &h), 1);
    assert_int_equal(h.nvalues, 2);
    assert_int_equal(h.values[0], 1);
    assert_int_equal(h.values[1], 2);
    assert_int_equal(nw_phrases_add(p, f->n, f->t, f->s, " ، ", strlen(" ، "), 3, err, sizeof err),
                     NW_EINVAL);
    assert_non_null(strstr(err, "has no words"));
    static const char many[] = "a b c d e f g h i j k l m";
    assert_int_equal(nw_phrases_add(p, f->n, f->t, f->s, many, strlen(many), 3, err, sizeof err),
                     NW_EINVAL);
    assert_non_null(strstr(err, "more than 12 words"));
    /* Invalid UTF-8 never reaches the index: the normaliser refuses it. */
    assert_int_equal(nw_phrases_add(p, f->n, f->t, f->s, "\xD8", 1, 3, err, sizeof err), NW_EUTF8);
    assert_int_equal(nw_phrases_count(p), 1);
    nw_phrases_free(p);
    nw_phrases_free(NULL);
}

/*
 * The lookups: a token none of whose readings can start a phrase is skipped
 * by nw_lookups_next, a hashtag never is, and a new segmentation unlinks
 * them (lookups then computed again, same results).
 */
static void lookups_skip_and_unlink(void **state)
{
    fixture *f = *state;
    char err[256];
    static const char text[] = "قال المتحدث إن الوضع في وبغداد هادئ #وسم اليوم";
    assert_int_equal(nw_normalize(f->n, text, strlen(text), f->t, err, sizeof err), NW_OK);
    assert_int_equal(nw_segment(f->t, f->s, err, sizeof err), NW_OK);
    assert_null(f->s->lookups);
    assert_int_equal(nw_lookups_next(f->p, f->s, 0), 0); /* not prepared: nothing skipped */
    assert_int_equal(nw_lookups_prepare(f->lookups, f->t, f->s, err, sizeof err), NW_OK);
    assert_ptr_equal(f->s->lookups, f->lookups);
    size_t baghdad = 5, tag = 7;
    assert_string_equal(slice(f->t, f->s->tokens[baghdad].start, f->s->tokens[baghdad].end),
                        "وبغداد");
    assert_true(f->s->tokens[tag].flags & NW_TOKEN_HASHTAG);
    assert_int_equal(nw_lookups_next(f->p, f->s, 0), baghdad);
    assert_int_equal(nw_lookups_next(f->p, f->s, baghdad + 1), tag);
    assert_int_equal(nw_lookups_next(f->p, f->s, tag + 1), f->s->ntokens);
    /* A memo of the index: the same hits. */
    assert_int_equal(nw_lookups_memo(f->lookups, f->p, f->t, f->s, err, sizeof err), NW_OK);
    nw_phrase_hit h;
    assert_int_equal(nw_phrases_match(f->p, f->t, f->s, baghdad, &h), 1);
    assert_int_equal(h.values[0], BAGHDAD);
    assert_int_equal(nw_phrases_match(f->p, f->t, f->s, 0, &h), 0);
    /* Another index is not screened by these lookups: never skipped. */
    nw_phrases *other = nw_phrases_new();
    assert_int_equal(nw_lookups_next(other, f->s, 0), 0);
    nw_phrases_free(other);
    assert_int_equal(nw_segment(f->t, f->s, err, sizeof err), NW_OK);
    assert_null(f->s->lookups);
    assert_int_equal(nw_phrases_match(f->p, f->t, f->s, baghdad, &h), 1);
    assert_int_equal(h.values[0], BAGHDAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spellings_are_folded),    cmocka_unit_test(clitics_are_stripped),
        cmocka_unit_test(phrases_of_words),        cmocka_unit_test(possessives_and_mentions),
        cmocka_unit_test(hashtag_words),           cmocka_unit_test(adding),
        cmocka_unit_test(lookups_skip_and_unlink),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
