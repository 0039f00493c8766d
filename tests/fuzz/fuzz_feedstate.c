/*
 * Fuzz target: what the feed poller reads that others wrote. The
 * newswatch.feed-state/1 records of news.feed-state (nw_feedstate_merge: any
 * producer, or anyone with write access to the topic, wrote them) and a
 * feeds file (nw_kvconf_new + nw_feedconf_add_file).
 *
 * The first byte picks: even, the rest is a state record of the feed "f"
 * merged into a state that already knows two items; odd, the rest is a
 * feeds file.
 *
 * Oracle: no crash, leak or undefined behaviour (ASan, UBSan), and
 *  - a refused record leaves the state as it was (count and validators);
 *  - an accepted record's items are known afterwards, and the state writes
 *    itself (nw_feedstate_to_json) as a JSON object that a fresh state
 *    merges to the same count and validators (a round trip);
 *  - the count never passes the limit;
 *  - a feeds file that is accepted gives feeds with a name, an http(s) url
 *    and UTF-8 strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "newswatch/feedconf.h"
#include "newswatch/feedstate.h"
#include "newswatch/kvconf.h"

#define LIMIT 64

static int same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void fuzz_record(const uint8_t *data, size_t size)
{
    nw_feedstate *s = nw_feedstate_new(LIMIT);
    FZ_CHECK(s != NULL);
    nw_feedstate_item a = {1, 2}, b = {3, 4};
    FZ_CHECK(nw_feedstate_add(s, "f", a) == NW_OK && nw_feedstate_add(s, "f", b) == NW_OK);
    FZ_CHECK(nw_feedstate_set_validators(s, "f", "\"e\"", NULL) == NW_OK);
    char err[512];
    nw_err e = nw_feedstate_merge(s, "f", 1, (const char *)data, size, err, sizeof err);
    size_t n = nw_feedstate_count(s, "f");
    FZ_CHECK(n <= LIMIT);
    if (e != NW_OK) {
        FZ_CHECK(n == 2 && nw_feedstate_seen(s, "f", a) && nw_feedstate_seen(s, "f", b));
        FZ_CHECK(same_text(nw_feedstate_etag(s, "f"), "\"e\""));
        FZ_CHECK(err[0] != '\0' && fz_utf8(err, strlen(err)));
        nw_feedstate_free(s);
        return;
    }
    FZ_CHECK(n >= 2 && same_text(nw_feedstate_etag(s, "f"), "\"e\""));
    char *json = NULL;
    size_t len = 0;
    FZ_CHECK(nw_feedstate_to_json(s, "f", NULL, "2021-01-21T07:45:00.000Z", &json, &len, err,
                                  sizeof err) == NW_OK);
    FZ_CHECK(fz_json_object(json, len));
    nw_feedstate *t = nw_feedstate_new(LIMIT);
    FZ_CHECK(t != NULL);
    FZ_CHECK(nw_feedstate_merge(t, "f", 1, json, len, err, sizeof err) == NW_OK);
    FZ_CHECK(nw_feedstate_count(t, "f") == n);
    FZ_CHECK(same_text(nw_feedstate_etag(t, "f"), nw_feedstate_etag(s, "f")));
    FZ_CHECK(same_text(nw_feedstate_last_modified(t, "f"), nw_feedstate_last_modified(s, "f")));
    FZ_CHECK(nw_feedstate_seen(t, "f", a) || n == LIMIT);
    free(json);
    nw_feedstate_free(t);
    nw_feedstate_free(s);
}

static void fuzz_feeds_file(const uint8_t *data, size_t size)
{
    char err[512];
    nw_kvconf *k = NULL;
    nw_feedconf *c = nw_feedconf_new();
    FZ_CHECK(c != NULL);
    if (nw_kvconf_new("feeds.conf", (const char *)data, size, &k, err, sizeof err) == NW_OK &&
        nw_feedconf_add_file(c, k, err, sizeof err) == NW_OK) {
        for (size_t i = 0; i < nw_feedconf_count(c); i++) {
            const nw_feed_source *f = nw_feedconf_at(c, i);
            FZ_CHECK(f->name != NULL && f->name[0] != '\0' && strlen(f->name) <= NW_FEED_NAME_MAX);
            FZ_CHECK(f->url != NULL && (strncasecmp(f->url, "http://", 7) == 0 ||
                                        strncasecmp(f->url, "https://", 8) == 0));
            FZ_CHECK(fz_utf8(f->url, strlen(f->url)));
            for (size_t h = 0; h < f->nheaders; h++)
                FZ_CHECK(strchr(f->headers[h], ':') != NULL &&
                         strpbrk(f->headers[h], "\r\n") == NULL);
        }
    }
    nw_kvconf_free(k);
    nw_feedconf_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] % 2 == 0)
        fuzz_record(data + 1, size - 1);
    else
        fuzz_feeds_file(data + 1, size - 1);
    return 0;
}
