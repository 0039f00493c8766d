#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "newswatch/utf8.h"
#include "testutil.h"

#define BYTES(s) (s), sizeof(s) - 1

static void valid_inputs_pass(void **state)
{
    (void)state;
    assert_true(nw_utf8_valid(BYTES(""), NULL));
    assert_true(nw_utf8_valid(BYTES("plain ASCII, long enough for the fast path"), NULL));
    assert_true(nw_utf8_valid(BYTES("بغداد"), NULL));
    /* tashkeel, tatweel, superscript alef, Arabic-Indic digits, bidi marks */
    assert_true(nw_utf8_valid(BYTES("بَغْدَاد بغـــداد هٰذا ٣٢ \xE2\x80\x8F"), NULL));
    assert_true(nw_utf8_valid(BYTES("\xF0\x9F\x98\x80 emoji and U+10FFFF \xF4\x8F\xBF\xBF"), NULL));
    assert_true(nw_utf8_valid("a\0b", 3, NULL));             /* NUL is U+0000 */
    assert_true(nw_utf8_valid(BYTES("\xED\x9F\xBF"), NULL)); /* U+D7FF, below the surrogates */
}

static void invalid_inputs_name_the_offset(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len, offset;
        const char *why;
    } cases[] = {
        {BYTES("abc\x80"), 3, "lone continuation byte"},
        {BYTES("\xC0\x80"), 0, "overlong NUL"},
        {BYTES("\xC1\xBF"), 0, "overlong C1"},
        {BYTES("ab\xE0\x80\x80"), 2, "overlong three-byte"},
        {BYTES("\xF0\x80\x80\x80"), 0, "overlong four-byte"},
        {BYTES("x\xED\xA0\x80"), 1, "surrogate U+D800"},
        {BYTES("\xF4\x90\x80\x80"), 0, "above U+10FFFF"},
        {BYTES("\xF5\x80\x80\x80"), 0, "F5 lead byte"},
        {BYTES("\xFF"), 0, "FF byte"},
        {BYTES("بغداد\xD8"), 10, "truncated at the end"},
        {BYTES("abcdefghijklmnop\xE2\x82"), 16, "truncated after the fast path"},
        {BYTES("\xE2\x28\xA1"), 0, "bad second byte"},
        {BYTES("Windows-1256 \xC8\xDB\xCF\xC7\xCF"), 13, "legacy Arabic code page"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t off = 12345;
        if (nw_utf8_valid(cases[i].bytes, cases[i].len, &off))
            fail_msg("accepted: %s", cases[i].why);
        if (off != cases[i].offset)
            fail_msg("%s: offset %zu, expected %zu", cases[i].why, off, cases[i].offset);
    }
}

/* nw_utf8_sequence steps through valid text and stops where validation fails. */
static void sequence_lengths(void **state)
{
    (void)state;
    assert_int_equal(nw_utf8_sequence("a", 1), 1);
    assert_int_equal(nw_utf8_sequence("\0", 1), 1);
    assert_int_equal(nw_utf8_sequence("ب", 2), 2);
    assert_int_equal(nw_utf8_sequence("ب", 1), 0); /* truncated */
    assert_int_equal(nw_utf8_sequence("\xE2\x80\x94", 3), 3);
    assert_int_equal(nw_utf8_sequence("\xE2\x80\x94", 2), 0);
    assert_int_equal(nw_utf8_sequence("\xF0\x9F\x98\x80", 4), 4);
    assert_int_equal(nw_utf8_sequence("\xED\x9F\xBF", 3), 3); /* U+D7FF */
    assert_int_equal(nw_utf8_sequence("\xED\xA0\x80", 3), 0); /* U+D800 */
    assert_int_equal(nw_utf8_sequence("\xC0\x80", 2), 0);
    assert_int_equal(nw_utf8_sequence("\x80", 1), 0);
    /* Stepping through the invalid cases stops at the offset validation names. */
    const char *s = "ok بغداد \xE2\x80\x94 \xF0\x9F\x98\x80 \xE0\x80\x80";
    size_t len = strlen(s), i = 0, n, bad;
    while (i < len && (n = nw_utf8_sequence(s + i, len - i)) > 0)
        i += n;
    assert_false(nw_utf8_valid(s, len, &bad));
    assert_int_equal(i, bad);
}

static void truncate_keeps_whole_characters(void **state)
{
    (void)state;
    const char *s = "بغداد"; /* 5 two-byte letters */
    assert_int_equal(nw_utf8_truncate(s, 10, 20), 10);
    assert_int_equal(nw_utf8_truncate(s, 10, 10), 10);
    assert_int_equal(nw_utf8_truncate(s, 10, 5), 4);
    assert_int_equal(nw_utf8_truncate(s, 10, 4), 4);
    assert_int_equal(nw_utf8_truncate(s, 10, 1), 0);
    assert_int_equal(nw_utf8_truncate("\xF0\x9F\x98\x80z", 5, 3), 0);
}

static void every_seed_is_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < TU_NSEEDS; i++) {
        size_t len = 0;
        char *text = tu_read_seed(i, &len);
        assert_true(len > 3000);
        assert_true(nw_utf8_valid(text, len, NULL));
        /* Corrupt one byte in the middle of an Arabic letter: found at that offset. */
        size_t pos = len / 2;
        while (((unsigned char)text[pos] & 0xC0) != 0x80)
            pos++;
        text[pos - 1] = (char)0xFF;
        size_t off;
        assert_false(nw_utf8_valid(text, len, &off));
        assert_int_equal(off, pos - 1);
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_inputs_pass),   cmocka_unit_test(invalid_inputs_name_the_offset),
        cmocka_unit_test(sequence_lengths),    cmocka_unit_test(truncate_keeps_whole_characters),
        cmocka_unit_test(every_seed_is_valid),
    };
    return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
