#include "newswatch/stages.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "newswatch/fingerprint.h"
#include "newswatch/report.h"
#include "newswatch/str.h"
#include "newswatch/when.h"
#include "grow.h"

/* ---- the enricher ------------------------------------------------------ */

struct nw_enricher {
    const nw_pipeline *p;
    nw_analyzer *analyzer, *title_analyzer;
    nw_matcher *matcher, *title_matcher;
    nw_assessor *assessor;
    nw_doc *title_doc;      /* a document whose body is the title */
    nw_jsonw *writer;       /* the enriched record; out->enriched points into it */
    nw_jsonw *match_writer; /* each match record, copied into matches[] */
    char **matches;
    size_t *match_lens;
    const char **event_ids;
    nw_report *reports;
    size_t nmatches, cap;
};

nw_enricher *nw_enricher_new(const nw_pipeline *p, char *errbuf, size_t errlen)
{
    nw_enricher *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        return NULL;
    }
    e->p = p;
    /* The matchers look every token up in the rules' terms: screened with the analyzers'. */
    const nw_phrases *terms = nw_rules_terms(p->rules);
    e->analyzer = nw_analyzer_new(p->gazetteer, p->furniture, &terms, 1, errbuf, errlen);
    e->title_analyzer = e->analyzer != NULL
                            ? nw_analyzer_new(p->gazetteer, p->furniture, &terms, 1, errbuf, errlen)
                            : NULL;
    e->matcher = e->title_analyzer != NULL ? nw_matcher_new(p->rules) : NULL;
    e->title_matcher = e->matcher != NULL ? nw_matcher_new(p->rules) : NULL;
    e->assessor = nw_assessor_new();
    e->title_doc = nw_doc_new();
    e->writer = nw_jsonw_new();
    e->match_writer = nw_jsonw_new();
    if (e->title_matcher == NULL || e->assessor == NULL || e->title_doc == NULL ||
        e->writer == NULL || e->match_writer == NULL) {
        if (e->title_analyzer != NULL)
            nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        nw_enricher_free(e);
        return NULL;
    }
    return e;
}

static void clear_outputs(nw_enricher *e)
{
    for (size_t i = 0; i < e->nmatches; i++)
        free(e->matches[i]);
    e->nmatches = 0;
}

void nw_enricher_free(nw_enricher *e)
{
    if (e == NULL)
        return;
    clear_outputs(e);
    free(e->matches);
    free(e->match_lens);
    free(e->event_ids);
    free(e->reports);
    nw_matcher_free(e->matcher);
    nw_matcher_free(e->title_matcher);
    nw_analyzer_free(e->analyzer);
    nw_analyzer_free(e->title_analyzer);
    nw_assessor_free(e->assessor);
    nw_doc_free(e->title_doc);
    nw_jsonw_free(e->writer);
    nw_jsonw_free(e->match_writer);
    free(e);
}

static nw_err reserve(nw_enricher *e, size_t n, char *errbuf, size_t errlen)
{
    if (n <= e->cap)
        return NW_OK;
    char **m = realloc(e->matches, n * sizeof(char *));
    if (m != NULL)
        e->matches = m;
    size_t *l = realloc(e->match_lens, n * sizeof(size_t));
    if (l != NULL)
        e->match_lens = l;
    const char **ids = realloc(e->event_ids, n * sizeof(char *));
    if (ids != NULL)
        e->event_ids = ids;
    nw_report *r = realloc(e->reports, n * sizeof(nw_report));
    if (r != NULL)
        e->reports = r;
    if (m == NULL || l == NULL || ids == NULL || r == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    e->cap = n;
    return NW_OK;
}

/* Does the rule of each matched event hold in the title, analysed on its own? */
static nw_err match_title(nw_enricher *e, const nw_doc *doc, char *errbuf, size_t errlen)
{
    size_t tlen;
    const char *title = nw_doc_get(doc, NW_DOC_TITLE, &tlen);
    if (title == NULL || tlen == 0)
        return NW_OK;
    const nw_analysis *tan;
    nw_err err = nw_doc_set(e->title_doc, NW_DOC_BODY, title, tlen, errbuf, errlen);
    if (err == NW_OK)
        err = nw_analyzer_run(e->title_analyzer, e->title_doc, &tan, errbuf, errlen);
    if (err == NW_OK)
        err = nw_matcher_title(e->matcher, e->title_matcher, tan, errbuf, errlen);
    return err;
}

static void write_evidence(nw_jsonw *w, const nw_analysis *an, const nw_match *m)
{
    const nw_sentence *s = &an->seg->sentences[m->evidence];
    nw_jsonw_object_begin(w);
    nw_jsonw_key(w, "start");
    nw_jsonw_int(w, s->start);
    nw_jsonw_key(w, "end");
    nw_jsonw_int(w, s->end);
    nw_jsonw_object_end(w);
}

/* The enriched record: the analysis, the events reported and those named in passing. */
static nw_err write_enriched(nw_enricher *e, const nw_analysis *an, const nw_doc *doc,
                             const nw_match *matches, size_t n, nw_enriched *out, char *errbuf,
                             size_t errlen)
{
    nw_jsonw *w = e->writer;
    nw_jsonw_reset(w);
    nw_jsonw_object_begin(w);
    nw_analysis_write_members(an, doc, w);
    for (int pass = 0; pass < 2; pass++) {
        nw_jsonw_key(w, pass == 0 ? "matches" : "named_events");
        nw_jsonw_array_begin(w);
        for (size_t i = 0; i < n; i++) {
            const nw_report *r = &e->reports[i];
            if (nw_report_counts(r) != (pass == 0))
                continue;
            char day[11];
            nw_day_format(r->event_day, day);
            nw_jsonw_object_begin(w);
            nw_jsonw_key(w, "event");
            nw_jsonw_cstring(w, matches[i].event->id);
            if (pass == 0) {
                nw_jsonw_key(w, "incident");
                nw_jsonw_cstring(w, day);
            }
            nw_jsonw_key(w, "why");
            nw_jsonw_cstring(w, r->why);
            nw_jsonw_key(w, "evidence");
            write_evidence(w, an, &matches[i]);
            nw_jsonw_object_end(w);
        }
        nw_jsonw_array_end(w);
    }
    nw_jsonw_object_end(w);
    return nw_jsonw_finish(w, &out->enriched, &out->enriched_len, errbuf, errlen);
}

static void write_report_members(nw_jsonw *w, const nw_report *r, const char *fptext)
{
    char when[32], day[11];
    nw_time_format_rfc3339(r->ref_time, when);
    nw_day_format(r->event_day, day);
    nw_jsonw_key(w, "event_time");
    nw_jsonw_cstring(w, when);
    nw_jsonw_key(w, "time_basis");
    nw_jsonw_cstring(w, nw_time_basis_name(r->basis));
    nw_jsonw_key(w, "incident");
    nw_jsonw_cstring(w, day);
    nw_jsonw_key(w, "day_stated");
    nw_jsonw_bool(w, r->day_stated);
    nw_jsonw_key(w, "salience");
    nw_jsonw_cstring(w, r->why);
    nw_jsonw_key(w, "fingerprint");
    nw_jsonw_cstring(w, fptext);
    nw_jsonw_key(w, "claim");
    nw_jsonw_bool(w, r->claim);
    nw_jsonw_key(w, "arrest");
    nw_jsonw_bool(w, r->arrest);
    nw_jsonw_key(w, "finding");
    nw_jsonw_bool(w, r->finding);
}

nw_err nw_enricher_run(nw_enricher *e, const nw_doc *doc, int64_t processed_at, nw_enriched *out,
                       char *errbuf, size_t errlen)
{
    clear_outputs(e);
    memset(out, 0, sizeof *out);
    const nw_analysis *an;
    nw_err err = nw_analyzer_run(e->analyzer, doc, &an, errbuf, errlen);
    const nw_match *matches = NULL;
    size_t n = 0;
    if (err == NW_OK)
        err = nw_matcher_run(e->matcher, an, &matches, &n, errbuf, errlen);
    if (err == NW_OK && n > 0)
        err = match_title(e, doc, errbuf, errlen);
    if (err == NW_OK)
        err = reserve(e, n, errbuf, errlen);
    size_t nroles = 0;
    const nw_role_term *roles = nw_matcher_roles(e->matcher, &nroles);
    size_t counted = 0;
    for (size_t i = 0; err == NW_OK && i < n; i++) {
        err = nw_report_assess(e->assessor, an, doc, &matches[i], roles, nroles, processed_at,
                               &e->reports[i], errbuf, errlen);
        counted += err == NW_OK && nw_report_counts(&e->reports[i]);
    }
    if (err == NW_OK)
        err = write_enriched(e, an, doc, matches, n, out, errbuf, errlen);
    if (err != NW_OK || counted == 0)
        return err;

    /* What the alert stage needs. */
    char fptext[NW_FINGERPRINT_TEXT_SIZE];
    nw_fingerprint fp;
    nw_fingerprint_compute(an->text, an->seg, &fp);
    nw_fingerprint_encode(&fp, fptext, sizeof fptext);
    nw_jsonw *w = e->match_writer;
    for (size_t i = 0; i < n && err == NW_OK; i++) {
        const nw_report *r = &e->reports[i];
        if (!nw_report_counts(r))
            continue;
        nw_casualties c = {r->killed, r->wounded, 0, 0};
        nw_jsonw_reset(w);
        nw_jsonw_object_begin(w);
        nw_match_write_members(&matches[i], an, doc, &c, w);
        nw_jsonw_key(w, "doc_title");
        nw_doc_write_field(w, doc, NW_DOC_TITLE);
        write_report_members(w, r, fptext);
        nw_jsonw_object_end(w);
        size_t k = e->nmatches;
        e->matches[k] = NULL;
        err = nw_jsonw_finish_copy(w, &e->matches[k], &e->match_lens[k], errbuf, errlen);
        e->event_ids[k] = matches[i].event->id;
        if (err == NW_OK)
            e->nmatches = k + 1;
    }
    if (err != NW_OK) {
        clear_outputs(e);
        return err;
    }
    out->nmatches = e->nmatches;
    out->event_ids = e->event_ids;
    out->matches = (const char **)e->matches;
    out->match_lens = e->match_lens;
    return NW_OK;
}

/* ---- the alerter ------------------------------------------------------- */

typedef struct slot {
    char *event;
    nw_alert_state *state;
} slot;

struct nw_alerter {
    const nw_rules *rules;
    slot *slots;
    size_t nslots, cap;
};

nw_alerter *nw_alerter_new(const nw_rules *rules)
{
    nw_alerter *a = calloc(1, sizeof(*a));
    if (a != NULL)
        a->rules = rules;
    return a;
}

void nw_alerter_clear(nw_alerter *a)
{
    for (size_t i = 0; i < a->nslots; i++) {
        free(a->slots[i].event);
        nw_alert_state_free(a->slots[i].state);
    }
    a->nslots = 0;
}

void nw_alerter_free(nw_alerter *a)
{
    if (a == NULL)
        return;
    nw_alerter_clear(a);
    free(a->slots);
    free(a);
}

void nw_alerter_set_rules(nw_alerter *a, const nw_rules *rules)
{
    a->rules = rules;
}

static slot *find_slot(nw_alerter *a, const char *event)
{
    for (size_t i = 0; i < a->nslots; i++)
        if (strcmp(a->slots[i].event, event) == 0)
            return &a->slots[i];
    return NULL;
}

/* The slot for event, created when missing (with a fresh state unless st is given). */
static slot *get_slot(nw_alerter *a, const char *event, nw_alert_state *st)
{
    slot *s = find_slot(a, event);
    if (s != NULL) {
        if (st != NULL) {
            nw_alert_state_free(s->state);
            s->state = st;
        }
        return s;
    }
    if (!nw_grow((void **)&a->slots, &a->cap, a->nslots + 1, sizeof(*a->slots)))
        return NULL;
    s = &a->slots[a->nslots];
    s->event = nw_str_dup(event);
    s->state = st != NULL ? st : nw_alert_state_new(event);
    if (s->event == NULL || s->state == NULL) {
        free(s->event);
        if (st == NULL)
            nw_alert_state_free(s->state);
        return NULL;
    }
    a->nslots++;
    return s;
}

void nw_alerter_forget(nw_alerter *a, const char *event_id)
{
    slot *s = find_slot(a, event_id);
    if (s == NULL)
        return;
    free(s->event);
    nw_alert_state_free(s->state);
    *s = a->slots[--a->nslots];
}

nw_err nw_alerter_restore(nw_alerter *a, const char *state, size_t len, char *errbuf, size_t errlen)
{
    nw_alert_state *st;
    nw_err err = nw_alert_state_from_json(state, len, &st, errbuf, errlen);
    if (err != NW_OK)
        return err;
    json_error_t jerr;
    json_t *o = json_loadb(state, len, 0, &jerr);
    const char *event = json_string_value(json_object_get(o, "event"));
    slot *s = event != NULL ? get_slot(a, event, st) : NULL;
    json_decref(o);
    if (s == NULL) {
        nw_alert_state_free(st);
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    }
    return NW_OK;
}

static const char *str_or_null(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The report's facts from a match record. */
static nw_err read_report(json_t *m, nw_alert_report *r, char *errbuf, size_t errlen)
{
    memset(r, 0, sizeof *r);
    const char *when = str_or_null(m, "event_time");
    const char *day = str_or_null(m, "incident");
    const char *fptext = str_or_null(m, "fingerprint");
    if (when == NULL || day == NULL || fptext == NULL)
        return nw_set_error(errbuf, errlen, NW_EJSON,
                            "the match lacks event_time, incident or fingerprint");
    nw_err err = nw_time_parse_rfc3339(when, &r->ref_time, errbuf, errlen);
    if (err == NW_OK)
        err = nw_day_parse(day, &r->event_day, errbuf, errlen);
    if (err == NW_OK)
        err = nw_fingerprint_decode(fptext, strlen(fptext), &r->fingerprint, errbuf, errlen);
    if (err != NW_OK)
        return err;
    r->day_stated = json_is_true(json_object_get(m, "day_stated"));
    json_t *cas = json_object_get(m, "casualties");
    json_t *k = json_object_get(cas, "killed"), *w = json_object_get(cas, "wounded");
    r->killed = json_is_integer(k) ? (int)json_integer_value(k) : -1;
    r->wounded = json_is_integer(w) ? (int)json_integer_value(w) : -1;
    r->claim = json_is_true(json_object_get(m, "claim"));
    r->arrest = json_is_true(json_object_get(m, "arrest"));
    r->finding = json_is_true(json_object_get(m, "finding"));
    r->seen_at = (int64_t)time(NULL);
    r->doc_id = str_or_null(m, "doc_id");
    r->doc_title = str_or_null(m, "doc_title");
    r->url = str_or_null(m, "url");
    r->evidence = json_string_value(json_object_get(json_object_get(m, "evidence"), "text"));
    return NW_OK;
}

/* The alert's entities: the match's, without offsets. */
static char *alert_entities(json_t *m)
{
    json_t *ae = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(m, "entities"), i, v)
    {
        json_t *c = json_object();
        json_object_set(c, "id", json_object_get(v, "id"));
        json_object_set(c, "type", json_object_get(v, "type"));
        json_object_set(c, "name", json_object_get(v, "name"));
        json_object_set(c, "surface", json_object_get(v, "surface"));
        json_array_append_new(ae, c);
    }
    char *s = json_dumps(ae, JSON_COMPACT);
    json_decref(ae);
    return s;
}

nw_err nw_alerter_process(nw_alerter *a, const char *match, size_t len, nw_alert **out,
                          char *errbuf, size_t errlen)
{
    *out = NULL;
    json_error_t jerr;
    /* A document's text may hold U+0000 (newswatch/doc.h): so may its match's evidence. */
    json_t *m = json_loadb(match, len, JSON_ALLOW_NUL, &jerr);
    if (m == NULL)
        return nw_set_error(errbuf, errlen, NW_EJSON, "not valid JSON: %s (column %d)", jerr.text,
                            jerr.column);
    nw_err err = NW_OK;
    nw_alert *al = NULL;
    const char *schema = str_or_null(m, "schema");
    const char *event_id = str_or_null(m, "event");
    const nw_event *ev = NULL;
    nw_alert_report r;
    if (schema == NULL || strcmp(schema, NW_MATCH_SCHEMA) != 0) {
        err = nw_set_error(errbuf, errlen, NW_EJSON, "not a %s record (schema is %s)",
                           NW_MATCH_SCHEMA, schema != NULL ? schema : "missing");
        goto done;
    }
    if (event_id == NULL) {
        err = nw_set_error(errbuf, errlen, NW_EJSON, "the match lacks its event");
        goto done;
    }
    if ((ev = nw_rules_find_event(a->rules, event_id)) == NULL) {
        err = nw_set_error(errbuf, errlen, NW_EINVAL, "event '%s' is not tracked", event_id);
        goto done;
    }
    if ((err = read_report(m, &r, errbuf, errlen)) != NW_OK)
        goto done;
    slot *s = get_slot(a, event_id, NULL);
    if (s == NULL || (al = nw_alert_new()) == NULL ||
        (al->event_id = nw_str_dup(event_id)) == NULL) {
        err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        goto done;
    }
    if ((err = nw_alert_state_observe(s->state, ev, &r, al, errbuf, errlen)) != NW_OK ||
        (err = nw_alert_state_to_json(s->state, &al->state, &al->state_len, errbuf, errlen)) !=
            NW_OK)
        goto done;
    nw_time_now_rfc3339(al->detected_at);
    al->event_time = r.ref_time;
    if (al->decision != NW_ALERT_NEW && al->decision != NW_ALERT_UPDATE)
        goto done;
    al->severity = nw_str_dup(ev->severity);
    al->title = nw_str_dup(ev->title);
    al->evidence =
        nw_str_dup(json_string_value(json_object_get(json_object_get(m, "evidence"), "text")));
    al->doc_id = nw_str_dup(str_or_null(m, "doc_id"));
    al->doc_title = nw_str_dup(str_or_null(m, "doc_title"));
    al->source = nw_str_dup(str_or_null(m, "source"));
    al->url = nw_str_dup(str_or_null(m, "url"));
    al->published_at = nw_str_dup(str_or_null(m, "published_at"));
    al->entities_json = alert_entities(m);
    err = al->entities_json != NULL && al->severity != NULL && al->title != NULL
              ? nw_alert_encode(al, ev, errbuf, errlen)
              : nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
done:
    json_decref(m);
    if (err != NW_OK) {
        nw_alert_free(al);
        return err;
    }
    *out = al;
    return NW_OK;
}

nw_err nw_alerter_list(const nw_alerter *a, int64_t now, long keep_resolved_s,
                       nw_incident_list *out, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < a->nslots; i++) {
        const nw_event *ev = nw_rules_find_event(a->rules, a->slots[i].event);
        if (ev == NULL)
            continue; /* no longer tracked (SIGHUP): its alerts end by themselves */
        nw_err err =
            nw_alert_state_list(a->slots[i].state, ev, now, keep_resolved_s, out, errbuf, errlen);
        if (err != NW_OK)
            return err;
    }
    return NW_OK;
}
