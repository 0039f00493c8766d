/*
 * The whole text pipeline on the five seed reports and on reports written
 * for the tests, with the default gazetteer and furniture rules in config/.
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

#include "newswatch/analyze.h"
#include "testutil.h"
#include "world.h"

typedef tu_world fixture;

static const nw_analysis *run_text(fixture *f, const char *body)
{
    return tu_analyse(f, body);
}

static const nw_analysis *run_seed(fixture *f, const char *name, char **text)
{
    char path[256], err[256];
    snprintf(path, sizeof path, TU_SEEDS_DIR "/%s.txt", name);
    size_t len = 0;
    *text = tu_read(path, &len);
    assert_non_null(*text);
    nw_doc_free(f->doc);
    assert_int_equal(nw_doc_from_text(path, *text, len, &f->doc, err, sizeof err), NW_OK);
    const nw_analysis *an;
    assert_int_equal(nw_analyzer_run(f->a, f->doc, &an, err, sizeof err), NW_OK);
    return an;
}

/* The surface of a mention (static buffer). */
static const char *surface(const nw_analysis *an, const nw_mention *m)
{
    static char buf[1024];
    const nw_text *t = an->text;
    snprintf(buf, sizeof buf, "%.*s", (int)(t->display_cp[m->end] - t->display_cp[m->start]),
             t->display + t->display_cp[m->start]);
    return buf;
}

/* Does the analysis tag entity id with this surface (NULL: any surface)? */
static int has_entity(const nw_analysis *an, const char *id, const char *surf)
{
    for (size_t i = 0; i < an->nmentions; i++) {
        const nw_mention *m = &an->mentions[i];
        if (m->entity != NULL && strcmp(m->entity->id, id) == 0 &&
            (surf == NULL || strcmp(surface(an, m), surf) == 0))
            return 1;
    }
    return 0;
}

static void expect_entities(const nw_analysis *an, const char *seed, const char *const *ids)
{
    for (size_t i = 0; ids[i] != NULL; i++)
        if (!has_entity(an, ids[i], NULL))
            fail_msg("%s: %s not found", seed, ids[i]);
}

/* The entities a reader finds in each seed (read from the reports, by canonical id). */
static void seed_000_entities(void **state)
{
    fixture *f = *state;
    char *text;
    const nw_analysis *an = run_seed(f, "000_c7189a82eabcfedc", &text);
    static const char *const ids[] = {"loc.baghdad",
                                      "org.joc",
                                      "per.tahsin-al-khafaji",
                                      "org.ina",
                                      "org.isis",
                                      "loc.iraq",
                                      "per.mustafa-al-kadhimi",
                                      "fac.tayaran-square",
                                      "org.the-times",
                                      "loc.iran",
                                      "loc.europe",
                                      "loc.united-states",
                                      "loc.tehran",
                                      "per.saddam-hussein",
                                      "org.alhurra",
                                      NULL};
    expect_entities(an, "000", ids);
    /* The same place in both scripts. */
    assert_true(has_entity(an, "loc.baghdad", "Baghdad"));
    assert_true(has_entity(an, "loc.baghdad", "بغداد"));
    assert_true(has_entity(an, "per.tahsin-al-khafaji", "اللواء تحسين الخفاجي") ||
                has_entity(an, "per.tahsin-al-khafaji", "تحسين الخفاجي"));
    assert_true(has_entity(an, "per.tahsin-al-khafaji", "الخفاجي"));
    assert_true(has_entity(an, "org.ina", "واع"));
    /* "مقتل وجرح العشرات" gives no figure. */
    assert_int_equal(an->casualties.killed, -1);
    assert_int_equal(an->casualties.wounded, -1);
    /* The photo caption shown twice is furniture; its credit is gone. */
    assert_null(strstr(an->text->display, "(رويترز)"));
    assert_true(an->furniture_lines >= 2);
    free(text);
}

static void seed_001_entities(void **state)
{
    fixture *f = *state;
    char *text;
    const nw_analysis *an = run_seed(f, "001_36b4ca6c38791fab", &text);
    static const char *const ids[] = {"org.cts",
                                      "loc.iraq",
                                      "org.isis",
                                      "loc.baghdad",
                                      "loc.bab-al-muadham",
                                      "loc.anbar",
                                      "loc.amiriyat-al-fallujah",
                                      "per.mustafa-al-kadhimi",
                                      "org.ministerial-council-for-national-security",
                                      "per.jack-watling",
                                      "org.rusi",
                                      "loc.london",
                                      "org.afp",
                                      "org.global-coalition",
                                      "loc.united-states",
                                      "per.alex-mello",
                                      "per.raghad-saddam-hussein",
                                      "fac.tayaran-square",
                                      "loc.bab-al-sharqi",
                                      NULL};
    expect_entities(an, "001", ids);
    assert_true(has_entity(an, "org.isis", "Islamic State"));
    assert_true(has_entity(an, "org.isis", "داعش"));
    assert_true(has_entity(an, "loc.baghdad", "Baghdad"));
    /* Inside hashtags. */
    assert_true(has_entity(an, "fac.tayaran-square", "ساحة_الطيران"));
    /* "The death toll ... has now reached 32 people" */
    assert_int_equal(an->casualties.killed, 32);
    /* Three embedded tweets: attributions recognised, the tweets stay content. */
    assert_int_equal(an->furniture->ntweets, 3);
    assert_non_null(strstr(an->text->display, "Rest In Peace"));
    assert_null(strstr(an->text->display, "(@lindayousif997)"));
    assert_null(strstr(an->text->display, "pic.twitter.com"));
    assert_null(strstr(an->text->display, "اقرأ ايضا"));
    free(text);
}

static void seed_002_entities(void **state)
{
    fixture *f = *state;
    char *text;
    const nw_analysis *an = run_seed(f, "002_cf9858d6c968c6dd", &text);
    static const char *const ids[] = {"per.mustafa-al-kadhimi",
                                      "loc.baghdad",
                                      "org.ministerial-council-for-national-security",
                                      "loc.iraq",
                                      "org.isis",
                                      "org.ina",
                                      "org.joc",
                                      "org.iraqi-army",
                                      "per.tahsin-al-khafaji",
                                      NULL};
    expect_entities(an, "002", ids);
    assert_true(has_entity(an, "org.isis", "تنظيم الدولة"));
    /* Page furniture: share, continue-reading, sources, Close, the page date. */
    static const char *const gone[] = {"شارك القصة", "تابع القراءة",  "Close",
                                       "وكالات",     "November 2024", "(تويتر)"};
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
        if (strstr(an->text->display, gone[i]) != NULL)
            fail_msg("002 still has '%s'", gone[i]);
    /* The repeated headline stays once. */
    const char *head = "الكاظمي: تفجيرا بغداد خرق أمني لن نسمح بتكراره";
    const char *first = strstr(an->text->display, head);
    assert_non_null(first);
    assert_null(strstr(first + 1, head));
    /* The misleading page date is reported as such, not as a date in the text. */
    assert_true(an->furniture->page_date.end > an->furniture->page_date.start);
    assert_int_equal(an->dates->ndates, 0);
    free(text);
}

static void seed_003_entities(void **state)
{
    fixture *f = *state;
    char *text;
    const nw_analysis *an = run_seed(f, "003_36327a287adc8b89", &text);
    static const char *const ids[] = {"fac.tayaran-square",
                                      "loc.baghdad",
                                      "org.ministry-of-health",
                                      "loc.iraq",
                                      "org.isis",
                                      "per.mustafa-al-kadhimi",
                                      "org.twitter",
                                      "org.ministry-of-interior",
                                      "org.ina",
                                      "per.dhafer-al-shammari",
                                      "org.baghdad-operations-command",
                                      NULL};
    expect_entities(an, "003", ids);
    /* "قتل 32 مدنيا على الأقل، وأصيب أكثر من 110 أشخاص" */
    assert_int_equal(an->casualties.killed, 32);
    assert_int_equal(an->casualties.wounded, 110);
    assert_int_equal(an->casualties.killed_sentence, 0);
    /* "منذ يناير 2018" */
    assert_int_equal(an->dates->ndates, 1);
    assert_int_equal(an->dates->dates[0].year, 2018);
    assert_int_equal(an->dates->dates[0].month, 1);
    free(text);
}

static void seed_004_entities(void **state)
{
    fixture *f = *state;
    char *text;
    const nw_analysis *an = run_seed(f, "004_6be975f03497fb3e", &text);
    static const char *const ids[] = {"per.mustafa-al-kadhimi",
                                      "loc.iraq",
                                      "org.isis",
                                      "org.peshmerga",
                                      "org.ministry-of-defence",
                                      "loc.anbar",
                                      "loc.kirkuk",
                                      "loc.salah-al-din",
                                      "loc.diyala",
                                      "fac.baghdad-international-airport",
                                      NULL};
    expect_entities(an, "004", ids);
    assert_true(has_entity(an, "fac.baghdad-international-airport", "مطار بغداد"));
    /* "مقتل 18 شخصاً" */
    assert_int_equal(an->casualties.killed, 18);
    assert_null(strstr(an->text->display, "الرئيسية دولي"));
    free(text);
}

/* Every entity of every seed: text[start:end] is the surface, in code points. */
static void offsets_point_into_the_text(void **state)
{
    fixture *f = *state;
    char err[256];
    for (size_t i = 0; i < TU_NSEEDS; i++) {
        char *text;
        const nw_analysis *an = run_seed(f, tu_seed_name(i), &text);
        assert_true(an->nmentions > 5);
        char *json;
        size_t len;
        assert_int_equal(nw_analysis_to_json(an, f->doc, NULL, &json, &len, err, sizeof err),
                         NW_OK);
        json_error_t jerr;
        json_t *o = json_loadb(json, len, 0, &jerr);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "schema")),
                            "newswatch.enriched/2");
        assert_string_equal(json_string_value(json_object_get(o, "lang")), "ar");
        /* Decode the text into code points, then slice. */
        const char *t = json_string_value(json_object_get(o, "text"));
        size_t tl = json_string_length(json_object_get(o, "text"));
        size_t *cp = malloc((tl + 1) * sizeof(size_t)), ncp = 0;
        for (size_t b = 0; b < tl; b++)
            if (((unsigned char)t[b] & 0xC0) != 0x80)
                cp[ncp++] = b;
        cp[ncp] = tl;
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(o, "entities"), k, e)
        {
            size_t s = (size_t)json_integer_value(json_object_get(e, "start"));
            size_t en = (size_t)json_integer_value(json_object_get(e, "end"));
            const char *sf = json_string_value(json_object_get(e, "surface"));
            assert_true(s < en && en <= ncp);
            if (cp[en] - cp[s] != strlen(sf) || memcmp(t + cp[s], sf, strlen(sf)) != 0)
                fail_msg("%s: entity %zu: text[%zu:%zu] is not '%s'", tu_seed_name(i), k, s, en,
                         sf);
            assert_non_null(json_string_value(json_object_get(e, "type")));
            assert_non_null(json_string_value(json_object_get(e, "name")));
        }
        /* Sentences, dates, hashtags and URLs point into the text too. */
        json_array_foreach(json_object_get(o, "sentences"), k, e)
        {
            size_t s = (size_t)json_integer_value(json_object_get(e, "start"));
            size_t en = (size_t)json_integer_value(json_object_get(e, "end"));
            assert_true(s < en && en <= ncp);
        }
        json_array_foreach(json_object_get(o, "hashtags"), k, e)
        {
            size_t s = (size_t)json_integer_value(json_object_get(e, "start"));
            assert_int_equal(t[cp[s]], '#');
        }
        free(cp);
        json_decref(o);
        free(json);
        free(text);
    }
}

static void names_after_titles_are_people(void **state)
{
    fixture *f = *state;
    const nw_analysis *an =
        run_text(f, "وقال الناطق باسم وزارة الداخلية اللواء خالد المحنا، إن القوات انتشرت. "
                    "وأكد الخبير الأمني سرمد البياتي أن الهجوم كان متوقعا. "
                    "وقال المحلل فراس الياس الجبوري للصحيفة إن الوضع خطير.\n"
                    "General Ahmed Karimov said the attack was repelled, "
                    "researcher Jane Smith told reporters.");
    static const char *const want[] = {"خالد المحنا", "سرمد البياتي", "فراس الياس الجبوري",
                                       "Ahmed Karimov", "Jane Smith"};
    size_t found = 0;
    for (size_t i = 0; i < an->nmentions; i++) {
        const nw_mention *m = &an->mentions[i];
        if (m->entity != NULL)
            continue;
        assert_int_equal(m->type, NW_ENTITY_PERSON);
        assert_true(found < 5);
        assert_string_equal(surface(an, m), want[found]);
        found++;
    }
    assert_int_equal(found, 5);
    assert_true(has_entity(an, "org.ministry-of-interior", NULL));
    /* No name after a title followed by a stop word or an organisation. */
    an = run_text(f, "وقال المتحدث باسم الحكومة العراقية إن الأمن مستتب. وقال الرئيس في كلمة.");
    for (size_t i = 0; i < an->nmentions; i++)
        assert_non_null(an->mentions[i].entity);
}

static void casualty_figures(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *text;
        int killed, wounded;
    } cases[] = {
        {"مقتل 32 شخصا وإصابة 110 آخرين", 32, 110},
        {"ارتفعت حصيلة الضحايا إلى 35 قتيلا و 120 جريحا", 35, 120},
        {"أسفر الانفجار عن سقوط خمسة قتلى وعشرين جريحا", 5, 20},
        {"قتل ٣٢ مدنيا", 32, -1},
        {"The death toll rose to 32.", 32, -1},
        {"At least 32 people were killed and 110 wounded.", 32, 110},
        {"The blast killed twenty-five people and injured 40.", 25, 40},
        {"مقتل وجرح العشرات", -1, -1},
        {"منذ 18 شهرا لم يقتل أحد", -1, -1},
        {"قتل في عام 2003", -1, -1},
        {"مقتل 3 ثم ارتفعت الحصيلة إلى 7 قتلى", 7, -1}, /* the highest figure */
        {"قتل 20 شخصا و110 جرحى", 20, 110},             /* و joined to digits */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const nw_analysis *an = run_text(f, cases[i].text);
        if (an->casualties.killed != cases[i].killed || an->casualties.wounded != cases[i].wounded)
            fail_msg("'%s': killed %d wounded %d, expected %d %d", cases[i].text,
                     an->casualties.killed, an->casualties.wounded, cases[i].killed,
                     cases[i].wounded);
    }
}

static void dates_in_both_languages(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *text, *iso;
    } cases[] = {
        {"وقع الهجوم يوم الخميس 21 كانون الثاني 2021 في بغداد", "2021-01-21"},
        {"في 21 يناير 2021", "2021-01-21"},
        {"on January 21, 2021 in Baghdad", "2021-01-21"},
        {"في آذار/مارس 2020 أعلن", "2020-03"},
        {"بتاريخ 21/1/2021", "2021-01-21"},
        {"at 2021-01-21 08:00", "2021-01-21"},
        {"في 3 تشرين الأول", "--10-03"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const nw_analysis *an = run_text(f, cases[i].text);
        char iso[32] = "";
        if (an->dates->ndates > 0)
            nw_date_iso(&an->dates->dates[0], iso);
        if (an->dates->ndates != 1 || strcmp(iso, cases[i].iso) != 0)
            fail_msg("'%s': %zu dates, first '%s', expected '%s'", cases[i].text, an->dates->ndates,
                     iso, cases[i].iso);
    }
    /* A month name with no day or year is no date; "May" is a modal verb. */
    const nw_analysis *an = run_text(f, "May all the victims rest in peace. شهر أب الماضي");
    assert_int_equal(an->dates->ndates, 0);
}

/*
 * The analyzer screens its tokens against nw_dates_words, and nw_dates_find
 * then skips the words that cannot start a date; on a segmentation without
 * that screen it looks at every word. Both must find the same dates: month
 * and weekday names of every tradition, with clitics, on the seeds too.
 */
static void dates_with_and_without_the_screen(void **state)
{
    fixture *f = *state;
    static const char *const texts[] = {
        "في 1 يناير 2000، في 2 جانفي 2001، وبفبراير 2002، بشباط 2003، في 5 فيفري 2004",
        "في 6 مارس 2005، وبآذار 2006، بأبريل 2007، في 9 نيسان 2008، في 10 أفريل 2009",
        "وبمايو 2010، بأيار 2011، في 13 ماي 2012، في 14 يونيو 2013، وبيونيه 2014",
        "بحزيران 2015، في 17 جوان 2016، في 18 يوليو 2017، وبيوليه 2018، بتموز 2019",
        "في 21 جويلية 2020، في 22 أغسطس 2021، وبآب 2022، بأوت 2023، في 25 سبتمبر 2024",
        "في 26 أيلول 2025، وبأكتوبر 2026، بنوفمبر 2027، في 29 ديسمبر 2028",
        "يوم الخميس 21 كانون الثاني 2021، في 3 تشرين الأول، بكانون الأول 2019، الاثنين 1 "
        "مارس، الثلاثاء 2 مارس، الأربعاء 3 مارس، الجمعة 4 مارس، السبت 5 مارس، الأحد 6 مارس، "
        "الإثنين 7 مارس",
        "on Monday, January 21, 2021 and Feb 3 2020, March 2019, sept 4, Sunday 5 May 2018, "
        "apr 1 2017, dec 25, 2016 and 2021-01-21 or 21/1/2021 or 2021/1/21",
        "May all rest. شهر أب الماضي. باب 2020 بآب 2020 وأب 2020",
        "منذ كانون الثاني 2021 وحتى تشرين الأول 2022 ثم كانون الأول 2023",
    };
    char err[256];
    nw_segments *s = nw_segments_new();
    nw_dates plain = {0};
    size_t found = 0;
    for (size_t k = 0; k < sizeof texts / sizeof texts[0] + TU_NSEEDS; k++) {
        char *seed = NULL;
        const nw_analysis *an =
            k < sizeof texts / sizeof texts[0]
                ? run_text(f, texts[k])
                : run_seed(f, tu_seed_name(k - sizeof texts / sizeof texts[0]), &seed);
        assert_int_equal(nw_segment(an->text, s, err, sizeof err), NW_OK); /* no screen */
        assert_int_equal(nw_dates_find(an->text, s, &plain, err, sizeof err), NW_OK);
        assert_int_equal(an->dates->ndates, plain.ndates);
        if (plain.ndates > 0)
            assert_memory_equal(an->dates->dates, plain.dates, plain.ndates * sizeof(nw_date));
        found += plain.ndates;
        free(seed);
    }
    assert_true(found > 40);
    free(plain.dates);
    nw_segments_free(s);
}

static void language_per_document_and_sentence(void **state)
{
    fixture *f = *state;
    const nw_analysis *an = run_text(f, "قال الكاظمي إن بغداد آمنة.\nThe attack killed 32 people "
                                        "in Baghdad.\nBaghdad بغداد Iraq العراق");
    assert_int_equal(an->seg->nsentences, 3);
    assert_int_equal(an->sentence_lang[0], NW_LANG_AR);
    assert_int_equal(an->sentence_lang[1], NW_LANG_EN);
    assert_int_equal(an->sentence_lang[2], NW_LANG_MIXED);
    assert_int_equal(an->lang, NW_LANG_MIXED);
    an = run_text(f, "Le gouvernement irakien a annoncé une enquête sur les attentats de la "
                     "capitale.");
    assert_int_equal(an->lang, NW_LANG_OTHER);
    an = run_text(f, "12345");
    assert_int_equal(an->lang, NW_LANG_OTHER);
}

static void bad_input_is_an_error(void **state)
{
    fixture *f = *state;
    nw_doc *doc = nw_doc_new();
    /* nw_doc_set refuses invalid UTF-8, so the analyzer can only be reached with a
     * document without a body. */
    const nw_analysis *an;
    char err[256];
    assert_int_equal(nw_analyzer_run(f->a, doc, &an, err, sizeof err), NW_EINVAL);
    assert_string_equal(err, "the document has no body");
    nw_doc_free(doc);
}

/* A fresh analyzer whose first document names nothing (no arrays allocated yet). */
static void first_document_without_entities(void **state)
{
    fixture *f = *state;
    char err[256];
    nw_analyzer *a = nw_analyzer_new(f->g, f->f, NULL, 0, err, sizeof err);
    assert_non_null(a);
    nw_doc *doc = nw_doc_new();
    assert_int_equal(nw_doc_set(doc, NW_DOC_BODY, "12345", 5, err, sizeof err), NW_OK);
    const nw_analysis *an;
    assert_int_equal(nw_analyzer_run(a, doc, &an, err, sizeof err), NW_OK);
    assert_int_equal(an->nmentions, 0);
    nw_doc_free(doc);
    nw_analyzer_free(a);
}

/* The counts of an enriched record's `omitted` member. */
static json_int_t omitted(json_t *o, const char *list)
{
    return json_integer_value(json_object_get(json_object_get(o, "omitted"), list));
}

/*
 * A document naming Baghdad 7,000 times among a few other places and 1,500
 * hashtags: the record lists each entity at most 50 times and each other list
 * at most 1,000 times, counts what it leaves out, and stays proportionate to
 * the document (it listed every mention before: 1.12 MB for 77 KB).
 */
static void a_dense_document_gives_a_bounded_record(void **state)
{
    fixture *f = *state;
    size_t cap = 200000, len = 0;
    char *body = malloc(cap);
    len += (size_t)snprintf(body + len, cap - len, "انفجار في الكرادة والموصل. ");
    for (int i = 0; i < 7000; i++)
        len += (size_t)snprintf(body + len, cap - len, "بغداد ");
    for (int i = 0; i < 1500; i++)
        len += (size_t)snprintf(body + len, cap - len, "#وسم%d ", i);
    len += (size_t)snprintf(body + len, cap - len, "وفي البصرة أيضا.");
    const nw_analysis *an = tu_analyse(f, body);
    assert_true(an->nmentions > 7000);
    char *json, err[256];
    size_t jlen;
    assert_int_equal(nw_analysis_to_json(an, f->doc, NULL, &json, &jlen, err, sizeof err), NW_OK);
    json_error_t jerr;
    json_t *o = json_loadb(json, jlen, 0, &jerr);
    assert_non_null(o);
    json_t *ents = json_object_get(o, "entities");
    size_t baghdad = 0, k;
    bool basra = false, mosul = false;
    json_t *e;
    json_array_foreach(ents, k, e)
    {
        const char *id = json_string_value(json_object_get(e, "id"));
        baghdad += id != NULL && strcmp(id, "loc.baghdad") == 0;
        basra = basra || (id != NULL && strcmp(id, "loc.basra") == 0);
        mosul = mosul || (id != NULL && strcmp(id, "loc.mosul") == 0);
    }
    assert_int_equal(baghdad, NW_ENRICHED_MENTIONS_PER_ENTITY);
    assert_true(basra && mosul); /* a name after the dense run is still listed */
    assert_int_equal(omitted(o, "entities"), (json_int_t)(an->nmentions - json_array_size(ents)));
    assert_int_equal(json_array_size(json_object_get(o, "hashtags")), NW_ENRICHED_SPANS_MAX);
    assert_int_equal(omitted(o, "hashtags"), 500);
    assert_int_equal(omitted(o, "dates"), 0);
    assert_true(jlen < 3 * len);
    json_decref(o);
    free(json);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seed_000_entities),
        cmocka_unit_test(seed_001_entities),
        cmocka_unit_test(seed_002_entities),
        cmocka_unit_test(seed_003_entities),
        cmocka_unit_test(seed_004_entities),
        cmocka_unit_test(offsets_point_into_the_text),
        cmocka_unit_test(names_after_titles_are_people),
        cmocka_unit_test(casualty_figures),
        cmocka_unit_test(dates_in_both_languages),
        cmocka_unit_test(dates_with_and_without_the_screen),
        cmocka_unit_test(language_per_document_and_sentence),
        cmocka_unit_test(bad_input_is_an_error),
        cmocka_unit_test(first_document_without_entities),
        cmocka_unit_test(a_dense_document_gives_a_bounded_record),
    };
    return cmocka_run_group_tests_name("analyze", tests, tu_world_setup, tu_world_teardown);
}
