/*
 * Alert decisions: episodes, exact and near duplicates, updates that bring
 * news, the state's JSON form, and the seeds in file order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "newswatch/alerts.h"
#include "testutil.h"
#include "world.h"

typedef tu_world fixture;

/*
 * Analyses body, matches it against the default events, and observes the
 * first match for `event` in st at time t. Returns the decision.
 */
static nw_alert_decision observe(fixture *f, nw_alert_state *st, const char *event,
                                 const char *body, int64_t t, nw_alert_outcome *o)
{
    char err[256];
    const nw_analysis *an = tu_analyse(f, body);
    const nw_match *mt;
    size_t n;
    assert_int_equal(nw_matcher_run(f->m, an, &mt, &n, err, sizeof err), NW_OK);
    const nw_match *match = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(mt[i].event->id, event) == 0)
            match = &mt[i];
    if (match == NULL)
        fail_msg("no %s match in '%.80s'", event, body);
    const char *ids[64];
    size_t nids = 0;
    for (size_t i = 0; i < an->nmentions && nids < 64; i++) {
        const nw_mention *mn = &an->mentions[i];
        bool near = false;
        for (size_t k = 0; k < match->nterms; k++)
            near |= match->terms[k].sentence == mn->sentence;
        if (near && mn->entity != NULL && mn->type != NW_ENTITY_PERSON)
            ids[nids++] = mn->entity->id;
    }
    nw_alert_report r = {t,
                         {0},
                         an->casualties.killed,
                         an->casualties.wounded,
                         nw_matcher_has_class(f->m, "claim") != 0,
                         ids,
                         nids};
    nw_fingerprint_compute(an->text, an->seg, &r.fingerprint);
    assert_int_equal(nw_alert_state_observe(st, match->event, &r, o, err, sizeof err), NW_OK);
    return o->decision;
}

static char *seed(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, TU_SEEDS_DIR "/%s.txt", name);
    char *text = tu_read(path, NULL);
    assert_non_null(text);
    return text;
}

#define T0 1611216000 /* 2021-01-21T08:00:00Z */

static void episodes_open_after_the_gap(void **state)
{
    fixture *f = *state;
    nw_alert_state *st = nw_alert_state_new("baghdad-bombing");
    nw_alert_outcome o;
    const char *a = "انفجار سيارة مفخخة في منطقة الكرادة وسط بغداد يوقع ضحايا بين المدنيين "
                    "ويخلف دمارا كبيرا في المحال التجارية القريبة من مكان الحادث بحسب مصادر "
                    "أمنية تحدثت للصحفيين صباح اليوم";
    const char *b = "هز انفجار عنيف منطقة الكرادة في العاصمة بغداد مساء اليوم وهرعت سيارات "
                    "الإسعاف إلى المكان بينما فرضت القوات الأمنية طوقا حول المنطقة ومنعت "
                    "الاقتراب منها حتى إشعار آخر";
    assert_int_equal(observe(f, st, "baghdad-bombing", a, T0, &o), NW_ALERT_NEW);
    assert_int_equal(o.episode, 1);
    assert_int_equal(o.sequence, 1);
    /* A different report of the same place six hours later: same episode, nothing new. */
    assert_int_equal(observe(f, st, "baghdad-bombing", b, T0 + 6 * 3600, &o), NW_ALERT_COUNTED);
    assert_int_equal(o.reports, 2);
    /* Eight days after the last report (the gap is 7 days): a new incident. */
    assert_int_equal(observe(f, st, "baghdad-bombing", b, T0 + 6 * 3600 + 8 * 86400, &o),
                     NW_ALERT_NEW);
    assert_int_equal(o.episode, 2);
    assert_int_equal(o.sequence, 1);
    assert_int_equal(o.reports, 1);
    char id[128];
    nw_alert_id(nw_rules_find_event(f->rules, "baghdad-bombing"), &o, id, sizeof id);
    assert_string_equal(id, "baghdad-bombing:2:1");
    nw_alert_state_free(st);
}

/* Copies of seed 003: exact, with other furniture, a new headline, a dropped paragraph. */
static void copies_raise_nothing(void **state)
{
    fixture *f = *state;
    nw_alert_state *st = nw_alert_state_new("baghdad-bombing");
    nw_alert_outcome o;
    char *text = seed("003_36327a287adc8b89");
    assert_int_equal(observe(f, st, "baghdad-bombing", text, T0, &o), NW_ALERT_NEW);
    assert_int_equal(observe(f, st, "baghdad-bombing", text, T0 + 60, &o), NW_ALERT_DUPLICATE);

    size_t len = strlen(text);
    char *copy = malloc(len + 1024);
    /* Other page furniture around the same report. */
    snprintf(copy, len + 1024, "الرئيسية عربي\nشارك القصة\n%s\nاقرأ أيضا: أخبار أخرى\nClose", text);
    assert_int_equal(observe(f, st, "baghdad-bombing", copy, T0 + 120, &o), NW_ALERT_DUPLICATE);
    /* A syndicated copy with another headline. */
    snprintf(copy, len + 1024, "مقتل العشرات في تفجيرين انتحاريين ببغداد\n%s", text);
    assert_int_equal(observe(f, st, "baghdad-bombing", copy, T0 + 180, &o), NW_ALERT_DUPLICATE);
    /* The last paragraph dropped. */
    strcpy(copy, text);
    char *last = strrchr(copy, '\n');
    while (last != NULL && last > copy && last[1] == '\0') {
        *last = '\0';
        last = strrchr(copy, '\n');
    }
    assert_non_null(last);
    *last = '\0';
    assert_int_equal(observe(f, st, "baghdad-bombing", copy, T0 + 240, &o), NW_ALERT_DUPLICATE);
    assert_int_equal(o.duplicates, 4);
    assert_int_equal(o.reports, 1);
    free(copy);
    free(text);
    nw_alert_state_free(st);
}

static void news_is_an_update(void **state)
{
    fixture *f = *state;
    nw_alert_state *st = nw_alert_state_new("baghdad-bombing");
    nw_alert_outcome o;
    assert_int_equal(observe(f, st, "baghdad-bombing",
                             "قتل 32 شخصا في تفجير انتحاري مزدوج بسوق شعبي وسط بغداد صباح اليوم "
                             "وفق مصادر طبية",
                             T0, &o),
                     NW_ALERT_NEW);
    assert_int_equal(o.killed, 32);
    /* A rising death toll. */
    assert_int_equal(observe(f, st, "baghdad-bombing",
                             "ارتفعت حصيلة ضحايا التفجير الانتحاري في بغداد إلى 35 قتيلا و110 "
                             "جرحى بحسب وزارة الصحة",
                             T0 + 3600, &o),
                     NW_ALERT_UPDATE);
    assert_int_equal(o.sequence, 2);
    assert_int_equal(o.killed, 35);
    assert_non_null(strstr(o.reasons, "killed rose from 32 to 35"));
    assert_non_null(strstr(o.reasons, "110 wounded"));
    /* A claim of responsibility. */
    assert_int_equal(observe(f, st, "baghdad-bombing",
                             "Islamic State claimed responsibility for the twin suicide bombing "
                             "in Baghdad, its Amaq agency said.",
                             T0 + 7200, &o),
                     NW_ALERT_UPDATE);
    assert_non_null(strstr(o.reasons, "claim of responsibility"));
    assert_int_equal(o.sequence, 3);
    /* The same toll again, reported differently: counted, no page. */
    assert_int_equal(observe(f, st, "baghdad-bombing",
                             "قالت مصادر أمنية إن التفجير الانتحاري في بغداد أسفر عن مقتل 35 "
                             "شخصا، وتبنى داعش الهجوم",
                             T0 + 9000, &o),
                     NW_ALERT_COUNTED);
    nw_alert_state_free(st);
}

static void state_survives_json(void **state)
{
    fixture *f = *state;
    nw_alert_state *st = nw_alert_state_new("baghdad-bombing");
    nw_alert_outcome o;
    char *text = seed("003_36327a287adc8b89");
    assert_int_equal(observe(f, st, "baghdad-bombing", text, T0, &o), NW_ALERT_NEW);
    char *json;
    size_t len;
    char err[256];
    assert_int_equal(nw_alert_state_to_json(st, &json, &len, err, sizeof err), NW_OK);
    nw_alert_state_free(st);
    json_error_t jerr;
    json_t *v = json_loadb(json, len, 0, &jerr);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "schema")), "newswatch.alert-state/1");
    assert_int_equal(json_integer_value(json_object_get(v, "killed")), 32);
    assert_int_equal(json_array_size(json_object_get(v, "fingerprints")), 1);
    json_decref(v);
    nw_alert_state *back;
    assert_int_equal(nw_alert_state_from_json(json, len, &back, err, sizeof err), NW_OK);
    /* The restored state still knows the report and the episode. */
    assert_int_equal(observe(f, back, "baghdad-bombing", text, T0 + 60, &o), NW_ALERT_DUPLICATE);
    assert_int_equal(o.episode, 1);
    char *again;
    size_t alen;
    assert_int_equal(nw_alert_state_to_json(back, &again, &alen, err, sizeof err), NW_OK);
    nw_alert_state_free(back);
    assert_int_equal(nw_alert_state_from_json("{\"schema\":\"other\"}", 18, &back, err, sizeof err),
                     NW_EJSON);
    assert_int_equal(nw_alert_state_from_json("not json", 8, &back, err, sizeof err), NW_EJSON);
    free(again);
    free(json);
    free(text);
}

static void times_in_rfc3339(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t t;
    } ok[] = {
        {"2021-01-21T08:00:00Z", T0},     {"2021-01-21T11:00:00+03:00", T0},
        {"2021-01-21T08:00:00.123Z", T0}, {"2021-01-21", T0 - 8 * 3600},
        {"1970-01-01T00:00:00Z", 0},      {"2024-02-29T00:00:00-00:30", 1709166600},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t t = 0;
        assert_int_equal(nw_time_parse_rfc3339(ok[i].s, &t, NULL, 0), NW_OK);
        if (t != ok[i].t)
            fail_msg("%s: %lld, expected %lld", ok[i].s, (long long)t, (long long)ok[i].t);
    }
    static const char *const bad[] = {
        "yesterday",           "2021-13-01",        "2021-01-21T25:00:00Z",
        "2021-01-21T08:00:00", "2021-01-21T08:00Z", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t;
        char err[128];
        if (nw_time_parse_rfc3339(bad[i], &t, err, sizeof err) != NW_EINVAL)
            fail_msg("accepted '%s'", bad[i]);
    }
    char out[32];
    nw_time_format_rfc3339(T0, out);
    assert_string_equal(out, "2021-01-21T08:00:00Z");
}

/* The seeds in file order raise exactly two new alerts: 000 and 004. */
static void the_seeds_raise_two_new_alerts(void **state)
{
    fixture *f = *state;
    nw_alert_state *bombing = nw_alert_state_new("baghdad-bombing");
    nw_alert_state *airport = nw_alert_state_new("baghdad-airport-rockets");
    int news = 0;
    for (size_t i = 0; i < TU_NSEEDS; i++) {
        char *text = seed(tu_seed_name(i));
        nw_alert_outcome o;
        bool is_airport = i == 4;
        nw_alert_decision d = observe(f, is_airport ? airport : bombing,
                                      is_airport ? "baghdad-airport-rockets" : "baghdad-bombing",
                                      text, T0 + (int64_t)i * 3600, &o);
        if (d == NW_ALERT_NEW) {
            news++;
            assert_true(i == 0 || i == 4);
        }
        free(text);
    }
    assert_int_equal(news, 2);
    nw_alert_state_free(bombing);
    nw_alert_state_free(airport);
}

static void alert_json(void **state)
{
    fixture *f = *state;
    const nw_event *ev = nw_rules_find_event(f->rules, "baghdad-airport-rockets");
    nw_alert_outcome o = {NW_ALERT_NEW, 1, 1, 1, 0, -1, -1, ""};
    nw_alert_info info = {ev,
                          "doc-1",
                          "wire",
                          NULL,
                          "Rockets hit",
                          "2021-01-21T08:00:00Z",
                          "Rockets hit Baghdad airport.",
                          "[{\"id\":\"fac.baghdad-international-airport\"}]",
                          T0,
                          "2026-01-01T00:00:00.000Z"};
    char *json;
    size_t len;
    char err[256];
    assert_int_equal(nw_alert_to_json(&info, &o, &json, &len, err, sizeof err), NW_OK);
    json_error_t jerr;
    json_t *v = json_loadb(json, len, 0, &jerr);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "schema")), "newswatch.alert/1");
    assert_string_equal(json_string_value(json_object_get(v, "alert_id")),
                        "baghdad-airport-rockets:1:1");
    assert_string_equal(json_string_value(json_object_get(v, "status")), "new");
    assert_string_equal(json_string_value(json_object_get(v, "severity")), "critical");
    assert_string_equal(json_string_value(json_object_get(v, "event_time")),
                        "2021-01-21T08:00:00Z");
    assert_true(json_is_null(json_object_get(v, "casualties")));
    assert_int_equal(json_array_size(json_object_get(v, "entities")), 1);
    json_decref(v);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(episodes_open_after_the_gap),
        cmocka_unit_test(copies_raise_nothing),
        cmocka_unit_test(news_is_an_update),
        cmocka_unit_test(state_survives_json),
        cmocka_unit_test(times_in_rfc3339),
        cmocka_unit_test(the_seeds_raise_two_new_alerts),
        cmocka_unit_test(alert_json),
    };
    return cmocka_run_group_tests_name("alerts", tests, tu_world_setup, tu_world_teardown);
}
