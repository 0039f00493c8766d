#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <string.h>

#include "newswatch/doc.h"
#include "testutil.h"

static const char *get(const nw_doc *doc, nw_doc_field f)
{
    return nw_doc_get(doc, f, NULL);
}

static void file_id_is_name_without_extension(void **state)
{
    (void)state;
    static const struct {
        const char *path, *id;
    } cases[] = {
        {"samples/seeds/000_c7189a82eabcfedc.txt", "000_c7189a82eabcfedc"},
        {"report", "report"},
        {"/a/b.c/report.tar.gz", "report.tar"},
        {"dir/.hidden", ".hidden"},
        {"تقرير-بغداد.txt", "تقرير-بغداد"},
    };
    char err[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nw_doc *doc;
        assert_int_equal(nw_doc_from_text(cases[i].path, "text", 4, &doc, err, sizeof err), NW_OK);
        assert_string_equal(get(doc, NW_DOC_ID), cases[i].id);
        nw_doc_free(doc);
    }
}

static void title_is_first_non_empty_line(void **state)
{
    (void)state;
    static const struct {
        const char *body, *title;
    } cases[] = {
        {"عنوان\nنص", "عنوان"},
        {"\n\n  \t\nSecond line is the title  \nbody", "Second line is the title"},
        {"\xEF\xBB\xBFwith BOM\r\nbody", "with BOM"},
        {"\xC2\xA0\xE2\x80\x8F \nبغداد \xE2\x80\x8F\n", "بغداد"}, /* NBSP, RLM */
        {"\r\n\r\nCRLF title\r\n", "CRLF title"},
        {"single line, no newline", "single line, no newline"},
    };
    char err[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nw_doc *doc;
        assert_int_equal(
            nw_doc_from_text("x.txt", cases[i].body, strlen(cases[i].body), &doc, err, sizeof err),
            NW_OK);
        assert_string_equal(get(doc, NW_DOC_TITLE), cases[i].title);
        /* The body is kept byte for byte. */
        size_t blen;
        const char *body = nw_doc_get(doc, NW_DOC_BODY, &blen);
        assert_int_equal(blen, strlen(cases[i].body));
        assert_memory_equal(body, cases[i].body, blen);
        nw_doc_free(doc);
    }
}

static void long_title_is_cut_on_a_character_boundary(void **state)
{
    (void)state;
    char body[4000];
    size_t n = 0;
    while (n + 2 < 3000) { /* 1500 Arabic letters, two bytes each, on one line */
        memcpy(body + n, "ب", 2);
        n += 2;
    }
    nw_doc *doc;
    char err[256];
    assert_int_equal(nw_doc_from_text("x", body, n, &doc, err, sizeof err), NW_OK);
    size_t tlen;
    const char *title = nw_doc_get(doc, NW_DOC_TITLE, &tlen);
    assert_true(tlen <= NW_DOC_MAX_TITLE_BYTES);
    assert_true(tlen > NW_DOC_MAX_TITLE_BYTES - 8);
    assert_memory_equal(title + tlen - 3, "\xE2\x80\xA6", 3);
    assert_int_equal((tlen - 3) % 2, 0); /* no half letter before the ellipsis */
    nw_doc_free(doc);
}

static void bad_text_is_rejected_with_a_reason(void **state)
{
    (void)state;
    nw_doc *doc = (nw_doc *)1;
    char err[256];
    assert_int_equal(nw_doc_from_text("x.txt", "ok\xC3\x28", 4, &doc, err, sizeof err), NW_EUTF8);
    assert_null(doc);
    assert_string_equal(err, "invalid UTF-8 at byte offset 2");
    assert_int_equal(nw_doc_from_text("x.txt", " \n\t\r\n\xC2\xA0", 7, &doc, err, sizeof err),
                     NW_EINVAL);
    assert_non_null(strstr(err, "no visible text"));
    assert_int_equal(nw_doc_from_text("x.txt", "", 0, &doc, err, sizeof err), NW_EINVAL);
    assert_int_equal(nw_doc_from_text("dir/", "text", 4, &doc, err, sizeof err), NW_EINVAL);
}

static void json_with_every_field(void **state)
{
    (void)state;
    const char *line = "{\"id\":\"doc-1\",\"title\":\"تفجير\",\"body\":\"نص الخبر\","
                       "\"source\":\"ina\",\"url\":\"https://ina.iq/1\","
                       "\"published_at\":\"2021-01-21T08:00:00Z\",\"lang\":\"ar\",\"extra\":[1]}";
    nw_doc *doc;
    char err[256];
    assert_int_equal(nw_doc_from_json(line, strlen(line), &doc, err, sizeof err), NW_OK);
    assert_string_equal(get(doc, NW_DOC_ID), "doc-1");
    assert_string_equal(get(doc, NW_DOC_TITLE), "تفجير");
    assert_string_equal(get(doc, NW_DOC_BODY), "نص الخبر");
    assert_string_equal(get(doc, NW_DOC_SOURCE), "ina");
    assert_string_equal(get(doc, NW_DOC_URL), "https://ina.iq/1");
    assert_string_equal(get(doc, NW_DOC_PUBLISHED_AT), "2021-01-21T08:00:00Z");
    assert_string_equal(get(doc, NW_DOC_LANG), "ar");
    nw_doc_free(doc);
}

static void json_missing_id_is_hash_of_body(void **state)
{
    (void)state;
    const char *line = "{\"body\":\"first line\\nsecond\",\"title\":null,\"url\":null}";
    nw_doc *doc;
    char err[256];
    assert_int_equal(nw_doc_from_json(line, strlen(line), &doc, err, sizeof err), NW_OK);
    char expect[17];
    nw_doc_id_for_body("first line\nsecond", 17, expect);
    assert_string_equal(get(doc, NW_DOC_ID), expect);
    assert_int_equal(strlen(expect), 16);
    /* FNV-1a 64 of the body, a fixed value: ids must not change between releases. */
    nw_doc_id_for_body("", 0, expect);
    assert_string_equal(expect, "cbf29ce484222325");
    nw_doc_id_for_body("a", 1, expect);
    assert_string_equal(expect, "af63dc4c8601ec8c");
    assert_string_equal(get(doc, NW_DOC_TITLE), "first line");
    assert_null(get(doc, NW_DOC_URL));
    assert_null(get(doc, NW_DOC_SOURCE));
    nw_doc_free(doc);

    /* Same body, same id: a re-sent document keeps its key. */
    nw_doc *again;
    assert_int_equal(nw_doc_from_json(line, strlen(line), &again, err, sizeof err), NW_OK);
    nw_doc_id_for_body("first line\nsecond", 17, expect);
    assert_string_equal(get(again, NW_DOC_ID), expect);
    nw_doc_free(again);
}

static void json_errors_say_what_is_wrong(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        nw_err err;
        const char *says;
    } cases[] = {
        {"{\"title\":\"x\"}", NW_EJSON, "no 'body'"},
        {"{\"body\":null}", NW_EJSON, "no 'body'"},
        {"{\"body\":42}", NW_EJSON, "'body' must be a string, found a number"},
        {"{\"body\":\"x\",\"id\":7}", NW_EJSON, "'id' must be a string or null, found a number"},
        {"{\"body\":\"x\",\"lang\":[\"ar\"]}", NW_EJSON, "'lang' must be a string or null"},
        {"{\"body\":\" \\n \"}", NW_EINVAL, "no visible text"},
        {"{\"body\":\"x\",\"id\":\"\"}", NW_EINVAL, "the id is empty"},
        {"{\"body\":\"x\",\"id\":\"a\\nb\"}", NW_EINVAL, "control character"},
        {"[\"body\"]", NW_EJSON, "expected a JSON object, found an array"},
        {"{\"body\":\"x\"", NW_EJSON, "not valid JSON"},
        {"{\"body\":\"x\",\"body\":\"y\"}", NW_EJSON, "not valid JSON: duplicate object key"},
        {"\"just a string\"", NW_EJSON, "not valid JSON"},
        {"{\"body\":\"\xD8\"}", NW_EUTF8, "invalid UTF-8 at byte offset 9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nw_doc *doc = (nw_doc *)1;
        char err[256] = "";
        nw_err e = nw_doc_from_json(cases[i].line, strlen(cases[i].line), &doc, err, sizeof err);
        if (e != cases[i].err || strstr(err, cases[i].says) == NULL)
            fail_msg("%s: got %d '%s', expected %d '%s'", cases[i].line, e, err, cases[i].err,
                     cases[i].says);
        assert_null(doc);
    }
    /* Over-long id. */
    char line[1200];
    memset(line, 0, sizeof line);
    strcpy(line, "{\"body\":\"x\",\"id\":\"");
    size_t n = strlen(line);
    memset(line + n, 'a', NW_DOC_MAX_ID_BYTES + 1);
    strcat(line, "\"}");
    nw_doc *doc;
    char err[256];
    assert_int_equal(nw_doc_from_json(line, strlen(line), &doc, err, sizeof err), NW_EINVAL);
    assert_non_null(strstr(err, "the limit is 512"));
}

static void json_body_with_nul_is_kept(void **state)
{
    (void)state;
    const char *line = "{\"id\":\"n\",\"body\":\"a\\u0000b\"}";
    nw_doc *doc;
    char err[256];
    assert_int_equal(nw_doc_from_json(line, strlen(line), &doc, err, sizeof err), NW_OK);
    size_t len;
    const char *body = nw_doc_get(doc, NW_DOC_BODY, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(body, "a\0b", 3);
    char *out;
    size_t outlen;
    assert_int_equal(nw_doc_to_json(doc, NULL, &out, &outlen, err, sizeof err), NW_OK);
    assert_non_null(strstr(out, "\"body\":\"a\\u0000b\""));
    free(out);
    nw_doc_free(doc);
}

static void encoding_round_trips_every_seed(void **state)
{
    (void)state;
    static const char *const titles[] = {
        "A picture shows the scene of a twin suicide bombing on a bustling commercial street in "
        "the heart of Baghdad on January 21, 2021…",
        NULL, /* a long first line: checked by prefix below */
        "الخميس 21 نوفمبر / November 2024",
        NULL,
        "الكاظمي يرفع التأهب الأمني في البلاد",
    };
    char err[256];
    for (size_t i = 0; i < TU_NSEEDS; i++) {
        char path[256];
        snprintf(path, sizeof path, TU_SEEDS_DIR "/%s.txt", tu_seed_name(i));
        size_t len = 0;
        char *text = tu_read(path, &len);
        assert_non_null(text);
        nw_doc *doc;
        assert_int_equal(nw_doc_from_text(path, text, len, &doc, err, sizeof err), NW_OK);
        assert_int_equal(nw_doc_complete(doc, "seeds", err, sizeof err), NW_OK);
        char *out;
        size_t outlen;
        assert_int_equal(
            nw_doc_to_json(doc, "2026-01-01T00:00:00.000Z", &out, &outlen, err, sizeof err), NW_OK);
        assert_null(memchr(out, '\n', outlen)); /* one line */

        json_error_t jerr;
        json_t *v = json_loadb(out, outlen, 0, &jerr);
        assert_non_null(v);
        assert_string_equal(json_string_value(json_object_get(v, "schema")), "newswatch.doc/1");
        assert_string_equal(json_string_value(json_object_get(v, "id")), tu_seed_name(i));
        assert_string_equal(json_string_value(json_object_get(v, "source")), "seeds");
        assert_true(json_is_null(json_object_get(v, "url")));
        assert_true(json_is_null(json_object_get(v, "published_at")));
        assert_string_equal(json_string_value(json_object_get(v, "ingested_at")),
                            "2026-01-01T00:00:00.000Z");
        json_t *body = json_object_get(v, "body");
        assert_int_equal(json_string_length(body), len);
        assert_memory_equal(json_string_value(body), text, len);
        const char *title = json_string_value(json_object_get(v, "title"));
        if (titles[i] != NULL)
            assert_string_equal(title, titles[i]);
        else
            assert_memory_equal(title, text, strlen(title) - (strlen(title) > 500 ? 3 : 0));
        /* Members in schema order. */
        const char *order[] = {"schema", "id",           "title", "body",       "source",
                               "url",    "published_at", "lang",  "ingested_at"};
        const char *prev = out;
        for (size_t k = 0; k < 9; k++) {
            char key[32];
            snprintf(key, sizeof key, "\"%s\":", order[k]);
            const char *at = strstr(out, key);
            assert_non_null(at);
            assert_true(at >= prev);
            prev = at;
        }
        json_decref(v);
        free(out);
        nw_doc_free(doc);
        free(text);
    }
}

/*
 * nw_doc_from_json / nw_doc_from_record decode the records newswatch writes
 * with a fast path and leave anything else to jansson. Both must agree with
 * jansson on every input: the same fields, or a refusal.
 */
static void check_against_jansson(const char *json, size_t len, bool record)
{
    char err[512];
    nw_doc *doc = NULL;
    nw_err e = record ? nw_doc_from_record(json, len, &doc, err, sizeof err)
                      : nw_doc_from_json(json, len, &doc, err, sizeof err);
    json_error_t jerr;
    json_t *want = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    bool ok = json_is_object(want) && json_is_string(json_object_get(want, "body"));
    if (ok && record)
        ok = json_is_string(json_object_get(want, "schema")) &&
             strcmp(json_string_value(json_object_get(want, "schema")), NW_DOC_SCHEMA) == 0;
    for (int f = 0; ok && f < NW_DOC_FIELD_COUNT; f++) {
        json_t *v = json_object_get(want, nw_doc_field_name((nw_doc_field)f));
        ok = v == NULL || json_is_null(v) || json_is_string(v);
    }
    if (!ok) {
        if (e == NW_OK)
            fail_msg("accepted what jansson refuses: %.*s", (int)(len < 200 ? len : 200), json);
        json_decref(want);
        return;
    }
    if (e != NW_OK) /* jansson accepts it, but nw_doc_complete may refuse (blank body, bad id) */
        assert_true(e == NW_EINVAL);
    for (int f = 0; e == NW_OK && f < NW_DOC_FIELD_COUNT; f++) {
        json_t *v = json_object_get(want, nw_doc_field_name((nw_doc_field)f));
        size_t n;
        const char *got = nw_doc_get(doc, (nw_doc_field)f, &n);
        if (json_is_string(v)) {
            assert_non_null(got);
            assert_int_equal(n, json_string_length(v));
            assert_memory_equal(got, json_string_value(v), n);
        } else if (f != NW_DOC_ID && f != NW_DOC_TITLE) { /* derived when missing */
            assert_null(got);
        }
    }
    json_decref(want);
    nw_doc_free(doc);
}

static void json_decoding_agrees_with_jansson(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "{\"schema\":\"newswatch.doc/1\",\"id\":\"a1\",\"body\":\"plain\"}",
        " \n{ \"schema\" : \"newswatch.doc/1\" ,\t\"body\" : \"x\" , \"url\" : null } \r\n",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"esc \\\" \\\\ \\/ \\b\\f\\n\\r\\t end\"}",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"\\u0628\\u063a\\u062f\\u0627\\u062f \\u0041\"}",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"emoji \\ud83d\\ude00 ok\"}",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"nul \\u0000 inside\"}",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"بغـــداد \xE2\x80\x8F مطار\",\"lang\":\"ar\"}",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"x\",\"ingested_at\":\"2026-01-01T00:00:00Z\"}",
        /* refused by both, or left to jansson */
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"lone \\ud83d surrogate\"}",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"lone \\ude00 low\"}",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"bad \\x escape\"}",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"short \\u12\"}",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"raw\ttab\"}",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"x\",\"body\":\"y\"}",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"x\",\"extra\":{\"a\":1}}",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"x\",\"extra\":\"y\",\"extra\":\"z\"}",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"x\",\"title\":7}",
        "{\"schema\":\"newswatch.doc/1\",\"body\":null}",
        "{\"schema\":\"newswatch.doc/2\",\"body\":\"x\"}",
        "{\"schema\":\"newswatch.doc\\/1\",\"body\":\"x\"}",
        "{\"body\":\"x\"}",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"x\"} trailing",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"x\",}",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"unterminated}",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"x\"",
        "{\"schema\":\"newswatch.doc/1\",\"b\\u006fdy\":\"x\"}",
        "{\"schema\":\"newswatch.doc/1\",\"body\":\"   \"}",
        "[\"body\"]",
        "",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_against_jansson(cases[i], strlen(cases[i]), true);
        check_against_jansson(cases[i], strlen(cases[i]), false);
    }
    /* Every seed, as the producer writes it and with every non-ASCII character escaped. */
    char err[256];
    for (size_t i = 0; i < TU_NSEEDS; i++) {
        char path[256];
        snprintf(path, sizeof path, TU_SEEDS_DIR "/%s.txt", tu_seed_name(i));
        size_t len = 0;
        char *text = tu_read(path, &len);
        nw_doc *doc;
        assert_int_equal(nw_doc_from_text(path, text, len, &doc, err, sizeof err), NW_OK);
        char *out;
        size_t outlen;
        assert_int_equal(nw_doc_to_json(doc, NULL, &out, &outlen, err, sizeof err), NW_OK);
        check_against_jansson(out, outlen, true);
        json_error_t jerr;
        json_t *v = json_loadb(out, outlen, 0, &jerr);
        char *ascii = json_dumps(v, JSON_ENSURE_ASCII | JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        check_against_jansson(ascii, strlen(ascii), true);
        nw_doc *back;
        assert_int_equal(nw_doc_from_record(ascii, strlen(ascii), &back, err, sizeof err), NW_OK);
        size_t blen;
        const char *body = nw_doc_get(back, NW_DOC_BODY, &blen);
        assert_int_equal(blen, len);
        assert_memory_equal(body, text, len);
        nw_doc_free(back);
        free(ascii);
        json_decref(v);
        free(out);
        nw_doc_free(doc);
        free(text);
    }
}

static void complete_fills_only_what_is_missing(void **state)
{
    (void)state;
    nw_doc *doc = nw_doc_new();
    char err[256];
    assert_int_equal(nw_doc_complete(doc, NULL, err, sizeof err), NW_EINVAL);
    assert_non_null(strstr(err, "no body"));
    assert_int_equal(nw_doc_set(doc, NW_DOC_BODY, "t\nb", 3, err, sizeof err), NW_OK);
    assert_int_equal(nw_doc_set(doc, NW_DOC_SOURCE, "given", 5, err, sizeof err), NW_OK);
    assert_int_equal(nw_doc_complete(doc, "default", err, sizeof err), NW_OK);
    assert_string_equal(get(doc, NW_DOC_SOURCE), "given");
    assert_string_equal(get(doc, NW_DOC_TITLE), "t");
    assert_int_equal(nw_doc_set(doc, NW_DOC_URL, "\xFF", 1, err, sizeof err), NW_EUTF8);
    assert_string_equal(err, "url: invalid UTF-8 at byte offset 0");
    nw_doc_free(doc);
    nw_doc_free(NULL);
}

static void records_must_name_the_schema(void **state)
{
    (void)state;
    nw_doc *doc = (nw_doc *)1;
    char err[256];
    const char *good = "{\"schema\":\"newswatch.doc/1\",\"id\":\"a\",\"body\":\"x\"}";
    assert_int_equal(nw_doc_from_record(good, strlen(good), &doc, err, sizeof err), NW_OK);
    assert_string_equal(nw_doc_get(doc, NW_DOC_ID, NULL), "a");
    nw_doc_free(doc);
    const char *other = "{\"schema\":\"other/1\",\"id\":\"a\",\"body\":\"x\"}";
    assert_int_equal(nw_doc_from_record(other, strlen(other), &doc, err, sizeof err), NW_EJSON);
    assert_string_equal(err, "not a newswatch.doc/1 document (its schema is 'other/1')");
    assert_null(doc);
    const char *none = "{\"id\":\"a\",\"body\":\"x\"}";
    assert_int_equal(nw_doc_from_record(none, strlen(none), &doc, err, sizeof err), NW_EJSON);
    assert_string_equal(err, "not a newswatch.doc/1 document (its schema is missing)");
    assert_int_equal(nw_doc_from_record("caf\xe9", 4, &doc, err, sizeof err), NW_EUTF8);
    assert_string_equal(err, "invalid UTF-8 at byte offset 3");
    /* A producer's own output is a record. */
    nw_doc *d = nw_doc_new();
    assert_int_equal(nw_doc_set(d, NW_DOC_BODY, "body", 4, err, sizeof err), NW_OK);
    assert_int_equal(nw_doc_complete(d, NULL, err, sizeof err), NW_OK);
    char *json;
    size_t len;
    assert_int_equal(nw_doc_to_json(d, NULL, &json, &len, err, sizeof err), NW_OK);
    assert_int_equal(nw_doc_from_record(json, len, &doc, err, sizeof err), NW_OK);
    nw_doc_free(doc);
    nw_doc_free(d);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(file_id_is_name_without_extension),
        cmocka_unit_test(title_is_first_non_empty_line),
        cmocka_unit_test(long_title_is_cut_on_a_character_boundary),
        cmocka_unit_test(bad_text_is_rejected_with_a_reason),
        cmocka_unit_test(json_with_every_field),
        cmocka_unit_test(json_missing_id_is_hash_of_body),
        cmocka_unit_test(json_errors_say_what_is_wrong),
        cmocka_unit_test(json_body_with_nul_is_kept),
        cmocka_unit_test(encoding_round_trips_every_seed),
        cmocka_unit_test(json_decoding_agrees_with_jansson),
        cmocka_unit_test(complete_fills_only_what_is_missing),
        cmocka_unit_test(records_must_name_the_schema),
    };
    return cmocka_run_group_tests_name("doc", tests, NULL, NULL);
}
