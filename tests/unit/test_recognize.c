/*
 * The rule-based recognisers (lib/recognize.c): casualty figures, one by one
 * and the document's highest, numbers in digits and words, and names after
 * titles. Each text is read both as the analyzer reads it (prepared with a
 * screen of the recognisers' words and memoised) and unprepared: the results
 * must be the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/phrases.h"
#include "newswatch/recognize.h"
#include "newswatch/segment.h"
#include "newswatch/normalize.h"
#include "../../lib/lookups.h"

typedef struct fixture {
    nw_normalizer *n;
    nw_recognizer *r;
    nw_lookups *lookups;
    nw_text *t;
    nw_segments *s;
    nw_casualty_list list;
} fixture;

static int teardown(void **state)
{
    fixture *f = *state;
    if (f == NULL)
        return 0;
    nw_casualty_list_free(&f->list);
    nw_lookups_free(f->lookups);
    nw_recognizer_free(f->r);
    nw_normalizer_free(f->n);
    nw_text_free(f->t);
    nw_segments_free(f->s);
    free(f);
    *state = NULL;
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[256] = "out of memory";
    *state = f;
    if (f == NULL || (f->n = nw_normalizer_new(err, sizeof err)) == NULL ||
        (f->r = nw_recognizer_new(f->n, err, sizeof err)) == NULL ||
        (f->t = nw_text_new()) == NULL || (f->s = nw_segments_new()) == NULL) {
        fprintf(stderr, "%s\n", err);
        teardown(state);
        return -1;
    }
    const nw_phrases *words = nw_recognizer_words(f->r);
    f->lookups = nw_lookups_new(&words, 1, err, sizeof err);
    if (f->lookups == NULL) {
        fprintf(stderr, "%s\n", err);
        teardown(state);
        return -1;
    }
    return 0;
}

/* Normalises and segments text; prepared: as the analyzer does (screen and memo). */
static void load(fixture *f, const char *text, bool prepared)
{
    char err[256];
    assert_int_equal(nw_normalize(f->n, text, strlen(text), f->t, err, sizeof err), NW_OK);
    assert_int_equal(nw_segment(f->t, f->s, err, sizeof err), NW_OK);
    if (prepared) {
        assert_int_equal(nw_lookups_prepare(f->lookups, f->t, f->s, err, sizeof err), NW_OK);
        assert_int_equal(
            nw_lookups_memo(f->lookups, nw_recognizer_words(f->r), f->t, f->s, err, sizeof err),
            NW_OK);
    }
}

/* The display text of code points [start, end) in a static buffer. */
static const char *slice(const nw_text *t, uint32_t start, uint32_t end)
{
    static char buf[1024];
    size_t a = t->display_cp[start], b = t->display_cp[end];
    snprintf(buf, sizeof buf, "%.*s", (int)(b - a), t->display + a);
    return buf;
}

/* The list as "killed 32 [32] s0; wounded 110 [و110]..." for messages. */
static const char *describe(const fixture *f)
{
    static char buf[2048];
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < f->list.n && len < sizeof buf - 200; i++) {
        const nw_casualty *c = &f->list.items[i];
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s %d [%s] s%u", i ? "; " : "",
                                c->killed ? "killed" : "wounded", c->value,
                                slice(f->t, c->start, c->end), (unsigned)c->sentence);
    }
    return buf;
}

/*
 * The figures of text, in both ways of reading it, and the document's
 * highest: nw_recognize_casualties must agree with nw_casualties_from_list.
 */
static void recognise(fixture *f, const char *text, nw_casualties *out)
{
    char err[256];
    nw_casualty_list direct = {0};
    load(f, text, false);
    assert_int_equal(nw_recognize_casualty_list(f->r, f->t, f->s, &direct, err, sizeof err), NW_OK);
    load(f, text, true);
    assert_int_equal(nw_recognize_casualty_list(f->r, f->t, f->s, &f->list, err, sizeof err),
                     NW_OK);
    bool same = direct.n == f->list.n;
    for (size_t i = 0; same && i < direct.n; i++) {
        const nw_casualty *a = &direct.items[i], *b = &f->list.items[i];
        same = a->value == b->value && a->killed == b->killed && a->sentence == b->sentence &&
               a->start == b->start && a->end == b->end;
    }
    if (!same) {
        nw_casualty_list keep = f->list;
        f->list = direct;
        char unprepared[2048];
        snprintf(unprepared, sizeof unprepared, "%s", describe(f));
        f->list = keep;
        fail_msg("'%s': prepared and unprepared readings differ: %s / %s", text, describe(f),
                 unprepared);
    }
    nw_casualty_list_free(&direct);
    nw_casualties whole;
    nw_recognize_casualties(f->r, f->t, f->s, out);
    nw_casualties_from_list(&f->list, NULL, &whole);
    if (memcmp(out, &whole, sizeof whole) != 0)
        fail_msg("'%s': nw_recognize_casualties %d/%d, from the list %d/%d", text, out->killed,
                 out->wounded, whole.killed, whole.wounded);
}

typedef struct expected {
    const char *text;
    int killed, wounded; /* the highest; -1 for none */
    size_t nfigures;
} expected;

static void expect_all(fixture *f, const expected *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        nw_casualties c;
        recognise(f, cases[i].text, &c);
        if (c.killed != cases[i].killed || c.wounded != cases[i].wounded ||
            f->list.n != cases[i].nfigures)
            fail_msg("'%s': killed %d wounded %d (%zu figures: %s), expected %d %d (%zu)",
                     cases[i].text, c.killed, c.wounded, f->list.n, describe(f), cases[i].killed,
                     cases[i].wounded, cases[i].nfigures);
    }
}

#define EXPECT_ALL(f, cases) expect_all(f, cases, sizeof cases / sizeof cases[0])

static void english_coordinations(void **state)
{
    static const expected cases[] = {
        {"One contractor was killed and three were wounded.", 1, 3, 2},
        {"The attack killed one contractor and wounded three others.", 1, 3, 2},
        {"Gunmen opened fire, killing one and wounding three.", 1, 3, 2},
        {"Two soldiers were killed and five others injured in the blast.", 2, 5, 2},
        {"At least 32 people were killed and 110 wounded.", 32, 110, 2},
        {"The blast killed twenty-five people and injured 40.", 25, 40, 2},
        {"Twin suicide bombings killed 32, wounded 110.", 32, 110, 2},
        {"32 killed, 110 injured in Baghdad blasts", 32, 110, 2},
        {"Iraq: 32 dead in twin suicide bombings", 32, -1, 1},
        /* The figure before an active verb is its subject, not its victim. */
        {"Two suicide bombers killed 32 people in a market.", 32, -1, 1},
        {"The bombers killed 32 wounded 110 others.", 32, 110, 2},
        /* After was/were, a figure after the verb is not its victim. */
        {"32 people were killed by 2 suicide bombers.", 32, -1, 1},
        {"No one was killed but three were hurt.", -1, 3, 1},
        {"The attack wounded 3 soldiers, one of whom later died.", 1, 3, 2},
    };
    EXPECT_ALL(*state, cases);
}

static void arabic_coordinations(void **state)
{
    static const expected cases[] = {
        /* A singular person noun after a verbal noun of killing is one person. */
        {"مقتل متعاقد وإصابة ثلاثة آخرين", 1, 3, 2},
        {"أسفر الهجوم عن مقتل شخص واحد", 1, -1, 1},
        {"مقتل جندي أمريكي وإصابة اثنين", 1, 2, 2},
        {"قتل مدني وأصيب أربعة آخرون", 1, 4, 2},
        {"مقتل جنديين وإصابة خمسة", 2, 5, 2},
        {"مقتل 28 شخصا وإصابة 73 آخرين", 28, 73, 2},
        {"مقتل 32 شخصا وإصابة 110 آخرين", 32, 110, 2},
        {"قتل 32 مدنيا على الأقل، وأصيب أكثر من 110 أشخاص آخرين", 32, 110, 2},
        {"قتل 32 مدنيا على الأقل وأصيب أكثر من 110", 32, 110, 2},
        {"قتل 20 شخصا و110 جرحى", 20, 110, 2},
        {"قتل ما لا يقل عن 32 شخصا", 32, -1, 1},
        {"قتل 3 فيما أصيب 5 بجروح", 3, 5, 2},
        {"وأسفر الانفجار عن 15 إصابة بين المدنيين", -1, 15, 1},
        {"سجلت 4 حالات وفاة", 4, -1, 1},
        {"لا يزال 3 مصابين في حالة حرجة", -1, 3, 1},
        /* آخر (another), أحد (one of), ثالث (a third): one person */
        {"قتل متعاقد مدني وأصيب آخر، مساء الاثنين", 1, 1, 2},
        {"أسفر عن إصابة أحد عناصر الحماية بجروح طفيفة", -1, 1, 1},
        {"أفاد مصدر بمقتل جنديين وإصابة ثالث", 2, 1, 2},
        {"مقتل أحد عشر شخصا", 11, -1, 1},
        /* A dual noun with no figure is two people. */
        {"قتيلان و9 جرحى بانفجار في الموصل", 2, 9, 2},
        {"الهجوم الذي أودى بحياة متعاقد مدني", 1, -1, 1},
        {"هجمات أودت بحياة 18 شخصا", 18, -1, 1},
    };
    EXPECT_ALL(*state, cases);
}

/*
 * The Arabic a report writes its figures in: diacritics, tatweel, alef
 * variants, bidi marks, Arabic-Indic digits, و joined to a figure; the same
 * figures as the plain spelling.
 */
static void arabic_spellings(void **state)
{
    static const expected cases[] = {
        {"مقتل 32 شخصا وإصابة 110 آخرين", 32, 110, 2},
        {"مَقْتَلُ 32 شَخْصاً وَإِصَابَةُ 110 آخَرِينَ", 32, 110, 2},
        {"مقتـــل 32 شخصا وإصابـــة 110 آخرين", 32, 110, 2},
        {"مقتل ٣٢ شخصا وإصابة ١١٠ آخرين", 32, 110, 2},
        {"مقتل ۳۲ شخصا وإصابة ۱۱۰ آخرين", 32, 110, 2},
        {"مقتل \xE2\x80\x8F"
         "32\xE2\x80\x8F شخصا واصابة 110 اخرين",
         32, 110, 2},
        {"قتل 32 وأصيب و110", 32, 110, 2},
        {"قُتِلَ 32 مدنياً وأُصيب ١١٠ آخرون", 32, 110, 2},
    };
    EXPECT_ALL(*state, cases);
}

static void tolls_and_nouns(void **state)
{
    static const expected cases[] = {
        {"أسفر عن سقوط 32 قتيلا و110 جرحى", 32, 110, 2},
        {"أسفر الانفجار عن سقوط خمسة قتلى وعشرين جريحا", 5, 20, 2},
        {"ارتفعت حصيلة ضحايا التفجير إلى 32 قتيلا", 32, -1, 1},
        {"ارتفعت حصيلة ضحايا التفجير إلى 32", 32, -1, 1},
        {"ارتفعت حصيلة الضحايا إلى 35 قتيلا و 120 جريحا", 35, 120, 2},
        {"وارتفعت حصيلة الجرحى إلى 110", -1, 110, 1},
        {"ارتفع عدد القتلى إلى 32 وعدد المصابين إلى 110", 32, 110, 2},
        {"The death toll rose to 32.", 32, -1, 1},
        {"The death toll from yesterday's twin bombings has now reached 32 people.", 32, -1, 1},
        {"The death toll from the 2 bombings rose to 32.", 32, -1, 1},
        {"مقتل 3 ثم ارتفعت الحصيلة إلى 7 قتلى", 7, -1, 2},
        {"The number of injured rose to 110.", -1, 110, 1},
        {"The bombing claimed the lives of 32 people.", 32, -1, 1},
    };
    EXPECT_ALL(*state, cases);
}

static void figures_in_words_and_digits(void **state)
{
    static const expected cases[] = {
        {"سقوط اثنين وثلاثين قتيلا", 32, -1, 1},
        {"قتل ٣٢ مدنيا", 32, -1, 1},
        {"سقوط ٣٢ قتيلا و١١٠ جرحى", 32, 110, 2},
        {"مقتل ثلاثة عشر شخصا", 13, -1, 1},
        {"مقتل اثني عشر شخصا", 12, -1, 1},
        {"إصابة مئة وعشرة أشخاص", -1, 110, 1},
        {"سقوط ثلاثمئة جريح", -1, 300, 1},
        {"The blast injured two hundred and five people.", -1, 205, 1},
        {"Four people were killed and a hundred wounded.", 4, 100, 2},
        {"Fighting killed 1,200 people.", 1200, -1, 1},
    };
    EXPECT_ALL(*state, cases);
}

static void no_casualties(void **state)
{
    static const expected cases[] = {
        {"No casualties were reported.", -1, -1, 0},
        {"No one was killed or injured in the attack.", -1, -1, 0},
        {"The rockets fell without injuring anyone.", -1, -1, 0},
        {"سقطت قذيفة دون وقوع إصابات", -1, -1, 0},
        {"لم تسفر عن إصابات", -1, -1, 0},
        {"لم يسفر الهجوم عن وقوع إصابات في صفوف 3 فرق", -1, -1, 0},
        {"مقتل وجرح العشرات", -1, -1, 0},
        {"منذ 18 شهرا لم يقتل أحد", -1, -1, 0},
        {"لم يعرف عدد القتلى حتى 5 مساء", -1, -1, 0},
    };
    EXPECT_ALL(*state, cases);
}

static void figures_that_are_no_head_counts(void **state)
{
    static const expected cases[] = {
        {"قتل في عام 2003", -1, -1, 0},
        {"He was killed in 2019.", -1, -1, 0},
        {"Militants fired 3 rockets, wounding 2 soldiers.", -1, 2, 1},
        {"سقوط صاروخين دون إصابات", -1, -1, 0},
        {"إصابة 3 صواريخ لأهدافها", -1, -1, 0},
        {"He was killed 32 kilometres north of Baghdad.", -1, -1, 0},
        {"أصيب في 21 كانون الثاني", -1, -1, 0},
        {"He was killed on 21 January in Baghdad.", -1, -1, 0},
        {"Injuries rose by 30% this year.", -1, -1, 0},
        /* With the article, اثنين is Monday. */
        {"وأصيب آخرون مساء الاثنين", -1, -1, 0},
        {"ارتفعت الحصيلة مساء امس الاثنين، الى مقتل متعاقد", 1, -1, 1},
        {"قتل قبل 3 أيام", -1, -1, 0},
        {"killed in 2 attacks", -1, -1, 0},
        /* A verb takes the first head count after it. */
        {"The explosion killed 3 in 2 separate attacks.", 3, -1, 1},
    };
    EXPECT_ALL(*state, cases);
}

/* Figures in text order, with their code points (a joined و excluded) and sentences. */
static void figures_in_text_order(void **state)
{
    fixture *f = *state;
    nw_casualties c;
    recognise(f, "قتل 20 شخصا و110 جرحى، وأصيب خمسة وعشرون آخرون", &c);
    assert_int_equal(f->list.n, 3);
    assert_int_equal(f->list.items[0].value, 20);
    assert_true(f->list.items[0].killed);
    assert_string_equal(slice(f->t, f->list.items[0].start, f->list.items[0].end), "20");
    assert_int_equal(f->list.items[1].value, 110);
    assert_false(f->list.items[1].killed);
    assert_string_equal(slice(f->t, f->list.items[1].start, f->list.items[1].end), "110");
    assert_int_equal(f->list.items[2].value, 25);
    assert_false(f->list.items[2].killed);
    assert_string_equal(slice(f->t, f->list.items[2].start, f->list.items[2].end), "خمسة وعشرون");
    for (size_t i = 0; i < f->list.n; i++)
        assert_int_equal(f->list.items[i].sentence, 0);

    recognise(f, "مقتل متعاقد وإصابة ثلاثة", &c);
    assert_int_equal(f->list.n, 2);
    assert_string_equal(slice(f->t, f->list.items[0].start, f->list.items[0].end), "متعاقد");
    assert_string_equal(slice(f->t, f->list.items[1].start, f->list.items[1].end), "ثلاثة");

    /* An earlier toll, its update, and the wounded. */
    recognise(f, "مقتل 3 ثم ارتفعت الحصيلة إلى 7 قتلى وإصابة 12", &c);
    assert_int_equal(f->list.n, 3);
    assert_int_equal(f->list.items[0].value, 3);
    assert_int_equal(f->list.items[1].value, 7);
    assert_int_equal(f->list.items[2].value, 12);
    assert_false(f->list.items[2].killed);
    assert_int_equal(c.killed, 7);
    assert_int_equal(c.wounded, 12);
}

/* Two attacks in two sentences: each sentence's figures, and a mask that selects one. */
static void figures_per_sentence(void **state)
{
    fixture *f = *state;
    static const char *const texts[] = {
        "Two rockets hit Baghdad airport on Monday, wounding three contractors. In Mosul, a car "
        "bomb killed 12 people and wounded 40.",
        "سقط صاروخان على مطار بغداد مما أدى إلى إصابة شخصين.\nوفي الموصل قتل 12 شخصا وأصيب 40 "
        "آخرون بانفجار سيارة مفخخة.",
    };
    for (size_t k = 0; k < 2; k++) {
        nw_casualties c;
        recognise(f, texts[k], &c);
        if (f->list.n != 3)
            fail_msg("'%s': %s", texts[k], describe(f));
        int first = k == 0 ? 3 : 2;
        assert_int_equal(f->list.items[0].value, first);
        assert_false(f->list.items[0].killed);
        assert_int_equal(f->list.items[0].sentence, 0);
        assert_int_equal(f->list.items[1].value, 12);
        assert_true(f->list.items[1].killed);
        assert_int_equal(f->list.items[1].sentence, 1);
        assert_int_equal(f->list.items[2].value, 40);
        assert_false(f->list.items[2].killed);
        assert_int_equal(f->list.items[2].sentence, 1);
        /* The whole document: the highest of each kind. */
        assert_int_equal(c.killed, 12);
        assert_int_equal(c.wounded, 40);
        assert_int_equal(c.killed_sentence, 1);
        assert_int_equal(c.wounded_sentence, 1);
        /* The airport sentence only. */
        uint8_t airport[2] = {1, 0}, mosul[2] = {0, 1}, none[2] = {0, 0};
        nw_casualties_from_list(&f->list, airport, &c);
        assert_int_equal(c.killed, -1);
        assert_int_equal(c.wounded, first);
        assert_int_equal(c.wounded_sentence, 0);
        nw_casualties_from_list(&f->list, mosul, &c);
        assert_int_equal(c.killed, 12);
        assert_int_equal(c.wounded, 40);
        nw_casualties_from_list(&f->list, none, &c);
        assert_int_equal(c.killed, -1);
        assert_int_equal(c.wounded, -1);
    }
}

/* The highest figure's sentence is the first that gives it. */
static void highest_figure_first_place(void **state)
{
    fixture *f = *state;
    nw_casualties c;
    recognise(f, "Bombing kills 7.\nA second blast killed 32 people.\nThe toll stands at 32.", &c);
    assert_int_equal(f->list.n, 3);
    assert_int_equal(c.killed, 32);
    assert_int_equal(c.killed_sentence, 1);
    assert_int_equal(c.wounded, -1);
}

/* A list is reused across documents, and an empty text empties it. */
static void list_reuse(void **state)
{
    fixture *f = *state;
    nw_casualties c;
    recognise(f, "مقتل 28 شخصا وإصابة 73 آخرين", &c);
    assert_int_equal(f->list.n, 2);
    nw_casualty *items = f->list.items;
    recognise(f, "قتل 5", &c);
    assert_int_equal(f->list.n, 1);
    assert_ptr_equal(f->list.items, items);
    recognise(f, "", &c);
    assert_int_equal(f->list.n, 0);
    assert_int_equal(c.killed, -1);
    assert_int_equal(c.wounded, -1);
    nw_casualty_list_free(&f->list);
    assert_null(f->list.items);
    assert_int_equal(f->list.cap, 0);
    nw_casualty_list_free(NULL);
    /* Many figures: the list grows. */
    char text[8192];
    size_t len = 0;
    for (int i = 1; i <= 100; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "Blast %d killed %d people. ", i,
                                i + 10);
    recognise(f, text, &c);
    assert_int_equal(f->list.n, 100);
    assert_int_equal(c.killed, 110);
    assert_int_equal(c.killed_sentence, 99);
    for (size_t i = 1; i < f->list.n; i++)
        assert_true(f->list.items[i - 1].end <= f->list.items[i].start);
}

/* The number at the first token of text, and the tokens it spans. */
static int number_at(fixture *f, const char *text, size_t *ntokens)
{
    load(f, text, true);
    return nw_recognize_number(f->r, f->t, f->s, 0, ntokens);
}

static void numbers(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *text;
        int value;
        size_t ntokens;
    } cases[] = {
        {"32 people", 32, 1},        {"1,000 people", 1000, 1},
        {"٣٢ شخصا", 32, 1},          {"و110 جرحى", 110, 1},
        {"3.5 km", -1, 0},           {"five", 5, 1},
        {"Twenty-five", 25, 2},      {"twenty people", 20, 1},
        {"one hundred", 100, 2},     {"two hundred and five", 205, 4},
        {"hundred and ten", 110, 3}, {"خمسة", 5, 1},
        {"خمسة وعشرين", 25, 2},      {"اثنين وثلاثين قتيلا", 32, 2},
        {"ثلاثة عشر شخصا", 13, 2},   {"اثنا عشر", 12, 2},
        {"إحدى عشرة", 11, 2},        {"مئة", 100, 1},
        {"مائة وعشرة", 110, 2},      {"مئة وخمسة وعشرين", 125, 3},
        {"ثلاث مئة", 300, 2},        {"ثلاثمئة وعشرون", 320, 2},
        {"مئتين", 200, 1},           {"وثلاثة", 3, 1},
        {"الاثنين", -1, 0},          {"اثنين", 2, 1},
        {"العشرات", -1, 0},          {"people", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = 99;
        int v = number_at(f, cases[i].text, &n);
        if (v != cases[i].value || n != cases[i].ntokens)
            fail_msg("'%s': %d over %zu tokens, expected %d over %zu", cases[i].text, v, n,
                     cases[i].value, cases[i].ntokens);
    }
    /* Past the last token. */
    size_t n = 99;
    load(f, "five", true);
    assert_int_equal(nw_recognize_number(f->r, f->t, f->s, 5, &n), -1);
    assert_int_equal(n, 0);
}

/* Names after titles: their surfaces joined by '|'. */
typedef struct names {
    const nw_text *t;
    const nw_segments *s;
    char buf[512];
} names;

static int on_name(void *ctx, size_t first, size_t n)
{
    names *c = ctx;
    size_t len = strlen(c->buf);
    snprintf(c->buf + len, sizeof c->buf - len, "%s%s", len ? "|" : "",
             slice(c->t, c->s->tokens[first].start, c->s->tokens[first + n - 1].end));
    return 0;
}

static const char *titled_names(fixture *f, const char *text, const uint8_t *covered)
{
    static names c;
    static uint8_t none[256];
    load(f, text, true);
    assert_true(f->s->ntokens <= sizeof none);
    c.t = f->t;
    c.s = f->s;
    c.buf[0] = '\0';
    assert_int_equal(
        nw_recognize_titled_names(f->r, f->t, f->s, covered ? covered : none, on_name, &c), 0);
    return c.buf;
}

static void names_after_titles(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *text, *names;
    } cases[] = {
        {"وقال اللواء تحسين الخفاجي إن القوات الأمنية", "تحسين الخفاجي"},
        {"وقال رئيس الوزراء مصطفى الكاظمي في بيان", "مصطفى الكاظمي"},
        /* A third word with the article is the family name. */
        {"أعلن رئيس الوزراء مصطفى الكاظمي الحداد", "مصطفى الكاظمي الحداد"},
        {"وقال الخبير الأمني فاضل أبو رغيف", "فاضل أبو"},
        {"قال المتحدث باسم الحكومة إن", ""},
        {"The military spokesman Yahya Rasool said", "Yahya Rasool"},
        {"said Major General Tahsin Khafaji on Thursday", "Tahsin Khafaji"},
        /* al- is lower case: the name stops before it. */
        {"said Major General Tahsin al-Khafaji on Thursday", "Tahsin"},
        {"a spokesman for the ministry said", ""},
        {"the spokesman said", ""},
        {"قال الرئيس في كلمة", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = titled_names(f, cases[i].text, NULL);
        if (strcmp(got, cases[i].names) != 0)
            fail_msg("'%s': '%s', expected '%s'", cases[i].text, got, cases[i].names);
    }
    /* A token of a gazetteer entity is never a new name. */
    uint8_t covered[16] = {0};
    load(f, "وقال اللواء تحسين الخفاجي", true);
    covered[2] = 1;
    assert_string_equal(titled_names(f, "وقال اللواء تحسين الخفاجي", covered), "");
}

/* found() returning non-zero stops the search. */
static int stop_at_first(void *ctx, size_t first, size_t n)
{
    (void)n;
    *(size_t *)ctx = first;
    return 1;
}

static void names_stop_when_asked(void **state)
{
    fixture *f = *state;
    uint8_t covered[32] = {0};
    size_t first = 0;
    load(f, "قال اللواء تحسين الخفاجي والعميد يحيى رسول", true);
    assert_int_equal(nw_recognize_titled_names(f->r, f->t, f->s, covered, stop_at_first, &first),
                     1);
    assert_int_equal(first, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(english_coordinations),
        cmocka_unit_test(arabic_coordinations),
        cmocka_unit_test(arabic_spellings),
        cmocka_unit_test(tolls_and_nouns),
        cmocka_unit_test(figures_in_words_and_digits),
        cmocka_unit_test(no_casualties),
        cmocka_unit_test(figures_that_are_no_head_counts),
        cmocka_unit_test(figures_in_text_order),
        cmocka_unit_test(figures_per_sentence),
        cmocka_unit_test(highest_figure_first_place),
        cmocka_unit_test(list_reuse),
        cmocka_unit_test(numbers),
        cmocka_unit_test(names_after_titles),
        cmocka_unit_test(names_stop_when_asked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
