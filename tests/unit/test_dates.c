/*
 * Dates (lib/dates.c) on their own: the month and weekday names of every
 * tradition as news writes them (diacritics, tatweel, alef and teh marbuta
 * variants, bidi marks, Arabic-Indic digits), the clitics a month may carry
 * (و ب) and those it may not, two-word months, numeric dates, and the names
 * looked up from bytes. Each text is read both unprepared and prepared with
 * a screen of nw_dates_words (lib/lookups.h, as the analyzer does): the
 * dates must be the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/dates.h"
#include "newswatch/normalize.h"
#include "newswatch/segment.h"
#include "../../lib/lookups.h"

typedef struct fixture {
    nw_normalizer *n;
    nw_lookups *lookups;
    nw_text *t;
    nw_segments *s;
    nw_dates plain, prepared;
} fixture;

static int teardown(void **state)
{
    fixture *f = *state;
    if (f == NULL)
        return 0;
    free(f->plain.dates);
    free(f->prepared.dates);
    nw_lookups_free(f->lookups);
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
    const nw_phrases *words = nw_dates_words();
    if (f == NULL || words == NULL || (f->n = nw_normalizer_new(err, sizeof err)) == NULL ||
        (f->t = nw_text_new()) == NULL || (f->s = nw_segments_new()) == NULL ||
        (f->lookups = nw_lookups_new(&words, 1, err, sizeof err)) == NULL) {
        fprintf(stderr, "%s\n", err);
        teardown(state);
        return -1;
    }
    return 0;
}

/* The dates of text as "2021-01-21 [text]; ...", both ways (which must agree). */
static const char *dates_of(fixture *f, const char *text)
{
    static char buf[2048];
    char err[256];
    assert_int_equal(nw_normalize(f->n, text, strlen(text), f->t, err, sizeof err), NW_OK);
    assert_int_equal(nw_segment(f->t, f->s, err, sizeof err), NW_OK);
    assert_int_equal(nw_dates_find(f->t, f->s, &f->plain, err, sizeof err), NW_OK);
    assert_int_equal(nw_lookups_prepare(f->lookups, f->t, f->s, err, sizeof err), NW_OK);
    assert_int_equal(nw_dates_find(f->t, f->s, &f->prepared, err, sizeof err), NW_OK);
    assert_int_equal(f->plain.ndates, f->prepared.ndates);
    if (f->plain.ndates > 0)
        assert_memory_equal(f->plain.dates, f->prepared.dates, f->plain.ndates * sizeof(nw_date));
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < f->plain.ndates && len < sizeof buf - 300; i++) {
        const nw_date *d = &f->plain.dates[i];
        char iso[32];
        nw_date_iso(d, iso);
        size_t a = f->t->display_cp[d->start], b = f->t->display_cp[d->end];
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s [%.*s]", i ? "; " : "", iso,
                                (int)(b - a), f->t->display + a);
    }
    return buf;
}

static void expect(fixture *f, const char *text, const char *want)
{
    const char *got = dates_of(f, text);
    if (strcmp(got, want) != 0)
        fail_msg("'%s': got '%s', want '%s'", text, got, want);
}

/* The months of the Egyptian, Levantine and Iraqi, and Maghrebi traditions, and English. */
static void months_of_every_tradition(void **state)
{
    fixture *f = *state;
    expect(f, "في 21 يناير 2021", "2021-01-21 [21 يناير 2021]");
    expect(f, "في 21 كانون الثاني 2021", "2021-01-21 [21 كانون الثاني 2021]");
    expect(f, "في 21 جانفي 2021", "2021-01-21 [21 جانفي 2021]");
    expect(f, "on January 21, 2021", "2021-01-21 [January 21, 2021]");
    expect(f, "في 3 تشرين الأول", "--10-03 [3 تشرين الأول]");
    expect(f, "في كانون الأول 2019", "2019-12 [كانون الأول 2019]");
    expect(f, "sept 4 and dec 25, 2016", "--09-04 [sept 4]; 2016-12-25 [dec 25, 2016]");
    /* A month name counts only next to a day or a year. */
    expect(f, "شهر آب الماضي", "");
    expect(f, "May all rest in peace", "");
    /* كانون alone is no month; the second word must follow after one space. */
    expect(f, "في 5 كانون 2020", "");
    expect(f, "في 5 كانون، الثاني 2020", "");
}

/* Diacritics, tatweel, bidi marks and alef variants are folded; digits of every script. */
static void arabic_spellings(void **state)
{
    fixture *f = *state;
    expect(f, "في 21 كَانُونِ الثَّانِي 2021", "2021-01-21 [21 كانون الثاني 2021]");
    expect(f, "في 21 كانــــون الثاني 2021", "2021-01-21 [21 كانون الثاني 2021]");
    expect(f,
           "في \xE2\x80\x8F"
           "21 يناير\xE2\x80\x8E 2021",
           "2021-01-21 [21 يناير 2021]");
    expect(f, "في 6 آذار 2005", "2005-03-06 [6 آذار 2005]");
    expect(f, "في 6 أذار 2005", "2005-03-06 [6 أذار 2005]");
    expect(f, "في 7 إبريل 2007", "2007-04-07 [7 إبريل 2007]");
    expect(f, "في 1 أيار 2011", "2011-05-01 [1 أيار 2011]");
    expect(f, "في ٢١ كانون الثاني ٢٠٢١", "2021-01-21 [21 كانون الثاني 2021]");
    expect(f, "في ۲۱/۱/۲۰۲۱", "2021-01-21 [21/1/2021]");
    /* A weekday before the date, its teh marbuta written as heh or not. */
    expect(f, "الجمعة 22 كانون الثاني 2021", "2021-01-22 [الجمعة 22 كانون الثاني 2021]");
    expect(f, "الجمعه, 22 كانون الثاني 2021", "2021-01-22 [الجمعه, 22 كانون الثاني 2021]");
    /* After an Arabic comma the weekday is not joined: the date starts at the day. */
    expect(f, "الجمعة، 22 كانون الثاني 2021", "2021-01-22 [22 كانون الثاني 2021]");
    expect(f, "الاثنين 1 مارس", "--03-01 [الاثنين 1 مارس]");
}

/* A month may carry و or ب; not ل, not two clitics, and a weekday carries none. */
static void clitics(void **state)
{
    fixture *f = *state;
    expect(f, "وبفبراير 2002 وفي", "");
    expect(f, "بفبراير 2002", "2002-02 [بفبراير 2002]");
    expect(f, "وفبراير 2002", "2002-02 [وفبراير 2002]");
    expect(f, "لفبراير 2002", "");
    expect(f, "فبراير 2002", "2002-02 [فبراير 2002]");
    /* و before a weekday: the date starts at the day. */
    expect(f, "والخميس 21 يناير", "--01-21 [21 يناير]");
    /* A two-word month takes no clitic. */
    expect(f, "بكانون الأول 2019", "");
}

/* Numeric dates: d/m/y, y-m-d, y/m/d with one separator; the years a date may have. */
static void numeric(void **state)
{
    fixture *f = *state;
    expect(f, "21/1/2021", "2021-01-21 [21/1/2021]");
    expect(f, "2021-01-21", "2021-01-21 [2021-01-21]");
    expect(f, "2021/1/21", "2021-01-21 [2021/1/21]");
    expect(f, "21/1-2021", "");
    expect(f, "21/13/2021", "");
    expect(f, "في 21 يناير 1899", "--01-21 [21 يناير]");
    /* A URL's numbers are no date. */
    expect(f, "http://example.com/2021/1/21/story", "");
}

/* The names looked up from bytes of the matching form. */
static void names_from_bytes(void **state)
{
    (void)state;
    assert_int_equal(nw_dates_month("يناير", strlen("يناير")), 1);
    assert_int_equal(nw_dates_month("اذار", strlen("اذار")), 3);
    assert_int_equal(nw_dates_month("december", strlen("december")), 12);
    assert_int_equal(nw_dates_month("بيناير", strlen("بيناير")), 0);
    assert_int_equal(nw_dates_month("كانون", strlen("كانون")), 0);
    assert_int_equal(nw_dates_month2("كانون", strlen("كانون"), "الثاني", strlen("الثاني")), 1);
    assert_int_equal(nw_dates_month2("تشرين", strlen("تشرين"), "الاول", strlen("الاول")), 10);
    assert_int_equal(nw_dates_month2("تشرين", strlen("تشرين"), "الثالث", strlen("الثالث")), 0);
    assert_int_equal(nw_dates_weekday("الجمعه", strlen("الجمعه")), 5);
    assert_int_equal(nw_dates_weekday("sunday", strlen("sunday")), 7);
    assert_int_equal(nw_dates_weekday("الجمعة", strlen("الجمعة")), 0); /* not the matching form */
    char iso[32];
    nw_date_iso(&(nw_date){0, 0, 0, 2021, 1, 21}, iso);
    assert_string_equal(iso, "2021-01-21");
    nw_date_iso(&(nw_date){0, 0, 0, 2021, 3, 0}, iso);
    assert_string_equal(iso, "2021-03");
    nw_date_iso(&(nw_date){0, 0, 0, 0, 3, 1}, iso);
    assert_string_equal(iso, "--03-01");
}

/* Invalid UTF-8 is handled upstream: the normaliser refuses it, naming the byte. */
static void invalid_utf8_is_refused_upstream(void **state)
{
    fixture *f = *state;
    char err[256];
    static const char text[] = "في 21 \xD9 يناير";
    assert_int_equal(nw_normalize(f->n, text, sizeof text - 1, f->t, err, sizeof err), NW_EUTF8);
    assert_non_null(strstr(err, "byte offset 8")); /* في, a space, 21, a space */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(months_of_every_tradition),
        cmocka_unit_test(arabic_spellings),
        cmocka_unit_test(clitics),
        cmocka_unit_test(numeric),
        cmocka_unit_test(names_from_bytes),
        cmocka_unit_test(invalid_utf8_is_refused_upstream),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
