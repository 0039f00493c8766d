#include "newswatch/when.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grow.h"

void nw_when_list_free(nw_when_list *l)
{
    if (l == NULL)
        return;
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

/* Howard Hinnant's days_from_civil. */
int64_t nw_day_from_civil(int year, int month, int day)
{
    int64_t y = (int64_t)year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void nw_day_to_civil(int64_t day, int *year, int *month, int *mday)
{
    int64_t z = day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = (int)(yoe + era * 400 + (m <= 2));
    *month = m;
    *mday = d;
}

int64_t nw_day_of_time(int64_t t, int utc_offset_s)
{
    int64_t s = t + utc_offset_s;
    return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

void nw_day_format(int64_t day, char out[11])
{
    int y, m, d;
    nw_day_to_civil(day, &y, &m, &d);
    if (y < 0 || y > 9999)
        y = 0;
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

int nw_days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* The number written by s[0..n) in ASCII digits, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

nw_err nw_time_parse_rfc3339(const char *s, int64_t *out, char *errbuf, size_t errlen)
{
    size_t n = strlen(s);
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (n < 10 || (y = digits(s, 4)) < 0 || s[4] != '-' || (mo = digits(s + 5, 2)) < 1 || mo > 12 ||
        s[7] != '-' || (d = digits(s + 8, 2)) < 1 || d > nw_days_in_month(y, mo))
        goto bad;
    const char *p = s + 10;
    int64_t offset = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        if (strlen(p) < 9 || (h = digits(p + 1, 2)) < 0 || h > 23 || p[3] != ':' ||
            (mi = digits(p + 4, 2)) < 0 || mi > 59 || p[6] != ':' || (sec = digits(p + 7, 2)) < 0 ||
            sec > 60)
            goto bad;
        p += 9;
        if (*p == '.') {
            p++;
            if (!is_digit((unsigned char)*p))
                goto bad;
            while (is_digit((unsigned char)*p))
                p++;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh = digits(p + 1, 2), om = strlen(p) >= 6 && p[3] == ':' ? digits(p + 4, 2) : -1;
            if (oh < 0 || oh > 23 || om < 0 || om > 59)
                goto bad;
            offset = (int64_t)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
            p += 6;
        } else {
            goto bad;
        }
    }
    if (*p != '\0')
        goto bad;
    *out = nw_day_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    return NW_OK;
bad:
    return nw_set_error(errbuf, errlen, NW_EINVAL,
                        "'%s' is not an RFC 3339 time (2021-01-21T08:00:00Z)", s);
}

void nw_time_format_rfc3339(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void nw_time_now_rfc3339(char out[32])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000L);
}

nw_err nw_day_parse(const char *s, int64_t *day, char *errbuf, size_t errlen)
{
    int y = strlen(s) == 10 && s[4] == '-' && s[7] == '-' ? digits(s, 4) : -1;
    int m = y >= 0 ? digits(s + 5, 2) : -1, d = m >= 0 ? digits(s + 8, 2) : -1;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > nw_days_in_month(y, m))
        return nw_set_error(errbuf, errlen, NW_EINVAL, "'%s' is not a date (YYYY-MM-DD)", s);
    *day = nw_day_from_civil(y, m, d);
    return NW_OK;
}

/* ---- finding ------------------------------------------------------------ */

typedef struct finder {
    const nw_text *t;
    const nw_segments *s;
    int64_t ref_day;
    int ref_year, ref_month, ref_mday;
    nw_when_list *out;
} finder;

static bool eq(const char *w, size_t len, const char *s)
{
    return strlen(s) == len && memcmp(w, s, len) == 0;
}

/* Token i's matching form (folded, lower case); "" past the end. */
static const char *word(const finder *f, size_t i, size_t *len)
{
    if (i >= f->s->ntokens) {
        *len = 0;
        return "";
    }
    const nw_token *tok = &f->s->tokens[i];
    *len = f->t->match_cp[tok->end] - f->t->match_cp[tok->start];
    return f->t->match + f->t->match_cp[tok->start];
}

/* Is token i the word s, bare or after the conjunction و or ف? */
static bool is_word(const finder *f, size_t i, uint32_t sentence, const char *s)
{
    if (i >= f->s->ntokens || f->s->tokens[i].sentence != sentence)
        return false;
    size_t len;
    const char *w = word(f, i, &len);
    if (eq(w, len, s))
        return true;
    if (len > 2 && (memcmp(w, "و", 2) == 0 || memcmp(w, "ف", 2) == 0)) {
        w += 2;
        len -= 2;
        if (eq(w, len, s))
            return true;
    }
    /* بالأمس, وبالأمس: yesterday with the preposition and the article */
    return len > 6 && memcmp(w, "بال", 6) == 0 && eq(w + 6, len - 6, s);
}

/*
 * The words the relative forms and ordinal days of nw_when_find start with
 * (its is_word tests at token i, ordinal_unit's included): a token that is
 * none of them, bare or after و, ف or بال, goes straight to the weekday and
 * month tests. Most tokens are none of them, and each is_word costs a strlen.
 */
#define FIRST_WORD(s)                                                                              \
    {                                                                                              \
        s, sizeof s - 1                                                                            \
    }
static const struct {
    const char *s;
    size_t len;
} first_words[] = {
    FIRST_WORD("اليوم"),     FIRST_WORD("today"),  FIRST_WORD("tonight"), FIRST_WORD("الليله"),
    FIRST_WORD("this"),      FIRST_WORD("اول"),    FIRST_WORD("امس"),     FIRST_WORD("البارحه"),
    FIRST_WORD("yesterday"), FIRST_WORD("last"),   FIRST_WORD("العام"),   FIRST_WORD("السنه"),
    FIRST_WORD("الاول"),     FIRST_WORD("الثاني"), FIRST_WORD("الثالث"),  FIRST_WORD("الرابع"),
    FIRST_WORD("الخامس"),    FIRST_WORD("السادس"), FIRST_WORD("السابع"),  FIRST_WORD("الثامن"),
    FIRST_WORD("التاسع"),    FIRST_WORD("العاشر"), FIRST_WORD("الحادي"),
};
#undef FIRST_WORD

static bool first_word(const char *w, size_t len)
{
    for (size_t k = 0; k < sizeof first_words / sizeof first_words[0]; k++)
        if (first_words[k].len == len && memcmp(first_words[k].s, w, len) == 0)
            return true;
    return false;
}

/* Could is_word(f, i, sentence, s) hold for any s of first_words? */
static bool may_start_form(const finder *f, size_t i)
{
    size_t len;
    const char *w = word(f, i, &len);
    if (first_word(w, len))
        return true;
    if (len > 2 && (memcmp(w, "و", 2) == 0 || memcmp(w, "ف", 2) == 0)) {
        w += 2;
        len -= 2;
        if (first_word(w, len))
            return true;
    }
    return len > 6 && memcmp(w, "بال", 6) == 0 && first_word(w + 6, len - 6);
}

/* A weekday at token i (الأحد, والأحد, يوم الأحد's second word, Sunday); 0 when none. */
static int weekday_at(const finder *f, size_t i)
{
    size_t len;
    const char *w = word(f, i, &len);
    int d = nw_dates_weekday(w, len);
    if (d == 0 && len > 2 &&
        (memcmp(w, "و", 2) == 0 || memcmp(w, "ف", 2) == 0 || memcmp(w, "ب", 2) == 0 ||
         memcmp(w, "ل", 2) == 0))
        d = nw_dates_weekday(w + 2, len - 2);
    return d;
}

static int month_at(const finder *f, size_t i, uint32_t sentence, size_t *n)
{
    size_t l1, l2;
    const char *w1 = word(f, i, &l1);
    if (i + 1 < f->s->ntokens && f->s->tokens[i + 1].sentence == sentence) {
        const char *w2 = word(f, i + 1, &l2);
        int m = nw_dates_month2(w1, l1, w2, l2);
        if (m > 0) {
            *n = 2;
            return m;
        }
    }
    *n = 1;
    int m = nw_dates_month(w1, l1);
    /* English three-letter forms (mar, may) are common words: only full names here. */
    if (m > 0 && l1 <= 3 && (unsigned char)w1[0] < 0x80)
        return 0;
    return m;
}

static bool add(finder *f, int64_t day, nw_when_precision p, bool relative, size_t token,
                size_t ntokens)
{
    if (!nw_grow((void **)&f->out->items, &f->out->cap, f->out->n + 1, sizeof(nw_when)))
        return false;
    nw_when *w = &f->out->items[f->out->n++];
    memset(w, 0, sizeof *w);
    w->day = day;
    nw_day_to_civil(day, &w->year, &w->month, &w->mday);
    if (p != NW_WHEN_DAY)
        w->mday = 0;
    if (p == NW_WHEN_YEAR)
        w->month = 0;
    w->precision = p;
    w->relative = relative;
    w->sentence = f->s->tokens[token].sentence;
    w->token = (uint32_t)token;
    w->ntokens = (uint32_t)ntokens;
    return true;
}

/* An absolute date: the year defaults to the latest that puts it on or before the reference. */
static bool add_absolute(finder *f, const nw_date *d, size_t token)
{
    if (d->month < 1 || d->month > 12)
        return true;
    int year = d->year;
    if (year == 0) {
        year = f->ref_year;
        if (d->month > f->ref_month || (d->month == f->ref_month && d->day > f->ref_mday))
            year--;
    }
    if (year < NW_WHEN_YEAR_MIN || year > NW_WHEN_YEAR_MAX)
        return true;
    if (d->day == 0)
        return add(f, nw_day_from_civil(year, d->month, 1), NW_WHEN_MONTH, d->year == 0, token, 1);
    if (d->day > nw_days_in_month(year, d->month))
        return true;
    return add(f, nw_day_from_civil(year, d->month, d->day), NW_WHEN_DAY, d->year == 0, token, 1);
}

/* The latest day with this weekday (1 Monday .. 7 Sunday) on or before the reference. */
static int64_t last_weekday(int64_t ref_day, int weekday)
{
    /* 1970-01-01 was a Thursday (4). */
    int64_t wd = ((ref_day % 7) + 7 + 3) % 7 + 1;
    int64_t back = (wd - weekday + 7) % 7;
    return ref_day - back;
}

/* Arabic ordinal day words in the matching form: الثامن عشر، الحادي والعشرين. */
static int ordinal_unit(const finder *f, size_t i, uint32_t sn)
{
    static const char *const units[] = {"الاول",  "الثاني", "الثالث", "الرابع", "الخامس",
                                        "السادس", "السابع", "الثامن", "التاسع", "العاشر"};
    for (int k = 0; k < 10; k++)
        if (is_word(f, i, sn, units[k]))
            return k + 1;
    return is_word(f, i, sn, "الحادي") ? 1 : 0;
}

/*
 * A day written as an ordinal, then a month: "الثامن عشر من تموز", "في التاسع عشر من
 * شباط 2022", "الحادي والعشرين من كانون الثاني". *n is the tokens used; 0 when none.
 */
static bool ordinal_date(finder *f, size_t i, uint32_t sn, size_t *n, bool *ok)
{
    int d = ordinal_unit(f, i, sn);
    if (d == 0)
        return false;
    size_t j = i + 1;
    if (d < 10 && is_word(f, j, sn, "عشر")) {
        d += 10;
        j++;
    } else if (d < 10 && (is_word(f, j, sn, "العشرين") || is_word(f, j, sn, "والعشرين"))) {
        d += 20;
        j++;
    } else if (d < 10 && (is_word(f, j, sn, "الثلاثين") || is_word(f, j, sn, "والثلاثين"))) {
        d += 30;
        j++;
    } else if (is_word(f, i, sn, "الحادي")) {
        return false;
    }
    if (is_word(f, j, sn, "من"))
        j++;
    size_t mn;
    int m = j < f->s->ntokens && f->s->tokens[j].sentence == sn ? month_at(f, j, sn, &mn) : 0;
    if (m == 0)
        return false;
    j += mn;
    nw_date date = {0, 0, sn, 0, m, d};
    size_t ylen;
    const char *y = word(f, j, &ylen);
    if (j < f->s->ntokens && f->s->tokens[j].sentence == sn &&
        f->s->tokens[j].kind == NW_TOKEN_NUMBER && ylen == 4) {
        date.year = atoi(y);
        j++;
    }
    size_t before = f->out->n;
    *ok = add_absolute(f, &date, i);
    if (f->out->n > before)
        f->out->items[before].ntokens = (uint32_t)(j - i);
    *n = j - i;
    return true;
}

/* Is token i next to a word saying the day is to come (المقبل، القادم, next)? */
static bool to_come(const finder *f, size_t i, size_t n, uint32_t sentence)
{
    return is_word(f, i + n, sentence, "المقبل") || is_word(f, i + n, sentence, "القادم") ||
           (i > 0 &&
            (is_word(f, i - 1, sentence, "next") || is_word(f, i - 1, sentence, "coming")));
}

nw_err nw_when_find(const nw_text *t, const nw_segments *s, const nw_dates *dates, int64_t ref_day,
                    nw_when_list *out, char *errbuf, size_t errlen)
{
    out->n = 0;
    finder f = {t, s, ref_day, 0, 0, 0, out};
    nw_day_to_civil(ref_day, &f.ref_year, &f.ref_month, &f.ref_mday);
    size_t di = 0; /* the next absolute date */
    for (size_t i = 0; i < s->ntokens; i++) {
        const nw_token *tok = &s->tokens[i];
        /* Tokens inside an absolute date belong to it. */
        while (di < dates->ndates && dates->dates[di].end <= tok->start)
            di++;
        if (di < dates->ndates && dates->dates[di].start <= tok->start) {
            const nw_date *d = &dates->dates[di];
            size_t first = i, before = out->n;
            while (i + 1 < s->ntokens && s->tokens[i + 1].start < d->end)
                i++;
            /* "21 كانون الثاني 1899": the dates module left out a year it does not take;
             * the date is not one without a year. */
            size_t ylen;
            word(&f, i + 1, &ylen);
            bool refused_year = d->year == 0 && i + 1 < s->ntokens &&
                                s->tokens[i + 1].sentence == tok->sentence &&
                                s->tokens[i + 1].kind == NW_TOKEN_NUMBER && ylen == 4;
            if (!refused_year && !add_absolute(&f, d, first))
                goto nomem;
            if (out->n > before)
                out->items[before].ntokens = (uint32_t)(i - first + 1);
            di++;
            continue;
        }
        if (tok->kind != NW_TOKEN_WORD)
            continue;
        uint32_t sn = tok->sentence;
        bool ok = true;
        int wd;
        size_t mn;
        int m;
        bool found = may_start_form(&f, i);
        if (!found) {
            /* none of the forms up to the ordinal days: a weekday or a month below */
        } else if (is_word(&f, i, sn, "اليوم") || is_word(&f, i, sn, "today") ||
                   is_word(&f, i, sn, "tonight") ||
                   (is_word(&f, i, sn, "الليله") && !is_word(&f, i + 1, sn, "الماضيه")) ||
                   (is_word(&f, i, sn, "this") &&
                    (is_word(&f, i + 1, sn, "morning") || is_word(&f, i + 1, sn, "evening") ||
                     is_word(&f, i + 1, sn, "afternoon")))) {
            ok = add(&f, ref_day, NW_WHEN_DAY, true, i, 1);
        } else if (is_word(&f, i, sn, "اول") && is_word(&f, i + 1, sn, "امس")) {
            ok = add(&f, ref_day - 2, NW_WHEN_DAY, true, i, 2);
            i++;
        } else if (is_word(&f, i, sn, "امس") || is_word(&f, i, sn, "البارحه") ||
                   is_word(&f, i, sn, "yesterday")) {
            bool before = is_word(&f, i + 1, sn, "الاول");
            ok = add(&f, ref_day - (before ? 2 : 1), NW_WHEN_DAY, true, i, before ? 2 : 1);
            i += before;
        } else if ((is_word(&f, i, sn, "الليله") && is_word(&f, i + 1, sn, "الماضيه")) ||
                   (is_word(&f, i, sn, "last") && is_word(&f, i + 1, sn, "night"))) {
            ok = add(&f, ref_day - 1, NW_WHEN_DAY, true, i, 2);
            i++;
        } else if ((is_word(&f, i, sn, "العام") || is_word(&f, i, sn, "السنه")) &&
                   (is_word(&f, i + 1, sn, "الماضي") || is_word(&f, i + 1, sn, "الماضيه"))) {
            ok = add(&f, nw_day_from_civil(f.ref_year - 1, 1, 1), NW_WHEN_YEAR, true, i, 2);
            i++;
        } else if (is_word(&f, i, sn, "last") && is_word(&f, i + 1, sn, "year")) {
            ok = add(&f, nw_day_from_civil(f.ref_year - 1, 1, 1), NW_WHEN_YEAR, true, i, 2);
            i++;
        } else if (ordinal_date(&f, i, sn, &mn, &ok)) {
            i += mn - 1;
        } else {
            found = false;
        }
        if (found) {
            /* taken above */
        } else if ((wd = weekday_at(&f, i)) > 0) {
            if (!to_come(&f, i, 1, sn))
                ok = add(&f, last_weekday(ref_day, wd), NW_WHEN_DAY, true, i, 1);
            /* ليل الاثنين على الثلاثاء: the night that starts on the first day */
            if (is_word(&f, i + 1, sn, "علي") && weekday_at(&f, i + 2) > 0)
                i += 2;
        } else if ((m = month_at(&f, i, sn, &mn)) > 0) {
            /* كانون الثاني الماضي, last January: the latest such month before this one. */
            bool last =
                is_word(&f, i + mn, sn, "الماضي") || (i > 0 && is_word(&f, i - 1, sn, "last"));
            if (last) {
                int y = m < f.ref_month ? f.ref_year : f.ref_year - 1;
                ok = add(&f, nw_day_from_civil(y, m, 1), NW_WHEN_MONTH, true, i, mn);
            }
            i += mn - 1;
        }
        if (!ok)
            goto nomem;
    }
    return NW_OK;
nomem:
    return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
}
