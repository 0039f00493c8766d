/*
 * When did it happen? The days a news text states, resolved against a
 * reference time (the report's publication time, else when it was read):
 *
 *  - absolute dates (nw_dates: "21 كانون الثاني 2021", "January 21, 2021",
 *    21/1/2021); a date without a year is the latest such day on or before
 *    the reference day (a report does not announce attacks to come);
 *  - relative words: اليوم / today, أمس / بالأمس / البارحة / yesterday, أمس الأول /
 *    أول أمس, الليلة الماضية / ليلة أمس / last night, tonight, weekday names
 *    (الأحد / Sunday: the latest such day on or before the reference day),
 *    "كانون الثاني الماضي" / "last January" (a month), العام الماضي / last
 *    year (a year).
 *
 * Days are local calendar days at a fixed offset from UTC (Iraq: +03:00),
 * counted from 1970-01-01 (nw_day_from_civil). The records' RFC 3339 times
 * are parsed and written here too.
 *
 * Ownership: an nw_when_list is the caller's: zero it before the first use
 * and free its items with nw_when_list_free.
 */
#ifndef NEWSWATCH_WHEN_H
#define NEWSWATCH_WHEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "newswatch/dates.h"
#include "newswatch/error.h"
#include "newswatch/segment.h"
#include "newswatch/normalize.h"

typedef enum nw_when_precision { NW_WHEN_YEAR, NW_WHEN_MONTH, NW_WHEN_DAY } nw_when_precision;

typedef struct nw_when {
    int64_t day; /* local day number; for a month or a year, its first day */
    int year, month, mday;
    nw_when_precision precision;
    bool relative;           /* resolved against the reference (today, أمس, الأحد ...) */
    uint32_t sentence;       /* where it is stated */
    uint32_t token, ntokens; /* the tokens that state it */
} nw_when;

typedef struct nw_when_list {
    nw_when *items;
    size_t n, cap;
} nw_when_list;

void nw_when_list_free(nw_when_list *l);

/*
 * Parses an RFC 3339 time ("2021-01-21T08:00:00Z", "2021-01-21T11:00:00+03:00",
 * fractions allowed) into seconds since the epoch; a day the month does not have
 * is NW_EINVAL.
 */
nw_err nw_time_parse_rfc3339(const char *s, int64_t *out, char *errbuf, size_t errlen);
/* Formats seconds since the epoch as RFC 3339 UTC ("2021-01-21T08:00:00Z"). */
void nw_time_format_rfc3339(int64_t t, char out[32]);
/* Writes the current UTC time as RFC 3339 with milliseconds, e.g. 2021-01-21T07:30:00.123Z. */
void nw_time_now_rfc3339(char out[32]);

/* The years a stated date may have (those of nw_dates); others are no dates. */
#define NW_WHEN_YEAR_MIN NW_DATES_YEAR_MIN
#define NW_WHEN_YEAR_MAX NW_DATES_YEAR_MAX

/* 28 to 31. */
int nw_days_in_month(int year, int month);
/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t nw_day_from_civil(int year, int month, int day);
void nw_day_to_civil(int64_t day, int *year, int *month, int *mday);
/* The local day of a time (seconds since the epoch) at utc_offset_s from UTC. */
int64_t nw_day_of_time(int64_t t, int utc_offset_s);
/* "2021-01-21". */
void nw_day_format(int64_t day, char out[11]);
/* Parses "2021-01-21" into a day number; NW_EINVAL when it is not one. */
nw_err nw_day_parse(const char *s, int64_t *day, char *errbuf, size_t errlen);

/*
 * Every date the text states, in text order: the absolute dates of `dates`
 * (found by nw_dates_find on the same text) and the relative words, resolved
 * against ref_day. Dates that cannot be a real day (31 February, year 0) are
 * left out. NW_ENOMEM is the only error.
 */
nw_err nw_when_find(const nw_text *t, const nw_segments *s, const nw_dates *dates, int64_t ref_day,
                    nw_when_list *out, char *errbuf, size_t errlen);

#endif
