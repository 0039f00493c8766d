/*
 * Days: the civil calendar both ways, local days at an offset from UTC,
 * YYYY-MM-DD, and the days Arabic and English news texts state (absolute
 * dates and relative words) resolved against a reference day.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "newswatch/when.h"
#include "testutil.h"
#include "world.h"

typedef tu_world fixture;

#define HOUR 3600
#define DAY  86400

static int64_t day_of(const char *ymd)
{
    int64_t d;
    char err[128];
    if (nw_day_parse(ymd, &d, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    return d;
}

static void civil_days_both_ways(void **state)
{
    (void)state;
    static const struct {
        int y, m, d;
        int64_t day;
    } known[] = {{1970, 1, 1, 0},        {1969, 12, 31, -1},     {2021, 1, 21, 18648},
                 {2000, 2, 29, 11016},   {2000, 3, 1, 11017},    {1900, 3, 1, -25508},
                 {1600, 2, 29, -135081}, {1, 1, 1, -719162},     {0, 3, 1, -719468},
                 {-1, 12, 31, -719529},  {9999, 12, 31, 2932896}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        int64_t day = nw_day_from_civil(known[i].y, known[i].m, known[i].d);
        if (day != known[i].day)
            fail_msg("%d-%d-%d: %lld, expected %lld", known[i].y, known[i].m, known[i].d,
                     (long long)day, (long long)known[i].day);
    }
    /* Every day of 5,000 years either side of 1970 goes there and back, one after another. */
    int py, pm, pd;
    nw_day_to_civil(-1826214, &py, &pm, &pd);
    for (int64_t day = -1826213; day <= 1826213; day++) {
        int y, m, d;
        nw_day_to_civil(day, &y, &m, &d);
        if (nw_day_from_civil(y, m, d) != day)
            fail_msg("day %lld: %d-%d-%d does not come back", (long long)day, y, m, d);
        bool next_day = y == py && m == pm && d == pd + 1;
        bool next_month = y == py && m == pm + 1 && d == 1;
        bool next_year = y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31;
        if (!next_day && !next_month && !next_year)
            fail_msg("day %lld: %d-%d-%d follows %d-%d-%d", (long long)day, y, m, d, py, pm, pd);
        py = y, pm = m, pd = d;
    }
    /* Leap years: 29 February in 2000, 2024 and 1600, not in 1900, 2100 or 2023. */
    static const int leap[] = {2000, 2024, 1600, 2020, -4};
    static const int common[] = {1900, 2100, 2023, 2021, -1};
    for (size_t i = 0; i < 5; i++) {
        int y, m, d;
        nw_day_to_civil(nw_day_from_civil(leap[i], 3, 1) - 1, &y, &m, &d);
        assert_int_equal(d, 29);
        nw_day_to_civil(nw_day_from_civil(common[i], 3, 1) - 1, &y, &m, &d);
        assert_int_equal(d, 28);
    }
}

static void the_local_day_of_a_time(void **state)
{
    (void)state;
    const int baghdad = 3 * HOUR;
    const int64_t d21 = day_of("2021-01-21");
    const int64_t t0 = 1611216000; /* 2021-01-21T08:00:00Z */
    assert_int_equal(nw_day_of_time(t0, baghdad), d21);
    /* 22:30Z is half past one on the next day in Baghdad. */
    assert_int_equal(nw_day_of_time(t0 + 14 * HOUR + 1800, baghdad), d21 + 1);
    assert_int_equal(nw_day_of_time(t0 + 14 * HOUR + 1800, 0), d21);
    /* The day changes at 21:00Z. */
    assert_int_equal(nw_day_of_time(t0 + 13 * HOUR - 1, baghdad), d21);
    assert_int_equal(nw_day_of_time(t0 + 13 * HOUR, baghdad), d21 + 1);
    /* West of Greenwich: 02:00Z is still the day before in New York. */
    assert_int_equal(nw_day_of_time(t0 - 6 * HOUR, -5 * HOUR), d21 - 1);
    /* Before 1970. */
    assert_int_equal(nw_day_of_time(0, 0), 0);
    assert_int_equal(nw_day_of_time(-1, 0), -1);
    assert_int_equal(nw_day_of_time(-DAY, 0), -1);
    assert_int_equal(nw_day_of_time(-DAY - 1, 0), -2);
    assert_int_equal(nw_day_of_time(-2 * HOUR, baghdad), 0);
    assert_int_equal(nw_day_of_time(-4 * HOUR, baghdad), -1);
}

static void days_as_text(void **state)
{
    (void)state;
    char out[11];
    nw_day_format(day_of("2021-01-21"), out);
    assert_string_equal(out, "2021-01-21");
    nw_day_format(day_of("2024-02-29"), out);
    assert_string_equal(out, "2024-02-29");
    nw_day_format(-1, out);
    assert_string_equal(out, "1969-12-31");
    assert_int_equal(day_of("1970-01-01"), 0);
    assert_int_equal(day_of("0001-01-01"), -719162);
    assert_int_equal(day_of("9999-12-31"), 2932896);

    static const char *const bad[] = {
        "",           "2021-02-29", "2100-02-29",  "2021-13-01",  "2021-00-10",
        "2021-01-00", "2021-01-32", "2021-04-31",  "2021-1-21",   "2021-01-2",
        "21-01-2021", "2021/01/21", "2021-01-21x", "2021-01-21 ", " 2021-01-21",
        "0000-01-01", "yesterday",  "2021-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t d = 42;
        char err[128] = "";
        if (nw_day_parse(bad[i], &d, err, sizeof err) != NW_EINVAL)
            fail_msg("accepted '%s' as day %lld", bad[i], (long long)d);
        assert_int_equal(d, 42);
        assert_non_null(strstr(err, "not a date"));
    }
}

/* A sign or a space inside a field is not YYYY-MM-DD either. */
static void days_with_signs_or_spaces_in_a_field_are_rejected(void **state)
{
    (void)state;
    static const char *const bad[] = {"2021-+1-21", "2021- 1-21", "2021-01-+1",
                                      "2021-01- 1", "+021-01-21", " 021-01-21"};
    int accepted = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t d = 42;
        if (nw_day_parse(bad[i], &d, NULL, 0) != NW_EINVAL) {
            char back[11];
            nw_day_format(d, back);
            print_error("accepted '%s' as %s\n", bad[i], back);
            accepted++;
        }
    }
    if (accepted > 0)
        fail_msg("%d of %zu accepted", accepted, sizeof bad / sizeof bad[0]);
}

/*
 * The days text states, resolved against the reference day ref: in text
 * order, "YYYY-MM-DD" for a day, "YYYY-MM" for a month, "YYYY" for a year,
 * comma-separated (a static buffer).
 */
static const char *stated_days(fixture *f, const char *text, const char *ref)
{
    static char buf[512];
    char err[128];
    const nw_analysis *an = tu_analyse(f, text);
    nw_when_list l = {0};
    assert_int_equal(nw_when_find(an->text, an->seg, an->dates, day_of(ref), &l, err, sizeof err),
                     NW_OK);
    buf[0] = '\0';
    for (size_t i = 0; i < l.n; i++) {
        const nw_when *w = &l.items[i];
        size_t n = strlen(buf);
        const char *sep = i > 0 ? "," : "";
        /* The day is the first day of what the fields say. */
        int64_t first =
            nw_day_from_civil(w->year, w->month > 0 ? w->month : 1, w->mday > 0 ? w->mday : 1);
        if (w->day != first)
            fail_msg("'%s': day %lld is not %d-%d-%d", text, (long long)w->day, w->year, w->month,
                     w->mday);
        if (w->precision == NW_WHEN_DAY)
            snprintf(buf + n, sizeof buf - n, "%s%04d-%02d-%02d", sep, w->year, w->month, w->mday);
        else if (w->precision == NW_WHEN_MONTH)
            snprintf(buf + n, sizeof buf - n, "%s%04d-%02d", sep, w->year, w->month);
        else
            snprintf(buf + n, sizeof buf - n, "%s%04d", sep, w->year);
    }
    nw_when_list_free(&l);
    return buf;
}

#define EXPECT_DAYS(f, ref, text, want)                                                            \
    do {                                                                                           \
        const char *got_ = stated_days(f, text, ref);                                              \
        if (strcmp(got_, want) != 0)                                                               \
            fail_msg("'%s' on %s: '%s', expected '%s'", text, ref, got_, want);                    \
    } while (0)

/* The reference is Thursday 21 January 2021 unless said otherwise. */
#define THU "2021-01-21"

static void relative_days_in_arabic(void **state)
{
    fixture *f = *state;
    EXPECT_DAYS(f, THU, "انفجرت سيارة مفخخة اليوم في بغداد", "2021-01-21");
    EXPECT_DAYS(f, THU, "انفجرت سيارة مفخخة أمس في بغداد", "2021-01-20");
    EXPECT_DAYS(f, THU, "سقطت قذائف هاون أمس الأول على المنطقة الخضراء", "2021-01-19");
    EXPECT_DAYS(f, THU, "سقطت قذائف هاون أول أمس على المنطقة الخضراء", "2021-01-19");
    EXPECT_DAYS(f, THU, "هز انفجار عنيف العاصمة البارحة", "2021-01-20");
    EXPECT_DAYS(f, THU, "استهدف صاروخان مطار بغداد الليلة الماضية", "2021-01-20");
    /* A weekday: the latest such day on or before the reference. */
    EXPECT_DAYS(f, THU, "سقطت صواريخ على مطار بغداد ليل الأحد", "2021-01-17");
    EXPECT_DAYS(f, THU, "وقع الانفجار صباح الخميس", "2021-01-21");
    EXPECT_DAYS(f, "2021-01-24", "سقطت صواريخ على مطار بغداد ليل الأحد", "2021-01-24");
    EXPECT_DAYS(f, "2021-01-25", "سقطت صواريخ على مطار بغداد ليل الأحد", "2021-01-24");
    /* A day to come is no day of an attack. */
    EXPECT_DAYS(f, THU, "تعقد اللجنة اجتماعها الأحد المقبل", "");
    EXPECT_DAYS(f, THU, "تعقد اللجنة اجتماعها يوم الأحد القادم", "");
    /* A month: the latest such month before the reference's. */
    EXPECT_DAYS(f, THU, "وقع هجوم مماثل في كانون الثاني الماضي", "2020-01");
    EXPECT_DAYS(f, THU, "وقع هجوم مماثل في تشرين الأول الماضي", "2020-10");
    EXPECT_DAYS(f, "2021-05-10", "وقع هجوم مماثل في كانون الثاني الماضي", "2021-01");
    EXPECT_DAYS(f, "2021-05-10", "وقع هجوم مماثل في أيار الماضي", "2020-05");
    /* A year. */
    EXPECT_DAYS(f, THU, "تراجعت الهجمات خلال العام الماضي", "2020");
    EXPECT_DAYS(f, THU, "تراجعت الهجمات خلال السنة الماضية", "2020");
    /* In text order. */
    EXPECT_DAYS(f, THU, "انفجرت عبوة أمس. وسقط صاروخ اليوم", "2021-01-20,2021-01-21");
}

static void relative_days_in_english(void **state)
{
    fixture *f = *state;
    EXPECT_DAYS(f, THU, "A car bomb exploded in Baghdad today.", "2021-01-21");
    EXPECT_DAYS(f, THU, "Rockets hit Baghdad airport yesterday.", "2021-01-20");
    EXPECT_DAYS(f, THU, "Rockets hit Baghdad airport last night.", "2021-01-20");
    EXPECT_DAYS(f, THU, "Rockets hit Baghdad airport on Sunday.", "2021-01-17");
    EXPECT_DAYS(f, THU, "The talks resume next Sunday.", "");
    EXPECT_DAYS(f, THU, "A similar attack took place last January.", "2020-01");
    EXPECT_DAYS(f, THU, "Attacks fell last year.", "2020");
}

static void written_dates(void **state)
{
    fixture *f = *state;
    EXPECT_DAYS(f, THU, "قتل 32 شخصا في 21 كانون الثاني 2021 ببغداد", "2021-01-21");
    EXPECT_DAYS(f, "2023-06-01", "قتل 32 شخصا في 21 كانون الثاني 2021 ببغداد", "2021-01-21");
    EXPECT_DAYS(f, THU, "The attack of January 21, 2021 killed 32 people.", "2021-01-21");
    EXPECT_DAYS(f, THU, "وقع التفجير بتاريخ 21/1/2021 في ساحة الطيران", "2021-01-21");
    EXPECT_DAYS(f, THU, "وقع التفجير في 21 يناير 2021", "2021-01-21");
    /* A weekday with its date is one date. */
    EXPECT_DAYS(f, THU, "وقع التفجير الخميس 21 كانون الثاني 2021", "2021-01-21");
    /* An ordinal day. */
    EXPECT_DAYS(f, THU, "وقع التفجير في الحادي والعشرين من كانون الثاني 2021", "2021-01-21");
    /* Without a year: the latest such day on or before the reference. */
    EXPECT_DAYS(f, THU, "وقع التفجير في 20 كانون الثاني", "2021-01-20");
    EXPECT_DAYS(f, THU, "وقع التفجير في 21 كانون الثاني", "2021-01-21");
    EXPECT_DAYS(f, THU, "وقع التفجير في 25 كانون الثاني", "2020-01-25");
    EXPECT_DAYS(f, THU, "وقع التفجير في 3 آذار", "2020-03-03");
    /* A month and year. */
    EXPECT_DAYS(f, THU, "تراجعت الهجمات منذ كانون الثاني 2018", "2018-01");
    /* Days that do not exist. */
    EXPECT_DAYS(f, THU, "وقع التفجير في 31 شباط 2021", "");
    EXPECT_DAYS(f, THU, "وقع التفجير في 29 شباط 2021", "");
    EXPECT_DAYS(f, THU, "وقع التفجير في 29 شباط 2020", "2020-02-29");
    EXPECT_DAYS(f, THU, "وقع التفجير في 31/4/2020", "");
}

/* Does text state want on ref? Prints the difference when not. */
static bool states(fixture *f, const char *ref, const char *text, const char *want)
{
    const char *got = stated_days(f, text, ref);
    if (strcmp(got, want) == 0)
        return true;
    print_error("'%s' on %s: '%s', expected '%s'\n", text, ref, got, want);
    return false;
}

/* Years from 1900 to 2100 (NW_WHEN_YEAR_MIN..MAX) are dates; a date with a year outside
 * them is no date at all. */
static void years_outside_1900_to_2100_are_no_dates(void **state)
{
    fixture *f = *state;
    int bad = 0;
    bad += !states(f, THU, "تأسست المدينة في 21 كانون الثاني 1900", "1900-01-21");
    bad += !states(f, THU, "تأسست المدينة في الحادي والعشرين من كانون الثاني 1899", "");
    bad += !states(f, THU, "تأسست المدينة في 21 كانون الثاني 1899", "");
    bad += !states(f, THU, "The city was founded on January 21, 1899.", "");
    bad += !states(f, THU, "ينتهي العقد في 21 كانون الثاني 2100", "2100-01-21");
    bad += !states(f, THU, "ينتهي العقد في الحادي والعشرين من كانون الثاني 2100", "2100-01-21");
    bad += !states(f, THU, "ينتهي العقد في 21 كانون الثاني 2101", "");
    if (bad > 0)
        fail_msg("%d of 7 wrong", bad);
}

/* و and ف before a word, diacritics and tatweel change nothing. */
static void clitics_diacritics_and_tatweel(void **state)
{
    fixture *f = *state;
    EXPECT_DAYS(f, THU, "قتل خمسة أشخاص وأمس أصيب آخرون", "2021-01-20");
    EXPECT_DAYS(f, THU, "وقع الانفجار بالأمس قرب السوق", "2021-01-20");
    EXPECT_DAYS(f, THU, "سقطت صواريخ ليل السبت والأحد", "2021-01-16,2021-01-17");
    EXPECT_DAYS(f, THU, "فاليوم عادت الحياة إلى طبيعتها", "2021-01-21");
    EXPECT_DAYS(f, THU, "انفجرت عبوة أمسِ في بغداد", "2021-01-20");
    EXPECT_DAYS(f, THU, "انفجرت عبوة يوم الأَحَد في بغداد", "2021-01-17");
    EXPECT_DAYS(f, THU, "انفجرت عبوة يوم الأحـــد في بغداد", "2021-01-17");
    EXPECT_DAYS(f, THU, "انفجرت عبوة البـــارحة في بغداد", "2021-01-20");
    EXPECT_DAYS(f, THU, "انفجرت عبوة اليَوْمَ في بغداد", "2021-01-21");
    /* A word that merely contains one is not one. */
    EXPECT_DAYS(f, THU, "قال المسؤول إن الأمسية الثقافية ألغيت", "");
}

/* Where each date is stated: its sentence and its tokens. */
static void where_a_date_is_stated(void **state)
{
    fixture *f = *state;
    char err[128];
    const nw_analysis *an =
        tu_analyse(f, "سقطت صواريخ على المطار. وقال مسؤول إن الهجوم وقع أمس الأول، في 19 "
                      "كانون الثاني 2021.");
    nw_when_list l = {0};
    assert_int_equal(nw_when_find(an->text, an->seg, an->dates, day_of(THU), &l, err, sizeof err),
                     NW_OK);
    assert_int_equal(l.n, 2);
    const nw_when *rel = &l.items[0], *abs = &l.items[1];
    assert_true(rel->relative);
    assert_int_equal(rel->precision, NW_WHEN_DAY);
    assert_int_equal(rel->day, day_of("2021-01-19"));
    assert_int_equal(rel->sentence, 1);
    assert_int_equal(rel->ntokens, 2);
    const nw_token *tok = &an->seg->tokens[rel->token];
    const nw_text *t = an->text;
    assert_int_equal(t->display_cp[tok->end] - t->display_cp[tok->start], strlen("أمس"));
    assert_memory_equal(t->display + t->display_cp[tok->start], "أمس", strlen("أمس"));
    assert_false(abs->relative);
    assert_int_equal(abs->sentence, 1);
    assert_int_equal(abs->day, day_of("2021-01-19"));
    assert_int_equal(abs->ntokens, 4);
    assert_true(abs->token > rel->token);

    /* The list is reused: a second text replaces what it held. */
    an = tu_analyse(f, "لا تاريخ في هذا الخبر");
    assert_int_equal(nw_when_find(an->text, an->seg, an->dates, day_of(THU), &l, err, sizeof err),
                     NW_OK);
    assert_int_equal(l.n, 0);
    nw_when_list_free(&l);
    assert_null(l.items);
    assert_int_equal(l.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(civil_days_both_ways),
        cmocka_unit_test(the_local_day_of_a_time),
        cmocka_unit_test(days_as_text),
        cmocka_unit_test(days_with_signs_or_spaces_in_a_field_are_rejected),
        cmocka_unit_test(relative_days_in_arabic),
        cmocka_unit_test(relative_days_in_english),
        cmocka_unit_test(written_dates),
        cmocka_unit_test(years_outside_1900_to_2100_are_no_dates),
        cmocka_unit_test(clitics_diacritics_and_tatweel),
        cmocka_unit_test(where_a_date_is_stated),
    };
    return cmocka_run_group_tests_name("when", tests, tu_world_setup, tu_world_teardown);
}
