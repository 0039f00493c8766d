/*
 * Fuzz target: the alert stage's parsers (lib/alerts.c, lib/stages.c): the
 * newswatch.alert-state/2 record (nw_alert_state_from_json), as a restarted
 * instance reads it from the compacted news.alert-state topic, and the
 * newswatch.match/2 record the alerter decides about (nw_alerter_process),
 * with the default tracked events in config/.
 *
 * A state that parses is then used: serialised again, listed for
 * Alertmanager (nw_alert_state_list), and given reports (on its incidents'
 * days, on a day it has not seen, with no day stated), as the alert stage
 * would after a restore. The same input goes to an alerter holding the
 * state (nw_alerter_restore) and to nw_alerter_process.
 *
 * Oracle: no crash, leak or undefined behaviour (ASan, UBSan), and
 *  - a failed parse gives no state and a message;
 *  - a parsed state serialises to a JSON object that parses back to a state
 *    serialising the same (a fixed point after one round);
 *  - every decision is one of the four; an alert and a state after a report
 *    are JSON objects; listed alerts have an event id and an alert id.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "newswatch/alerts.h"
#include "newswatch/pipeline.h"
#include "newswatch/stages.h"

static nw_pipeline pipeline;
static nw_alerter *alerter;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[512], g[1024], f[1024], e[1024];
    nw_pipeline_paths paths = {fz_config("gazetteer.txt", g, sizeof g),
                               fz_config("furniture.conf", f, sizeof f),
                               fz_config("events.conf", e, sizeof e)};
    if (nw_pipeline_load(&pipeline, &paths, NULL, err, sizeof err) != NW_OK ||
        (alerter = nw_alerter_new(pipeline.rules)) == NULL) {
        fprintf(stderr, "fuzz_alerts: %s\n", err);
        exit(1);
    }
    return 0;
}

static char *state_json(const nw_alert_state *st, size_t *len)
{
    char err[512], *s = NULL;
    FZ_CHECK(nw_alert_state_to_json(st, &s, len, err, sizeof err) == NW_OK);
    FZ_CHECK(fz_json_object(s, *len));
    return s;
}

/* The state's event in the rules, or the bombing (the rules know the state's id or not). */
static const nw_event *event_for(const nw_alert_state *st)
{
    const nw_event *ev = nw_rules_find_event(pipeline.rules, nw_alert_state_event(st));
    return ev != NULL ? ev : nw_rules_find_event(pipeline.rules, "baghdad-bombing");
}

static void observe(nw_alert_state *st, const nw_event *ev, int64_t day, bool stated, int killed)
{
    char err[512];
    nw_alert *a = nw_alert_new();
    FZ_CHECK(a != NULL);
    nw_alert_report r;
    memset(&r, 0, sizeof r);
    r.event_day = day;
    r.ref_time = day * 86400 + 36000;
    r.seen_at = r.ref_time + 60;
    r.day_stated = stated;
    r.killed = killed;
    r.wounded = -1;
    r.claim = killed > 10;
    r.fingerprint.exact = (uint64_t)day * 2654435761u + (uint64_t)killed;
    r.fingerprint.nshingles = 1;
    for (int k = 0; k < NW_MINHASH_K; k++)
        r.fingerprint.minhash[k] = (uint32_t)(r.fingerprint.exact >> (k % 32)) + (uint32_t)k;
    r.doc_id = "fuzz";
    FZ_CHECK(nw_alert_state_observe(st, ev, &r, a, err, sizeof err) == NW_OK);
    FZ_CHECK(a->decision == NW_ALERT_DUPLICATE || a->decision == NW_ALERT_COUNTED ||
             a->decision == NW_ALERT_NEW || a->decision == NW_ALERT_UPDATE);
    if (a->decision == NW_ALERT_NEW || a->decision == NW_ALERT_UPDATE) {
        FZ_CHECK(a->id != NULL);
        FZ_CHECK(nw_alert_encode(a, ev, err, sizeof err) == NW_OK);
        FZ_CHECK(fz_json_object(a->json, a->json_len));
    }
    nw_alert_free(a);
}

static void use_state(nw_alert_state *st)
{
    char err[512];
    size_t len, len2;
    char *s1 = state_json(st, &len);
    nw_alert_state *back = NULL;
    nw_err e = nw_alert_state_from_json(s1, len, &back, err, sizeof err);
    if (e != NW_OK)
        fprintf(stderr, "the state's own JSON does not parse: %s\n%s\n", err, s1);
    FZ_CHECK(e == NW_OK);
    char *s2 = state_json(back, &len2);
    nw_alert_state *again = NULL;
    FZ_CHECK(nw_alert_state_from_json(s2, len2, &again, err, sizeof err) == NW_OK);
    size_t len3;
    char *s3 = state_json(again, &len3);
    FZ_CHECK(len2 == len3 && memcmp(s2, s3, len2) == 0);
    free(s3);
    nw_alert_state_free(again);
    nw_alert_state_free(back);

    const nw_event *ev = event_for(st);
    nw_incident_list *l = nw_incident_list_new();
    FZ_CHECK(l != NULL);
    FZ_CHECK(nw_alert_state_list(st, ev, 1611216000, 3600, l, err, sizeof err) == NW_OK);
    for (size_t i = 0; i < nw_incident_list_count(l); i++) {
        const nw_incident_alert *ia = nw_incident_list_at(l, i);
        FZ_CHECK(ia != NULL && ia->event_id != NULL && ia->alert_id != NULL);
        FZ_CHECK(ia->ndocs <= NW_ALERT_NOTES);
    }
    nw_incident_list_free(l);

    /* Reports: on the day of the first incident in the JSON, on another day, with no day. */
    json_error_t jerr;
    json_t *o = json_loadb(s1, len, 0, &jerr);
    const char *day = json_string_value(
        json_object_get(json_array_get(json_object_get(o, "incidents"), 0), "day"));
    int64_t d = nw_day_from_civil(2021, 1, 21);
    if (day != NULL)
        FZ_CHECK(nw_day_parse(day, &d, err, sizeof err) == NW_OK);
    json_decref(o);
    observe(st, ev, d, true, 5);
    observe(st, ev, d, true, 50);
    observe(st, ev, d + 1, false, -1);
    observe(st, ev, d + 400, true, 1);
    size_t len4;
    free(state_json(st, &len4));
    free(s2);
    free(s1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    nw_alert_state *st = (nw_alert_state *)1;
    nw_err e = nw_alert_state_from_json((const char *)data, size, &st, err, sizeof err);
    if (e != NW_OK) {
        FZ_CHECK(st == NULL && err[0] != '\0');
    } else {
        FZ_CHECK(st != NULL && nw_alert_state_event(st) != NULL);
        use_state(st);
        nw_alert_state_free(st);
    }

    if (nw_alerter_restore(alerter, (const char *)data, size, err, sizeof err) == NW_OK) {
        nw_incident_list *l = nw_incident_list_new();
        FZ_CHECK(l != NULL);
        FZ_CHECK(nw_alerter_list(alerter, 1611216000, 3600, l, err, sizeof err) == NW_OK);
        nw_incident_list_free(l);
    }
    nw_alert *a = NULL;
    if (nw_alerter_process(alerter, (const char *)data, size, &a, err, sizeof err) == NW_OK) {
        FZ_CHECK(a != NULL);
        if (a->json != NULL)
            FZ_CHECK(fz_json_object(a->json, a->json_len));
        FZ_CHECK(a->state != NULL && fz_json_object(a->state, a->state_len));
        nw_alert_free(a);
    } else {
        FZ_CHECK(a == NULL);
    }
    nw_alerter_clear(alerter);
    return 0;
}
