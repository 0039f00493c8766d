#include "newswatch/feedstate.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/hash.h"
#include "newswatch/jsonw.h"
#include "newswatch/str.h"
#include "newswatch/utf8.h"
#include "grow.h"

/* "0123456789abcdef:0123456789abcdef": an item in a record. */
#define ITEM_TEXT_LEN 33

typedef struct feed_entry {
    char *name;
    nw_feedstate_item *items; /* oldest first */
    size_t n, cap;
    char *etag, *last_modified;
    /* nw_feedstate_begin's copy */
    bool saved;
    nw_feedstate_item *saved_items;
    size_t saved_n;
    char *saved_etag, *saved_last_modified;
} feed_entry;

struct nw_feedstate {
    size_t limit;
    feed_entry *feeds;
    size_t n, cap;
};

static void clear_saved(feed_entry *f)
{
    free(f->saved_items);
    free(f->saved_etag);
    free(f->saved_last_modified);
    f->saved_items = NULL;
    f->saved_etag = f->saved_last_modified = NULL;
    f->saved_n = 0;
    f->saved = false;
}

static void clear_entry(feed_entry *f)
{
    clear_saved(f);
    free(f->name);
    free(f->items);
    free(f->etag);
    free(f->last_modified);
    memset(f, 0, sizeof(*f));
}

nw_feedstate *nw_feedstate_new(size_t limit)
{
    nw_feedstate *s = calloc(1, sizeof(*s));
    if (s != NULL)
        s->limit = limit > 0 ? limit : 1;
    return s;
}

void nw_feedstate_free(nw_feedstate *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        clear_entry(&s->feeds[i]);
    free(s->feeds);
    free(s);
}

uint64_t nw_feedstate_hash(const char *id, size_t len)
{
    return nw_hash_fnv1a64(id, len);
}

uint64_t nw_feedstate_content_hash(const char *title, size_t tlen, const char *body, size_t blen)
{
    /* FNV-1a over title, a separator no text contains, then body. */
    uint64_t h = nw_hash_fnv1a64(title != NULL ? title : "", title != NULL ? tlen : 0);
    h ^= 0xff;
    h *= 0x100000001b3ULL;
    for (size_t i = 0; i < blen; i++) {
        h ^= (unsigned char)body[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static feed_entry *find(const nw_feedstate *s, const char *feed, size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->feeds[i].name) == len && memcmp(s->feeds[i].name, feed, len) == 0)
            return &s->feeds[i];
    return NULL;
}

static feed_entry *find_or_add(nw_feedstate *s, const char *feed, size_t len)
{
    feed_entry *f = find(s, feed, len);
    if (f != NULL)
        return f;
    if (!nw_grow((void **)&s->feeds, &s->cap, s->n + 1, sizeof(*s->feeds)))
        return NULL;
    f = &s->feeds[s->n];
    memset(f, 0, sizeof(*f));
    if ((f->name = nw_str_copy(feed, len)) == NULL)
        return NULL;
    s->n++;
    return f;
}

static bool entry_has(const feed_entry *f, nw_feedstate_item item)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->items[i].id == item.id || f->items[i].content == item.content)
            return true;
    return false;
}

bool nw_feedstate_seen(const nw_feedstate *s, const char *feed, nw_feedstate_item item)
{
    const feed_entry *f = find(s, feed, strlen(feed));
    return f != NULL && entry_has(f, item);
}

size_t nw_feedstate_count(const nw_feedstate *s, const char *feed)
{
    const feed_entry *f = find(s, feed, strlen(feed));
    return f != NULL ? f->n : 0;
}

static nw_err entry_add(feed_entry *f, size_t limit, nw_feedstate_item item)
{
    if (f->n >= limit) { /* forget the oldest */
        size_t drop = f->n - limit + 1;
        memmove(f->items, f->items + drop, (f->n - drop) * sizeof(*f->items));
        f->n -= drop;
    }
    if (!nw_grow((void **)&f->items, &f->cap, f->n + 1, sizeof(*f->items)))
        return NW_ENOMEM;
    f->items[f->n++] = item;
    return NW_OK;
}

nw_err nw_feedstate_add(nw_feedstate *s, const char *feed, nw_feedstate_item item)
{
    feed_entry *f = find_or_add(s, feed, strlen(feed));
    return f != NULL ? entry_add(f, s->limit, item) : NW_ENOMEM;
}

const char *nw_feedstate_etag(const nw_feedstate *s, const char *feed)
{
    const feed_entry *f = find(s, feed, strlen(feed));
    return f != NULL ? f->etag : NULL;
}

const char *nw_feedstate_last_modified(const nw_feedstate *s, const char *feed)
{
    const feed_entry *f = find(s, feed, strlen(feed));
    return f != NULL ? f->last_modified : NULL;
}

nw_err nw_feedstate_set_validators(nw_feedstate *s, const char *feed, const char *etag,
                                   const char *last_modified)
{
    feed_entry *f = find_or_add(s, feed, strlen(feed));
    if (f == NULL)
        return NW_ENOMEM;
    char *e = nw_str_dup(etag), *m = nw_str_dup(last_modified);
    if ((etag != NULL && e == NULL) || (last_modified != NULL && m == NULL)) {
        free(e);
        free(m);
        return NW_ENOMEM;
    }
    free(f->etag);
    free(f->last_modified);
    f->etag = e;
    f->last_modified = m;
    return NW_OK;
}

nw_err nw_feedstate_begin(nw_feedstate *s, const char *feed)
{
    feed_entry *f = find_or_add(s, feed, strlen(feed));
    if (f == NULL)
        return NW_ENOMEM;
    clear_saved(f);
    if (f->n > 0) {
        f->saved_items = malloc(f->n * sizeof(*f->items));
        if (f->saved_items == NULL)
            return NW_ENOMEM;
        memcpy(f->saved_items, f->items, f->n * sizeof(*f->items));
    }
    f->saved_n = f->n;
    f->saved_etag = nw_str_dup(f->etag);
    f->saved_last_modified = nw_str_dup(f->last_modified);
    if ((f->etag != NULL && f->saved_etag == NULL) ||
        (f->last_modified != NULL && f->saved_last_modified == NULL)) {
        clear_saved(f);
        return NW_ENOMEM;
    }
    f->saved = true;
    return NW_OK;
}

void nw_feedstate_end(nw_feedstate *s, const char *feed, bool committed)
{
    feed_entry *f = find(s, feed, strlen(feed));
    if (f == NULL || !f->saved)
        return;
    if (!committed) {
        /* saved_n <= n or a smaller array: the copy fits in what items had room for */
        if (f->saved_n > 0)
            memcpy(f->items, f->saved_items, f->saved_n * sizeof(*f->items));
        f->n = f->saved_n;
        free(f->etag);
        free(f->last_modified);
        f->etag = f->saved_etag;
        f->last_modified = f->saved_last_modified;
        f->saved_etag = f->saved_last_modified = NULL;
    }
    clear_saved(f);
}

nw_err nw_feedstate_to_json(const nw_feedstate *s, const char *feed, const char *url,
                            const char *updated_at, char **out, size_t *len, char *errbuf,
                            size_t errlen)
{
    const feed_entry *f = find(s, feed, strlen(feed));
    nw_jsonw *w = nw_jsonw_new();
    if (w == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    nw_jsonw_object_begin(w);
    nw_jsonw_key(w, "schema");
    nw_jsonw_cstring(w, NW_FEEDSTATE_SCHEMA);
    nw_jsonw_key(w, "feed");
    nw_jsonw_cstring(w, feed);
    nw_jsonw_key(w, "url");
    url != NULL ? nw_jsonw_cstring(w, url) : nw_jsonw_null(w);
    nw_jsonw_key(w, "updated_at");
    nw_jsonw_cstring(w, updated_at);
    nw_jsonw_key(w, "etag");
    f != NULL && f->etag != NULL ? nw_jsonw_cstring(w, f->etag) : nw_jsonw_null(w);
    nw_jsonw_key(w, "last_modified");
    f != NULL && f->last_modified != NULL ? nw_jsonw_cstring(w, f->last_modified)
                                          : nw_jsonw_null(w);
    nw_jsonw_key(w, "items");
    nw_jsonw_array_begin(w);
    for (size_t i = 0; f != NULL && i < f->n; i++) {
        char text[ITEM_TEXT_LEN + 1];
        snprintf(text, sizeof text, "%016" PRIx64 ":%016" PRIx64, f->items[i].id,
                 f->items[i].content);
        nw_jsonw_string(w, text, ITEM_TEXT_LEN);
    }
    nw_jsonw_array_end(w);
    nw_jsonw_object_end(w);
    nw_err e = nw_jsonw_finish_copy(w, out, len, errbuf, errlen);
    nw_jsonw_free(w);
    return e;
}

static bool parse_hex64(const char *p, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return true;
}

static bool parse_item(const json_t *v, nw_feedstate_item *item)
{
    const char *t = json_string_value(v);
    return t != NULL && json_string_length(v) == ITEM_TEXT_LEN && t[16] == ':' &&
           parse_hex64(t, &item->id) && parse_hex64(t + 17, &item->content);
}

/* A member that must be a string or null: its value (NULL for null), false when neither. */
static bool optional_string(const json_t *root, const char *key, const char **out)
{
    const json_t *v = json_object_get(root, key);
    *out = json_string_value(v);
    return v == NULL || json_is_null(v) || *out != NULL;
}

static nw_err merge(nw_feedstate *s, const char *key, size_t keylen, const char *value, size_t len,
                    char *errbuf, size_t errlen)
{
    if (keylen == 0 || memchr(key, '\0', keylen) != NULL)
        return nw_set_error(errbuf, errlen, NW_EINVAL,
                            "a feed-state record needs a feed name as "
                            "its key");
    if (value == NULL) {
        feed_entry *f = find(s, key, keylen);
        if (f != NULL) {
            clear_entry(f);
            *f = s->feeds[--s->n];
        }
        return NW_OK;
    }
    json_error_t jerr;
    json_t *root = json_loadb(value, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return nw_set_error(errbuf, errlen, NW_EJSON, "feed-state record of '%.*s': %s",
                            (int)keylen, key, jerr.text);
    nw_err e = NW_OK;
    const char *schema = json_string_value(json_object_get(root, "schema"));
    const char *feed = json_string_value(json_object_get(root, "feed"));
    const json_t *items = json_object_get(root, "items");
    const char *etag = NULL, *modified = NULL;
    if (!json_is_object(root) || schema == NULL || strcmp(schema, NW_FEEDSTATE_SCHEMA) != 0) {
        e = nw_set_error(errbuf, errlen, NW_EINVAL,
                         "feed-state record of '%.*s': not a " NW_FEEDSTATE_SCHEMA " record",
                         (int)keylen, key);
    } else if (feed == NULL || strlen(feed) != keylen || memcmp(feed, key, keylen) != 0) {
        e = nw_set_error(errbuf, errlen, NW_EINVAL,
                         "feed-state record of '%.*s': its \"feed\" is not its key", (int)keylen,
                         key);
    } else if (!json_is_array(items) || !optional_string(root, "etag", &etag) ||
               !optional_string(root, "last_modified", &modified)) {
        e = nw_set_error(errbuf, errlen, NW_EINVAL,
                         "feed-state record of '%.*s': \"items\" must be an array, \"etag\" and "
                         "\"last_modified\" strings or null",
                         (int)keylen, key);
    }
    size_t n = json_array_size(items);
    nw_feedstate_item *parsed = e == NW_OK && n > 0 ? malloc(n * sizeof(*parsed)) : NULL;
    if (e == NW_OK && n > 0 && parsed == NULL)
        e = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    for (size_t i = 0; e == NW_OK && i < n; i++)
        if (!parse_item(json_array_get(items, i), &parsed[i]))
            e = nw_set_error(errbuf, errlen, NW_EINVAL,
                             "feed-state record of '%.*s': item %zu is not \"<16 hex "
                             "digits>:<16 hex digits>\"",
                             (int)keylen, key, i);
    feed_entry *f = e == NW_OK ? find_or_add(s, key, keylen) : NULL;
    if (e == NW_OK && f == NULL)
        e = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    for (size_t i = 0; e == NW_OK && i < n; i++)
        if (!entry_has(f, parsed[i]) && entry_add(f, s->limit, parsed[i]) != NW_OK)
            e = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    if (e == NW_OK && f->etag == NULL && f->last_modified == NULL &&
        (etag != NULL || modified != NULL) &&
        nw_feedstate_set_validators(s, f->name, etag, modified) != NW_OK)
        e = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    free(parsed);
    json_decref(root);
    return e;
}

nw_err nw_feedstate_merge(nw_feedstate *s, const char *key, size_t keylen, const char *value,
                          size_t len, char *errbuf, size_t errlen)
{
    nw_err e = merge(s, key, keylen, value, len, errbuf, errlen);
    /* The message quotes the key and jansson's excerpt of the value as they are. */
    if (e != NW_OK && errlen > 0)
        nw_utf8_mend(errbuf);
    return e;
}
