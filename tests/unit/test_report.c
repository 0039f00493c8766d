/*
 * What a report says about a tracked event (nw_report_assess) with the
 * shipped configuration: its reference time, whether the event is what it is
 * about, which incident it is of, and the facts attributed to that incident.
 * Then the two stages together (nw_enricher_run, nw_alerter_process) on the
 * seeds and on copies that differ only by their URLs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/fingerprint.h"
#include "newswatch/pipeline.h"
#include "newswatch/report.h"
#include "newswatch/stages.h"
#include "testutil.h"

#define HOUR 3600
#define DAY  86400

typedef struct fixture {
    nw_pipeline p;
    nw_analyzer *a, *title_a;
    nw_matcher *m, *title_m;
    nw_assessor *as;
    nw_doc *doc, *title_doc;
    const nw_analysis *an; /* of doc */
} fixture;

static int teardown(void **state)
{
    fixture *f = *state;
    if (f == NULL)
        return 0;
    nw_doc_free(f->doc);
    nw_doc_free(f->title_doc);
    nw_assessor_free(f->as);
    nw_matcher_free(f->m);
    nw_matcher_free(f->title_m);
    nw_analyzer_free(f->a);
    nw_analyzer_free(f->title_a);
    nw_pipeline_unload(&f->p);
    free(f);
    *state = NULL;
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[512] = "out of memory";
    nw_pipeline_paths paths = {NULL, NULL, NULL};
    *state = f;
    if (f == NULL || nw_pipeline_load(&f->p, &paths, NULL, err, sizeof err) != NW_OK ||
        (f->a = nw_analyzer_new(f->p.gazetteer, f->p.furniture,
                                (const nw_phrases *[]){nw_rules_terms(f->p.rules)}, 1, err,
                                sizeof err)) == NULL ||
        (f->title_a = nw_analyzer_new(f->p.gazetteer, f->p.furniture,
                                      (const nw_phrases *[]){nw_rules_terms(f->p.rules)}, 1, err,
                                      sizeof err)) == NULL ||
        (f->m = nw_matcher_new(f->p.rules)) == NULL ||
        (f->title_m = nw_matcher_new(f->p.rules)) == NULL || (f->as = nw_assessor_new()) == NULL ||
        (f->title_doc = nw_doc_new()) == NULL) {
        fprintf(stderr, "%s\n", err);
        teardown(state);
        return -1;
    }
    return 0;
}

/* A document: NULL fields are unset (the title is then the body's first line). */
typedef struct doc_spec {
    const char *title, *body, *published_at, *ingested_at;
    int64_t processed_at;
} doc_spec;

static void set_field(nw_doc *doc, nw_doc_field field, const char *v)
{
    char err[256];
    if (v != NULL)
        assert_int_equal(nw_doc_set(doc, field, v, strlen(v), err, sizeof err), NW_OK);
}

/*
 * Runs what the enricher runs on the document and assesses its match of
 * `event`: false when the event's rule does not match at all.
 */
static bool assess(fixture *f, const char *event, const doc_spec *d, nw_report *out)
{
    char err[256];
    nw_doc_free(f->doc);
    f->doc = nw_doc_new();
    set_field(f->doc, NW_DOC_TITLE, d->title);
    set_field(f->doc, NW_DOC_BODY, d->body);
    set_field(f->doc, NW_DOC_PUBLISHED_AT, d->published_at);
    set_field(f->doc, NW_DOC_INGESTED_AT, d->ingested_at);
    assert_int_equal(nw_doc_complete(f->doc, NULL, err, sizeof err), NW_OK);
    if (nw_analyzer_run(f->a, f->doc, &f->an, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    const nw_match *matches;
    size_t n;
    assert_int_equal(nw_matcher_run(f->m, f->an, &matches, &n, err, sizeof err), NW_OK);
    size_t tlen;
    const char *title = nw_doc_get(f->doc, NW_DOC_TITLE, &tlen);
    if (n > 0 && title != NULL && tlen > 0) {
        const nw_analysis *tan;
        set_field(f->title_doc, NW_DOC_BODY, title);
        assert_int_equal(nw_analyzer_run(f->title_a, f->title_doc, &tan, err, sizeof err), NW_OK);
        assert_int_equal(nw_matcher_title(f->m, f->title_m, tan, err, sizeof err), NW_OK);
    }
    size_t nroles;
    const nw_role_term *roles = nw_matcher_roles(f->m, &nroles);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(matches[i].event->id, event) != 0)
            continue;
        assert_int_equal(nw_report_assess(f->as, f->an, f->doc, &matches[i], roles, nroles,
                                          d->processed_at, out, err, sizeof err),
                         NW_OK);
        return true;
    }
    return false;
}

/* assess, failing when the event does not match. */
static nw_report must_assess(fixture *f, const char *event, const doc_spec *d)
{
    nw_report r;
    if (!assess(f, event, d, &r))
        fail_msg("no %s match in '%.120s'", event, d->body);
    return r;
}

static int64_t time_of(const char *rfc3339)
{
    int64_t t;
    char err[128];
    if (nw_time_parse_rfc3339(rfc3339, &t, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    return t;
}

static const char *day_text(int64_t day)
{
    static char buf[4][11];
    static int next;
    char *out = buf[next++ % 4];
    nw_day_format(day, out);
    return out;
}

/* Does the last assessed document have a term of a class with this role (anywhere)? */
static bool has_role(fixture *f, nw_role role)
{
    size_t n;
    const nw_role_term *roles = nw_matcher_roles(f->m, &n);
    for (size_t i = 0; i < n; i++)
        if (roles[i].role == role)
            return true;
    return false;
}

#define ROCKETS "baghdad-airport-rockets"
#define BOMBING "baghdad-bombing"

/* A long story that has nothing to do with either event (more than a lead's 60 words). */
#define UNRELATED                                                                                                                                                           \
    "أعلنت وزارة الكهرباء العراقية أن ساعات التجهيز في محافظات الوسط والجنوب ستتحسن خلال "           \
    "الأسابيع المقبلة بعد إعادة تشغيل وحدتين في محطة بسماية الغازية. وقال المتحدث باسم الوزارة " \
    "إن الطلب على الطاقة ارتفع بنسبة كبيرة مع انخفاض درجات الحرارة، وإن الوزارة تعمل على زيادة "  \
    "إمدادات الغاز المستورد. وأضاف أن فرق الصيانة أنجزت إصلاح عدد من خطوط النقل التي تضررت "          \
    "بسبب العواصف الأخيرة، مشيرا إلى أن الحكومة خصصت مبالغ إضافية لشراء محولات جديدة. ويشكو "       \
    "المواطنون من الانقطاع المتكرر للتيار الكهربائي، ويعتمد كثير منهم على المولدات الأهلية في " \
    "تشغيل الأجهزة المنزلية خلال ساعات الليل. "

/* A title that names neither event. */
#define OTHER_TITLE "الكهرباء: تحسن ساعات التجهيز في الأسابيع المقبلة"

#define ROCKETS_TODAY                                                                                                                                              \
    "سقطت ثلاثة صواريخ كاتيوشا قرب مطار بغداد الدولي فجر اليوم دون أن تسفر عن إصابات، بحسب " \
    "خلية الإعلام الأمني."

static void published_at_is_used_for_event_time(void **state)
{
    fixture *f = *state;
    const int64_t processed = time_of("2021-02-01T09:00:00Z");
    nw_report r = must_assess(f, ROCKETS,
                              &(doc_spec){.body = ROCKETS_TODAY,
                                          .published_at = "2021-01-21T05:00:00+03:00",
                                          .ingested_at = "2021-01-22T10:00:00Z",
                                          .processed_at = processed});
    assert_int_equal(r.basis, NW_TIME_PUBLISHED);
    assert_string_equal(nw_time_basis_name(r.basis), "published_at");
    assert_int_equal(r.ref_time, time_of("2021-01-21T02:00:00Z"));
    assert_string_equal(day_text(r.event_day), "2021-01-21"); /* "اليوم" on the 21st */
    assert_true(r.day_stated);
    assert_true(nw_report_counts(&r));

    /* No published_at: when the producer read it. */
    r = must_assess(f, ROCKETS,
                    &(doc_spec){.body = ROCKETS_TODAY,
                                .ingested_at = "2021-01-22T10:00:00Z",
                                .processed_at = processed});
    assert_int_equal(r.basis, NW_TIME_INGESTED);
    assert_string_equal(nw_time_basis_name(r.basis), "ingested_at");
    assert_int_equal(r.ref_time, time_of("2021-01-22T10:00:00Z"));
    assert_string_equal(day_text(r.event_day), "2021-01-22");

    /* A published_at that is not a time counts as none. */
    r = must_assess(f, ROCKETS,
                    &(doc_spec){.body = ROCKETS_TODAY,
                                .published_at = "yesterday",
                                .ingested_at = "2021-01-22T10:00:00Z",
                                .processed_at = processed});
    assert_int_equal(r.basis, NW_TIME_INGESTED);

    /* Neither: when it was processed. */
    r = must_assess(f, ROCKETS, &(doc_spec){.body = ROCKETS_TODAY, .processed_at = processed});
    assert_int_equal(r.basis, NW_TIME_PROCESSED);
    assert_string_equal(nw_time_basis_name(r.basis), "processed");
    assert_int_equal(r.ref_time, processed);
    assert_string_equal(day_text(r.event_day), "2021-02-01");

    /* The day is Baghdad's: 22:30Z on the 21st is the 22nd there. */
    r = must_assess(f, ROCKETS,
                    &(doc_spec){.body = ROCKETS_TODAY,
                                .published_at = "2021-01-21T22:30:00Z",
                                .processed_at = processed});
    assert_string_equal(day_text(r.event_day), "2021-01-22");
}

/* No publication time, and the lead dates the page years before it was read. */
static void an_old_page_read_late_is_dated_by_its_lead(void **state)
{
    fixture *f = *state;
    const char *body = "بغداد في 21 كانون الثاني 2021: سقطت ثلاثة صواريخ كاتيوشا قرب مطار "
                       "بغداد الدولي فجر اليوم دون أن تسفر عن إصابات.";
    nw_report r = must_assess(
        f, ROCKETS, &(doc_spec){.body = body, .processed_at = time_of("2023-06-01T09:00:00Z")});
    assert_int_equal(r.basis, NW_TIME_STATED);
    assert_string_equal(nw_time_basis_name(r.basis), "stated");
    assert_string_equal(day_text(nw_day_of_time(r.ref_time, 3 * HOUR)), "2021-01-21");
    assert_string_equal(day_text(r.event_day), "2021-01-21");
    /* With a publication time, that time is the reference. */
    r = must_assess(f, ROCKETS,
                    &(doc_spec){.body = body,
                                .published_at = "2023-06-01T09:00:00Z",
                                .processed_at = time_of("2023-06-01T09:00:00Z")});
    assert_int_equal(r.basis, NW_TIME_PUBLISHED);
    /* Read a day later: the reading time is the reference. */
    r = must_assess(f, ROCKETS,
                    &(doc_spec){.body = body, .processed_at = time_of("2021-01-22T09:00:00Z")});
    assert_int_equal(r.basis, NW_TIME_PROCESSED);
}

#define PUBLISHED "2021-01-21T12:00:00+03:00"

static void the_title_or_the_lead_makes_it_salient(void **state)
{
    fixture *f = *state;
    const char *tail = UNRELATED "وفي سياق آخر، سقط صاروخ كاتيوشا قرب مطار بغداد الدولي.";
    /* Named once, at the end: the title says it is what the story is about ... */
    nw_report r = must_assess(f, ROCKETS,
                              &(doc_spec){.title = "صواريخ تستهدف مطار بغداد الدولي",
                                          .body = tail,
                                          .published_at = PUBLISHED});
    assert_true(r.salient);
    assert_string_equal(r.why, "the title reports it");
    /* ... another title does not. */
    r = must_assess(f, ROCKETS,
                    &(doc_spec){.title = OTHER_TITLE, .body = tail, .published_at = PUBLISHED});
    assert_false(r.salient);
    assert_false(nw_report_counts(&r));
    assert_int_equal(r.sentences, 1);
    assert_non_null(strstr(r.why, "in passing"));
    /* In the lead. */
    r = must_assess(f, ROCKETS,
                    &(doc_spec){.title = OTHER_TITLE,
                                .body = ROCKETS_TODAY " " UNRELATED,
                                .published_at = PUBLISHED});
    assert_true(r.salient);
    assert_string_equal(r.why, "the lead reports it");
    assert_true(nw_report_counts(&r));
}

static void enough_sentences_make_it_salient(void **state)
{
    fixture *f = *state;
    nw_report r = must_assess(
        f, ROCKETS,
        &(doc_spec){.title = OTHER_TITLE,
                    .body = UNRELATED "وسقط صاروخ كاتيوشا قرب مطار بغداد الدولي مساء اليوم. وقال "
                                      "مصدر أمني إن صاروخا ثانيا أطلق من منطقة زراعية واستهدف "
                                      "محيط مطار بغداد دون وقوع إصابات.",
                    .published_at = PUBLISHED});
    assert_int_equal(r.sentences, 2);
    assert_true(r.salient);
    assert_string_equal(r.why, "2 sentences report it");
}

/* Sentences recalling the past do not count: a background term, or a day stated long before. */
static void sentences_recalling_the_past_do_not_count(void **state)
{
    fixture *f = *state;
    /* Two sentences after the lead, one with "منذ". */
    nw_report r = must_assess(f, ROCKETS,
                              &(doc_spec){.title = OTHER_TITLE,
                                          .body = UNRELATED
                                          "وسقط صاروخ كاتيوشا قرب مطار بغداد الدولي مساء اليوم. "
                                          "وتتعرض قاعدة فيكتوري في مطار بغداد لهجمات صاروخية منذ "
                                          "عام 2019.",
                                          .published_at = PUBLISHED});
    assert_true(has_role(f, NW_ROLE_BACKGROUND));
    assert_int_equal(r.sentences, 1);
    assert_false(r.salient);
    /* A lead that only recalls the past. */
    r = must_assess(f, ROCKETS,
                    &(doc_spec){.title = OTHER_TITLE,
                                .body = "تعرض مطار بغداد الدولي لعشرات الهجمات الصاروخية منذ "
                                        "مطلع عام 2020. " UNRELATED,
                                .published_at = PUBLISHED});
    assert_int_equal(r.sentences, 0);
    assert_false(r.salient);
    assert_string_equal(r.why, "named only where the text recalls the past");
    /* A lead dating the attack a year before the report. */
    r = must_assess(f, ROCKETS,
                    &(doc_spec){.title = OTHER_TITLE,
                                .body = "في 5 كانون الثاني 2020 سقطت صواريخ كاتيوشا على مطار "
                                        "بغداد الدولي. " UNRELATED,
                                .published_at = PUBLISHED});
    assert_int_equal(r.sentences, 0);
    assert_false(r.salient);
    /* English: "since". */
    r = must_assess(f, ROCKETS,
                    &(doc_spec){.title = "Iraq's power grid",
                                .body = "Rockets have targeted Baghdad airport dozens of times "
                                        "since 2019. " UNRELATED,
                                .published_at = PUBLISHED});
    assert_false(r.salient);
}

static void a_retrospective_piece_reports_nothing(void **state)
{
    fixture *f = *state;
    const char *body = "في الذكرى السنوية الأولى لتفجير ساحة الطيران في بغداد، استذكر الأهالي "
                       "ضحايا الهجوم الانتحاري المزدوج الذي أودى بحياة 32 شخصا، ووضعوا أكاليل "
                       "الزهور في مكان الانفجار.";
    nw_report r = must_assess(f, BOMBING,
                              &(doc_spec){.title = "أهالي بغداد يستذكرون ضحايا ساحة الطيران",
                                          .body = body,
                                          .published_at = "2022-01-21T12:00:00+03:00"});
    assert_true(has_role(f, NW_ROLE_RETROSPECTIVE));
    assert_true(r.retrospective);
    assert_false(r.salient);
    assert_false(nw_report_counts(&r));
    /* The same story without the anniversary is a report of the bombing. */
    r = must_assess(f, BOMBING,
                    &(doc_spec){.title = "أهالي بغداد يستذكرون ضحايا ساحة الطيران",
                                .body = "استذكر الأهالي ضحايا تفجير ساحة الطيران في بغداد الذي "
                                        "أودى بحياة 32 شخصا، ووضعوا أكاليل الزهور في مكان "
                                        "الانفجار.",
                                .published_at = "2021-01-23T12:00:00+03:00"});
    assert_false(r.retrospective);
    assert_true(r.salient);
    /* A title that looks back. */
    r = must_assess(f, BOMBING,
                    &(doc_spec){.title = "عام على تفجير ساحة الطيران في بغداد",
                                .body = "استذكر الأهالي ضحايا تفجير ساحة الطيران في بغداد الذي "
                                        "أودى بحياة 32 شخصا، ووضعوا أكاليل الزهور في مكان "
                                        "الانفجار.",
                                .published_at = "2022-01-21T12:00:00+03:00"});
    assert_true(r.retrospective);
    assert_false(nw_report_counts(&r));
}

static void an_anchored_event_is_its_anchors_incident(void **state)
{
    fixture *f = *state;
    const int64_t anchor = nw_rules_find_event(f->p.rules, BOMBING)->anchor_day;
    assert_string_equal(day_text(anchor), "2021-01-21");
    /* Another bombing, months later, on the day the report states. */
    nw_report r = must_assess(f, BOMBING,
                              &(doc_spec){.title = "انفجار سيارة مفخخة في مدينة الصدر",
                                          .body = "انفجرت سيارة مفخخة اليوم في مدينة الصدر شرقي "
                                                  "بغداد، ما أسفر عن سقوط قتلى وجرحى.",
                                          .published_at = "2021-07-19T20:00:00+03:00"});
    assert_true(r.salient);
    assert_true(r.other_incident);
    assert_false(nw_report_counts(&r));
    assert_non_null(strstr(r.why, "another incident"));

    /* A report stating no day, the day after: of the anchor. */
    const char *toll = "ارتفعت حصيلة ضحايا التفجيرين الانتحاريين في ساحة الطيران وسط بغداد إلى "
                       "32 قتيلا و110 جرحى بحسب وزارة الصحة.";
    r = must_assess(f, BOMBING, &(doc_spec){.body = toll, .published_at = "2021-01-22T09:00:00Z"});
    assert_false(r.other_incident);
    assert_true(nw_report_counts(&r));
    assert_int_equal(r.event_day, anchor);
    assert_false(r.day_stated);
    assert_int_equal(r.killed, 32);
    assert_int_equal(r.wounded, 110);
    /* Stating the anchor's day. */
    r = must_assess(f, BOMBING,
                    &(doc_spec){.body = "قتل 32 شخصا في تفجيرين انتحاريين هزا ساحة الطيران وسط "
                                        "بغداد صباح اليوم.",
                                .published_at = "2021-01-21T14:00:00+03:00"});
    assert_false(r.other_incident);
    assert_int_equal(r.event_day, anchor);
    assert_true(r.day_stated);

    /* No day stated, no place of the incident named, long after the anchor's window. */
    const char *undated = "انفجرت سيارة مفخخة في بغداد وأسفرت عن سقوط قتلى وجرحى.";
    r = must_assess(f, BOMBING,
                    &(doc_spec){.body = undated, .published_at = "2021-03-01T12:00:00+03:00"});
    assert_false(r.other_incident);
    r = must_assess(f, BOMBING,
                    &(doc_spec){.body = undated, .published_at = "2032-01-01T12:00:00+03:00"});
    assert_true(r.other_incident);
    /* ... or before the anchor. */
    r = must_assess(f, BOMBING,
                    &(doc_spec){.body = undated, .published_at = "2020-06-01T12:00:00+03:00"});
    assert_true(r.other_incident);
}

static void a_recurring_event_is_of_the_day_stated(void **state)
{
    fixture *f = *state;
    /* Published on Monday 25 January 2021, about Sunday night. */
    nw_report r = must_assess(f, ROCKETS,
                              &(doc_spec){.body = "سقطت ثلاثة صواريخ كاتيوشا ليل الأحد قرب مطار "
                                                  "بغداد الدولي دون أن تسفر عن إصابات.",
                                          .published_at = "2021-01-25T09:00:00+03:00"});
    assert_string_equal(day_text(r.event_day), "2021-01-24");
    assert_true(r.day_stated);
    assert_false(r.other_incident);
    assert_true(nw_report_counts(&r));
    /* No day stated: the report's own day, left to the alert stage to place. */
    r = must_assess(f, ROCKETS,
                    &(doc_spec){.body = "سقطت ثلاثة صواريخ كاتيوشا قرب مطار بغداد الدولي دون أن "
                                        "تسفر عن إصابات.",
                                .published_at = "2021-01-25T09:00:00+03:00"});
    assert_string_equal(day_text(r.event_day), "2021-01-25");
    assert_false(r.day_stated);
    /* An English report. */
    r = must_assess(f, ROCKETS,
                    &(doc_spec){.body = "Two rockets struck near Baghdad airport on Sunday night, "
                                        "security sources said.",
                                .published_at = "2021-01-25T09:00:00+03:00"});
    assert_string_equal(day_text(r.event_day), "2021-01-24");
    assert_true(r.day_stated);
}

/* A claim, arrests or a finding count only where the text speaks of the incident. */
static void news_terms_count_in_the_incidents_sentences(void **state)
{
    fixture *f = *state;
    nw_report r = must_assess(
        f, ROCKETS,
        &(doc_spec){.body = "سقطت ثلاثة صواريخ على مطار بغداد الدولي فجر اليوم. وتبنت جماعة "
                            "مسلحة تطلق على نفسها اسم أصحاب الكهف الهجوم في بيان.",
                    .published_at = PUBLISHED});
    assert_true(r.claim);
    assert_false(r.arrest);
    assert_false(r.finding);
    /* In a paragraph about something else, far from the attack. */
    r = must_assess(f, ROCKETS,
                    &(doc_spec){.body = ROCKETS_TODAY
                                " " UNRELATED
                                "وفي الموصل، تبنى تنظيم داعش هجوما على نقطة للجيش العراقي.",
                                .published_at = PUBLISHED});
    assert_true(has_role(f, NW_ROLE_CLAIM));
    assert_false(r.claim);
    assert_true(r.salient);
    /* Arrests and a finding. */
    r = must_assess(f, ROCKETS,
                    &(doc_spec){.body = ROCKETS_TODAY " واعتقلت القوات الأمنية ثلاثة مشتبه بهم "
                                                      "بإطلاق الصواريخ.",
                                .published_at = PUBLISHED});
    assert_true(r.arrest);
    assert_false(r.claim);
    r = must_assess(f, ROCKETS,
                    &(doc_spec){.body = ROCKETS_TODAY " وكشفت نتائج التحقيق أن الصواريخ أطلقت "
                                                      "من منطقة زراعية قريبة.",
                                .published_at = PUBLISHED});
    assert_true(r.finding);
    /* English. */
    r = must_assess(f, ROCKETS,
                    &(doc_spec){.body = "Three rockets hit Baghdad airport early on Thursday. "
                                        "A little-known group claimed responsibility for the "
                                        "attack.",
                                .published_at = PUBLISHED});
    assert_true(r.claim);
}

/* Seed 004: "مقتل 18 شخصاً" is the toll of other attacks two days before, not the airport's. */
static void another_attacks_toll_is_not_the_incidents(void **state)
{
    fixture *f = *state;
    size_t len;
    char *text = tu_read_seed(4, &len);
    nw_report r = must_assess(
        f, ROCKETS,
        &(doc_spec){.body = text, .published_at = "2021-05-05T09:00:00+03:00", .processed_at = 0});
    assert_int_equal(f->an->casualties.killed, 18); /* the document has that figure */
    assert_true(nw_report_counts(&r));
    assert_int_equal(r.killed, -1);
    assert_int_equal(r.wounded, -1);
    assert_false(r.claim); /* "ولم تتبنّ أيّ جهة الهجوم" */
    assert_string_equal(day_text(r.event_day), "2021-05-04"); /* "ليلة أمس" */
    assert_true(r.day_stated);
    free(text);
}

/*
 * report.h: "the highest killed and wounded figures ... only from the
 * incident's sentences". A higher figure elsewhere in the text must not hide
 * the incident's own.
 */
static void the_incidents_own_toll_is_kept_beside_a_higher_one(void **state)
{
    fixture *f = *state;
    nw_report r = must_assess(
        f, ROCKETS,
        &(doc_spec){.body = "سقطت ثلاثة صواريخ على مطار بغداد الدولي فجر اليوم ما أسفر عن مقتل "
                            "2 من المتعاقدين وإصابة 4 آخرين. " UNRELATED
                            "وفي الأنبار، قتل 18 شخصا وأصيب 25 في هجوم على نقطة للجيش.",
                    .published_at = PUBLISHED});
    assert_int_equal(f->an->casualties.killed, 18);
    assert_int_equal(r.killed, 2);
    assert_int_equal(r.wounded, 4);
}

/* ---- the two stages ------------------------------------------------------ */

/* The enricher and the alerter on documents, in order; counts what they decide. */
typedef struct chain {
    nw_enricher *en;
    nw_alerter *al;
} chain;

static chain chain_new(fixture *f)
{
    char err[256];
    chain c = {nw_enricher_new(&f->p, err, sizeof err), nw_alerter_new(f->p.rules)};
    if (c.en == NULL || c.al == NULL)
        fail_msg("%s", err);
    return c;
}

static void chain_free(chain *c)
{
    nw_enricher_free(c->en);
    nw_alerter_free(c->al);
}

/*
 * Runs doc through both stages; calls seen(ctx, event, alert, match) for each
 * match record (the alert is the alerter's record for it).
 */
typedef void (*seen_fn)(void *ctx, const char *event, const nw_alert *a, json_t *match);

static void chain_run(chain *c, const nw_doc *doc, int64_t processed_at, seen_fn seen, void *ctx)
{
    char err[256];
    nw_enriched ed;
    if (nw_enricher_run(c->en, doc, processed_at, &ed, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    for (size_t i = 0; i < ed.nmatches; i++) {
        nw_alert *a;
        if (nw_alerter_process(c->al, ed.matches[i], ed.match_lens[i], &a, err, sizeof err) !=
            NW_OK)
            fail_msg("%s", err);
        json_error_t jerr;
        json_t *m = json_loadb(ed.matches[i], ed.match_lens[i], 0, &jerr);
        assert_non_null(m);
        seen(ctx, ed.event_ids[i], a, m);
        json_decref(m);
        nw_alert_free(a);
    }
}

typedef struct seeds_seen {
    size_t seed;
    int news;
    char log[1024]; /* "000 baghdad-bombing new baghdad-bombing:2021-01-21:1; ..." */
    char rockets_id[128];
    bool rockets_casualties;
} seeds_seen;

static void seed_seen(void *ctx, const char *event, const nw_alert *a, json_t *match)
{
    (void)match;
    seeds_seen *s = ctx;
    size_t n = strlen(s->log);
    snprintf(s->log + n, sizeof s->log - n, "%03zu %s %s%s%s; ", s->seed, event,
             nw_alert_decision_name(a->decision), a->json != NULL ? " " : "",
             a->json != NULL ? a->id : "");
    if (a->decision != NW_ALERT_NEW)
        return;
    s->news++;
    if (strcmp(event, ROCKETS) == 0) {
        snprintf(s->rockets_id, sizeof s->rockets_id, "%s", a->id);
        json_error_t jerr;
        json_t *al = json_loads(a->json, 0, &jerr);
        assert_non_null(al);
        s->rockets_casualties = !json_is_null(json_object_get(al, "casualties"));
        json_decref(al);
    }
}

/* The seeds in file order, read at `start` plus a minute per seed: the NEW alerts. */
static seeds_seen run_seeds(fixture *f, int64_t start)
{
    chain c = chain_new(f);
    seeds_seen s = {0};
    for (size_t i = 0; i < TU_NSEEDS; i++) {
        char path[256], err[256];
        snprintf(path, sizeof path, TU_SEEDS_DIR "/%s.txt", tu_seed_name(i));
        size_t len;
        char *text = tu_read_seed(i, &len);
        nw_doc *doc;
        assert_int_equal(nw_doc_from_text(path, text, len, &doc, err, sizeof err), NW_OK);
        s.seed = i;
        chain_run(&c, doc, start + (int64_t)i * 60, seed_seen, &s);
        nw_doc_free(doc);
        free(text);
    }
    chain_free(&c);
    return s;
}

static void expect_two_new_alerts(const seeds_seen *s, const char *rockets_id)
{
    print_message("%s\n", s->log);
    if (s->news != 2)
        fail_msg("%d new alerts: %s", s->news, s->log);
    if (strstr(s->log, "000 baghdad-bombing new baghdad-bombing:2021-01-21:1;") == NULL)
        fail_msg("no new bombing alert on 000: %s", s->log);
    char want[256];
    snprintf(want, sizeof want, "004 baghdad-airport-rockets new %s;", rockets_id);
    if (strstr(s->log, want) == NULL)
        fail_msg("no new airport alert %s on 004: %s", rockets_id, s->log);
    /* Seed 004's "مقتل 18 شخصاً" is another attack's toll. */
    assert_false(s->rockets_casualties);
}

/* Read the day after the bombing. */
static void the_seeds_raise_two_new_alerts(void **state)
{
    fixture *f = *state;
    seeds_seen s = run_seeds(f, time_of("2021-01-22T08:00:00Z"));
    expect_two_new_alerts(&s, "baghdad-airport-rockets:2021-01-21:1"); /* "ليلة أمس" */
}

/* Replayed years later (the seeds have no publication time). */
static void the_seeds_replayed_later_raise_the_same_two_alerts(void **state)
{
    fixture *f = *state;
    seeds_seen s = run_seeds(f, time_of("2025-06-01T08:00:00Z"));
    expect_two_new_alerts(&s, "baghdad-airport-rockets:2025-05-31:1");
}

typedef struct decisions {
    char names[8][16];
    char fingerprints[8][NW_FINGERPRINT_TEXT_SIZE];
    char event_time[8][32], basis[8][32];
    size_t n;
} decisions;

static void decision_seen(void *ctx, const char *event, const nw_alert *a, json_t *match)
{
    decisions *d = ctx;
    assert_string_equal(event, ROCKETS);
    assert_true(d->n < 8);
    snprintf(d->names[d->n], sizeof d->names[0], "%s", nw_alert_decision_name(a->decision));
    snprintf(d->fingerprints[d->n], sizeof d->fingerprints[0], "%s",
             json_string_value(json_object_get(match, "fingerprint")));
    snprintf(d->event_time[d->n], sizeof d->event_time[0], "%s",
             json_string_value(json_object_get(match, "event_time")));
    snprintf(d->basis[d->n], sizeof d->basis[0], "%s",
             json_string_value(json_object_get(match, "time_basis")));
    d->n++;
}

static nw_doc *make_doc(const char *body, const char *published_at)
{
    char err[256];
    nw_doc *doc = nw_doc_new();
    set_field(doc, NW_DOC_BODY, body);
    set_field(doc, NW_DOC_PUBLISHED_AT, published_at);
    assert_int_equal(nw_doc_complete(doc, NULL, err, sizeof err), NW_OK);
    return doc;
}

/* The match record and the alert carry the publication time, not the processing time. */
static void the_alert_carries_the_publication_time(void **state)
{
    fixture *f = *state;
    chain c = chain_new(f);
    decisions d = {0};
    nw_doc *doc = make_doc(ROCKETS_TODAY, "2021-01-21T05:00:00+03:00");
    chain_run(&c, doc, time_of("2021-02-01T09:00:00Z"), decision_seen, &d);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.names[0], "new");
    assert_string_equal(d.event_time[0], "2021-01-21T02:00:00Z");
    assert_string_equal(d.basis[0], "published_at");
    nw_doc_free(doc);
    chain_free(&c);
}

/*
 * A document may hold U+0000 (newswatch/doc.h); when the sentence that matched
 * has one, the match record's evidence carries it as \u0000, and the alert
 * stage takes the record (it sent it to the dead letters). Found by fuzz_analyze.
 */
static void a_nul_in_the_evidence_reaches_the_alert_stage(void **state)
{
    fixture *f = *state;
    chain c = chain_new(f);
    static const char body[] = "سقطت ثلاثة صواريخ كاتيوشا قرب مطار بغداد الدولي\0 فجر اليوم دون "
                               "أن تسفر عن إصابات، بحسب خلية الإعلام الأمني.";
    char err[256];
    nw_doc *doc = nw_doc_new();
    assert_int_equal(nw_doc_set(doc, NW_DOC_BODY, body, sizeof body - 1, err, sizeof err), NW_OK);
    set_field(doc, NW_DOC_PUBLISHED_AT, PUBLISHED);
    assert_int_equal(nw_doc_complete(doc, NULL, err, sizeof err), NW_OK);
    nw_enriched ed;
    assert_int_equal(nw_enricher_run(c.en, doc, time_of(PUBLISHED), &ed, err, sizeof err), NW_OK);
    assert_int_equal(ed.nmatches, 1);
    assert_non_null(strstr(ed.matches[0], "\\u0000"));
    nw_alert *a = NULL;
    nw_err e = nw_alerter_process(c.al, ed.matches[0], ed.match_lens[0], &a, err, sizeof err);
    if (e != NW_OK)
        fail_msg("%s", err);
    assert_string_equal(nw_alert_decision_name(a->decision), "new");
    nw_alert_free(a);
    nw_doc_free(doc);
    chain_free(&c);
}

#define LONG_REPORT                                                                                                                                                  \
    "سقطت ثلاثة صواريخ كاتيوشا قرب مطار بغداد الدولي فجر اليوم دون أن تسفر عن إصابات، وقالت " \
    "خلية الإعلام الأمني في بيان إن الصواريخ أطلقت من منطقة زراعية جنوب العاصمة وإن القوات "  \
    "الأمنية عثرت على منصة الإطلاق وباشرت التحقيق في الحادث. "

static void url_words_are_kept_out_of_the_fingerprint(void **state)
{
    fixture *f = *state;
    chain c = chain_new(f);
    decisions d = {0};
    nw_doc *a = make_doc(LONG_REPORT "المصدر: https://www.example.com/news/2021/01/21/"
                                     "rockets-baghdad-airport?utm_source=twitter&id=8812",
                         PUBLISHED);
    nw_doc *b = make_doc(LONG_REPORT "المصدر: https://m.example.net/amp/article/"
                                     "4471?ref=facebook_share&lang=ar",
                         "2021-01-21T12:05:00+03:00");
    chain_run(&c, a, 0, decision_seen, &d);
    chain_run(&c, b, 0, decision_seen, &d);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.names[0], "new");
    assert_string_equal(d.names[1], "duplicate");
    /* Not the same text (the exact hash keeps the URLs), the same shingles. */
    nw_fingerprint fa, fb;
    char err[256];
    assert_int_equal(
        nw_fingerprint_decode(d.fingerprints[0], strlen(d.fingerprints[0]), &fa, err, sizeof err),
        NW_OK);
    assert_int_equal(
        nw_fingerprint_decode(d.fingerprints[1], strlen(d.fingerprints[1]), &fb, err, sizeof err),
        NW_OK);
    assert_true(fa.exact != fb.exact);
    assert_true(nw_fingerprint_similarity(&fa, &fb) == 1.0);
    nw_doc_free(a);
    nw_doc_free(b);
    chain_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(published_at_is_used_for_event_time),
        cmocka_unit_test(an_old_page_read_late_is_dated_by_its_lead),
        cmocka_unit_test(the_title_or_the_lead_makes_it_salient),
        cmocka_unit_test(enough_sentences_make_it_salient),
        cmocka_unit_test(sentences_recalling_the_past_do_not_count),
        cmocka_unit_test(a_retrospective_piece_reports_nothing),
        cmocka_unit_test(an_anchored_event_is_its_anchors_incident),
        cmocka_unit_test(a_recurring_event_is_of_the_day_stated),
        cmocka_unit_test(news_terms_count_in_the_incidents_sentences),
        cmocka_unit_test(another_attacks_toll_is_not_the_incidents),
        cmocka_unit_test(the_incidents_own_toll_is_kept_beside_a_higher_one),
        cmocka_unit_test(the_alert_carries_the_publication_time),
        cmocka_unit_test(the_seeds_raise_two_new_alerts),
        cmocka_unit_test(the_seeds_replayed_later_raise_the_same_two_alerts),
        cmocka_unit_test(url_words_are_kept_out_of_the_fingerprint),
        cmocka_unit_test(a_nul_in_the_evidence_reaches_the_alert_stage),
    };
    return cmocka_run_group_tests_name("report", tests, setup, teardown);
}
