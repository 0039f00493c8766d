/*
 * Fuzz target: the text pipeline on arbitrary text, as the daemon runs it
 * per document (consumer/work.c, consumer/replay.c): the input is a
 * document's body (title derived from it, as for a text file), given to the
 * enricher with the default gazetteer, furniture rules and tracked events in
 * config/ (normalise, furniture, segment, language, entities, dates,
 * casualties, then the event rules, salience and the match records), and
 * each match record to the alerter. The raw bytes also go to nw_normalize
 * with and without its fast path.
 *
 * Oracle: no crash, leak or undefined behaviour (ASan, UBSan), and
 *  - nw_normalize gives the same text with and without the fast path (the
 *    documented promise of newswatch/normalize.h), and fails only on invalid
 *    UTF-8;
 *  - the enriched record and every match record are JSON objects, and the
 *    alerter takes every match record the enricher writes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "newswatch/pipeline.h"
#include "newswatch/stages.h"
#include "newswatch/normalize.h"

static nw_pipeline pipeline;
static nw_enricher *enricher;
static nw_alerter *alerter;
static nw_normalizer *slow;
static nw_text *fast_text, *slow_text;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[512] = "out of memory", g[1024], f[1024], e[1024];
    nw_pipeline_paths paths = {fz_config("gazetteer.txt", g, sizeof g),
                               fz_config("furniture.conf", f, sizeof f),
                               fz_config("events.conf", e, sizeof e)};
    if (nw_pipeline_load(&pipeline, &paths, NULL, err, sizeof err) != NW_OK ||
        (enricher = nw_enricher_new(&pipeline, err, sizeof err)) == NULL ||
        (alerter = nw_alerter_new(pipeline.rules)) == NULL ||
        (slow = nw_normalizer_new(err, sizeof err)) == NULL ||
        (fast_text = nw_text_new()) == NULL || (slow_text = nw_text_new()) == NULL) {
        fprintf(stderr, "fuzz_analyze: %s\n", err);
        exit(1);
    }
    nw_normalizer_set_fast_path(slow, false);
    return 0;
}

/* The fast path and ICU's NFKC give the same text. */
static void normalize_both(const uint8_t *data, size_t size)
{
    char err[256];
    nw_err ef = nw_normalize(pipeline.norm, (const char *)data, size, fast_text, err, sizeof err);
    nw_err es = nw_normalize(slow, (const char *)data, size, slow_text, err, sizeof err);
    FZ_CHECK(ef == es);
    FZ_CHECK(ef == NW_OK || ef == NW_EUTF8);
    FZ_CHECK((ef == NW_EUTF8) == !fz_utf8((const char *)data, size));
    if (ef != NW_OK)
        return;
    const nw_text *a = fast_text, *b = slow_text;
    FZ_CHECK(a->ncp == b->ncp);
    FZ_CHECK(a->display_len == b->display_len &&
             memcmp(a->display, b->display, a->display_len) == 0);
    FZ_CHECK(a->match_len == b->match_len && memcmp(a->match, b->match, a->match_len) == 0);
    FZ_CHECK(memcmp(a->cps, b->cps, (a->ncp + 1) * sizeof a->cps[0]) == 0);
    FZ_CHECK(memcmp(a->display_cp, b->display_cp, (a->ncp + 1) * sizeof a->display_cp[0]) == 0);
    FZ_CHECK(memcmp(a->match_cp, b->match_cp, (a->ncp + 1) * sizeof a->match_cp[0]) == 0);
    FZ_CHECK(fz_utf8(a->display, a->display_len) && fz_utf8(a->match, a->match_len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    normalize_both(data, size);

    char err[512];
    nw_doc *doc = nw_doc_new();
    FZ_CHECK(doc != NULL);
    if (nw_doc_set(doc, NW_DOC_BODY, (const char *)data, size, err, sizeof err) != NW_OK ||
        nw_doc_complete(doc, "fuzz", err, sizeof err) != NW_OK) {
        nw_doc_free(doc);
        return 0;
    }
    /* Half the documents have a publication time: dates are read relative to it. */
    if (size % 2 == 0)
        FZ_CHECK(nw_doc_set(doc, NW_DOC_PUBLISHED_AT, "2021-01-21T09:00:00Z", 20, err,
                            sizeof err) == NW_OK);
    nw_enriched out;
    nw_err e = nw_enricher_run(enricher, doc, 1611219600, &out, err, sizeof err);
    if (e != NW_OK)
        fprintf(stderr, "nw_enricher_run: %s\n", err);
    FZ_CHECK(e == NW_OK);
    FZ_CHECK(fz_json_object(out.enriched, out.enriched_len));
    for (size_t i = 0; i < out.nmatches; i++) {
        FZ_CHECK(out.event_ids[i] != NULL);
        FZ_CHECK(fz_json_object(out.matches[i], out.match_lens[i]));
        nw_alert *a = NULL;
        e = nw_alerter_process(alerter, out.matches[i], out.match_lens[i], &a, err, sizeof err);
        if (e != NW_OK)
            fprintf(stderr, "nw_alerter_process: %s\n", err);
        FZ_CHECK(e == NW_OK);
        if (a->json != NULL)
            FZ_CHECK(fz_json_object(a->json, a->json_len));
        nw_alert_free(a);
    }
    nw_alerter_clear(alerter);
    nw_doc_free(doc);
    return 0;
}
