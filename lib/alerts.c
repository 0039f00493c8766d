#include "newswatch/alerts.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/str.h"
#include "newswatch/when.h"
#include "grow.h"

/* Bytes kept of an alert's texts (NUL included); longer ones are cut at a character. */
#define NOTE_REASONS  256
#define NOTE_EVIDENCE 400
#define NOTE_TITLE    256
#define NOTE_ID       128 /* a longer id or URL is not kept at all: a cut one is wrong */
#define NOTE_URL      400
/* An incident's alert texts are dropped this long after it resolved. */
#define PRUNE_AFTER_S 3600

/* What one alert of an incident said, for re-posting it. */
typedef struct note {
    unsigned sequence;
    int64_t at; /* when it was decided (the report's seen_at) */
    char reasons[NOTE_REASONS], evidence[NOTE_EVIDENCE], doc_id[NOTE_ID], doc_title[NOTE_TITLE],
        url[NOTE_URL];
} note;

typedef struct incident {
    int64_t day;
    bool stated; /* opened by a report that stated its day */
    unsigned sequence, reports;
    int64_t first_at, last_at;               /* report times */
    int64_t last_update_at;                  /* the last alert (new or update) */
    int64_t last_arrest_at, last_finding_at; /* 0: never */
    int killed, wounded;
    bool claim;
    int64_t seen_at;   /* the last distinct report, by the alert stage's clock (0: last_at) */
    int64_t opened_at; /* the first report, by that clock (0: first_at) */
    int64_t quiet_at;  /* when the incident last went quiet (its alerts then resolved); 0 never */
    note notes[NW_ALERT_NOTES]; /* its latest alerts, newest first */
    size_t nnotes;
} incident;

struct nw_alert_state {
    char *event;
    unsigned duplicates;
    incident incidents[NW_ALERT_INCIDENTS];
    size_t nincidents;
    nw_fingerprint fps[NW_ALERT_FINGERPRINTS];
    size_t nfps, next_fp; /* a ring: next_fp is where the next one goes */
};

static const char *const decision_names[] = {"duplicate", "counted", "new", "update"};

const char *nw_alert_decision_name(nw_alert_decision d)
{
    return d <= NW_ALERT_UPDATE ? decision_names[d] : "?";
}

nw_alert *nw_alert_new(void)
{
    nw_alert *a = calloc(1, sizeof(*a));
    if (a != NULL)
        a->killed = a->wounded = -1;
    return a;
}

void nw_alert_free(nw_alert *a)
{
    if (a == NULL)
        return;
    char *owned[] = {a->event_id,      a->id,     a->severity, a->title,        a->doc_id,
                     a->doc_title,     a->source, a->url,      a->published_at, a->evidence,
                     a->entities_json, a->json,   a->state};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        free(owned[i]);
    free(a);
}

nw_alert_state *nw_alert_state_new(const char *event_id)
{
    nw_alert_state *st = calloc(1, sizeof(*st));
    if (st == NULL || (st->event = nw_str_dup(event_id)) == NULL) {
        free(st);
        return NULL;
    }
    return st;
}

void nw_alert_state_free(nw_alert_state *st)
{
    if (st == NULL)
        return;
    free(st->event);
    free(st);
}

const char *nw_alert_state_event(const nw_alert_state *st)
{
    return st->event;
}

static void remember_fingerprint(nw_alert_state *st, const nw_fingerprint *fp)
{
    st->fps[st->next_fp] = *fp;
    st->next_fp = (st->next_fp + 1) % NW_ALERT_FINGERPRINTS;
    if (st->nfps < NW_ALERT_FINGERPRINTS)
        st->nfps++;
}

static void add_reason(nw_alert *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_reason(nw_alert *o, const char *fmt, ...)
{
    size_t n = strlen(o->reasons);
    if (n > 0 && n + 2 < sizeof o->reasons) {
        memcpy(o->reasons + n, "; ", 3);
        n += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->reasons + n, sizeof o->reasons - n, fmt, ap);
    va_end(ap);
}

/* The incident a report is of, or NULL for a new one. */
static incident *find_incident(nw_alert_state *st, const nw_event *ev, const nw_alert_report *r)
{
    if (ev->incident == NW_INCIDENT_ANCHORED) { /* one incident, whatever day a report gives */
        for (size_t i = 0; i < st->nincidents; i++)
            if (st->incidents[i].day == ev->anchor_day)
                return &st->incidents[i];
        return NULL;
    }
    if (ev->incident == NW_INCIDENT_ANCHORED || r->day_stated) {
        incident *near = NULL;
        for (size_t i = 0; i < st->nincidents; i++) {
            incident *in = &st->incidents[i];
            if (in->day == r->event_day)
                return in;
            if (ev->incident == NW_INCIDENT_RECURRING && !in->stated &&
                (in->day == r->event_day + 1 || in->day == r->event_day - 1))
                near = in;
        }
        return near;
    }
    /* No day stated: the latest incident still being reported, not after this report. */
    incident *best = NULL;
    for (size_t i = 0; i < st->nincidents; i++) {
        incident *in = &st->incidents[i];
        if (in->day > r->event_day || r->ref_time - in->last_at > ev->episode_gap_s)
            continue;
        if (best == NULL || in->last_at > best->last_at)
            best = in;
    }
    return best;
}

static incident *open_incident(nw_alert_state *st, const nw_alert_report *r)
{
    if (st->nincidents == NW_ALERT_INCIDENTS) { /* forget the least recently reported */
        size_t old = 0;
        for (size_t i = 1; i < st->nincidents; i++)
            if (st->incidents[i].last_at < st->incidents[old].last_at)
                old = i;
        st->incidents[old] = st->incidents[--st->nincidents];
    }
    incident *in = &st->incidents[st->nincidents++];
    memset(in, 0, sizeof *in);
    in->day = r->event_day;
    in->stated = r->day_stated;
    in->killed = in->wounded = -1;
    in->first_at = in->last_at = r->ref_time;
    return in;
}

static int64_t seen_of(const incident *in)
{
    return in->seen_at != 0 ? in->seen_at : in->last_at;
}

static int64_t opened_of(const incident *in)
{
    return in->opened_at != 0 ? in->opened_at : in->first_at;
}

static long resolve_after_of(const nw_event *ev)
{
    return ev->resolve_after_s > 0 ? ev->resolve_after_s : NW_RESOLVE_AFTER_DEFAULT;
}

/* Copies src into dst[cap], cut at a UTF-8 character boundary; "" for NULL. */
static void copy_cut(char *dst, size_t cap, const char *src)
{
    size_t n = src != NULL ? strlen(src) : 0;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Copies src whole into dst[cap], or "" when it does not fit. */
static void copy_whole(char *dst, size_t cap, const char *src)
{
    if (src == NULL || strlen(src) >= cap)
        dst[0] = '\0';
    else
        memcpy(dst, src, strlen(src) + 1);
}

/* Remembers what the alert out says about report r, as the incident's newest note. */
static void remember_note(incident *in, const nw_alert *out, const nw_alert_report *r, int64_t now)
{
    memmove(&in->notes[1], &in->notes[0], (NW_ALERT_NOTES - 1) * sizeof(note));
    if (in->nnotes < NW_ALERT_NOTES)
        in->nnotes++;
    note *nt = &in->notes[0];
    nt->sequence = in->sequence;
    nt->at = now;
    copy_cut(nt->reasons, sizeof nt->reasons, out->reasons);
    copy_cut(nt->evidence, sizeof nt->evidence, r->evidence);
    copy_cut(nt->doc_title, sizeof nt->doc_title, r->doc_title);
    copy_whole(nt->doc_id, sizeof nt->doc_id, r->doc_id);
    copy_whole(nt->url, sizeof nt->url, r->url);
}

static bool stale(int64_t last, int64_t now, long interval)
{
    return last == 0 || now - last >= interval;
}

nw_err nw_alert_state_observe(nw_alert_state *st, const nw_event *ev, const nw_alert_report *r,
                              nw_alert *out, char *errbuf, size_t errlen)
{
    out->reasons[0] = '\0';
    int64_t now = r->seen_at != 0 ? r->seen_at : r->ref_time;
    long resolve_after = resolve_after_of(ev);
    for (size_t i = 0; i < st->nincidents; i++) /* long resolved: their texts are not needed */
        if (st->incidents[i].nnotes > 0 &&
            now - seen_of(&st->incidents[i]) >= resolve_after + PRUNE_AFTER_S)
            st->incidents[i].nnotes = 0;
    incident *in = find_incident(st, ev, r);
    nw_day_format(in != NULL                             ? in->day
                  : ev->incident == NW_INCIDENT_ANCHORED ? ev->anchor_day
                                                         : r->event_day,
                  out->incident);
    for (size_t i = 0; i < st->nfps; i++) {
        if (nw_fingerprint_is_duplicate(&st->fps[i], &r->fingerprint)) {
            st->duplicates++;
            out->decision = NW_ALERT_DUPLICATE;
            goto done;
        }
    }
    remember_fingerprint(st, &r->fingerprint);
    if (in == NULL && ev->incident == NW_INCIDENT_RECURRING && !r->day_stated) {
        /* A report that says when nothing happened opens no incident: an analysis of
         * a campaign is not an attack. The first dated report opens it. */
        add_reason(out, "no day stated and no incident to join");
        out->decision = NW_ALERT_COUNTED;
        goto done;
    }
    if (in == NULL) {
        nw_alert_report at = *r;
        if (ev->incident == NW_INCIDENT_ANCHORED)
            at.event_day = ev->anchor_day;
        in = open_incident(st, &at);
        in->sequence = 1;
        in->reports = 1;
        in->killed = r->killed;
        in->wounded = r->wounded;
        in->claim = r->claim;
        in->last_update_at = r->ref_time;
        in->last_arrest_at = r->arrest ? r->ref_time : 0;
        in->last_finding_at = r->finding ? r->ref_time : 0;
        in->seen_at = in->opened_at = now;
        nw_day_format(in->day, out->incident);
        out->decision = NW_ALERT_NEW;
        goto done;
    }
    if (now - seen_of(in) >= resolve_after) /* it went quiet: its alerts resolved then */
        in->quiet_at = seen_of(in) + resolve_after;
    if (now > seen_of(in))
        in->seen_at = now;
    in->reports++;
    if (r->ref_time > in->last_at)
        in->last_at = r->ref_time;
    bool toll = false, news = false;
    if (r->killed > in->killed) {
        if (in->killed >= 0)
            add_reason(out, "killed rose from %d to %d", in->killed, r->killed);
        else
            add_reason(out, "%d killed", r->killed);
        in->killed = r->killed;
        toll = true;
    }
    if (r->wounded > in->wounded) {
        if (in->wounded >= 0)
            add_reason(out, "wounded rose from %d to %d", in->wounded, r->wounded);
        else
            add_reason(out, "%d wounded", r->wounded);
        in->wounded = r->wounded;
        toll = true;
    }
    if (r->claim && !in->claim) {
        add_reason(out, "claim of responsibility");
        in->claim = true;
        news = true;
    }
    if (r->arrest && stale(in->last_arrest_at, r->ref_time, ev->update_interval_s)) {
        add_reason(out, "arrests");
        news = true;
    }
    if (r->arrest)
        in->last_arrest_at = r->ref_time;
    if (r->finding && stale(in->last_finding_at, r->ref_time, ev->update_interval_s)) {
        add_reason(out, "official finding");
        news = true;
    }
    if (r->finding)
        in->last_finding_at = r->ref_time;
    if (toll || (news && stale(in->last_update_at, r->ref_time, ev->update_interval_s))) {
        in->sequence++;
        in->last_update_at = r->ref_time;
        out->decision = NW_ALERT_UPDATE;
    } else {
        out->decision = NW_ALERT_COUNTED;
    }
done:
    if (in != NULL && (out->decision == NW_ALERT_NEW || out->decision == NW_ALERT_UPDATE))
        remember_note(in, out, r, now);
    out->sequence = in != NULL ? in->sequence : 0;
    out->reports = in != NULL ? in->reports : 0;
    out->duplicates = st->duplicates;
    out->killed = in != NULL ? in->killed : -1;
    out->wounded = in != NULL ? in->wounded : -1;
    out->claim = in != NULL && in->claim;
    free(out->id);
    size_t idlen = strlen(ev->id) + 32;
    if ((out->id = malloc(idlen)) == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    snprintf(out->id, idlen, "%s:%s:%u", ev->id, out->incident, out->sequence);
    return NW_OK;
}

static json_t *int_or_null(int v)
{
    return v >= 0 ? json_integer(v) : json_null();
}

nw_err nw_alert_state_to_json(const nw_alert_state *st, char **out, size_t *outlen, char *errbuf,
                              size_t errlen)
{
    json_t *o = json_object();
    json_object_set_new(o, "schema", json_string(NW_ALERT_STATE_SCHEMA));
    json_object_set_new(o, "event", json_string(st->event));
    json_object_set_new(o, "duplicates", json_integer(st->duplicates));
    json_t *incs = json_array();
    for (size_t i = 0; i < st->nincidents; i++) {
        const incident *in = &st->incidents[i];
        char day[11];
        nw_day_format(in->day, day);
        json_array_append_new(
            incs,
            json_pack("{s:s, s:b, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:b}", "day", day,
                      "stated", in->stated, "sequence", (int)in->sequence, "reports",
                      (int)in->reports, "first_at", (json_int_t)in->first_at, "last_at",
                      (json_int_t)in->last_at, "last_update_at", (json_int_t)in->last_update_at,
                      "last_arrest_at", (json_int_t)in->last_arrest_at, "last_finding_at",
                      (json_int_t)in->last_finding_at, "killed", int_or_null(in->killed), "wounded",
                      int_or_null(in->wounded), "claim", in->claim));
        json_t *jin = json_array_get(incs, json_array_size(incs) - 1);
        json_object_set_new(jin, "seen_at", json_integer(seen_of(in)));
        json_object_set_new(jin, "opened_at", json_integer(opened_of(in)));
        json_object_set_new(jin, "quiet_at", json_integer(in->quiet_at));
        if (in->nnotes > 0) {
            json_t *notes = json_array();
            for (size_t k = 0; k < in->nnotes; k++) {
                const note *nt = &in->notes[k];
                json_array_append_new(
                    notes, json_pack("{s:i, s:I, s:s, s:s, s:s, s:s, s:s}", "sequence",
                                     (int)nt->sequence, "at", (json_int_t)nt->at, "reasons",
                                     nt->reasons, "evidence", nt->evidence, "doc_id", nt->doc_id,
                                     "doc_title", nt->doc_title, "url", nt->url));
            }
            json_object_set_new(jin, "alerts", notes);
        }
    }
    json_object_set_new(o, "incidents", incs);
    json_t *fps = json_array();
    for (size_t k = 0; k < st->nfps; k++) {
        /* Oldest first, so that a restored ring forgets the same ones. */
        size_t i = (st->next_fp + NW_ALERT_FINGERPRINTS - st->nfps + k) % NW_ALERT_FINGERPRINTS;
        char buf[NW_FINGERPRINT_TEXT_SIZE];
        nw_fingerprint_encode(&st->fps[i], buf, sizeof buf);
        json_array_append_new(fps, json_string(buf));
    }
    json_object_set_new(o, "fingerprints", fps);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (s == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "cannot encode the alert state");
    *out = s;
    *outlen = strlen(s);
    return NW_OK;
}

static bool read_incident(json_t *v, incident *in)
{
    const char *day = json_string_value(json_object_get(v, "day"));
    if (!json_is_object(v) || day == NULL || nw_day_parse(day, &in->day, NULL, 0) != NW_OK)
        return false;
    json_t *k = json_object_get(v, "killed"), *w = json_object_get(v, "wounded");
    in->stated = json_is_true(json_object_get(v, "stated"));
    in->sequence = (unsigned)json_integer_value(json_object_get(v, "sequence"));
    in->reports = (unsigned)json_integer_value(json_object_get(v, "reports"));
    in->first_at = json_integer_value(json_object_get(v, "first_at"));
    in->last_at = json_integer_value(json_object_get(v, "last_at"));
    in->last_update_at = json_integer_value(json_object_get(v, "last_update_at"));
    in->last_arrest_at = json_integer_value(json_object_get(v, "last_arrest_at"));
    in->last_finding_at = json_integer_value(json_object_get(v, "last_finding_at"));
    in->killed = json_is_integer(k) ? (int)json_integer_value(k) : -1;
    in->wounded = json_is_integer(w) ? (int)json_integer_value(w) : -1;
    in->claim = json_is_true(json_object_get(v, "claim"));
    in->seen_at = json_integer_value(json_object_get(v, "seen_at"));
    in->opened_at = json_integer_value(json_object_get(v, "opened_at"));
    in->quiet_at = json_integer_value(json_object_get(v, "quiet_at"));
    size_t ni;
    json_t *nv;
    json_array_foreach(json_object_get(v, "alerts"), ni, nv)
    {
        if (ni >= NW_ALERT_NOTES)
            break;
        note *nt = &in->notes[in->nnotes++];
        nt->sequence = (unsigned)json_integer_value(json_object_get(nv, "sequence"));
        nt->at = json_integer_value(json_object_get(nv, "at"));
        copy_cut(nt->reasons, sizeof nt->reasons,
                 json_string_value(json_object_get(nv, "reasons")));
        copy_cut(nt->evidence, sizeof nt->evidence,
                 json_string_value(json_object_get(nv, "evidence")));
        copy_cut(nt->doc_title, sizeof nt->doc_title,
                 json_string_value(json_object_get(nv, "doc_title")));
        copy_whole(nt->doc_id, sizeof nt->doc_id, json_string_value(json_object_get(nv, "doc_id")));
        copy_whole(nt->url, sizeof nt->url, json_string_value(json_object_get(nv, "url")));
    }
    return in->sequence >= 1;
}

nw_err nw_alert_state_from_json(const char *json, size_t len, nw_alert_state **out, char *errbuf,
                                size_t errlen)
{
    *out = NULL;
    json_error_t jerr;
    json_t *o = json_loadb(json, len, 0, &jerr);
    if (o == NULL)
        return nw_set_error(errbuf, errlen, NW_EJSON, "alert state is not JSON: %s", jerr.text);
    nw_err err = NW_OK;
    nw_alert_state *st = NULL;
    const char *schema = json_string_value(json_object_get(o, "schema"));
    const char *event = json_string_value(json_object_get(o, "event"));
    json_t *incs = json_object_get(o, "incidents"), *fps = json_object_get(o, "fingerprints");
    if (schema == NULL || strcmp(schema, NW_ALERT_STATE_SCHEMA) != 0 || event == NULL ||
        !json_is_array(incs) || json_array_size(incs) > NW_ALERT_INCIDENTS || !json_is_array(fps) ||
        json_array_size(fps) > NW_ALERT_FINGERPRINTS) {
        err = nw_set_error(errbuf, errlen, NW_EJSON,
                           "not a %s object (schema, event, incidents, fingerprints)",
                           NW_ALERT_STATE_SCHEMA);
        goto done;
    }
    if ((st = nw_alert_state_new(event)) == NULL) {
        err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        goto done;
    }
    st->duplicates = (unsigned)json_integer_value(json_object_get(o, "duplicates"));
    size_t i;
    json_t *v;
    json_array_foreach(incs, i, v)
    {
        if (!read_incident(v, &st->incidents[st->nincidents])) {
            err = nw_set_error(errbuf, errlen, NW_EJSON,
                               "incidents[%zu] is not an incident (day YYYY-MM-DD, sequence)", i);
            goto done;
        }
        st->nincidents++;
    }
    json_array_foreach(fps, i, v)
    {
        nw_fingerprint fp;
        char why[256];
        if (!json_is_string(v) || nw_fingerprint_decode(json_string_value(v), json_string_length(v),
                                                        &fp, why, sizeof why) != NW_OK) {
            err = nw_set_error(errbuf, errlen, NW_EJSON, "fingerprints[%zu]: %s", i,
                               json_is_string(v) ? why : "not a string");
            goto done;
        }
        remember_fingerprint(st, &fp);
    }
done:
    json_decref(o);
    if (err != NW_OK) {
        nw_alert_state_free(st);
        return err;
    }
    *out = st;
    return NW_OK;
}

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

nw_err nw_alert_encode(nw_alert *al, const nw_event *ev, char *errbuf, size_t errlen)
{
    char event_time[32];
    nw_time_format_rfc3339(al->event_time, event_time);
    json_t *a = json_object();
    json_object_set_new(a, "schema", json_string(NW_ALERT_SCHEMA));
    json_object_set_new(a, "alert_id", json_string(al->id));
    json_object_set_new(a, "event", json_string(ev->id));
    json_object_set_new(a, "status", json_string(al->decision == NW_ALERT_NEW ? "new" : "update"));
    json_object_set_new(a, "severity", json_string(ev->severity));
    json_object_set_new(a, "title", json_string(ev->title));
    json_object_set_new(a, "title_ar", json_string(ev->title_ar));
    json_object_set_new(a, "incident", json_string(al->incident));
    json_object_set_new(a, "sequence", json_integer(al->sequence));
    json_object_set_new(a, "reasons", json_string(al->reasons));
    json_object_set_new(a, "doc_id", str_or_null(al->doc_id));
    json_object_set_new(a, "doc_title", str_or_null(al->doc_title));
    json_object_set_new(a, "source", str_or_null(al->source));
    json_object_set_new(a, "url", str_or_null(al->url));
    json_object_set_new(a, "evidence", json_string(al->evidence ? al->evidence : ""));
    json_t *ents = NULL;
    if (al->entities_json != NULL) {
        json_error_t jerr;
        ents = json_loads(al->entities_json, 0, &jerr);
    }
    json_object_set_new(a, "entities", json_is_array(ents) ? ents : json_array());
    if (ents != NULL && !json_is_array(ents))
        json_decref(ents);
    json_object_set_new(a, "casualties",
                        al->killed < 0 && al->wounded < 0
                            ? json_null()
                            : json_pack("{s:o, s:o}", "killed", int_or_null(al->killed), "wounded",
                                        int_or_null(al->wounded)));
    json_object_set_new(a, "claim", json_boolean(al->claim));
    json_t *labels = json_object();
    for (size_t i = 0; i < ev->nlabels; i++)
        json_object_set_new(labels, ev->labels[i].name, json_string(ev->labels[i].value));
    json_object_set_new(a, "labels", labels);
    json_object_set_new(a, "reports", json_integer(al->reports));
    json_object_set_new(a, "published_at", str_or_null(al->published_at));
    json_object_set_new(a, "event_time", json_string(event_time));
    json_object_set_new(a, "detected_at", json_string(al->detected_at));
    char *s = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(a);
    if (s == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "cannot encode the alert");
    free(al->json);
    al->json = s;
    al->json_len = strlen(s);
    return NW_OK;
}

/* ---- incident alerts for Alertmanager ----------------------------------- */

struct nw_incident_list {
    nw_incident_alert *items;
    size_t n, cap;
    void **blocks; /* everything the items point to */
    size_t nblocks, capblocks;
    bool failed; /* out of memory while building the last item */
};

nw_incident_list *nw_incident_list_new(void)
{
    return calloc(1, sizeof(nw_incident_list));
}

void nw_incident_list_clear(nw_incident_list *l)
{
    for (size_t i = 0; i < l->nblocks; i++)
        free(l->blocks[i]);
    l->nblocks = 0;
    l->n = 0;
}

void nw_incident_list_free(nw_incident_list *l)
{
    if (l == NULL)
        return;
    nw_incident_list_clear(l);
    free(l->blocks);
    free(l->items);
    free(l);
}

size_t nw_incident_list_count(const nw_incident_list *l)
{
    return l->n;
}

const nw_incident_alert *nw_incident_list_at(const nw_incident_list *l, size_t i)
{
    return i < l->n ? &l->items[i] : NULL;
}

/* Memory the list owns (NULL, and failed set, when out of memory). */
static void *list_alloc(nw_incident_list *l, size_t size)
{
    if (!nw_grow((void **)&l->blocks, &l->capblocks, l->nblocks + 1, sizeof(*l->blocks))) {
        l->failed = true;
        return NULL;
    }
    void *p = malloc(size > 0 ? size : 1);
    if (p == NULL) {
        l->failed = true;
        return NULL;
    }
    l->blocks[l->nblocks++] = p;
    return p;
}

/* A copy of s the list owns ("" for NULL or ""). */
static const char *list_str(nw_incident_list *l, const char *s)
{
    if (s == NULL || s[0] == '\0')
        return "";
    size_t n = strlen(s) + 1;
    char *d = list_alloc(l, n);
    if (d == NULL)
        return "";
    memcpy(d, s, n);
    return d;
}

/* A new item (zeroed but for the event's members), or NULL when out of memory. */
static nw_incident_alert *list_add(nw_incident_list *l, const nw_event *ev, const incident *in)
{
    if (!nw_grow((void **)&l->items, &l->cap, l->n + 1, sizeof(*l->items))) {
        l->failed = true;
        return NULL;
    }
    nw_incident_alert *a = &l->items[l->n++];
    memset(a, 0, sizeof *a);
    a->event_id = list_str(l, ev->id);
    a->severity = list_str(l, ev->severity);
    a->title = list_str(l, ev->title != NULL ? ev->title : ev->id);
    a->title_ar = list_str(l, ev->title_ar);
    if (ev->nlabels > 0) {
        nw_label *labels = list_alloc(l, ev->nlabels * sizeof(nw_label));
        for (size_t i = 0; labels != NULL && i < ev->nlabels; i++) {
            labels[i].name = list_str(l, ev->labels[i].name);
            labels[i].value = list_str(l, ev->labels[i].value);
        }
        a->labels = labels;
        a->nlabels = labels != NULL ? ev->nlabels : 0;
    }
    nw_day_format(in->day, a->incident);
    a->reports = in->reports;
    a->killed = in->killed;
    a->wounded = in->wounded;
    a->claim = in->claim;
    for (size_t k = 0; k < in->nnotes; k++) {
        a->doc_ids[a->ndocs] = list_str(l, in->notes[k].doc_id);
        a->doc_urls[a->ndocs] = list_str(l, in->notes[k].url);
        a->ndocs++;
    }
    a->reasons = a->evidence = a->doc_id = a->doc_title = a->url = "";
    return a;
}

static void show_note(nw_incident_list *l, nw_incident_alert *a, const nw_event *ev, const note *nt,
                      unsigned sequence)
{
    char id[256];
    snprintf(id, sizeof id, "%s:%s:%u", ev->id, a->incident, sequence);
    a->alert_id = list_str(l, id);
    if (nt == NULL)
        return;
    a->reasons = list_str(l, nt->reasons);
    a->evidence = list_str(l, nt->evidence);
    a->doc_id = list_str(l, nt->doc_id);
    a->doc_title = list_str(l, nt->doc_title);
    a->url = list_str(l, nt->url);
}

nw_err nw_alert_state_list(const nw_alert_state *st, const nw_event *ev, int64_t now,
                           long keep_resolved_s, nw_incident_list *out, char *errbuf, size_t errlen)
{
    long resolve_after = resolve_after_of(ev);
    out->failed = false;
    for (size_t i = 0; i < st->nincidents; i++) {
        const incident *in = &st->incidents[i];
        int64_t quiet_end = seen_of(in) + resolve_after;
        /* An alert that began after the incident last went quiet fires until it goes quiet
         * again; one that began before resolved then. */
        for (size_t k = 0; k <= in->nnotes; k++) {
            const note *nt = k > 0 ? &in->notes[k - 1] : NULL;
            if (nt != NULL && nt->sequence < 2)
                continue; /* the new alert's text: shown by the incident's alert */
            int64_t start = nt != NULL ? nt->at : opened_of(in);
            int64_t ends = start > in->quiet_at ? (now >= quiet_end ? quiet_end : 0) : in->quiet_at;
            if (ends != 0 && ends < now - keep_resolved_s)
                continue;
            nw_incident_alert *a = list_add(out, ev, in);
            if (a == NULL)
                break;
            a->update = nt != NULL;
            a->sequence = nt != NULL ? nt->sequence : in->sequence;
            a->starts_at = start;
            a->ends_at = ends;
            if (nt != NULL)
                show_note(out, a, ev, nt, nt->sequence);
            else
                show_note(out, a, ev, in->nnotes > 0 ? &in->notes[0] : NULL,
                          in->nnotes > 0 ? in->notes[0].sequence : in->sequence);
        }
    }
    if (out->failed)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    return NW_OK;
}
