#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "newswatch/jsonw.h"

#define BYTES(s) (s), sizeof(s) - 1

/* Strings that need care: escapes, Arabic with diacritics, tatweel and bidi marks, NUL. */
static const struct {
    const char *s;
    size_t len;
} tricky[] = {
    {BYTES("")},
    {BYTES("plain")},
    {BYTES("quote \" backslash \\ slash /")},
    {BYTES("tab\tnewline\nreturn\rbell\a\x01\x1f del\x7f")},
    {BYTES("بَغْدَاد بغـــداد \xE2\x80\x8F\xE2\x80\x8E مطار")},
    {BYTES("\xF0\x9F\x98\x80 U+2028\xE2\x80\xA8 U+FEFF\xEF\xBB\xBF")},
    {"nul\0inside", 10},
};

/* The writer's output for each tricky string is byte for byte jansson's. */
static void strings_match_jansson(void **state)
{
    (void)state;
    nw_jsonw *w = nw_jsonw_new();
    for (size_t i = 0; i < sizeof tricky / sizeof tricky[0]; i++) {
        nw_jsonw_reset(w);
        nw_jsonw_array_begin(w);
        nw_jsonw_string(w, tricky[i].s, tricky[i].len);
        nw_jsonw_array_end(w);
        const char *out;
        size_t len;
        assert_int_equal(nw_jsonw_finish(w, &out, &len, NULL, 0), NW_OK);
        json_t *a = json_array();
        json_array_append_new(a, json_stringn(tricky[i].s, tricky[i].len));
        char *want = json_dumps(a, JSON_COMPACT);
        assert_string_equal(out, want);
        assert_int_equal(len, strlen(want));
        free(want);
        json_decref(a);
    }
    nw_jsonw_free(w);
}

/* Writes [s] (or [v]) and compares with jansson's output for the same array. */
static void assert_array_as_jansson(nw_jsonw *w, json_t *a)
{
    const char *out;
    size_t len;
    assert_int_equal(nw_jsonw_finish(w, &out, &len, NULL, 0), NW_OK);
    char *want = json_dumps(a, JSON_COMPACT);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    free(want);
    json_decref(a);
}

/*
 * Every ASCII byte at every place of a longer text (strings are scanned
 * eight bytes at a time), and integers at the edges of their digits and range.
 */
static void every_byte_and_integer_matches_jansson(void **state)
{
    (void)state;
    nw_jsonw *w = nw_jsonw_new();
    char text[24];
    for (unsigned c = 0; c < 128; c++)
        for (size_t at = 0; at < sizeof text; at++) {
            /* Arabic letters (two bytes each) around the byte. */
            for (size_t k = 0; k + 1 < sizeof text; k += 2)
                memcpy(text + k, "\xD8\xA8", 2);
            text[at] = (char)c;
            if (at % 2 == 0 && at + 1 < sizeof text)
                text[at + 1] = 'x'; /* not half a letter */
            else if (at % 2 == 1)
                text[at - 1] = 'y';
            nw_jsonw_reset(w);
            nw_jsonw_array_begin(w);
            nw_jsonw_string(w, text, sizeof text);
            nw_jsonw_array_end(w);
            json_t *a = json_array();
            json_array_append_new(a, json_stringn(text, sizeof text));
            assert_array_as_jansson(w, a);
        }
    static const int64_t ints[] = {0,
                                   1,
                                   -1,
                                   9,
                                   10,
                                   -10,
                                   99,
                                   100,
                                   12345,
                                   -987654,
                                   INT32_MAX,
                                   INT32_MIN,
                                   (int64_t)INT32_MAX + 1,
                                   INT64_MAX,
                                   INT64_MIN,
                                   INT64_MIN + 1};
    nw_jsonw_reset(w);
    nw_jsonw_array_begin(w);
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        nw_jsonw_int(w, ints[i]);
        json_array_append_new(a, json_integer((json_int_t)ints[i]));
    }
    nw_jsonw_array_end(w);
    assert_array_as_jansson(w, a);
    nw_jsonw_free(w);
}

/* Nesting, commas, every kind of value, against json_dumps of the same tree. */
static void nested_record_matches_jansson(void **state)
{
    (void)state;
    nw_jsonw *w = nw_jsonw_new();
    nw_jsonw_object_begin(w);
    nw_jsonw_key(w, "id");
    nw_jsonw_cstring(w, "seed-000");
    nw_jsonw_key(w, "url");
    nw_jsonw_cstring(w, NULL);
    nw_jsonw_key(w, "empty");
    nw_jsonw_array_begin(w);
    nw_jsonw_array_end(w);
    nw_jsonw_key(w, "entities");
    nw_jsonw_array_begin(w);
    for (int i = 0; i < 3; i++) {
        nw_jsonw_object_begin(w);
        nw_jsonw_key(w, "start");
        nw_jsonw_int(w, i * 10);
        nw_jsonw_key(w, "end");
        nw_jsonw_int(w, INT64_MIN + i);
        nw_jsonw_key(w, "linked");
        nw_jsonw_bool(w, i % 2 == 0);
        nw_jsonw_key(w, "x");
        nw_jsonw_null(w);
        nw_jsonw_object_end(w);
    }
    nw_jsonw_array_end(w);
    nw_jsonw_key(w, "nested");
    nw_jsonw_object_begin(w);
    nw_jsonw_object_end(w);
    nw_jsonw_object_end(w);
    const char *out;
    size_t len;
    assert_int_equal(nw_jsonw_finish(w, &out, &len, NULL, 0), NW_OK);

    json_t *want = json_object(), *ents = json_array();
    json_object_set_new(want, "id", json_string("seed-000"));
    json_object_set_new(want, "url", json_null());
    json_object_set_new(want, "empty", json_array());
    for (int i = 0; i < 3; i++)
        json_array_append_new(ents,
                              json_pack("{s:I, s:I, s:b, s:n}", "start", (json_int_t)i * 10, "end",
                                        (json_int_t)(INT64_MIN + i), "linked", i % 2 == 0, "x"));
    json_object_set_new(want, "entities", ents);
    json_object_set_new(want, "nested", json_object());
    char *ws = json_dumps(want, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(out, ws);
    free(ws);
    json_decref(want);
    nw_jsonw_free(w);
}

static void members_are_spliced_or_refused(void **state)
{
    (void)state;
    static const char *const taken[] = {"id", "text", NULL};
    char err[256];
    nw_jsonw *w = nw_jsonw_new();
    nw_jsonw_object_begin(w);
    nw_jsonw_key(w, "id");
    nw_jsonw_cstring(w, "d1");
    assert_int_equal(
        nw_jsonw_members(w, BYTES(" { \"a\" : [1, 2], \"b\":\"x\" } "), taken, err, sizeof err),
        NW_OK);
    assert_int_equal(nw_jsonw_members(w, BYTES("{}"), taken, err, sizeof err), NW_OK);
    /* Refused: the writer is left as it was. */
    assert_int_equal(nw_jsonw_members(w, BYTES("{\"text\": 1}"), taken, err, sizeof err),
                     NW_EINVAL);
    assert_non_null(strstr(err, "\"text\""));
    assert_int_equal(nw_jsonw_members(w, BYTES("[1]"), taken, err, sizeof err), NW_EINVAL);
    assert_int_equal(nw_jsonw_members(w, BYTES("{\"a\":"), taken, err, sizeof err), NW_EINVAL);
    nw_jsonw_object_end(w);
    const char *out;
    size_t len;
    assert_int_equal(nw_jsonw_finish(w, &out, &len, NULL, 0), NW_OK);
    json_error_t jerr;
    json_t *o = json_loadb(out, len, 0, &jerr);
    assert_non_null(o);
    assert_int_equal(json_object_size(o), 3);
    assert_string_equal(json_string_value(json_object_get(o, "b")), "x");
    assert_int_equal(json_array_size(json_object_get(o, "a")), 2);
    json_decref(o);
    nw_jsonw_free(w);
}

static void unbalanced_output_is_an_error(void **state)
{
    (void)state;
    char err[256];
    const char *out;
    size_t len;
    nw_jsonw *w = nw_jsonw_new();
    nw_jsonw_object_begin(w);
    nw_jsonw_key(w, "open");
    assert_int_equal(nw_jsonw_finish(w, &out, &len, err, sizeof err), NW_EINVAL);
    assert_null(out);
    nw_jsonw_reset(w);
    nw_jsonw_array_end(w);
    assert_int_equal(nw_jsonw_finish(w, &out, &len, err, sizeof err), NW_EINVAL);
    nw_jsonw_reset(w);
    for (int i = 0; i < 40; i++)
        nw_jsonw_array_begin(w);
    for (int i = 0; i < 40; i++)
        nw_jsonw_array_end(w);
    assert_int_equal(nw_jsonw_finish(w, &out, &len, err, sizeof err), NW_EINVAL);
    /* Reset gives a clean writer again; a large record grows the buffer. */
    nw_jsonw_reset(w);
    nw_jsonw_array_begin(w);
    for (int i = 0; i < 10000; i++)
        nw_jsonw_cstring(w, "بغداد");
    nw_jsonw_array_end(w);
    assert_int_equal(nw_jsonw_finish(w, &out, &len, err, sizeof err), NW_OK);
    assert_int_equal(len, 2 + 10000 * 12 + 9999);
    nw_jsonw_free(w);
    nw_jsonw_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strings_match_jansson),
        cmocka_unit_test(every_byte_and_integer_matches_jansson),
        cmocka_unit_test(nested_record_matches_jansson),
        cmocka_unit_test(members_are_spliced_or_refused),
        cmocka_unit_test(unbalanced_output_is_an_error),
    };
    return cmocka_run_group_tests_name("jsonw", tests, NULL, NULL);
}
