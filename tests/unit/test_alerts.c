/*
 * Alert decisions (newswatch.alert-state/2): incidents told apart by the day
 * the reports state (a report stating none joins one or opens none), exact
 * and near copies, updates that bring news about an incident (a rising toll
 * at once, a claim, arrests or a finding at most once per update interval),
 * anchored events, the order of arrival, the bound on
 * incidents, the state's JSON form, RFC 3339 times and the alert record.
 *
 * The events are written here (their intervals are what the tests pin, not
 * what config/events.conf is tuned to); the fingerprints are those of real
 * texts through the default analyzer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <string.h>

#include "newswatch/alerts.h"
#include "newswatch/when.h"
#include "testutil.h"
#include "world.h"

typedef tu_world fixture;

#define T0             1611216000 /* 2021-01-21T08:00:00Z, 11:00 in Baghdad (a Thursday) */
#define MINUTE         60
#define HOUR           3600
#define DAY            86400
#define BAGHDAD_OFFSET (3 * HOUR)

/* A recurring event: a report stating no day joins an incident reported within 24h. */
static nw_event rockets_event(void)
{
    nw_event ev = {
        .id = "baghdad-airport-rockets",
        .title = "Rocket attack on or near Baghdad International Airport",
        .title_ar = "هجوم صاروخي على مطار بغداد الدولي أو قربه",
        .severity = "critical",
        .incident = NW_INCIDENT_RECURRING,
        .anchor_window_s = 3650L * DAY,
        .episode_gap_s = 24 * HOUR,
        .update_interval_s = 6 * HOUR,
        .background_age_s = 14L * DAY,
        .utc_offset_s = BAGHDAD_OFFSET,
        .lead_words = 60,
        .min_sentences = 2,
        .scope = NW_SCOPE_WORDS,
        .scope_words = 12,
        .expression = "fac.baghdad-international-airport AND rocket_fire",
        .file = "test",
        .line = 1,
    };
    return ev;
}

/* An anchored event: the bombing of 21 January 2021. */
static nw_event bombing_event(void)
{
    nw_event ev = rockets_event();
    ev.id = "baghdad-bombing";
    ev.title = "Tayaran Square twin suicide bombing, Baghdad, 21 January 2021";
    ev.title_ar = "التفجير الانتحاري المزدوج في ساحة الطيران ببغداد، 21 كانون الثاني 2021";
    ev.incident = NW_INCIDENT_ANCHORED;
    ev.anchor_day = nw_day_from_civil(2021, 1, 21);
    ev.episode_gap_s = 72 * HOUR;
    ev.expression = "loc.baghdad AND bombing";
    return ev;
}

/* Distinct short reports of rocket fire on the airport (each its own fingerprint). */
static const char *const rocket_reports[] = {
    "سقطت ثلاثة صواريخ كاتيوشا قرب مطار بغداد الدولي فجر اليوم دون أن تسفر عن إصابات.",
    "أعلنت خلية الإعلام الأمني أن صاروخين سقطا داخل قاعدة فيكتوري المجاورة لمطار بغداد.",
    "Two rockets landed near Baghdad International Airport overnight, security sources said.",
    "ذكرت مصادر أمنية أن منظومة سي رام اعترضت صاروخا أطلق باتجاه مطار بغداد الدولي.",
    "قالت الشرطة العراقية إن قذيفة هاون سقطت في محيط مطار بغداد وهرعت فرق الدفاع المدني.",
    "Iraqi forces found the launch pad used in the rocket attack on Baghdad airport.",
    "أفاد مسؤول أمني بأن الهجوم الصاروخي على مطار بغداد ألحق أضرارا بطائرة مدنية.",
    "اعتقلت القوات الأمنية ثلاثة مشتبه بهم في إطلاق الصواريخ على مطار بغداد الدولي.",
    "تبنت جماعة مسلحة غير معروفة الهجوم الصاروخي على مطار بغداد الدولي في بيان.",
    "كشفت نتائج التحقيق في الهجوم الصاروخي على مطار بغداد عن مكان إطلاق الصواريخ.",
    "ارتفع عدد قتلى الهجوم الصاروخي على مطار بغداد الدولي إلى خمسة بحسب مصدر طبي.",
    "An Iraqi contractor was killed when rockets hit Baghdad airport, police said.",
};
#define NREPORTS (sizeof rocket_reports / sizeof rocket_reports[0])

static nw_fingerprint fingerprint_of(fixture *f, const char *text)
{
    const nw_analysis *an = tu_analyse(f, text);
    nw_fingerprint fp;
    nw_fingerprint_compute(an->text, an->seg, &fp);
    return fp;
}

static int64_t day_of(const char *ymd)
{
    int64_t d;
    char err[128];
    if (nw_day_parse(ymd, &d, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    return d;
}

/*
 * What the alert stage knows about a report of text at time t: the day it
 * states (NULL: none, so its own day in Baghdad), no casualties, no news.
 */
static nw_alert_report report(fixture *f, const char *text, int64_t t, const char *stated)
{
    nw_alert_report r = {.ref_time = t, .killed = -1, .wounded = -1};
    r.day_stated = stated != NULL;
    r.event_day = stated != NULL ? day_of(stated) : nw_day_of_time(t, BAGHDAD_OFFSET);
    r.fingerprint = fingerprint_of(f, text);
    return r;
}

/* A report of the anchored event as nw_report_assess gives it: of the anchor's day. */
static nw_alert_report anchored_report(fixture *f, const nw_event *ev, const char *text, int64_t t,
                                       bool stated)
{
    nw_alert_report r = report(f, text, t, NULL);
    r.event_day = ev->anchor_day;
    r.day_stated = stated;
    return r;
}

/* Observes r and returns the decision's name ("new", "update", ...). */
static const char *decide(nw_alert_state *st, const nw_event *ev, const nw_alert_report *r,
                          nw_alert *out)
{
    char err[256];
    assert_int_equal(nw_alert_state_observe(st, ev, r, out, err, sizeof err), NW_OK);
    return nw_alert_decision_name(out->decision);
}

/* The state's JSON, parsed. */
static json_t *state_json(const nw_alert_state *st)
{
    char *s, err[256];
    size_t len;
    assert_int_equal(nw_alert_state_to_json(st, &s, &len, err, sizeof err), NW_OK);
    json_error_t jerr;
    json_t *v = json_loadb(s, len, 0, &jerr);
    assert_non_null(v);
    free(s);
    return v;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The days of the state's incidents, sorted, comma-separated. */
static void incident_days(const nw_alert_state *st, char *out, size_t len)
{
    json_t *v = state_json(st);
    json_t *incs = json_object_get(v, "incidents");
    const char *days[NW_ALERT_INCIDENTS];
    size_t n = json_array_size(incs);
    assert_true(n <= NW_ALERT_INCIDENTS);
    for (size_t i = 0; i < n; i++)
        days[i] = json_string_value(json_object_get(json_array_get(incs, i), "day"));
    qsort(days, n, sizeof days[0], cmp_str);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "," : "", days[i]);
    json_decref(v);
}

static void the_first_report_of_an_incident_is_new(void **state)
{
    fixture *f = *state;
    nw_event ev = rockets_event();
    nw_alert_state *st = nw_alert_state_new(ev.id);
    nw_alert *o = nw_alert_new();
    assert_string_equal(nw_alert_state_event(st), "baghdad-airport-rockets");

    nw_alert_report r = report(f, rocket_reports[0], T0, "2021-01-21");
    r.killed = 2;
    assert_string_equal(decide(st, &ev, &r, o), "new");
    assert_string_equal(o->id, "baghdad-airport-rockets:2021-01-21:1");
    assert_string_equal(o->incident, "2021-01-21");
    assert_int_equal(o->sequence, 1);
    assert_int_equal(o->reports, 1);
    assert_int_equal(o->duplicates, 0);
    assert_int_equal(o->killed, 2);
    assert_int_equal(o->wounded, -1);
    assert_false(o->claim);
    assert_string_equal(o->reasons, "");

    /* A report stating no day, two days later, has no incident to join: it opens none. */
    r = report(f, rocket_reports[1], T0 + 2 * DAY + 14 * HOUR, NULL); /* 01:00 on the 24th */
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    assert_int_equal(o->reports, 0);
    char days[256];
    incident_days(st, days, sizeof days);
    assert_string_equal(days, "2021-01-21");
    /* A report stating that day opens it. */
    r = report(f, rocket_reports[2], T0 + 2 * DAY + 15 * HOUR, "2021-01-24");
    assert_string_equal(decide(st, &ev, &r, o), "new");
    assert_string_equal(o->id, "baghdad-airport-rockets:2021-01-24:1");
    assert_int_equal(o->killed, -1);
    nw_alert_free(o);
    nw_alert_state_free(st);
}

/* Copies of seed 003: exact, with other furniture, a new headline, a dropped paragraph. */
static void exact_and_near_copies_are_duplicates(void **state)
{
    fixture *f = *state;
    nw_event ev = bombing_event();
    nw_alert_state *st = nw_alert_state_new(ev.id);
    nw_alert *o = nw_alert_new();
    char *text = tu_read_seed(3, NULL);
    nw_alert_report r = anchored_report(f, &ev, text, T0, false);
    r.killed = 32;
    assert_string_equal(decide(st, &ev, &r, o), "new");
    r.ref_time = T0 + MINUTE;
    assert_string_equal(decide(st, &ev, &r, o), "duplicate");
    assert_int_equal(o->duplicates, 1);

    size_t len = strlen(text);
    char *copy = malloc(len + 1024);
    /* Other page furniture around the same report. */
    snprintf(copy, len + 1024, "الرئيسية عربي\nشارك القصة\n%s\nاقرأ أيضا: أخبار أخرى\nClose", text);
    r = anchored_report(f, &ev, copy, T0 + 2 * MINUTE, false);
    assert_string_equal(decide(st, &ev, &r, o), "duplicate");
    /* A syndicated copy with another headline. */
    snprintf(copy, len + 1024, "مقتل العشرات في تفجيرين انتحاريين ببغداد\n%s", text);
    r = anchored_report(f, &ev, copy, T0 + 3 * MINUTE, false);
    assert_string_equal(decide(st, &ev, &r, o), "duplicate");
    /* The last paragraph dropped. */
    strcpy(copy, text);
    char *end = copy + strlen(copy);
    while (end > copy && end[-1] == '\n')
        *--end = '\0';
    char *last = strrchr(copy, '\n');
    assert_non_null(last);
    *last = '\0';
    r = anchored_report(f, &ev, copy, T0 + 4 * MINUTE, false);
    assert_string_equal(decide(st, &ev, &r, o), "duplicate");
    /* A copy days later is still a copy. */
    r = anchored_report(f, &ev, text, T0 + 3 * DAY, false);
    assert_string_equal(decide(st, &ev, &r, o), "duplicate");
    assert_int_equal(o->duplicates, 5);
    assert_int_equal(o->reports, 1);
    assert_int_equal(o->killed, 32);

    /* A different report of the same incident is not a copy. */
    char *other = tu_read_seed(2, NULL);
    r = anchored_report(f, &ev, other, T0 + 3 * DAY, false);
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    assert_int_equal(o->reports, 2);
    free(other);
    free(copy);
    free(text);
    nw_alert_free(o);
    nw_alert_state_free(st);
}

static void a_rising_toll_is_an_update_at_once(void **state)
{
    fixture *f = *state;
    nw_event ev = rockets_event();
    nw_alert_state *st = nw_alert_state_new(ev.id);
    nw_alert *o = nw_alert_new();
    nw_alert_report r = report(f, rocket_reports[0], T0, "2021-01-21");
    r.killed = 2;
    assert_string_equal(decide(st, &ev, &r, o), "new");

    /* Ten minutes later, well within the update interval: the toll rose. */
    r = report(f, rocket_reports[10], T0 + 10 * MINUTE, "2021-01-21");
    r.killed = 5;
    r.wounded = 7;
    assert_string_equal(decide(st, &ev, &r, o), "update");
    assert_string_equal(o->id, "baghdad-airport-rockets:2021-01-21:2");
    assert_int_equal(o->sequence, 2);
    assert_string_equal(o->reasons, "killed rose from 2 to 5; 7 wounded");
    assert_int_equal(o->killed, 5);
    assert_int_equal(o->wounded, 7);

    /* And again five minutes after that. */
    r = report(f, rocket_reports[11], T0 + 15 * MINUTE, NULL);
    r.killed = 6;
    assert_string_equal(decide(st, &ev, &r, o), "update");
    assert_string_equal(o->reasons, "killed rose from 5 to 6");
    assert_string_equal(o->id, "baghdad-airport-rockets:2021-01-21:3");

    /* The same toll, or a lower one: counted, the incident keeps its highest figures. */
    r = report(f, rocket_reports[6], T0 + 8 * HOUR, "2021-01-21");
    r.killed = 6;
    r.wounded = 3;
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    assert_int_equal(o->killed, 6);
    assert_int_equal(o->wounded, 7);
    assert_int_equal(o->sequence, 3);
    assert_int_equal(o->reports, 4);
    nw_alert_free(o);
    nw_alert_state_free(st);
}

static void a_first_claim_waits_for_the_update_interval(void **state)
{
    fixture *f = *state;
    nw_event ev = rockets_event();
    nw_alert *o = nw_alert_new();

    /* A claim after the interval: an update. */
    nw_alert_state *st = nw_alert_state_new(ev.id);
    nw_alert_report r = report(f, rocket_reports[0], T0, "2021-01-21");
    assert_string_equal(decide(st, &ev, &r, o), "new");
    assert_false(o->claim);
    r = report(f, rocket_reports[8], T0 + 7 * HOUR, "2021-01-21");
    r.claim = true;
    assert_string_equal(decide(st, &ev, &r, o), "update");
    assert_string_equal(o->reasons, "claim of responsibility");
    assert_true(o->claim);
    assert_string_equal(o->id, "baghdad-airport-rockets:2021-01-21:2");
    /* Another claim is no news. */
    r = report(f, rocket_reports[3], T0 + 20 * HOUR, NULL);
    r.claim = true;
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    nw_alert_state_free(st);

    /* A claim within the interval of the last alert (an update, not the first report). */
    st = nw_alert_state_new(ev.id);
    r = report(f, rocket_reports[0], T0, "2021-01-21");
    r.killed = 1;
    assert_string_equal(decide(st, &ev, &r, o), "new");
    r = report(f, rocket_reports[10], T0 + 5 * HOUR, "2021-01-21");
    r.killed = 3;
    assert_string_equal(decide(st, &ev, &r, o), "update");
    r = report(f, rocket_reports[8], T0 + 7 * HOUR, "2021-01-21"); /* 2h after the update */
    r.claim = true;
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    /* ... is remembered: the incident is claimed, and a later claim is not news. */
    assert_true(o->claim);
    r = report(f, rocket_reports[3], T0 + 30 * HOUR, "2021-01-21");
    r.claim = true;
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    r = report(f, rocket_reports[11], T0 + 31 * HOUR, "2021-01-21");
    r.killed = 4;
    assert_string_equal(decide(st, &ev, &r, o), "update");
    assert_string_equal(o->reasons, "killed rose from 3 to 4");
    assert_true(o->claim);
    nw_alert_state_free(st);
    nw_alert_free(o);
}

static void arrests_and_findings_are_news_again_after_the_interval(void **state)
{
    fixture *f = *state;
    nw_event ev = rockets_event();
    nw_alert_state *st = nw_alert_state_new(ev.id);
    nw_alert *o = nw_alert_new();
    nw_alert_report r = report(f, rocket_reports[0], T0, "2021-01-21");
    assert_string_equal(decide(st, &ev, &r, o), "new");

    r = report(f, rocket_reports[7], T0 + 7 * HOUR, "2021-01-21");
    r.arrest = true;
    assert_string_equal(decide(st, &ev, &r, o), "update");
    assert_string_equal(o->reasons, "arrests");
    /* More arrests an hour later: not yet. */
    r = report(f, rocket_reports[1], T0 + 8 * HOUR, NULL);
    r.arrest = true;
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    /* A day later: news again. */
    r = report(f, rocket_reports[2], T0 + 31 * HOUR, NULL);
    r.arrest = true;
    assert_string_equal(decide(st, &ev, &r, o), "update");
    assert_string_equal(o->reasons, "arrests");
    assert_string_equal(o->id, "baghdad-airport-rockets:2021-01-21:3");

    /* An official finding an hour after that update waits ... */
    r = report(f, rocket_reports[9], T0 + 32 * HOUR, "2021-01-21");
    r.finding = true;
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    /* ... and one after the interval is news, once. */
    r = report(f, rocket_reports[5], T0 + 40 * HOUR, "2021-01-21");
    r.finding = true;
    assert_string_equal(decide(st, &ev, &r, o), "update");
    assert_string_equal(o->reasons, "official finding");
    r = report(f, rocket_reports[4], T0 + 41 * HOUR, "2021-01-21");
    r.finding = true;
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    assert_int_equal(o->sequence, 4);
    nw_alert_free(o);
    nw_alert_state_free(st);
}

/* No toll, claim, arrest or finding: counted, however long after and whatever it names. */
static void a_report_without_news_is_counted(void **state)
{
    fixture *f = *state;
    nw_event ev = rockets_event();
    nw_alert_state *st = nw_alert_state_new(ev.id);
    nw_alert *o = nw_alert_new();
    nw_alert_report r = report(f, rocket_reports[0], T0, "2021-01-21");
    r.killed = 1;
    assert_string_equal(decide(st, &ev, &r, o), "new");
    /* Places, people and organisations the first report did not name are not news. */
    r = report(f,
               "قال الناطق باسم القائد العام للقوات المسلحة يحيى رسول إن صاروخين سقطا قرب "
               "مطار بغداد الدولي وقاعدة فيكتوري، وإن السفارة الأمريكية في المنطقة الخضراء "
               "لم تتعرض لأي أذى.",
               T0 + 7 * HOUR, "2021-01-21");
    r.killed = 1;
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    assert_string_equal(o->reasons, "");
    assert_int_equal(o->sequence, 1);
    assert_int_equal(o->reports, 2);
    /* A report with no figures at all. */
    r = report(f, rocket_reports[3], T0 + 14 * HOUR, NULL);
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    assert_string_equal(o->id, "baghdad-airport-rockets:2021-01-21:1");
    assert_int_equal(o->killed, 1);
    assert_int_equal(o->reports, 3);
    nw_alert_free(o);
    nw_alert_state_free(st);
}

static void reports_stating_different_days_are_different_incidents(void **state)
{
    fixture *f = *state;
    nw_event ev = rockets_event();
    nw_alert_state *st = nw_alert_state_new(ev.id);
    nw_alert *o = nw_alert_new();
    nw_alert_report r = report(f, rocket_reports[0], T0, "2021-01-21");
    assert_string_equal(decide(st, &ev, &r, o), "new");
    /* Within the gap, but it states another day: another attack. */
    r = report(f, rocket_reports[1], T0 + 5 * HOUR, "2021-01-19");
    assert_string_equal(decide(st, &ev, &r, o), "new");
    assert_string_equal(o->id, "baghdad-airport-rockets:2021-01-19:1");
    /* Later reports find each its own incident. */
    r = report(f, rocket_reports[2], T0 + 2 * DAY, "2021-01-21");
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    assert_string_equal(o->incident, "2021-01-21");
    assert_int_equal(o->reports, 2);
    r = report(f, rocket_reports[3], T0 + 3 * DAY, "2021-01-19");
    r.killed = 1;
    assert_string_equal(decide(st, &ev, &r, o), "update");
    assert_string_equal(o->id, "baghdad-airport-rockets:2021-01-19:2");
    char days[256];
    incident_days(st, days, sizeof days);
    assert_string_equal(days, "2021-01-19,2021-01-21");
    nw_alert_free(o);
    nw_alert_state_free(st);
}

/* The gap (24h) is counted from the incident's last report, not its first. */
static void a_report_stating_no_day_joins_the_incident_still_being_reported(void **state)
{
    fixture *f = *state;
    nw_event ev = rockets_event();
    nw_alert_state *st = nw_alert_state_new(ev.id);
    nw_alert *o = nw_alert_new();
    nw_alert_report r = report(f, rocket_reports[0], T0, "2021-01-21");
    assert_string_equal(decide(st, &ev, &r, o), "new");
    /* 20 hours later, on the next day in Baghdad, no day stated: the same incident. */
    r = report(f, rocket_reports[1], T0 + 20 * HOUR, NULL);
    assert_int_equal(r.event_day, day_of("2021-01-22"));
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    assert_string_equal(o->incident, "2021-01-21");
    /* 40 hours after the first report, 20 after the last: still the same incident. */
    r = report(f, rocket_reports[2], T0 + 40 * HOUR, NULL);
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    assert_string_equal(o->incident, "2021-01-21");
    assert_int_equal(o->reports, 3);
    /* 25 hours after the last report: no incident to join, and it opens none. */
    r = report(f, rocket_reports[3], T0 + 65 * HOUR, NULL);
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    assert_int_equal(o->reports, 0);
    /* A report stating the 24th opens that incident ... */
    r = report(f, rocket_reports[4], T0 + 66 * HOUR, "2021-01-24");
    assert_string_equal(decide(st, &ev, &r, o), "new");
    assert_string_equal(o->id, "baghdad-airport-rockets:2021-01-24:1");
    /* ... and a report with a day joins the latest incident within the gap, not an older one. */
    r = report(f, rocket_reports[5], T0 + 70 * HOUR, NULL);
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    assert_string_equal(o->incident, "2021-01-24");
    assert_int_equal(o->reports, 2);
    nw_alert_free(o);
    nw_alert_state_free(st);
}

/*
 * An incident opened without a stated day (a recurring event's incidents open
 * only on a stated day now, so it comes from a kept state): a report dating the
 * attack a day off joins it.
 */
static void a_stated_day_next_to_an_unstated_incident_joins_it(void **state)
{
    fixture *f = *state;
    nw_event ev = rockets_event();
    nw_alert *o = nw_alert_new();
    char json[1024], err[256];
    /* Reported at 00:30 on Friday the 22nd in Baghdad. */
    const long long t = T0 + 13 * HOUR + 30 * MINUTE;
    snprintf(json, sizeof json,
             "{\"schema\":\"newswatch.alert-state/2\",\"event\":\"baghdad-airport-rockets\","
             "\"duplicates\":0,\"incidents\":[{\"day\":\"2021-01-22\",\"stated\":false,"
             "\"sequence\":1,\"reports\":1,\"first_at\":%lld,\"last_at\":%lld,"
             "\"last_update_at\":%lld,\"last_arrest_at\":0,\"last_finding_at\":0,"
             "\"killed\":null,\"wounded\":null,\"claim\":false}],\"fingerprints\":[]}",
             t, t, t);
    nw_alert_state *st;
    assert_int_equal(nw_alert_state_from_json(json, strlen(json), &st, err, sizeof err), NW_OK);
    /* A later report says it happened on Thursday night: the same incident. */
    nw_alert_report r = report(f, rocket_reports[1], T0 + 20 * HOUR, "2021-01-21");
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    assert_int_equal(o->reports, 2);
    assert_int_equal(o->sequence, 1);
    /* Two days off is another incident. */
    r = report(f, rocket_reports[2], T0 + 21 * HOUR, "2021-01-20");
    assert_string_equal(decide(st, &ev, &r, o), "new");
    assert_string_equal(o->id, "baghdad-airport-rockets:2021-01-20:1");
    nw_alert_state_free(st);

    /* One day off an incident whose day was stated is another incident. */
    st = nw_alert_state_new(ev.id);
    r = report(f, rocket_reports[0], T0, "2021-01-21");
    assert_string_equal(decide(st, &ev, &r, o), "new");
    r = report(f, rocket_reports[1], T0 + DAY, "2021-01-22");
    assert_string_equal(decide(st, &ev, &r, o), "new");
    assert_string_equal(o->id, "baghdad-airport-rockets:2021-01-22:1");
    nw_alert_state_free(st);
    nw_alert_free(o);
}

static void every_report_of_an_anchored_event_is_of_its_anchor(void **state)
{
    fixture *f = *state;
    nw_event ev = bombing_event();
    nw_alert_state *st = nw_alert_state_new(ev.id);
    nw_alert *o = nw_alert_new();
    /* As nw_report_assess gives them: every report is of the anchor's day. */
    nw_alert_report r = anchored_report(f, &ev, rocket_reports[0], T0, true);
    r.killed = 32;
    assert_string_equal(decide(st, &ev, &r, o), "new");
    assert_string_equal(o->id, "baghdad-bombing:2021-01-21:1");
    /* Far beyond the episode gap, stating no day: still the same incident. */
    r = anchored_report(f, &ev, rocket_reports[1], T0 + 30 * DAY, false);
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    assert_string_equal(o->incident, "2021-01-21");
    /* The trial, a year later. */
    r = anchored_report(f, &ev, rocket_reports[7], T0 + 365 * DAY, false);
    r.arrest = true;
    assert_string_equal(decide(st, &ev, &r, o), "update");
    assert_string_equal(o->id, "baghdad-bombing:2021-01-21:2");
    assert_int_equal(o->reports, 3);
    char days[256];
    incident_days(st, days, sizeof days);
    assert_string_equal(days, "2021-01-21");
    nw_alert_free(o);
    nw_alert_state_free(st);
}

/*
 * alerts.h: "An anchored event has one incident, on its anchor day." A match
 * record that carries the report's own day (day_stated false, or a day next
 * to the anchor) is still of the anchor's incident.
 */
static void an_anchored_event_has_one_incident_whatever_day_a_report_gives(void **state)
{
    fixture *f = *state;
    nw_event ev = bombing_event();
    nw_alert_state *st = nw_alert_state_new(ev.id);
    nw_alert *o = nw_alert_new();
    nw_alert_report r = report(f, rocket_reports[0], T0, "2021-01-21");
    assert_string_equal(decide(st, &ev, &r, o), "new");
    r = report(f, rocket_reports[1], T0 + 5 * DAY, NULL); /* its own day, 2021-01-26 */
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    assert_string_equal(o->incident, "2021-01-21");
    r = report(f, rocket_reports[2], T0 + DAY, "2021-01-22"); /* a day off, as stated */
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    assert_string_equal(o->incident, "2021-01-21");
    char days[256];
    incident_days(st, days, sizeof days);
    assert_string_equal(days, "2021-01-21");
    nw_alert_free(o);
    nw_alert_state_free(st);
}

/*
 * Four reports of two attacks: Sunday night's (one report at 00:10 on Monday
 * stating no day, one saying "ليل الأحد") and Wednesday's (one stating the
 * day, one that evening stating none). In every order of arrival: two
 * incidents, each paged once as new, on the same days.
 */
static void the_order_of_the_reports_does_not_change_the_incidents(void **state)
{
    fixture *f = *state;
    nw_event ev = rockets_event();
    const int64_t mon = 1611522000; /* 2021-01-25T00:00:00+03:00 */
    nw_alert_report rs[4] = {
        report(f, rocket_reports[0], mon + 10 * MINUTE, NULL),
        report(f, rocket_reports[1], mon + 9 * HOUR, "2021-01-24"),
        report(f, rocket_reports[2], mon + 2 * DAY + 12 * HOUR, "2021-01-27"),
        report(f, rocket_reports[3], mon + 2 * DAY + 20 * HOUR, NULL),
    };
    assert_int_equal(rs[0].event_day, day_of("2021-01-25"));
    char first[256] = "", days[256];
    nw_alert *o = nw_alert_new();
    int orders = 0;
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++)
            for (int c = 0; c < 4; c++) {
                int d = 6 - a - b - c;
                if (a == b || a == c || b == c || d == a || d == b || d == c)
                    continue;
                int order[4] = {a, b, c, d};
                nw_alert_state *st = nw_alert_state_new(ev.id);
                int news = 0;
                for (int i = 0; i < 4; i++) {
                    if (strcmp(decide(st, &ev, &rs[order[i]], o), "new") != 0)
                        continue;
                    news++;
                    if (strcmp(o->id, "baghdad-airport-rockets:2021-01-24:1") != 0 &&
                        strcmp(o->id, "baghdad-airport-rockets:2021-01-27:1") != 0)
                        fail_msg("order %d%d%d%d: new alert %s", a, b, c, d, o->id);
                }
                incident_days(st, days, sizeof days);
                if (news != 2)
                    fail_msg("order %d%d%d%d: %d new alerts, incidents %s", a, b, c, d, news, days);
                if (first[0] == '\0')
                    snprintf(first, sizeof first, "%s", days);
                else if (strcmp(days, first) != 0)
                    fail_msg("order %d%d%d%d: incidents %s, order 0123: %s", a, b, c, d, days,
                             first);
                nw_alert_state_free(st);
                orders++;
            }
    assert_int_equal(orders, 24);
    assert_string_equal(first, "2021-01-24,2021-01-27");
    nw_alert_free(o);
}

static void incidents_are_bounded_least_recently_reported_forgotten(void **state)
{
    fixture *f = *state;
    nw_event ev = rockets_event();
    nw_alert_state *st = nw_alert_state_new(ev.id);
    nw_alert *o = nw_alert_new();
    const int64_t day0 = day_of("2021-01-21");
    char text[256], day[11];
    int64_t t = T0;
    /* NW_ALERT_INCIDENTS attacks on consecutive days, reported an hour apart. */
    for (int i = 0; i < NW_ALERT_INCIDENTS; i++, t += HOUR) {
        snprintf(text, sizeof text, "سقط صاروخ قرب مطار بغداد الدولي في الهجوم رقم %d", i);
        nw_day_format(day0 + i, day);
        nw_alert_report r = report(f, text, t, day);
        assert_string_equal(decide(st, &ev, &r, o), "new");
    }
    /* The first is reported again: the second is now the least recently reported. */
    nw_alert_report r = report(f, rocket_reports[0], t, "2021-01-21");
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    t += HOUR;
    nw_day_format(day0 + NW_ALERT_INCIDENTS, day);
    r = report(f, rocket_reports[1], t, day);
    assert_string_equal(decide(st, &ev, &r, o), "new");

    json_t *v = state_json(st);
    json_t *incs = json_object_get(v, "incidents");
    assert_int_equal(json_array_size(incs), NW_ALERT_INCIDENTS);
    bool first = false, second = false;
    for (size_t i = 0; i < json_array_size(incs); i++) {
        const char *d = json_string_value(json_object_get(json_array_get(incs, i), "day"));
        first |= strcmp(d, "2021-01-21") == 0;
        second |= strcmp(d, "2021-01-22") == 0;
    }
    assert_true(first);
    assert_false(second);
    json_decref(v);

    /* The forgotten incident is new again; the remembered one is not. */
    t += HOUR;
    r = report(f, rocket_reports[2], t, "2021-01-22");
    assert_string_equal(decide(st, &ev, &r, o), "new");
    assert_string_equal(o->id, "baghdad-airport-rockets:2021-01-22:1");
    t += HOUR;
    r = report(f, rocket_reports[3], t, "2021-01-21");
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    assert_int_equal(o->reports, 3);
    nw_alert_free(o);
    nw_alert_state_free(st);
}

/* The same reports after a trip through JSON give the same decisions. */
static void state_survives_json(void **state)
{
    fixture *f = *state;
    nw_event ev = rockets_event();
    nw_alert_state *st = nw_alert_state_new(ev.id);
    nw_alert *o = nw_alert_new();
    nw_alert_report r = report(f, rocket_reports[0], T0, "2021-01-21");
    r.killed = 2;
    assert_string_equal(decide(st, &ev, &r, o), "new");
    r = report(f, rocket_reports[8], T0 + HOUR, "2021-01-21");
    r.claim = true;
    assert_string_equal(decide(st, &ev, &r, o), "counted"); /* claimed, within the interval */
    r = report(f, rocket_reports[1], T0 + 3 * HOUR, NULL);
    assert_string_equal(decide(st, &ev, &r, o), "counted");
    r = report(f, rocket_reports[2], T0 + 2 * DAY, "2021-01-23");
    assert_string_equal(decide(st, &ev, &r, o), "new");
    r = report(f, rocket_reports[7], T0 + 2 * DAY + HOUR, NULL);
    r.arrest = true;
    assert_string_equal(decide(st, &ev, &r, o), "counted");

    char *json, err[256];
    size_t len;
    assert_int_equal(nw_alert_state_to_json(st, &json, &len, err, sizeof err), NW_OK);
    assert_int_equal(strlen(json), len);
    json_error_t jerr;
    json_t *v = json_loadb(json, len, 0, &jerr);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "schema")), "newswatch.alert-state/2");
    assert_string_equal(json_string_value(json_object_get(v, "event")), "baghdad-airport-rockets");
    assert_int_equal(json_array_size(json_object_get(v, "incidents")), 2);
    assert_int_equal(json_array_size(json_object_get(v, "fingerprints")), 5);
    json_t *inc = json_array_get(json_object_get(v, "incidents"), 0);
    assert_string_equal(json_string_value(json_object_get(inc, "day")), "2021-01-21");
    assert_int_equal(json_integer_value(json_object_get(inc, "killed")), 2);
    assert_true(json_is_true(json_object_get(inc, "claim")));
    json_decref(v);

    nw_alert_state *back;
    assert_int_equal(nw_alert_state_from_json(json, len, &back, err, sizeof err), NW_OK);
    assert_string_equal(nw_alert_state_event(back), "baghdad-airport-rockets");
    char *again;
    size_t alen;
    assert_int_equal(nw_alert_state_to_json(back, &again, &alen, err, sizeof err), NW_OK);
    assert_string_equal(again, json);
    free(again);

    /* What comes next, to both. */
    nw_alert_report next[7];
    next[0] = report(f, rocket_reports[0], T0 + 2 * DAY + 2 * HOUR, NULL); /* a copy */
    next[1] = report(f, rocket_reports[10], T0 + DAY, "2021-01-21");
    next[1].killed = 3; /* killed rose from 2 to 3 */
    next[2] = report(f, rocket_reports[3], T0 + DAY + 7 * HOUR, "2021-01-21");
    next[2].claim = true; /* already claimed */
    next[3] = report(f, rocket_reports[5], T0 + 2 * DAY + 5 * HOUR, NULL);
    next[3].arrest = true; /* 4h after the last arrests */
    next[4] = report(f, rocket_reports[6], T0 + 2 * DAY + 20 * HOUR, NULL);
    next[5] = report(f, rocket_reports[9], T0 + 3 * DAY + 21 * HOUR, NULL); /* 25h later */
    next[6] = report(f, rocket_reports[11], T0 + 4 * DAY, "2021-01-25");
    static const char *const want[] = {"duplicate", "update",  "counted", "counted",
                                       "counted",   "counted", "new"};
    nw_alert *ob = nw_alert_new();
    for (size_t i = 0; i < 7; i++) {
        const char *d = decide(st, &ev, &next[i], o);
        assert_string_equal(d, want[i]);
        assert_string_equal(decide(back, &ev, &next[i], ob), d);
        assert_string_equal(ob->id, o->id);
        assert_string_equal(ob->reasons, o->reasons);
        assert_int_equal(ob->reports, o->reports);
        assert_int_equal(ob->duplicates, o->duplicates);
        assert_int_equal(ob->killed, o->killed);
        assert_int_equal(ob->claim, o->claim);
    }
    assert_string_equal(o->id, "baghdad-airport-rockets:2021-01-25:1");
    char *a1, *a2;
    size_t l1, l2;
    assert_int_equal(nw_alert_state_to_json(st, &a1, &l1, err, sizeof err), NW_OK);
    assert_int_equal(nw_alert_state_to_json(back, &a2, &l2, err, sizeof err), NW_OK);
    assert_string_equal(a1, a2);
    free(a1);
    free(a2);
    free(json);
    nw_alert_free(o);
    nw_alert_free(ob);
    nw_alert_state_free(back);
    nw_alert_state_free(st);
}

/* Expects nw_alert_state_from_json to reject v as NW_EJSON, with a message. */
static void expect_rejected(json_t *v, const char *what)
{
    char *s = json_dumps(v, JSON_COMPACT);
    nw_alert_state *st = (nw_alert_state *)1;
    char err[256] = "";
    nw_err e = nw_alert_state_from_json(s, strlen(s), &st, err, sizeof err);
    if (e != NW_EJSON)
        fail_msg("%s: accepted (%d)", what, (int)e);
    assert_null(st);
    assert_true(err[0] != '\0');
    free(s);
}

static void state_json_must_be_version_2(void **state)
{
    fixture *f = *state;
    nw_event ev = rockets_event();
    nw_alert_state *st = nw_alert_state_new(ev.id);
    nw_alert *o = nw_alert_new();
    nw_alert_report r = report(f, rocket_reports[0], T0, "2021-01-21");
    assert_string_equal(decide(st, &ev, &r, o), "new");
    json_t *good = state_json(st);

    json_t *v = json_deep_copy(good);
    json_object_set_new(v, "schema", json_string("newswatch.alert-state/1"));
    expect_rejected(v, "schema newswatch.alert-state/1");
    json_decref(v);
    /* What the old alert stage kept. */
    json_t *old = json_pack("{s:s, s:s, s:i, s:i, s:i, s:I, s:i, s:n, s:[]}", "schema",
                            "newswatch.alert-state/1", "event", "baghdad-airport-rockets",
                            "episode", 1, "sequence", 1, "reports", 1, "last_at", (json_int_t)T0,
                            "killed", 2, "wounded", "fingerprints");
    expect_rejected(old, "an old state");
    json_decref(old);
    v = json_deep_copy(good);
    json_object_del(v, "schema");
    expect_rejected(v, "no schema");
    json_decref(v);
    v = json_deep_copy(good);
    json_object_del(v, "event");
    expect_rejected(v, "no event");
    json_decref(v);

    static const char *const bad_days[] = {"2021-02-30", "21-01-2021", "2021-1-21", "",
                                           "2021-01-21T00:00:00Z"};
    for (size_t i = 0; i < sizeof bad_days / sizeof bad_days[0]; i++) {
        v = json_deep_copy(good);
        json_object_set_new(json_array_get(json_object_get(v, "incidents"), 0), "day",
                            json_string(bad_days[i]));
        expect_rejected(v, bad_days[i]);
        json_decref(v);
    }
    v = json_deep_copy(good);
    json_object_set_new(json_array_get(json_object_get(v, "incidents"), 0), "sequence",
                        json_integer(0));
    expect_rejected(v, "sequence 0");
    json_decref(v);

    /* One fingerprint more than a state keeps. */
    v = json_deep_copy(good);
    json_t *fps = json_object_get(v, "fingerprints");
    json_t *fp = json_array_get(fps, 0);
    while (json_array_size(fps) < NW_ALERT_FINGERPRINTS)
        json_array_append(fps, fp);
    char *s = json_dumps(v, JSON_COMPACT);
    nw_alert_state *back;
    char err[256];
    assert_int_equal(nw_alert_state_from_json(s, strlen(s), &back, err, sizeof err), NW_OK);
    nw_alert_state_free(back);
    free(s);
    json_array_append(fps, fp);
    expect_rejected(v, "too many fingerprints");
    json_decref(v);
    /* One incident more. */
    v = json_deep_copy(good);
    json_t *incs = json_object_get(v, "incidents");
    json_t *inc = json_array_get(incs, 0);
    while (json_array_size(incs) <= NW_ALERT_INCIDENTS)
        json_array_append_new(incs, json_deep_copy(inc));
    expect_rejected(v, "too many incidents");
    json_decref(v);
    /* A fingerprint that is not one. */
    v = json_deep_copy(good);
    json_array_set_new(json_object_get(v, "fingerprints"), 0, json_string("nwfp0:AAAA"));
    expect_rejected(v, "a bad fingerprint");
    json_decref(v);

    assert_int_equal(nw_alert_state_from_json("not json", 8, &back, err, sizeof err), NW_EJSON);
    assert_int_equal(nw_alert_state_from_json("[]", 2, &back, err, sizeof err), NW_EJSON);
    json_decref(good);
    nw_alert_free(o);
    nw_alert_state_free(st);
}

static void times_in_rfc3339(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t t;
    } ok[] = {
        {"2021-01-21T08:00:00Z", T0},
        {"2021-01-21T11:00:00+03:00", T0},
        {"2021-01-21T02:15:00-05:45", T0},
        {"2021-01-22T00:30:00+03:00", T0 + 13 * HOUR + 30 * MINUTE},
        {"2021-01-21T08:00:00.123Z", T0},
        {"2021-01-21T11:00:00.123456789+03:00", T0},
        {"2021-01-21t08:00:00z", T0},
        {"2021-01-21 08:00:00Z", T0},
        {"2021-01-21", T0 - 8 * HOUR},
        {"1970-01-01T00:00:00Z", 0},
        {"1969-12-31T23:59:59Z", -1},
        {"2024-02-29T00:00:00-00:30", 1709166600},
        /* The years four digits can write. */
        {"0001-01-01T00:00:00Z", -62135596800},
        {"9999-12-31T23:59:59Z", 253402300799},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t t = 0;
        char err[128];
        if (nw_time_parse_rfc3339(ok[i].s, &t, err, sizeof err) != NW_OK)
            fail_msg("%s: %s", ok[i].s, err);
        if (t != ok[i].t)
            fail_msg("%s: %lld, expected %lld", ok[i].s, (long long)t, (long long)ok[i].t);
    }
    static const char *const bad[] = {
        "yesterday",
        "",
        "2021-13-01T00:00:00Z",
        "2021-00-10T00:00:00Z",
        "2021-01-00T00:00:00Z",
        "2021-01-32T00:00:00Z",
        "2021-01-21T24:00:00Z",
        "2021-01-21T08:60:00Z",
        "2021-01-21T08:00:00",
        "2021-01-21T08:00Z",
        "2021-01-21T08:00:00.Z",
        "2021-01-21T08:00:00+0300",
        "2021-01-21T08:00:00+03",
        "2021-01-21T08:00:00+24:00",
        "2021-01-21T08:00:00+03:00junk",
        "2021-01-21T08:00:00Z ",
        "2021-1-21T08:00:00Z",
        "21-01-2021T08:00:00Z",
        "+2021-01-21T08:00:00Z",
        "12021-01-21T08:00:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t = 42;
        char err[128] = "";
        if (nw_time_parse_rfc3339(bad[i], &t, err, sizeof err) != NW_EINVAL)
            fail_msg("accepted '%s' as %lld", bad[i], (long long)t);
        assert_non_null(strstr(err, "RFC 3339"));
    }
    char out[32];
    nw_time_format_rfc3339(T0, out);
    assert_string_equal(out, "2021-01-21T08:00:00Z");
    nw_time_format_rfc3339(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59Z");
    nw_time_format_rfc3339(253402300799, out);
    assert_string_equal(out, "9999-12-31T23:59:59Z");
}

/* RFC 3339: the day of the month is at most the month's length (29 February in leap years). */
static void times_on_days_that_do_not_exist_are_rejected(void **state)
{
    (void)state;
    static const char *const bad[] = {"2021-02-29T00:00:00Z", "2021-02-30T00:00:00Z",
                                      "2021-04-31T08:00:00Z", "2100-02-29T00:00:00Z", "2021-06-31"};
    int accepted = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t = 0;
        char err[128];
        if (nw_time_parse_rfc3339(bad[i], &t, err, sizeof err) != NW_EINVAL) {
            char back[32];
            nw_time_format_rfc3339(t, back);
            print_error("accepted '%s' as %s\n", bad[i], back);
            accepted++;
        }
    }
    if (accepted > 0)
        fail_msg("%d of %zu accepted", accepted, sizeof bad / sizeof bad[0]);
    int64_t t;
    assert_int_equal(nw_time_parse_rfc3339("2000-02-29T00:00:00Z", &t, NULL, 0), NW_OK);
    assert_int_equal(t, 951782400);
}

static void alert_json_says_what_happened(void **state)
{
    fixture *f = *state;
    nw_event ev = rockets_event();
    nw_alert_state *st = nw_alert_state_new(ev.id);
    nw_alert *o = nw_alert_new();
    char err[256];
    nw_alert_report r = report(f, rocket_reports[0], T0, "2021-01-21");
    assert_string_equal(decide(st, &ev, &r, o), "new");
    o->doc_id = strdup("doc-1");
    o->source = strdup("wire");
    o->doc_title = strdup("صواريخ على مطار بغداد");
    o->published_at = strdup("2021-01-21T11:00:00+03:00");
    o->entities_json = strdup("[{\"id\":\"fac.baghdad-international-airport\"}]");
    o->event_time = T0;
    snprintf(o->detected_at, sizeof o->detected_at, "2021-01-21T08:01:00.000Z");
    assert_int_equal(nw_alert_encode(o, &ev, err, sizeof err), NW_OK);
    assert_int_equal(strlen(o->json), o->json_len);
    json_error_t jerr;
    json_t *v = json_loadb(o->json, o->json_len, 0, &jerr);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "schema")), "newswatch.alert/2");
    assert_string_equal(json_string_value(json_object_get(v, "alert_id")),
                        "baghdad-airport-rockets:2021-01-21:1");
    assert_string_equal(json_string_value(json_object_get(v, "event")), "baghdad-airport-rockets");
    assert_string_equal(json_string_value(json_object_get(v, "status")), "new");
    assert_string_equal(json_string_value(json_object_get(v, "severity")), "critical");
    assert_string_equal(json_string_value(json_object_get(v, "incident")), "2021-01-21");
    assert_int_equal(json_integer_value(json_object_get(v, "sequence")), 1);
    assert_string_equal(json_string_value(json_object_get(v, "title_ar")),
                        "هجوم صاروخي على مطار بغداد الدولي أو قربه");
    assert_string_equal(json_string_value(json_object_get(v, "doc_title")),
                        "صواريخ على مطار بغداد");
    assert_true(json_is_null(json_object_get(v, "url")));
    assert_true(json_is_null(json_object_get(v, "casualties")));
    assert_false(json_is_true(json_object_get(v, "claim")));
    assert_int_equal(json_array_size(json_object_get(v, "entities")), 1);
    assert_string_equal(json_string_value(json_object_get(v, "event_time")),
                        "2021-01-21T08:00:00Z");
    assert_string_equal(json_string_value(json_object_get(v, "published_at")),
                        "2021-01-21T11:00:00+03:00");
    json_decref(v);

    r = report(f, rocket_reports[10], T0 + HOUR, "2021-01-21");
    r.killed = 5;
    assert_string_equal(decide(st, &ev, &r, o), "update");
    assert_int_equal(nw_alert_encode(o, &ev, err, sizeof err), NW_OK);
    v = json_loadb(o->json, o->json_len, 0, &jerr);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "status")), "update");
    assert_string_equal(json_string_value(json_object_get(v, "alert_id")),
                        "baghdad-airport-rockets:2021-01-21:2");
    assert_string_equal(json_string_value(json_object_get(v, "reasons")), "5 killed");
    json_t *cas = json_object_get(v, "casualties");
    assert_int_equal(json_integer_value(json_object_get(cas, "killed")), 5);
    assert_true(json_is_null(json_object_get(cas, "wounded")));
    assert_int_equal(json_integer_value(json_object_get(v, "reports")), 2);
    json_decref(v);
    nw_alert_free(o);
    nw_alert_state_free(st);
}

/* The Alertmanager alerts of an incident: fire until it is quiet, then resolve; kept in JSON. */
static void incident_alerts_fire_until_quiet_and_survive_the_state_json(void **state)
{
    fixture *f = *state;
    nw_event ev = rockets_event();
    ev.resolve_after_s = 100;
    ev.labels[0] = (nw_label){"team", "ops"};
    ev.nlabels = 1;
    nw_alert_state *st = nw_alert_state_new(ev.id);
    nw_alert *out = nw_alert_new();
    nw_alert_report r = report(f, rocket_reports[0], T0, "2021-01-21");
    r.seen_at = 1000;
    r.killed = 1;
    r.doc_id = "d1";
    r.url = "https://x.example/1";
    r.evidence = "Rockets hit the airport.";
    assert_string_equal(decide(st, &ev, &r, out), "new");
    r = report(f, rocket_reports[1], T0 + HOUR, "2021-01-21");
    r.seen_at = 1050;
    r.killed = 3;
    r.doc_id = "d2";
    assert_string_equal(decide(st, &ev, &r, out), "update");

    nw_incident_list *l = nw_incident_list_new();
    char err[256];
    assert_int_equal(nw_alert_state_list(st, &ev, 1100, 60, l, err, sizeof err), NW_OK);
    assert_int_equal(nw_incident_list_count(l), 2);
    const nw_incident_alert *a = nw_incident_list_at(l, 0), *u = nw_incident_list_at(l, 1);
    assert_false(a->update);
    assert_int_equal(a->ends_at, 0);
    assert_int_equal(a->starts_at, 1000);
    assert_string_equal(a->incident, "2021-01-21");
    assert_string_equal(a->labels[0].name, "team");
    assert_int_equal(a->killed, 3);
    assert_int_equal(a->ndocs, 2);
    assert_string_equal(a->doc_ids[1], "d1");
    assert_string_equal(a->doc_urls[1], "https://x.example/1");
    assert_true(u->update);
    assert_int_equal(u->sequence, 2);
    assert_int_equal(u->starts_at, 1050);
    assert_string_equal(u->reasons, "killed rose from 1 to 3");
    assert_string_equal(u->alert_id, "baghdad-airport-rockets:2021-01-21:2");

    /* Quiet for 100 s after the last report (1050): both resolved at 1150. */
    nw_incident_list_clear(l);
    assert_int_equal(nw_alert_state_list(st, &ev, 1160, 60, l, err, sizeof err), NW_OK);
    assert_int_equal(nw_incident_list_count(l), 2);
    assert_int_equal(nw_incident_list_at(l, 0)->ends_at, 1150);
    assert_int_equal(nw_incident_list_at(l, 1)->ends_at, 1150);
    nw_incident_list_clear(l); /* long resolved: not listed */
    assert_int_equal(nw_alert_state_list(st, &ev, 1300, 60, l, err, sizeof err), NW_OK);
    assert_int_equal(nw_incident_list_count(l), 0);

    /* The state's JSON keeps all of it: a restored state lists the same. */
    char *json;
    size_t len;
    assert_int_equal(nw_alert_state_to_json(st, &json, &len, err, sizeof err), NW_OK);
    nw_alert_state *back;
    assert_int_equal(nw_alert_state_from_json(json, len, &back, err, sizeof err), NW_OK);
    free(json);
    nw_incident_list_clear(l);
    assert_int_equal(nw_alert_state_list(back, &ev, 1100, 60, l, err, sizeof err), NW_OK);
    assert_int_equal(nw_incident_list_count(l), 2);
    assert_string_equal(nw_incident_list_at(l, 1)->doc_id, "d2");

    /* A report without news after the quiet time revives nothing. */
    r = report(f, rocket_reports[2], T0 + 2 * HOUR, "2021-01-21");
    r.seen_at = 1200;
    assert_string_equal(decide(back, &ev, &r, out), "counted");
    nw_incident_list_clear(l);
    assert_int_equal(nw_alert_state_list(back, &ev, 1210, 60, l, err, sizeof err), NW_OK);
    assert_int_equal(nw_incident_list_count(l), 2);
    assert_int_equal(nw_incident_list_at(l, 0)->ends_at, 1150);
    /* News does: the update fires on its own, the incident's alert stays resolved. */
    r = report(f, rocket_reports[3], T0 + 3 * HOUR, "2021-01-21");
    r.seen_at = 1220;
    r.killed = 5;
    assert_string_equal(decide(back, &ev, &r, out), "update");
    nw_incident_list_clear(l);
    assert_int_equal(nw_alert_state_list(back, &ev, 1230, 60, l, err, sizeof err), NW_OK);
    size_t firing = 0;
    for (size_t i = 0; i < nw_incident_list_count(l); i++)
        if (nw_incident_list_at(l, i)->ends_at == 0) {
            firing++;
            assert_int_equal(nw_incident_list_at(l, i)->sequence, 3);
        }
    assert_int_equal(firing, 1);
    nw_incident_list_free(l);
    nw_incident_list_free(NULL);
    nw_alert_state_free(back);
    nw_alert_state_free(st);
    nw_alert_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_first_report_of_an_incident_is_new),
        cmocka_unit_test(exact_and_near_copies_are_duplicates),
        cmocka_unit_test(a_rising_toll_is_an_update_at_once),
        cmocka_unit_test(a_first_claim_waits_for_the_update_interval),
        cmocka_unit_test(arrests_and_findings_are_news_again_after_the_interval),
        cmocka_unit_test(a_report_without_news_is_counted),
        cmocka_unit_test(reports_stating_different_days_are_different_incidents),
        cmocka_unit_test(a_report_stating_no_day_joins_the_incident_still_being_reported),
        cmocka_unit_test(a_stated_day_next_to_an_unstated_incident_joins_it),
        cmocka_unit_test(every_report_of_an_anchored_event_is_of_its_anchor),
        cmocka_unit_test(an_anchored_event_has_one_incident_whatever_day_a_report_gives),
        cmocka_unit_test(the_order_of_the_reports_does_not_change_the_incidents),
        cmocka_unit_test(incidents_are_bounded_least_recently_reported_forgotten),
        cmocka_unit_test(state_survives_json),
        cmocka_unit_test(state_json_must_be_version_2),
        cmocka_unit_test(times_in_rfc3339),
        cmocka_unit_test(times_on_days_that_do_not_exist_are_rejected),
        cmocka_unit_test(alert_json_says_what_happened),
        cmocka_unit_test(incident_alerts_fire_until_quiet_and_survive_the_state_json),
    };
    return cmocka_run_group_tests_name("alerts", tests, tu_world_setup, tu_world_teardown);
}
