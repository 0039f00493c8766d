#include "newswatch/doc.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/hash.h"
#include "newswatch/utf8.h"

struct nw_doc {
    char *val[NW_DOC_FIELD_COUNT];
    size_t len[NW_DOC_FIELD_COUNT];
};

static const char *const field_names[NW_DOC_FIELD_COUNT] = {
    "id", "title", "body", "source", "url", "published_at", "lang", "ingested_at",
};

nw_doc *nw_doc_new(void)
{
    return calloc(1, sizeof(nw_doc));
}

void nw_doc_free(nw_doc *doc)
{
    if (doc == NULL)
        return;
    for (int i = 0; i < NW_DOC_FIELD_COUNT; i++)
        free(doc->val[i]);
    free(doc);
}

const char *nw_doc_field_name(nw_doc_field field)
{
    return (field >= 0 && field < NW_DOC_FIELD_COUNT) ? field_names[field] : "?";
}

nw_err nw_doc_set(nw_doc *doc, nw_doc_field field, const char *val, size_t len, char *errbuf,
                  size_t errlen)
{
    char *copy = NULL;
    if (val != NULL) {
        size_t bad;
        if (!nw_utf8_valid(val, len, &bad))
            return nw_set_error(errbuf, errlen, NW_EUTF8, "%s: invalid UTF-8 at byte offset %zu",
                                field_names[field], bad);
        copy = malloc(len + 1);
        if (copy == NULL)
            return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        memcpy(copy, val, len);
        copy[len] = '\0';
    }
    free(doc->val[field]);
    doc->val[field] = copy;
    doc->len[field] = copy != NULL ? len : 0;
    return NW_OK;
}

const char *nw_doc_get(const nw_doc *doc, nw_doc_field field, size_t *len)
{
    if (len != NULL)
        *len = doc->len[field];
    return doc->val[field];
}

/*
 * Length in bytes of the blank character at p (white space, no-break space,
 * byte order mark, zero-width and bidi controls), or 0 when p does not start
 * with one.
 */
static size_t blank_at(const unsigned char *p, size_t avail)
{
    if (avail >= 1 && (p[0] == ' ' || p[0] == '\t' || p[0] == '\r' || p[0] == '\v' ||
                       p[0] == '\f' || p[0] == '\n'))
        return 1;
    if (avail >= 2 && p[0] == 0xC2 && p[1] == 0xA0) /* U+00A0 */
        return 2;
    if (avail >= 2 && p[0] == 0xD8 && p[1] == 0x9C) /* U+061C arabic letter mark */
        return 2;
    if (avail >= 3 && p[0] == 0xE2 && p[1] == 0x80 &&
        (p[2] <= 0x8F || (p[2] >= 0xA8 && p[2] <= 0xAF))) /* U+2000..200F, 2028..202F */
        return 3;
    if (avail >= 3 && p[0] == 0xE2 && p[1] == 0x81 &&
        (p[2] == 0x9F || (p[2] >= 0xA6 && p[2] <= 0xA9))) /* U+205F, U+2066..2069 */
        return 3;
    if (avail >= 3 && p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) /* U+3000 */
        return 3;
    if (avail >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) /* U+FEFF */
        return 3;
    return 0;
}

/* Trims blank characters from both ends of s[0..*len); returns the new start. */
static const char *trim_blank(const char *s, size_t *len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = *len, b;
    while (n > 0 && (b = blank_at(p, n)) > 0) {
        p += b;
        n -= b;
    }
    /* From the end: find the last non-blank character by scanning forward. */
    size_t keep = 0, i = 0;
    while (i < n) {
        b = blank_at(p + i, n - i);
        if (b > 0) {
            i += b;
        } else {
            i++;
            while (i < n && (p[i] & 0xC0) == 0x80)
                i++;
            keep = i;
        }
    }
    *len = keep;
    return (const char *)p;
}

/* Is s[0..len) blank? Stops at the first visible character (trim_blank would read it all). */
static bool is_blank_text(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, b;
    while (i < len && (b = blank_at(p + i, len - i)) > 0)
        i += b;
    return i == len;
}

/* The first non-empty line of body, trimmed and cut to NW_DOC_MAX_TITLE_BYTES. */
static nw_err set_title_from_body(nw_doc *doc, char *errbuf, size_t errlen)
{
    const char *body = doc->val[NW_DOC_BODY];
    size_t blen = doc->len[NW_DOC_BODY];
    size_t pos = 0;
    while (pos < blen) {
        const char *nl = memchr(body + pos, '\n', blen - pos);
        size_t end = nl != NULL ? (size_t)(nl - body) : blen;
        size_t n = end - pos;
        const char *line = trim_blank(body + pos, &n);
        if (n > 0) {
            if (n <= NW_DOC_MAX_TITLE_BYTES)
                return nw_doc_set(doc, NW_DOC_TITLE, line, n, errbuf, errlen);
            static const char ellipsis[] = "\xE2\x80\xA6"; /* U+2026 */
            char buf[NW_DOC_MAX_TITLE_BYTES + 1];
            size_t cut = nw_utf8_truncate(line, n, NW_DOC_MAX_TITLE_BYTES - (sizeof ellipsis - 1));
            memcpy(buf, line, cut);
            memcpy(buf + cut, ellipsis, sizeof ellipsis - 1);
            return nw_doc_set(doc, NW_DOC_TITLE, buf, cut + sizeof ellipsis - 1, errbuf, errlen);
        }
        pos = end + 1;
    }
    return nw_set_error(errbuf, errlen, NW_EINVAL, "the body has no visible text");
}

void nw_doc_write_field(nw_jsonw *w, const nw_doc *doc, nw_doc_field field)
{
    size_t len;
    const char *v = nw_doc_get(doc, field, &len);
    nw_jsonw_string(w, v, len);
}

void nw_doc_id_for_body(const char *body, size_t len, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)nw_hash_fnv1a64(body, len));
}

static nw_err check_id(const char *id, size_t len, char *errbuf, size_t errlen)
{
    if (len == 0)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "the id is empty");
    if (len > NW_DOC_MAX_ID_BYTES)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "the id is %zu bytes long; the limit is %d",
                            len, NW_DOC_MAX_ID_BYTES);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c < 0x20 || c == 0x7F)
            return nw_set_error(errbuf, errlen, NW_EINVAL,
                                "the id contains a control character (byte 0x%02X at offset %zu)",
                                c, i);
    }
    return NW_OK;
}

nw_err nw_doc_complete(nw_doc *doc, const char *default_source, char *errbuf, size_t errlen)
{
    nw_err err;
    if (doc->val[NW_DOC_BODY] == NULL)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "the document has no body");
    if (is_blank_text(doc->val[NW_DOC_BODY], doc->len[NW_DOC_BODY]))
        return nw_set_error(errbuf, errlen, NW_EINVAL, "the body has no visible text");
    if (doc->val[NW_DOC_ID] == NULL) {
        char id[17];
        nw_doc_id_for_body(doc->val[NW_DOC_BODY], doc->len[NW_DOC_BODY], id);
        if ((err = nw_doc_set(doc, NW_DOC_ID, id, 16, errbuf, errlen)) != NW_OK)
            return err;
    }
    if ((err = check_id(doc->val[NW_DOC_ID], doc->len[NW_DOC_ID], errbuf, errlen)) != NW_OK)
        return err;
    if (doc->val[NW_DOC_TITLE] == NULL && (err = set_title_from_body(doc, errbuf, errlen)) != NW_OK)
        return err;
    if (doc->val[NW_DOC_SOURCE] == NULL && default_source != NULL &&
        (err = nw_doc_set(doc, NW_DOC_SOURCE, default_source, strlen(default_source), errbuf,
                          errlen)) != NW_OK)
        return err;
    return NW_OK;
}

nw_err nw_doc_from_text(const char *path, const char *bytes, size_t len, nw_doc **out, char *errbuf,
                        size_t errlen)
{
    *out = NULL;
    size_t bad;
    if (!nw_utf8_valid(bytes, len, &bad))
        return nw_set_error(errbuf, errlen, NW_EUTF8, "invalid UTF-8 at byte offset %zu", bad);

    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t stem = (dot != NULL && dot != base) ? (size_t)(dot - base) : strlen(base);
    if (stem == 0)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "cannot make a document id from '%s'", path);

    nw_doc *doc = nw_doc_new();
    if (doc == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    nw_err err = nw_doc_set(doc, NW_DOC_ID, base, stem, errbuf, errlen);
    if (err == NW_OK)
        err = nw_doc_set(doc, NW_DOC_BODY, bytes, len, errbuf, errlen);
    if (err == NW_OK)
        err = nw_doc_complete(doc, NULL, errbuf, errlen);
    if (err != NW_OK) {
        nw_doc_free(doc);
        return err;
    }
    *out = doc;
    return NW_OK;
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "something else";
}

/*
 * The fast path for the records newswatch itself writes (nw_doc_to_json): a
 * flat object whose members are the document's fields, "schema" and
 * "ingested_at", each a string or null. jansson decodes a 6 KB document in
 * about a million instructions, a fifth of the whole daemon's work per
 * document; this decodes the same in one pass. Anything else (another member,
 * a nested value, a number, a duplicate member, an escape it does not know, a
 * lone surrogate, a wrong schema, no body) returns false, and the jansson path
 * decides, so errors and their messages are jansson's. The input is valid
 * UTF-8 (checked by the caller).
 */
enum { KEY_SCHEMA = NW_DOC_FIELD_COUNT, KEY_COUNT };

typedef struct raw_value {
    const char *s; /* between the quotes; NULL for null */
    size_t len;
    bool escaped, seen;
} raw_value;

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The member index of a key (no escapes in it), or -1. */
static int member_index(const char *k, size_t n)
{
    for (int f = 0; f < NW_DOC_FIELD_COUNT; f++)
        if (strlen(field_names[f]) == n && memcmp(field_names[f], k, n) == 0)
            return f;
    if (n == 6 && memcmp(k, "schema", 6) == 0)
        return KEY_SCHEMA;
    return -1;
}

/* Scans a string starting after its opening quote; returns the closing quote or NULL. */
static const char *scan_string(const char *p, const char *end, bool *escaped)
{
    *escaped = false;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p;
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            *escaped = true;
            p += 2;
            continue;
        }
        p++;
    }
    return NULL;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Decodes a string's escapes into a new buffer (NUL-terminated); NULL when one is not valid. */
static char *unescape(const char *s, size_t len, size_t *outlen)
{
    char *out = malloc(len + 1), *o = out;
    if (out == NULL)
        return NULL;
    const char *end = s + len;
    while (s < end) {
        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        if (end - s < 2)
            goto bad;
        char c = s[1];
        s += 2;
        switch (c) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '/':
            *o++ = '/';
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u': {
            int u = end - s >= 4 ? hex4(s) : -1;
            if (u < 0)
                goto bad;
            s += 4;
            uint32_t cp = (uint32_t)u;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                goto bad;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                int lo = end - s >= 6 && s[0] == '\\' && s[1] == 'u' ? hex4(s + 2) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    goto bad;
                s += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
            }
            /* Each escape is 6 or 12 bytes and gives at most 3 or 4: out has room. */
            if (cp < 0x80) {
                *o++ = (char)cp;
            } else if (cp < 0x800) {
                *o++ = (char)(0xC0 | (cp >> 6));
                *o++ = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                *o++ = (char)(0xE0 | (cp >> 12));
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (char)(0x80 | (cp & 0x3F));
            } else {
                *o++ = (char)(0xF0 | (cp >> 18));
                *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default:
            goto bad;
        }
    }
    *o = '\0';
    *outlen = (size_t)(o - out);
    return out;
bad:
    free(out);
    return NULL;
}

/* Sets a field the fast path decoded: a copy, no second UTF-8 check. */
static bool set_decoded(nw_doc *doc, int f, const raw_value *v)
{
    char *copy;
    size_t n = v->len;
    if (v->escaped) {
        if ((copy = unescape(v->s, v->len, &n)) == NULL)
            return false;
    } else {
        if ((copy = malloc(n + 1)) == NULL)
            return false;
        memcpy(copy, v->s, n);
        copy[n] = '\0';
    }
    doc->val[f] = copy;
    doc->len[f] = n;
    return true;
}

/* true: *out is the document (or NULL with an error from nw_doc_complete in *err). */
static bool fast_from_json(const char *line, size_t len, const char *schema, nw_doc **out,
                           nw_err *err, char *errbuf, size_t errlen)
{
    raw_value v[KEY_COUNT];
    memset(v, 0, sizeof v);
    const char *p = line, *end = line + len;
    p = skip_ws(p, end);
    if (p == end || *p++ != '{')
        return false;
    for (;;) {
        p = skip_ws(p, end);
        if (p == end || *p++ != '"')
            return false;
        bool escaped;
        const char *k = p, *q = scan_string(p, end, &escaped);
        int idx = q != NULL && !escaped ? member_index(k, (size_t)(q - k)) : -1;
        if (idx < 0 || v[idx].seen)
            return false;
        v[idx].seen = true;
        p = skip_ws(q + 1, end);
        if (p == end || *p++ != ':')
            return false;
        p = skip_ws(p, end);
        if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
            p += 4;
        } else if (p < end && *p == '"') {
            const char *vs = ++p;
            if ((q = scan_string(p, end, &v[idx].escaped)) == NULL)
                return false;
            v[idx].s = vs;
            v[idx].len = (size_t)(q - vs);
            p = q + 1;
        } else {
            return false;
        }
        p = skip_ws(p, end);
        if (p == end)
            return false;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p++ != '}')
            return false;
        break;
    }
    if (skip_ws(p, end) != end || v[NW_DOC_BODY].s == NULL)
        return false;
    if (schema != NULL) {
        const raw_value *sv = &v[KEY_SCHEMA];
        if (sv->s == NULL || sv->escaped || sv->len != strlen(schema) ||
            memcmp(sv->s, schema, sv->len) != 0)
            return false;
    }
    nw_doc *doc = nw_doc_new();
    if (doc == NULL)
        return false;
    for (int f = 0; f < NW_DOC_FIELD_COUNT; f++)
        if (v[f].s != NULL && !set_decoded(doc, f, &v[f])) {
            nw_doc_free(doc);
            return false;
        }
    *err = nw_doc_complete(doc, NULL, errbuf, errlen);
    if (*err != NW_OK) {
        nw_doc_free(doc);
        doc = NULL;
    }
    *out = doc;
    return true;
}

/* A document from JSON; when schema is not NULL the object must name it. */
static nw_err from_json(const char *line, size_t len, const char *schema, nw_doc **out,
                        char *errbuf, size_t errlen)
{
    *out = NULL;
    size_t bad;
    if (!nw_utf8_valid(line, len, &bad))
        return nw_set_error(errbuf, errlen, NW_EUTF8, "invalid UTF-8 at byte offset %zu", bad);
    nw_err fast_err;
    if (fast_from_json(line, len, schema, out, &fast_err, errbuf, errlen))
        return fast_err;

    json_error_t jerr;
    json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (root == NULL)
        return nw_set_error(errbuf, errlen, NW_EJSON, "not valid JSON: %s (column %d)", jerr.text,
                            jerr.column);
    nw_err err = NW_OK;
    nw_doc *doc = NULL;
    if (!json_is_object(root)) {
        err = nw_set_error(errbuf, errlen, NW_EJSON, "expected a JSON object, found %s",
                           json_type_name(root));
        goto done;
    }
    const char *named = json_string_value(json_object_get(root, "schema"));
    if (schema != NULL && (named == NULL || strcmp(named, schema) != 0)) {
        err = nw_set_error(errbuf, errlen, NW_EJSON, "not a %s document (its schema is %s%s%s)",
                           schema, named != NULL ? "'" : "", named != NULL ? named : "missing",
                           named != NULL ? "'" : "");
        goto done;
    }
    json_t *body = json_object_get(root, "body");
    if (body == NULL || json_is_null(body)) {
        err = nw_set_error(errbuf, errlen, NW_EJSON, "no 'body' member: every document needs one");
        goto done;
    }
    if ((doc = nw_doc_new()) == NULL) {
        err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        goto done;
    }
    for (int f = 0; f < NW_DOC_FIELD_COUNT; f++) {
        json_t *v = json_object_get(root, field_names[f]);
        if (v == NULL || json_is_null(v))
            continue;
        if (!json_is_string(v)) {
            err =
                nw_set_error(errbuf, errlen, NW_EJSON, "'%s' must be a string%s, found %s",
                             field_names[f], f == NW_DOC_BODY ? "" : " or null", json_type_name(v));
            goto done;
        }
        err = nw_doc_set(doc, (nw_doc_field)f, json_string_value(v), json_string_length(v), errbuf,
                         errlen);
        if (err != NW_OK)
            goto done;
    }
    err = nw_doc_complete(doc, NULL, errbuf, errlen);
done:
    json_decref(root);
    if (err != NW_OK) {
        nw_doc_free(doc);
        return err;
    }
    *out = doc;
    return NW_OK;
}

nw_err nw_doc_from_json(const char *line, size_t len, nw_doc **out, char *errbuf, size_t errlen)
{
    return from_json(line, len, NULL, out, errbuf, errlen);
}

nw_err nw_doc_from_record(const char *value, size_t len, nw_doc **out, char *errbuf, size_t errlen)
{
    return from_json(value, len, NW_DOC_SCHEMA, out, errbuf, errlen);
}

nw_err nw_doc_to_json(const nw_doc *doc, const char *ingested_at, char **out, size_t *outlen,
                      char *errbuf, size_t errlen)
{
    *out = NULL;
    *outlen = 0;
    json_t *obj = json_object();
    if (obj == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    int rc = json_object_set_new(obj, "schema", json_string(NW_DOC_SCHEMA));
    for (int f = 0; f < NW_DOC_FIELD_COUNT && rc == 0; f++) {
        json_t *v;
        if (f == NW_DOC_INGESTED_AT && ingested_at != NULL) /* the producer's time */
            v = json_string(ingested_at);
        else
            v = doc->val[f] != NULL ? json_stringn(doc->val[f], doc->len[f]) : json_null();
        rc = json_object_set_new(obj, field_names[f], v);
    }
    char *s = rc == 0 ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(obj);
    if (s == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "cannot encode the document as JSON");
    *out = s;
    *outlen = strlen(s); /* jansson escapes U+0000, so there is no NUL inside */
    return NW_OK;
}
