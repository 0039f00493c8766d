/*
 * The configuration files the pipeline reads (gazetteer, page furniture,
 * tracked events),
 * found from the command line, the [pipeline] section of the config file, or
 * the defaults: ./config/<name> when it exists, else the installed copy in
 * the program's data directory, <prefix>/share/newswatch/config/<name> for a
 * program in <prefix>/bin ($NEWSWATCH_DATADIR overrides it), else the build's
 * NW_DATADIR/config/<name>.
 *
 * Ownership: an nw_pipeline owns what it loaded.
 */
#ifndef NEWSWATCH_PIPELINE_H
#define NEWSWATCH_PIPELINE_H

#include <stddef.h>

#include "newswatch/analyze.h"
#include "newswatch/kvconf.h"
#include "newswatch/rules.h"

typedef struct nw_pipeline_paths {
    const char *gazetteer; /* NULL: [pipeline] gazetteer, else the default */
    const char *furniture; /* NULL: [pipeline] furniture, else the default */
    const char *events;    /* NULL: [pipeline] events, else the default */
} nw_pipeline_paths;

typedef struct nw_pipeline {
    nw_normalizer *norm;
    nw_gazetteer *gazetteer;
    nw_furniture *furniture;
    nw_rules *rules;
    char gazetteer_path[1024], furniture_path[1024], events_path[1024];
} nw_pipeline;

/* Loads everything; errors name the file and line. */
nw_err nw_pipeline_load(nw_pipeline *p, const nw_pipeline_paths *paths, const nw_kvconf *conf,
                        char *errbuf, size_t errlen);
/* Frees what was loaded; safe on a zeroed struct. */
void nw_pipeline_unload(nw_pipeline *p);

#endif
