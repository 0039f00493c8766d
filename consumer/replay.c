#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "newswatch/analyze.h"
#include "newswatch/input.h"
#include "newswatch/topics.h"
#include "pipeline.h"

static int load(const nw_consumer_opts *o, const nw_kvconf *conf, nw_pipeline *p)
{
    char err[1024];
    nw_pipeline_paths paths = {o->gazetteer, o->furniture};
    if (nw_pipeline_load(p, &paths, conf, err, sizeof err) != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        return NW_EXIT_USAGE;
    }
    return 0;
}

int nw_cmd_check_config(const nw_consumer_opts *o, const nw_kvconf *conf)
{
    char err[1024];
    nw_topics topics;
    nw_topics_init(&topics);
    if (nw_topics_configure(&topics, conf, err, sizeof err) != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        return NW_EXIT_USAGE;
    }
    nw_pipeline p;
    int status = load(o, conf, &p);
    if (status != 0)
        return status;
    if (!o->quiet)
        printf("%s: %zu entities\n%s: %zu rules\nconfiguration OK\n", p.gazetteer_path,
               nw_gazetteer_count(p.gazetteer), p.furniture_path, nw_furniture_count(p.furniture));
    nw_pipeline_unload(&p);
    return 0;
}

int nw_cmd_replay(const nw_consumer_opts *o, const nw_kvconf *conf)
{
    nw_pipeline p;
    int status = load(o, conf, &p);
    if (status != 0)
        return status;
    char err[1024];
    nw_analyzer *a = nw_analyzer_new(p.gazetteer, p.furniture, err, sizeof err);
    nw_input *in = nw_input_new(o->paths, o->npaths, o->max_bytes);
    if (a == NULL || in == NULL) {
        fprintf(stderr, NW_CONSUMER ": %s\n", a == NULL ? err : "out of memory");
        nw_analyzer_free(a);
        nw_input_free(in);
        nw_pipeline_unload(&p);
        return NW_EXIT_FAILED;
    }
    unsigned long ok = 0, failed = 0;
    char origin[1024];
    for (;;) {
        nw_doc *doc = NULL;
        nw_err e = nw_input_next(in, &doc, origin, sizeof origin, err, sizeof err);
        if (e == NW_EOF)
            break;
        const nw_analysis *an = NULL;
        char *json = NULL;
        size_t len = 0;
        if (e == NW_OK)
            e = nw_analyzer_run(a, doc, &an, err, sizeof err);
        if (e == NW_OK && (o->emit & NW_EMIT_ENRICHED))
            e = nw_analysis_to_json(an, doc, NULL, &json, &len, err, sizeof err);
        if (e != NW_OK) {
            fprintf(stderr, NW_CONSUMER ": %s: %s\n", origin, err);
            failed++;
        } else {
            if (json != NULL) {
                fwrite(json, 1, len, stdout);
                fputc('\n', stdout);
            }
            ok++;
        }
        free(json);
        nw_doc_free(doc);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, NW_CONSUMER ": cannot write to standard output\n");
        failed++;
    }
    if (!o->quiet || failed > 0)
        fprintf(stderr, NW_CONSUMER ": replayed %lu documents, %lu failed\n", ok, failed);
    nw_input_free(in);
    nw_analyzer_free(a);
    nw_pipeline_unload(&p);
    return failed > 0 ? NW_EXIT_FAILED : 0;
}
