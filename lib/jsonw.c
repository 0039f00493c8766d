/* A streaming JSON writer (include/newswatch/jsonw.h). */
#include "newswatch/jsonw.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

#define MAX_DEPTH 32

struct nw_jsonw {
    char *buf;
    size_t len, cap;
    bool failed;   /* an allocation failed: finish reports NW_ENOMEM */
    bool overflow; /* nested deeper than MAX_DEPTH or unbalanced: NW_EINVAL */
    bool after_key;
    int depth;
    bool has_items[MAX_DEPTH]; /* the open container has a member or element */
};

/* Bytes that a JSON string cannot hold as they are: '"', '\\', U+0000..U+001F. */
static const unsigned char needs_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

nw_jsonw *nw_jsonw_new(void)
{
    return calloc(1, sizeof(nw_jsonw));
}

void nw_jsonw_free(nw_jsonw *w)
{
    if (w == NULL)
        return;
    free(w->buf);
    free(w);
}

void nw_jsonw_reset(nw_jsonw *w)
{
    w->len = 0;
    w->failed = w->overflow = w->after_key = false;
    w->depth = 0;
}

/* Room for n more bytes plus a NUL. */
static bool reserve(nw_jsonw *w, size_t n)
{
    if (w->failed)
        return false;
    if (nw_grow((void **)&w->buf, &w->cap, w->len + n + 1, 1))
        return true;
    w->failed = true;
    return false;
}

static void put(nw_jsonw *w, const char *s, size_t n)
{
    if (!reserve(w, n))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void put_char(nw_jsonw *w, char c)
{
    if (!reserve(w, 1))
        return;
    w->buf[w->len++] = c;
}

/* A comma when the value is not the first of its container (or follows a key). */
static void before_value(nw_jsonw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        if (w->has_items[w->depth - 1])
            put_char(w, ',');
        w->has_items[w->depth - 1] = true;
    }
}

/*
 * Does one of the eight bytes at p need an escape? Exact, with the usual word
 * tricks: a byte is zero when (x - 1) & ~x has its high bit, and below 0x20
 * when (x - 0x20) & ~x has it (borrows only ever come from such a byte).
 */
static inline bool any_escape(const char *p)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t v, q, b;
    memcpy(&v, p, 8);
    q = v ^ (ones * '"');
    b = v ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v)) & highs;
}

static void put_string(nw_jsonw *w, const char *s, size_t n)
{
    /* At most 6 output bytes per input byte (\u00XX); reserve the common case. */
    if (!reserve(w, n + 2))
        return;
    w->buf[w->len++] = '"';
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        /* Eight bytes at a time while none of them needs an escape (most of a text). */
        while (i + 8 <= n && !any_escape(s + i))
            i += 8;
        if (i >= n)
            break;
        unsigned char c = (unsigned char)s[i];
        if (!needs_escape[c])
            continue;
        put(w, s + run, i - run);
        run = i + 1;
        char esc[8];
        switch (c) {
        case '"':
            put(w, "\\\"", 2);
            break;
        case '\\':
            put(w, "\\\\", 2);
            break;
        case '\b':
            put(w, "\\b", 2);
            break;
        case '\f':
            put(w, "\\f", 2);
            break;
        case '\n':
            put(w, "\\n", 2);
            break;
        case '\r':
            put(w, "\\r", 2);
            break;
        case '\t':
            put(w, "\\t", 2);
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04X", c);
            put(w, esc, 6);
            break;
        }
    }
    put(w, s + run, n - run);
    put_char(w, '"');
}

static void open_container(nw_jsonw *w, char c)
{
    before_value(w);
    put_char(w, c);
    if (w->depth >= MAX_DEPTH) {
        w->overflow = true;
        return;
    }
    w->has_items[w->depth++] = false;
}

static void close_container(nw_jsonw *w, char c)
{
    if (w->depth == 0 || w->after_key)
        w->overflow = true;
    else
        w->depth--;
    put_char(w, c);
}

void nw_jsonw_object_begin(nw_jsonw *w)
{
    open_container(w, '{');
}

void nw_jsonw_object_end(nw_jsonw *w)
{
    close_container(w, '}');
}

void nw_jsonw_array_begin(nw_jsonw *w)
{
    open_container(w, '[');
}

void nw_jsonw_array_end(nw_jsonw *w)
{
    close_container(w, ']');
}

void nw_jsonw_key(nw_jsonw *w, const char *key)
{
    before_value(w);
    put_string(w, key, strlen(key));
    put_char(w, ':');
    w->after_key = true;
}

void nw_jsonw_string(nw_jsonw *w, const char *s, size_t len)
{
    before_value(w);
    if (s == NULL)
        put(w, "null", 4);
    else
        put_string(w, s, len);
}

void nw_jsonw_cstring(nw_jsonw *w, const char *s)
{
    nw_jsonw_string(w, s, s != NULL ? strlen(s) : 0);
}

void nw_jsonw_int(nw_jsonw *w, int64_t v)
{
    before_value(w);
    /* Digits from the last, of the magnitude as unsigned (INT64_MIN has no positive). */
    char num[24];
    size_t at = sizeof num;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        num[--at] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (v < 0)
        num[--at] = '-';
    put(w, num + at, sizeof num - at);
}

void nw_jsonw_bool(nw_jsonw *w, bool v)
{
    before_value(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void nw_jsonw_null(nw_jsonw *w)
{
    before_value(w);
    put(w, "null", 4);
}

nw_err nw_jsonw_members(nw_jsonw *w, const char *members_json, size_t len, const char *const *taken,
                        char *errbuf, size_t errlen)
{
    json_error_t jerr;
    json_t *o = json_loadb(members_json, len, 0, &jerr);
    if (!json_is_object(o)) {
        json_decref(o);
        return nw_set_error(errbuf, errlen, NW_EINVAL, "extra members are not a JSON object");
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        for (size_t i = 0; taken != NULL && taken[i] != NULL; i++)
            if (strcmp(key, taken[i]) == 0) {
                nw_err e = nw_set_error(errbuf, errlen, NW_EINVAL,
                                        "extra member \"%s\" is already in the record", key);
                json_decref(o);
                return e;
            }
    }
    /* Validated: splice the text between the outer braces, whitespace trimmed. */
    size_t a = 0, b = len;
    while (a < b && members_json[a] != '{')
        a++;
    while (b > a && members_json[b - 1] != '}')
        b--;
    a++, b--;
    while (a < b && strchr(" \t\r\n", members_json[a]) != NULL)
        a++;
    if (a < b) {
        before_value(w);
        put(w, members_json + a, b - a);
    }
    json_decref(o);
    return NW_OK;
}

nw_err nw_jsonw_finish(nw_jsonw *w, const char **out, size_t *len, char *errbuf, size_t errlen)
{
    *out = NULL;
    *len = 0;
    if (w->failed)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory writing JSON");
    if (w->overflow || w->depth != 0 || w->after_key)
        return nw_set_error(errbuf, errlen, NW_EINVAL,
                            "JSON writer: unbalanced or too deeply nested (at most %d levels)",
                            MAX_DEPTH);
    if (!reserve(w, 0))
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory writing JSON");
    w->buf[w->len] = '\0';
    *out = w->buf;
    *len = w->len;
    return NW_OK;
}

nw_err nw_jsonw_finish_copy(nw_jsonw *w, char **out, size_t *len, char *errbuf, size_t errlen)
{
    const char *json;
    *out = NULL;
    nw_err err = nw_jsonw_finish(w, &json, len, errbuf, errlen);
    if (err != NW_OK)
        return err;
    if ((*out = malloc(*len + 1)) == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    memcpy(*out, json, *len + 1);
    return NW_OK;
}

nw_err nw_jsonw_end_object_copy(nw_jsonw *w, const char *extra_json, const char *const *taken,
                                char **out, size_t *len, char *errbuf, size_t errlen)
{
    *out = NULL;
    *len = 0;
    nw_err err = extra_json != NULL
                     ? nw_jsonw_members(w, extra_json, strlen(extra_json), taken, errbuf, errlen)
                     : NW_OK;
    if (err != NW_OK)
        return err;
    nw_jsonw_object_end(w);
    return nw_jsonw_finish_copy(w, out, len, errbuf, errlen);
}
