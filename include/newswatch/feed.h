/*
 * News feeds: RSS 2.0 (and 0.9x), RSS 1.0 (RDF), Atom 1.0 and JSON Feed 1.x,
 * parsed into items that become newswatch.doc/1 documents. XML is read with
 * libxml2, JSON with jansson; HTML in the items becomes clean text
 * (newswatch/html.h). docs/feeds.md gives the rules: which element gives the
 * id, body, url and date, the limits, and how character sets are handled.
 *
 * Hostile input: no DTD is loaded, no external entity is declared or read, no
 * network is touched; entity loops (billion laughs) and more than
 * NW_FEED_MAX_ENTITIES entity declarations are rejected; elements nest at
 * most 256 deep (libxml2's limit); input is at most NW_FEED_MAX_BYTES.
 * Not well-formed XML (an unescaped '&', an undeclared &nbsp;, a bad tag in
 * one item) is read again in libxml2's recovery mode, so one broken item
 * does not lose the others; nw_feed_warning() then says what was wrong.
 * Input that cannot be decoded in its character set is rejected.
 *
 * Ownership: nw_feed_parse copies what it needs from its arguments; the feed
 * owns its items and every string the getters return, valid until
 * nw_feed_free. Documents from nw_feed_item_to_doc belong to the caller
 * (nw_doc_free). Functions may be called from several threads on different
 * feeds.
 */
#ifndef NEWSWATCH_FEED_H
#define NEWSWATCH_FEED_H

#include <stddef.h>

#include "newswatch/doc.h"
#include "newswatch/error.h"

/* The largest feed accepted, in bytes (NW_ETOOBIG above it). */
#define NW_FEED_MAX_BYTES (16u * 1024u * 1024u)
/* Items read from one feed; the rest are left out (nw_feed_warning says so). */
#define NW_FEED_MAX_ITEMS 5000
/* Entity declarations one XML feed may make. */
#define NW_FEED_MAX_ENTITIES 64
/* The longest body kept, in bytes (cut on a character boundary): a document's limit. */
#define NW_FEED_MAX_BODY_BYTES 1000000u

typedef struct nw_feed nw_feed;
typedef struct nw_feed_item nw_feed_item;

typedef enum nw_feed_format {
    NW_FEED_RSS2, /* RSS 2.0, 0.91, 0.92 */
    NW_FEED_RSS1, /* RSS 1.0 and 0.90 (RDF) */
    NW_FEED_ATOM,
    NW_FEED_JSON, /* JSON Feed 1.0, 1.1 */
} nw_feed_format;

/*
 * Parses data[0..len).
 *  - base_url: where the feed was fetched from; relative links are resolved
 *    against it (and against xml:base). May be NULL: then only absolute
 *    links give a url.
 *  - charset: the charset parameter of the HTTP Content-Type, or NULL. When
 *    given it wins over the XML declaration (RFC 7303); when NULL, the
 *    byte order mark, then the XML encoding declaration, then UTF-8 decide.
 *    JSON Feeds must be UTF-8.
 * On success *out is the feed (possibly with no items). Errors, each with a
 * message naming the problem (and the line for XML): NW_ETOOBIG (over
 * NW_FEED_MAX_BYTES), NW_EUTF8 (cannot be decoded: the charset and the line
 * or byte offset), NW_EINVAL (not XML or not a feed, an unknown charset,
 * entity expansion refused, nesting too deep), NW_EJSON (a JSON Feed that does
 * not parse), NW_ENOMEM.
 */
nw_err nw_feed_parse(const char *data, size_t len, const char *base_url, const char *charset,
                     nw_feed **out, char *errbuf, size_t errlen);
/* Frees the feed and its items; NULL is a no-op. */
void nw_feed_free(nw_feed *feed);

nw_feed_format nw_feed_format_of(const nw_feed *feed);
/* "RSS 2.0", "RSS 1.0", "Atom", "JSON Feed". */
const char *nw_feed_format_name(nw_feed_format format);
/* The feed's title as clean text, or NULL. */
const char *nw_feed_title(const nw_feed *feed);
/* The feed's language (RSS <language>, dc:language, xml:lang, JSON Feed language), or NULL. */
const char *nw_feed_lang(const nw_feed *feed);
/*
 * What the caller should log about the feed as a whole, or NULL: XML that
 * was not well-formed and was read in recovery mode (with the first error and
 * its line), items left out over NW_FEED_MAX_ITEMS.
 */
const char *nw_feed_warning(const nw_feed *feed);

/* The items, in feed order. */
size_t nw_feed_count(const nw_feed *feed);
/* Item i (0 <= i < nw_feed_count), or NULL when i is out of range. */
const nw_feed_item *nw_feed_at(const nw_feed *feed, size_t i);

/*
 * An item's field as it will go into its document, or NULL when the item has
 * none: NW_DOC_ID, NW_DOC_TITLE, NW_DOC_BODY (clean text), NW_DOC_URL
 * (absolute http or https), NW_DOC_PUBLISHED_AT (RFC 3339 UTC, such as
 * 2021-01-21T07:30:00Z), NW_DOC_LANG. Other fields are always NULL.
 */
const char *nw_feed_item_get(const nw_feed_item *item, nw_doc_field field);
/*
 * When the item had a date that could not be read: a message naming the
 * element and the date, e.g. "cannot read the date 'Thu, 32 Jan 2021' (pubDate):
 * day 32 is not in January", for the caller to log; published_at is NULL then.
 * NULL when there was no date problem.
 */
const char *nw_feed_item_date_problem(const nw_feed_item *item);
/*
 * Why the item cannot become a document (no title and no text, or in a JSON
 * Feed an item that is not an object), or NULL when it can.
 */
const char *nw_feed_item_problem(const nw_feed_item *item);

/*
 * The item as a newswatch.doc/1 document: its fields (a title-only item gets
 * its title as body), source = source (may be NULL), completed with
 * nw_doc_complete. Fails with NW_EINVAL and nw_feed_item_problem() for an
 * item that has none, or with nw_doc's errors.
 */
nw_err nw_feed_item_to_doc(const nw_feed_item *item, const char *source, nw_doc **out, char *errbuf,
                           size_t errlen);

/*
 * A feed date (RFC 822/1123/2822, RFC 3339/ISO 8601 and the variants feeds
 * use: two-digit years, no seconds, no zone (UTC), named zones, day names
 * missing or wrong, Arabic-Indic digits) as RFC 3339 UTC in out
 * ("2021-01-21T07:30:00Z"). NW_EINVAL with the reason when it cannot.
 */
nw_err nw_feed_parse_date(const char *s, size_t len, char out[32], char *errbuf, size_t errlen);

#endif
