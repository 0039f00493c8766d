#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/ustring.h>

#include "newswatch/segment.h"
#include "newswatch/normalize.h"
#include "testutil.h"
#include "../../lib/scan.h"

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

/*
 * The fast normaliser notes the runs of letters and digits as it writes a
 * text, and the segmenter takes the common tokens from them; a text that ICU
 * normalised has no runs and is taken a code point at a time. Both must give
 * the same segmentation, field by field.
 */
static void assert_same_segmentation(const nw_segments *a, const nw_segments *b, const char *what)
{
    if (a->ntokens != b->ntokens)
        fail_msg("%s: %zu tokens from the runs, %zu without", what, a->ntokens, b->ntokens);
    for (size_t i = 0; i < a->ntokens; i++) {
        const nw_token *x = &a->tokens[i], *y = &b->tokens[i];
        if (x->start != y->start || x->end != y->end || x->sentence != y->sentence ||
            x->paragraph != y->paragraph || x->kind != y->kind || x->script != y->script ||
            x->flags != y->flags)
            fail_msg("%s: token %zu: [%u, %u) sentence %u kind %d script %d flags %d from the "
                     "runs; [%u, %u) %u %d %d %d without",
                     what, i, x->start, x->end, x->sentence, x->kind, x->script, x->flags, y->start,
                     y->end, y->sentence, y->kind, y->script, y->flags);
    }
    assert_int_equal(a->nsentences, b->nsentences);
    assert_memory_equal(a->sentences, b->sentences, a->nsentences * sizeof(nw_sentence));
    assert_int_equal(a->nurls, b->nurls);
    if (a->nurls > 0)
        assert_memory_equal(a->urls, b->urls, a->nurls * sizeof(nw_span));
}

/* Segments text both ways and compares; false when the fast path did not take it (no runs). */
static bool check_runs(fixture *f, nw_normalizer *icu, nw_text *t2, nw_segments *s2,
                       const char *text, size_t len, const char *what)
{
    char err[256];
    assert_int_equal(nw_normalize(f->n, text, len, f->t, err, sizeof err), NW_OK);
    if (nw_text_runs(f->t) == NULL)
        return false;
    assert_int_equal(nw_segment(f->t, f->s, err, sizeof err), NW_OK);
    assert_int_equal(nw_normalize(icu, text, len, t2, err, sizeof err), NW_OK);
    assert_null(nw_text_runs(t2));
    assert_int_equal(t2->ncp, f->t->ncp);
    assert_memory_equal(t2->cps, f->t->cps, f->t->ncp * sizeof(int32_t));
    assert_int_equal(nw_segment(t2, s2, err, sizeof err), NW_OK);
    assert_same_segmentation(f->s, s2, what);
    return true;
}

static void runs_give_the_same_tokens(void **state)
{
    fixture *f = *state;
    char err[256];
    nw_normalizer *icu = nw_normalizer_new(err, sizeof err);
    nw_normalizer_set_fast_path(icu, false);
    nw_text *t2 = nw_text_new();
    nw_segments *s2 = nw_segments_new();
    for (size_t i = 0; i < TU_NSEEDS; i++) {
        size_t len;
        char *text = tu_read_seed(i, &len);
        assert_true(check_runs(f, icu, t2, s2, text, len, tu_seed_name(i)));
        free(text);
    }
    /*
     * Random texts of pieces where the rules differ: mid-word punctuation,
     * joiners (_ @ #), Latin-1 capitals, marks, code points of three bytes
     * (letters and not), deleted ones, ones NFKC replaces on the fast path
     * (… ﻻ), URLs, digits of both kinds, white space of every kind.
     */
    static const char *const pieces[] = {
        "بغداد",
        "والعراق",
        "ب",
        "x",
        "Ali",
        "U.S.",
        "e.g.",
        "É",
        "é",
        "_",
        "@",
        "#",
        ".",
        ",",
        "،",
        "؟",
        "!",
        "?",
        ":",
        "'",
        "’",
        "'s",
        "3",
        "3.5",
        "1,000",
        "٣٤",
        "2021",
        " ",
        " ",
        " ",
        "\n",
        "\n\n",
        "\t",
        "\xC2\xA0",
        "http://",
        "https://a.b/c",
        "www.",
        ".com/x",
        "pic.twitter.com/ab",
        "カタ",
        "中",
        "€",
        "\xE2\x80\x8F",
        "ـ",
        "\xD9\x8E",
        "\xCC\x81",
        "…",
        "ﻻ",
        "“",
        "”",
        "«",
        "»",
        "-",
        "—",
        "(",
        ")",
        "ذ",
        "١٠",
        "ab12",
        "_x",
    };
    const size_t npieces = sizeof pieces / sizeof pieces[0];
    char text[512], what[32];
    uint32_t seed = 12345;
    int with_runs = 0;
    for (int k = 0; k < 3000; k++) {
        size_t len = 0;
        int n = 1 + k % 40;
        for (int p = 0; p < n; p++) {
            seed = seed * 1103515245u + 12345u;
            const char *piece = pieces[(seed >> 16) % npieces];
            size_t pl = strlen(piece);
            if (len + pl >= sizeof text)
                break;
            memcpy(text + len, piece, pl);
            len += pl;
        }
        snprintf(what, sizeof what, "random text %d", k);
        with_runs += check_runs(f, icu, t2, s2, text, len, what);
    }
    /* A combining mark the normaliser keeps (U+0301) sends a text to ICU: the others have runs. */
    assert_true(with_runs > 1000);
    nw_segments_free(s2);
    nw_text_free(t2);
    nw_normalizer_free(icu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(words_follow_uax29),      cmocka_unit_test(sentences_and_paragraphs),
        cmocka_unit_test(urls_are_found),          cmocka_unit_test(seeds_agree_with_icu),
        cmocka_unit_test(token_fields_everywhere), cmocka_unit_test(runs_give_the_same_tokens),
    };
    return cmocka_run_group_tests_name("segment", tests, setup, teardown);
}
