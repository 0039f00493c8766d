/*
 * Fuzz target: news feeds (lib/feed.c; RSS 2.0, RSS 1.0, Atom, JSON Feed) to
 * documents, and the feed date parser.
 *
 * Each input is parsed twice with nw_feed_parse: with no base URL and no
 * charset (the BOM, then the XML declaration decide), then with a base URL
 * and an HTTP charset chosen by the input's length. Every item goes through
 * every nw_feed_item_get field, nw_feed_item_date_problem,
 * nw_feed_item_problem and nw_feed_item_to_doc. Short inputs also go to
 * nw_feed_parse_date.
 *
 * Oracle: no crash, leak or undefined behaviour (ASan, UBSan), and
 *  - every string the feed and its items give is valid UTF-8; a url is an
 *    absolute http(s) URL; published_at is RFC 3339 UTC (20 bytes, 'Z');
 *  - a failed parse gives no feed and a message in UTF-8; nw_feed_at is
 *    NULL past the end;
 *  - every document an item gives serialises (nw_doc_to_json) to a JSON
 *    object that nw_doc_from_record reads back with the same fields;
 *  - a date the date parser accepts is YYYY-MM-DDTHH:MM:SSZ.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "newswatch/doc.h"
#include "newswatch/feed.h"

static void check_string(const char *s)
{
    if (s != NULL)
        FZ_CHECK(fz_utf8(s, strlen(s)));
}

/* The document's JSON reads back as the same document. */
static void check_doc(const nw_doc *doc)
{
    char err[512];
    char *json = NULL;
    size_t len = 0;
    FZ_CHECK(nw_doc_to_json(doc, "2021-01-21T07:30:00.000Z", &json, &len, err, sizeof err) ==
             NW_OK);
    FZ_CHECK(fz_json_object(json, len));
    nw_doc *back = NULL;
    nw_err e = nw_doc_from_record(json, len, &back, err, sizeof err);
    if (e != NW_OK)
        fprintf(stderr, "nw_doc_from_record: %s\n", err);
    FZ_CHECK(e == NW_OK);
    for (int f = 0; f < NW_DOC_FIELD_COUNT; f++) {
        size_t a = 0, b = 0;
        const char *va = nw_doc_get(doc, (nw_doc_field)f, &a);
        const char *vb = nw_doc_get(back, (nw_doc_field)f, &b);
        if (f == NW_DOC_INGESTED_AT)
            continue;
        FZ_CHECK((va == NULL) == (vb == NULL));
        FZ_CHECK(va == NULL || (a == b && memcmp(va, vb, a) == 0));
    }
    nw_doc_free(back);
    free(json);
}

static void check_item(const nw_feed_item *item)
{
    for (int f = 0; f < NW_DOC_FIELD_COUNT; f++) {
        const char *v = nw_feed_item_get(item, (nw_doc_field)f);
        check_string(v);
        if (v == NULL)
            continue;
        if (f == NW_DOC_URL)
            FZ_CHECK(strncasecmp(v, "http://", 7) == 0 || strncasecmp(v, "https://", 8) == 0);
        if (f == NW_DOC_PUBLISHED_AT)
            FZ_CHECK(strlen(v) == 20 && v[10] == 'T' && v[19] == 'Z');
        if (f == NW_DOC_SOURCE || f == NW_DOC_INGESTED_AT)
            FZ_CHECK(0); /* never given by a feed */
    }
    FZ_CHECK(nw_feed_item_get(item, NW_DOC_FIELD_COUNT) == NULL);
    check_string(nw_feed_item_date_problem(item));
    check_string(nw_feed_item_problem(item));

    char err[512];
    nw_doc *doc = NULL;
    nw_err e = nw_feed_item_to_doc(item, "fuzz", &doc, err, sizeof err);
    if (e == NW_OK) {
        FZ_CHECK(doc != NULL);
        check_doc(doc);
        nw_doc_free(doc);
    } else {
        FZ_CHECK(doc == NULL);
    }
}

static void parse(const uint8_t *data, size_t size, const char *base, const char *charset)
{
    char err[512] = "";
    nw_feed *feed = NULL;
    nw_err e = nw_feed_parse((const char *)data, size, base, charset, &feed, err, sizeof err);
    if (e != NW_OK) {
        FZ_CHECK(feed == NULL);
        FZ_CHECK(err[0] != '\0');
        check_string(err);
        return;
    }
    FZ_CHECK(feed != NULL);
    FZ_CHECK(nw_feed_format_name(nw_feed_format_of(feed)) != NULL);
    check_string(nw_feed_title(feed));
    check_string(nw_feed_lang(feed));
    check_string(nw_feed_warning(feed));
    size_t n = nw_feed_count(feed);
    FZ_CHECK(n <= NW_FEED_MAX_ITEMS);
    for (size_t i = 0; i < n; i++) {
        const nw_feed_item *item = nw_feed_at(feed, i);
        FZ_CHECK(item != NULL);
        check_item(item);
    }
    FZ_CHECK(nw_feed_at(feed, n) == NULL);
    nw_feed_free(feed);
}

static void parse_date(const uint8_t *data, size_t size)
{
    char out[32], err[256];
    if (nw_feed_parse_date((const char *)data, size, out, err, sizeof err) != NW_OK)
        return;
    FZ_CHECK(strlen(out) == 20);
    for (int i = 0; i < 20; i++) {
        char want = i == 4 || i == 7 ? '-' : i == 10 ? 'T' : i == 13 || i == 16 ? ':' : '0';
        if (i == 19)
            FZ_CHECK(out[i] == 'Z');
        else if (want == '0')
            FZ_CHECK(out[i] >= '0' && out[i] <= '9');
        else
            FZ_CHECK(out[i] == want);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const bases[] = {"https://example.com/news/index.xml",
                                        "http://www.example.iq/ar/rss?x=1#top", NULL};
    static const char *const charsets[] = {"utf-8",       "UTF-16", "windows-1256", "iso-8859-1",
                                           "no-such-set", "utf-32", "windows-1252", "us-ascii"};
    parse(data, size, NULL, NULL);
    parse(data, size, bases[size % 3], charsets[(size / 3) % 8]);
    if (size < 160)
        parse_date(data, size);
    return 0;
}
