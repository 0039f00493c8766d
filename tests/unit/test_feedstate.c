#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/feedconf.h"
#include "newswatch/feedstate.h"
#include "newswatch/kvconf.h"
#include "newswatch/utf8.h"
#include "testutil.h"

/* The item of a document id and its text. */
static nw_feedstate_item item_of(const char *id, const char *title, const char *body)
{
    nw_feedstate_item it = {
        nw_feedstate_hash(id, strlen(id)),
        nw_feedstate_content_hash(title, title != NULL ? strlen(title) : 0, body, strlen(body))};
    return it;
}

/* Seen by id, seen by content under a new GUID, per feed. */
static void seen_by_id_or_content(void **state)
{
    (void)state;
    nw_feedstate *s = nw_feedstate_new(100);
    assert_non_null(s);
    nw_feedstate_item a = item_of("https://ar.example.iq/1", "صواريخ على مطار بغداد", "سقطت.");
    assert_false(nw_feedstate_seen(s, "ar", a));
    assert_int_equal(nw_feedstate_add(s, "ar", a), NW_OK);
    assert_true(nw_feedstate_seen(s, "ar", a));
    assert_false(nw_feedstate_seen(s, "en", a)); /* per feed */
    /* the same story under a link with a session parameter */
    nw_feedstate_item moved =
        item_of("https://ar.example.iq/1?utm=x", "صواريخ على مطار بغداد", "سقطت.");
    assert_true(nw_feedstate_seen(s, "ar", moved));
    /* the same GUID with an edited text: still published once */
    nw_feedstate_item edited = item_of("https://ar.example.iq/1", "صواريخ على مطار بغداد", "سقطت!");
    assert_true(nw_feedstate_seen(s, "ar", edited));
    /* title and body are not one string: moving a word between them is another text */
    assert_true(nw_feedstate_content_hash("ab", 2, "c", 1) !=
                nw_feedstate_content_hash("a", 1, "bc", 2));
    assert_int_equal(nw_feedstate_count(s, "ar"), 1);
    nw_feedstate_free(s);
    nw_feedstate_free(NULL);
}

/* Past the limit the oldest items are forgotten first. */
static void oldest_forgotten_first(void **state)
{
    (void)state;
    nw_feedstate *s = nw_feedstate_new(3);
    nw_feedstate_item it[5];
    char id[16];
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof id, "g%d", i);
        it[i] = item_of(id, NULL, id);
        assert_int_equal(nw_feedstate_add(s, "f", it[i]), NW_OK);
    }
    assert_int_equal(nw_feedstate_count(s, "f"), 3);
    assert_false(nw_feedstate_seen(s, "f", it[0]));
    assert_false(nw_feedstate_seen(s, "f", it[1]));
    for (int i = 2; i < 5; i++)
        assert_true(nw_feedstate_seen(s, "f", it[i]));
    nw_feedstate_free(s);
}

/* A transaction that did not commit leaves the state as it was, validators included. */
static void end_rolls_back(void **state)
{
    (void)state;
    nw_feedstate *s = nw_feedstate_new(2);
    nw_feedstate_item a = item_of("a", NULL, "a"), b = item_of("b", NULL, "b"),
                      c = item_of("c", NULL, "c");
    assert_int_equal(nw_feedstate_add(s, "f", a), NW_OK);
    assert_int_equal(nw_feedstate_set_validators(s, "f", "\"v1\"", NULL), NW_OK);
    assert_int_equal(nw_feedstate_begin(s, "f"), NW_OK);
    assert_int_equal(nw_feedstate_add(s, "f", b), NW_OK);
    assert_int_equal(nw_feedstate_add(s, "f", c), NW_OK); /* forgets a */
    assert_int_equal(nw_feedstate_set_validators(s, "f", "\"v2\"", "Thu, 21 Jan 2021"), NW_OK);
    assert_false(nw_feedstate_seen(s, "f", a));
    nw_feedstate_end(s, "f", false);
    assert_true(nw_feedstate_seen(s, "f", a));
    assert_false(nw_feedstate_seen(s, "f", b));
    assert_false(nw_feedstate_seen(s, "f", c));
    assert_string_equal(nw_feedstate_etag(s, "f"), "\"v1\"");
    assert_null(nw_feedstate_last_modified(s, "f"));
    /* and one that did keeps its changes */
    assert_int_equal(nw_feedstate_begin(s, "f"), NW_OK);
    assert_int_equal(nw_feedstate_add(s, "f", b), NW_OK);
    assert_int_equal(nw_feedstate_set_validators(s, "f", NULL, "Thu, 21 Jan 2021"), NW_OK);
    nw_feedstate_end(s, "f", true);
    assert_true(nw_feedstate_seen(s, "f", b));
    assert_null(nw_feedstate_etag(s, "f"));
    assert_string_equal(nw_feedstate_last_modified(s, "f"), "Thu, 21 Jan 2021");
    nw_feedstate_end(s, "f", false); /* no begin: nothing happens */
    assert_true(nw_feedstate_seen(s, "f", b));
    nw_feedstate_free(s);
}

/* A record written by one state restores another: items, validators; a tombstone forgets. */
static void record_round_trip(void **state)
{
    (void)state;
    nw_feedstate *s = nw_feedstate_new(100);
    nw_feedstate_item a = item_of("urn:1", "t", "a"), b = item_of("urn:2", "t", "b");
    assert_int_equal(nw_feedstate_add(s, "aljazeera-ar", a), NW_OK);
    assert_int_equal(nw_feedstate_add(s, "aljazeera-ar", b), NW_OK);
    assert_int_equal(nw_feedstate_set_validators(s, "aljazeera-ar", "W/\"x\"", NULL), NW_OK);
    char *rec = NULL, err[256];
    size_t len = 0;
    assert_int_equal(nw_feedstate_to_json(s, "aljazeera-ar", "https://example.net/rss",
                                          "2021-01-21T08:00:00Z", &rec, &len, err, sizeof err),
                     NW_OK);
    json_error_t jerr;
    json_t *v = json_loadb(rec, len, 0, &jerr);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "schema")), "newswatch.feed-state/1");
    assert_int_equal(json_array_size(json_object_get(v, "items")), 2);
    assert_true(json_is_null(json_object_get(v, "last_modified")));
    json_decref(v);

    nw_feedstate *t = nw_feedstate_new(100);
    nw_feedstate_item c = item_of("urn:3", "t", "c");
    assert_int_equal(nw_feedstate_add(t, "aljazeera-ar", c), NW_OK);
    assert_int_equal(nw_feedstate_merge(t, "aljazeera-ar", 12, rec, len, err, sizeof err), NW_OK);
    assert_true(nw_feedstate_seen(t, "aljazeera-ar", a));
    assert_true(nw_feedstate_seen(t, "aljazeera-ar", b));
    assert_true(nw_feedstate_seen(t, "aljazeera-ar", c)); /* a union, not a replacement */
    assert_int_equal(nw_feedstate_count(t, "aljazeera-ar"), 3);
    assert_string_equal(nw_feedstate_etag(t, "aljazeera-ar"), "W/\"x\"");
    /* merging the same record again changes nothing */
    assert_int_equal(nw_feedstate_merge(t, "aljazeera-ar", 12, rec, len, err, sizeof err), NW_OK);
    assert_int_equal(nw_feedstate_count(t, "aljazeera-ar"), 3);
    /* a tombstone forgets the feed */
    assert_int_equal(nw_feedstate_merge(t, "aljazeera-ar", 12, NULL, 0, err, sizeof err), NW_OK);
    assert_false(nw_feedstate_seen(t, "aljazeera-ar", a));
    assert_null(nw_feedstate_etag(t, "aljazeera-ar"));
    free(rec);
    nw_feedstate_free(s);
    nw_feedstate_free(t);
}

/* Records that are not a feed's state are refused with the reason, and change nothing. */
static void bad_records_refused(void **state)
{
    (void)state;
    nw_feedstate *s = nw_feedstate_new(10);
    char err[256];
    static const struct {
        const char *json, *why;
    } bad[] = {
        {"{\"schema\":", "feed-state record of 'f'"},
        {"[1]", "not a newswatch.feed-state/1"},
        {"{\"schema\":\"newswatch.alert-state/2\",\"feed\":\"f\",\"items\":[]}", "not a newswatch"},
        {"{\"schema\":\"newswatch.feed-state/1\",\"feed\":\"g\",\"items\":[]}", "is not its key"},
        {"{\"schema\":\"newswatch.feed-state/1\",\"feed\":\"f\",\"items\":{}}", "must be an array"},
        {"{\"schema\":\"newswatch.feed-state/1\",\"feed\":\"f\",\"etag\":5,\"items\":[]}",
         "strings or null"},
        {"{\"schema\":\"newswatch.feed-state/1\",\"feed\":\"f\",\"items\":"
         "[\"0123456789abcdef:0123456789abcdef\",\"0123456789ABCDEF:0123456789abcdef\"]}",
         "item 1 is not"},
        {"{\"schema\":\"newswatch.feed-state/1\",\"feed\":\"f\",\"items\":[\"1:2\"]}",
         "item 0 is not"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_not_equal(
            nw_feedstate_merge(s, "f", 1, bad[i].json, strlen(bad[i].json), err, sizeof err),
            NW_OK);
        if (strstr(err, bad[i].why) == NULL)
            fail_msg("record %zu: '%s' does not say '%s'", i, err, bad[i].why);
        assert_int_equal(nw_feedstate_count(s, "f"), 0);
    }
    assert_int_not_equal(nw_feedstate_merge(s, "", 0, "{}", 2, err, sizeof err), NW_OK);
    /* Messages quote the record as it is: they are still UTF-8 (found by fuzz_feedstate). */
    static const char cut[] = "{\"schema\":\"newswatch.feed-state/1\",\"feed\":\"f\","
                              "\"etag\":\"W/\\\xd2\x9d\"}";
    assert_int_equal(nw_feedstate_merge(s, "f", 1, cut, sizeof cut - 1, err, sizeof err), NW_EJSON);
    assert_true(nw_utf8_valid(err, strlen(err), NULL));
    assert_int_not_equal(nw_feedstate_merge(s, "\xff\xfe", 2, "[]", 2, err, sizeof err), NW_OK);
    assert_true(nw_utf8_valid(err, strlen(err), NULL));
    assert_non_null(strstr(err, "'?"
                                "?'")); /* the key's two bytes */
    nw_feedstate_free(s);
}

static nw_err load_feeds(nw_feedconf *c, const char *text, char *err, size_t errlen)
{
    nw_kvconf *k = NULL;
    nw_err e = nw_kvconf_new("feeds.conf", text, strlen(text), &k, err, errlen);
    if (e == NW_OK)
        e = nw_feedconf_add_file(c, k, err, errlen);
    nw_kvconf_free(k); /* the feeds keep copies */
    return e;
}

/* A feeds file: one section per feed, its keys, headers repeatable. */
static void feeds_file_read(void **state)
{
    (void)state;
    nw_feedconf *c = nw_feedconf_new();
    char err[512];
    setenv("NW_TEST_FEED_TOKEN", "s3cret", 1);
    assert_int_equal(load_feeds(c,
                                "# Arabic wires\n"
                                "[aljazeera-ar]\n"
                                "url = https://www.aljazeera.net/rss\n"
                                "source = aljazeera\n"
                                "lang = ar\n"
                                "interval.ms = 120000\n"
                                "header = Authorization: Bearer ${NW_TEST_FEED_TOKEN}\n"
                                "header = X-Client: newswatch\n"
                                "[bbc-en]\n"
                                "url = http://feeds.bbci.co.uk/news/world/rss.xml\n",
                                err, sizeof err),
                     NW_OK);
    assert_int_equal(nw_feedconf_count(c), 2);
    const nw_feed_source *a = nw_feedconf_at(c, 0), *b = nw_feedconf_at(c, 1);
    assert_string_equal(a->name, "aljazeera-ar");
    assert_string_equal(a->url, "https://www.aljazeera.net/rss");
    assert_string_equal(a->source, "aljazeera");
    assert_string_equal(a->lang, "ar");
    assert_int_equal(a->interval_ms, 120000);
    assert_int_equal(a->nheaders, 2);
    assert_string_equal(a->headers[0], "Authorization: Bearer s3cret");
    assert_int_equal(a->line, 3); /* its first key */
    assert_string_equal(b->name, "bbc-en");
    assert_null(b->source);
    assert_null(b->lang);
    assert_int_equal(b->interval_ms, 0); /* the settings' */
    assert_null(nw_feedconf_at(c, 2));
    /* --feed: the name is the URL without its scheme; given twice is an error */
    assert_int_equal(nw_feedconf_add_url(c, "https://example.org/feed.xml", err, sizeof err),
                     NW_OK);
    assert_string_equal(nw_feedconf_at(c, 2)->name, "example.org/feed.xml");
    assert_int_not_equal(nw_feedconf_add_url(c, "https://example.org/feed.xml", err, sizeof err),
                         NW_OK);
    assert_non_null(strstr(err, "given twice"));
    assert_int_not_equal(nw_feedconf_add_url(c, "ftp://example.org/feed.xml", err, sizeof err),
                         NW_OK);
    assert_non_null(strstr(err, "is not an http:// or https:// URL"));
    assert_int_not_equal(nw_feedconf_add_url(c, "file:///etc/passwd", err, sizeof err), NW_OK);
    nw_feedconf_free(c);
    nw_feedconf_free(NULL);
}

/* Each mistake in a feeds file names the file, the line and the problem. */
static void feeds_file_mistakes(void **state)
{
    (void)state;
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"[a]\nsource = x\n", "feeds.conf:2: the feed [a] has no url"},
        {"[a]\nurl = file:///etc/passwd\n", "feeds.conf:2: [a] url 'file:///etc/passwd' is not"},
        {"[a]\nurl = http://\n", "has no host"},
        {"[a]\nurl = http://x/\nintervall.ms = 5\n",
         "feeds.conf:3: unknown key 'intervall.ms' in the feed [a] (did you mean 'interval.ms'?)"},
        {"[a]\nurl = http://x/\ninterval.ms = 10\n",
         "interval.ms must be a whole number from 1000"},
        {"[a]\nurl = http://x/\nheader = no colon\n", "header 'no colon' is not 'Name: value'"},
        {"url = http://x/\n", "feeds.conf:1: 'url' is outside a feed"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nw_feedconf *c = nw_feedconf_new();
        char err[512] = "";
        assert_int_not_equal(load_feeds(c, bad[i].text, err, sizeof err), NW_OK);
        if (strstr(err, bad[i].why) == NULL)
            fail_msg("case %zu: '%s' does not say '%s'", i, err, bad[i].why);
        nw_feedconf_free(c);
    }
}

/* [feeds] settings: defaults, values, bounds from the configuration table. */
static void settings_read(void **state)
{
    (void)state;
    nw_feedconf *c = nw_feedconf_new();
    const nw_feed_settings *s = nw_feedconf_get_settings(c);
    assert_int_equal(s->interval_ms, 300000);
    assert_int_equal(s->max_redirects, 5);
    assert_int_equal(s->state_items, 2000);
    assert_null(s->file);
    char err[512];
    const char *text = "[feeds]\nfile = config/feeds.conf\ninterval.ms = 60000\n"
                       "max.bytes = 1048576\nuser.agent = test-agent/1\n";
    nw_kvconf *k = NULL;
    assert_int_equal(nw_kvconf_new("n.conf", text, strlen(text), &k, err, sizeof err), NW_OK);
    assert_int_equal(nw_feedconf_settings(c, k, err, sizeof err), NW_OK);
    s = nw_feedconf_get_settings(c);
    assert_string_equal(s->file, "config/feeds.conf");
    assert_int_equal(s->interval_ms, 60000);
    assert_int_equal(s->max_bytes, 1048576);
    assert_string_equal(s->user_agent, "test-agent/1");
    nw_kvconf_free(k);
    text = "[feeds]\nmax.redirects = 51\n";
    assert_int_equal(nw_kvconf_new("n.conf", text, strlen(text), &k, err, sizeof err), NW_OK);
    assert_int_equal(nw_feedconf_settings(c, k, err, sizeof err), NW_ECONFIG);
    assert_non_null(
        strstr(err, "n.conf:2: [feeds] max.redirects must be a whole number from 0 to 50"));
    nw_kvconf_free(k);
    nw_feedconf_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seen_by_id_or_content), cmocka_unit_test(oldest_forgotten_first),
        cmocka_unit_test(end_rolls_back),        cmocka_unit_test(record_round_trip),
        cmocka_unit_test(bad_records_refused),   cmocka_unit_test(feeds_file_read),
        cmocka_unit_test(feeds_file_mistakes),   cmocka_unit_test(settings_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
