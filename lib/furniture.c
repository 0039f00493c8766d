#include "newswatch/furniture.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/dates.h"
#include "newswatch/file.h"
#include "newswatch/phrases.h"
#include "grow.h"
#include "lines.h"

enum kind { K_LINE = 1, K_PREFIX, K_SHORT, K_BLOCK, K_CREDIT, K_HEADING };

#define MAX_STRIPS  32
#define SHORT_WORDS 5

struct nw_furniture {
    nw_phrases *phrases; /* values: kind */
    char *strips[MAX_STRIPS];
    size_t nstrips;
    size_t nrules;
};

static const struct {
    const char *name;
    int kind;
} kinds[] = {{"line", K_LINE},     {"prefix", K_PREFIX},   {"short", K_SHORT}, {"block", K_BLOCK},
             {"credit", K_CREDIT}, {"heading", K_HEADING}, {"strip", 0}};

void nw_furniture_free(nw_furniture *f)
{
    if (f == NULL)
        return;
    nw_phrases_free(f->phrases);
    for (size_t i = 0; i < f->nstrips; i++)
        free(f->strips[i]);
    free(f);
}

size_t nw_furniture_count(const nw_furniture *f)
{
    return f->nrules;
}

nw_err nw_furniture_new(nw_normalizer *n, const char *file, const char *text, size_t len,
                        nw_furniture **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    nw_furniture *f = calloc(1, sizeof(*f));
    nw_text *t = nw_text_new();
    nw_segments *s = nw_segments_new();
    nw_err err = NW_OK;
    if (f == NULL || t == NULL || s == NULL || (f->phrases = nw_phrases_new()) == NULL) {
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
        const char *colon = memchr(line, ':', ll);
        int kind = -1;
        size_t kl = colon != NULL ? (size_t)(colon - line) : 0;
        for (size_t k = 0; colon != NULL && k < sizeof kinds / sizeof kinds[0]; k++)
            if (strlen(kinds[k].name) == kl && memcmp(kinds[k].name, line, kl) == 0)
                kind = kinds[k].kind;
        if (kind < 0) {
            err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                               "%s:%u: expected 'kind: text' with kind line, prefix, short, "
                               "block, heading, strip or credit; found '%.*s'",
                               file, lineno, (int)(ll > 60 ? 60 : ll), line);
            break;
        }
        const char *v = colon + 1;
        size_t vl = ll - kl - 1;
        while (vl > 0 && isspace((unsigned char)v[0])) {
            v++;
            vl--;
        }
        if (vl == 0) {
            err = nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: the rule has no text", file,
                               lineno);
            break;
        }
        if (kind == 0) { /* strip: a link prefix, compared case-insensitively */
            if (f->nstrips == MAX_STRIPS) {
                err = nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: more than %d strip rules",
                                   file, lineno, MAX_STRIPS);
                break;
            }
            char *p = malloc(vl + 1);
            if (p == NULL) {
                err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
                break;
            }
            for (size_t k = 0; k < vl; k++)
                p[k] = (char)tolower((unsigned char)v[k]);
            p[vl] = '\0';
            f->strips[f->nstrips++] = p;
        } else if (nw_phrases_add(f->phrases, n, t, s, v, vl, (uint32_t)kind, why, sizeof why) !=
                   NW_OK) {
            err = nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: %s", file, lineno, why);
            break;
        }
        f->nrules++;
    }
done:
    nw_text_free(t);
    nw_segments_free(s);
    if (err != NW_OK) {
        nw_furniture_free(f);
        return err;
    }
    *out = f;
    return NW_OK;
}

nw_err nw_furniture_new_from_file(nw_normalizer *n, const char *path, nw_furniture **out,
                                  char *errbuf, size_t errlen)
{
    char *buf;
    size_t len;
    *out = NULL;
    nw_err err = nw_file_read(path, 16u << 20, &buf, &len, errbuf, errlen);
    if (err != NW_OK)
        return err;
    err = nw_furniture_new(n, path, buf, len, out, errbuf, errlen);
    free(buf);
    return err;
}

nw_furniture_result *nw_furniture_result_new(void)
{
    return calloc(1, sizeof(nw_furniture_result));
}

void nw_furniture_result_free(nw_furniture_result *r)
{
    if (r == NULL)
        return;
    free(r->remove);
    free(r->tweets);
    free(r);
}

static bool add_remove(nw_furniture_result *r, uint32_t start, uint32_t end)
{
    if (end <= start)
        return true;
    if (r->nremove > 0 && r->remove[r->nremove - 1].end >= start) {
        if (r->remove[r->nremove - 1].end < end)
            r->remove[r->nremove - 1].end = end;
        return true;
    }
    if (!nw_grow((void **)&r->remove, &r->cap_remove, r->nremove + 1, sizeof(*r->remove)))
        return false;
    r->remove[r->nremove++] = (nw_span){start, end};
    return true;
}

/* The code point at index i of the match form. */
static int32_t cp_at(const nw_text *t, size_t i)
{
    const unsigned char *p = (const unsigned char *)t->match + t->match_cp[i];
    if (p[0] < 0x80)
        return p[0];
    if (p[0] < 0xE0)
        return ((p[0] & 0x1F) << 6) | (p[1] & 0x3F);
    if (p[0] < 0xF0)
        return ((p[0] & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    return ((p[0] & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
}

/* The code point (>= from) at which byte offset off of t's matching form starts. */
static uint32_t cp_of_byte(const nw_text *t, uint32_t from, size_t off)
{
    uint32_t lo = from, hi = (uint32_t)t->ncp;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->match_cp[mid] < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool has_kind(const nw_phrase_hit *h, int kind)
{
    for (uint32_t k = 0; k < h->nvalues; k++)
        if ((int)h->values[k] == kind)
            return true;
    return false;
}

/* Is tokens [a, b) exactly one credit phrase? */
static bool is_credit(const nw_furniture *f, const nw_text *t, const nw_segments *s, size_t a,
                      size_t b)
{
    nw_phrase_hit h;
    return f != NULL && a < b && nw_phrases_match(f->phrases, t, s, a, &h) && h.ntokens == b - a &&
           has_kind(&h, K_CREDIT);
}

/* A photo caption: the line ends with "(credit)" or "Source: credit". */
static bool is_caption(const nw_furniture *f, const nw_text *t, const nw_segments *s, uint32_t ls,
                       uint32_t le, size_t ti, size_t tj)
{
    if (tj <= ti)
        return false;
    if (cp_at(t, le - 1) == ')') {
        uint32_t open = le - 1;
        while (open > ls && cp_at(t, open) != '(')
            open--;
        if (cp_at(t, open) != '(' || open == ls)
            return false;
        size_t a = ti;
        while (a < tj && s->tokens[a].start < open)
            a++;
        return is_credit(f, t, s, a, tj);
    }
    /* "... Source: AP" / "المصدر: وكالات": only in a line with a colon (memchr over its bytes). */
    if (memchr(t->match + t->match_cp[ls], ':', t->match_cp[le] - t->match_cp[ls]) == NULL)
        return false;
    for (size_t k = ti; k + 1 < tj; k++) {
        size_t wl = t->match_cp[s->tokens[k].end] - t->match_cp[s->tokens[k].start];
        const char *w = t->match + t->match_cp[s->tokens[k].start];
        /* The first or last byte first: most words of a line are neither. */
        bool source = (wl == 6 && w[0] == 's' && memcmp(w, "source", 6) == 0) ||
                      (wl == 12 && w[11] == "المصدر"[11] && memcmp(w, "المصدر", 12) == 0);
        if (source && cp_at(t, s->tokens[k].end) == ':' && is_credit(f, t, s, k + 1, tj))
            return k > ti;
    }
    return false;
}

/* "- name (@handle) January 22, 2021": the attribution line of an embedded tweet. */
static bool tweet_attribution(const nw_text *t, const nw_segments *s, uint32_t ls, uint32_t le,
                              size_t ti, size_t tj, nw_tweet *tw)
{
    if (cp_at(t, ls) != '-' || tj <= ti)
        return false;
    for (size_t k = ti; k < tj; k++) {
        const nw_token *tok = &s->tokens[k];
        if (!(tok->flags & NW_TOKEN_MENTION) || tok->start == ls || tok->end >= le ||
            cp_at(t, tok->start - 1) != '(' || cp_at(t, tok->end) != ')')
            continue;
        /* After the handle: a date with a year. */
        uint32_t ds = tok->end + 1;
        while (ds < le && cp_at(t, ds) == ' ')
            ds++;
        bool year = false;
        for (size_t j = k + 1; j < tj; j++) {
            const nw_token *y = &s->tokens[j];
            if (y->kind == NW_TOKEN_NUMBER && y->end - y->start == 4)
                year = true;
        }
        if (!year || ds >= le)
            return false;
        uint32_t as = ls + 1;
        while (as < tok->start && cp_at(t, as) == ' ')
            as++;
        uint32_t ae = tok->start - 1;
        while (ae > as && cp_at(t, ae - 1) == ' ')
            ae--;
        tw->author = (nw_span){as, ae};
        tw->handle = (nw_span){tok->start, tok->end};
        tw->date = (nw_span){ds, le};
        return true;
    }
    return false;
}

/* A date alone: weekday, day, month names, year; nothing else. */
static bool date_line(const nw_text *t, const nw_segments *s, size_t ti, size_t tj)
{
    if (tj <= ti || tj - ti > 8)
        return false;
    bool month = false, number = false;
    for (size_t k = ti; k < tj; k++) {
        const nw_token *tok = &s->tokens[k];
        const char *w = t->match + t->match_cp[tok->start];
        size_t wl = t->match_cp[tok->end] - t->match_cp[tok->start];
        if (tok->kind == NW_TOKEN_NUMBER)
            number = true;
        else if (nw_dates_month(w, wl) > 0)
            month = true;
        else if (nw_dates_weekday(w, wl) == 0)
            return false;
    }
    return month && number;
}

nw_err nw_furniture_find(const nw_furniture *f, const nw_text *t, const nw_segments *s,
                         nw_furniture_result *r, char *errbuf, size_t errlen)
{
    r->nremove = r->ntweets = 0;
    r->page_date = (nw_span){0, 0};
    size_t ti = 0, url = 0;
    uint32_t prev_start = 0, prev_end = 0; /* the previous non-empty line */
    bool prev_removed = false, in_block = false, first_line = true;
    uint32_t ls = 0;
    while (ls < t->ncp) {
        /* The line's end: memchr over the bytes, then the code point there. */
        const char *nl = memchr(t->match + t->match_cp[ls], '\n', t->match_len - t->match_cp[ls]);
        uint32_t le = nl == NULL ? (uint32_t)t->ncp : cp_of_byte(t, ls, (size_t)(nl - t->match));
        uint32_t next = le < t->ncp ? le + 1 : le;
        size_t tj = ti;
        while (tj < s->ntokens && s->tokens[tj].start < le)
            tj++;
        if (le == ls) { /* a blank line ends a block */
            in_block = false;
            ls = next;
            ti = tj;
            continue;
        }
        bool drop = in_block;
        nw_phrase_hit h;
        if (!drop && f != NULL && ti < tj && nw_phrases_match(f->phrases, t, s, ti, &h)) {
            size_t words = tj - ti;
            if ((has_kind(&h, K_LINE) && h.ntokens == words) || has_kind(&h, K_PREFIX) ||
                (has_kind(&h, K_SHORT) && words <= SHORT_WORDS))
                drop = true;
            if (has_kind(&h, K_BLOCK) || (has_kind(&h, K_HEADING) && h.ntokens == words))
                drop = in_block = true;
        }
        nw_tweet tw;
        if (!drop && tweet_attribution(t, s, ls, le, ti, tj, &tw)) {
            drop = true;
            if (!nw_grow((void **)&r->tweets, &r->cap_tweets, r->ntweets + 1, sizeof(*r->tweets)))
                return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
            r->tweets[r->ntweets++] = tw;
        }
        if (!drop && first_line && date_line(t, s, ti, tj)) {
            drop = true;
            r->page_date = (nw_span){ls, le};
        }
        bool caption = !drop && is_caption(f, t, s, ls, le, ti, tj);
        bool repeat = prev_end > prev_start && le - ls == prev_end - prev_start &&
                      memcmp(t->match + t->match_cp[ls], t->match + t->match_cp[prev_start],
                             t->match_cp[le] - t->match_cp[ls]) == 0;
        if (caption || (repeat && !drop)) {
            drop = true;
            if (caption && repeat && !prev_removed &&
                !add_remove(r, prev_start, prev_end + 1 < t->ncp ? prev_end + 1 : prev_end))
                return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        }
        if (drop) {
            if (!add_remove(r, ls, next))
                return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        } else if (f != NULL) {
            /* Links to strip inside a kept line. */
            while (url < s->nurls && s->urls[url].end <= ls)
                url++;
            for (size_t u = url; u < s->nurls && s->urls[u].start < le; u++) {
                for (size_t k = 0; k < f->nstrips; k++) {
                    const char *pfx = f->strips[k];
                    size_t pl = strlen(pfx),
                           ul = t->match_cp[s->urls[u].end] - t->match_cp[s->urls[u].start];
                    if (ul >= pl &&
                        memcmp(t->match + t->match_cp[s->urls[u].start], pfx, pl) == 0) {
                        if (!add_remove(r, s->urls[u].start, s->urls[u].end))
                            return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
                        break;
                    }
                }
            }
        }
        prev_start = ls;
        prev_end = le;
        prev_removed = drop;
        first_line = false;
        ls = next;
        ti = tj;
    }
    return NW_OK;
}
