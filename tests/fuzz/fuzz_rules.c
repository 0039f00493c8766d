/*
 * Fuzz target: the tracked-events rules parser (lib/rules.c, nw_rules_new:
 * [class.*] and [event.*] sections, rule expressions, durations, scopes,
 * anchors, labels) over the default gazetteer in config/, then the compiled
 * rules at work: a matcher on two seed reports analysed once at start
 * (samples/seeds/), each match written as its newswatch.match/2 members, and
 * for every event a first report through a fresh alert state.
 *
 * Oracle: no crash, leak or undefined behaviour (ASan, UBSan), and
 *  - a failed parse gives no rules and a message; rules that parse have
 *    events with an id, a title, a severity of info, warning or critical
 *    and an expression, and nw_rules_find_event finds each by its id;
 *  - every match is of one of the rules' events, and its members form a
 *    JSON object;
 *  - a first report of an event is a new incident, its alert and state
 *    JSON objects.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "newswatch/alerts.h"
#include "newswatch/analyze.h"
#include "newswatch/file.h"
#include "newswatch/rules.h"

#define NSEEDS 2

static nw_normalizer *norm;
static nw_gazetteer *gaz;
static nw_furniture *furn;
static nw_analyzer *analyzers[NSEEDS];
static nw_doc *docs[NSEEDS];
static const nw_analysis *analyses[NSEEDS];

static void die(const char *what, const char *err)
{
    fprintf(stderr, "fuzz_rules: %s: %s\n", what, err);
    exit(1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const char *const seeds[NSEEDS] = {"000_c7189a82eabcfedc.txt",
                                              "004_6be975f03497fb3e.txt"};
    char err[512], path[1024];
    if ((norm = nw_normalizer_new(err, sizeof err)) == NULL)
        die("normalizer", err);
    if (nw_gazetteer_new_from_file(norm, fz_config("gazetteer.txt", path, sizeof path), &gaz, err,
                                   sizeof err) != NW_OK)
        die(path, err);
    if (nw_furniture_new_from_file(norm, fz_config("furniture.conf", path, sizeof path), &furn, err,
                                   sizeof err) != NW_OK)
        die(path, err);
    for (int i = 0; i < NSEEDS; i++) {
        snprintf(path, sizeof path, "%s/samples/seeds/%s", NW_FUZZ_ROOT, seeds[i]);
        char *text;
        size_t len;
        if (nw_file_read(path, 1u << 20, &text, &len, err, sizeof err) != NW_OK ||
            nw_doc_from_text(path, text, len, &docs[i], err, sizeof err) != NW_OK)
            die(path, err);
        free(text);
        if ((analyzers[i] = nw_analyzer_new(gaz, furn, NULL, 0, err, sizeof err)) == NULL ||
            nw_analyzer_run(analyzers[i], docs[i], &analyses[i], err, sizeof err) != NW_OK)
            die(path, err);
    }
    return 0;
}

static void check_events(const nw_rules *r)
{
    size_t n = nw_rules_event_count(r);
    for (size_t i = 0; i < n; i++) {
        const nw_event *ev = nw_rules_event_at(r, i);
        FZ_CHECK(ev != NULL && ev->id != NULL && ev->id[0] != '\0');
        FZ_CHECK(ev->title != NULL && ev->title_ar != NULL && ev->expression != NULL);
        FZ_CHECK(ev->severity != NULL &&
                 (strcmp(ev->severity, "info") == 0 || strcmp(ev->severity, "warning") == 0 ||
                  strcmp(ev->severity, "critical") == 0));
        FZ_CHECK(nw_rules_find_event(r, ev->id) == ev);
        FZ_CHECK(ev->nlabels <= NW_EVENT_LABELS_MAX && ev->nanchor_places <= 4);
        for (size_t k = 0; k < ev->nlabels; k++)
            FZ_CHECK(ev->labels[k].name != NULL && ev->labels[k].value != NULL &&
                     ev->labels[k].value[0] != '\0');
    }
}

static void run_matcher(const nw_rules *r)
{
    char err[512];
    nw_matcher *m = nw_matcher_new(r);
    FZ_CHECK(m != NULL);
    nw_jsonw *w = nw_jsonw_new();
    FZ_CHECK(w != NULL);
    for (int s = 0; s < NSEEDS; s++) {
        const nw_match *matches;
        size_t nmatches;
        FZ_CHECK(nw_matcher_run(m, analyses[s], &matches, &nmatches, err, sizeof err) == NW_OK);
        FZ_CHECK(nmatches <= nw_rules_event_count(r));
        FZ_CHECK(nw_matcher_candidates(m) <= nw_rules_event_count(r));
        for (size_t i = 0; i < nmatches; i++) {
            const nw_match *mt = &matches[i];
            FZ_CHECK(mt->event != NULL && nw_rules_find_event(r, mt->event->id) == mt->event);
            nw_jsonw_reset(w);
            nw_jsonw_object_begin(w);
            nw_match_write_members(mt, analyses[s], docs[s], NULL, w);
            nw_jsonw_object_end(w);
            const char *json;
            size_t len;
            FZ_CHECK(nw_jsonw_finish(w, &json, &len, err, sizeof err) == NW_OK);
            FZ_CHECK(fz_json_object(json, len));
        }
        size_t nroles;
        nw_matcher_roles(m, &nroles);
    }
    nw_jsonw_free(w);
    nw_matcher_free(m);
}

/* A first report of each event opens an incident. */
static void first_reports(const nw_rules *r)
{
    char err[512];
    for (size_t i = 0; i < nw_rules_event_count(r); i++) {
        const nw_event *ev = nw_rules_event_at(r, i);
        nw_alert_state *st = nw_alert_state_new(ev->id);
        nw_alert *a = nw_alert_new();
        FZ_CHECK(st != NULL && a != NULL);
        nw_alert_report rep;
        memset(&rep, 0, sizeof rep);
        rep.ref_time = 1611216000; /* 2021-01-21 */
        rep.event_day = nw_day_from_civil(2021, 1, 21);
        rep.day_stated = true;
        rep.killed = 32;
        rep.wounded = 110;
        rep.doc_id = "fuzz";
        FZ_CHECK(nw_alert_state_observe(st, ev, &rep, a, err, sizeof err) == NW_OK);
        FZ_CHECK(a->decision == NW_ALERT_NEW);
        FZ_CHECK(nw_alert_encode(a, ev, err, sizeof err) == NW_OK);
        FZ_CHECK(fz_json_object(a->json, a->json_len));
        char *state;
        size_t len;
        FZ_CHECK(nw_alert_state_to_json(st, &state, &len, err, sizeof err) == NW_OK);
        FZ_CHECK(fz_json_object(state, len));
        free(state);
        nw_alert_free(a);
        nw_alert_state_free(st);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024] = "";
    nw_rules *r = (nw_rules *)1;
    nw_err e = nw_rules_new(norm, gaz, "fuzz.conf", (const char *)data, size, &r, err, sizeof err);
    if (e != NW_OK) {
        FZ_CHECK(r == NULL);
        FZ_CHECK(err[0] != '\0');
        return 0;
    }
    FZ_CHECK(r != NULL);
    check_events(r);
    FZ_CHECK(nw_rules_terms(r) != NULL);
    run_matcher(r);
    first_reports(r);
    nw_rules_free(r);
    return 0;
}
