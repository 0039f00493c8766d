#include "synth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Made-up words have three syllables: 64^3 distinct words. */
#define WORD_SPACE (64u * 64u * 64u)

typedef struct pair {
    const char *ar, *en;
} pair;

/* Consonants, and the vowels written after them (bare: no letter). */
static const pair consonants[16] = {
    {"ب", "b"}, {"ت", "t"}, {"ج", "j"}, {"د", "d"}, {"ر", "r"}, {"ز", "z"}, {"س", "s"}, {"ش", "sh"},
    {"ف", "f"}, {"ق", "q"}, {"ك", "k"}, {"ل", "l"}, {"م", "m"}, {"ن", "n"}, {"ه", "h"}, {"خ", "kh"},
};
static const pair vowels[4] = {{"", "e"}, {"ا", "a"}, {"و", "u"}, {"ي", "i"}};

static const pair first_names[16] = {
    {"محمد", "Mohammed"}, {"علي", "Ali"},           {"حسن", "Hassan"},    {"حسين", "Hussein"},
    {"أحمد", "Ahmed"},    {"عبد الله", "Abdullah"}, {"عمر", "Omar"},      {"خالد", "Khaled"},
    {"يوسف", "Youssef"},  {"إبراهيم", "Ibrahim"},   {"مصطفى", "Mustafa"}, {"سعد", "Saad"},
    {"جعفر", "Jaafar"},   {"هادي", "Hadi"},         {"قاسم", "Qasim"},    {"حيدر", "Haidar"},
};
static const pair org_heads[8] = {
    {"حركة", "Movement"},  {"حزب", "Party"},         {"شركة", "Company"},   {"مؤسسة", "Foundation"},
    {"كتائب", "Brigades"}, {"جمعية", "Association"}, {"تجمع", "Gathering"}, {"هيئة", "Authority"},
};
static const pair fac_heads[8] = {
    {"ساحة", "Square"}, {"جسر", "Bridge"},       {"مطار", "Airport"}, {"مستشفى", "Hospital"},
    {"سوق", "Market"},  {"جامعة", "University"}, {"قاعدة", "Base"},   {"ملعب", "Stadium"},
};

/* Keyword classes: real news words, so that they occur in a news corpus. */
static const struct {
    const char *name, *terms;
} classes[] = {
    {"bombing", "تفجير; تفجيرات; انفجار; انتحاري; عبوة ناسفة; سيارة مفخخة; حزام ناسف; "
                "bombing; blast; explosion; suicide bomber; car bomb"},
    {"rocket_fire", "صاروخ; صواريخ; قذيفة; قذائف هاون; قصف صاروخي; كاتيوشا; "
                    "rocket; rockets; mortar; shelling; rocket attack"},
    {"protest", "احتجاج; احتجاجات; مظاهرة; مظاهرات; وقفة احتجاجية; اعتصام; إضراب; "
                "protest; protests; demonstration; sit-in; strike"},
    {"election", "انتخابات; الانتخابات البلدية; اقتراع; مرشح; مرشحين; صناديق الاقتراع; "
                 "election; elections; vote; ballot; candidate"},
    {"security", "إرهاب; إرهابي; إرهابية; مسلح; مسلحين; اشتباك; اشتباكات; عملية أمنية; "
                 "terrorism; terrorist; gunmen; clashes; security operation"},
    {"disaster", "فيضانات; حريق; زلزال; انهيار; سيول; عاصفة; flood; floods; fire; earthquake; "
                 "storm"},
    {"economy", "أسعار; بطالة; تضخم; عجز; ديون; ميزانية; prices; unemployment; inflation; "
                "deficit; debt; budget"},
    {"claim", "تبنى; تبنت; أعلن مسؤوليته; أعلنت مسؤوليتها; claimed responsibility; "
              "claim of responsibility"},
};
#define NCLASSES (sizeof classes / sizeof classes[0])

typedef enum kind { KIND_LOC, KIND_ORG, KIND_PER, KIND_FAC } kind;

static uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t hash_index(size_t i, uint64_t seed)
{
    uint64_t s = seed ^ ((uint64_t)i * 0xD1B54A32D192ED03ull);
    return splitmix(&s);
}

/* LOC 35 %, ORG 30 %, PERSON 20 %, FACILITY 15 %. */
static kind kind_of(size_t i, uint64_t seed)
{
    unsigned r = (unsigned)(hash_index(i, seed) % 100);
    return r < 35 ? KIND_LOC : r < 65 ? KIND_ORG : r < 85 ? KIND_PER : KIND_FAC;
}

/* The made-up word of entity i: a bijection of i onto the word space. */
static void make_word(size_t i, uint64_t seed, char *ar, size_t arlen, char *en, size_t enlen)
{
    uint32_t k = (uint32_t)(((uint64_t)i * 40503u + (seed & 0xFFFFu)) % WORD_SPACE);
    size_t a = 0, e = 0;
    ar[0] = en[0] = '\0';
    for (int s = 0; s < 3; s++) {
        unsigned syl = k % 64;
        k /= 64;
        const pair *c = &consonants[syl / 4], *v = &vowels[syl % 4];
        a += (size_t)snprintf(ar + a, arlen - a, "%s%s", c->ar, v->ar);
        e += (size_t)snprintf(en + e, enlen - e, "%s%s", c->en, v->en);
        if (a >= arlen || e >= enlen)
            break;
    }
    if (en[0] >= 'a' && en[0] <= 'z')
        en[0] = (char)(en[0] - 'a' + 'A');
}

void nw_synth_entity_id(size_t i, uint64_t seed, char *out, size_t outlen)
{
    static const char *const prefixes[] = {"loc", "org", "per", "fac"};
    char ar[64], en[64];
    make_word(i, seed, ar, sizeof ar, en, sizeof en);
    for (char *p = en; *p != '\0'; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    snprintf(out, outlen, "%s.%s-%zu", prefixes[kind_of(i, seed)], en, i);
}

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
    snprintf(err, errlen, "%s: %s: %s", path, what, strerror(errno));
    return -1;
}

int nw_synth_write_gazetteer(const char *path, size_t n, uint64_t seed, char *err, size_t errlen)
{
    if (n > WORD_SPACE) {
        snprintf(err, errlen, "at most %u synthetic entities", WORD_SPACE);
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return fail(err, errlen, "cannot create", path);
    fprintf(f, "# newswatch benchmark: %zu synthetic entities (bench/synth.c)\n", n);
    for (size_t i = 0; i < n; i++) {
        char id[128], ar[64], en[64];
        nw_synth_entity_id(i, seed, id, sizeof id);
        make_word(i, seed, ar, sizeof ar, en, sizeof en);
        uint64_t h = hash_index(i, seed ^ 0x5bd1e995u);
        switch (kind_of(i, seed)) {
        case KIND_LOC:
            fprintf(f, "%s | LOC | %s | %s | %s city; مدينة %s; قضاء %s\n", id, en, ar, en, ar, ar);
            break;
        case KIND_PER: {
            const pair *fn = &first_names[h % 16];
            fprintf(f, "%s | PERSON | %s al-%s | %s ال%s | %s; ال%s\n", id, fn->en, en, fn->ar, ar,
                    en, ar);
            break;
        }
        case KIND_ORG: {
            const pair *hd = &org_heads[h % 8];
            fprintf(f, "%s | ORG | %s %s | %s %s | %s %s", id, en, hd->en, hd->ar, ar, hd->ar, ar);
            if (i % 7 == 0 && i / 7 < 26u * 26u * 26u) /* an acronym: capitals only */
                fprintf(f, "; %c%c%c", 'A' + (int)(i / 7 % 26), 'A' + (int)(i / 7 / 26 % 26),
                        'A' + (int)(i / 7 / 676 % 26));
            fputc('\n', f);
            break;
        }
        case KIND_FAC: {
            const pair *hd = &fac_heads[h % 8];
            fprintf(f, "%s | FACILITY | %s %s | %s %s | %s %s\n", id, en, hd->en, hd->ar, ar,
                    hd->ar, ar);
            break;
        }
        }
    }
    if (fclose(f) != 0)
        return fail(err, errlen, "cannot write", path);
    return 0;
}

int nw_synth_write_events(const char *path, size_t nentities, size_t nrules, uint64_t seed,
                          char *err, size_t errlen)
{
    static const char *const scopes[] = {"sentence", "sentence",  "words:12",
                                         "words:12", "paragraph", "document"};
    static const char *const gaps[] = {"24h", "72h", "7d"};
    static const char *const severities[] = {"info", "warning", "critical"};
    if (nentities == 0) {
        snprintf(err, errlen, "rules need entities");
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return fail(err, errlen, "cannot create", path);
    fprintf(f, "# newswatch benchmark: %zu synthetic rules over %zu entities (bench/synth.c)\n\n",
            nrules, nentities);
    for (size_t c = 0; c < NCLASSES; c++)
        fprintf(f, "[class.%s]\nterms = %s\n\n", classes[c].name, classes[c].terms);
    uint64_t st = seed ^ ((uint64_t)nrules << 32) ^ nentities;
    char id[128];
    for (size_t r = 0; r < nrules; r++) {
        fprintf(f, "[event.synth-%zu]\ntitle = Synthetic event %zu\ntitle_ar = حدث تجريبي %zu\n", r,
                r, r);
        fprintf(f, "severity = %s\nepisode_gap = %s\nscope = %s\nmatch = (", severities[r % 3],
                gaps[splitmix(&st) % 3], scopes[splitmix(&st) % 6]);
        size_t npos = 1 + splitmix(&st) % 3;
        for (size_t k = 0; k < npos; k++) {
            nw_synth_entity_id(splitmix(&st) % nentities, seed, id, sizeof id);
            fprintf(f, "%s%s", k > 0 ? " OR " : "", id);
        }
        /* "claim" (the last class) is for updates, not a rule's subject. */
        size_t c1 = splitmix(&st) % (NCLASSES - 1);
        if (splitmix(&st) % 10 < 3) {
            size_t c2 = (c1 + 1 + splitmix(&st) % (NCLASSES - 2)) % (NCLASSES - 1);
            fprintf(f, ") AND (%s OR %s)", classes[c1].name, classes[c2].name);
        } else {
            fprintf(f, ") AND %s", classes[c1].name);
        }
        if (splitmix(&st) % 10 < 4) {
            size_t nneg = 1 + splitmix(&st) % 2;
            fprintf(f, "\n    AND NOT (");
            for (size_t k = 0; k < nneg; k++) {
                nw_synth_entity_id(splitmix(&st) % nentities, seed, id, sizeof id);
                fprintf(f, "%s%s", k > 0 ? " OR " : "", id);
            }
            fputc(')', f);
        }
        fputs("\n\n", f);
    }
    if (fclose(f) != 0)
        return fail(err, errlen, "cannot write", path);
    return 0;
}
