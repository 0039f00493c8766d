/*
 * Fuzz target: the document JSON parsers (lib/doc.c): nw_doc_from_json (a
 * JSON Lines record from the producer's input) and nw_doc_from_record (a
 * news.raw record, with its fast path for the records newswatch writes and
 * jansson for the rest), and nw_doc_from_text on the same bytes.
 *
 * Oracle: no crash, leak or undefined behaviour (ASan, UBSan), and
 *  - a parser that fails gives no document;
 *  - a document it gives has valid UTF-8 fields, an id, a title and a body;
 *  - what nw_doc_from_record accepts, jansson reads as an object with the
 *    same string members (the fast path agrees with jansson);
 *  - a document serialises (nw_doc_to_json) to JSON that nw_doc_from_record
 *    reads back with the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "newswatch/doc.h"

static void check_fields(const nw_doc *doc)
{
    for (int f = 0; f < NW_DOC_FIELD_COUNT; f++) {
        size_t len = 0;
        const char *v = nw_doc_get(doc, (nw_doc_field)f, &len);
        if (v != NULL) {
            FZ_CHECK(fz_utf8(v, len));
            FZ_CHECK(v[len] == '\0');
        }
    }
    FZ_CHECK(nw_doc_get(doc, NW_DOC_ID, NULL) != NULL);
    FZ_CHECK(nw_doc_get(doc, NW_DOC_TITLE, NULL) != NULL);
    FZ_CHECK(nw_doc_get(doc, NW_DOC_BODY, NULL) != NULL);
}

static int same_doc(const nw_doc *a, const nw_doc *b)
{
    for (int f = 0; f < NW_DOC_FIELD_COUNT; f++) {
        size_t la = 0, lb = 0;
        const char *va = nw_doc_get(a, (nw_doc_field)f, &la);
        const char *vb = nw_doc_get(b, (nw_doc_field)f, &lb);
        if ((va == NULL) != (vb == NULL) || (va != NULL && (la != lb || memcmp(va, vb, la) != 0)))
            return 0;
    }
    return 1;
}

/* The record's members as jansson reads them are the document's fields. */
static void check_against_jansson(const uint8_t *data, size_t size, const nw_doc *doc)
{
    json_error_t jerr;
    json_t *root =
        json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    FZ_CHECK(json_is_object(root));
    static const nw_doc_field given[] = {NW_DOC_BODY, NW_DOC_URL,    NW_DOC_PUBLISHED_AT,
                                         NW_DOC_LANG, NW_DOC_SOURCE, NW_DOC_INGESTED_AT};
    for (size_t i = 0; i < sizeof given / sizeof given[0]; i++) {
        json_t *v = json_object_get(root, nw_doc_field_name(given[i]));
        size_t len = 0;
        const char *s = nw_doc_get(doc, given[i], &len);
        if (v == NULL || json_is_null(v)) {
            FZ_CHECK(s == NULL);
        } else {
            FZ_CHECK(json_is_string(v) && s != NULL);
            FZ_CHECK(json_string_length(v) == len && memcmp(json_string_value(v), s, len) == 0);
        }
    }
    json_decref(root);
}

static void round_trip(const nw_doc *doc)
{
    char err[512];
    char *json = NULL;
    size_t len = 0;
    size_t ilen = 0;
    const char *ingested = nw_doc_get(doc, NW_DOC_INGESTED_AT, &ilen);
    FZ_CHECK(nw_doc_to_json(doc, ingested, &json, &len, err, sizeof err) == NW_OK);
    FZ_CHECK(strlen(json) == len);
    FZ_CHECK(fz_json_object(json, len));
    nw_doc *back = NULL;
    nw_err e = nw_doc_from_record(json, len, &back, err, sizeof err);
    if (e != NW_OK)
        fprintf(stderr, "nw_doc_from_record: %s\n", err);
    FZ_CHECK(e == NW_OK);
    if (ingested == NULL || memchr(ingested, '\0', ilen) == NULL)
        FZ_CHECK(same_doc(doc, back));
    nw_doc_free(back);
    free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    nw_doc *doc = (nw_doc *)1;
    nw_err e = nw_doc_from_json((const char *)data, size, &doc, err, sizeof err);
    FZ_CHECK(e == NW_OK ? doc != NULL : doc == NULL);
    if (e == NW_OK) {
        check_fields(doc);
        round_trip(doc);
        nw_doc_free(doc);
    }

    doc = (nw_doc *)1;
    e = nw_doc_from_record((const char *)data, size, &doc, err, sizeof err);
    FZ_CHECK(e == NW_OK ? doc != NULL : doc == NULL);
    if (e == NW_OK) {
        check_fields(doc);
        check_against_jansson(data, size, doc);
        round_trip(doc);
        nw_doc_free(doc);
    }

    doc = (nw_doc *)1;
    e = nw_doc_from_text("fuzz/input.txt", (const char *)data, size, &doc, err, sizeof err);
    FZ_CHECK(e == NW_OK ? doc != NULL : doc == NULL);
    if (e == NW_OK) {
        check_fields(doc);
        round_trip(doc);
        nw_doc_free(doc);
    }
    return 0;
}
