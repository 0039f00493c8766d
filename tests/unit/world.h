/*
 * The default configuration for unit tests that run the whole chain:
 * config/gazetteer.txt, config/furniture.conf and config/events.conf, an
 * analyzer and a matcher. Use tu_world_setup and tu_world_teardown as a cmocka
 * group's setup and teardown; *state is then a tu_world.
 */
#ifndef NEWSWATCH_TEST_WORLD_H
#define NEWSWATCH_TEST_WORLD_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/analyze.h"
#include "newswatch/rules.h"

typedef struct tu_world {
    nw_normalizer *n;
    nw_gazetteer *g;
    nw_furniture *f;
    nw_rules *rules;
    nw_analyzer *a;
    nw_matcher *m;
    nw_doc *doc; /* the document last analysed by tu_analyse */
} tu_world;

static inline int tu_world_teardown(void **state)
{
    tu_world *w = *state;
    if (w == NULL)
        return 0;
    nw_doc_free(w->doc);
    nw_matcher_free(w->m);
    nw_analyzer_free(w->a);
    nw_rules_free(w->rules);
    nw_gazetteer_free(w->g);
    nw_furniture_free(w->f);
    nw_normalizer_free(w->n);
    free(w);
    *state = NULL;
    return 0;
}

static inline int tu_world_setup(void **state)
{
    tu_world *w = calloc(1, sizeof *w);
    char err[512] = "out of memory";
    *state = w;
    if (w == NULL || (w->n = nw_normalizer_new(err, sizeof err)) == NULL ||
        nw_gazetteer_new_from_file(w->n, "config/gazetteer.txt", &w->g, err, sizeof err) != NW_OK ||
        nw_furniture_new_from_file(w->n, "config/furniture.conf", &w->f, err, sizeof err) !=
            NW_OK ||
        nw_rules_new_from_file(w->n, w->g, "config/events.conf", &w->rules, err, sizeof err) !=
            NW_OK ||
        (w->a = nw_analyzer_new(w->g, w->f, (const nw_phrases *[]){nw_rules_terms(w->rules)}, 1,
                                err, sizeof err)) == NULL ||
        (w->m = nw_matcher_new(w->rules)) == NULL) {
        fprintf(stderr, "%s\n", err);
        tu_world_teardown(state);
        return -1;
    }
    return 0;
}

/* Analyses a document with this body (its id and title derived from it). */
static inline const nw_analysis *tu_analyse(tu_world *w, const char *body)
{
    char err[256];
    nw_doc_free(w->doc);
    w->doc = nw_doc_new();
    assert_int_equal(nw_doc_set(w->doc, NW_DOC_BODY, body, strlen(body), err, sizeof err), NW_OK);
    assert_int_equal(nw_doc_complete(w->doc, NULL, err, sizeof err), NW_OK);
    const nw_analysis *an;
    if (nw_analyzer_run(w->a, w->doc, &an, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    return an;
}

#endif
