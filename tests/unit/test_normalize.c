#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <unicode/utf8.h>

#include "newswatch/normalize.h"
#include "newswatch/utf8.h"
#include "testutil.h"

typedef struct fixture {
    nw_normalizer *n;
    nw_text *t;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[256];
    f->n = nw_normalizer_new(err, sizeof err);
    f->t = nw_text_new();
    *state = f;
    return f->n != NULL && f->t != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    nw_normalizer_free(f->n);
    nw_text_free(f->t);
    free(f);
    return 0;
}

/* Normalises in and checks both forms. */
static void check(fixture *f, const char *in, const char *display, const char *match)
{
    char err[256];
    assert_int_equal(nw_normalize(f->n, in, strlen(in), f->t, err, sizeof err), NW_OK);
    if (strcmp(f->t->display, display) != 0)
        fail_msg("display of '%s': got '%s', expected '%s'", in, f->t->display, display);
    if (strcmp(f->t->match, match) != 0)
        fail_msg("match of '%s': got '%s', expected '%s'", in, f->t->match, match);
    assert_int_equal(f->t->display_len, strlen(display));
    assert_int_equal(f->t->match_len, strlen(match));
}

static void tashkeel_superscript_alef_and_tatweel_are_deleted(void **state)
{
    fixture *f = *state;
    check(f, "بَغْدَادُ", "بغداد", "بغداد");
    check(f, "مُكافحة الإرهاب", "مكافحة الإرهاب", "مكافحه الارهاب");
    check(f, "بغـــداد", "بغداد", "بغداد");
    check(f, "هٰذا الرَّحْمٰن", "هذا الرحمن", "هذا الرحمن");
    check(f, "التفجيريْن اللذيْن", "التفجيرين اللذين", "التفجيرين اللذين");
    check(f, "ﷺ", "صلى الله عليه وسلم", "صلي الله عليه وسلم"); /* NFKC of a ligature */
}

static void letter_variants_fold_only_in_the_match_form(void **state)
{
    fixture *f = *state;
    check(f, "أإآٱا", "أإآٱا", "ااااا");
    check(f, "مستشفى", "مستشفى", "مستشفي");
    check(f, "العاصمة", "العاصمة", "العاصمه");
    check(f, "مؤتمر رئيس", "مؤتمر رئيس", "موتمر رييس");
    check(f, "کرکوک ایران", "کرکوک ایران", "كركوك ايران");
    check(f, "Baghdad BIAP ÉCOLE", "Baghdad BIAP ÉCOLE", "baghdad biap école");
}

static void digits_become_ascii(void **state)
{
    fixture *f = *state;
    check(f, "قتل ٣٢ وجرح ۱۱۰", "قتل 32 وجرح 110", "قتل 32 وجرح 110");
    check(f, "٢٠٢١/١/٢١", "2021/1/21", "2021/1/21");
}

static void controls_and_bidi_marks_are_dropped(void **state)
{
    fixture *f = *state;
    check(f,
          "\xE2\x80\x8F"
          "بغداد\xE2\x80\x8E",
          "بغداد", "بغداد");
    check(f,
          "a\xE2\x80\x8B"
          "b\xE2\x80\x8C"
          "c\xE2\x80\x8D"
          "d",
          "abcd", "abcd");
    check(f,
          "\xE2\x81\xA6x\xE2\x81\xA9\xE2\x80\xAA"
          "y\xE2\x80\xAC",
          "xy", "xy");
    check(f, "\xEF\xBB\xBFstart", "start", "start");
    check(f,
          "\xD8\x9C"
          "عربي",
          "عربي", "عربي");
    check(f, "soft\xC2\xADhyphen", "softhyphen", "softhyphen");
}

static void quotes_dashes_and_spaces_are_unified(void **state)
{
    fixture *f = *state;
    check(f, "“ثأر الشُهداء”", "\"ثأر الشهداء\"", "\"ثار الشهداء\"");
    check(f, "«قال» ‘x’", "\"قال\" 'x'", "\"قال\" 'x'");
    check(f, "yesterday’s", "yesterday's", "yesterday's");
    check(f, "أرض–أرض — 2020−2021", "أرض-أرض - 2020-2021", "ارض-ارض - 2020-2021");
    check(f,
          "a\xC2\xA0\xC2\xA0"
          "b\t\tc\xE2\x80\x83"
          "d",
          "a b c d", "a b c d");
    check(f, "  lead and trail  \n", "lead and trail", "lead and trail");
    check(f, "line one  \n  line two", "line one\nline two", "line one\nline two");
    check(f, "p1\n\n\n\n   \n\np2", "p1\n\np2", "p1\n\np2");
    check(f, "crlf\r\nline", "crlf\nline", "crlf\nline");
    check(f, "three…", "three...", "three...");
}

static void offsets_map_between_the_forms(void **state)
{
    fixture *f = *state;
    const char *in = "Éstanbul وإلى بغداد";
    char err[256];
    assert_int_equal(nw_normalize(f->n, in, strlen(in), f->t, err, sizeof err), NW_OK);
    nw_text *t = f->t;
    /* Same number of code points; the cp arrays bracket each one. */
    assert_int_equal(t->display_cp[t->ncp], t->display_len);
    assert_int_equal(t->match_cp[t->ncp], t->match_len);
    /* Find "بغداد" in the match form and read the same code points from display. */
    const char *at = strstr(t->match, "بغداد");
    assert_non_null(at);
    size_t mb = (size_t)(at - t->match), cp = 0;
    while (t->match_cp[cp] < mb)
        cp++;
    assert_memory_equal(t->display + t->display_cp[cp], "بغداد", strlen("بغداد"));
    assert_int_equal(t->display_cp[cp + 5] - t->display_cp[cp], strlen("بغداد"));
    /* "É" folds to "é": one code point for one (simple case folding). */
    assert_memory_equal(t->match, "é", 2);
    assert_int_equal(t->match_cp[1] - t->match_cp[0], 2);
}

static void invalid_utf8_is_an_error_with_the_offset(void **state)
{
    fixture *f = *state;
    char err[256];
    assert_int_equal(nw_normalize(f->n, "بغداد\xC0\xAF", 12, f->t, err, sizeof err), NW_EUTF8);
    assert_string_equal(err, "invalid UTF-8 at byte offset 10");
    assert_int_equal(nw_normalize(f->n, "ok\xED\xA0\x80", 5, f->t, err, sizeof err), NW_EUTF8);
    assert_string_equal(err, "invalid UTF-8 at byte offset 2");
    /*
     * The fast path validates as it decodes; the ICU path validates first.
     * Both name the same offset, wherever the bad byte is: after Arabic, after
     * a three- or four-byte character, after one that sends the text to ICU
     * (a combining accent), truncated at the end.
     */
    static const struct {
        const char *in;
        size_t offset;
    } cases[] = {
        {"\xFF", 0},
        {"بغداد \xD8", 11},
        {"بغداد\xD8x", 10},
        {"\xE2\x80\x94 dash \xC1\xBF", 9},
        {"\xF0\x9F\x98\x80\xF4\x90\x80\x80", 4},
        {"cafe\xCC\x81 \xFF", 7},
        {"abc\xE2\x82", 3},
        {"Windows-1256 \xC8\xDB\xCF\xC7\xCF", 13},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "invalid UTF-8 at byte offset %zu", cases[i].offset);
        for (int fast = 1; fast >= 0; fast--) {
            nw_normalizer_set_fast_path(f->n, fast);
            assert_int_equal(
                nw_normalize(f->n, cases[i].in, strlen(cases[i].in), f->t, err, sizeof err),
                NW_EUTF8);
            if (strcmp(err, want) != 0)
                fail_msg("case %zu (%s path): \"%s\", expected \"%s\"", i, fast ? "fast" : "ICU",
                         err, want);
        }
    }
    nw_normalizer_set_fast_path(f->n, true);
}

static void seeds_normalise_cleanly(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < TU_NSEEDS; i++) {
        char err[256];
        size_t len = 0;
        char *text = tu_read_seed(i, &len);
        assert_int_equal(nw_normalize(f->n, text, len, f->t, err, sizeof err), NW_OK);
        nw_text *t = f->t;
        assert_true(nw_utf8_valid(t->display, t->display_len, NULL));
        assert_true(nw_utf8_valid(t->match, t->match_len, NULL));
        /* No tashkeel, tatweel, bidi marks, NBSP or curly quotes left in either form. */
        static const char *const gone[] = {
            "\xD9\x8E",     "\xD9\x8F", "\xD9\x90",     "\xD9\x91",     "\xD9\x92", "\xD9\x80",
            "\xE2\x80\x8F", "\xC2\xA0", "\xE2\x80\x9C", "\xE2\x80\x9D", "  ",       "\n\n\n"};
        for (size_t g = 0; g < sizeof gone / sizeof gone[0]; g++) {
            assert_null(strstr(t->display, gone[g]));
            assert_null(strstr(t->match, gone[g]));
        }
        /* The match form has no hamza-carrying alef, alef maksura or teh marbuta. */
        assert_null(strstr(t->match, "أ"));
        assert_null(strstr(t->match, "إ"));
        assert_null(strstr(t->match, "ى"));
        assert_null(strstr(t->match, "ة"));
        free(text);
    }
}

/* The two forms and both offset arrays of a and b are the same. */
static void assert_same_text(const nw_text *a, const nw_text *b, const char *what)
{
    if (a->display_len != b->display_len || memcmp(a->display, b->display, a->display_len) != 0)
        fail_msg("%s: display differs:\n  fast: %s\n  ICU:  %s", what, a->display, b->display);
    if (a->match_len != b->match_len || memcmp(a->match, b->match, a->match_len) != 0)
        fail_msg("%s: match differs:\n  fast: %s\n  ICU:  %s", what, a->match, b->match);
    assert_int_equal(a->ncp, b->ncp);
    assert_memory_equal(a->display_cp, b->display_cp, (a->ncp + 1) * sizeof(uint32_t));
    assert_memory_equal(a->match_cp, b->match_cp, (a->ncp + 1) * sizeof(uint32_t));
    assert_memory_equal(a->cps, b->cps, (a->ncp + 1) * sizeof(int32_t));
    /* cps are the display form's code points. */
    for (size_t i = 0; i < a->ncp; i++) {
        int32_t off = (int32_t)a->display_cp[i], c;
        U8_NEXT_UNSAFE((const uint8_t *)a->display, off, c);
        if (c != a->cps[i])
            fail_msg("%s: code point %zu is U+%04X in display, U+%04X in cps", what, i, (unsigned)c,
                     (unsigned)a->cps[i]);
    }
    assert_int_equal(a->cps[a->ncp], 0);
}

/*
 * Normalises in[0..len) on both paths (the fast one into f->t, ICU's into
 * slow) and checks that they agree: the same result, and the same text or
 * the same error. Returns the result; the fast path is on again after.
 */
static nw_err both_paths(fixture *f, nw_text *slow, const char *in, size_t len, const char *what)
{
    char e1[256], e2[256];
    nw_normalizer_set_fast_path(f->n, true);
    nw_err a = nw_normalize(f->n, in, len, f->t, e1, sizeof e1);
    nw_normalizer_set_fast_path(f->n, false);
    nw_err b = nw_normalize(f->n, in, len, slow, e2, sizeof e2);
    nw_normalizer_set_fast_path(f->n, true);
    if (a != b || (a != NW_OK && strcmp(e1, e2) != 0))
        fail_msg("%s: fast %d (%s), ICU %d (%s)", what, a, a ? e1 : "", b, b ? e2 : "");
    if (a == NW_OK)
        assert_same_text(f->t, slow, what);
    return a;
}

/*
 * Texts NFKC leaves alone are mapped without ICU's normaliser; everything
 * else goes through it. Both paths must give the same text: every seed, and
 * strings that need NFKC (to compose, decompose or reorder) or are on the edge.
 */
static void fast_path_agrees_with_icu(void **state)
{
    fixture *f = *state;
    nw_text *slow = nw_text_new();
    static const char *const cases[] = {
        "بغداد الجديدة والكرادة",
        "بَغْدَادُ بغــــداد هٰذا ٣٢ ۴۵ \xE2\x80\x8F\xE2\x80\x8E\xEF\xBB\xBF",
        "ا\xD9\x94 \xD9\x88\xD9\x94 \xD9\x8A\xD9\x94 \xD8\xA7\xD9\x93 \xD8\xA7\xD9\x95", /* hamza,
                                                                                            madda */
        "\xD8\xA7\xD9\x8E\xD9\x94 alef fatha hamza-above", /* reordering */
        "\xD8\xB4\xD9\x91\xD9\x8E shadda fatha \xD8\xB4\xD9\x8E\xD9\x91 fatha shadda",
        "\xEF\xBB\xBB \xEF\xBA\x8D\xEF\xBB\x9F presentation forms \xEF\xB7\xBA", /* ﻻ ﺍﻟ ﷺ */
        "\xD9\xB5 high hamza alef, \xDB\x8C Persian yeh, \xDA\xA9 keheh",
        "Cafe\xCC\x81 cafe\xCC\x81 caf\xC3\xA9 \xC3\x85"
        "ngstr\xC3\xB6m \xE2\x84\xAB \xE2\x84\xAA",
        "fullwidth \xEF\xBC\xA1\xEF\xBC\xA2 \xEF\xBC\x82"
        "q\xEF\xBC\x82 and \xE2\x80\xA6 ellipsis",
        "\xC2\xA0nbsp\xC2\xA0\xC2\xA0"
        "and\t\ttabs\r\nCRLF\n\n\n\nlines \xE2\x80\xA8 sep",
        "\xC8\xBA folds longer, \xC4\xB0stanbul, \xC3\x9F, \xEF\xAC\x81 ligature",
        "emoji \xF0\x9F\x98\x80 \xF0\x9F\x87\xAE\xF0\x9F\x87\xB6 and \xF0\x9D\x90\x80 math bold",
        "\xEA\xB0\x80 hangul \xE1\x84\x80\xE1\x85\xA1"
        " jamo",
        "\xE2\x80\x9Cquotes\xE2\x80\x9D \xC2\xAB\xC2\xBB \xE2\x80\x94 dash \xE2\x88\x92 minus",
        "",
        " \n \n ",
    };
    size_t before = nw_normalizer_fast_texts(f->n);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(both_paths(f, slow, cases[i], strlen(cases[i]), cases[i]), NW_OK);
    /*
     * Arabic, ASCII, deleted marks, no-break spaces and common punctuation
     * (cases 0, 1, 4, 9, 13, 14, 15), and code points NFKC replaces by a few
     * such starters whatever surrounds them (6: high hamza alef; 8: fullwidth
     * forms and the ellipsis; 10: the fi ligature) take the fast path; the
     * rest need ICU: marks to compose or reorder (2, 3, 7), a replacement of
     * 18 code points (5: U+FDFA), supplementary and Hangul code points (11, 12).
     */
    assert_int_equal(nw_normalizer_fast_texts(f->n) - before, 10);
    for (size_t i = 0; i < TU_NSEEDS; i++) {
        size_t len = 0;
        char *text = tu_read_seed(i, &len);
        assert_int_equal(both_paths(f, slow, text, len, tu_seed_name(i)), NW_OK);
        /* Line by line too: most lines take the fast path even where the page does not. */
        for (char *line = text, *nl; *line != '\0'; line = nl + 1) {
            nl = strchr(line, '\n');
            if (nl == NULL)
                nl = line + strlen(line) - 1;
            size_t n = (size_t)(nl - line) + 1;
            assert_int_equal(both_paths(f, slow, line, n, tu_seed_name(i)), NW_OK);
        }
        free(text);
    }
    nw_text_free(slow);
}

/*
 * Random texts made of pieces the two paths treat differently (Arabic
 * letters and marks, ASCII, white space runs, three- and four-byte
 * characters, combining accents, presentation forms, invalid bytes): the
 * fast path and the ICU path give the same result, or the same error.
 */
static void random_texts_agree(void **state)
{
    fixture *f = *state;
    static const char *const valid[] = {
        "ب",
        "ا",
        "أ",
        "ة",
        "ى",
        "ي",
        "ؤ",
        "ك",
        "ی",
        "ک",
        "\xD9\x8E" /* fatha */,
        "\xD9\x80" /* tatweel */,
        "\xD9\xB0",
        "٣",
        "۴",
        "a",
        "Z",
        "7",
        " ",
        "  ",
        "\t",
        "\n",
        "\n\n\n",
        "\r\n",
        ".",
        "'",
        "`",
        "\x01",
        "\xC2\xA0",
        "\xC2\xAB",
        "\xC3\x89",
        "\xC8\xBA",
        "e\xCC\x81",
        "\xE2\x80\x94",
        "\xE2\x80\xA6",
        "\xE2\x80\x8F",
        "\xEF\xBB\xBF",
        "\xEF\xBB\xBB",
        "\xEF\xBC\xA1",
        "\xF0\x9F\x98\x80",
        "\xE2\x80\xA8",
    };
    static const char *const invalid[] = {"\xD8", "\xFF", "\xE2\x82", "\xED\xA0\x80", "\xC0\xAF"};
    const size_t nvalid = sizeof valid / sizeof valid[0];
    const size_t ninvalid = sizeof invalid / sizeof invalid[0];
    nw_text *slow = nw_text_new();
    char text[512];
    uint64_t seed = 0x6e7774657374ULL;
    size_t agreed_ok = 0, agreed_err = 0;
    for (int round = 0; round < 4000; round++) {
        size_t len = 0;
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int n = 1 + (int)((seed >> 33) % 40);
        for (int k = 0; k < n; k++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            /* One piece in 200 invalid: about one text in ten has one. */
            size_t r = (size_t)(seed >> 33) % 1000;
            const char *piece = r < ninvalid ? invalid[r] : valid[r % nvalid];
            size_t pl = strlen(piece);
            memcpy(text + len, piece, pl);
            len += pl;
        }
        char what[32];
        snprintf(what, sizeof what, "random text %d", round);
        if (both_paths(f, slow, text, len, what) == NW_OK)
            agreed_ok++;
        else
            agreed_err++;
    }
    /* Both outcomes were exercised. */
    assert_true(agreed_ok > 2000);
    assert_true(agreed_err > 100);
    nw_text_free(slow);
}

/*
 * Texts made of little but code points NFKC replaces by several (…, ligatures,
 * squared and parenthesised forms, fullwidth letters, ﷲ and ﷺ which grow the
 * most): both paths agree, and neither writes past its buffers (the
 * SANITIZE=1 build checks that).
 */
static void replacements_fit(void **state)
{
    fixture *f = *state;
    static const char *const pieces[] = {
        "\xE2\x80\xA6", "\xEF\xBB\xBB", "\xE3\x89\x90", "\xEF\xB7\xB2",
        "\xEF\xB7\xBA", "\xEF\xBC\xA1", "\xEF\xAC\x80", "\xE2\x91\xB4",
        "\xC7\x86",     "\xC2\xB2",     "\xE3\x8E\xA1",
    };
    nw_text *slow = nw_text_new();
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        size_t pl = strlen(pieces[i]), len = 0;
        char *text = malloc(3000 * (pl + 1) + 1);
        for (int k = 0; k < 3000; k++) {
            memcpy(text + len, pieces[i], pl);
            len += pl;
            if (k % 7 == 6)
                text[len++] = ' ';
        }
        assert_int_equal(both_paths(f, slow, text, len, pieces[i]), NW_OK);
        free(text);
    }
    nw_text_free(slow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tashkeel_superscript_alef_and_tatweel_are_deleted),
        cmocka_unit_test(letter_variants_fold_only_in_the_match_form),
        cmocka_unit_test(digits_become_ascii),
        cmocka_unit_test(controls_and_bidi_marks_are_dropped),
        cmocka_unit_test(quotes_dashes_and_spaces_are_unified),
        cmocka_unit_test(offsets_map_between_the_forms),
        cmocka_unit_test(invalid_utf8_is_an_error_with_the_offset),
        cmocka_unit_test(seeds_normalise_cleanly),
        cmocka_unit_test(fast_path_agrees_with_icu),
        cmocka_unit_test(random_texts_agree),
        cmocka_unit_test(replacements_fit),
    };
    return cmocka_run_group_tests_name("normalize", tests, setup, teardown);
}
