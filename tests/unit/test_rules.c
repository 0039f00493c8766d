/*
 * Tracked-event rules: the language, scopes, NOT, keyword matching, and the
 * default events on reports written for the tests and on the seeds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <jansson.h>

#include "newswatch/rules.h"
#include "testutil.h"
#include "world.h"

typedef tu_world fixture;

static const nw_analysis *analyse(fixture *f, const char *body)
{
    return tu_analyse(f, body);
}

/* The ids of the events the text matches under rules r, comma-separated. */
static const char *events(fixture *f, const nw_rules *r, const char *body)
{
    static char out[512];
    const nw_analysis *an = analyse(f, body);
    nw_matcher *m = nw_matcher_new(r);
    const nw_match *mt;
    size_t n;
    char err[256];
    assert_int_equal(nw_matcher_run(m, an, &mt, &n, err, sizeof err), NW_OK);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (out[0] != '\0')
            strcat(out, ",");
        strcat(out, mt[i].event->id);
        if (mt[i].broad) /* the rule holds over the document only, in no window of its scope */
            strcat(out, "~");
    }
    nw_matcher_free(m);
    return out;
}

static nw_rules *compile(fixture *f, const char *text)
{
    nw_rules *r;
    char err[512];
    if (nw_rules_new(f->n, f->g, "t.conf", text, strlen(text), &r, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    return r;
}

#define EXPECT(rules, body, want)                                                                  \
    do {                                                                                           \
        const char *got_ = events(f, rules, body);                                                 \
        if (strcmp(got_, want) != 0)                                                               \
            fail_msg("'%s':\n got  '%s'\n want '%s'", body, got_, want);                           \
    } while (0)

static void parser_errors_name_file_and_line(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"[event.x]\nmatch = loc.nowhere\n", "t.conf:2: match, column 1: 'loc.nowhere' is not an "
                                             "entity id in the gazetteer"},
        {"[event.x]\nmatch = bombing\n", "t.conf:2: match, column 1: unknown term 'bombing'"},
        {"[class.b]\nterms = x\n[event.x]\nmatch = b and loc.baghdad\n",
         "t.conf:4: match, column 3: write 'and' in capitals"},
        {"[event.x]\nmatch = (loc.baghdad OR LOC\n", "t.conf:2: match, column 20: expected ')'"},
        {"[event.x]\nmatch = loc.baghdad loc.iraq\n", "t.conf:2: match, column 13: unexpected"},
        {"[event.x]\nmatch = NOT loc.baghdad\n",
         "t.conf:2: match, column 16: a rule needs at least one term outside NOT"},
        {"[event.x]\nmatch = loc.baghdad AND\n", "t.conf:2: match, column 16: expected a term"},
        {"[event.x]\nscope = nearby\nmatch = LOC\n", "t.conf:2: scope is sentence, paragraph"},
        {"[event.x]\nscope = words:0\nmatch = LOC\n", "t.conf:2: words:N needs N from 1 to 200"},
        {"[event.x]\nseverity = high\nmatch = LOC\n", "t.conf:2: severity is info, warning or "
                                                      "critical"},
        {"[event.x]\nepisode_gap = soon\nmatch = LOC\n", "t.conf:2: episode_gap: 'soon' is not a "
                                                         "duration"},
        {"[event.x]\ntitle = X\n", "t.conf:1: event 'x' has no 'match ='"},
        {"[event.x]\nmatch = LOC\nmatch = ORG\n", "t.conf:3: a second 'match ='"},
        {"[event.x]\nwhen = LOC\n", "t.conf:2: unknown key 'when' in [event.x]"},
        {"[events.x]\nmatch = LOC\n", "t.conf:2: unknown section [events.x]"},
        {"[class.b]\nterms = a;;b\n[event.x]\nmatch = b\n", "t.conf:2: an empty term"},
        {"[class.b]\nterms = a\n[class.b]\nterms = c\n", "t.conf:4: keyword class 'b' is defined "
                                                         "twice"},
        {"# nothing\n", "t.conf: no [event.ID] section"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nw_rules *r = (nw_rules *)1;
        char err[512] = "";
        nw_err e = nw_rules_new(f->n, f->g, "t.conf", cases[i].text, strlen(cases[i].text), &r, err,
                                sizeof err);
        if (e != NW_ECONFIG || strstr(err, cases[i].msg) != err)
            fail_msg("case %zu: got '%s'\n expected '%s'", i, err, cases[i].msg);
        assert_null(r);
    }
}

static void scopes(void **state)
{
    fixture *f = *state;
    nw_rules *r = compile(f, "[class.blast]\nterms = انفجار; explosion\n"
                             "[event.s]\nscope = sentence\nmatch = loc.baghdad AND blast\n"
                             "[event.p]\nscope = paragraph\nmatch = loc.baghdad AND blast\n"
                             "[event.d]\nscope = document\nmatch = loc.baghdad AND blast\n"
                             "[event.w]\nscope = words:3\nmatch = loc.baghdad AND blast\n");
    /* "~": the rule holds only over the whole document (a broad match, salient only by
     * its title or lead: lib/report.c). */
    EXPECT(r, "انفجار في بغداد", "s,p,d,w");
    EXPECT(r, "انفجار كبير هز ليلة أمس أحياء عدة من بغداد", "s,p,d,w~");
    EXPECT(r, "وقع انفجار كبير. وصلت الشرطة إلى بغداد", "s~,p,d,w~");
    EXPECT(r, "وقع انفجار كبير.\n\nوصلت الشرطة إلى بغداد", "s~,p~,d,w~");
    EXPECT(r, "Baghdad, an explosion", "s,p,d,w");
    EXPECT(r, "لا شيء هنا في بغداد", "");
    nw_rules_free(r);
}

static void not_and_or_types(void **state)
{
    fixture *f = *state;
    nw_rules *r = compile(f, "[class.blast]\nterms = انفجار\n"
                             "[event.x]\nmatch = (loc.baghdad OR loc.basra) AND blast AND NOT "
                             "(loc.mosul OR PERSON)\n"
                             "[event.t]\nmatch = FACILITY AND blast\n");
    EXPECT(r, "انفجار في البصرة", "x");
    EXPECT(r, "انفجار في بغداد والموصل", "");
    EXPECT(r, "انفجار في بغداد. الموصل هادئة", "x"); /* NOT holds inside the scope only */
    EXPECT(r, "انفجار في بغداد قال الكاظمي", "");    /* a PERSON in the sentence */
    /* The airport's name covers بغداد (the longest name wins), but the gazetteer puts the
     * airport within Baghdad, so a rule naming loc.baghdad holds there too. */
    EXPECT(r, "انفجار قرب مطار بغداد", "x,t");
    EXPECT(r, "انفجار في الكرادة", "x"); /* a district of Baghdad */
    nw_rules_free(r);
}

/* A match lists every sentence where the rule holds, says whether it holds in the lead, and
 * the roles of the document's terms. */
static void every_window_the_lead_and_roles(void **state)
{
    fixture *f = *state;
    nw_rules *r = compile(f, "[class.blast]\nterms = انفجار\n"
                             "[class.claim]\nrole = claim\nterms = تبنى\n"
                             "[event.x]\nlead_words = 6\nmatch = loc.baghdad AND blast\n");
    const nw_analysis *an = analyse(f, "قال الشهود شيئا آخر تماما هنا. وقع انفجار في بغداد. "
                                       "ثم وقع انفجار ثان في بغداد. وتبنى التنظيم الهجوم.");
    nw_matcher *m = nw_matcher_new(r);
    const nw_match *mt;
    size_t n, nroles;
    char err[256];
    assert_int_equal(nw_matcher_run(m, an, &mt, &n, err, sizeof err), NW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(mt[0].nsentences, 2);
    assert_int_equal(mt[0].sentences[0], 1);
    assert_int_equal(mt[0].sentences[1], 2);
    assert_false(mt[0].in_lead); /* the first six words name neither */
    assert_false(mt[0].broad);
    const nw_role_term *roles = nw_matcher_roles(m, &nroles);
    assert_int_equal(nroles, 1);
    assert_int_equal(roles[0].role, NW_ROLE_CLAIM);
    assert_int_equal(roles[0].sentence, 3);
    an = analyse(f, "انفجار في بغداد صباح اليوم. لا شيء آخر.");
    assert_int_equal(nw_matcher_run(m, an, &mt, &n, err, sizeof err), NW_OK);
    assert_true(mt[0].in_lead);
    nw_matcher_free(m);
    nw_rules_free(r);
    /* Errors in the new keys name the file and line. */
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"[event.x]\nincident = anchored 2021-02-30\nmatch = LOC\n",
         "t.conf:2: incident = anchored: '2021-02-30' is not a date"},
        {"[event.x]\nincident = once\nmatch = LOC\n", "t.conf:2: incident is 'recurring' or"},
        {"[event.x]\nanchor_place = org.isis\nmatch = LOC\n",
         "t.conf:2: anchor_place: 'org.isis' is not a place"},
        {"[event.x]\nutc_offset = 3\nmatch = LOC\n", "t.conf:2: utc_offset is +HH:MM"},
        {"[event.x]\nlead_words = 0\nmatch = LOC\n", "t.conf:2: lead_words is a number"},
        {"[class.c]\nrole = news\nterms = x\n[event.x]\nmatch = c\n",
         "t.conf:2: role is claim, arrest"},
        {"[class.c]\nrole = claim\nterms = x\n[class.d]\nrole = claim\nterms = y\n"
         "[event.x]\nmatch = c\n",
         "t.conf:5: role 'claim' is already the role of class 'c'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nw_rules *br = NULL;
        nw_err e = nw_rules_new(f->n, f->g, "t.conf", bad[i].text, strlen(bad[i].text), &br, err,
                                sizeof err);
        if (e != NW_ECONFIG || strstr(err, bad[i].msg) != err)
            fail_msg("case %zu: got '%s'\n expected '%s'", i, err, bad[i].msg);
        assert_null(br);
    }
}

/* A document naming Baghdad and a blast 3,000 times: every sentence listed, each term once
 * in the record, so the record stays the size of a report. */
static void a_dense_document_gives_a_record_of_its_size(void **state)
{
    fixture *f = *state;
    nw_rules *r = compile(f, "[class.blast]\nterms = انفجار; تفجير\n"
                             "[event.x]\nscope = words:12\nmatch = loc.baghdad AND blast\n");
    static const char unit[] = "انفجار في بغداد وتفجير في الكرادة. ";
    size_t n = 3000, ul = strlen(unit);
    char *body = malloc(n * ul + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(body + i * ul, unit, ul);
    body[n * ul] = '\0';
    const nw_analysis *an = analyse(f, body);
    nw_matcher *m = nw_matcher_new(r);
    const nw_match *mt;
    size_t nm;
    char err[256];
    assert_int_equal(nw_matcher_run(m, an, &mt, &nm, err, sizeof err), NW_OK);
    assert_int_equal(nm, 1);
    assert_int_equal(mt[0].nsentences, n);
    assert_int_equal(mt[0].evidence, 0);
    nw_jsonw *w = nw_jsonw_new();
    nw_doc *doc = nw_doc_new();
    nw_jsonw_object_begin(w);
    nw_match_write_members(&mt[0], an, doc, NULL, w);
    nw_jsonw_object_end(w);
    const char *json;
    size_t len;
    assert_int_equal(nw_jsonw_finish(w, &json, &len, err, sizeof err), NW_OK);
    json_error_t jerr;
    json_t *o = json_loadb(json, len, 0, &jerr);
    assert_non_null(o);
    /* loc.baghdad and Karrada (within it) once each; انفجار and تفجير once each. */
    assert_int_equal(json_array_size(json_object_get(o, "entities")), 2);
    assert_int_equal(json_array_size(json_object_get(o, "terms")), 2);
    assert_true(len < 4096);
    json_decref(o);
    nw_jsonw_free(w);
    nw_doc_free(doc);
    nw_matcher_free(m);
    nw_rules_free(r);
    free(body);
}

static void keywords_through_clitics_and_diacritics(void **state)
{
    fixture *f = *state;
    nw_rules *r = compile(f, "[class.blast]\nterms = تفجير; حزام ناسف; suicide bomber\n"
                             "[event.x]\nmatch = loc.baghdad AND blast\n");
    EXPECT(r, "وبالتفجير هزت بغداد", "x");
    EXPECT(r, "التَّفْجِيرُ في بغـــداد", "x");
    EXPECT(r, "بحزام ناسف في بغداد", "x");
    EXPECT(r, "A SUICIDE BOMBER in Baghdad", "x");
    EXPECT(r, "#تفجير_بغداد", "x"); /* inside a hashtag */
    EXPECT(r, "تفجيرها بغداد", ""); /* an enclitic is another word */
    nw_rules_free(r);
}

static void continuation_lines_and_durations(void **state)
{
    fixture *f = *state;
    nw_rules *r = compile(f, "[class.blast]\nterms = انفجار\n"
                             "[event.x]\nepisode_gap = 90m\nmatch = (loc.baghdad\n"
                             "    OR loc.basra)\n    AND blast\n");
    const nw_event *ev = nw_rules_find_event(r, "x");
    assert_non_null(ev);
    assert_int_equal(ev->episode_gap_s, 5400);
    assert_string_equal(ev->expression, "(loc.baghdad OR loc.basra) AND blast");
    EXPECT(r, "انفجار في البصرة", "x");
    nw_rules_free(r);
    long s;
    assert_int_equal(nw_parse_duration("72h", &s, NULL, 0), NW_OK);
    assert_int_equal(s, 72 * 3600);
    assert_int_equal(nw_parse_duration("7d", &s, NULL, 0), NW_OK);
    assert_int_equal(s, 7 * 86400);
    assert_int_equal(nw_parse_duration("30", &s, NULL, 0), NW_OK);
    assert_int_equal(s, 30);
    assert_int_equal(nw_parse_duration("-1h", &s, NULL, 0), NW_EINVAL);
    assert_int_equal(nw_parse_duration("3w", &s, NULL, 0), NW_EINVAL);
}

/* The default events on reports worded in ways the seeds never use. */
static void default_events_catch_other_wordings(void **state)
{
    fixture *f = *state;
    static const char *const bombing[] = {
        "انفجار سيارة مفخخة في منطقة الكرادة وسط بغداد يوقع ضحايا",
        "هز انفجار عنيف مدينة الصدر شرقي العاصمة بغداد مساء اليوم",
        "A suicide bomber blew himself up in a crowded market in central Baghdad on Thursday.",
        "Twin blasts rocked Tayaran Square in Baghdad, killing at least 32 people.",
        "فجر انتحاري نفسه بحزام ناسف في ساحة الطيران",
        "عبوة ناسفة تنفجر في منطقة الدورة جنوبي بغداد",
    };
    for (size_t i = 0; i < sizeof bombing / sizeof bombing[0]; i++)
        EXPECT(f->rules, bombing[i], "baghdad-bombing");
    static const char *const rockets[] = {
        "سقوط ثلاثة صواريخ كاتيوشا قرب مطار بغداد الدولي",
        "Three Katyusha rockets landed near Baghdad International Airport late on Monday.",
        "Rockets targeted the Victory base complex near Baghdad airport, the military said.",
        "منظومة سي رام تعترض صاروخا أطلق باتجاه مطار بغداد",
        "Two rockets hit BIAP, wounding a contractor.",
        "استهدفت قذائف هاون قاعدة فيكتوري في مطار بغداد",
    };
    for (size_t i = 0; i < sizeof rockets / sizeof rockets[0]; i++)
        EXPECT(f->rules, rockets[i], "baghdad-airport-rockets");
}

static void default_events_stay_quiet_elsewhere(void **state)
{
    fixture *f = *state;
    static const char *const quiet[] = {
        "تفجير انتحاري في الموصل يوقع قتلى",                    /* another city */
        "A car bomb exploded in Kabul on Sunday.",              /* another country */
        "صواريخ تستهدف مطار أربيل الدولي",                      /* another airport */
        "Rockets hit Erbil airport overnight.",                 /* another airport */
        "استأنف مطار بغداد الدولي رحلاته بعد توقف بسبب الضباب", /* airport news, no attack */
        "Baghdad International Airport opened a new terminal.", /* airport news, no attack */
        "إيران نقلت صواريخ أرض أرض إلى وكلائها في العراق",      /* missiles, no airport */
        "بغداد تستضيف مؤتمرا دوليا للاستثمار",                  /* Baghdad, no bombing */
    };
    for (size_t i = 0; i < sizeof quiet / sizeof quiet[0]; i++)
        EXPECT(f->rules, quiet[i], "");
}

static void default_events_on_the_seeds(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *name, *events;
    } seeds[] = {
        {"000_c7189a82eabcfedc", "baghdad-bombing"},
        {"001_36b4ca6c38791fab", "baghdad-bombing"},
        {"002_cf9858d6c968c6dd", "baghdad-bombing"},
        {"003_36327a287adc8b89", "baghdad-bombing"},
        {"004_6be975f03497fb3e", "baghdad-airport-rockets"},
    };
    for (size_t i = 0; i < 5; i++) {
        char path[256];
        snprintf(path, sizeof path, TU_SEEDS_DIR "/%s.txt", seeds[i].name);
        char *text = tu_read(path, NULL);
        assert_non_null(text);
        EXPECT(f->rules, text, seeds[i].events);
        free(text);
    }
}

static void the_index_skips_unrelated_documents(void **state)
{
    fixture *f = *state;
    /* 300 events over other places: a Baghdad report is checked against one. */
    size_t cap = 64 * 1024, len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text + len, cap - len, "[class.blast]\nterms = انفجار\n");
    for (int i = 0; i < 300; i++)
        len += (size_t)snprintf(text + len, cap - len,
                                "[event.e%d]\nmatch = loc.mosul AND blast AND NOT loc.basra\n", i);
    len +=
        (size_t)snprintf(text + len, cap - len, "[event.baghdad]\nmatch = loc.baghdad AND blast\n");
    nw_rules *r = compile(f, text);
    assert_int_equal(nw_rules_event_count(r), 301);
    EXPECT(r, "انفجار في بغداد", "baghdad");
    /* Only the Baghdad rule was looked at: the others' trigger is loc.mosul, not the keyword. */
    const nw_analysis *an = analyse(f, "انفجار في بغداد");
    nw_matcher *m = nw_matcher_new(r);
    const nw_match *mt;
    size_t n;
    char err[256];
    assert_int_equal(nw_matcher_run(m, an, &mt, &n, err, sizeof err), NW_OK);
    assert_int_equal(nw_matcher_candidates(m), 1);
    an = analyse(f, "انفجار في الموصل");
    assert_int_equal(nw_matcher_run(m, an, &mt, &n, err, sizeof err), NW_OK);
    assert_int_equal(nw_matcher_candidates(m), 300);
    assert_int_equal(n, 300);
    nw_matcher_free(m);
    nw_rules_free(r);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parser_errors_name_file_and_line),
        cmocka_unit_test(scopes),
        cmocka_unit_test(not_and_or_types),
        cmocka_unit_test(every_window_the_lead_and_roles),
        cmocka_unit_test(a_dense_document_gives_a_record_of_its_size),
        cmocka_unit_test(keywords_through_clitics_and_diacritics),
        cmocka_unit_test(continuation_lines_and_durations),
        cmocka_unit_test(default_events_catch_other_wordings),
        cmocka_unit_test(default_events_stay_quiet_elsewhere),
        cmocka_unit_test(default_events_on_the_seeds),
        cmocka_unit_test(the_index_skips_unrelated_documents),
    };
    return cmocka_run_group_tests_name("rules", tests, tu_world_setup, tu_world_teardown);
}
