#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "newswatch/text.h"
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
}

static void seeds_normalise_cleanly(void **state)
{
    fixture *f = *state;
    static const char *const names[] = {
        "000_c7189a82eabcfedc", "001_36b4ca6c38791fab", "002_cf9858d6c968c6dd",
        "003_36327a287adc8b89", "004_6be975f03497fb3e",
    };
    for (size_t i = 0; i < 5; i++) {
        char path[256], err[256];
        snprintf(path, sizeof path, TU_SEEDS_DIR "/%s.txt", names[i]);
        size_t len = 0;
        char *text = tu_read(path, &len);
        assert_non_null(text);
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
    };
    return cmocka_run_group_tests_name("normalize", tests, setup, teardown);
}
