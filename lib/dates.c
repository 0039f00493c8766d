#include "newswatch/dates.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/hash.h"
#include "newswatch/phrases.h"
#include "grow.h"
#include "lookups.h"

/* Month names in the matching form (ة→ه, أإآ→ا, ى→ي, lower case). */
#define W(s, v)                                                                                    \
    {                                                                                              \
        s, sizeof(s) - 1, v                                                                        \
    }
static const struct {
    const char *word;
    size_t len;
    int month;
} months[] = {
    W("يناير", 1),    W("جانفي", 1),     W("january", 1),  W("jan", 1),       W("فبراير", 2),
    W("شباط", 2),     W("فيفري", 2),     W("february", 2), W("feb", 2),       W("مارس", 3),
    W("اذار", 3),     W("march", 3),     W("mar", 3),      W("ابريل", 4),     W("نيسان", 4),
    W("افريل", 4),    W("april", 4),     W("apr", 4),      W("مايو", 5),      W("ايار", 5),
    W("ماي", 5),      W("may", 5),       W("يونيو", 6),    W("يونيه", 6),     W("حزيران", 6),
    W("جوان", 6),     W("june", 6),      W("jun", 6),      W("يوليو", 7),     W("يوليه", 7),
    W("تموز", 7),     W("جويليه", 7),    W("july", 7),     W("jul", 7),       W("اغسطس", 8),
    W("اب", 8),       W("اوت", 8),       W("august", 8),   W("aug", 8),       W("سبتمبر", 9),
    W("ايلول", 9),    W("september", 9), W("sep", 9),      W("sept", 9),      W("اكتوبر", 10),
    W("october", 10), W("oct", 10),      W("نوفمبر", 11),  W("november", 11), W("nov", 11),
    W("ديسمبر", 12),  W("december", 12), W("dec", 12),
};

static const struct {
    const char *word;
    size_t len;
    int day;
} weekdays[] = {
    W("الاثنين", 1),  W("الاتنين", 1),   W("monday", 1),   W("الثلاثاء", 2), W("tuesday", 2),
    W("الاربعاء", 3), W("wednesday", 3), W("الخميس", 4),   W("thursday", 4), W("الجمعه", 5),
    W("friday", 5),   W("السبت", 6),     W("saturday", 6), W("الاحد", 7),    W("sunday", 7),
};

#undef W

static bool eq(const char *w, size_t len, const char *s)
{
    return strlen(s) == len && memcmp(w, s, len) == 0;
}

/*
 * Month and weekday names in one open-addressing table (nw_hash_table64), built
 * once: every word of every sentence is looked up (twice for a clitic form),
 * and a linear scan of 68 names was a tenth of the text pipeline's time.
 */
#define NAME_SLOTS 256 /* a power of two, over twice the names */
enum { KIND_MONTH, KIND_WEEKDAY };
static struct {
    const char *word;
    uint8_t len, kind, value;
} name_slots[NAME_SLOTS];
/*
 * A bit per (length, second byte, last two bytes) of the names, by a
 * multiplicative hash to 8192 bits: nearly every word of a text fails this
 * test (the second byte tells Arabic letters apart), before any hashing.
 */
#define SHAPE_BITS 8192
static uint64_t shape_filter[SHAPE_BITS / 64];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

/* w has 3 to 16 bytes. */
static uint32_t shape_bit(const char *w, size_t len)
{
    uint32_t k = (uint32_t)(unsigned char)w[1] | (uint32_t)(unsigned char)w[len - 2] << 8 |
                 (uint32_t)(unsigned char)w[len - 1] << 16 | (uint32_t)len << 24;
    return (k * 0x9E3779B1u) >> 19; /* 13 bits */
}

static uint32_t name_hash(const char *w, size_t len)
{
    return (uint32_t)nw_hash_table64(w, len);
}

static void name_put(const char *word, size_t len, int kind, int value)
{
    uint32_t i = name_hash(word, len) & (NAME_SLOTS - 1);
    while (name_slots[i].word != NULL)
        i = (i + 1) & (NAME_SLOTS - 1);
    name_slots[i].word = word;
    name_slots[i].len = (uint8_t)len;
    name_slots[i].kind = (uint8_t)kind;
    name_slots[i].value = (uint8_t)value;
    if (len >= 3 && len <= 16) { /* every name is (name_lookup looks at 3..16 bytes only) */
        uint32_t b = shape_bit(word, len);
        shape_filter[b / 64] |= 1ull << (b % 64);
    }
}

static void names_init(void)
{
    for (size_t i = 0; i < sizeof months / sizeof months[0]; i++)
        name_put(months[i].word, months[i].len, KIND_MONTH, months[i].month);
    for (size_t i = 0; i < sizeof weekdays / sizeof weekdays[0]; i++)
        name_put(weekdays[i].word, weekdays[i].len, KIND_WEEKDAY, weekdays[i].day);
}

/* May w be a name? (false: certainly not) Inlined: it runs for every word. */
static inline bool maybe_name(const char *w, size_t len)
{
    if (len < 3 || len > 16)
        return false;
    uint32_t b = shape_bit(w, len);
    return (shape_filter[b / 64] >> (b % 64)) & 1;
}

static int probe_name(const char *w, size_t len, int kind)
{
    for (uint32_t i = name_hash(w, len) & (NAME_SLOTS - 1); name_slots[i].word != NULL;
         i = (i + 1) & (NAME_SLOTS - 1))
        if (name_slots[i].len == len && name_slots[i].kind == kind &&
            memcmp(name_slots[i].word, w, len) == 0)
            return name_slots[i].value;
    return 0;
}

/* The month (1-12) or weekday (1-7) w names, as kind says; 0 when none. After names_init. */
static inline int name_lookup(const char *w, size_t len, int kind)
{
    return maybe_name(w, len) ? probe_name(w, len, kind) : 0;
}

int nw_dates_month(const char *w, size_t len)
{
    pthread_once(&names_once, names_init);
    return name_lookup(w, len, KIND_MONTH);
}

int nw_dates_month2(const char *w1, size_t len1, const char *w2, size_t len2)
{
    bool first = eq(w2, len2, "الاول"), second = eq(w2, len2, "الثاني");
    if (eq(w1, len1, "كانون"))
        return first ? 12 : second ? 1 : 0;
    if (eq(w1, len1, "تشرين"))
        return first ? 10 : second ? 11 : 0;
    return 0;
}

int nw_dates_weekday(const char *w, size_t len)
{
    pthread_once(&names_once, names_init);
    return name_lookup(w, len, KIND_WEEKDAY);
}

/*
 * nw_dates_words: built once with a normaliser of its own, never freed. Its
 * values: a month (1-12), WEEKDAY + a weekday (1-7), or NO_NAME for the
 * first words of two-word months alone (كانون, تشرين).
 */
#define WEEKDAY 100
#define NO_NAME 0
static const nw_phrases *date_words;
static pthread_once_t words_once = PTHREAD_ONCE_INIT;

static void words_init(void)
{
    char err[256];
    nw_normalizer *n = nw_normalizer_new(err, sizeof err);
    nw_text *t = nw_text_new();
    nw_segments *s = nw_segments_new();
    nw_phrases *p = nw_phrases_new();
    bool ok = n != NULL && t != NULL && s != NULL && p != NULL;
    for (size_t i = 0; ok && i < sizeof months / sizeof months[0]; i++)
        ok = nw_phrases_add(p, n, t, s, months[i].word, months[i].len, (uint32_t)months[i].month,
                            err, sizeof err) == NW_OK;
    for (size_t i = 0; ok && i < sizeof weekdays / sizeof weekdays[0]; i++)
        ok = nw_phrases_add(p, n, t, s, weekdays[i].word, weekdays[i].len,
                            WEEKDAY + (uint32_t)weekdays[i].day, err, sizeof err) == NW_OK;
    static const struct {
        const char *words;
        uint32_t month;
    } two_words[] = {
        {"كانون", NO_NAME},  {"تشرين", NO_NAME},  {"كانون الثاني", 1},
        {"كانون الأول", 12}, {"تشرين الأول", 10}, {"تشرين الثاني", 11},
    };
    for (size_t i = 0; ok && i < sizeof two_words / sizeof two_words[0]; i++)
        ok = nw_phrases_add(p, n, t, s, two_words[i].words, strlen(two_words[i].words),
                            two_words[i].month, err, sizeof err) == NW_OK;
    nw_segments_free(s);
    nw_text_free(t);
    nw_normalizer_free(n);
    if (!ok) {
        nw_phrases_free(p);
        p = NULL;
    }
    date_words = p;
}

const nw_phrases *nw_dates_words(void)
{
    pthread_once(&words_once, words_init);
    return date_words;
}

typedef struct cursor {
    const nw_text *t;
    const nw_segments *s;
    size_t end; /* one past the sentence's last token */
} cursor;

static const char *word(const cursor *c, size_t i, size_t *len)
{
    const nw_token *tok = &c->s->tokens[i];
    *len = c->t->match_cp[tok->end] - c->t->match_cp[tok->start];
    return c->t->match + c->t->match_cp[tok->start];
}

static int number(const cursor *c, size_t i, int digits_min, int digits_max)
{
    if (i >= c->end || c->s->tokens[i].kind != NW_TOKEN_NUMBER)
        return -1;
    size_t len;
    const char *w = word(c, i, &len);
    if ((int)len < digits_min || (int)len > digits_max)
        return -1;
    int v = 0;
    for (size_t k = 0; k < len; k++) {
        if (w[k] < '0' || w[k] > '9')
            return -1;
        v = v * 10 + (w[k] - '0');
    }
    return v;
}

/* The characters between tokens i and i+1 (none, or only those in allowed). */
static bool gap_only(const cursor *c, size_t i, const char *allowed, size_t max)
{
    if (i + 1 >= c->end)
        return false;
    uint32_t a = c->t->match_cp[c->s->tokens[i].end], b = c->t->match_cp[c->s->tokens[i + 1].start];
    if (b - a > max)
        return false;
    for (uint32_t k = a; k < b; k++)
        if (strchr(allowed, c->t->match[k]) == NULL)
            return false;
    return true;
}

/*
 * The date name at token i, read by the phrases of nw_dates_words with their
 * handling of clitics: a month (1-12) or WEEKDAY + a weekday (1-7), 0 for
 * none. *n receives the tokens it spans (2 for كانون الثاني), *clitic
 * whether it follows a و or ب joined to it (وبغداد's و). Only the readings
 * dates accept are taken: the whole word, a month after one clitic و or ب,
 * a two-word month whose words one space separates.
 */
static int name_at(const cursor *c, size_t i, size_t *n, bool *clitic)
{
    nw_phrase_hit h;
    *n = 1;
    *clitic = false;
    if (i >= c->end || c->s->tokens[i].kind != NW_TOKEN_WORD ||
        !nw_phrases_match(date_words, c->t, c->s, i, &h) || h.nvalues != 1 ||
        h.values[0] == NO_NAME)
        return 0;
    const nw_token *tok = &c->s->tokens[i];
    int v = (int)h.values[0];
    if (h.ntokens == 2)
        return h.start == tok->start && gap_only(c, i, " ", 1) ? (*n = 2, v) : 0;
    if (h.end != tok->end)
        return 0; /* an English possessive: no date name */
    if (h.start == tok->start)
        return v;
    size_t len;
    const char *w = word(c, i, &len);
    *clitic = h.start == tok->start + 1 && (memcmp(w, "ب", 2) == 0 || memcmp(w, "و", 2) == 0);
    return *clitic && v < WEEKDAY ? v : 0;
}

/* A month at token i (one or two words); *n receives the words used. */
static int month_at(const cursor *c, size_t i, size_t *n)
{
    bool clitic;
    int v = name_at(c, i, n, &clitic);
    return v < WEEKDAY ? v : 0;
}

static bool year_ok(int y)
{
    return y >= NW_DATES_YEAR_MIN && y <= NW_DATES_YEAR_MAX;
}

/* Skips "/ November" after an Arabic month name (الخميس 21 نوفمبر / November 2024). */
static size_t skip_alternate_month(const cursor *c, size_t i)
{
    size_t n;
    if (i < c->end && gap_only(c, i - 1, " /-()", 4) && month_at(c, i, &n) > 0)
        return i + n;
    return i;
}

static bool add(nw_dates *out, const cursor *c, size_t first, size_t last, int y, int m, int d)
{
    if (!nw_grow((void **)&out->dates, &out->cap, out->ndates + 1, sizeof(*out->dates)))
        return false;
    nw_date *dt = &out->dates[out->ndates++];
    dt->start = c->s->tokens[first].start;
    dt->end = c->s->tokens[last].end;
    dt->sentence = c->s->tokens[first].sentence;
    dt->year = y;
    dt->month = m;
    dt->day = d;
    return true;
}

/* Tries every pattern at token i; returns the tokens used (0 for none). */
static size_t date_at(nw_dates *out, const cursor *c, size_t i, bool *oom)
{
    size_t first = i, n, first_n = 1;
    int wd = 0, first_name = 0; /* the name at token first, looked up once */
    if (c->s->tokens[i].kind == NW_TOKEN_WORD) {
        bool clitic;
        first_name = name_at(c, i, &first_n, &clitic);
        wd = first_name > WEEKDAY ? first_name - WEEKDAY : 0;
        if (wd > 0 && i + 1 < c->end && gap_only(c, i, " ,", 2))
            i++;
    }
    /* day month [/ month] [year] */
    int d = number(c, i, 1, 2);
    if (d >= 1 && d <= 31 && gap_only(c, i, " ", 1)) {
        int m = month_at(c, i + 1, &n);
        if (m > 0) {
            size_t j = skip_alternate_month(c, i + 1 + n);
            int y = (j < c->end && gap_only(c, j - 1, " ,", 2)) ? number(c, j, 4, 4) : -1;
            size_t last = year_ok(y) ? j : j - 1;
            *oom = !add(out, c, first, last, year_ok(y) ? y : 0, m, d);
            return last - first + 1;
        }
    }
    /* month day[,] [year] | month [/ month] year */
    int m;
    if (i == first) {
        m = first_name < WEEKDAY ? first_name : 0;
        n = first_n;
    } else {
        m = month_at(c, i, &n);
    }
    if (m > 0) {
        size_t j = skip_alternate_month(c, i + n);
        if (j < c->end && gap_only(c, j - 1, " ", 1)) {
            d = number(c, j, 1, 2);
            if (d >= 1 && d <= 31) {
                int y = gap_only(c, j, " ,", 2) ? number(c, j + 1, 4, 4) : -1;
                size_t last = year_ok(y) ? j + 1 : j;
                *oom = !add(out, c, first, last, year_ok(y) ? y : 0, m, d);
                return last - first + 1;
            }
            int y = number(c, j, 4, 4);
            if (year_ok(y)) {
                *oom = !add(out, c, first, j, y, m, 0);
                return j - first + 1;
            }
        }
    }
    if (wd > 0)
        return 0;
    /* Numeric: d/m/y, y-m-d, y/m/d */
    int a = number(c, i, 1, 4);
    if (a >= 0 && gap_only(c, i, "/-.", 1) && gap_only(c, i + 1, "/-.", 1)) {
        int b = number(c, i + 1, 1, 2), z = number(c, i + 2, 1, 4);
        char s1 = c->t->match[c->t->match_cp[c->s->tokens[i].end]];
        char s2 = c->t->match[c->t->match_cp[c->s->tokens[i + 1].end]];
        if (b >= 1 && s1 == s2) {
            if (year_ok(a) && b <= 12 && z >= 1 && z <= 31) {
                *oom = !add(out, c, i, i + 2, a, b, z);
                return 3;
            }
            if (year_ok(z) && a >= 1 && a <= 31 && b <= 12) {
                *oom = !add(out, c, i, i + 2, z, b, a);
                return 3;
            }
        }
    }
    return 0;
}

nw_err nw_dates_find(const nw_text *t, const nw_segments *s, nw_dates *out, char *errbuf,
                     size_t errlen)
{
    out->ndates = 0;
    /*
     * The next word the screen of nw_dates_words lets through (every word,
     * when s has no such screen): the others start no date.
     */
    const nw_phrases *words = nw_dates_words();
    if (words == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory (the dates' words)");
    size_t next_word = 0;
    for (size_t si = 0; si < s->nsentences; si++) {
        const nw_sentence *st = &s->sentences[si];
        cursor c = {t, s, st->first_token + st->ntokens};
        for (size_t i = st->first_token; i < c.end;) {
            bool oom = false;
            const nw_token *tok = &s->tokens[i];
            if (tok->kind == NW_TOKEN_WORD && next_word < i)
                next_word = nw_lookups_next(words, s, i);
            size_t used =
                (tok->flags & NW_TOKEN_IN_URL) || (tok->kind == NW_TOKEN_WORD && next_word > i)
                    ? 0
                    : date_at(out, &c, i, &oom);
            if (oom)
                return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
            i += used > 0 ? used : 1;
        }
    }
    return NW_OK;
}

void nw_date_iso(const nw_date *d, char out[32])
{
    if (d->year > 0 && d->day > 0)
        snprintf(out, 32, "%04d-%02d-%02d", d->year, d->month, d->day);
    else if (d->year > 0)
        snprintf(out, 32, "%04d-%02d", d->year, d->month);
    else
        snprintf(out, 32, "--%02d-%02d", d->month, d->day);
}
