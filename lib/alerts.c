#include "newswatch/alerts.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct nw_alert_state {
    char *event;
    unsigned episode, sequence, reports, duplicates;
    int64_t started_at, last_at;
    int killed, wounded;
    bool claim;
    char *entities[NW_ALERT_ENTITIES];
    size_t nentities;
    nw_fingerprint fps[NW_ALERT_FINGERPRINTS];
    size_t nfps, next_fp; /* a ring: next_fp is where the next one goes */
};

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

nw_alert_state *nw_alert_state_new(const char *event_id)
{
    nw_alert_state *st = calloc(1, sizeof(*st));
    if (st == NULL || (st->event = dup_str(event_id)) == NULL) {
        free(st);
        return NULL;
    }
    st->killed = st->wounded = -1;
    return st;
}

static void clear_entities(nw_alert_state *st)
{
    for (size_t i = 0; i < st->nentities; i++)
        free(st->entities[i]);
    st->nentities = 0;
}

void nw_alert_state_free(nw_alert_state *st)
{
    if (st == NULL)
        return;
    clear_entities(st);
    free(st->event);
    free(st);
}

static bool knows_entity(const nw_alert_state *st, const char *id)
{
    for (size_t i = 0; i < st->nentities; i++)
        if (strcmp(st->entities[i], id) == 0)
            return true;
    return false;
}

static bool remember_entity(nw_alert_state *st, const char *id)
{
    if (knows_entity(st, id) || st->nentities == NW_ALERT_ENTITIES)
        return true;
    char *c = dup_str(id);
    if (c == NULL)
        return false;
    st->entities[st->nentities++] = c;
    return true;
}

static void remember_fingerprint(nw_alert_state *st, const nw_fingerprint *fp)
{
    st->fps[st->next_fp] = *fp;
    st->next_fp = (st->next_fp + 1) % NW_ALERT_FINGERPRINTS;
    if (st->nfps < NW_ALERT_FINGERPRINTS)
        st->nfps++;
}

static void add_reason(nw_alert_outcome *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_reason(nw_alert_outcome *o, const char *fmt, ...)
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

nw_err nw_alert_state_observe(nw_alert_state *st, const nw_event *ev, const nw_alert_report *r,
                              nw_alert_outcome *out, char *errbuf, size_t errlen)
{
    memset(out, 0, sizeof *out);
    bool new_episode = st->episode == 0 || r->event_time - st->last_at > ev->episode_gap_s;
    if (new_episode) {
        st->episode++;
        st->sequence = 1;
        st->reports = 1;
        st->duplicates = 0;
        st->started_at = st->last_at = r->event_time;
        st->killed = r->killed;
        st->wounded = r->wounded;
        st->claim = r->claim;
        clear_entities(st);
        st->nfps = st->next_fp = 0;
        remember_fingerprint(st, &r->fingerprint);
        for (size_t i = 0; i < r->nentities; i++)
            if (!remember_entity(st, r->entities[i]))
                return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        out->decision = NW_ALERT_NEW;
    } else {
        if (r->event_time > st->last_at)
            st->last_at = r->event_time;
        for (size_t i = 0; i < st->nfps; i++) {
            if (nw_fingerprint_is_duplicate(&st->fps[i], &r->fingerprint)) {
                st->duplicates++;
                out->decision = NW_ALERT_DUPLICATE;
                goto done;
            }
        }
        st->reports++;
        remember_fingerprint(st, &r->fingerprint);
        if (r->killed > st->killed) {
            if (st->killed >= 0)
                add_reason(out, "killed rose from %d to %d", st->killed, r->killed);
            else
                add_reason(out, "%d killed", r->killed);
            st->killed = r->killed;
        }
        if (r->wounded > st->wounded) {
            if (st->wounded >= 0)
                add_reason(out, "wounded rose from %d to %d", st->wounded, r->wounded);
            else
                add_reason(out, "%d wounded", r->wounded);
            st->wounded = r->wounded;
        }
        if (r->claim && !st->claim) {
            add_reason(out, "claim of responsibility");
            st->claim = true;
        }
        for (size_t i = 0; i < r->nentities; i++) {
            if (knows_entity(st, r->entities[i]))
                continue;
            add_reason(out, "first mention of %s", r->entities[i]);
            if (!remember_entity(st, r->entities[i]))
                return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        }
        if (out->reasons[0] != '\0') {
            st->sequence++;
            out->decision = NW_ALERT_UPDATE;
        } else {
            out->decision = NW_ALERT_COUNTED;
        }
    }
done:
    out->episode = st->episode;
    out->sequence = st->sequence;
    out->reports = st->reports;
    out->duplicates = st->duplicates;
    out->killed = st->killed;
    out->wounded = st->wounded;
    return NW_OK;
}

nw_err nw_alert_state_to_json(const nw_alert_state *st, char **out, size_t *outlen, char *errbuf,
                              size_t errlen)
{
    json_t *o = json_object();
    json_object_set_new(o, "schema", json_string(NW_ALERT_STATE_SCHEMA));
    json_object_set_new(o, "event", json_string(st->event));
    json_object_set_new(o, "episode", json_integer(st->episode));
    json_object_set_new(o, "sequence", json_integer(st->sequence));
    json_object_set_new(o, "reports", json_integer(st->reports));
    json_object_set_new(o, "duplicates", json_integer(st->duplicates));
    json_object_set_new(o, "started_at", json_integer(st->started_at));
    json_object_set_new(o, "last_at", json_integer(st->last_at));
    json_object_set_new(o, "killed", st->killed >= 0 ? json_integer(st->killed) : json_null());
    json_object_set_new(o, "wounded", st->wounded >= 0 ? json_integer(st->wounded) : json_null());
    json_object_set_new(o, "claim", json_boolean(st->claim));
    json_t *ents = json_array();
    for (size_t i = 0; i < st->nentities; i++)
        json_array_append_new(ents, json_string(st->entities[i]));
    json_object_set_new(o, "entities", ents);
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
    json_t *ents = json_object_get(o, "entities"), *fps = json_object_get(o, "fingerprints");
    if (schema == NULL || strcmp(schema, NW_ALERT_STATE_SCHEMA) != 0 || event == NULL ||
        !json_is_integer(json_object_get(o, "episode")) || !json_is_array(ents) ||
        !json_is_array(fps) || json_array_size(fps) > NW_ALERT_FINGERPRINTS) {
        err = nw_set_error(errbuf, errlen, NW_EJSON,
                           "not a %s object (schema, event, episode, entities, fingerprints)",
                           NW_ALERT_STATE_SCHEMA);
        goto done;
    }
    if ((st = nw_alert_state_new(event)) == NULL) {
        err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        goto done;
    }
    st->episode = (unsigned)json_integer_value(json_object_get(o, "episode"));
    st->sequence = (unsigned)json_integer_value(json_object_get(o, "sequence"));
    st->reports = (unsigned)json_integer_value(json_object_get(o, "reports"));
    st->duplicates = (unsigned)json_integer_value(json_object_get(o, "duplicates"));
    st->started_at = json_integer_value(json_object_get(o, "started_at"));
    st->last_at = json_integer_value(json_object_get(o, "last_at"));
    json_t *k = json_object_get(o, "killed"), *w = json_object_get(o, "wounded");
    st->killed = json_is_integer(k) ? (int)json_integer_value(k) : -1;
    st->wounded = json_is_integer(w) ? (int)json_integer_value(w) : -1;
    st->claim = json_is_true(json_object_get(o, "claim"));
    size_t i;
    json_t *v;
    json_array_foreach(ents, i, v)
    {
        if (!json_is_string(v) || !remember_entity(st, json_string_value(v))) {
            err = nw_set_error(errbuf, errlen, NW_EJSON, "entities[%zu] is not a string", i);
            goto done;
        }
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

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

nw_err nw_time_parse_rfc3339(const char *s, int64_t *out, char *errbuf, size_t errlen)
{
    size_t n = strlen(s);
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (n < 10 || (y = digits(s, 4)) < 0 || s[4] != '-' || (mo = digits(s + 5, 2)) < 1 || mo > 12 ||
        s[7] != '-' || (d = digits(s + 8, 2)) < 1 || d > 31)
        goto bad;
    const char *p = s + 10;
    int64_t offset = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        if (strlen(p) < 9 || (h = digits(p + 1, 2)) < 0 || h > 23 || p[3] != ':' ||
            (mi = digits(p + 4, 2)) < 0 || mi > 59 || p[6] != ':' || (sec = digits(p + 7, 2)) < 0 ||
            sec > 60)
            goto bad;
        p += 9;
        if (*p == '.') {
            p++;
            if (!isdigit((unsigned char)*p))
                goto bad;
            while (isdigit((unsigned char)*p))
                p++;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh = digits(p + 1, 2), om = strlen(p) >= 6 && p[3] == ':' ? digits(p + 4, 2) : -1;
            if (oh < 0 || oh > 23 || om < 0 || om > 59)
                goto bad;
            offset = (int64_t)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
            p += 6;
        } else {
            goto bad;
        }
    }
    if (*p != '\0')
        goto bad;
    *out =
        days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    return NW_OK;
bad:
    return nw_set_error(errbuf, errlen, NW_EINVAL,
                        "'%s' is not an RFC 3339 time (2021-01-21T08:00:00Z)", s);
}

void nw_time_format_rfc3339(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void nw_alert_id(const nw_event *ev, const nw_alert_outcome *o, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s:%u:%u", ev->id, o->episode, o->sequence);
}

nw_err nw_alert_to_json(const nw_alert_info *info, const nw_alert_outcome *o, char **out,
                        size_t *outlen, char *errbuf, size_t errlen)
{
    char id[512], event_time[32];
    nw_alert_id(info->event, o, id, sizeof id);
    nw_time_format_rfc3339(info->event_time, event_time);
    json_t *a = json_object();
    json_object_set_new(a, "schema", json_string(NW_ALERT_SCHEMA));
    json_object_set_new(a, "alert_id", json_string(id));
    json_object_set_new(a, "event", json_string(info->event->id));
    json_object_set_new(a, "status", json_string(o->decision == NW_ALERT_NEW ? "new" : "update"));
    json_object_set_new(a, "severity", json_string(info->event->severity));
    json_object_set_new(a, "title", json_string(info->event->title));
    json_object_set_new(a, "title_ar", json_string(info->event->title_ar));
    json_object_set_new(a, "episode", json_integer(o->episode));
    json_object_set_new(a, "sequence", json_integer(o->sequence));
    json_object_set_new(a, "reasons", json_string(o->reasons));
    json_object_set_new(a, "doc_id", info->doc_id ? json_string(info->doc_id) : json_null());
    json_object_set_new(a, "doc_title",
                        info->doc_title ? json_string(info->doc_title) : json_null());
    json_object_set_new(a, "source", info->source ? json_string(info->source) : json_null());
    json_object_set_new(a, "url", info->url ? json_string(info->url) : json_null());
    json_object_set_new(a, "evidence", json_string(info->evidence ? info->evidence : ""));
    json_t *ents = NULL;
    if (info->entities_json != NULL) {
        json_error_t jerr;
        ents = json_loads(info->entities_json, 0, &jerr);
    }
    json_object_set_new(a, "entities", json_is_array(ents) ? ents : json_array());
    if (ents != NULL && !json_is_array(ents))
        json_decref(ents);
    json_object_set_new(a, "casualties",
                        o->killed < 0 && o->wounded < 0
                            ? json_null()
                            : json_pack("{s:o, s:o}", "killed",
                                        o->killed >= 0 ? json_integer(o->killed) : json_null(),
                                        "wounded",
                                        o->wounded >= 0 ? json_integer(o->wounded) : json_null()));
    json_object_set_new(a, "reports", json_integer(o->reports));
    json_object_set_new(a, "published_at",
                        info->published_at ? json_string(info->published_at) : json_null());
    json_object_set_new(a, "event_time", json_string(event_time));
    json_object_set_new(a, "detected_at", json_string(info->detected_at));
    char *s = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(a);
    if (s == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "cannot encode the alert");
    *out = s;
    *outlen = strlen(s);
    return NW_OK;
}
