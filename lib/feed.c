#include "newswatch/feed.h"

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/encoding.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <libxml/xmlerror.h>

#include "newswatch/dates.h"
#include "grow.h"
#include "htmltext.h"
#include "newswatch/hash.h"
#include "newswatch/html.h"
#include "newswatch/str.h"
#include "newswatch/utf8.h"

#define NS_ATOM    "http://www.w3.org/2005/Atom"
#define NS_ATOM03  "http://purl.org/atom/ns#"
#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"
#define NS_DC      "http://purl.org/dc/elements/1.1/"
#define NS_RDF     "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define MAX_LANG   35
#define MAX_URL    4096
#define MAX_TITLE  NW_DOC_MAX_TITLE_BYTES

struct nw_feed_item {
    char *field[NW_DOC_FIELD_COUNT];
    char *date_problem;
    char *problem;
};

struct nw_feed {
    nw_feed_format format;
    char *title, *lang, *warning;
    nw_feed_item *items;
    size_t nitems, cap;
};

/* ---------------------------------------------------------------- dates */

typedef struct date_parts {
    int year, month, day, hour, min, sec;
    int offset; /* seconds east of UTC */
} date_parts;

static const char *const month_names[12] = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december",
};
static const char *const month_display[12] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December",
};
static const char *const weekday_names[7] = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
};

/* Named zones feeds use, in minutes east of UTC. AST is Arabia Standard Time (+03:00), as Arabic
 * feeds mean it, not Atlantic Standard Time. */
static const struct {
    const char *name;
    int minutes;
} zones[] = {
    {"ut", 0},     {"utc", 0},     {"gmt", 0},     {"z", 0},      {"wet", 0},    {"est", -300},
    {"edt", -240}, {"cst", -360},  {"cdt", -300},  {"mst", -420}, {"mdt", -360}, {"pst", -480},
    {"pdt", -420}, {"akst", -540}, {"akdt", -480}, {"hst", -600}, {"bst", 60},   {"west", 60},
    {"cet", 60},   {"met", 60},    {"cest", 120},  {"mest", 120}, {"eet", 120},  {"eest", 180},
    {"msk", 180},  {"ast", 180},   {"trt", 180},   {"irst", 210}, {"gst", 240},  {"pkt", 300},
    {"sgt", 480},  {"hkt", 480},   {"jst", 540},   {"kst", 540},  {"aest", 600}, {"aedt", 660},
    {"et", -300},  {"ct", -360},   {"mt", -420},   {"pt", -480},  {"at", -240},
};

static int month_of(const char *w, size_t n)
{
    if (n == 4 && memcmp(w, "sept", 4) == 0)
        return 9;
    if (n < 3)
        return 0;
    for (int m = 0; m < 12; m++)
        if (n <= strlen(month_names[m]) && memcmp(w, month_names[m], n) == 0)
            return m + 1;
    return 0;
}

static bool is_weekday(const char *w, size_t n)
{
    if (n == 4 && (memcmp(w, "tues", 4) == 0 || memcmp(w, "thur", 4) == 0))
        return true;
    if (n == 5 && memcmp(w, "thurs", 5) == 0)
        return true;
    if (n < 3)
        return false;
    for (int d = 0; d < 7; d++)
        if (n <= strlen(weekday_names[d]) && memcmp(w, weekday_names[d], n) == 0 &&
            (n == 3 || n == strlen(weekday_names[d])))
            return true;
    return false;
}

static bool zone_of(const char *w, size_t n, int *minutes)
{
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
        if (strlen(zones[i].name) == n && memcmp(zones[i].name, w, n) == 0) {
            *minutes = zones[i].minutes;
            return true;
        }
    /* RFC 822's military zones: RFC 2822 says to read them as -0000. */
    if (n == 1 && w[0] >= 'a' && w[0] <= 'z' && w[0] != 'j') {
        *minutes = 0;
        return true;
    }
    return false;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z');
}

/* Reads up to max digits at *p; the count read in *ndigits. */
static int read_num(const char **p, int max, int *ndigits)
{
    int v = 0, n = 0;
    while (n < max && is_digit(**p)) {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    *ndigits = n;
    return v;
}

/* A numeric zone at p (after its sign): hh, hhmm, hh:mm, h. Minutes, or -1. */
static int read_offset(const char **p)
{
    int nd, h = read_num(p, 2, &nd), m = 0;
    if (nd == 0)
        return -1;
    if (**p == ':') {
        (*p)++;
        m = read_num(p, 2, &nd);
        if (nd != 2)
            return -1;
    } else if (is_digit(**p)) {
        m = read_num(p, 2, &nd);
        if (nd != 2)
            return -1;
    }
    if (h > 14 || m > 59)
        return -1;
    return h * 60 + m;
}

/* H:MM[:SS[.frac]] at p. */
static bool read_time(const char **p, date_parts *d, char *why, size_t whylen)
{
    int nd;
    d->hour = read_num(p, 2, &nd);
    if (**p != ':') {
        snprintf(why, whylen, "a time needs hours and minutes");
        return false;
    }
    (*p)++;
    d->min = read_num(p, 2, &nd);
    if (nd != 2) {
        snprintf(why, whylen, "the minutes need two digits");
        return false;
    }
    d->sec = 0;
    if (**p == ':') {
        (*p)++;
        d->sec = read_num(p, 2, &nd);
        if (nd != 2) {
            snprintf(why, whylen, "the seconds need two digits");
            return false;
        }
        if (**p == '.' || **p == ',') {
            (*p)++;
            while (is_digit(**p))
                (*p)++;
        }
    }
    return true;
}

static bool parse_iso(const char *p, date_parts *d, char *why, size_t whylen)
{
    int nd;
    d->year = read_num(&p, 4, &nd);
    if (*p++ != '-')
        goto bad;
    d->month = read_num(&p, 3, &nd); /* 3: Google's 2003-012-31 */
    if (nd == 0 || *p++ != '-')
        goto bad;
    d->day = read_num(&p, 2, &nd);
    if (nd == 0)
        goto bad;
    if (*p == 't' || (*p == ' ' && is_digit(p[1]))) {
        p++;
        if (!read_time(&p, d, why, whylen))
            return false;
    } else if (*p == '\0') {
        return true;
    }
    while (*p == ' ')
        p++;
    if (*p == '\0')
        return true;
    if (*p == 'z' && p[1] == '\0')
        return true;
    if (strcmp(p, "utc") == 0 || strcmp(p, "gmt") == 0)
        return true;
    if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        p++;
        int m = read_offset(&p);
        if (m < 0 || *p != '\0') {
            snprintf(why, whylen, "the time zone offset is not [+-]hh:mm");
            return false;
        }
        d->offset = sign * m * 60;
        return true;
    }
    snprintf(why, whylen, "unexpected '%s' after the time", p);
    return false;
bad:
    snprintf(why, whylen, "not a date of the form yyyy-mm-dd");
    return false;
}

/* RFC 822 and the free forms feeds write: tokens in almost any order. */
static bool parse_words(const char *p, date_parts *d, char *why, size_t whylen)
{
    bool have_time = false, have_zone = false, pm = false, am = false;
    d->year = d->month = d->day = -1;
    while (*p != '\0') {
        char c = *p;
        if (c == ' ' || c == ',' || c == '.') {
            p++;
        } else if (c == '(') { /* a comment: (Arabian Standard Time) */
            const char *e = strchr(p, ')');
            p = e != NULL ? e + 1 : p + strlen(p);
        } else if (is_alpha(c)) {
            const char *w = p;
            while (is_alpha(*p))
                p++;
            size_t n = (size_t)(p - w);
            int m, zm;
            if (n == 3 && memcmp(w, "etc", 3) == 0 && *p == '/') { /* Etc/GMT */
                p++;
            } else if (n == 2 && memcmp(w, "at", 2) == 0 && !have_time) {
                /* "21 January 2021 at 10:30" */
            } else if (n == 2 && memcmp(w, "am", 2) == 0) {
                am = true;
            } else if (n == 2 && memcmp(w, "pm", 2) == 0) {
                pm = true;
            } else if (is_weekday(w, n)) {
                /* ignored: often missing, sometimes wrong */
            } else if ((m = month_of(w, n)) > 0 && d->month < 0) {
                d->month = m;
            } else if (zone_of(w, n, &zm) && (have_time || n > 2)) {
                d->offset += zm * 60;
                have_zone = true;
            } else {
                snprintf(why, whylen, "unknown word '%.*s'", (int)(n > 20 ? 20 : n), w);
                return false;
            }
        } else if (is_digit(c)) {
            const char *s = p;
            int nd, v = read_num(&p, 9, &nd);
            if (*p == ':') {
                p = s;
                if (have_time) {
                    snprintf(why, whylen, "two times");
                    return false;
                }
                if (!read_time(&p, d, why, whylen))
                    return false;
                have_time = true;
            } else if (nd == 4 && *p == '/' && d->year < 0) { /* 2021/01/21 */
                d->year = v;
                p++;
                d->month = read_num(&p, 2, &nd);
                if (nd == 0 || *p++ != '/')
                    goto numeric;
                d->day = read_num(&p, 2, &nd);
                if (nd == 0)
                    goto numeric;
            } else if (nd == 4 && d->year < 0) {
                d->year = v;
            } else if (nd <= 2 && d->day < 0) {
                d->day = v;
            } else if (nd == 2 && d->year < 0) {
                d->year = v < 50 ? 2000 + v : 1900 + v; /* RFC 2822, 4.3 */
            } else {
                snprintf(why, whylen, "the number %.*s does not fit", nd, s);
                return false;
            }
        } else if ((c == '+' || c == '-') && is_digit(p[1]) && (have_time || have_zone)) {
            int sign = c == '-' ? -1 : 1;
            p++;
            int m = read_offset(&p);
            if (m < 0) {
                snprintf(why, whylen, "the time zone offset is not [+-]hhmm");
                return false;
            }
            d->offset += sign * m * 60;
            have_zone = true;
        } else if (c == '-' || c == '/') { /* 21-Jan-2021 */
            p++;
        } else {
            snprintf(why, whylen, "unexpected character '%c'", c);
            return false;
        }
    }
    if (d->day < 0 || d->month < 0 || d->year < 0) {
        snprintf(why, whylen, "%s", d->month < 0 ? "no month" : d->day < 0 ? "no day" : "no year");
        return false;
    }
    if (am || pm) {
        if (!have_time || d->hour < 1 || d->hour > 12) {
            snprintf(why, whylen, "AM or PM with hour %d", d->hour);
            return false;
        }
        if (am && d->hour == 12)
            d->hour = 0;
        else if (pm && d->hour < 12)
            d->hour += 12;
    }
    return true;
numeric:
    snprintf(why, whylen, "not a date of the form yyyy/mm/dd");
    return false;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* The longest Arabic word a date may hold, in bytes. */
#define ARABIC_WORD_MAX 48

/*
 * The Arabic word at s[*i..len) (letters of U+0620..U+064A, with tatweel and
 * harakat dropped) in the form lib/dates.c's names use: alef with hamza or
 * madda as alef, teh marbuta as heh, alef maksura as yeh. Advances *i past
 * it. Its length in bytes (0: no Arabic letter there; more than
 * ARABIC_WORD_MAX: too long).
 */
static size_t arabic_word(const unsigned char *u, size_t len, size_t *i, char *w)
{
    size_t n = 0;
    while (*i + 1 < len && (u[*i] == 0xD8 || u[*i] == 0xD9)) {
        unsigned cp = ((unsigned)(u[*i] & 0x1F) << 6) | (u[*i + 1] & 0x3F);
        if (cp == 0x640 || (cp >= 0x64B && cp <= 0x652)) { /* tatweel, harakat */
            *i += 2;
            continue;
        }
        if (cp < 0x621 || cp > 0x64A)
            break;
        if (cp == 0x622 || cp == 0x623 || cp == 0x625)
            cp = 0x627; /* آ أ إ -> ا */
        else if (cp == 0x629)
            cp = 0x647; /* ة -> ه */
        else if (cp == 0x649)
            cp = 0x64A; /* ى -> ي */
        if (n + 2 <= ARABIC_WORD_MAX) {
            w[n] = (char)(0xC0 | (cp >> 6));
            w[n + 1] = (char)(0x80 | (cp & 0x3F));
        }
        n += 2;
        *i += 2;
    }
    return n;
}

/*
 * An Arabic word of a date as the ASCII parse_words reads: a month's English
 * name, nothing for a weekday and for words that only join (الساعة, في, the
 * era مـ, هـ), "am"/"pm" for ص/م after a time. Two-word months (كانون الثاني)
 * take the next word too. NULL for a word a date does not hold.
 */
static const char *arabic_date_word(const unsigned char *u, size_t len, size_t *i, bool after_time)
{
    static const char *const english[12] = {"jan", "feb", "mar", "apr", "may", "jun",
                                            "jul", "aug", "sep", "oct", "nov", "dec"};
    char w[ARABIC_WORD_MAX], w2[ARABIC_WORD_MAX];
    size_t n = arabic_word(u, len, i, w);
    if (n == 0 || n > ARABIC_WORD_MAX)
        return NULL;
    int m = nw_dates_month(w, n);
    if (m == 0) { /* كانون الثاني: the second word after spaces */
        size_t k = *i;
        while (k < len && u[k] == ' ')
            k++;
        size_t n2 = arabic_word(u, len, &k, w2);
        if (n2 > 0 && n2 <= ARABIC_WORD_MAX && (m = nw_dates_month2(w, n, w2, n2)) > 0)
            *i = k;
    }
    if (m > 0)
        return english[m - 1];
    if (nw_dates_weekday(w, n) > 0)
        return "";
    static const struct {
        const char *word, *time, *no_time; /* what it gives after a time, and before one */
    } words[] = {
        {"الساعه", "", ""},    {"في", "", ""},        {"يوم", "", ""},
        {"ه", "", ""}, /* هـ: the Hijri era, after a Gregorian date it is the page's */
        {"ص", "am", NULL},     {"صباحا", "am", NULL}, {"مساء", "pm", NULL},
        {"مساءا", "pm", NULL}, {"م", "pm", ""}, /* م: مساءً after a time, else the era (2021م) */
    };
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (strlen(words[k].word) == n && memcmp(words[k].word, w, n) == 0)
            return after_time ? words[k].time : words[k].no_time;
    return NULL;
}

nw_err nw_feed_parse_date(const char *s, size_t len, char out[32], char *errbuf, size_t errlen)
{
    out[0] = '\0';
    char buf[128];
    size_t n = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len; i++) {
        if (n + 1 >= sizeof buf)
            return nw_set_error(errbuf, errlen, NW_EINVAL, "the date is too long");
        unsigned char c = u[i];
        if (i + 1 < len && c == 0xD8 && u[i + 1] == 0x8C) { /* the Arabic comma */
            buf[n++] = ',';
            i++;
        } else if (i + 1 < len && (c == 0xD8 || c == 0xD9) &&
                   !(c == 0xD9 && u[i + 1] >= 0xA0 && u[i + 1] <= 0xA9)) { /* an Arabic word */
            size_t start = i;
            buf[n] = '\0';
            const char *ascii = arabic_date_word(u, len, &i, strchr(buf, ':') != NULL);
            if (ascii == NULL) {
                size_t end = i > start ? i : start + 2;
                while (end < len && u[end] >= 0x80 && u[end] != 0xD8 && u[end] != 0xD9)
                    end++;
                return nw_set_error(errbuf, errlen, NW_EINVAL,
                                    "unknown word '%.*s' (byte offset %zu)",
                                    (int)(end - start > 40 ? 40 : end - start), s + start, start);
            }
            size_t add = strlen(ascii);
            if (n + add + 2 >= sizeof buf)
                return nw_set_error(errbuf, errlen, NW_EINVAL, "the date is too long");
            buf[n++] = ' ';
            memcpy(buf + n, ascii, add);
            n += add;
            buf[n++] = ' ';
            i--; /* the loop's i++ */
        } else if (i + 1 < len && c == 0xD9 && u[i + 1] >= 0xA0 && u[i + 1] <= 0xA9) { /* ٠..٩ */
            buf[n++] = (char)('0' + (u[i + 1] - 0xA0));
            i++;
        } else if (i + 1 < len && c == 0xDB && u[i + 1] >= 0xB0 && u[i + 1] <= 0xB9) { /* ۰..۹ */
            buf[n++] = (char)('0' + (u[i + 1] - 0xB0));
            i++;
        } else if (c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            buf[n++] = ' ';
        } else if (c >= 0x80 || c < 0x20) {
            return nw_set_error(errbuf, errlen, NW_EINVAL,
                                "a character outside ASCII in the date (byte offset %zu)", i);
        } else {
            buf[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
    }
    buf[n] = '\0';
    char *p = buf;
    while (*p == ' ')
        p++;
    while (n > 0 && buf[n - 1] == ' ')
        buf[--n] = '\0';
    if (*p == '\0')
        return nw_set_error(errbuf, errlen, NW_EINVAL, "the date is empty");

    date_parts d = {0};
    char why[96] = "";
    bool ok;
    if (is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) && is_digit(p[3]) && p[4] == '-')
        ok = parse_iso(p, &d, why, sizeof why);
    else
        ok = parse_words(p, &d, why, sizeof why);
    if (!ok)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "%s", why);
    if (d.year < 1000 || d.year > 9999)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "year %d is out of range", d.year);
    if (d.month < 1 || d.month > 12)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "month %d does not exist", d.month);
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int dim = mdays[d.month - 1] + (d.month == 2 && leap(d.year));
    if (d.day < 1 || d.day > dim)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "day %d is not in %s %d", d.day,
                            month_display[d.month - 1], d.year);
    if (d.hour > 24 || (d.hour == 24 && (d.min > 0 || d.sec > 0)) || d.min > 59 || d.sec > 60)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "the time %02d:%02d:%02d does not exist",
                            d.hour, d.min, d.sec);
    if (d.sec == 60) /* a leap second */
        d.sec = 59;
    int64_t t = days_from_civil(d.year, d.month, d.day) * 86400 + d.hour * 3600 + d.min * 60 +
                d.sec - d.offset;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t rem = t - days * 86400;
    int y, m, dd;
    civil_from_days(days, &y, &m, &dd);
    if (y < 1000 || y > 9999)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "year %d is out of range", y);
    char tmp[64]; /* 20 characters: the checks above bound every part */
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, dd, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60));
    snprintf(out, 32, "%.31s", tmp);
    return NW_OK;
}

/* ---------------------------------------------------------------- feeds and items */

nw_feed_format nw_feed_format_of(const nw_feed *feed)
{
    return feed->format;
}

const char *nw_feed_format_name(nw_feed_format format)
{
    switch (format) {
    case NW_FEED_RSS2:
        return "RSS 2.0";
    case NW_FEED_RSS1:
        return "RSS 1.0";
    case NW_FEED_ATOM:
        return "Atom";
    case NW_FEED_JSON:
        return "JSON Feed";
    }
    return "?";
}

const char *nw_feed_title(const nw_feed *feed)
{
    return feed->title;
}

const char *nw_feed_lang(const nw_feed *feed)
{
    return feed->lang;
}

const char *nw_feed_warning(const nw_feed *feed)
{
    return feed->warning;
}

size_t nw_feed_count(const nw_feed *feed)
{
    return feed->nitems;
}

const nw_feed_item *nw_feed_at(const nw_feed *feed, size_t i)
{
    return i < feed->nitems ? &feed->items[i] : NULL;
}

const char *nw_feed_item_get(const nw_feed_item *item, nw_doc_field field)
{
    if (field < 0 || field >= NW_DOC_FIELD_COUNT)
        return NULL;
    return item->field[field];
}

const char *nw_feed_item_date_problem(const nw_feed_item *item)
{
    return item->date_problem;
}

const char *nw_feed_item_problem(const nw_feed_item *item)
{
    return item->problem;
}

static void item_clear(nw_feed_item *item)
{
    for (int f = 0; f < NW_DOC_FIELD_COUNT; f++)
        free(item->field[f]);
    free(item->date_problem);
    free(item->problem);
    memset(item, 0, sizeof *item);
}

void nw_feed_free(nw_feed *feed)
{
    if (feed == NULL)
        return;
    for (size_t i = 0; i < feed->nitems; i++)
        item_clear(&feed->items[i]);
    free(feed->items);
    free(feed->title);
    free(feed->lang);
    free(feed->warning);
    free(feed);
}

nw_err nw_feed_item_to_doc(const nw_feed_item *item, const char *source, nw_doc **out, char *errbuf,
                           size_t errlen)
{
    *out = NULL;
    if (item->problem != NULL)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "%s", item->problem);
    nw_doc *doc = nw_doc_new();
    if (doc == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    static const nw_doc_field fields[] = {NW_DOC_ID,  NW_DOC_TITLE,        NW_DOC_BODY,
                                          NW_DOC_URL, NW_DOC_PUBLISHED_AT, NW_DOC_LANG};
    nw_err err = NW_OK;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0] && err == NW_OK; i++) {
        const char *v = item->field[fields[i]];
        if (fields[i] == NW_DOC_BODY && v == NULL)
            v = item->field[NW_DOC_TITLE]; /* a headline-only item */
        if (v != NULL)
            err = nw_doc_set(doc, fields[i], v, strlen(v), errbuf, errlen);
    }
    if (err == NW_OK)
        err = nw_doc_complete(doc, source, errbuf, errlen);
    if (err != NW_OK) {
        nw_doc_free(doc);
        return err;
    }
    *out = doc;
    return NW_OK;
}

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *dup_printf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return nw_str_dup(buf);
}

/* A new item at the end of the feed, or NULL when out of memory. */
static nw_feed_item *add_item(nw_feed *feed)
{
    if (!nw_grow((void **)&feed->items, &feed->cap, feed->nitems + 1, sizeof *feed->items))
        return NULL;
    nw_feed_item *item = &feed->items[feed->nitems++];
    memset(item, 0, sizeof *item);
    return item;
}

/* A copy of s, NULL when s is NULL or empty (the text functions give "" for no text). */
static char *nonempty(char *s)
{
    if (s != NULL && s[0] == '\0') {
        free(s);
        return NULL;
    }
    return s;
}

/* Collapsed one-line text of s (a title, an id), or NULL when blank. */
static char *one_line(const char *s, size_t n, size_t max)
{
    nw_textbuf b;
    nw_textbuf_init(&b, max, false);
    nw_textbuf_text(&b, s, n);
    return nonempty(nw_textbuf_take(&b, NULL));
}

/* Does s look like HTML (a tag or an entity), so a title needs the HTML parser? */
static bool looks_like_html(const char *s)
{
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '<' && (p[1] == '/' || p[1] == '!' || (p[1] >= 'a' && p[1] <= 'z') ||
                          (p[1] >= 'A' && p[1] <= 'Z')))
            return true;
        if (*p == '&' &&
            (p[1] == '#' || (p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z'))) {
            const char *q = p + 1;
            while (*q != '\0' && *q != ';' && *q != ' ' && q - p < 12)
                q++;
            if (*q == ';')
                return true;
        }
    }
    return false;
}

/* Clean text of HTML, NULL when blank or out of memory. */
static char *html_text(const char *html, size_t n)
{
    char *out;
    size_t outlen;
    if (nw_html_to_text(html, n, &out, &outlen, NULL, 0) != NW_OK)
        return NULL;
    return nonempty(out);
}

enum title_mode { TITLE_PLAIN, TITLE_GUESS };

/* A title: one line, HTML decoded when it looks like HTML (GUESS), cut to MAX_TITLE bytes with "…".
 */
static char *title_text(const char *s, enum title_mode mode)
{
    char *t;
    if (mode == TITLE_GUESS && looks_like_html(s)) {
        char *h = html_text(s, strlen(s));
        t = h != NULL ? one_line(h, strlen(h), SIZE_MAX / 2) : NULL;
        free(h);
    } else {
        t = one_line(s, strlen(s), SIZE_MAX / 2);
    }
    if (t != NULL && strlen(t) > MAX_TITLE) {
        static const char ellipsis[] = "\xE2\x80\xA6";
        size_t cut = nw_utf8_truncate(t, strlen(t), MAX_TITLE - (sizeof ellipsis - 1));
        memcpy(t + cut, ellipsis, sizeof ellipsis);
    }
    return t;
}

/* An id: one line; over NW_DOC_MAX_ID_BYTES it becomes 16 hex digits of its FNV-1a 64. */
static char *id_text(const char *s, size_t n)
{
    char *id = one_line(s, n, SIZE_MAX / 2);
    if (id != NULL)
        nw_utf8_mend(id); /* rdf:about is an attribute */
    if (id != NULL && strlen(id) > NW_DOC_MAX_ID_BYTES) {
        char h[17];
        snprintf(h, sizeof h, "%016llx", (unsigned long long)nw_hash_fnv1a64(id, strlen(id)));
        free(id);
        id = nw_str_dup(h);
    }
    return id;
}

/* The id of an item without one: FNV-1a 64 of title, a newline and the date as written. */
static char *hash_id(const char *title, const char *date)
{
    if (title == NULL && date == NULL)
        return NULL;
    size_t tl = title != NULL ? strlen(title) : 0, dl = date != NULL ? strlen(date) : 0;
    char *buf = malloc(tl + dl + 2);
    if (buf == NULL)
        return NULL;
    memcpy(buf, title != NULL ? title : "", tl);
    buf[tl] = '\n';
    memcpy(buf + tl + 1, date != NULL ? date : "", dl);
    char h[17];
    snprintf(h, sizeof h, "%016llx", (unsigned long long)nw_hash_fnv1a64(buf, tl + 1 + dl));
    free(buf);
    return nw_str_dup(h);
}

/* A language tag: letters, digits and '-' ('_' becomes '-'), lower case; NULL otherwise. */
static char *lang_tag(const char *s)
{
    if (s == NULL)
        return NULL;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    if (n == 0 || n > MAX_LANG)
        return NULL;
    char *t = malloc(n + 1);
    if (t == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        else if (c == '_')
            c = '-';
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            free(t);
            return NULL;
        }
        t[i] = (char)c;
    }
    t[n] = '\0';
    return t;
}

/* Is u an absolute http(s) URL? */
static bool is_web_url(const char *u)
{
    return strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0 ||
           strncmp(u, "HTTP://", 7) == 0 || strncmp(u, "HTTPS://", 8) == 0;
}

/*
 * href (trimmed) resolved against base with xmlBuildURI; an IRI (Arabic in the
 * path) or a space is percent-encoded first. NULL unless the result is an
 * absolute http(s) URL (and when href or base is not UTF-8).
 */
static char *resolve_url(const char *href, const xmlChar *base)
{
    char *h = one_line(href, strlen(href), MAX_URL);
    size_t bad;
    /* Not UTF-8: an attribute with an HTML entity libxml2 cut (see nw_utf8_mend), no URL. */
    if (h == NULL || !nw_utf8_valid(h, strlen(h), &bad) ||
        (base != NULL && !nw_utf8_valid((const char *)base, strlen((const char *)base), &bad))) {
        free(h);
        return NULL;
    }
    xmlChar *r = xmlBuildURI((const xmlChar *)h, base);
    if (r == NULL) {
        xmlChar *esc = xmlURIEscapeStr((const xmlChar *)h, (const xmlChar *)":/?#[]@!$&'()*+,;=%~");
        if (esc != NULL) {
            r = xmlBuildURI(esc, base);
            xmlFree(esc);
        }
    }
    free(h);
    char *out = NULL;
    if (r != NULL && is_web_url((const char *)r) && strlen((const char *)r) <= MAX_URL)
        out = nw_str_dup((const char *)r);
    xmlFree(r);
    return out;
}

/* ---------------------------------------------------------------- XML */

typedef struct xml_state {
    int nerrors;
    int first_code, first_line;
    char first_msg[160];
    bool fatal;
    nw_err fatal_err;
    char fatal_msg[320];
    int nentities;
    xmlEntityPtr html_entities[64]; /* HTML's named entities used undeclared (&nbsp;) */
    int nhtml;
} xml_state;

/* Copies an error message without its newline. */
static void copy_msg(char *dst, size_t n, const char *msg)
{
    snprintf(dst, n, "%s", msg != NULL ? msg : "unknown error");
    nw_utf8_mend(dst);
    size_t l = strlen(dst);
    while (l > 0 && (dst[l - 1] == '\n' || dst[l - 1] == ' '))
        dst[--l] = '\0';
    for (char *p = dst; *p != '\0'; p++)
        if (*p == '\n')
            *p = ' ';
}

static void set_fatal(xml_state *st, nw_err err, int line, const char *what)
{
    if (st->fatal)
        return;
    st->fatal = true;
    st->fatal_err = err;
    if (line > 0)
        snprintf(st->fatal_msg, sizeof st->fatal_msg, "line %d: %s", line, what);
    else
        snprintf(st->fatal_msg, sizeof st->fatal_msg, "%s", what);
}

static void on_xml_error(void *data, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = data;
    xml_state *st = ctxt->_private;
    if (st == NULL || e == NULL || e->level == XML_ERR_WARNING)
        return;
    char msg[160], what[256];
    copy_msg(msg, sizeof msg, e->message);
    if (e->code == XML_ERR_ENTITY_LOOP) {
        snprintf(what, sizeof what,
                 "entity expansion refused (%s): a billion laughs attack or a broken DTD", msg);
        set_fatal(st, NW_EINVAL, e->line, what);
    } else if (e->domain == XML_FROM_I18N || e->code == XML_ERR_INVALID_ENCODING ||
               e->code == XML_ERR_UNSUPPORTED_ENCODING || e->code == XML_ERR_UNKNOWN_ENCODING ||
               (e->code == XML_ERR_INVALID_CHAR && strncmp(msg, "Input is not proper", 19) == 0)) {
        snprintf(what, sizeof what, "cannot decode the feed: %s", msg);
        set_fatal(st, NW_EUTF8, e->line, what);
    } else if (e->code == XML_ERR_INTERNAL_ERROR || e->code == XML_ERR_NO_MEMORY) {
        /* "Excessive depth in document", "Huge input lookup" and the like */
        set_fatal(st, e->code == XML_ERR_NO_MEMORY ? NW_ENOMEM : NW_EINVAL, e->line, msg);
    }
    if (st->nerrors++ == 0) {
        st->first_code = e->code;
        st->first_line = e->line;
        snprintf(st->first_msg, sizeof st->first_msg, "%s", msg);
    }
}

/* Entity declarations: external ones are never declared (so never read); at most
 * NW_FEED_MAX_ENTITIES. */
static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                           const xmlChar *system_id, xmlChar *content)
{
    xmlParserCtxtPtr ctxt = ctx;
    xml_state *st = ctxt->_private;
    if (++st->nentities > NW_FEED_MAX_ENTITIES) {
        char what[120];
        snprintf(what, sizeof what,
                 "entity expansion refused: the document declares more than %d entities",
                 NW_FEED_MAX_ENTITIES);
        set_fatal(st, NW_EINVAL, xmlSAX2GetLineNumber(ctx), what);
        xmlStopParser(ctxt);
        return;
    }
    if (type != XML_INTERNAL_GENERAL_ENTITY && type != XML_INTERNAL_PARAMETER_ENTITY)
        return; /* external: an XXE attempt or a DTD feeds do not need */
    xmlSAX2EntityDecl(ctx, name, type, public_id, system_id, content);
}

/* Never load an external DTD subset, whatever the options say. */
static void on_external_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
                               const xmlChar *system_id)
{
    (void)ctx;
    (void)name;
    (void)external_id;
    (void)system_id;
}

/*
 * An entity the document does not declare: HTML's named entities (&nbsp;,
 * &eacute;, &rsquo;), which feeds use as if RSS were HTML, stand for their
 * characters like XML's own &amp;. Any other name stays undeclared (an error).
 * In an attribute value libxml2 keeps only the first byte of such an entity
 * (it expects one of XML's five): what is read from attributes is mended.
 */
static xmlEntityPtr on_get_entity(void *ctx, const xmlChar *name)
{
    xmlParserCtxtPtr ctxt = ctx;
    xml_state *st = ctxt->_private;
    xmlEntityPtr ent = xmlSAX2GetEntity(ctx, name);
    if (ent != NULL || st == NULL || ctxt->inSubset != 0)
        return ent;
    for (int i = 0; i < st->nhtml; i++)
        if (xmlStrEqual(st->html_entities[i]->name, name))
            return st->html_entities[i];
    const htmlEntityDesc *d = htmlEntityLookup(name);
    if (d == NULL || st->nhtml == (int)(sizeof st->html_entities / sizeof st->html_entities[0]))
        return NULL;
    ent = calloc(1, sizeof *ent);
    unsigned char u[5] = {0};
    unsigned int cp = d->value;
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
    } else if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | (cp >> 6));
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        u[0] = (unsigned char)(0xE0 | (cp >> 12));
        u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
    }
    if (ent == NULL || (ent->name = xmlStrdup(name)) == NULL ||
        (ent->content = xmlStrdup(u)) == NULL) {
        if (ent != NULL)
            xmlFree((xmlChar *)ent->name);
        free(ent);
        return NULL;
    }
    ent->type = XML_ENTITY_DECL;
    ent->etype = XML_INTERNAL_PREDEFINED_ENTITY;
    ent->length = xmlStrlen(ent->content);
    ent->orig = NULL;
    st->html_entities[st->nhtml++] = ent;
    return ent;
}

static void free_html_entities(xml_state *st)
{
    for (int i = 0; i < st->nhtml; i++) {
        xmlFree((xmlChar *)st->html_entities[i]->name);
        xmlFree(st->html_entities[i]->content);
        free(st->html_entities[i]);
    }
    st->nhtml = 0;
}

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

/*
 * A copy of data with each '&' that starts no entity or character reference
 * written as "&amp;" (outside CDATA sections): the commonest defect of real
 * feeds ("Tom & Jerry", "?a=1&b=2"). A byte-level repair before libxml2
 * reads the feed again, for ASCII-compatible encodings only. NULL when there
 * is nothing to repair (or no memory); *nrepaired counts the repairs.
 */
static char *repair_ampersands(const char *data, size_t len, size_t *nrepaired)
{
    *nrepaired = 0;
    if (memchr(data, '\0', len) != NULL) /* UTF-16 or UTF-32: not for this repair */
        return NULL;
    size_t bare = 0;
    bool cdata = false;
    for (size_t i = 0; i < len; i++) {
        if (!cdata && data[i] == '<' && len - i >= 9 && memcmp(data + i, "<![CDATA[", 9) == 0)
            cdata = true;
        else if (cdata && data[i] == ']' && len - i >= 3 && memcmp(data + i, "]]>", 3) == 0)
            cdata = false;
        else if (!cdata && data[i] == '&') {
            size_t j = i + 1;
            if (j < len && data[j] == '#') {
                j++;
                if (j < len && (data[j] == 'x' || data[j] == 'X'))
                    j++;
            }
            size_t start = j;
            while (j < len && j - start < 40 &&
                   ((data[j] >= 'a' && data[j] <= 'z') || (data[j] >= 'A' && data[j] <= 'Z') ||
                    (data[j] >= '0' && data[j] <= '9') || data[j] == '_' || data[j] == '-' ||
                    data[j] == '.'))
                j++;
            if (j == start || j >= len || data[j] != ';')
                bare++;
        }
    }
    if (bare == 0 || len + bare * 4 > NW_FEED_MAX_BYTES * 2u)
        return NULL;
    char *out = malloc(len + bare * 4 + 1), *o = out;
    if (out == NULL)
        return NULL;
    cdata = false;
    for (size_t i = 0; i < len; i++) {
        *o++ = data[i];
        if (!cdata && data[i] == '<' && len - i >= 9 && memcmp(data + i, "<![CDATA[", 9) == 0)
            cdata = true;
        else if (cdata && data[i] == ']' && len - i >= 3 && memcmp(data + i, "]]>", 3) == 0)
            cdata = false;
        else if (!cdata && data[i] == '&') {
            size_t j = i + 1;
            if (j < len && data[j] == '#') {
                j++;
                if (j < len && (data[j] == 'x' || data[j] == 'X'))
                    j++;
            }
            size_t start = j;
            while (j < len && j - start < 40 &&
                   ((data[j] >= 'a' && data[j] <= 'z') || (data[j] >= 'A' && data[j] <= 'Z') ||
                    (data[j] >= '0' && data[j] <= '9') || data[j] == '_' || data[j] == '-' ||
                    data[j] == '.'))
                j++;
            if (j == start || j >= len || data[j] != ';') {
                memcpy(o, "amp;", 4);
                o += 4;
            }
        }
    }
    *o = '\0';
    *nrepaired = bare;
    return out;
}

/* Reads XML; recover: libxml2's recovery mode. */
static xmlDocPtr read_xml(const char *data, size_t len, const char *base_url, const char *charset,
                          bool recover, xml_state *st)
{
    memset(st, 0, sizeof *st);
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) {
        st->fatal = true;
        st->fatal_err = NW_ENOMEM;
        snprintf(st->fatal_msg, sizeof st->fatal_msg, "out of memory");
        return NULL;
    }
    ctxt->_private = st;
    ctxt->sax->serror = on_xml_error;
    ctxt->sax->entityDecl = on_entity_decl;
    ctxt->sax->externalSubset = on_external_subset;
    ctxt->sax->getEntity = on_get_entity;
    /* Never XML_PARSE_NOENT, DTDLOAD, DTDATTR, DTDVALID, XINCLUDE or HUGE. */
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |
               XML_PARSE_COMPACT | (recover ? XML_PARSE_RECOVER : 0);
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, data, (int)len, base_url, charset, opts);
    ctxt->_private = NULL;
    xmlFreeParserCtxt(ctxt);
    free_html_entities(st); /* the tree keeps no reference to them: they were inlined */
    return doc;
}

static bool is_el(const xmlNode *n, const char *ns, const char *name)
{
    if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name) != 0)
        return false;
    const char *href = n->ns != NULL ? (const char *)n->ns->href : NULL;
    if (ns == NULL)
        return href == NULL;
    return href != NULL && strcmp(href, ns) == 0;
}

/* An element of the feed's own vocabulary: the root's namespace, or none. */
static bool is_core(const xmlNode *n, const char *core_ns, const char *name)
{
    return is_el(n, NULL, name) || (core_ns != NULL && is_el(n, core_ns, name));
}

static char *attr(const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    char *s = v != NULL ? nw_str_dup((const char *)v) : NULL;
    xmlFree(v);
    return s;
}

typedef enum text_type { TT_TEXT, TT_HTML, TT_XHTML, TT_NONE } text_type;

/* Atom's type attribute (text, html, xhtml or a MIME type). */
static text_type atom_type(const xmlNode *n)
{
    char *t = attr(n, "type");
    text_type tt = TT_TEXT;
    if (t == NULL || strcmp(t, "text") == 0 || strncmp(t, "text/plain", 10) == 0)
        tt = TT_TEXT;
    else if (strcmp(t, "html") == 0 || strncmp(t, "text/html", 9) == 0)
        tt = TT_HTML;
    else if (strcmp(t, "xhtml") == 0 || strncmp(t, "application/xhtml+xml", 21) == 0)
        tt = TT_XHTML;
    else if (strncmp(t, "text/", 5) == 0)
        tt = TT_TEXT;
    else
        tt = TT_NONE; /* base64 and other media */
    free(t);
    return tt;
}

/* The element's text as a string, entity references resolved (raw: no collapsing). */
static char *raw_text(const xmlNode *n, size_t max)
{
    nw_textbuf b;
    nw_textbuf_init(&b, max, true);
    nw_textbuf_children(&b, n, false);
    return nw_textbuf_take(&b, NULL);
}

static bool has_element_child(const xmlNode *n)
{
    for (const xmlNode *c = n->children; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return true;
    return false;
}

/* The clean text of an element holding text of type tt (lines: keep plain text's lines). */
static char *element_text(const xmlNode *n, text_type tt, bool lines)
{
    if (n == NULL || tt == TT_NONE)
        return NULL;
    nw_textbuf b;
    if (tt == TT_XHTML || (tt == TT_HTML && has_element_child(n))) {
        /* XHTML, or HTML a publisher forgot to escape: already a tree */
        nw_textbuf_init(&b, NW_FEED_MAX_BODY_BYTES, false);
        nw_textbuf_children(&b, n, true);
        return nonempty(nw_textbuf_take(&b, NULL));
    }
    char *raw = raw_text(n, NW_FEED_MAX_BYTES);
    if (raw == NULL)
        return NULL;
    char *out = NULL;
    if (tt == TT_HTML) {
        out = html_text(raw, strlen(raw));
    } else {
        nw_textbuf_init(&b, NW_FEED_MAX_BODY_BYTES, false);
        if (lines)
            nw_textbuf_lines(&b, raw, strlen(raw));
        else
            nw_textbuf_text(&b, raw, strlen(raw));
        out = nonempty(nw_textbuf_take(&b, NULL));
    }
    free(raw);
    if (out != NULL && strlen(out) > NW_FEED_MAX_BODY_BYTES)
        out[nw_utf8_truncate(out, strlen(out), NW_FEED_MAX_BODY_BYTES)] = '\0';
    return out;
}

/* The element's text on one line (ids, links, dates, languages), or NULL. */
static char *element_line(const xmlNode *n)
{
    if (n == NULL)
        return NULL;
    char *raw = raw_text(n, MAX_URL * 4);
    char *s = raw != NULL ? one_line(raw, strlen(raw), MAX_URL * 4) : NULL;
    free(raw);
    return s;
}

/* A URL in the text of n (or its attribute), resolved against n's xml:base chain and the document's
 * URL. */
static char *node_url(xmlDocPtr doc, const xmlNode *n, const char *href)
{
    if (href == NULL)
        return NULL;
    xmlChar *base = xmlNodeGetBase(doc, n);
    char *u = resolve_url(href, base);
    xmlFree(base);
    return u;
}

/* Sets published_at (or the date problem) from the date element n, named name. */
static void item_date(nw_feed_item *item, const xmlNode *n, const char *name, char **raw_out)
{
    char *raw = element_line(n);
    if (raw == NULL)
        return;
    char out[32], why[160];
    if (nw_feed_parse_date(raw, strlen(raw), out, why, sizeof why) == NW_OK)
        item->field[NW_DOC_PUBLISHED_AT] = nw_str_dup(out);
    else
        item->date_problem =
            dup_printf("cannot read the date '%.*s' (%s): %s",
                       (int)nw_utf8_truncate(raw, strlen(raw), 80), raw, name, why);
    *raw_out = raw;
}

/* The item's language: xml:lang on it or an ancestor, else the feed's. */
static char *node_lang(const xmlNode *n, const char *feed_lang)
{
    xmlChar *l = xmlNodeGetLang(n);
    char *t = lang_tag((const char *)l);
    xmlFree(l);
    if (t == NULL && feed_lang != NULL)
        t = nw_str_dup(feed_lang);
    return t;
}

/* Fills in the id and checks the item can become a document. */
static void finish_item(nw_feed_item *item, const char *raw_date)
{
    if (item->field[NW_DOC_ID] == NULL && item->field[NW_DOC_URL] != NULL)
        item->field[NW_DOC_ID] = nw_str_dup(item->field[NW_DOC_URL]);
    if (item->field[NW_DOC_ID] == NULL)
        item->field[NW_DOC_ID] = hash_id(item->field[NW_DOC_TITLE], raw_date);
    if (item->field[NW_DOC_TITLE] == NULL && item->field[NW_DOC_BODY] == NULL)
        item->problem = nw_str_dup("the item has no title and no text");
}

/* RSS 2.0 and RSS 1.0 items (same elements; RSS 1.0's id is rdf:about). */
static void rss_item(nw_feed *feed, xmlDocPtr doc, const xmlNode *it, const char *core_ns)
{
    nw_feed_item *item = add_item(feed);
    if (item == NULL)
        return;
    const xmlNode *title = NULL, *link = NULL, *guid = NULL, *desc = NULL, *content = NULL,
                  *pub = NULL, *dcdate = NULL, *atom_link = NULL, *dclang = NULL;
    for (const xmlNode *c = it->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (title == NULL && is_core(c, core_ns, "title"))
            title = c;
        else if (link == NULL && is_core(c, core_ns, "link"))
            link = c;
        else if (guid == NULL && is_core(c, core_ns, "guid"))
            guid = c;
        else if (desc == NULL && is_core(c, core_ns, "description"))
            desc = c;
        else if (content == NULL && is_el(c, NS_CONTENT, "encoded"))
            content = c;
        else if (pub == NULL && (is_core(c, core_ns, "pubDate") || is_core(c, core_ns, "pubdate")))
            pub = c;
        else if (dcdate == NULL && is_el(c, NS_DC, "date"))
            dcdate = c;
        else if (dclang == NULL && is_el(c, NS_DC, "language"))
            dclang = c;
        else if (atom_link == NULL && is_el(c, NS_ATOM, "link"))
            atom_link = c;
    }
    if (title != NULL) {
        char *raw = raw_text(title, NW_FEED_MAX_BYTES);
        if (raw != NULL)
            item->field[NW_DOC_TITLE] = title_text(raw, TITLE_GUESS);
        free(raw);
    }
    item->field[NW_DOC_BODY] = element_text(content, TT_HTML, false);
    if (item->field[NW_DOC_BODY] == NULL)
        item->field[NW_DOC_BODY] = element_text(desc, TT_HTML, false);

    char *href = element_line(link);
    item->field[NW_DOC_URL] = node_url(doc, link, href);
    free(href);
    if (item->field[NW_DOC_URL] == NULL && atom_link != NULL) {
        href = attr(atom_link, "href");
        item->field[NW_DOC_URL] = node_url(doc, atom_link, href);
        free(href);
    }
    char *g = element_line(guid);
    if (g != NULL) {
        item->field[NW_DOC_ID] = id_text(g, strlen(g));
        char *perma = attr(guid, "isPermaLink");
        if (item->field[NW_DOC_URL] == NULL && (perma == NULL || strcmp(perma, "false") != 0))
            item->field[NW_DOC_URL] = node_url(doc, guid, g);
        free(perma);
        free(g);
    }
    if (item->field[NW_DOC_ID] == NULL) {
        char *about = (char *)xmlGetNsProp(it, (const xmlChar *)"about", (const xmlChar *)NS_RDF);
        if (about != NULL) {
            item->field[NW_DOC_ID] = id_text(about, strlen(about));
            if (item->field[NW_DOC_URL] == NULL)
                item->field[NW_DOC_URL] = node_url(doc, it, about);
        }
        xmlFree(about);
    }
    char *raw_date = NULL;
    if (pub != NULL)
        item_date(item, pub, "pubDate", &raw_date);
    else if (dcdate != NULL)
        item_date(item, dcdate, "dc:date", &raw_date);
    char *dl = element_line(dclang);
    char *l = lang_tag(dl);
    free(dl);
    item->field[NW_DOC_LANG] = l != NULL ? l : node_lang(it, feed->lang);
    finish_item(item, raw_date);
    free(raw_date);
}

/* The Atom link an entry is about: rel="alternate" (or no rel), text/html first. */
static const xmlNode *atom_alternate(const xmlNode *entry, const char *ns)
{
    const xmlNode *best = NULL;
    int best_score = 0;
    for (const xmlNode *c = entry->children; c != NULL; c = c->next) {
        if (!is_el(c, ns, "link"))
            continue;
        char *rel = attr(c, "rel"), *type = attr(c, "type");
        int score = 0;
        if (rel == NULL || strcmp(rel, "alternate") == 0 ||
            strcmp(rel, "http://www.iana.org/assignments/relation/alternate") == 0)
            score = (type == NULL || strcmp(type, "text/html") == 0) ? 3 : 2;
        else if (strcmp(rel, "self") != 0 && strcmp(rel, "edit") != 0 &&
                 strcmp(rel, "enclosure") != 0 && strcmp(rel, "replies") != 0)
            score = 1; /* "related", "via": better than nothing */
        free(rel);
        free(type);
        if (score > best_score) {
            best = c;
            best_score = score;
        }
    }
    return best;
}

static void atom_entry(nw_feed *feed, xmlDocPtr doc, const xmlNode *e, const char *ns)
{
    nw_feed_item *item = add_item(feed);
    if (item == NULL)
        return;
    const xmlNode *title = NULL, *id = NULL, *content = NULL, *summary = NULL, *published = NULL,
                  *updated = NULL;
    for (const xmlNode *c = e->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (title == NULL && is_el(c, ns, "title"))
            title = c;
        else if (id == NULL && is_el(c, ns, "id"))
            id = c;
        else if (content == NULL && is_el(c, ns, "content"))
            content = c;
        else if (summary == NULL && is_el(c, ns, "summary"))
            summary = c;
        else if (published == NULL && (is_el(c, ns, "published") || is_el(c, ns, "issued")))
            published = c;
        else if (updated == NULL && (is_el(c, ns, "updated") || is_el(c, ns, "modified")))
            updated = c;
    }
    if (title != NULL) {
        text_type tt = atom_type(title);
        if (tt == TT_TEXT) {
            char *raw = raw_text(title, NW_FEED_MAX_BYTES);
            if (raw != NULL)
                item->field[NW_DOC_TITLE] = title_text(raw, TITLE_PLAIN);
            free(raw);
        } else {
            char *t = element_text(title, tt, false);
            if (t != NULL)
                item->field[NW_DOC_TITLE] = title_text(t, TITLE_PLAIN);
            free(t);
        }
    }
    char *src = content != NULL ? attr(content, "src") : NULL;
    if (content != NULL && src == NULL)
        item->field[NW_DOC_BODY] = element_text(content, atom_type(content), true);
    free(src);
    if (item->field[NW_DOC_BODY] == NULL && summary != NULL)
        item->field[NW_DOC_BODY] = element_text(summary, atom_type(summary), true);

    const xmlNode *link = atom_alternate(e, ns);
    if (link != NULL) {
        char *href = attr(link, "href");
        item->field[NW_DOC_URL] = node_url(doc, link, href);
        free(href);
    }
    char *i = element_line(id);
    if (i != NULL)
        item->field[NW_DOC_ID] = id_text(i, strlen(i));
    free(i);
    char *raw_date = NULL;
    if (published != NULL)
        item_date(item, published, (const char *)published->name, &raw_date);
    else if (updated != NULL)
        item_date(item, updated, (const char *)updated->name, &raw_date);
    const xmlNode *lang_node = content != NULL ? content : e;
    item->field[NW_DOC_LANG] = node_lang(lang_node, feed->lang);
    finish_item(item, raw_date);
    free(raw_date);
}

/* The feed-level title and language of a channel or an Atom feed. */
static void feed_meta(nw_feed *feed, const xmlNode *head, const char *core_ns)
{
    for (const xmlNode *c = head->children; c != NULL; c = c->next) {
        if (feed->title == NULL && is_core(c, core_ns, "title")) {
            char *raw = raw_text(c, NW_FEED_MAX_BYTES);
            if (raw != NULL)
                feed->title = title_text(raw, TITLE_GUESS);
            free(raw);
        } else if (feed->lang == NULL &&
                   (is_core(c, core_ns, "language") || is_el(c, NS_DC, "language"))) {
            char *l = element_line(c);
            feed->lang = lang_tag(l);
            free(l);
        }
    }
    if (feed->lang == NULL) {
        xmlChar *l = xmlNodeGetLang(head);
        feed->lang = lang_tag((const char *)l);
        xmlFree(l);
    }
}

static bool too_many(nw_feed *feed)
{
    return feed->nitems >= NW_FEED_MAX_ITEMS;
}

static nw_err parse_xml(const char *data, size_t len, const char *base_url, const char *charset,
                        nw_feed *feed, char *errbuf, size_t errlen)
{
    pthread_once(&xml_once, xml_init);
    if (charset != NULL) {
        xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(charset);
        if (h == NULL)
            return nw_set_error(errbuf, errlen, NW_EINVAL,
                                "unknown charset '%.40s' (from the Content-Type)", charset);
        xmlCharEncCloseFunc(h);
    }
    xml_state st;
    xmlDocPtr doc = read_xml(data, len, base_url, charset, false, &st);
    char warning[256] = "";
    if (!st.fatal && st.nerrors > 0) {
        /* Not well-formed: first mend bare ampersands; then libxml2's recovery mode. Say so. */
        int line = st.first_line;
        char msg[160];
        snprintf(msg, sizeof msg, "%s", st.first_msg);
        size_t nrep;
        char *fixed = repair_ampersands(data, len, &nrep);
        if (fixed != NULL) {
            xmlFreeDoc(doc);
            doc = read_xml(fixed, strlen(fixed), base_url, charset, false, &st);
            snprintf(warning, sizeof warning,
                     "the feed is not well-formed XML (line %d: %s); %zu bare '&' read as "
                     "'&amp;'",
                     line, msg, nrep);
        }
        if (!st.fatal && st.nerrors > 0) {
            snprintf(warning, sizeof warning,
                     "the feed is not well-formed XML (line %d: %s); read in recovery mode, "
                     "some text may be lost",
                     st.first_line, st.first_msg);
            xmlFreeDoc(doc);
            doc = fixed != NULL ? read_xml(fixed, strlen(fixed), base_url, charset, true, &st)
                                : read_xml(data, len, base_url, charset, true, &st);
        }
        free(fixed);
    }
    if (st.fatal) {
        xmlFreeDoc(doc);
        return nw_set_error(errbuf, errlen, st.fatal_err, "%s%s%s", st.fatal_msg,
                            st.fatal_err == NW_EUTF8 ? "; charset " : "",
                            st.fatal_err == NW_EUTF8
                                ? (charset != NULL ? charset
                                                   : "of the XML declaration, or UTF-8 when it "
                                                     "names none (pass the Content-Type's charset "
                                                     "if the feed is in another)")
                                : "");
    }
    const xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
    if (root == NULL) {
        xmlFreeDoc(doc);
        if (st.nerrors > 0)
            return nw_set_error(errbuf, errlen, NW_EINVAL, "not XML: line %d: %s", st.first_line,
                                st.first_msg);
        return nw_set_error(errbuf, errlen, NW_EINVAL, "not XML: no root element");
    }
    const char *root_ns = root->ns != NULL ? (const char *)root->ns->href : NULL;
    const char *name = (const char *)root->name;
    nw_err err = NW_OK;
    size_t skipped = 0;
    if (strcmp(name, "rss") == 0) {
        feed->format = NW_FEED_RSS2;
        const xmlNode *channel = NULL;
        for (const xmlNode *c = root->children; c != NULL && channel == NULL; c = c->next)
            if (is_core(c, root_ns, "channel"))
                channel = c;
        if (channel != NULL)
            feed_meta(feed, channel, root_ns);
        /* Items belong in the channel; some 0.9x feeds put them beside it. */
        const xmlNode *parents[2] = {channel, root};
        for (int k = 0; k < 2; k++)
            for (const xmlNode *c = parents[k] != NULL ? parents[k]->children : NULL; c != NULL;
                 c = c->next)
                if (is_core(c, root_ns, "item")) {
                    if (too_many(feed))
                        skipped++;
                    else
                        rss_item(feed, doc, c, root_ns);
                }
    } else if (strcmp(name, "RDF") == 0) {
        feed->format = NW_FEED_RSS1;
        /* RSS 1.0's elements are in its namespace (0.90's in its own): the channel's tells. */
        const char *core_ns = NULL;
        for (const xmlNode *c = root->children; c != NULL; c = c->next)
            if (c->type == XML_ELEMENT_NODE && (strcmp((const char *)c->name, "channel") == 0 ||
                                                strcmp((const char *)c->name, "item") == 0)) {
                core_ns = c->ns != NULL ? (const char *)c->ns->href : NULL;
                if (strcmp((const char *)c->name, "channel") == 0)
                    feed_meta(feed, c, core_ns);
                break;
            }
        for (const xmlNode *c = root->children; c != NULL; c = c->next)
            if (is_core(c, core_ns, "item")) {
                if (too_many(feed))
                    skipped++;
                else
                    rss_item(feed, doc, c, core_ns);
            }
    } else if (strcmp(name, "feed") == 0 && (root_ns == NULL || strcmp(root_ns, NS_ATOM) == 0 ||
                                             strcmp(root_ns, NS_ATOM03) == 0)) {
        feed->format = NW_FEED_ATOM;
        feed_meta(feed, root, root_ns);
        for (const xmlNode *c = root->children; c != NULL; c = c->next)
            if (is_el(c, root_ns, "entry")) {
                if (too_many(feed))
                    skipped++;
                else
                    atom_entry(feed, doc, c, root_ns);
            }
    } else if (strcasecmp(name, "html") == 0) {
        err = nw_set_error(errbuf, errlen, NW_EINVAL,
                           "an HTML page, not a feed (the root element is <html>)");
    } else {
        err = nw_set_error(errbuf, errlen, NW_EINVAL,
                           "not a feed: the root element is <%.*s>, not <rss>, <rdf:RDF> or "
                           "<feed> (Atom)",
                           (int)nw_utf8_truncate(name, strlen(name), 40), name);
    }
    xmlFreeDoc(doc);
    if (err != NW_OK)
        return err;
    if (skipped > 0) {
        size_t n = strlen(warning);
        snprintf(warning + n, sizeof warning - n, "%s%zu items over the limit of %d left out",
                 n > 0 ? "; " : "", skipped, NW_FEED_MAX_ITEMS);
    }
    nw_utf8_mend(warning);
    if (warning[0] != '\0' && (feed->warning = nw_str_dup(warning)) == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    return NW_OK;
}

/* ---------------------------------------------------------------- JSON Feed */

static const char *json_str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void json_item(nw_feed *feed, const json_t *it, size_t index, const char *base_url)
{
    nw_feed_item *item = add_item(feed);
    if (item == NULL)
        return;
    if (!json_is_object(it)) {
        item->problem = dup_printf("item %zu is not a JSON object", index + 1);
        return;
    }
    const char *title = json_str(it, "title");
    if (title != NULL)
        item->field[NW_DOC_TITLE] = title_text(title, TITLE_PLAIN);
    const char *text = json_str(it, "content_text"), *html = json_str(it, "content_html"),
               *summary = json_str(it, "summary");
    if (text != NULL) {
        nw_textbuf b;
        nw_textbuf_init(&b, NW_FEED_MAX_BODY_BYTES, false);
        nw_textbuf_lines(&b, text, strlen(text));
        item->field[NW_DOC_BODY] = nonempty(nw_textbuf_take(&b, NULL));
    }
    if (item->field[NW_DOC_BODY] == NULL && html != NULL)
        item->field[NW_DOC_BODY] = html_text(html, strlen(html));
    if (item->field[NW_DOC_BODY] == NULL && summary != NULL) {
        nw_textbuf b;
        nw_textbuf_init(&b, NW_FEED_MAX_BODY_BYTES, false);
        nw_textbuf_lines(&b, summary, strlen(summary));
        item->field[NW_DOC_BODY] = nonempty(nw_textbuf_take(&b, NULL));
    }
    const char *url = json_str(it, "url");
    if (url == NULL)
        url = json_str(it, "external_url");
    if (url != NULL)
        item->field[NW_DOC_URL] = resolve_url(url, (const xmlChar *)base_url);
    const json_t *id = json_object_get(it, "id");
    if (json_is_string(id))
        item->field[NW_DOC_ID] = id_text(json_string_value(id), json_string_length(id));
    else if (json_is_integer(id))
        item->field[NW_DOC_ID] = dup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(id));
    const char *date = json_str(it, "date_published"), *date_name = "date_published";
    if (date == NULL) {
        date = json_str(it, "date_modified");
        date_name = "date_modified";
    }
    if (date != NULL) {
        char out[32], why[160];
        if (nw_feed_parse_date(date, strlen(date), out, why, sizeof why) == NW_OK)
            item->field[NW_DOC_PUBLISHED_AT] = nw_str_dup(out);
        else
            item->date_problem =
                dup_printf("cannot read the date '%.*s' (%s): %s",
                           (int)nw_utf8_truncate(date, strlen(date), 80), date, date_name, why);
    }
    char *l = lang_tag(json_str(it, "language"));
    item->field[NW_DOC_LANG] = l != NULL ? l : (feed->lang != NULL ? nw_str_dup(feed->lang) : NULL);
    finish_item(item, date);
}

static nw_err parse_json(const char *data, size_t len, const char *base_url, nw_feed *feed,
                         char *errbuf, size_t errlen)
{
    size_t bad;
    if (!nw_utf8_valid(data, len, &bad))
        return nw_set_error(errbuf, errlen, NW_EUTF8,
                            "cannot decode the JSON Feed: invalid UTF-8 at byte offset %zu", bad);
    json_error_t jerr;
    json_t *root = json_loadb(data, len, 0, &jerr);
    if (root == NULL)
        return nw_set_error(errbuf, errlen, NW_EJSON, "not valid JSON: %s (line %d, column %d)",
                            jerr.text, jerr.line, jerr.column);
    nw_err err = NW_OK;
    const char *version = json_str(root, "version");
    const json_t *items = json_object_get(root, "items");
    if (!json_is_object(root)) {
        err = nw_set_error(errbuf, errlen, NW_EJSON, "not a JSON Feed: not a JSON object");
    } else if ((version == NULL || strncmp(version, "https://jsonfeed.org/version/", 29) != 0) &&
               !json_is_array(items)) {
        err = nw_set_error(errbuf, errlen, NW_EJSON,
                           "not a JSON Feed: no \"version\": \"https://jsonfeed.org/version/1.1\" "
                           "and no \"items\" array");
    } else if (!json_is_array(items)) {
        err = nw_set_error(errbuf, errlen, NW_EJSON, "the JSON Feed has no \"items\" array");
    } else {
        feed->format = NW_FEED_JSON;
        const char *t = json_str(root, "title");
        feed->title = t != NULL ? title_text(t, TITLE_PLAIN) : NULL;
        feed->lang = lang_tag(json_str(root, "language"));
        const char *base = json_str(root, "feed_url") != NULL && base_url == NULL
                               ? json_str(root, "feed_url")
                               : base_url;
        size_t n = json_array_size(items);
        for (size_t i = 0; i < n && i < NW_FEED_MAX_ITEMS; i++)
            json_item(feed, json_array_get(items, i), i, base);
        if (n > NW_FEED_MAX_ITEMS)
            feed->warning = dup_printf("%zu items over the limit of %d left out",
                                       n - NW_FEED_MAX_ITEMS, NW_FEED_MAX_ITEMS);
    }
    json_decref(root);
    return err;
}

/* ---------------------------------------------------------------- entry point */

nw_err nw_feed_parse(const char *data, size_t len, const char *base_url, const char *charset,
                     nw_feed **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    if (len > NW_FEED_MAX_BYTES)
        return nw_set_error(errbuf, errlen, NW_ETOOBIG, "the feed is %zu bytes; the limit is %u",
                            len, NW_FEED_MAX_BYTES);
    size_t i = 0;
    const unsigned char *u = (const unsigned char *)data;
    if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
        i = 3;
    while (i < len && (u[i] == ' ' || u[i] == '\t' || u[i] == '\r' || u[i] == '\n'))
        i++;
    if (i == len)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "empty: no feed in the response");
    nw_feed *feed = calloc(1, sizeof *feed);
    if (feed == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    nw_err err;
    if (u[i] == '{' || u[i] == '[')
        err = parse_json(data + i, len - i, base_url, feed, errbuf, errlen);
    else
        err = parse_xml(data, len, base_url, charset, feed, errbuf, errlen);
    if (err != NW_OK) {
        nw_feed_free(feed);
        return err;
    }
    *out = feed;
    return NW_OK;
}
