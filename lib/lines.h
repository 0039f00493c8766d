/*
 * Internal to lib/: what the line-based configuration parsers (gazetteer,
 * furniture rules, key = value files) share: reading a text line by line
 * with line numbers, trimming white space, and a pool of string copies that
 * the parsed object owns.
 */
#ifndef NEWSWATCH_LIB_LINES_H
#define NEWSWATCH_LIB_LINES_H

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

typedef struct nw_lines {
    const char *text;
    size_t len, pos;
    unsigned lineno; /* of the line last returned, from 1 */
} nw_lines;

static inline nw_lines nw_lines_of(const char *text, size_t len)
{
    return (nw_lines){text, len, 0, 0};
}

/* The next line (without its '\n', not trimmed); false at the end of the text. */
static inline bool nw_lines_next(nw_lines *r, const char **line, size_t *len)
{
    if (r->pos >= r->len)
        return false;
    const char *nl = memchr(r->text + r->pos, '\n', r->len - r->pos);
    size_t end = nl != NULL ? (size_t)(nl - r->text) : r->len;
    *line = r->text + r->pos;
    *len = end - r->pos;
    r->pos = end + 1;
    r->lineno++;
    return true;
}

/* Drops white space from both ends of s[0..*n). */
static inline void nw_trim(const char **s, size_t *n)
{
    while (*n > 0 && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* NUL-terminated copies that live until nw_pool_free. */
typedef struct nw_pool {
    char **strings;
    size_t n, cap;
} nw_pool;

/* A copy of s[0..n) kept by the pool, or NULL when out of memory. */
static inline char *nw_pool_keep(nw_pool *p, const char *s, size_t n)
{
    if (!nw_grow((void **)&p->strings, &p->cap, p->n + 1, sizeof(char *)))
        return NULL;
    char *c = malloc(n + 1);
    if (c == NULL)
        return NULL;
    memcpy(c, s, n);
    c[n] = '\0';
    p->strings[p->n++] = c;
    return c;
}

static inline void nw_pool_free(nw_pool *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->strings[i]);
    free(p->strings);
    p->strings = NULL;
    p->n = p->cap = 0;
}

#endif
