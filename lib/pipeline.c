#include "newswatch/pipeline.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The build's $(PREFIX)/share/newswatch: the last resort only. An installed
 * program finds its data next to itself (data_dir), so that `make install
 * PREFIX=X` after a plain `make` (built with the default prefix) works.
 */
#ifndef NW_DATADIR
#define NW_DATADIR "/usr/local/share/newswatch"
#endif

static const char *from_conf(const nw_kvconf *conf, const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; conf != NULL && i < nw_kvconf_count(conf); i++) {
        const nw_kvconf_entry *e = nw_kvconf_at(conf, i);
        if (strcmp(e->section, "pipeline") == 0 && strcmp(e->key, key) == 0)
            v = e->value;
    }
    return v;
}

/*
 * The data directory of the running program: $NEWSWATCH_DATADIR when set,
 * else <dir>/../share/newswatch for the program at <dir>/<name>
 * (/proc/self/exe, so $PREFIX/bin/newswatch-consumer finds
 * $PREFIX/share/newswatch, under DESTDIR too). Writes "" when neither is
 * known.
 */
static void data_dir(char *out, size_t len)
{
    const char *env = getenv("NEWSWATCH_DATADIR");
    out[0] = '\0';
    if (env != NULL && env[0] != '\0') {
        snprintf(out, len, "%s", env);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/'); /* <dir>/<name> -> <dir> */
    if (slash == NULL)
        return;
    *slash = '\0';
    if ((slash = strrchr(exe, '/')) == NULL) /* <prefix>/bin -> <prefix> */
        return;
    *slash = '\0';
    int w = snprintf(out, len, "%s/share/newswatch", exe);
    if (w < 0 || (size_t)w >= len)
        out[0] = '\0';
}

/*
 * A pipeline file: the command line, else [pipeline], else config/<file> in
 * the working directory, else the copy in the program's data directory, else
 * in NW_DATADIR. When none is readable, the data directory's (the one an
 * install fills) is the one an error names.
 */
static void resolve(char *out, size_t len, const char *given, const nw_kvconf *conf,
                    const char *key, const char *file)
{
    const char *v = given != NULL ? given : from_conf(conf, key);
    if (v != NULL) {
        snprintf(out, len, "%s", v);
        return;
    }
    snprintf(out, len, "config/%s", file);
    if (access(out, R_OK) == 0)
        return;
    char dir[PATH_MAX];
    data_dir(dir, sizeof dir);
    int w = dir[0] != '\0' ? snprintf(out, len, "%s/config/%s", dir, file) : -1;
    if (w > 0 && (size_t)w < len && (access(out, R_OK) == 0 || getenv("NEWSWATCH_DATADIR") != NULL))
        return;
    snprintf(out, len, "%s/config/%s", NW_DATADIR, file);
    if (access(out, R_OK) != 0 && w > 0 && (size_t)w < len)
        snprintf(out, len, "%s/config/%s", dir, file);
}

nw_err nw_pipeline_load(nw_pipeline *p, const nw_pipeline_paths *paths, const nw_kvconf *conf,
                        char *errbuf, size_t errlen)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; conf != NULL && i < nw_kvconf_count(conf); i++) {
        const nw_kvconf_entry *e = nw_kvconf_at(conf, i);
        if (strcmp(e->section, "pipeline") == 0 && strcmp(e->key, "gazetteer") != 0 &&
            strcmp(e->key, "furniture") != 0 && strcmp(e->key, "events") != 0)
            return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                "%s:%u: unknown key '%s' in [pipeline] (known: gazetteer, "
                                "furniture, events)",
                                e->file, e->line, e->key);
    }
    resolve(p->gazetteer_path, sizeof p->gazetteer_path, paths->gazetteer, conf, "gazetteer",
            "gazetteer.txt");
    resolve(p->furniture_path, sizeof p->furniture_path, paths->furniture, conf, "furniture",
            "furniture.conf");
    resolve(p->events_path, sizeof p->events_path, paths->events, conf, "events", "events.conf");
    if ((p->norm = nw_normalizer_new(errbuf, errlen)) == NULL)
        return NW_EINVAL;
    nw_err err =
        nw_gazetteer_new_from_file(p->norm, p->gazetteer_path, &p->gazetteer, errbuf, errlen);
    if (err == NW_OK)
        err = nw_furniture_new_from_file(p->norm, p->furniture_path, &p->furniture, errbuf, errlen);
    if (err == NW_OK)
        err = nw_rules_new_from_file(p->norm, p->gazetteer, p->events_path, &p->rules, errbuf,
                                     errlen);
    if (err != NW_OK)
        nw_pipeline_unload(p);
    return err;
}

void nw_pipeline_unload(nw_pipeline *p)
{
    nw_rules_free(p->rules); /* before the gazetteer it borrows */
    p->rules = NULL;
    nw_gazetteer_free(p->gazetteer);
    nw_furniture_free(p->furniture);
    nw_normalizer_free(p->norm);
    p->gazetteer = NULL;
    p->furniture = NULL;
    p->norm = NULL;
}
