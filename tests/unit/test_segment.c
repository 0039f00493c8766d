#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/ustring.h>

#include "newswatch/segment.h"
#include "newswatch/text.h"
#include "testutil.h"

typedef struct fixture {
    nw_normalizer *n;
    nw_text *t;
    nw_segments *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[256];
    f->n = nw_normalizer_new(err, sizeof err);
    f->t = nw_text_new();
    f->s = nw_segments_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    nw_normalizer_free(f->n);
    nw_text_free(f->t);
    nw_segments_free(f->s);
    free(f);
    return 0;
}

static void run(fixture *f, const char *in)
{
    char err[256];
    assert_int_equal(nw_normalize(f->n, in, strlen(in), f->t, err, sizeof err), NW_OK);
    assert_int_equal(nw_segment(f->t, f->s, err, sizeof err), NW_OK);
}

/* The display text of code points [start, end) in a static buffer. */
static const char *slice(const nw_text *t, uint32_t start, uint32_t end)
{
    static char buf[4096];
    size_t a = t->display_cp[start], b = t->display_cp[end];
    snprintf(buf, sizeof buf, "%.*s", (int)(b - a), t->display + a);
    return buf;
}

/* All tokens joined by '|'. */
static const char *tokens(fixture *f)
{
    static char buf[8192];
    buf[0] = '\0';
    for (size_t i = 0; i < f->s->ntokens; i++) {
        if (i > 0)
            strcat(buf, "|");
        strcat(buf, slice(f->t, f->s->tokens[i].start, f->s->tokens[i].end));
    }
    return buf;
}

static void words_follow_uax29(void **state)
{
    fixture *f = *state;
    run(f, "قتل 32 مدنيا، وأصيب أكثر من 110 أشخاص.");
    assert_string_equal(tokens(f), "قتل|32|مدنيا|وأصيب|أكثر|من|110|أشخاص");
    run(f, "yesterday’s toll: 1,000.5 people; U.S. forces e.g. Covid19 #تفجير_بغداد @RghadSaddam");
    assert_string_equal(tokens(f), "yesterday's|toll|1,000.5|people|U.S|forces|e.g|Covid19|"
                                   "تفجير_بغداد|@RghadSaddam");
    assert_int_equal(f->s->tokens[8].flags & NW_TOKEN_HASHTAG, NW_TOKEN_HASHTAG);
    assert_int_equal(f->s->tokens[9].flags & NW_TOKEN_MENTION, NW_TOKEN_MENTION);
    assert_int_equal(f->s->tokens[3].flags & NW_TOKEN_UPPER, 0);
    assert_int_equal(f->s->tokens[4].flags & NW_TOKEN_UPPER, NW_TOKEN_UPPER);
    assert_int_equal(f->s->tokens[0].script, NW_SCRIPT_LATIN);
    assert_int_equal(f->s->tokens[8].script, NW_SCRIPT_ARABIC);
    assert_int_equal(f->s->tokens[2].kind, NW_TOKEN_NUMBER);
    run(f, "كوفيد-19 و\"قدس 351\"");
    assert_string_equal(tokens(f), "كوفيد|19|و|قدس|351");
}

static void sentences_and_paragraphs(void **state)
{
    fixture *f = *state;
    run(f, "First sentence. Second one? Third!\nA new line\n\nNew paragraph. U.S. officials met "
           "in Baghdad. It costs 3.5 dollars. e.g. this stays.");
    static const char *const want[] = {
        "First sentence.",
        "Second one?",
        "Third!",
        "A new line",
        "New paragraph.",
        "U.S. officials met in Baghdad.",
        "It costs 3.5 dollars. e.g. this stays.",
    };
    /* A full stop followed by a lower-case word ends no sentence (SB8). */
    assert_int_equal(f->s->nsentences, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < f->s->nsentences; i++)
        assert_string_equal(slice(f->t, f->s->sentences[i].start, f->s->sentences[i].end), want[i]);
    assert_int_equal(f->s->sentences[3].paragraph, 0);
    assert_int_equal(f->s->sentences[4].paragraph, 1);
    run(f, "قال الكاظمي: \"الأمن ليس مجرد كلمة\". وأضاف أن العاصمة آمنة؟ نعم");
    assert_int_equal(f->s->nsentences, 3);
    assert_string_equal(slice(f->t, f->s->sentences[0].start, f->s->sentences[0].end),
                        "قال الكاظمي: \"الأمن ليس مجرد كلمة\".");
    /* Each token knows its sentence. */
    assert_int_equal(f->s->tokens[f->s->ntokens - 1].sentence, 2);
    assert_int_equal(f->s->sentences[2].ntokens, 1);
}

static void urls_are_found(void **state)
{
    fixture *f = *state;
    run(f,
        "Rest In Peace #BaghdadBombing pic.twitter.com/pHJaoVWfbf\nsee https://example.org/a?b=1). "
        "and www.ina.iq.");
    assert_int_equal(f->s->nurls, 3);
    assert_string_equal(slice(f->t, f->s->urls[0].start, f->s->urls[0].end),
                        "pic.twitter.com/pHJaoVWfbf");
    assert_string_equal(slice(f->t, f->s->urls[1].start, f->s->urls[1].end),
                        "https://example.org/a?b=1");
    assert_string_equal(slice(f->t, f->s->urls[2].start, f->s->urls[2].end), "www.ina.iq");
    for (size_t i = 0; i < f->s->ntokens; i++) {
        const char *w = slice(f->t, f->s->tokens[i].start, f->s->tokens[i].end);
        int in_url = (f->s->tokens[i].flags & NW_TOKEN_IN_URL) != 0;
        int expect = strcmp(w, "pic.twitter.com") == 0 || strcmp(w, "pHJaoVWfbf") == 0 ||
                     strcmp(w, "https") == 0 || strcmp(w, "example.org") == 0 ||
                     strcmp(w, "a") == 0 || strcmp(w, "b") == 0 || strcmp(w, "1") == 0 ||
                     strcmp(w, "www.ina.iq") == 0;
        if (in_url != expect)
            fail_msg("token '%s': in_url %d", w, in_url);
    }
}

/* Code point offset of UTF-16 offset u in s. */
static uint32_t cp_of(const UChar *s, int32_t u)
{
    return (uint32_t)u_countChar32(s, u);
}

/* Compares words and sentences with ICU's break iterators on the display text. */
static void agree_with_icu(fixture *f, const char *name)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t n16 = 0;
    u_strFromUTF8(NULL, 0, &n16, f->t->display, (int32_t)f->t->display_len, &st);
    UChar *u = malloc(((size_t)n16 + 1) * sizeof(UChar));
    st = U_ZERO_ERROR;
    u_strFromUTF8(u, n16 + 1, NULL, f->t->display, (int32_t)f->t->display_len, &st);
    assert_false(U_FAILURE(st));

    UBreakIterator *bi = ubrk_open(UBRK_WORD, "ar", u, n16, &st);
    assert_false(U_FAILURE(st));
    size_t k = 0;
    int32_t prev = ubrk_first(bi);
    for (int32_t b = ubrk_next(bi); b != UBRK_DONE; prev = b, b = ubrk_next(bi)) {
        if (ubrk_getRuleStatus(bi) < UBRK_WORD_NUMBER)
            continue;
        uint32_t s = cp_of(u, prev), e = cp_of(u, b);
        if (k >= f->s->ntokens)
            fail_msg("%s: ICU has more words, next '%s'", name, slice(f->t, s, e));
        const nw_token *t = &f->s->tokens[k++];
        if (t->start != s || t->end != e) {
            char mine[4096];
            snprintf(mine, sizeof mine, "%s", slice(f->t, t->start, t->end));
            fail_msg("%s: word %zu: ICU '%s', newswatch '%s'", name, k - 1, slice(f->t, s, e),
                     mine);
        }
    }
    if (k != f->s->ntokens)
        fail_msg("%s: newswatch has %zu words, ICU %zu", name, f->s->ntokens, k);
    ubrk_close(bi);

    bi = ubrk_open(UBRK_SENTENCE, "ar", u, n16, &st);
    k = 0;
    prev = ubrk_first(bi);
    for (int32_t b = ubrk_next(bi); b != UBRK_DONE; prev = b, b = ubrk_next(bi)) {
        uint32_t s = cp_of(u, prev), e = cp_of(u, b);
        /* Trim white space at both ends, as newswatch reports sentences. */
        const char *text = slice(f->t, s, e);
        size_t len = strlen(text);
        while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\n'))
            len--;
        if (len == 0)
            continue;
        if (k >= f->s->nsentences)
            fail_msg("%s: ICU has more sentences: '%.*s'", name, (int)len, text);
        const nw_sentence *sn = &f->s->sentences[k++];
        char icu[4096];
        snprintf(icu, sizeof icu, "%.*s", (int)len, text);
        const char *mine = slice(f->t, sn->start, sn->end);
        if (strcmp(icu, mine) != 0)
            fail_msg("%s: sentence %zu:\nICU      '%s'\nnewswatch '%s'", name, k - 1, icu, mine);
    }
    if (k != f->s->nsentences)
        fail_msg("%s: newswatch has %zu sentences, ICU %zu", name, f->s->nsentences, k);
    ubrk_close(bi);
    free(u);
}

static void seeds_agree_with_icu(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < TU_NSEEDS; i++) {
        char *text = tu_read_seed(i, NULL);
        run(f, text);
        assert_true(f->s->ntokens > 300);
        assert_true(f->s->nsentences > 10);
        agree_with_icu(f, tu_seed_name(i));
        free(text);
    }
    run(f, "yesterday’s toll: 1,000.5 people; U.S. forces e.g. Covid19 #تفجير_بغداد @x ...\n"
           "“ثأر الشُهداء” (رويترز) Dr. Smith arrived. He said: \"no.\" Then left!? ok");
    agree_with_icu(f, "mixed sample");
}

/*
 * Every field of every token, where common tokens (letters and digits of
 * Arabic and ASCII, ended by a space or punctuation) and the ones the general
 * rules take (Latin-1 capitals, mid-word punctuation, Katakana, marks) follow
 * each other, in a text long enough that the tokens' array grows several
 * times on the way.
 */
static void token_fields_everywhere(void **state)
{
    fixture *f = *state;
    static const char unit[] = "Ali met Émile in بغداد, U.S. #وسم_عاجل @user_1 カタカナ 3.5 x٣٤.\n"
                               "ثانية وثالثة: www.ina.iq/a Over 10 people.\n\n";
    struct {
        const char *text;
        uint8_t kind, script, flags;
    } want[] = {
        {"Ali", NW_TOKEN_WORD, NW_SCRIPT_LATIN, NW_TOKEN_UPPER},
        {"met", NW_TOKEN_WORD, NW_SCRIPT_LATIN, 0},
        {"Émile", NW_TOKEN_WORD, NW_SCRIPT_LATIN, NW_TOKEN_UPPER},
        {"in", NW_TOKEN_WORD, NW_SCRIPT_LATIN, 0},
        {"بغداد", NW_TOKEN_WORD, NW_SCRIPT_ARABIC, 0},
        {"U.S", NW_TOKEN_WORD, NW_SCRIPT_LATIN, NW_TOKEN_UPPER},
        {"وسم_عاجل", NW_TOKEN_WORD, NW_SCRIPT_ARABIC, NW_TOKEN_HASHTAG},
        {"@user_1", NW_TOKEN_WORD, NW_SCRIPT_LATIN, NW_TOKEN_MENTION},
        {"カタカナ", NW_TOKEN_WORD, NW_SCRIPT_OTHER, 0},
        {"3.5", NW_TOKEN_NUMBER, NW_SCRIPT_OTHER, 0},
        {"x34", NW_TOKEN_WORD, NW_SCRIPT_LATIN, 0},
        {"ثانية", NW_TOKEN_WORD, NW_SCRIPT_ARABIC, 0},
        {"وثالثة", NW_TOKEN_WORD, NW_SCRIPT_ARABIC, 0},
        {"www.ina.iq", NW_TOKEN_WORD, NW_SCRIPT_LATIN, NW_TOKEN_IN_URL},
        {"a", NW_TOKEN_WORD, NW_SCRIPT_LATIN, NW_TOKEN_IN_URL},
        {"Over", NW_TOKEN_WORD, NW_SCRIPT_LATIN, NW_TOKEN_UPPER},
        {"10", NW_TOKEN_NUMBER, NW_SCRIPT_OTHER, 0},
        {"people", NW_TOKEN_WORD, NW_SCRIPT_LATIN, 0},
    };
    const size_t per = sizeof want / sizeof want[0], reps = 6000;
    size_t len = strlen(unit);
    char *text = malloc(len * reps + 1);
    for (size_t r = 0; r < reps; r++)
        memcpy(text + r * len, unit, len);
    text[len * reps] = '\0';
    run(f, text);
    free(text);
    assert_int_equal(f->s->ntokens, per * reps);
    /*
     * Each unit is a paragraph of two lines and three sentences: "U.S." ends
     * one (no lower-case letter follows), a line break another.
     */
    assert_int_equal(f->s->nsentences, 3 * reps);
    for (size_t i = 0; i < f->s->ntokens; i++) {
        const nw_token *tok = &f->s->tokens[i];
        size_t r = i / per, k = i % per;
        const char *got = slice(f->t, tok->start, tok->end);
        if (strcmp(got, want[k].text) != 0 || tok->kind != want[k].kind ||
            tok->script != want[k].script || tok->flags != want[k].flags)
            fail_msg("token %zu: '%s' kind %d script %d flags %d; want '%s' %d %d %d", i, got,
                     tok->kind, tok->script, tok->flags, want[k].text, want[k].kind, want[k].script,
                     want[k].flags);
        size_t sentence = 3 * r + (k < 6 ? 0 : k < 11 ? 1 : 2);
        assert_int_equal(tok->sentence, sentence);
        assert_int_equal(tok->paragraph, r);
        const nw_sentence *st = &f->s->sentences[sentence];
        assert_true(st->first_token <= i && i < st->first_token + st->ntokens);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(words_follow_uax29),      cmocka_unit_test(sentences_and_paragraphs),
        cmocka_unit_test(urls_are_found),          cmocka_unit_test(seeds_agree_with_icu),
        cmocka_unit_test(token_fields_everywhere),
    };
    return cmocka_run_group_tests_name("segment", tests, setup, teardown);
}
