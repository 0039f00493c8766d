#include "newswatch/pipeline.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

static void resolve(char *out, size_t len, const char *given, const nw_kvconf *conf,
                    const char *key, const char *file)
{
    const char *v = given != NULL ? given : from_conf(conf, key);
    if (v != NULL) {
        snprintf(out, len, "%s", v);
        return;
    }
    snprintf(out, len, "config/%s", file);
    if (access(out, R_OK) != 0)
        snprintf(out, len, "%s/config/%s", NW_DATADIR, file);
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
