#include "newswatch/gazetteer.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/file.h"
#include "newswatch/hash.h"
#include "newswatch/segment.h"
#include "newswatch/utf8.h"
#include "grow.h"
#include "lines.h"

struct nw_gazetteer {
    nw_entity *entities;
    size_t count, cap;
    nw_pool strings; /* ids and names the entities point to */
    nw_phrases *phrases;
    uint32_t *idslots; /* open addressing over ids: entity index + 1 */
    size_t nidslots;
};

static const char *const type_names[NW_ENTITY_TYPE_COUNT] = {"PERSON", "ORG", "LOC", "FACILITY"};
static const char *const type_prefixes[NW_ENTITY_TYPE_COUNT] = {"per.", "org.", "loc.", "fac."};

const char *nw_entity_type_name(nw_entity_type type)
{
    return type < NW_ENTITY_TYPE_COUNT ? type_names[type] : "?";
}

bool nw_entity_within(const nw_entity *e, const nw_entity *ancestor)
{
    if (ancestor == NULL)
        return false;
    /* The loader refuses cycles, so the walk ends. */
    for (; e != NULL; e = e->parent)
        if (e == ancestor)
            return true;
    return false;
}

void nw_gazetteer_free(nw_gazetteer *g)
{
    if (g == NULL)
        return;
    nw_pool_free(&g->strings);
    free(g->entities);
    free(g->idslots);
    nw_phrases_free(g->phrases);
    free(g);
}

size_t nw_gazetteer_count(const nw_gazetteer *g)
{
    return g->count;
}

const nw_entity *nw_gazetteer_at(const nw_gazetteer *g, size_t i)
{
    return i < g->count ? &g->entities[i] : NULL;
}

const nw_phrases *nw_gazetteer_phrases(const nw_gazetteer *g)
{
    return g->phrases;
}

const nw_entity *nw_gazetteer_find(const nw_gazetteer *g, const char *id)
{
    if (g->nidslots == 0)
        return NULL;
    size_t mask = g->nidslots - 1;
    size_t i = (size_t)nw_hash_fnv1a64(id, strlen(id)) & mask;
    while (g->idslots[i] != 0) {
        const nw_entity *e = &g->entities[g->idslots[i] - 1];
        if (strcmp(e->id, id) == 0)
            return e;
        i = (i + 1) & mask;
    }
    return NULL;
}

/* A sixth field, read before the parents can be resolved: they may come later in the file. */
typedef struct pending_parent {
    size_t entity;
    unsigned lineno;
    const char *id; /* in the text being parsed, not NUL-terminated */
    size_t idlen;
} pending_parent;

/*
 * Points each entity with a sixth field at its parent, then refuses cycles.
 * Errors name the line of the first entity (in file order) that has an
 * unknown parent or lies on a cycle.
 */
static nw_err resolve_parents(nw_gazetteer *g, const char *file, const pending_parent *pp,
                              size_t npp, char *errbuf, size_t errlen)
{
    char id[129];
    for (size_t k = 0; k < npp; k++) {
        memcpy(id, pp[k].id, pp[k].idlen);
        id[pp[k].idlen] = '\0';
        const nw_entity *parent = nw_gazetteer_find(g, id);
        if (parent == NULL)
            return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                "%s:%u: the parent '%s' of '%s' is not an entity of the file", file,
                                pp[k].lineno, id, g->entities[pp[k].entity].id);
        g->entities[pp[k].entity].parent = parent;
    }
    /*
     * Cycles: walk up from each entity in file order, marking the way (1)
     * until an entity already cleared (2) or the top; meeting a mark of this
     * walk is a cycle through that entity.
     */
    unsigned char *state = calloc(g->count ? g->count : 1, 1);
    if (state == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    nw_err err = NW_OK;
    for (size_t i = 0; i < g->count && err == NW_OK; i++) {
        const nw_entity *e = &g->entities[i];
        while (e != NULL && state[e - g->entities] == 0) {
            state[e - g->entities] = 1;
            e = e->parent;
        }
        if (e != NULL && state[e - g->entities] == 1) {
            /* e is on the cycle: name its line and the entities around it. */
            char path[512];
            size_t used = 0;
            const nw_entity *c = e;
            do {
                int w = snprintf(path + used, sizeof path - used, "%s > ", c->id);
                if (w < 0 || (size_t)w >= sizeof path - used)
                    break;
                used += (size_t)w;
                c = c->parent;
            } while (c != e);
            snprintf(path + used, sizeof path - used, "%s", e->id);
            unsigned lineno = 0;
            for (size_t k = 0; k < npp; k++)
                if (&g->entities[pp[k].entity] == e)
                    lineno = pp[k].lineno;
            err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                               "%s:%u: '%s' lies within itself through its parents: %s", file,
                               lineno, e->id, path);
        }
        for (e = &g->entities[i]; e != NULL && state[e - g->entities] == 1; e = e->parent)
            state[e - g->entities] = 2;
    }
    free(state);
    return err;
}

/* Splits s[0..n) at sep; fills up to max fields; returns the count. */
static size_t split(const char *s, size_t n, char sep, const char **f, size_t *fl, size_t max)
{
    size_t count = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == sep) {
            if (count < max) {
                f[count] = s + start;
                fl[count] = i - start;
                nw_trim(&f[count], &fl[count]);
            }
            count++;
            start = i + 1;
        }
    }
    return count;
}

static bool valid_id(const char *s, size_t n)
{
    if (n < 5 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(islower(c) || isdigit(c) || c == '.' || c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* All capitals, Latin, at most four letters: "BIAP", "INA". */
static bool capitals_only(const char *s, size_t n)
{
    if (n < 2 || n > 4)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isupper((unsigned char)s[i]))
            return false;
    return true;
}

static bool index_id(nw_gazetteer *g, size_t idx)
{
    if ((g->count + 1) * 2 >= g->nidslots) {
        size_t n = g->nidslots ? g->nidslots * 2 : 1024;
        uint32_t *ns = calloc(n, sizeof(uint32_t));
        if (ns == NULL)
            return false;
        for (size_t k = 0; k < idx; k++) {
            size_t i =
                (size_t)nw_hash_fnv1a64(g->entities[k].id, strlen(g->entities[k].id)) & (n - 1);
            while (ns[i] != 0)
                i = (i + 1) & (n - 1);
            ns[i] = (uint32_t)k + 1;
        }
        free(g->idslots);
        g->idslots = ns;
        g->nidslots = n;
    }
    size_t mask = g->nidslots - 1;
    size_t i = (size_t)nw_hash_fnv1a64(g->entities[idx].id, strlen(g->entities[idx].id)) & mask;
    while (g->idslots[i] != 0)
        i = (i + 1) & mask;
    g->idslots[i] = (uint32_t)idx + 1;
    return true;
}

nw_err nw_gazetteer_new(nw_normalizer *n, const char *file, const char *text, size_t len,
                        nw_gazetteer **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    size_t bad;
    if (!nw_utf8_valid(text, len, &bad))
        return nw_set_error(errbuf, errlen, NW_ECONFIG, "%s: invalid UTF-8 at byte offset %zu",
                            file, bad);
    nw_gazetteer *g = calloc(1, sizeof(*g));
    nw_text *t = nw_text_new();
    nw_segments *s = nw_segments_new();
    nw_err err = NW_OK;
    pending_parent *pp = NULL;
    size_t npp = 0, ppcap = 0;
    if (g == NULL || t == NULL || s == NULL || (g->phrases = nw_phrases_new()) == NULL) {
        err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        goto done;
    }
    nw_lines lines = nw_lines_of(text, len);
    const char *line;
    size_t ll;
    char why[512];
    while (err == NW_OK && nw_lines_next(&lines, &line, &ll)) {
        unsigned lineno = lines.lineno;
        nw_trim(&line, &ll);
        if (ll == 0 || line[0] == '#')
            continue;
        const char *f[7];
        size_t fl[7];
        size_t nf = split(line, ll, '|', f, fl, 7);
        if (nf != 5 && nf != 6) {
            err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                               "%s:%u: expected 5 or 6 fields 'id | TYPE | English name | Arabic "
                               "name | aliases [| parent id]', found %zu",
                               file, lineno, nf);
            break;
        }
        if (!valid_id(f[0], fl[0])) {
            err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                               "%s:%u: '%.*s' is not a valid id (per., org., loc. or fac. then "
                               "lower-case letters, digits, '-')",
                               file, lineno, (int)fl[0], f[0]);
            break;
        }
        int type = -1;
        for (int k = 0; k < NW_ENTITY_TYPE_COUNT; k++)
            if (fl[1] == strlen(type_names[k]) && memcmp(f[1], type_names[k], fl[1]) == 0)
                type = k;
        if (type < 0) {
            err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                               "%s:%u: unknown type '%.*s' (PERSON, ORG, LOC or FACILITY)", file,
                               lineno, (int)fl[1], f[1]);
            break;
        }
        if (memcmp(f[0], type_prefixes[type], 4) != 0) {
            err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                               "%s:%u: the id of a %s starts with '%s', not '%.*s'", file, lineno,
                               type_names[type], type_prefixes[type], (int)fl[0], f[0]);
            break;
        }
        if (fl[2] == 0 && fl[3] == 0) {
            err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                               "%s:%u: an entity needs an English or an Arabic name", file, lineno);
            break;
        }
        /* An empty sixth field (a line ending with a bare pipe) is no parent. */
        if (nf == 6 && fl[5] > 0) {
            if (!valid_id(f[5], fl[5])) {
                err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                                   "%s:%u: the parent '%.*s' is not a valid id", file, lineno,
                                   (int)fl[5], f[5]);
                break;
            }
            if (fl[5] == fl[0] && memcmp(f[5], f[0], fl[0]) == 0) {
                err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                                   "%s:%u: '%.*s' cannot lie within itself", file, lineno,
                                   (int)fl[0], f[0]);
                break;
            }
        }
        char *id = nw_pool_keep(&g->strings, f[0], fl[0]);
        char *en = nw_pool_keep(&g->strings, f[2], fl[2]);
        char *ar = nw_pool_keep(&g->strings, f[3], fl[3]);
        if (id == NULL || en == NULL || ar == NULL) {
            err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
            break;
        }
        if (nw_gazetteer_find(g, id) != NULL) {
            err = nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: the id '%s' is used twice", file,
                               lineno, id);
            break;
        }
        if (!nw_grow((void **)&g->entities, &g->cap, g->count + 1, sizeof(*g->entities))) {
            err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
            break;
        }
        size_t idx = g->count++;
        g->entities[idx] = (nw_entity){id, (nw_entity_type)type, en, ar, NULL};
        if (!index_id(g, idx)) {
            err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
            break;
        }
        if (nf == 6 && fl[5] > 0) {
            if (!nw_grow((void **)&pp, &ppcap, npp + 1, sizeof *pp)) {
                err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
                break;
            }
            pp[npp++] = (pending_parent){idx, lineno, f[5], fl[5]};
        }
        /* Names and aliases. */
        const char *names[2 + 64];
        size_t nl2[2 + 64];
        size_t nn = 0;
        if (fl[2] > 0) {
            names[nn] = f[2];
            nl2[nn++] = fl[2];
        }
        if (fl[3] > 0) {
            names[nn] = f[3];
            nl2[nn++] = fl[3];
        }
        if (fl[4] > 0) {
            size_t na = split(f[4], fl[4], ';', names + nn, nl2 + nn, 64);
            if (na > 64) {
                err = nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: more than 64 aliases", file,
                                   lineno);
                break;
            }
            nn += na;
        }
        for (size_t k = 0; k < nn && err == NW_OK; k++) {
            if (nl2[k] == 0) {
                err = nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: an empty alias (';;')", file,
                                   lineno);
                break;
            }
            uint32_t value = (uint32_t)idx * 2 + (capitals_only(names[k], nl2[k]) ? 1 : 0);
            if (nw_phrases_add(g->phrases, n, t, s, names[k], nl2[k], value, why, sizeof why) !=
                NW_OK)
                err = nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: %s", file, lineno, why);
        }
    }
    if (err == NW_OK)
        err = resolve_parents(g, file, pp, npp, errbuf, errlen);
done:
    free(pp);
    nw_text_free(t);
    nw_segments_free(s);
    if (err != NW_OK) {
        nw_gazetteer_free(g);
        return err;
    }
    *out = g;
    return NW_OK;
}

nw_err nw_gazetteer_new_from_file(nw_normalizer *n, const char *path, nw_gazetteer **out,
                                  char *errbuf, size_t errlen)
{
    char *buf;
    size_t len;
    *out = NULL;
    nw_err err = nw_file_read(path, 64u << 20, &buf, &len, errbuf, errlen);
    if (err != NW_OK)
        return err;
    err = nw_gazetteer_new(n, path, buf, len, out, errbuf, errlen);
    free(buf);
    return err;
}
