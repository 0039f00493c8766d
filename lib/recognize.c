#include "newswatch/recognize.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/dates.h"
#include "newswatch/phrases.h"

/* Values of the word index. */
enum {
    W_KILLED = 1,
    W_WOUNDED,
    W_KILLED_NOUN,   /* the figure comes before: 32 قتيلا */
    W_WOUNDED_NOUN,  /* the figure comes before: 110 جرحى */
    W_TOLL,          /* "death toll ... reached N", "ارتفعت الحصيلة الى N" */
    W_UNIT,          /* a number followed by this is not a casualty figure */
    W_TITLE,         /* a title or role: a name may follow */
    W_TITLE_OF,      /* "spokesman for X": an organisation follows, not a name */
    W_MODIFIER,      /* skipped between a title and a name */
    W_STOP,          /* never part of a name */
    W_NUMBER = 1000, /* + value */
};

/* Verbs and verbal nouns: the figure follows (قتل 32) or comes before (32 killed). */
static const char *const killed[] = {
    "قتل",     "مقتل",   "مصرع",  "وفاة",    "توفي", "لقي حتفه", "لقوا حتفهم",
    "استشهاد", "killed", "kills", "killing", "died", "death",
};
static const char *const wounded[] = {
    "إصابة",   "أصيب",    "أصيبوا",   "إصابات",   "جرح",
    "wounded", "injured", "injuring", "wounding", "hurt",
};
/* Nouns for the people: the figure comes before them (32 قتيلا، 110 جرحى, 32 dead). */
static const char *const killed_nouns[] = {
    "قتيل", "قتيلا", "قتلى", "شهيد",   "شهيدا",      "شهداء",
    "ضحية", "ضحايا", "dead", "deaths", "fatalities", "lives",
};
static const char *const wounded_nouns[] = {
    "جريح", "جريحا", "جرحى", "مصاب", "مصابا", "مصابين", "injuries", "wounds",
};
static const char *const tolls[] = {"حصيلة", "الحصيلة", "death toll", "toll", "casualty toll"};
static const char *const units[] = {
    "ساعة",   "ساعات",  "يوم",     "يوما",    "أيام",    "شهر",        "شهرا",       "أشهر",
    "شهور",   "عام",    "عاما",    "أعوام",   "سنة",     "سنوات",      "دقيقة",      "دقائق",
    "ثانية",  "أسبوع",  "أسابيع",  "بالمئة",  "بالمائة", "في المئة",   "كيلومتر",    "كيلومترا",
    "كلم",    "متر",    "مترا",    "دولار",   "دولارا",  "دينار",      "مليون",      "مليار",
    "ألف",    "hours",  "hour",    "days",    "day",     "weeks",      "months",     "month",
    "years",  "year",   "minutes", "percent", "km",      "kilometres", "kilometers", "miles",
    "metres", "meters", "dollars", "million", "billion", "thousand",
};
static const char *const titles[] = {
    "رئيس الوزراء",
    "رئيس الحكومة",
    "الرئيس",
    "نائب الرئيس",
    "الوزير",
    "وزير الداخلية",
    "وزير الدفاع",
    "وزير الخارجية",
    "وزير المالية",
    "اللواء",
    "اللواء الركن",
    "العميد",
    "العميد الركن",
    "الفريق",
    "الفريق الركن",
    "الفريق أول",
    "العقيد",
    "المقدم",
    "الرائد",
    "النقيب",
    "الباحث",
    "الخبير",
    "المحلل",
    "السفير",
    "النائب",
    "القيادي",
    "الشيخ",
    "الدكتور",
    "المرجع",
    "المستشار",
    "المدير",
    "القائد",
    "الصحفي",
    "الكاتب",
    "الأستاذ",
    "Prime Minister",
    "President",
    "Minister",
    "Foreign Minister",
    "Defence Minister",
    "Defense Minister",
    "Interior Minister",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "General",
    "Gen",
    "Major General",
    "Maj. Gen",
    "Brigadier General",
    "Brig. Gen",
    "Colonel",
    "Col",
    "Lieutenant",
    "Lt",
    "Captain",
    "Capt",
    "researcher",
    "analyst",
    "expert",
    "ambassador",
    "Ambassador",
    "Dr",
    "Sheikh",
    "Mr",
    "Mrs",
    "Ms",
    "MP",
    "lawmaker",
    "commander",
    "cleric",
    "journalist",
    "professor",
};
static const char *const titles_of[] = {
    "الناطق باسم",   "المتحدث باسم",    "الناطق الرسمي باسم", "المتحدث الرسمي باسم",
    "spokesman for", "spokeswoman for", "spokesperson for",   "spokesman of",
};
static const char *const modifiers[] = {
    "العراقي",  "الأمني",    "العسكري",  "السياسي", "الأميركي", "الأمريكي",    "الإيراني",
    "الأسبق",   "السابق",    "الحالي",   "الراحل",  "البارز",   "الاستراتيجي", "الاستراتيجية",
    "الأمنية",  "Iraqi",     "American", "US",      "Iranian",  "former",      "security",
    "military", "political", "senior",   "local",   "late",     "regional",
};
static const char *const stops[] = {
    "من",   "في",   "على",  "الى",   "إلى",  "عن",     "أن",     "إن",    "ان",    "انه",  "أنه",
    "إنه",  "قال",  "قالت", "وقال",  "أكد",  "ذكر",    "أعلن",   "أضاف",  "مع",    "بعد",  "قبل",
    "خلال", "حول",  "عبر",  "منذ",   "ضد",   "بين",    "أو",     "ثم",    "لم",    "لن",   "ما",
    "لا",   "كل",   "هو",   "هي",    "هم",   "الذي",   "التي",   "الذين", "هذا",   "هذه",  "ذلك",
    "تلك",  "أيضا", "حيث",  "كما",   "وفقا", "لوكالة", "لصحيفة", "لقناة", "لموقع", "said", "says",
    "told", "of",   "the",  "and",   "in",   "on",     "at",     "to",    "for",   "from", "with",
    "by",   "who",  "that", "was",   "is",   "has",    "had",    "will",  "would", "a",    "an",
    "as",   "his",  "her",  "their",
};
static const struct {
    const char *word;
    int value;
} number_words[] = {
    {"واحد", 1},       {"واحدة", 1},     {"اثنان", 2},     {"اثنين", 2},    {"اثنتين", 2},
    {"ثلاثة", 3},      {"ثلاث", 3},      {"أربعة", 4},     {"أربع", 4},     {"خمسة", 5},
    {"خمس", 5},        {"ستة", 6},       {"ست", 6},        {"سبعة", 7},     {"سبع", 7},
    {"ثمانية", 8},     {"ثماني", 8},     {"تسعة", 9},      {"تسع", 9},      {"عشرة", 10},
    {"عشر", 10},       {"عشرون", 20},    {"عشرين", 20},    {"ثلاثون", 30},  {"ثلاثين", 30},
    {"أربعون", 40},    {"أربعين", 40},   {"خمسون", 50},    {"خمسين", 50},   {"ستون", 60},
    {"ستين", 60},      {"سبعون", 70},    {"سبعين", 70},    {"ثمانون", 80},  {"ثمانين", 80},
    {"تسعون", 90},     {"تسعين", 90},    {"مئة", 100},     {"مائة", 100},   {"one", 1},
    {"two", 2},        {"three", 3},     {"four", 4},      {"five", 5},     {"six", 6},
    {"seven", 7},      {"eight", 8},     {"nine", 9},      {"ten", 10},     {"eleven", 11},
    {"twelve", 12},    {"thirteen", 13}, {"fourteen", 14}, {"fifteen", 15}, {"sixteen", 16},
    {"seventeen", 17}, {"eighteen", 18}, {"nineteen", 19}, {"twenty", 20},  {"thirty", 30},
    {"forty", 40},     {"fifty", 50},    {"sixty", 60},    {"seventy", 70}, {"eighty", 80},
    {"ninety", 90},    {"hundred", 100},
};

/*
 * Two indexes: the words the recognisers look for (triggers, units, titles,
 * modifiers, numbers), looked up at every token (and memoised), and the stop
 * words, which only say that a token after a title is no name. The stop
 * words are a quarter of the tokens of a news text: in one index they made
 * every fourth token a full lookup.
 */
struct nw_recognizer {
    nw_phrases *words;
    nw_phrases *stops;
};

const nw_phrases *nw_recognizer_words(const nw_recognizer *r)
{
    return r->words;
}

void nw_recognizer_free(nw_recognizer *r)
{
    if (r == NULL)
        return;
    nw_phrases_free(r->words);
    nw_phrases_free(r->stops);
    free(r);
}

static nw_err add_all(nw_phrases *p, nw_normalizer *n, nw_text *t, nw_segments *s,
                      const char *const *list, size_t count, uint32_t value, char *errbuf,
                      size_t errlen)
{
    for (size_t i = 0; i < count; i++) {
        nw_err err = nw_phrases_add(p, n, t, s, list[i], strlen(list[i]), value, errbuf, errlen);
        if (err != NW_OK)
            return err;
    }
    return NW_OK;
}

#define ADD(list, value)                                                                           \
    add_all(r->words, n, t, s, list, sizeof list / sizeof list[0], value, errbuf, errlen)

nw_recognizer *nw_recognizer_new(nw_normalizer *n, char *errbuf, size_t errlen)
{
    nw_recognizer *r = calloc(1, sizeof(*r));
    nw_text *t = nw_text_new();
    nw_segments *s = nw_segments_new();
    nw_err err = NW_ENOMEM;
    if (r != NULL && t != NULL && s != NULL && (r->words = nw_phrases_new()) != NULL &&
        (r->stops = nw_phrases_new()) != NULL) {
        err = ADD(killed, W_KILLED);
        if (err == NW_OK)
            err = ADD(wounded, W_WOUNDED);
        if (err == NW_OK)
            err = ADD(killed_nouns, W_KILLED_NOUN);
        if (err == NW_OK)
            err = ADD(wounded_nouns, W_WOUNDED_NOUN);
        if (err == NW_OK)
            err = ADD(tolls, W_TOLL);
        if (err == NW_OK)
            err = ADD(units, W_UNIT);
        if (err == NW_OK)
            err = ADD(titles, W_TITLE);
        if (err == NW_OK)
            err = ADD(titles_of, W_TITLE_OF);
        if (err == NW_OK)
            err = ADD(modifiers, W_MODIFIER);
        if (err == NW_OK)
            err = add_all(r->stops, n, t, s, stops, sizeof stops / sizeof stops[0], W_STOP, errbuf,
                          errlen);
        for (size_t i = 0; err == NW_OK && i < sizeof number_words / sizeof number_words[0]; i++)
            err = nw_phrases_add(r->words, n, t, s, number_words[i].word,
                                 strlen(number_words[i].word),
                                 W_NUMBER + (uint32_t)number_words[i].value, errbuf, errlen);
    } else {
        nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    }
    nw_text_free(t);
    nw_segments_free(s);
    if (err != NW_OK) {
        nw_recognizer_free(r);
        return NULL;
    }
    return r;
}

/* The word-index values at token i (0 values when nothing is indexed there). */
static bool lookup(const nw_recognizer *r, const nw_text *t, const nw_segments *s, size_t i,
                   nw_phrase_hit *h)
{
    return i < s->ntokens && nw_phrases_match(r->words, t, s, i, h);
}

static bool has(const nw_phrase_hit *h, uint32_t v)
{
    for (uint32_t k = 0; k < h->nvalues; k++)
        if (h->values[k] == v)
            return true;
    return false;
}

static int number_word(const nw_phrase_hit *h)
{
    for (uint32_t k = 0; k < h->nvalues; k++)
        if (h->values[k] > W_NUMBER)
            return (int)(h->values[k] - W_NUMBER);
    return -1;
}

int nw_recognize_number(const nw_recognizer *r, const nw_text *t, const nw_segments *s, size_t i,
                        size_t *ntokens)
{
    *ntokens = 0;
    if (i >= s->ntokens)
        return -1;
    const nw_token *tok = &s->tokens[i];
    const char *w = t->match + t->match_cp[tok->start];
    size_t len = t->match_cp[tok->end] - t->match_cp[tok->start];
    /* و or ف joined to digits is one word by UAX #29: و110 */
    bool conj_digits = tok->kind == NW_TOKEN_WORD && len > 2 &&
                       (memcmp(w, "و", 2) == 0 || memcmp(w, "ف", 2) == 0) && w[2] >= '0' &&
                       w[2] <= '9';
    if (conj_digits) {
        w += 2;
        len -= 2;
    }
    if (tok->kind == NW_TOKEN_NUMBER || conj_digits) {
        long v = 0;
        for (size_t k = 0; k < len; k++) {
            if (w[k] == ',' || w[k] == '\'')
                continue; /* 1,000 */
            if (w[k] < '0' || w[k] > '9' || v > 10000000)
                return -1; /* 3.5 is no head count */
            v = v * 10 + (w[k] - '0');
        }
        *ntokens = 1;
        return (int)v;
    }
    nw_phrase_hit h;
    if (!lookup(r, t, s, i, &h))
        return -1;
    int v = number_word(&h);
    if (v < 0)
        return -1;
    *ntokens = h.ntokens;
    /* خمسة وعشرين, twenty-five */
    nw_phrase_hit h2;
    size_t j = i + h.ntokens;
    if (v < 10 && lookup(r, t, s, j, &h2) && s->tokens[j].sentence == tok->sentence) {
        int tens = number_word(&h2);
        if (tens >= 20 && tens < 100 && tens % 10 == 0) {
            *ntokens += h2.ntokens;
            return v + tens;
        }
    }
    if (v >= 20 && v < 100 && lookup(r, t, s, j, &h2) && s->tokens[j].sentence == tok->sentence &&
        t->match[t->match_cp[s->tokens[j - 1].end]] == '-') {
        int ones = number_word(&h2);
        if (ones > 0 && ones < 10) {
            *ntokens += h2.ntokens;
            return v + ones;
        }
    }
    return v;
}

/* A head count at token i: a number not followed by a unit, not a year. */
static int head_count(const nw_recognizer *r, const nw_text *t, const nw_segments *s, size_t i,
                      size_t *used)
{
    int v = nw_recognize_number(r, t, s, i, used);
    if (v <= 0 || v > 100000)
        return -1;
    const nw_token *tok = &s->tokens[i];
    if (tok->kind == NW_TOKEN_NUMBER && tok->end - tok->start == 4 && v >= 1900 && v <= 2100)
        return -1;
    nw_phrase_hit h;
    size_t j = i + *used;
    if (j < s->ntokens && s->tokens[j].sentence == tok->sentence && lookup(r, t, s, j, &h) &&
        has(&h, W_UNIT))
        return -1;
    return v;
}

static void record(nw_casualties *out, bool is_killed, int v, uint32_t sentence)
{
    if (is_killed && v > out->killed) {
        out->killed = v;
        out->killed_sentence = sentence;
    } else if (!is_killed && v > out->wounded) {
        out->wounded = v;
        out->wounded_sentence = sentence;
    }
}

/* Is the token after a figure at j (spanning used tokens) a trigger of the other kind? */
static bool belongs_elsewhere(const nw_recognizer *r, const nw_text *t, const nw_segments *s,
                              size_t j, size_t used, bool is_killed)
{
    nw_phrase_hit h;
    size_t k = j + used;
    if (k >= s->ntokens || s->tokens[k].sentence != s->tokens[j].sentence ||
        !lookup(r, t, s, k, &h))
        return false;
    return is_killed ? (has(&h, W_WOUNDED) || has(&h, W_WOUNDED_NOUN))
                     : (has(&h, W_KILLED) || has(&h, W_KILLED_NOUN));
}

void nw_recognize_casualties(const nw_recognizer *r, const nw_text *t, const nw_segments *s,
                             nw_casualties *out)
{
    out->killed = out->wounded = -1;
    out->killed_sentence = out->wounded_sentence = 0;
    /* Tokens the screen says start none of the words are skipped. */
    for (size_t i = 0; (i = nw_phrases_next(r->words, s, i)) < s->ntokens; i++) {
        nw_phrase_hit h;
        if (!lookup(r, t, s, i, &h))
            continue;
        bool verb_k = has(&h, W_KILLED), verb_w = has(&h, W_WOUNDED), toll = has(&h, W_TOLL);
        bool noun_k = has(&h, W_KILLED_NOUN), noun_w = has(&h, W_WOUNDED_NOUN);
        if (!verb_k && !verb_w && !toll && !noun_k && !noun_w)
            continue;
        bool is_killed = verb_k || toll || noun_k;
        uint32_t sent = s->tokens[i].sentence;
        const nw_sentence *st = &s->sentences[sent];
        size_t sent_end = st->first_token + st->ntokens;
        if (verb_k || verb_w || toll) {
            /* A figure after: قتل 32، أصيب أكثر من 110، killed 32, toll ... rose to 32 */
            size_t window = toll ? 12 : 3;
            for (size_t j = i + h.ntokens; j < sent_end && j <= i + h.ntokens + window; j++) {
                size_t used;
                int v = head_count(r, t, s, j, &used);
                if (v > 0) {
                    if (!belongs_elsewhere(r, t, s, j, used, is_killed))
                        record(out, is_killed, v, sent);
                    break;
                }
            }
        }
        if (toll)
            continue;
        /* A figure before: 32 قتيلا، 110 جرحى، 32 people were killed */
        for (size_t back = 1; back <= 4 && back <= i - st->first_token; back++) {
            size_t j = i - back, used;
            int v = head_count(r, t, s, j, &used);
            if (v > 0 && j + used <= i) {
                record(out, is_killed, v, sent);
                break;
            }
        }
    }
}

/* May token i be part of a name? */
static bool name_token(const nw_recognizer *r, const nw_text *t, const nw_segments *s, size_t i,
                       const uint8_t *covered)
{
    const nw_token *tok = &s->tokens[i];
    if (tok->kind != NW_TOKEN_WORD || covered[i] ||
        (tok->flags & (NW_TOKEN_IN_URL | NW_TOKEN_HASHTAG | NW_TOKEN_MENTION)))
        return false;
    if (tok->script == NW_SCRIPT_LATIN && !(tok->flags & NW_TOKEN_UPPER))
        return false;
    if (tok->script == NW_SCRIPT_OTHER || tok->end - tok->start < 2)
        return false;
    const char *w = t->match + t->match_cp[tok->start];
    size_t len = t->match_cp[tok->end] - t->match_cp[tok->start];
    if (nw_dates_month(w, len) || nw_dates_weekday(w, len))
        return false;
    nw_phrase_hit h;
    if ((lookup(r, t, s, i, &h) && h.first == i) || nw_phrases_match(r->stops, t, s, i, &h))
        return false; /* a title, modifier, number, trigger or stop word */
    return true;
}

/* Only white space between tokens i and i+1 of one sentence. */
static bool adjacent(const nw_text *t, const nw_segments *s, size_t i)
{
    if (i + 1 >= s->ntokens || s->tokens[i].sentence != s->tokens[i + 1].sentence)
        return false;
    for (uint32_t k = t->match_cp[s->tokens[i].end]; k < t->match_cp[s->tokens[i + 1].start]; k++)
        if (t->match[k] != ' ')
            return false;
    return true;
}

int nw_recognize_titled_names(const nw_recognizer *r, const nw_text *t, const nw_segments *s,
                              const uint8_t *covered, nw_name_cb found, void *ctx)
{
    /* Tokens the screen says start none of the words are skipped. */
    for (size_t i = 0; (i = nw_phrases_next(r->words, s, i)) < s->ntokens; i++) {
        nw_phrase_hit h;
        if (!lookup(r, t, s, i, &h) || !has(&h, W_TITLE) || has(&h, W_TITLE_OF))
            continue;
        size_t j = i + h.ntokens;
        /* Skip modifiers: رئيس الوزراء العراقي ... */
        while (j < s->ntokens && adjacent(t, s, j - 1)) {
            nw_phrase_hit m;
            if (!lookup(r, t, s, j, &m) || !has(&m, W_MODIFIER))
                break;
            j += m.ntokens;
        }
        if (j >= s->ntokens || !adjacent(t, s, j - 1) || !name_token(r, t, s, j, covered))
            continue;
        size_t n = 1;
        if (adjacent(t, s, j) && name_token(r, t, s, j + 1, covered)) {
            n = 2;
            /* A third word: a family name with the article, or a capitalised word. */
            const nw_token *third = j + 2 < s->ntokens ? &s->tokens[j + 2] : NULL;
            if (third != NULL && adjacent(t, s, j + 1) && name_token(r, t, s, j + 2, covered) &&
                ((third->script == NW_SCRIPT_ARABIC &&
                  memcmp(t->match + t->match_cp[third->start], "ال", 4) == 0) ||
                 third->script == NW_SCRIPT_LATIN))
                n = 3;
        }
        if (found(ctx, j, n))
            return 1;
        i = j + n - 1;
    }
    return 0;
}
