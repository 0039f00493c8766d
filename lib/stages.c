#include "newswatch/stages.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/fingerprint.h"

/* ---- the enricher ------------------------------------------------------ */

struct nw_enricher {
    const nw_pipeline *p;
    nw_analyzer *analyzer;
    nw_matcher *matcher;
    nw_jsonw *writer;       /* the enriched record; out->enriched points into it */
    nw_jsonw *match_writer; /* each match record, copied into matches[] */
    char **matches;
    size_t *match_lens;
    const char **event_ids;
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
    e->analyzer = nw_analyzer_new(p->gazetteer, p->furniture, errbuf, errlen);
    e->matcher = e->analyzer != NULL ? nw_matcher_new(p->rules) : NULL;
    e->writer = nw_jsonw_new();
    e->match_writer = nw_jsonw_new();
    if (e->matcher == NULL || e->writer == NULL || e->match_writer == NULL) {
        if (e->analyzer != NULL)
            nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        nw_enricher_free(e);
        return NULL;
    }
    /* The matcher looks every token up in the rules' terms: screened with the analyzer's. */
    if (nw_analyzer_screen(e->analyzer, nw_rules_terms(p->rules), errbuf, errlen) != NW_OK) {
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
    nw_matcher_free(e->matcher);
    nw_analyzer_free(e->analyzer);
    nw_jsonw_free(e->writer);
    nw_jsonw_free(e->match_writer);
    free(e);
}

/* ORG, LOC and FACILITY ids named in the sentences of the match's terms (64 at most). */
static void write_event_entities(nw_jsonw *w, const nw_match *match, const nw_analysis *an)
{
    const char *ids[64];
    size_t nids = 0;
    nw_jsonw_array_begin(w);
    for (size_t i = 0; i < an->nmentions && nids < 64; i++) {
        const nw_mention *mn = &an->mentions[i];
        if (mn->entity == NULL || mn->type == NW_ENTITY_PERSON)
            continue;
        bool near = false;
        for (size_t k = 0; k < match->nterms && !near; k++)
            near = match->terms[k].sentence == mn->sentence;
        bool seen = false;
        for (size_t j = 0; j < nids && !seen; j++)
            seen = strcmp(ids[j], mn->entity->id) == 0;
        if (near && !seen) {
            ids[nids++] = mn->entity->id;
            nw_jsonw_cstring(w, mn->entity->id);
        }
    }
    nw_jsonw_array_end(w);
}

nw_err nw_enricher_run(nw_enricher *e, const nw_doc *doc, int64_t fallback_time, nw_enriched *out,
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
    if (err != NW_OK)
        return err;
    if (n > e->cap) {
        char **m = realloc(e->matches, n * sizeof(char *));
        if (m != NULL)
            e->matches = m;
        size_t *l = realloc(e->match_lens, n * sizeof(size_t));
        if (l != NULL)
            e->match_lens = l;
        const char **ids = realloc(e->event_ids, n * sizeof(char *));
        if (ids != NULL)
            e->event_ids = ids;
        if (m == NULL || l == NULL || ids == NULL)
            return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        e->cap = n;
    }
    /* The enriched record lists its matches. */
    nw_jsonw *w = e->writer;
    nw_jsonw_reset(w);
    nw_jsonw_object_begin(w);
    nw_analysis_write_members(an, doc, w);
    nw_jsonw_key(w, "matches");
    nw_jsonw_array_begin(w);
    for (size_t i = 0; i < n; i++) {
        const nw_sentence *s = &an->seg->sentences[matches[i].evidence];
        nw_jsonw_object_begin(w);
        nw_jsonw_key(w, "event");
        nw_jsonw_cstring(w, matches[i].event->id);
        nw_jsonw_key(w, "evidence");
        nw_jsonw_object_begin(w);
        nw_jsonw_key(w, "start");
        nw_jsonw_int(w, s->start);
        nw_jsonw_key(w, "end");
        nw_jsonw_int(w, s->end);
        nw_jsonw_object_end(w);
        nw_jsonw_object_end(w);
    }
    nw_jsonw_array_end(w);
    nw_jsonw_object_end(w);
    if ((err = nw_jsonw_finish(w, &out->enriched, &out->enriched_len, errbuf, errlen)) != NW_OK)
        return err;
    if (n == 0)
        return NW_OK;

    /* What the alert stage needs, the same for every match of the document. */
    int64_t t = fallback_time;
    const char *published = nw_doc_get(doc, NW_DOC_PUBLISHED_AT, NULL);
    int64_t pt;
    if (published != NULL && nw_time_parse_rfc3339(published, &pt, NULL, 0) == NW_OK)
        t = pt;
    char when[32], fptext[NW_FINGERPRINT_TEXT_SIZE];
    nw_time_format_rfc3339(t, when);
    nw_fingerprint fp;
    nw_fingerprint_compute(an->text, an->seg, &fp);
    nw_fingerprint_encode(&fp, fptext, sizeof fptext);
    bool claim = nw_matcher_has_class(e->matcher, "claim");
    w = e->match_writer;
    for (size_t i = 0; i < n && err == NW_OK; i++) {
        nw_jsonw_reset(w);
        nw_jsonw_object_begin(w);
        nw_match_write_members(&matches[i], an, doc, w);
        nw_jsonw_key(w, "doc_title");
        nw_doc_write_field(w, doc, NW_DOC_TITLE);
        nw_jsonw_key(w, "event_time");
        nw_jsonw_cstring(w, when);
        nw_jsonw_key(w, "fingerprint");
        nw_jsonw_cstring(w, fptext);
        nw_jsonw_key(w, "claim");
        nw_jsonw_bool(w, claim);
        nw_jsonw_key(w, "event_entities");
        write_event_entities(w, &matches[i], an);
        nw_jsonw_object_end(w);
        e->matches[i] = NULL;
        err = nw_jsonw_finish_copy(w, &e->matches[i], &e->match_lens[i], errbuf, errlen);
        e->event_ids[i] = matches[i].event->id;
        if (err == NW_OK)
            e->nmatches = i + 1;
    }
    if (err != NW_OK) {
        clear_outputs(e);
        return err;
    }
    out->nmatches = n;
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
    char *alert, *state;
    json_t *match; /* the record being decided: out's strings point into it */
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
    free(a->alert);
    free(a->state);
    json_decref(a->match);
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
    if (a->nslots == a->cap) {
        size_t n = a->cap ? a->cap * 2 : 16;
        slot *ns = realloc(a->slots, n * sizeof(slot));
        if (ns == NULL)
            return NULL;
        a->slots = ns;
        a->cap = n;
    }
    s = &a->slots[a->nslots];
    s->event = strdup(event);
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

nw_err nw_alerter_process(nw_alerter *a, const char *match, size_t len, nw_alert_out *out,
                          char *errbuf, size_t errlen)
{
    memset(out, 0, sizeof *out);
    free(a->alert);
    free(a->state);
    a->alert = a->state = NULL;
    json_decref(a->match);
    json_error_t jerr;
    json_t *m = a->match = json_loadb(match, len, 0, &jerr);
    if (m == NULL)
        return nw_set_error(errbuf, errlen, NW_EJSON, "not valid JSON: %s (column %d)", jerr.text,
                            jerr.column);
    const char *schema = str_or_null(m, "schema");
    if (schema == NULL || strcmp(schema, NW_MATCH_SCHEMA) != 0)
        return nw_set_error(errbuf, errlen, NW_EJSON, "not a %s record (schema is %s)",
                            NW_MATCH_SCHEMA, schema != NULL ? schema : "missing");
    const char *event_id = str_or_null(m, "event");
    const char *when = str_or_null(m, "event_time");
    const char *fptext = str_or_null(m, "fingerprint");
    json_t *ents = json_object_get(m, "event_entities");
    if (event_id == NULL || when == NULL || fptext == NULL || !json_is_array(ents))
        return nw_set_error(errbuf, errlen, NW_EJSON,
                            "the match lacks event, event_time, fingerprint or event_entities");
    const nw_event *ev = nw_rules_find_event(a->rules, event_id);
    if (ev == NULL)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "event '%s' is not tracked", event_id);
    nw_alert_report r;
    memset(&r, 0, sizeof r);
    nw_err err = nw_time_parse_rfc3339(when, &r.event_time, errbuf, errlen);
    if (err == NW_OK)
        err = nw_fingerprint_decode(fptext, strlen(fptext), &r.fingerprint, errbuf, errlen);
    if (err != NW_OK)
        return err;
    json_t *cas = json_object_get(m, "casualties");
    json_t *k = json_object_get(cas, "killed"), *w = json_object_get(cas, "wounded");
    r.killed = json_is_integer(k) ? (int)json_integer_value(k) : -1;
    r.wounded = json_is_integer(w) ? (int)json_integer_value(w) : -1;
    r.claim = json_is_true(json_object_get(m, "claim"));
    const char *ids[64];
    size_t i;
    json_t *v;
    json_array_foreach(ents, i, v) if (r.nentities < 64 && json_is_string(v)) ids[r.nentities++] =
        json_string_value(v);
    r.entities = ids;

    slot *s = get_slot(a, event_id, NULL);
    if (s == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    if ((err = nw_alert_state_observe(s->state, ev, &r, &out->outcome, errbuf, errlen)) != NW_OK)
        return err;
    size_t sl;
    if ((err = nw_alert_state_to_json(s->state, &a->state, &sl, errbuf, errlen)) != NW_OK)
        return err;
    out->event_id = s->event;
    out->state = a->state;
    out->state_len = sl;
    out->severity = ev->severity;
    out->title = ev->title;
    out->evidence = json_string_value(json_object_get(json_object_get(m, "evidence"), "text"));
    out->doc_id = str_or_null(m, "doc_id");
    out->source = str_or_null(m, "source");
    out->url = str_or_null(m, "url");
    out->published_at = str_or_null(m, "published_at");
    nw_time_now_rfc3339(out->detected_at);
    nw_alert_id(ev, &out->outcome, out->alert_id, sizeof out->alert_id);
    if (out->outcome.decision != NW_ALERT_NEW && out->outcome.decision != NW_ALERT_UPDATE)
        return NW_OK;
    /* The alert's entities: the match's, without offsets. */
    json_t *ae = json_array();
    json_array_foreach(json_object_get(m, "entities"), i, v)
    {
        json_t *c = json_object();
        json_object_set(c, "id", json_object_get(v, "id"));
        json_object_set(c, "type", json_object_get(v, "type"));
        json_object_set(c, "name", json_object_get(v, "name"));
        json_object_set(c, "surface", json_object_get(v, "surface"));
        json_array_append_new(ae, c);
    }
    char *ejson = json_dumps(ae, JSON_COMPACT);
    json_decref(ae);
    nw_alert_info info = {ev,
                          out->doc_id,
                          out->source,
                          out->url,
                          str_or_null(m, "doc_title"),
                          out->published_at,
                          out->evidence,
                          ejson,
                          r.event_time,
                          out->detected_at};
    err = ejson != NULL
              ? nw_alert_to_json(&info, &out->outcome, &a->alert, &out->alert_len, errbuf, errlen)
              : nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    free(ejson);
    out->alert = a->alert;
    return err;
}
