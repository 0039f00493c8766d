#include "newswatch/kvconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/file.h"
#include "newswatch/utf8.h"
#include "grow.h"
#include "lines.h"

struct nw_kvconf {
    nw_kvconf_entry *entries;
    size_t count, cap;
    char *file;
    nw_pool strings; /* every string the entries point to */
};

void nw_kvconf_free(nw_kvconf *conf)
{
    if (conf == NULL)
        return;
    nw_pool_free(&conf->strings);
    free(conf->entries);
    free(conf->file);
    free(conf);
}

size_t nw_kvconf_count(const nw_kvconf *conf)
{
    return conf->count;
}

const nw_kvconf_entry *nw_kvconf_at(const nw_kvconf *conf, size_t i)
{
    return i < conf->count ? &conf->entries[i] : NULL;
}

static int valid_name(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return 0;
    }
    return 1;
}

/* Appends n bytes of s to the growing string *buf (length *len, capacity *cap). */
static bool append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (!nw_grow((void **)buf, cap, *len + n + 1, 1))
        return false;
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return true;
}

static bool env_name(const char *s, size_t n)
{
    if (n == 0 || isdigit((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

/*
 * ${NAME} and ${NAME:-default} in e's value, from the environment ($$ is a
 * '$'; another '$' stays as it is). An unset NAME without a default, or a
 * ${ without its }, is an error naming the file and line.
 */
static nw_err expand(nw_kvconf *conf, nw_kvconf_entry *e, char *errbuf, size_t errlen)
{
    const char *v = e->value;
    if (strchr(v, '$') == NULL)
        return NW_OK;
    char *out = NULL;
    size_t len = 0, cap = 0;
    nw_err err = NW_OK;
    bool ok = append(&out, &len, &cap, "", 0);
    while (ok && *v != '\0') {
        const char *d = strchr(v, '$');
        if (d == NULL) {
            ok = append(&out, &len, &cap, v, strlen(v));
            break;
        }
        ok = append(&out, &len, &cap, v, (size_t)(d - v));
        if (ok && d[1] == '$') {
            ok = append(&out, &len, &cap, "$", 1);
            v = d + 2;
        } else if (ok && d[1] == '{') {
            const char *close = strchr(d + 2, '}');
            if (close == NULL) {
                err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                                   "%s:%u: '${' without its '}' in the value of %s (write $$ for "
                                   "a '$')",
                                   e->file, e->line, e->key);
                break;
            }
            const char *name = d + 2, *dash = strstr(name, ":-");
            bool has_default = dash != NULL && dash < close;
            size_t nlen = (size_t)((has_default ? dash : close) - name);
            char nm[256];
            if (!env_name(name, nlen) || nlen >= sizeof nm) {
                err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                                   "%s:%u: '%.*s' is not an environment variable's name in the "
                                   "value of %s (letters, digits and '_', e.g. ${KAFKA_PASSWORD})",
                                   e->file, e->line, (int)nlen, name, e->key);
                break;
            }
            memcpy(nm, name, nlen);
            nm[nlen] = '\0';
            const char *val = getenv(nm);
            if (val != NULL && val[0] != '\0') {
                ok = append(&out, &len, &cap, val, strlen(val));
            } else if (has_default) {
                ok = append(&out, &len, &cap, dash + 2, (size_t)(close - dash - 2));
            } else {
                err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                                   "%s:%u: the value of %s uses ${%s}, which is not set (set it in "
                                   "the environment, or give a default: ${%s:-value})",
                                   e->file, e->line, e->key, nm, nm);
                break;
            }
            v = close + 1;
        } else if (ok) {
            ok = append(&out, &len, &cap, "$", 1);
            v = d + 1;
        }
    }
    if (err == NW_OK && ok && (e->value = nw_pool_keep(&conf->strings, out, len)) == NULL)
        ok = false;
    if (err == NW_OK && !ok)
        err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    free(out);
    return err;
}

nw_err nw_kvconf_new(const char *file, const char *text, size_t len, nw_kvconf **out, char *errbuf,
                     size_t errlen)
{
    *out = NULL;
    nw_kvconf *conf = calloc(1, sizeof(*conf));
    if (conf == NULL || (conf->file = malloc(strlen(file) + 1)) == NULL) {
        free(conf);
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    }
    memcpy(conf->file, file, strlen(file) + 1);

    nw_err err = NW_OK;
    const char *section = nw_pool_keep(&conf->strings, "kafka", 5);
    if (section == NULL)
        err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    nw_lines lines = nw_lines_of(text, len);
    const char *s;
    size_t n;
    while (err == NW_OK && nw_lines_next(&lines, &s, &n)) {
        unsigned lineno = lines.lineno;

        size_t bad;
        if (!nw_utf8_valid(s, n, &bad)) {
            err = nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: invalid UTF-8 at column %zu",
                               file, lineno, bad + 1);
            break;
        }
        if (memchr(s, '\0', n) != NULL) {
            err = nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: the line contains a NUL byte",
                               file, lineno);
            break;
        }
        bool indented = n > 0 && (s[0] == ' ' || s[0] == '\t');
        nw_trim(&s, &n);
        if (n == 0 || s[0] == '#')
            continue;
        /* An indented line without '=' continues the previous value. */
        if (indented && s[0] != '[' && memchr(s, '=', n) == NULL && conf->count > 0 &&
            conf->entries[conf->count - 1].section == section) {
            nw_kvconf_entry *prev = &conf->entries[conf->count - 1];
            size_t pl = strlen(prev->value);
            char *joined = malloc(pl + 1 + n + 1);
            if (joined == NULL) {
                err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
                break;
            }
            memcpy(joined, prev->value, pl);
            joined[pl] = ' ';
            memcpy(joined + pl + 1, s, n);
            joined[pl + 1 + n] = '\0';
            if ((prev->value = nw_pool_keep(&conf->strings, joined, pl + 1 + n)) == NULL)
                err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
            free(joined);
            continue;
        }
        if (s[0] == '[') {
            const char *name = s + 1;
            size_t m = n - 1;
            if (m == 0 || name[m - 1] != ']') {
                err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                                   "%s:%u: a section header must look like [name]", file, lineno);
                break;
            }
            m--;
            nw_trim(&name, &m);
            if (!valid_name(name, m)) {
                err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                                   "%s:%u: '%.*s' is not a valid section name (letters, digits, "
                                   "'.', '_', '-')",
                                   file, lineno, (int)m, name);
                break;
            }
            if ((section = nw_pool_keep(&conf->strings, name, m)) == NULL)
                err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
            continue;
        }
        const char *eq = memchr(s, '=', n);
        if (eq == NULL) {
            err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                               "%s:%u: expected 'key = value', found '%.*s'", file, lineno,
                               (int)(n > 60 ? 60 : n), s);
            break;
        }
        const char *k = s, *v = eq + 1;
        size_t kn = (size_t)(eq - s), vn = n - kn - 1;
        nw_trim(&k, &kn);
        nw_trim(&v, &vn);
        if (!valid_name(k, kn)) {
            err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                               kn == 0 ? "%s:%u: the key before '=' is empty%.*s"
                                       : "%s:%u: '%.*s' is not a valid key (letters, digits, "
                                         "'.', '_', '-')",
                               file, lineno, (int)kn, k);
            break;
        }
        if (!nw_grow((void **)&conf->entries, &conf->cap, conf->count + 1,
                     sizeof(*conf->entries))) {
            err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
            break;
        }
        nw_kvconf_entry *e = &conf->entries[conf->count];
        e->file = conf->file;
        e->line = lineno;
        e->section = section;
        e->key = nw_pool_keep(&conf->strings, k, kn);
        e->value = nw_pool_keep(&conf->strings, v, vn);
        if (e->key == NULL || e->value == NULL)
            err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        else
            conf->count++;
    }
    for (size_t i = 0; err == NW_OK && i < conf->count; i++)
        err = expand(conf, &conf->entries[i], errbuf, errlen);
    if (err != NW_OK) {
        nw_kvconf_free(conf);
        return err;
    }
    *out = conf;
    return NW_OK;
}

nw_err nw_kvconf_new_from_file(const char *path, nw_kvconf **out, char *errbuf, size_t errlen)
{
    char *buf;
    size_t len;
    *out = NULL;
    nw_err err = nw_file_read(path, 64u << 20, &buf, &len, errbuf, errlen);
    if (err != NW_OK)
        return err;
    err = nw_kvconf_new(path, buf, len, out, errbuf, errlen);
    free(buf);
    return err;
}

/*
 * The edit distance between a and b, a swap of two neighbours counting as
 * one edit (optimal string alignment), case ignored: short strings only
 * (keys and section names; (size_t)-1 past 64 bytes).
 */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t d[65][65];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        int ca = tolower((unsigned char)a[i - 1]);
        for (size_t j = 1; j <= lb; j++) {
            int cb = tolower((unsigned char)b[j - 1]);
            size_t best = d[i - 1][j - 1] + (ca == cb ? 0 : 1);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *nw_kvconf_suggest(const char *word, const char *const *candidates)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; candidates[i] != NULL; i++) {
        size_t d = distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    /* Close enough: a third of the word's letters at most (at least one, at most three). */
    size_t limit = strlen(word) / 3;
    if (limit < 1)
        limit = 1;
    if (limit > 3)
        limit = 3;
    return best != NULL && best_d <= limit ? best : NULL;
}

const char *nw_kvconf_did_you_mean(const char *word, const char *const *candidates, char *buf,
                                   size_t len)
{
    const char *near = nw_kvconf_suggest(word, candidates);
    snprintf(buf, len, near != NULL ? " (did you mean '%s'?)" : "%s", near != NULL ? near : "");
    return buf;
}

nw_err nw_kvconf_check_sections(const nw_kvconf *conf, const char *const *known, char *errbuf,
                                size_t errlen)
{
    for (size_t i = 0; conf != NULL && i < conf->count; i++) {
        const nw_kvconf_entry *e = &conf->entries[i];
        bool ok = false;
        for (size_t k = 0; known[k] != NULL && !ok; k++)
            ok = strcmp(e->section, known[k]) == 0;
        if (ok)
            continue;
        char list[512] = "";
        for (size_t k = 0; known[k] != NULL; k++) {
            size_t used = strlen(list);
            snprintf(list + used, sizeof list - used, "%s[%s]", k > 0 ? ", " : "", known[k]);
        }
        const char *near = nw_kvconf_suggest(e->section, known);
        return nw_set_error(errbuf, errlen, NW_ECONFIG,
                            "%s:%u: unknown section [%s]%s%s%s (known: %s)", e->file, e->line,
                            e->section, near != NULL ? " (did you mean [" : "",
                            near != NULL ? near : "", near != NULL ? "]?)" : "", list);
    }
    return NW_OK;
}

nw_err nw_kvconf_split(const char *arg, char **key, char **value, char *errbuf, size_t errlen)
{
    *key = *value = NULL;
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "'%s' is not of the form key=value", arg);
    size_t kn = (size_t)(eq - arg), vn = strlen(eq + 1);
    *key = malloc(kn + 1);
    *value = malloc(vn + 1);
    if (*key == NULL || *value == NULL) {
        free(*key);
        free(*value);
        *key = *value = NULL;
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    }
    memcpy(*key, arg, kn);
    (*key)[kn] = '\0';
    memcpy(*value, eq + 1, vn + 1);
    return NW_OK;
}

bool nw_parse_long(const char *s, long lo, long hi, long *out)
{
    const char *d = s[0] == '-' && lo < 0 ? s + 1 : s;
    if (*d == '\0')
        return false;
    for (const char *p = d; *p != '\0'; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}
