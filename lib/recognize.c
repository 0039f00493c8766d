#include "newswatch/recognize.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/dates.h"
#include "newswatch/phrases.h"
#include "grow.h"
#include "lookups.h"

/* Values of the word index. */
enum {
    W_KILLED = 1,
    W_WOUNDED,
    W_KILLED_NOUN,   /* the figure comes before: 32 قتيلا */
    W_WOUNDED_NOUN,  /* the figure comes before: 110 جرحى */
    W_TOLL,          /* "death toll ... reached N", "ارتفعت الحصيلة الى N" */
    W_TOLL_WOUNDED,  /* the same for the wounded: عدد الجرحى ... N */
    W_BEFORE,        /* a verb that also takes the figure before it: 32 killed, 15 إصابة */
    W_TWO,           /* a dual noun for the people, two with no figure: قتيلان */
    W_UNIT,          /* a number followed by this is not a casualty figure */
    W_TITLE,         /* a title or role: a name may follow */
    W_TITLE_OF,      /* "spokesman for X": an organisation follows, not a name */
    W_MODIFIER,      /* skipped between a title and a name */
    W_STOP,          /* never part of a name */
    W_NUMBER = 1000, /* + value */
};

/* Verbs and verbal nouns: the figure follows (قتل 32) or, for those in before_verbs, comes before.
 */
static const char *const killed[] = {
    "قتل",        "مقتل",       "مصرع",       "وفاة",
    "توفي",       "لقي حتفه",   "لقوا حتفهم", "استشهاد",
    "أودى بحياة", "أودت بحياة", "killed",     "kills",
    "killing",    "died",       "death",      "claimed the lives of"};
static const char *const wounded[] = {
    "إصابة",   "أصيب",    "أصيبوا",   "إصابات",   "جرح",
    "wounded", "injured", "injuring", "wounding", "hurt",
};
/* The verbs above that also take a figure before them: 32 killed, three were wounded, 15 إصابة. */
static const char *const before_verbs[] = {
    "killed", "wounded", "injured", "hurt", "died",       "لقي حتفه",
    "أصيبوا", "إصابة",   "إصابات",  "وفاة", "لقوا حتفهم",
};
/* Nouns for the people: the figure comes before them (32 قتيلا، 110 جرحى, 32 dead). */
static const char *const killed_nouns[] = {
    "قتيل", "قتيلا", "قتلى", "شهيد",   "شهيدا",      "شهداء",
    "ضحية", "ضحايا", "dead", "deaths", "fatalities", "lives",
};
static const char *const wounded_nouns[] = {"جريح",  "جريحا",  "جرحى",     "مصاب",
                                            "مصابا", "مصابين", "injuries", "wounds"};
/* Duals: two people with no figure (قتيلان و9 جرحى). Not مصابين, also a plural. */
static const char *const killed_duals[] = {"قتيلان", "قتيلين", "شهيدان", "شهيدين"};
static const char *const wounded_duals[] = {"جريحان", "جريحين", "مصابان"};
static const char *const tolls[] = {
    "حصيلة",         "الحصيلة",        "death toll",       "toll",
    "casualty toll", "عدد القتلى",     "عدد الضحايا",      "عدد الشهداء",
    "عدد الوفيات",   "number of dead", "number of deaths", "number of people killed",
};
static const char *const tolls_wounded[] = {
    "عدد الجرحى",        "عدد المصابين",      "عدد الإصابات",
    "number of injured", "number of wounded", "number of injuries",
};
static const char *const units[] = {
    "ساعة",   "ساعات",  "يوم",     "يوما",    "أيام",    "شهر",        "شهرا",       "أشهر",
    "شهور",   "عام",    "عاما",    "أعوام",   "سنة",     "سنوات",      "دقيقة",      "دقائق",
    "ثانية",  "أسبوع",  "أسابيع",  "بالمئة",  "بالمائة", "في المئة",   "كيلومتر",    "كيلومترا",
    "كلم",    "متر",    "مترا",    "دولار",   "دولارا",  "دينار",      "مليون",      "مليار",
    "ألف",    "hours",  "hour",    "days",    "day",     "weeks",      "months",     "month",
    "years",  "year",   "minutes", "percent", "km",      "kilometres", "kilometers", "miles",
    "metres", "meters", "dollars", "million", "billion", "thousand",
};
/*
 * Things counted in news of attacks (3 rockets, صاروخين, 2 bombings): a
 * number followed by one is no head count. An index of their own, looked up
 * only after a number near a word of killing or wounding.
 */
static const char *const things[] = {
    "صاروخ",   "صاروخا",   "صاروخين", "صواريخ",  "قذيفة",     "قذيفتين",    "قذائف",    "عبوة",
    "عبوتين",  "عبوات",    "طائرة",   "طائرات",  "مسيرة",     "مسيرات",     "هجوم",     "هجوما",
    "هجومين",  "هجمات",    "تفجير",   "تفجيرين", "تفجيرات",   "انفجار",     "انفجارين", "انفجارات",
    "سيارة",   "سيارات",   "منزل",    "منازل",   "مبنى",      "مباني",      "مرة",      "مرات",
    "آلاف",    "ملايين",   "طن",      "أطنان",   "rocket",    "rockets",    "missile",  "missiles",
    "shell",   "shells",   "mortar",  "mortars", "drone",     "drones",     "bomb",     "bombs",
    "bombing", "bombings", "blast",   "blasts",  "explosion", "explosions", "attack",   "attacks",
    "vehicle", "vehicles", "car",     "cars",    "house",     "houses",     "building", "buildings",
    "times",   "per cent", "tonnes",  "tons",
};
/*
 * Person nouns: right after an Arabic verb or verbal noun of killing or
 * wounding, a singular one is one person (مقتل متعاقد، إصابة شخص، وأصيب
 * آخر، إصابة أحد عناصر الحماية) and a
 * dual one two (مقتل جنديين). Only duals that cannot be read as plurals
 * (متعاقدين and مدنيين can).
 */
static const char *const persons_one[] = {"شخص",    "مدني",  "جندي",  "متعاقد", "طفل",   "طفلة",
                                          "امرأة",  "رجل",   "شرطي",  "ضابط",   "عنصر",  "مواطن",
                                          "منتسب",  "مقاتل", "عسكري", "صحفي",   "صحافي", "موظف",
                                          "متظاهر", "مسلح",  "آخر",   "ثالث",   "أحد",   "إحدى"};
static const char *const persons_two[] = {
    "شخصين", "شخصان", "جنديين",  "جنديان", "طفلين",  "طفلان",
    "رجلين", "رجلان", "امرأتين", "ضابطين", "عنصرين", "طفلتين",
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
    {"واحد", 1},
    {"واحدة", 1},
    {"اثنان", 2},
    {"اثنين", 2},
    {"اثنتين", 2},
    {"ثلاثة", 3},
    {"ثلاث", 3},
    {"أربعة", 4},
    {"أربع", 4},
    {"خمسة", 5},
    {"خمس", 5},
    {"ستة", 6},
    {"ست", 6},
    {"سبعة", 7},
    {"سبع", 7},
    {"ثمانية", 8},
    {"ثماني", 8},
    {"تسعة", 9},
    {"تسع", 9},
    {"عشرة", 10},
    {"عشر", 10},
    {"عشرون", 20},
    {"عشرين", 20},
    {"ثلاثون", 30},
    {"ثلاثين", 30},
    {"أربعون", 40},
    {"أربعين", 40},
    {"خمسون", 50},
    {"خمسين", 50},
    {"ستون", 60},
    {"ستين", 60},
    {"سبعون", 70},
    {"سبعين", 70},
    {"ثمانون", 80},
    {"ثمانين", 80},
    {"تسعون", 90},
    {"تسعين", 90},
    {"مئة", 100},
    {"مائة", 100},
    {"one", 1},
    {"two", 2},
    {"three", 3},
    {"four", 4},
    {"five", 5},
    {"six", 6},
    {"seven", 7},
    {"eight", 8},
    {"nine", 9},
    {"ten", 10},
    {"eleven", 11},
    {"twelve", 12},
    {"thirteen", 13},
    {"fourteen", 14},
    {"fifteen", 15},
    {"sixteen", 16},
    {"seventeen", 17},
    {"eighteen", 18},
    {"nineteen", 19},
    {"twenty", 20},
    {"thirty", 30},
    {"forty", 40},
    {"fifty", 50},
    {"sixty", 60},
    {"seventy", 70},
    {"eighty", 80},
    {"ninety", 90},
    {"hundred", 100},
    /* Arabic 11, 12 and hundreds in one word (13-19: ثلاثة عشر, read as 3 + 10) */
    {"أحد عشر", 11},
    {"إحدى عشرة", 11},
    {"احدى عشر", 11},
    {"اثنا عشر", 12},
    {"اثني عشر", 12},
    {"اثنتا عشرة", 12},
    {"اثنتي عشرة", 12},
    {"ثمان", 8},
    {"مئتين", 200},
    {"مئتان", 200},
    {"مائتين", 200},
    {"مائتان", 200},
    {"ثلاثمئة", 300},
    {"ثلاثمائة", 300},
    {"أربعمئة", 400},
    {"أربعمائة", 400},
    {"خمسمئة", 500},
    {"خمسمائة", 500},
    {"ستمئة", 600},
    {"ستمائة", 600},
    {"سبعمئة", 700},
    {"سبعمائة", 700},
    {"ثمانمئة", 800},
    {"ثمانمائة", 800},
    {"تسعمئة", 900},
    {"تسعمائة", 900},
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
    nw_phrases *things;  /* counted things (3 rockets): looked up after a number only */
    nw_phrases *persons; /* value 1 or 2: looked up after a word of killing or wounding only */
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
    nw_phrases_free(r->things);
    nw_phrases_free(r->persons);
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

#define ADD_TO(index, list, value)                                                                 \
    add_all(index, n, t, s, list, sizeof list / sizeof list[0], value, errbuf, errlen)
#define ADD(list, value) ADD_TO(r->words, list, value)

nw_recognizer *nw_recognizer_new(nw_normalizer *n, char *errbuf, size_t errlen)
{
    nw_recognizer *r = calloc(1, sizeof(*r));
    nw_text *t = nw_text_new();
    nw_segments *s = nw_segments_new();
    nw_err err = NW_ENOMEM;
    if (r != NULL && t != NULL && s != NULL && (r->words = nw_phrases_new()) != NULL &&
        (r->stops = nw_phrases_new()) != NULL && (r->things = nw_phrases_new()) != NULL &&
        (r->persons = nw_phrases_new()) != NULL) {
        err = ADD(killed, W_KILLED);
        if (err == NW_OK)
            err = ADD(wounded, W_WOUNDED);
        if (err == NW_OK)
            err = ADD(killed_nouns, W_KILLED_NOUN);
        if (err == NW_OK)
            err = ADD(wounded_nouns, W_WOUNDED_NOUN);
        if (err == NW_OK)
            err = ADD(before_verbs, W_BEFORE);
        if (err == NW_OK)
            err = ADD(killed_duals, W_KILLED_NOUN);
        if (err == NW_OK)
            err = ADD(killed_duals, W_TWO);
        if (err == NW_OK)
            err = ADD(wounded_duals, W_WOUNDED_NOUN);
        if (err == NW_OK)
            err = ADD(wounded_duals, W_TWO);
        if (err == NW_OK)
            err = ADD(tolls, W_TOLL);
        if (err == NW_OK)
            err = ADD(tolls_wounded, W_TOLL_WOUNDED);
        if (err == NW_OK)
            err = ADD(units, W_UNIT);
        if (err == NW_OK)
            err = ADD(titles, W_TITLE);
        if (err == NW_OK)
            err = ADD(titles_of, W_TITLE_OF);
        if (err == NW_OK)
            err = ADD(modifiers, W_MODIFIER);
        if (err == NW_OK)
            err = ADD_TO(r->stops, stops, W_STOP);
        if (err == NW_OK)
            err = ADD_TO(r->things, things, W_UNIT);
        if (err == NW_OK)
            err = ADD_TO(r->persons, persons_one, 1);
        if (err == NW_OK)
            err = ADD_TO(r->persons, persons_two, 2);
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

/* Token j exists and is in token i's sentence. */
static bool same_sentence(const nw_segments *s, size_t i, size_t j)
{
    return j < s->ntokens && s->tokens[j].sentence == s->tokens[i].sentence;
}

/* Token k's matching form. */
static const char *word_at(const nw_text *t, const nw_segments *s, size_t k, size_t *len)
{
    const nw_token *tok = &s->tokens[k];
    *len = t->match_cp[tok->end] - t->match_cp[tok->start];
    return t->match + t->match_cp[tok->start];
}

/*
 * A few frequent words, compared directly rather than indexed: in the word
 * index they would stop the screen at every fourth token.
 */
typedef struct word {
    const char *w;
    size_t len;
} word;
#define WORD(w)                                                                                    \
    {                                                                                              \
        w, sizeof w - 1                                                                            \
    }
static const word conjunctions[] = {
    WORD("and"), WORD("or"), WORD("but"),  WORD("while"), WORD("whereas"), WORD("و"),
    WORD("او"),  WORD("ثم"), WORD("فيما"), WORD("بينما"), WORD("وبينما"),  {NULL, 0},
};
static const word negations[] = {
    WORD("no"),  WORD("not"), WORD("without"), WORD("never"), WORD("لم"),  WORD("ولم"),  WORD("لا"),
    WORD("ولا"), WORD("دون"), WORD("بدون"),    WORD("ودون"),  WORD("عدم"), WORD("وعدم"), {NULL, 0},
};
/* لا يزال (still) is no negation. */
static const word still[] = {
    WORD("يزال"), WORD("تزال"), WORD("زال"), WORD("زالت"), WORD("يزالون"), {NULL, 0},
};
/* A negation before these is in another clause: No group claimed the attack that killed 32. */
static const word relatives[] = {
    WORD("الذي"), WORD("التي"), WORD("الذين"), WORD("that"), WORD("which"), WORD("who"), {NULL, 0},
};
static const word passive[] = {
    WORD("was"),   WORD("were"), WORD("been"), WORD("be"),
    WORD("being"), WORD("is"),   WORD("are"),  {NULL, 0},
};
static const word and_words[] = {WORD("and"), WORD("و"), {NULL, 0}};

/* Is token k one of the words of list (ended by {NULL, 0}; matching form)? */
static bool word_in(const nw_text *t, const nw_segments *s, size_t k, const word *list)
{
    size_t len;
    const char *w = word_at(t, s, k, &len);
    for (; list->w != NULL; list++)
        if (list->len == len && memcmp(list->w, w, len) == 0)
            return true;
    return false;
}

/*
 * The number word at token i (its value, -1 when none) and its tokens. With
 * the article, a weekday is no number: مساء الاثنين (Monday), not اثنين (2).
 */
static int word_number(const nw_recognizer *r, const nw_text *t, const nw_segments *s, size_t i,
                       size_t *n)
{
    nw_phrase_hit h;
    int v = lookup(r, t, s, i, &h) ? number_word(&h) : -1;
    size_t len = 0;
    const char *w = v >= 0 && h.start > s->tokens[i].start ? word_at(t, s, i, &len) : NULL;
    if (w != NULL && nw_dates_weekday(w, len))
        v = -1;
    *n = v < 0 ? 0 : h.ntokens;
    return v;
}

/* A number under 100 in words at token i: خمسة وعشرين، ثلاثة عشر، twenty-five. */
static int words_below_100(const nw_recognizer *r, const nw_text *t, const nw_segments *s, size_t i,
                           size_t *ntokens)
{
    int v = word_number(r, t, s, i, ntokens);
    if (v < 0 || v >= 100) {
        *ntokens = 0;
        return -1;
    }
    size_t j = i + *ntokens, n2;
    if (!same_sentence(s, i, j))
        return v;
    int next = word_number(r, t, s, j, &n2);
    bool teen = v > 0 && v < 10 && next == 10 && s->tokens[i].script == NW_SCRIPT_ARABIC;
    bool tens = v < 10 && next >= 20 && next < 100 && next % 10 == 0;
    bool ones = v >= 20 && v < 100 && next > 0 && next < 10 &&
                t->match[t->match_cp[s->tokens[j - 1].end]] == '-';
    if (!teen && !tens && !ones)
        return v;
    *ntokens += n2;
    return v + next;
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
    size_t n, n2;
    int v = word_number(r, t, s, i, &n);
    if (v < 0)
        return -1;
    size_t j = i + n;
    /* ثلاث مئة, three hundred */
    if (v > 0 && v < 10 && same_sentence(s, i, j) && word_number(r, t, s, j, &n2) == 100) {
        v *= 100;
        n += n2;
        j += n2;
    }
    if (v < 100)
        return words_below_100(r, t, s, i, ntokens);
    /* مئة وعشرة, two hundred and five */
    if (v % 100 == 0 && v < 1000 && same_sentence(s, i, j)) {
        size_t k = j + (word_in(t, s, j, and_words) && same_sentence(s, i, j + 1));
        int rest = words_below_100(r, t, s, k, &n2);
        if (rest > 0) {
            v += rest;
            n += k - j + n2;
        }
    }
    *ntokens = n;
    return v;
}

/* Could token k be (part of) a number? */
static bool numberish(const nw_recognizer *r, const nw_text *t, const nw_segments *s, size_t k)
{
    size_t used;
    return s->tokens[k].kind == NW_TOKEN_NUMBER || nw_recognize_number(r, t, s, k, &used) >= 0;
}

/*
 * The number v at token i, spanning used tokens, as a head count: not a year,
 * not "no one", not a day (21 January), a percentage or a quantity of
 * something else (3 days, 32 kilometres, 3 rockets). -1 when it is none.
 */
static int head_count(const nw_recognizer *r, const nw_text *t, const nw_segments *s, size_t i,
                      int v, size_t used)
{
    if (v <= 0 || v > 100000)
        return -1;
    const nw_token *tok = &s->tokens[i];
    if (tok->kind == NW_TOKEN_NUMBER && tok->end - tok->start == 4 && v >= 1900 && v <= 2100)
        return -1;
    if (i > 0 && adjacent(t, s, i - 1) && word_in(t, s, i - 1, negations))
        return -1; /* no one was killed */
    size_t j = i + used;
    const char *after = t->match + t->match_cp[s->tokens[j - 1].end];
    if (after[0] == '%' || (after[0] == '\xd9' && after[1] == '\xaa')) /* ٪ */
        return -1;
    if (!same_sentence(s, i, j))
        return v;
    nw_phrase_hit h;
    if ((lookup(r, t, s, j, &h) && has(&h, W_UNIT)) || nw_phrases_match(r->things, t, s, j, &h))
        return -1;
    size_t len, len2;
    const char *w = word_at(t, s, j, &len);
    if (nw_dates_month(w, len))
        return -1;
    if (same_sentence(s, j, j + 1)) {
        const char *w2 = word_at(t, s, j + 1, &len2);
        if (nw_dates_month2(w, len, w2, len2))
            return -1;
    }
    return v;
}

/* A word of killing or wounding at a token, and how it takes figures. */
typedef struct trigger {
    size_t first, end; /* tokens [first, end) */
    bool after;        /* may take a figure after it: قتل 32، killed 32, toll ... rose to 32 */
    bool before;       /* may take a figure before it: 32 قتيلا، 32 killed, 15 إصابة */
    bool verb;         /* a verb or verbal noun (else a noun for the people, or a toll) */
    bool joined;       /* joined to the clause before by و or ف: وإصابة 73 */
    bool killed;       /* else wounded */
    bool toll;
    bool two;       /* a dual noun: two people when no figure comes before it */
    uint32_t start; /* its first code point, proclitics excluded */
} trigger;

#define NONE ((size_t)-1)
/* The most tokens between a word and the figure after it it takes. */
#define WINDOW_VERB 4
#define WINDOW_TOLL 12

static bool trigger_at(const nw_recognizer *r, const nw_text *t, const nw_segments *s, size_t k,
                       trigger *tr)
{
    nw_phrase_hit h;
    if (!lookup(r, t, s, k, &h))
        return false;
    uint32_t bits = 0; /* 1 << value, for the values below W_NUMBER */
    for (uint32_t v = 0; v < h.nvalues; v++)
        if (h.values[v] < 32)
            bits |= 1u << h.values[v];
#define HAS(value) ((bits & (1u << (value))) != 0)
    bool verb_k = HAS(W_KILLED), verb_w = HAS(W_WOUNDED);
    bool toll_k = HAS(W_TOLL), toll_w = HAS(W_TOLL_WOUNDED);
    bool noun_k = HAS(W_KILLED_NOUN), noun_w = HAS(W_WOUNDED_NOUN);
    if (!verb_k && !verb_w && !toll_k && !toll_w && !noun_k && !noun_w)
        return false;
    const nw_token *tok = &s->tokens[k];
    const char *w = t->match + t->match_cp[tok->start];
    tr->first = k;
    tr->end = k + h.ntokens;
    tr->toll = toll_k || toll_w;
    tr->killed = verb_k || noun_k || toll_k;
    tr->verb = verb_k || verb_w;
    tr->after = tr->verb || tr->toll;
    tr->before = noun_k || noun_w || HAS(W_BEFORE);
    tr->joined = h.start > tok->start && (memcmp(w, "و", 2) == 0 || memcmp(w, "ف", 2) == 0);
    tr->two = HAS(W_TWO);
    tr->start = h.start;
#undef HAS
    return true;
}

/*
 * A negation in the five words before, in the same clause: دون وقوع إصابات،
 * لم يسفر الهجوم عن وقوع إصابات, without injuring.
 */
static bool negated(const nw_recognizer *r, const nw_text *t, const nw_segments *s,
                    const trigger *tr)
{
    for (size_t k = tr->first, n = 0; n < 5 && k > 0 && adjacent(t, s, k - 1); n++) {
        k--;
        if (numberish(r, t, s, k) || word_in(t, s, k, relatives))
            return false; /* لا يزال 3 مصابين: the negation is not the figure's */
        if (word_in(t, s, k, negations))
            return !(same_sentence(s, k, k + 1) && word_in(t, s, k + 1, still));
    }
    return false;
}

/* A head count among the three words after a verb: two bombers killed 32 people. */
static bool has_object(const nw_recognizer *r, const nw_text *t, const nw_segments *s,
                       const trigger *tr)
{
    for (size_t j = tr->end, n = 0; n < 4 && adjacent(t, s, j - 1); n++, j++) {
        size_t used;
        int v = nw_recognize_number(r, t, s, j, &used);
        if (v >= 0)
            return head_count(r, t, s, j, v, used) > 0;
        trigger other;
        if (word_in(t, s, j, conjunctions) || word_in(t, s, j, negations) ||
            trigger_at(r, t, s, j, &other))
            return false;
    }
    return false;
}

/* An English verb after was/were: 32 people were killed (by 2 bombers). */
static bool passive_verb(const nw_text *t, const nw_segments *s, const trigger *tr)
{
    return tr->verb && tr->first > 0 && adjacent(t, s, tr->first - 1) &&
           word_in(t, s, tr->first - 1, passive);
}

/*
 * Does the word take the figure before it, in its context? Not a verb joined
 * by و or ف, nor an active verb with a figure after it (its object).
 */
static bool takes_before(const nw_recognizer *r, const nw_text *t, const nw_segments *s,
                         const trigger *tr)
{
    return tr->before && !tr->joined &&
           !(tr->verb && !passive_verb(t, s, tr) && has_object(r, t, s, tr));
}

/* Does the word take a figure after it? Not a passive verb: killed by 2 bombers. */
static bool takes_after(const nw_text *t, const nw_segments *s, const trigger *tr)
{
    return tr->after && !(tr->before && passive_verb(t, s, tr));
}

/*
 * The word after a figure (its tokens [f, e)) that takes it, over at most
 * three other words: 32 قتيلا، three were wounded, 32 people were killed.
 */
static size_t owner_after(const nw_recognizer *r, const nw_text *t, const nw_segments *s, size_t f,
                          size_t e)
{
    for (size_t n = 0; n <= 3 && same_sentence(s, f, e) && adjacent(t, s, e - 1); n++, e++) {
        trigger tr;
        if (trigger_at(r, t, s, e, &tr))
            return takes_before(r, t, s, &tr) ? e : NONE;
        if (numberish(r, t, s, e) || word_in(t, s, e, conjunctions) || word_in(t, s, e, negations))
            return NONE;
    }
    return NONE;
}

/* The nearest word before a figure at token f that takes it: قتل 32، أصيب أكثر من 110. */
static size_t owner_before(const nw_recognizer *r, const nw_text *t, const nw_segments *s, size_t f)
{
    size_t first = s->sentences[s->tokens[f].sentence].first_token;
    for (size_t k = f; k > first && f - k <= WINDOW_TOLL + 4;) {
        k--;
        trigger tr;
        if (!trigger_at(r, t, s, k, &tr) || tr.end > f || !takes_after(t, s, &tr))
            continue;
        if (f - tr.end <= (tr.toll ? WINDOW_TOLL : WINDOW_VERB))
            return k;
    }
    return NONE;
}

/* The word a figure (tokens [f, f + used)) belongs to: the one after it, else the one before. */
static size_t owner(const nw_recognizer *r, const nw_text *t, const nw_segments *s, size_t f,
                    size_t used)
{
    size_t k = owner_after(r, t, s, f, f + used);
    return k != NONE ? k : owner_before(r, t, s, f);
}

/* The kind of a figure at token f taken by tr: a toll of the wounded (حصيلة الجرحى) is wounded. */
static bool figure_killed(const nw_recognizer *r, const nw_text *t, const nw_segments *s,
                          const trigger *tr, size_t f)
{
    if (!tr->toll || !tr->killed || tr->first > f)
        return tr->killed;
    bool k = false, w = false;
    for (size_t j = tr->end; j < f; j++) {
        nw_phrase_hit h;
        if (lookup(r, t, s, j, &h)) {
            k = k || has(&h, W_KILLED_NOUN);
            w = w || has(&h, W_WOUNDED_NOUN);
        }
    }
    return k || !w;
}

/*
 * The figure before a word that takes one, over at most three other words:
 * its first token and its value (NONE when there is none).
 */
static size_t figure_before(const nw_recognizer *r, const nw_text *t, const nw_segments *s,
                            const trigger *tr, int *value, size_t *used)
{
    size_t first = s->sentences[s->tokens[tr->first].sentence].first_token, k = tr->first;
    for (size_t n = 0;; n++) {
        if (k <= first || !adjacent(t, s, k - 1))
            return NONE;
        k--;
        if (numberish(r, t, s, k))
            break;
        trigger other;
        if (n == 3 || word_in(t, s, k, conjunctions) || word_in(t, s, k, negations) ||
            trigger_at(r, t, s, k, &other))
            return NONE;
    }
    /* k ends a number: read it from the start of its run (اثنين وثلاثين، two hundred and five). */
    size_t a = k;
    while (a > first && adjacent(t, s, a - 1)) {
        if (numberish(r, t, s, a - 1))
            a--;
        else if (a - 1 > first && word_in(t, s, a - 1, and_words) && adjacent(t, s, a - 2) &&
                 numberish(r, t, s, a - 2))
            a -= 2;
        else
            break;
    }
    for (size_t j = a; j <= k;) {
        int v = nw_recognize_number(r, t, s, j, used);
        if (v < 0) {
            j++;
            continue;
        }
        if (j + *used > k) {
            *value = v;
            return j;
        }
        j += *used;
    }
    return NONE;
}

/* Where the figures go: a list, the highest of each kind, or both. */
typedef struct sink {
    nw_casualty_list *list;
    nw_casualties *best;
    uint32_t killed_start, wounded_start; /* of the best figures */
    bool oom;
} sink;

static void emit(sink *out, const nw_casualty *c)
{
    nw_casualties *b = out->best;
    if (b != NULL && c->killed &&
        (c->value > b->killed || (c->value == b->killed && c->start < out->killed_start))) {
        b->killed = c->value;
        b->killed_sentence = c->sentence;
        out->killed_start = c->start;
    } else if (b != NULL && !c->killed &&
               (c->value > b->wounded ||
                (c->value == b->wounded && c->start < out->wounded_start))) {
        b->wounded = c->value;
        b->wounded_sentence = c->sentence;
        out->wounded_start = c->start;
    }
    nw_casualty_list *l = out->list;
    if (l == NULL)
        return;
    /* In text order: nearly always at the end. */
    size_t p = l->n;
    while (p > 0 && l->items[p - 1].start > c->start)
        p--;
    if ((p > 0 && l->items[p - 1].end > c->start) || (p < l->n && l->items[p].start < c->end))
        return; /* already there */
    if (!nw_grow((void **)&l->items, &l->cap, l->n + 1, sizeof *l->items)) {
        out->oom = true;
        return;
    }
    memmove(l->items + p + 1, l->items + p, (l->n - p) * sizeof *l->items);
    l->items[p] = *c;
    l->n++;
}

/* The figure v at tokens [f, f + used), when it is a head count and tr's. */
static bool figure_of(const nw_recognizer *r, const nw_text *t, const nw_segments *s,
                      const trigger *tr, size_t f, int v, size_t used, nw_casualty *c)
{
    if (head_count(r, t, s, f, v, used) <= 0 || owner(r, t, s, f, used) != tr->first)
        return false;
    /* The figure's code points, without a joined و or ف (و110، وثلاثة). */
    nw_phrase_hit h;
    uint32_t start = s->tokens[f].start;
    if (lookup(r, t, s, f, &h))
        start = h.start;
    else if (s->tokens[f].kind == NW_TOKEN_WORD)
        start++;
    *c = (nw_casualty){v, figure_killed(r, t, s, tr, f), s->tokens[f].sentence, start,
                       s->tokens[f + used - 1].end};
    return true;
}

/* Emits c unless tr is negated; *negation caches that (-1: not known yet). */
static void emit_unless_negated(const nw_recognizer *r, const nw_text *t, const nw_segments *s,
                                const trigger *tr, int *negation, sink *out, const nw_casualty *c)
{
    if (*negation < 0)
        *negation = negated(r, t, s, tr);
    if (!*negation)
        emit(out, c);
}

static void scan(const nw_recognizer *r, const nw_text *t, const nw_segments *s, sink *out)
{
    /* Tokens the screen says start none of the words are skipped. */
    for (size_t i = 0; (i = nw_lookups_next(r->words, s, i)) < s->ntokens; i++) {
        trigger tr;
        if (!trigger_at(r, t, s, i, &tr))
            continue;
        /* Whether a negation comes before (دون وقوع إصابات): looked at when a figure is found. */
        int negation = -1;
        nw_casualty c;
        const nw_sentence *st = &s->sentences[s->tokens[i].sentence];
        size_t sent_end = st->first_token + st->ntokens, used;
        int v;
        /* A figure before: 32 قتيلا، 110 جرحى، 32 people were killed */
        if (tr.before) {
            size_t f = figure_before(r, t, s, &tr, &v, &used);
            if (f != NONE) {
                if (figure_of(r, t, s, &tr, f, v, used, &c))
                    emit_unless_negated(r, t, s, &tr, &negation, out, &c);
            } else if (tr.two) { /* قتيلان و9 جرحى */
                c = (nw_casualty){2, tr.killed, s->tokens[i].sentence, tr.start,
                                  s->tokens[tr.end - 1].end};
                emit_unless_negated(r, t, s, &tr, &negation, out, &c);
            }
        }
        if (!tr.after)
            continue;
        size_t j = tr.end;
        /* A person right after an Arabic verb: مقتل متعاقد، وأصيب آخر (1), مقتل جنديين (2) */
        nw_phrase_hit h;
        if (tr.verb && s->tokens[i].script == NW_SCRIPT_ARABIC && adjacent(t, s, j - 1) &&
            !numberish(r, t, s, j) && nw_phrases_match(r->persons, t, s, j, &h)) {
            size_t n = h.ntokens, n2;
            c = (nw_casualty){(int)h.values[0], tr.killed, s->tokens[j].sentence, h.start,
                              s->tokens[j + n - 1].end};
            /* مقتل شخص واحد */
            if (adjacent(t, s, j + n - 1) && word_number(r, t, s, j + n, &n2) == c.value) {
                n += n2;
                c.end = s->tokens[j + n - 1].end;
            }
            emit_unless_negated(r, t, s, &tr, &negation, out, &c);
            j += n;
        }
        /* Figures after: قتل 32، أصيب أكثر من 110، the death toll ... has reached 32 */
        size_t window = tr.toll ? WINDOW_TOLL : WINDOW_VERB;
        while (j < sent_end && j - tr.end <= window) {
            v = nw_recognize_number(r, t, s, j, &used);
            if (v < 0) {
                j++;
                continue;
            }
            if (head_count(r, t, s, j, v, used) > 0) {
                /* Only the first head count: not the 2 of "killed 3 in 2 separate attacks" */
                if (figure_of(r, t, s, &tr, j, v, used, &c))
                    emit_unless_negated(r, t, s, &tr, &negation, out, &c);
                break;
            }
            j += used;
        }
    }
}

void nw_casualty_list_free(nw_casualty_list *l)
{
    if (l == NULL)
        return;
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

nw_err nw_recognize_casualty_list(const nw_recognizer *r, const nw_text *t, const nw_segments *s,
                                  nw_casualty_list *out, char *errbuf, size_t errlen)
{
    out->n = 0;
    sink k = {out, NULL, 0, 0, false};
    scan(r, t, s, &k);
    if (k.oom)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    return NW_OK;
}

void nw_casualties_from_list(const nw_casualty_list *l, const uint8_t *sentence_mask,
                             nw_casualties *out)
{
    out->killed = out->wounded = -1;
    out->killed_sentence = out->wounded_sentence = 0;
    for (size_t i = 0; i < l->n; i++) {
        const nw_casualty *c = &l->items[i];
        if (sentence_mask != NULL && !sentence_mask[c->sentence])
            continue;
        if (c->killed && c->value > out->killed) {
            out->killed = c->value;
            out->killed_sentence = c->sentence;
        } else if (!c->killed && c->value > out->wounded) {
            out->wounded = c->value;
            out->wounded_sentence = c->sentence;
        }
    }
}

void nw_recognize_casualties(const nw_recognizer *r, const nw_text *t, const nw_segments *s,
                             nw_casualties *out)
{
    out->killed = out->wounded = -1;
    out->killed_sentence = out->wounded_sentence = 0;
    sink k = {NULL, out, 0, 0, false};
    scan(r, t, s, &k);
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

int nw_recognize_titled_names(const nw_recognizer *r, const nw_text *t, const nw_segments *s,
                              const uint8_t *covered, nw_name_cb found, void *ctx)
{
    /* Tokens the screen says start none of the words are skipped. */
    for (size_t i = 0; (i = nw_lookups_next(r->words, s, i)) < s->ntokens; i++) {
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
