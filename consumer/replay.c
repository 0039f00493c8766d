#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "newswatch/alerts.h"
#include "newswatch/analyze.h"
#include "newswatch/fingerprint.h"
#include "newswatch/input.h"
#include "newswatch/rules.h"
#include "newswatch/topics.h"
#include "pipeline.h"
#include "../sinks/nw_sinks.h"

static int load(const nw_consumer_opts *o, const nw_kvconf *conf, nw_pipeline *p)
{
    char err[1024];
    nw_pipeline_paths paths = {o->gazetteer, o->furniture, o->events};
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
    nw_sinks_config sinks;
    nw_sinks_config_init(&sinks);
    if (nw_sinks_config_apply(&sinks, conf, err, sizeof err) != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        return NW_EXIT_USAGE;
    }
    nw_pipeline p;
    int status = load(o, conf, &p);
    if (status != 0)
        return status;
    if (!o->quiet)
        printf("%s: %zu entities\n%s: %zu rules\n%s: %zu tracked events, %zu keyword classes\n"
               "configuration OK\n",
               p.gazetteer_path, nw_gazetteer_count(p.gazetteer), p.furniture_path,
               nw_furniture_count(p.furniture), p.events_path, nw_rules_event_count(p.rules),
               nw_rules_class_count(p.rules));
    nw_pipeline_unload(&p);
    return 0;
}

/* The "matches" member of the enriched document: {"matches":[{event, evidence}]}. */
static char *matches_member(const nw_match *matches, size_t n, const nw_analysis *an)
{
    json_t *o = json_object(), *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const nw_sentence *s = &an->seg->sentences[matches[i].evidence];
        json_array_append_new(arr, json_pack("{s:s, s:{s:I, s:I}}", "event", matches[i].event->id,
                                             "evidence", "start", (json_int_t)s->start, "end",
                                             (json_int_t)s->end));
    }
    json_object_set_new(o, "matches", arr);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static void print_line(const char *json, size_t len)
{
    fwrite(json, 1, len, stdout);
    fputc('\n', stdout);
}

/* The alert stage's state for one replay: one state per tracked event. */
typedef struct alert_stage {
    const nw_rules *rules;
    nw_alert_state **states; /* by event index */
    nw_sinks *sinks;         /* HTTP sinks from [sinks], or NULL */
} alert_stage;

/* ORG, LOC and FACILITY ids named in the sentences that hold the match's terms. */
static size_t event_entities(const nw_match *match, const nw_analysis *an, const char **ids,
                             size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < an->nmentions && n < max; i++) {
        const nw_mention *mn = &an->mentions[i];
        if (mn->entity == NULL || mn->type == NW_ENTITY_PERSON)
            continue;
        bool near = false;
        for (size_t k = 0; k < match->nterms && !near; k++)
            near = match->terms[k].sentence == mn->sentence;
        bool dup = false;
        for (size_t k = 0; k < n && !dup; k++)
            dup = strcmp(ids[k], mn->entity->id) == 0;
        if (near && !dup)
            ids[n++] = mn->entity->id;
    }
    return n;
}

/* The match's entities as a JSON array string (for the alert). */
static char *match_entities_json(const nw_match *match, const nw_analysis *an)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < match->nterms; i++) {
        const nw_term *tm = &match->terms[i];
        if (tm->entity == NULL)
            continue;
        const nw_text *t = an->text;
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:s, s:s#}", "id", tm->entity->id, "type",
                                        nw_entity_type_name(tm->type), "name", tm->entity->name,
                                        "surface", t->display + t->display_cp[tm->start],
                                        (int)(t->display_cp[tm->end] - t->display_cp[tm->start])));
    }
    char *s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return s;
}

/* Runs the alert stage for one match; *line receives an alert or stays NULL. */
static nw_err alert_for(alert_stage *st, const nw_match *match, const nw_analysis *an,
                        const nw_matcher *m, const nw_doc *doc, const nw_fingerprint *fp,
                        int64_t event_time, char **line, size_t *len, char *err, size_t errlen)
{
    *line = NULL;
    size_t ev = 0;
    while (nw_rules_event_at(st->rules, ev) != match->event)
        ev++;
    if (st->states[ev] == NULL && (st->states[ev] = nw_alert_state_new(match->event->id)) == NULL)
        return nw_set_error(err, errlen, NW_ENOMEM, "out of memory");
    const char *ids[64];
    nw_alert_report r = {event_time,
                         *fp,
                         an->casualties.killed,
                         an->casualties.wounded,
                         nw_matcher_has_class(m, "claim") != 0,
                         ids,
                         event_entities(match, an, ids, 64)};
    nw_alert_outcome o;
    nw_err e = nw_alert_state_observe(st->states[ev], match->event, &r, &o, err, errlen);
    if (e != NW_OK || (o.decision != NW_ALERT_NEW && o.decision != NW_ALERT_UPDATE))
        return e;
    const nw_sentence *s = &an->seg->sentences[match->evidence];
    const nw_text *t = an->text;
    char *evidence = strndup(t->display + t->display_cp[s->start],
                             t->display_cp[s->end] - t->display_cp[s->start]);
    char *entities = match_entities_json(match, an);
    char now[32];
    nw_time_now_rfc3339(now);
    nw_alert_info info = {match->event,
                          nw_doc_get(doc, NW_DOC_ID, NULL),
                          nw_doc_get(doc, NW_DOC_SOURCE, NULL),
                          nw_doc_get(doc, NW_DOC_URL, NULL),
                          nw_doc_get(doc, NW_DOC_TITLE, NULL),
                          nw_doc_get(doc, NW_DOC_PUBLISHED_AT, NULL),
                          evidence,
                          entities,
                          event_time,
                          now};
    e = evidence != NULL && entities != NULL
            ? nw_alert_to_json(&info, &o, line, len, err, errlen)
            : nw_set_error(err, errlen, NW_ENOMEM, "out of memory");
    if (e == NW_OK && st->sinks != NULL) {
        char id[512];
        nw_alert_id(match->event, &o, id, sizeof id);
        nw_alert_view view = {id,
                              match->event->id,
                              o.decision == NW_ALERT_NEW ? "new" : "update",
                              match->event->severity,
                              match->event->title,
                              evidence,
                              info.doc_id,
                              info.source,
                              info.url,
                              info.published_at,
                              now,
                              *line,
                              *len};
        nw_sinks_send(st->sinks, &view);
    }
    free(evidence);
    free(entities);
    return e;
}

/* The event time: published_at when it parses, else now (the ingest time). */
static int64_t event_time_of(const nw_doc *doc, int64_t now)
{
    const char *p = nw_doc_get(doc, NW_DOC_PUBLISHED_AT, NULL);
    int64_t t;
    if (p != NULL && nw_time_parse_rfc3339(p, &t, NULL, 0) == NW_OK)
        return t;
    return now;
}

/* One document through the chain; NW_OK or an error in err. */
static nw_err replay_one(const nw_consumer_opts *o, nw_analyzer *a, nw_matcher *m,
                         alert_stage *stage, const nw_doc *doc, char *err, size_t errlen)
{
    const nw_analysis *an = NULL;
    nw_err e = nw_analyzer_run(a, doc, &an, err, errlen);
    if (e != NW_OK)
        return e;
    const nw_match *matches = NULL;
    size_t nmatches = 0;
    if ((e = nw_matcher_run(m, an, &matches, &nmatches, err, errlen)) != NW_OK)
        return e;
    /* Encode everything first, so a failure prints nothing for the document. */
    char *enriched = NULL, *extra = NULL;
    size_t elen = 0;
    char **lines = calloc(2 * nmatches + 1, sizeof(char *));
    size_t *lens = calloc(2 * nmatches + 1, sizeof(size_t));
    if (lines == NULL || lens == NULL)
        e = nw_set_error(err, errlen, NW_ENOMEM, "out of memory");
    if (e == NW_OK && (o->emit & NW_EMIT_ENRICHED)) {
        extra = matches_member(matches, nmatches, an);
        e = extra != NULL ? nw_analysis_to_json(an, doc, extra, &enriched, &elen, err, errlen)
                          : nw_set_error(err, errlen, NW_ENOMEM, "out of memory");
    }
    for (size_t i = 0; e == NW_OK && (o->emit & NW_EMIT_MATCHES) && i < nmatches; i++)
        e = nw_match_to_json(&matches[i], an, doc, &lines[i], &lens[i], err, errlen);
    if (e == NW_OK && nmatches > 0) {
        nw_fingerprint fp;
        nw_fingerprint_compute(an->text, an->seg, &fp);
        int64_t t = event_time_of(doc, (int64_t)time(NULL));
        for (size_t i = 0; e == NW_OK && i < nmatches; i++)
            e = alert_for(stage, &matches[i], an, m, doc, &fp, t, &lines[nmatches + i],
                          &lens[nmatches + i], err, errlen);
    }
    if (e == NW_OK) {
        if (enriched != NULL)
            print_line(enriched, elen);
        for (size_t i = 0; i < nmatches; i++)
            if (lines[i] != NULL)
                print_line(lines[i], lens[i]);
        for (size_t i = nmatches; (o->emit & NW_EMIT_ALERTS) && i < 2 * nmatches; i++)
            if (lines[i] != NULL)
                print_line(lines[i], lens[i]);
    }
    for (size_t i = 0; lines != NULL && i < 2 * nmatches; i++)
        free(lines[i]);
    free(lines);
    free(lens);
    free(extra);
    free(enriched);
    return e;
}

/*
 * The HTTP sinks of [sinks] (Alertmanager, webhook), when any is configured:
 * --replay writes alerts to stdout itself (--emit), so the stdout sink is off.
 */
static int open_sinks(const nw_kvconf *conf, nw_sinks **out)
{
    char err[1024];
    nw_sinks_config c;
    *out = NULL;
    nw_sinks_config_init(&c);
    if (nw_sinks_config_apply(&c, conf, err, sizeof err) != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        return NW_EXIT_USAGE;
    }
    c.stdout_enabled = 0;
    snprintf(c.program, sizeof c.program, "%s", NW_CONSUMER);
    if (c.alertmanager_url[0] == '\0' && c.webhook_url[0] == '\0')
        return 0;
    if (nw_sinks_new(&c, NULL, out, err, sizeof err) != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        return NW_EXIT_USAGE;
    }
    return 0;
}

int nw_cmd_replay(const nw_consumer_opts *o, const nw_kvconf *conf)
{
    nw_sinks *sinks;
    int status = open_sinks(conf, &sinks);
    if (status != 0)
        return status;
    nw_pipeline p;
    if ((status = load(o, conf, &p)) != 0) {
        nw_sinks_free(sinks);
        return status;
    }
    char err[1024];
    nw_analyzer *a = nw_analyzer_new(p.gazetteer, p.furniture, err, sizeof err);
    nw_matcher *m = nw_matcher_new(p.rules);
    nw_input *in = nw_input_new(o->paths, o->npaths, o->max_bytes);
    alert_stage stage = {
        p.rules, calloc(nw_rules_event_count(p.rules) + 1, sizeof(nw_alert_state *)), sinks};
    if (a == NULL || m == NULL || in == NULL || stage.states == NULL) {
        free(stage.states);
        fprintf(stderr, NW_CONSUMER ": %s\n", a == NULL ? err : "out of memory");
        nw_analyzer_free(a);
        nw_matcher_free(m);
        nw_input_free(in);
        nw_pipeline_unload(&p);
        nw_sinks_free(sinks);
        return NW_EXIT_FAILED;
    }
    unsigned long ok = 0, failed = 0;
    char origin[1024];
    for (;;) {
        nw_doc *doc = NULL;
        nw_err e = nw_input_next(in, &doc, origin, sizeof origin, err, sizeof err);
        if (e == NW_EOF)
            break;
        if (e == NW_OK)
            e = replay_one(o, a, m, &stage, doc, err, sizeof err);
        if (e != NW_OK) {
            fprintf(stderr, NW_CONSUMER ": %s: %s\n", origin, err);
            failed++;
        } else {
            ok++;
        }
        nw_doc_free(doc);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, NW_CONSUMER ": cannot write to standard output\n");
        failed++;
    }
    if (!o->quiet || failed > 0)
        fprintf(stderr, NW_CONSUMER ": replayed %lu documents, %lu failed\n", ok, failed);
    nw_sinks_free(sinks); /* waits, bounded, for the HTTP sinks to deliver */
    for (size_t i = 0; i < nw_rules_event_count(p.rules); i++)
        nw_alert_state_free(stage.states[i]);
    free(stage.states);
    nw_input_free(in);
    nw_matcher_free(m);
    nw_analyzer_free(a);
    nw_pipeline_unload(&p);
    return failed > 0 ? NW_EXIT_FAILED : 0;
}
