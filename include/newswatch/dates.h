/*
 * Dates in Arabic and English news text: Gregorian month names as written in
 * the Egyptian (يناير), Levantine and Iraqi (كانون الثاني) and Maghrebi
 * (جانفي) traditions and in English, weekday names, and numeric forms
 * (21/1/2021, 2021-01-21).
 *
 * Words are in the matching form (nw_normalize): folded letters, lower case.
 */
#ifndef NEWSWATCH_DATES_H
#define NEWSWATCH_DATES_H

#include <stddef.h>
#include <stdint.h>

#include "newswatch/error.h"
#include "newswatch/phrases.h"
#include "newswatch/segment.h"
#include "newswatch/normalize.h"

/* 1..12 when w is a one-word month name, else 0. */
int nw_dates_month(const char *w, size_t len);
/* 1..12 for two-word month names (كانون الثاني, تشرين الاول), else 0. */
int nw_dates_month2(const char *w1, size_t len1, const char *w2, size_t len2);
/* 1 (Monday) .. 7 (Sunday) when w is a weekday name, else 0. */
int nw_dates_weekday(const char *w, size_t len);

/* The years a date may have; other numbers are no years. */
#define NW_DATES_YEAR_MIN 1900
#define NW_DATES_YEAR_MAX 2100

typedef struct nw_date {
    uint32_t start, end; /* code points */
    uint32_t sentence;
    int year, month, day; /* 0 when not given */
} nw_date;

typedef struct nw_dates {
    nw_date *dates;
    size_t ndates, cap; /* cap is private */
} nw_dates;

/*
 * An index of every word a date can start with besides a number: the month
 * and weekday names, the two-word months and their first words, built once
 * and owned by the library (never freed; NULL when out of memory).
 * nw_dates_find reads the names at tokens through it (and so through its
 * handling of clitics), and the analyzer screens its tokens against it,
 * which lets nw_dates_find skip the other words of an analysis.
 */
const nw_phrases *nw_dates_words(void);

/*
 * Finds the dates of a segmented text: [weekday] day month [year],
 * month day[,] year, month year, and numeric day/month/year or
 * year-month-day. A month name counts only next to a day or a year, and may
 * carry one clitic و or ب (بيناير); the words of a two-word month are one
 * space apart. NW_ENOMEM is the only error.
 */
nw_err nw_dates_find(const nw_text *t, const nw_segments *s, nw_dates *out, char *errbuf,
                     size_t errlen);

/* Writes the ISO 8601 form: 2021-01-21, 2021-01, or --01-21 without a year. */
void nw_date_iso(const nw_date *d, char out[32]);

#endif
