#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "newswatch/analyze.h"
#include "newswatch/gazetteer.h"
#include "newswatch/phrases.h"
#include "testutil.h"
#include "../../lib/lookups.h"

/* A small gazetteer for the clitic rules: names that begin with clitic letters. */
static const char small[] = "# test gazetteer\n"
                            "loc.baghdad | LOC | Baghdad | بغداد | Bagdad\n"
                            "loc.iraq | LOC | Iraq | العراق |\n"
                            "loc.kirkuk | LOC | Kirkuk | كركوك |\n"
                            "loc.lebanon | LOC | Lebanon | لبنان |\n"
                            "loc.palestine | LOC | Palestine | فلسطين |\n"
                            "loc.banan | LOC | Banan | بنان |\n"
                            "loc.ghadad | LOC | Ghadad | غداد |\n"
                            "fac.biap | FACILITY | Baghdad International Airport | مطار بغداد "
                            "الدولي | BIAP; مطار بغداد\n"
                            "fac.tayaran | FACILITY | Tayaran Square | ساحة الطيران |\n"
                            "org.isis | ORG | Islamic State | تنظيم الدولة الإسلامية | داعش; ISIS\n"
                            "per.kadhimi | PERSON | Mustafa al-Kadhimi | مصطفى الكاظمي | "
                            "الكاظمي; Kadhimi\n";

typedef struct fixture {
    nw_normalizer *n;
    nw_gazetteer *g;
    nw_analyzer *a;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[512];
    f->n = nw_normalizer_new(err, sizeof err);
    if (nw_gazetteer_new(f->n, "small", small, strlen(small), &f->g, err, sizeof err) != NW_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    f->a = nw_analyzer_new(f->g, NULL, NULL, 0, err, sizeof err);
    *state = f;
    return f->a != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    nw_analyzer_free(f->a);
    nw_gazetteer_free(f->g);
    nw_normalizer_free(f->n);
    free(f);
    return 0;
}

/* Tags text with a and returns "id=surface|id=surface..." */
static const char *tag_with(nw_analyzer *a, const char *text)
{
    static char out[4096];
    nw_doc *doc = nw_doc_new();
    char err[256];
    assert_int_equal(nw_doc_set(doc, NW_DOC_BODY, text, strlen(text), err, sizeof err), NW_OK);
    const nw_analysis *an;
    assert_int_equal(nw_analyzer_run(a, doc, &an, err, sizeof err), NW_OK);
    out[0] = '\0';
    for (size_t i = 0; i < an->nmentions; i++) {
        const nw_mention *m = &an->mentions[i];
        const nw_text *t = an->text;
        char one[512];
        snprintf(one, sizeof one, "%s%s=%.*s", i ? "|" : "", m->entity ? m->entity->id : "?",
                 (int)(t->display_cp[m->end] - t->display_cp[m->start]),
                 t->display + t->display_cp[m->start]);
        strcat(out, one);
    }
    nw_doc_free(doc);
    return out;
}

/* Tags text with the fixture's small gazetteer. */
static const char *tag(fixture *f, const char *text)
{
    return tag_with(f->a, text);
}

#define TAGS(text, want)                                                                           \
    do {                                                                                           \
        const char *got_ = tag(f, text);                                                           \
        if (strcmp(got_, want) != 0)                                                               \
            fail_msg("'%s':\n got  '%s'\n want '%s'", text, got_, want);                           \
    } while (0)

static void found_through_clitics(void **state)
{
    fixture *f = *state;
    TAGS("ببغداد", "loc.baghdad=بغداد");
    TAGS("وبغداد", "loc.baghdad=بغداد");
    TAGS("فبغداد", "loc.baghdad=بغداد");
    TAGS("لبغداد", "loc.baghdad=بغداد");
    TAGS("كبغداد", "loc.baghdad=بغداد");
    TAGS("وببغداد", "loc.baghdad=بغداد");
    TAGS("والعراق", "loc.iraq=العراق");
    TAGS("بالعراق", "loc.iraq=العراق");
    TAGS("فالعراق", "loc.iraq=العراق");
    TAGS("وبالعراق", "loc.iraq=العراق");
    TAGS("للعراق", "loc.iraq=عراق");
    TAGS("وللعراق", "loc.iraq=عراق");
    TAGS("وساحة الطيران", "fac.tayaran=ساحة الطيران");
    TAGS("بساحة الطيران", "fac.tayaran=ساحة الطيران");
    TAGS("وكركوك", "loc.kirkuk=كركوك");
    TAGS("ولبنان وفلسطين", "loc.lebanon=لبنان|loc.palestine=فلسطين");
    TAGS("والكاظمي", "per.kadhimi=الكاظمي");
    TAGS("Baghdad's airport", "loc.baghdad=Baghdad");
}

static void never_split_wrongly(void **state)
{
    fixture *f = *state;
    /* بغداد is not ب + غداد, لبنان not ل + بنان, even though غداد and بنان are entries. */
    TAGS("بغداد", "loc.baghdad=بغداد");
    TAGS("لبنان", "loc.lebanon=لبنان");
    TAGS("كركوك", "loc.kirkuk=كركوك");
    TAGS("فلسطين", "loc.palestine=فلسطين");
    TAGS("غداد وبنان", "loc.ghadad=غداد|loc.banan=بنان");
    /* Words that merely begin with clitic letters are not names. */
    TAGS("بلد كتاب لبن فراغ والد", "");
    /* A clitic with too little left is not stripped. */
    TAGS("وب بل", "");
}

static void spellings_and_scripts(void **state)
{
    fixture *f = *state;
    /* The surface is read from the clean display text: no tatweel, no tashkeel. */
    TAGS("بغـــداد بَغْدَادُ BAGHDAD Bagdad", "loc.baghdad=بغداد|loc.baghdad=بغداد|"
                                          "loc.baghdad=BAGHDAD|loc.baghdad=Bagdad");
    TAGS("مطار بغداد الدولي", "fac.biap=مطار بغداد الدولي"); /* longest match wins */
    TAGS("مطار بغداد", "fac.biap=مطار بغداد");
    TAGS("BIAP and biap", "fac.biap=BIAP"); /* a capitals-only alias */
    TAGS("تنظيم الدولة الإسلامية وداعش", "org.isis=تنظيم الدولة الإسلامية|org.isis=داعش");
    TAGS("صحيفة \"بغداد\"", "loc.baghdad=بغداد");
    /* A phrase does not cross a sentence or punctuation. */
    TAGS("مطار. بغداد", "loc.baghdad=بغداد");
    TAGS("ساحة، الطيران", "");
}

static void hashtags_and_mentions(void **state)
{
    fixture *f = *state;
    TAGS("#تفجير_بغداد", "loc.baghdad=بغداد");
    TAGS("#BaghdadBombing #ساحة_الطيران", "loc.baghdad=Baghdad|fac.tayaran=ساحة_الطيران");
    TAGS("https://example.org/baghdad/kadhimi", "");
}

static void loader_errors_name_file_and_line(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"loc.x | LOC | X | س\n", "g.txt:1: expected 5 or 6 fields"},
        {"loc.x | LOC | X | س | a | loc.y | b\n", "g.txt:1: expected 5 or 6 fields"},
        {"\n# c\nLOC.x | LOC | X | س |\n", "g.txt:3: 'LOC.x' is not a valid id"},
        {"loc.x | PLACE | X | س |\n", "g.txt:1: unknown type 'PLACE'"},
        {"per.x | LOC | X | س |\n", "g.txt:1: the id of a LOC starts with 'loc.'"},
        {"loc.x | LOC |  |  | a\n", "g.txt:1: an entity needs an English or an Arabic name"},
        {"loc.x | LOC | X | س |\nloc.x | LOC | Y | ص |\n", "g.txt:2: the id 'loc.x' is used twice"},
        {"loc.x | LOC | X | س | a;;b\n", "g.txt:1: an empty alias"},
        {"loc.x | LOC | X | س | ...\n", "g.txt:1: '...' has no words"},
        {"loc.x | LOC | X | \xC0 |\n", "g.txt: invalid UTF-8 at byte offset 18"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nw_gazetteer *g = (nw_gazetteer *)1;
        char err[512] = "";
        nw_err e = nw_gazetteer_new(f->n, "g.txt", cases[i].text, strlen(cases[i].text), &g, err,
                                    sizeof err);
        if (e != NW_ECONFIG || strstr(err, cases[i].msg) != err)
            fail_msg("case %zu: got '%s', expected '%s'", i, err, cases[i].msg);
        assert_null(g);
    }
    nw_gazetteer *g;
    char err[512];
    assert_int_equal(nw_gazetteer_new_from_file(f->n, "no/such/file", &g, err, sizeof err), NW_EIO);
    assert_non_null(strstr(err, "no/such/file: cannot open"));
}

/*
 * The sixth field: the entity this one lies within. A parent may come later
 * in the file; an empty sixth field (a bare pipe after the aliases) is none.
 */
static const char hierarchy[] =
    "fac.square | FACILITY | Square | ساحة الاختبار | | loc.town\n"
    "loc.town | LOC | Town | مدينة الاختبار | Townville | loc.province\n"
    "loc.province | LOC | Province | محافظة الاختبار |\n"
    "loc.elsewhere | LOC | Elsewhere | مكان آخر | Otherland |\n"
    "loc.nearby | LOC | Nearby | قريب الاختبار | | loc.province\n";

static void parents_make_a_hierarchy(void **state)
{
    fixture *f = *state;
    nw_gazetteer *g;
    char err[512];
    assert_int_equal(
        nw_gazetteer_new(f->n, "h.txt", hierarchy, strlen(hierarchy), &g, err, sizeof err), NW_OK);
    assert_int_equal(nw_gazetteer_count(g), 5);
    const nw_entity *square = nw_gazetteer_find(g, "fac.square");
    const nw_entity *town = nw_gazetteer_find(g, "loc.town");
    const nw_entity *province = nw_gazetteer_find(g, "loc.province");
    const nw_entity *elsewhere = nw_gazetteer_find(g, "loc.elsewhere");
    const nw_entity *nearby = nw_gazetteer_find(g, "loc.nearby");
    assert_ptr_equal(square->parent, town); /* a forward reference */
    assert_ptr_equal(town->parent, province);
    assert_null(province->parent);
    assert_null(elsewhere->parent);
    assert_ptr_equal(nearby->parent, province);
    /* Itself, its parent, its grandparent; not a child, a sibling or another branch. */
    assert_true(nw_entity_within(square, square));
    assert_true(nw_entity_within(square, town));
    assert_true(nw_entity_within(square, province));
    assert_true(nw_entity_within(nearby, province));
    assert_false(nw_entity_within(town, square));
    assert_false(nw_entity_within(province, town));
    assert_false(nw_entity_within(square, nearby));
    assert_false(nw_entity_within(nearby, town));
    assert_false(nw_entity_within(square, elsewhere));
    assert_false(nw_entity_within(elsewhere, province));
    /* NULL on either side is never within. */
    assert_false(nw_entity_within(NULL, province));
    assert_false(nw_entity_within(square, NULL));
    assert_false(nw_entity_within(province, NULL));
    assert_false(nw_entity_within(NULL, NULL));
    /* The aliases before the sixth field are still names. */
    nw_analyzer *a = nw_analyzer_new(g, NULL, NULL, 0, err, sizeof err);
    assert_non_null(a);
    assert_string_equal(tag_with(a, "Townville and Otherland"),
                        "loc.town=Townville|loc.elsewhere=Otherland");
    nw_analyzer_free(a);
    nw_gazetteer_free(g);
}

static void parent_errors_name_file_and_line(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"loc.a | LOC | A | ا | | loc.nowhere\n",
         "g.txt:1: the parent 'loc.nowhere' of 'loc.a' is not an entity of the file"},
        /*
         * Parents are resolved once the whole file is read (loc.c, a forward
         * reference, is found); the first unknown one in file order is named.
         */
        {"loc.a | LOC | A | ا | | loc.c\n# c\n"
         "loc.b | LOC | B | ب | | loc.yy\n"
         "loc.c | LOC | C | ج | | loc.zz\n",
         "g.txt:3: the parent 'loc.yy' of 'loc.b' is not an entity of the file"},
        {"loc.a | LOC | A | ا |\nloc.b | LOC | B | ب | | Baghdad\n",
         "g.txt:2: the parent 'Baghdad' is not a valid id"},
        {"loc.a | LOC | A | ا |\nloc.b | LOC | B | ب | b | loc.b\n",
         "g.txt:2: 'loc.b' cannot lie within itself"},
        {"loc.a | LOC | A | ا | | loc.b\nloc.b | LOC | B | ب | | loc.c\nloc.c | LOC | C | ج | | "
         "loc.a\n",
         "g.txt:1: 'loc.a' lies within itself through its parents: loc.a > loc.b > loc.c > loc.a"},
        /* A cycle above an entity that is not on it: the line of the first entity on it. */
        {"loc.x | LOC | X | س | | loc.a\nloc.a | LOC | A | ا | | loc.b\nloc.b | LOC | B | ب | | "
         "loc.a\n",
         "g.txt:2: 'loc.a' lies within itself through its parents: loc.a > loc.b > loc.a"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nw_gazetteer *g = (nw_gazetteer *)1;
        char err[512] = "";
        nw_err e = nw_gazetteer_new(f->n, "g.txt", cases[i].text, strlen(cases[i].text), &g, err,
                                    sizeof err);
        if (e != NW_ECONFIG || strcmp(err, cases[i].msg) != 0)
            fail_msg("case %zu: got '%s', expected '%s'", i, err, cases[i].msg);
        assert_null(g);
    }
}

/* Is the entity with id a within the one with id b, in g? Both must exist. */
static bool within(const nw_gazetteer *g, const char *a, const char *b)
{
    const nw_entity *ea = nw_gazetteer_find(g, a), *eb = nw_gazetteer_find(g, b);
    if (ea == NULL || eb == NULL)
        fail_msg("no entity '%s'", ea == NULL ? a : b);
    return nw_entity_within(ea, eb);
}

/*
 * The shipped file's hierarchy (districts and landmarks in Baghdad, Baghdad in
 * its governorate, in Iraq), and the descriptive names news uses for places.
 */
static void the_default_hierarchy_and_descriptions(void **state)
{
    fixture *f = *state;
    nw_gazetteer *g;
    char err[512];
    assert_int_equal(nw_gazetteer_new_from_file(f->n, "config/gazetteer.txt", &g, err, sizeof err),
                     NW_OK);
    size_t nparents = 0;
    for (size_t i = 0; i < nw_gazetteer_count(g); i++)
        nparents += nw_gazetteer_at(g, i)->parent != NULL;
    assert_true(nparents >= 250);
    assert_true(within(g, "loc.karrada", "loc.baghdad"));
    assert_true(within(g, "fac.baghdad-international-airport", "loc.baghdad"));
    assert_true(within(g, "fac.tayaran-square", "loc.baghdad"));
    assert_true(within(g, "fac.kadhimiya-shrine", "loc.baghdad"));
    assert_true(within(g, "fac.us-embassy-baghdad", "loc.green-zone"));
    assert_true(within(g, "fac.us-embassy-baghdad", "loc.baghdad"));
    assert_true(within(g, "loc.karrada", "loc.baghdad-governorate"));
    assert_true(within(g, "loc.karrada", "loc.iraq"));
    assert_true(within(g, "fac.erbil-international-airport", "loc.erbil"));
    assert_true(within(g, "loc.erbil", "loc.kurdistan-region"));
    assert_false(within(g, "loc.mosul", "loc.baghdad"));
    assert_false(within(g, "fac.erbil-international-airport", "loc.baghdad"));
    /* Camp Taji and Abu Ghraib are in Baghdad governorate, not in the city. */
    assert_false(within(g, "fac.camp-taji", "loc.baghdad"));
    assert_true(within(g, "fac.camp-taji", "loc.baghdad-governorate"));
    assert_false(within(g, "loc.abu-ghraib", "loc.baghdad"));
    assert_false(within(g, "loc.baghdad", "loc.karrada"));
    assert_false(within(g, "loc.iraq", "loc.baghdad"));
    /* Descriptive names and acronyms. */
    nw_analyzer *a = nw_analyzer_new(g, NULL, NULL, 0, err, sizeof err);
    assert_non_null(a);
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"سقطت صواريخ كاتيوشا على المطار الدولي في العاصمة العراقية",
         "fac.baghdad-international-airport=المطار الدولي في العاصمة العراقية"},
        {"سقطت صواريخ بالمطار الدولي في العاصمة العراقية",
         "fac.baghdad-international-airport=المطار الدولي في العاصمة العراقية"},
        {"سقط صاروخ على مطار العاصمة العراقية",
         "fac.baghdad-international-airport=مطار العاصمة العراقية"},
        {"هبطت الطائرة في مطار العاصمة بغداد",
         "fac.baghdad-international-airport=مطار العاصمة بغداد"},
        {"استهدف هجوم مطار العاصمة فجر اليوم", "fac.baghdad-international-airport=مطار العاصمة"},
        {"وصل إلى مطار بغداد الدولي", "fac.baghdad-international-airport=مطار بغداد الدولي"},
        {"Rockets hit the capital's airport",
         "fac.baghdad-international-airport=the capital's airport"},
        {"Rockets hit the Iraqi capital's airport",
         "fac.baghdad-international-airport=Iraqi capital's airport"},
        {"Flights left Baghdad International and BIAP, not biap",
         "fac.baghdad-international-airport=Baghdad International|"
         "fac.baghdad-international-airport=BIAP"},
        {"Rockets hit Baghdad's airport", "fac.baghdad-international-airport=Baghdad's airport"},
        {"استهدفت صواريخ قاعدة النصر", "fac.victory-base=قاعدة النصر"},
        {"صاروخ في المنطقة الخضراء قرب المنطقة الدولية",
         "loc.green-zone=المنطقة الخضراء|loc.green-zone=المنطقة الدولية"},
        {"Rockets landed in the International Zone, the IZ, not iz",
         "loc.green-zone=International Zone|loc.green-zone=IZ"},
        {"انفجار في ساحة الطيران", "fac.tayaran-square=ساحة الطيران"},
        {"A blast at Tayyaran Square in the Iraqi capital",
         "fac.tayaran-square=Tayyaran Square|loc.baghdad=Iraqi capital"},
        {"في العاصمة العراقية", "loc.baghdad=العاصمة العراقية"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = tag_with(a, cases[i].text);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("'%s':\n got  '%s'\n want '%s'", cases[i].text, got, cases[i].want);
    }
    nw_analyzer_free(a);
    nw_gazetteer_free(g);
}

static void the_default_gazetteer(void **state)
{
    fixture *f = *state;
    nw_gazetteer *g;
    char err[512];
    assert_int_equal(nw_gazetteer_new_from_file(f->n, "config/gazetteer.txt", &g, err, sizeof err),
                     NW_OK);
    assert_true(nw_gazetteer_count(g) >= 500);
    size_t types[NW_ENTITY_TYPE_COUNT] = {0};
    for (size_t i = 0; i < nw_gazetteer_count(g); i++)
        types[nw_gazetteer_at(g, i)->type]++;
    for (int t = 0; t < NW_ENTITY_TYPE_COUNT; t++)
        assert_true(types[t] >= 50);
    /* The brief's example: every spelling of ISIS is one entity. */
    const nw_entity *isis = nw_gazetteer_find(g, "org.isis");
    assert_non_null(isis);
    assert_int_equal(isis->type, NW_ENTITY_ORG);
    nw_analyzer *a = nw_analyzer_new(g, NULL, NULL, 0, err, sizeof err);
    const char *text = "داعش، تنظيم الدولة، الدولة الإسلامية، ISIS، ISIL، Daesh، Islamic State";
    nw_doc *doc = nw_doc_new();
    nw_doc_set(doc, NW_DOC_BODY, text, strlen(text), err, sizeof err);
    const nw_analysis *an;
    assert_int_equal(nw_analyzer_run(a, doc, &an, err, sizeof err), NW_OK);
    assert_int_equal(an->nmentions, 7);
    for (size_t i = 0; i < an->nmentions; i++)
        assert_ptr_equal(an->mentions[i].entity, isis);
    /* Iraq's 18 governorates. */
    static const char *const governorates[] = {
        "بغداد",  "نينوى",    "البصرة", "الأنبار", "ديالى",      "صلاح الدين",
        "كركوك",  "بابل",     "كربلاء", "النجف",   "واسط",       "ميسان",
        "ذي قار", "القادسية", "المثنى", "أربيل",   "السليمانية", "دهوك",
    };
    for (size_t i = 0; i < 18; i++) {
        char body[256];
        snprintf(body, sizeof body, "محافظة %s", governorates[i]);
        nw_doc_set(doc, NW_DOC_BODY, body, strlen(body), err, sizeof err);
        assert_int_equal(nw_analyzer_run(a, doc, &an, err, sizeof err), NW_OK);
        if (an->nmentions < 1 || an->mentions[0].type != NW_ENTITY_LOC)
            fail_msg("no governorate found in '%s'", body);
    }
    nw_doc_free(doc);
    nw_analyzer_free(a);
    nw_gazetteer_free(g);
}

/* Every field of two hits (or two misses) is the same. */
static void assert_same_hit(int ra, const nw_phrase_hit *a, int rb, const nw_phrase_hit *b,
                            size_t token)
{
    if (ra != rb)
        fail_msg("token %zu: prepared %d, unprepared %d", token, ra, rb);
    if (ra == 0)
        return;
    assert_int_equal(a->first, b->first);
    assert_int_equal(a->ntokens, b->ntokens);
    assert_int_equal(a->start, b->start);
    assert_int_equal(a->end, b->end);
    assert_ptr_equal(a->values, b->values);
    assert_int_equal(a->nvalues, b->nvalues);
}

/*
 * nw_lookups_prepare computes each token's readings once for every index, and
 * nw_lookups_memo one index's hits at every token; lookups with and without
 * them must find the same phrases, with clitics, restored articles,
 * possessives and mentions, on every seed.
 */
static void prepared_lookups_find_the_same(void **state)
{
    fixture *f = *state;
    char err[512];
    nw_gazetteer *g;
    assert_int_equal(nw_gazetteer_new_from_file(f->n, "config/gazetteer.txt", &g, err, sizeof err),
                     NW_OK);
    const nw_phrases *p = nw_gazetteer_phrases(g);
    nw_phrases *empty = nw_phrases_new();
    const nw_phrases *screen[] = {empty, p};
    nw_lookups *sc = nw_lookups_new(screen, 2, err, sizeof err);
    nw_lookups *none = nw_lookups_new(NULL, 0, err, sizeof err);
    assert_non_null(sc);
    assert_non_null(none);
    nw_text *t = nw_text_new();
    nw_segments *s = nw_segments_new();
    size_t hits = 0, skipped = 0;
    for (size_t i = 0; i <= TU_NSEEDS; i++) {
        char *text;
        size_t len = 0;
        if (i < TU_NSEEDS) {
            text = tu_read_seed(i, &len);
        } else {
            static const char edge[] = "وبغداد للعراق والكاظمي بالعراق فلبنان وللعراق Baghdad's "
                                       "@Kadhimi #بغداد ولمطار بغداد الدولي";
            text = strdup(edge);
            len = strlen(edge);
        }
        assert_int_equal(nw_normalize(f->n, text, len, t, err, sizeof err), NW_OK);
        assert_int_equal(nw_segment(t, s, err, sizeof err), NW_OK);
        nw_phrase_hit *plain = calloc(s->ntokens + 1, sizeof *plain);
        int *rplain = calloc(s->ntokens + 1, sizeof *rplain);
        for (size_t k = 0; k < s->ntokens; k++)
            rplain[k] = nw_phrases_match(p, t, s, k, &plain[k]);
        /*
         * Prepared, then also screened: p behind an empty index, so that its
         * bit is not the first; a screened token whose bit is clear ends there.
         */
        for (int screened = 0; screened < 2; screened++) {
            nw_lookups *l = screened ? sc : none;
            assert_int_equal(nw_lookups_prepare(l, t, s, err, sizeof err), NW_OK);
            assert_ptr_equal(s->lookups, l); /* the prepared path is taken below */
            for (size_t k = 0; k < s->ntokens; k++) {
                nw_phrase_hit h;
                int r = nw_phrases_match(p, t, s, k, &h);
                assert_same_hit(r, &h, rplain[k], &plain[k], k);
                assert_int_equal(nw_phrases_match(empty, t, s, k, &h), 0);
                hits += screened ? 0 : (size_t)r;
                /*
                 * nw_lookups_next skips only tokens that start nothing and
                 * are not hashtags; without a screen it skips none.
                 */
                size_t next = nw_lookups_next(p, s, k);
                if (!screened || r || (s->tokens[k].flags & NW_TOKEN_HASHTAG))
                    assert_int_equal(next, k);
                assert_true(next >= k && next <= s->ntokens);
                skipped += next - k;
                /* The empty index: screened, only hashtags stop the skipping. */
                size_t tag = k;
                while (screened && tag < s->ntokens && !(s->tokens[tag].flags & NW_TOKEN_HASHTAG))
                    tag++;
                assert_int_equal(nw_lookups_next(empty, s, k), tag);
            }
        }
        /* Memoised: the same hits again, read from what nw_lookups_memo kept. */
        assert_int_equal(nw_lookups_memo(sc, p, t, s, err, sizeof err), NW_OK);
        assert_ptr_equal(s->lookups, sc);
        for (size_t k = 0; k < s->ntokens; k++) {
            nw_phrase_hit h;
            int r = nw_phrases_match(p, t, s, k, &h);
            assert_same_hit(r, &h, rplain[k], &plain[k], k);
        }
        /* A new segmentation drops the prepared keys and the memo. */
        assert_int_equal(nw_segment(t, s, err, sizeof err), NW_OK);
        assert_null(s->lookups);
        free(plain);
        free(rplain);
        free(text);
    }
    assert_true(hits > 100);
    assert_true(skipped > 1000); /* the screen lets most tokens be skipped */
    /* More indexes than a segmentation can screen: refused. */
    const nw_phrases *many[NW_LOOKUPS_SCREENED + 1];
    for (size_t d = 0; d <= NW_LOOKUPS_SCREENED; d++)
        many[d] = p;
    assert_null(nw_lookups_new(many, NW_LOOKUPS_SCREENED + 1, err, sizeof err));
    assert_non_null(strstr(err, "at most 8"));
    nw_lookups_free(sc);
    nw_lookups_free(none);
    nw_phrases_free(empty);
    nw_segments_free(s);
    nw_text_free(t);
    nw_gazetteer_free(g);
}

/* An analyzer screens its own three indexes and up to five more it is given. */
static void analyzer_screens_at_most_eight(void **state)
{
    fixture *f = *state;
    char err[512];
    nw_phrases *own[NW_ANALYZER_CONSULTED_MAX + 1];
    const nw_phrases *more[NW_ANALYZER_CONSULTED_MAX + 1];
    for (int k = 0; k <= NW_ANALYZER_CONSULTED_MAX; k++)
        more[k] = own[k] = nw_phrases_new();
    assert_null(nw_analyzer_new(f->g, NULL, more, NW_ANALYZER_CONSULTED_MAX + 1, err, sizeof err));
    assert_non_null(strstr(err, "at most 5 can be screened"));
    /* The same index twice is screened once. */
    more[1] = more[0];
    nw_analyzer *a = nw_analyzer_new(f->g, NULL, more, NW_ANALYZER_CONSULTED_MAX, err, sizeof err);
    assert_non_null(a);
    /* It still analyses. */
    nw_doc *doc = NULL;
    static const char text[] = "قال الكاظمي في بغداد يوم 21 كانون الثاني 2021";
    assert_int_equal(nw_doc_from_text("t.txt", text, strlen(text), &doc, err, sizeof err), NW_OK);
    const nw_analysis *an;
    assert_int_equal(nw_analyzer_run(a, doc, &an, err, sizeof err), NW_OK);
    assert_int_equal(an->nmentions, 2);
    assert_int_equal(an->dates->ndates, 1);
    nw_doc_free(doc);
    nw_analyzer_free(a);
    for (int k = 0; k <= NW_ANALYZER_CONSULTED_MAX; k++)
        nw_phrases_free(own[k]);
}

/* Three letters from an alphabet of twenty (no clitic letters): 8000 distinct words. */
static void synthetic_word(unsigned k, char *out)
{
    static const char letters[] = "تثجحخدذرزسشصضطظعغقمن"; /* two bytes each */
    for (int i = 0; i < 3; i++) {
        unsigned l = k % 20;
        k /= 20;
        memcpy(out + 2 * i, letters + 2 * l, 2);
    }
    out[6] = '\0';
}

/*
 * An index of thousands of phrases (its filter of first words grows several
 * times on the way) finds each one, with the longest phrase winning whether
 * the one-word phrase was added before or after the longer one, and finds
 * nothing for words that start no phrase; prepared or not.
 */
/*
 * The clitic rules, checked against a reading of them written here from
 * their description (phrases.h): a conjunction (و ف), then a preposition
 * (ب ك ل), then the article (ال), each optional, ل before the article
 * written لل (the name then read with ال); at least two letters must remain;
 * the whole word first, then the splits from the shortest. Every word of two
 * to five letters over و ف ب ك ل ا ع, and of six over و ب ل ا ع, is looked up
 * in an index of some of the words of one to three letters over them.
 */
static const char *const clitic_letters[] = {"و", "ف", "ب", "ك", "ل", "ا", "ع"};
#define NCLITIC_LETTERS 7

/* Is the word of letters w[0..n) in the index? Every letter, half the pairs, a third of the
 * triples. */
static bool indexed(const unsigned *w, size_t n)
{
    unsigned code = 0;
    for (size_t k = n; k-- > 0;)
        code = code * NCLITIC_LETTERS + w[k];
    return n == 1 || (n == 2 && code % 2 == 0) || (n == 3 && code % 3 == 0);
}

static void spell(const unsigned *w, size_t n, char *out)
{
    out[0] = '\0';
    for (size_t k = 0; k < n; k++)
        strcat(out, clitic_letters[w[k]]);
}

/* The phrase a word is read as under the rules above (into out), or false. */
static bool expected_reading(const unsigned *w, size_t n, char *out)
{
    if (indexed(w, n)) {
        spell(w, n, out);
        return true;
    }
    /* Splits, shortest first: letters stripped, and whether ال is put back. */
    for (size_t strip = 1; strip + 2 <= n; strip++) {
        for (int restored = 0; restored < 2; restored++) {
            /* Is w[0 .. strip) a conjunction, a preposition and an article, in that order? */
            size_t k = 0;
            if (k < strip && w[k] <= 1) /* و ف */
                k++;
            bool lam = false;
            if (k < strip && w[k] >= 2 && w[k] <= 4) { /* ب ك ل */
                lam = w[k] == 4;
                k++;
            }
            bool ok;
            if (restored) /* لل: the second lam ends the proclitics; the name is read with ال */
                ok = lam && k + 1 == strip && w[k] == 4;
            else if (!lam && k + 2 == strip) /* ال */
                ok = w[k] == 5 && w[k + 1] == 4;
            else
                ok = k == strip;
            if (!ok)
                continue;
            unsigned name[8];
            size_t nn = 0;
            if (restored) {
                name[nn++] = 5;
                name[nn++] = 4;
            }
            for (size_t j = strip; j < n; j++)
                name[nn++] = w[j];
            if (nn <= 3 && indexed(name, nn)) {
                spell(name, nn, out);
                return true;
            }
        }
    }
    return false;
}

static void clitics_follow_their_rules(void **state)
{
    fixture *f = *state;
    char err[512], word[64], expect[64];
    nw_phrases *p = nw_phrases_new();
    nw_text *t = nw_text_new();
    nw_segments *s = nw_segments_new();
    nw_lookups *l = nw_lookups_new(NULL, 0, err, sizeof err);
    assert_non_null(l);
    /* The index; a phrase's value is its number in phrases[]. */
    char **phrases = calloc(400, sizeof *phrases);
    unsigned nphrases = 0;
    for (unsigned len = 1; len <= 3; len++) {
        unsigned total = 1;
        for (unsigned k = 0; k < len; k++)
            total *= NCLITIC_LETTERS;
        for (unsigned code = 0; code < total; code++) {
            unsigned w[3];
            for (unsigned k = 0, c = code; k < len; k++, c /= NCLITIC_LETTERS)
                w[k] = c % NCLITIC_LETTERS;
            if (!indexed(w, len))
                continue;
            spell(w, len, word);
            phrases[nphrases] = strdup(word);
            assert_int_equal(
                nw_phrases_add(p, f->n, t, s, word, strlen(word), nphrases, err, sizeof err),
                NW_OK);
            nphrases++;
        }
    }
    size_t checked = 0, split = 0;
    for (unsigned len = 2; len <= 6; len++) {
        unsigned letters = len <= 5 ? NCLITIC_LETTERS : 5;
        static const unsigned six[] = {0, 2, 4, 5, 6}; /* و ب ل ا ع */
        unsigned total = 1;
        for (unsigned k = 0; k < len; k++)
            total *= letters;
        for (unsigned code = 0; code < total; code++) {
            unsigned w[8];
            for (unsigned k = 0, c = code; k < len; k++, c /= letters)
                w[k] = len <= 5 ? c % letters : six[c % letters];
            spell(w, len, word);
            bool found = expected_reading(w, len, expect);
            assert_int_equal(nw_normalize(f->n, word, strlen(word), t, err, sizeof err), NW_OK);
            assert_int_equal(nw_segment(t, s, err, sizeof err), NW_OK);
            assert_int_equal(s->ntokens, 1);
            for (int prepared = 0; prepared < 2; prepared++) {
                if (prepared)
                    assert_int_equal(nw_lookups_prepare(l, t, s, err, sizeof err), NW_OK);
                nw_phrase_hit h;
                int r = nw_phrases_match(p, t, s, 0, &h);
                if (r != (int)found || (found && strcmp(phrases[h.values[0]], expect) != 0))
                    fail_msg("%s: read as %s, expected %s", word, r ? phrases[h.values[0]] : "-",
                             found ? expect : "-");
            }
            checked++;
            split += found && strcmp(expect, word) != 0;
        }
    }
    assert_true(checked > 20000);
    assert_true(split > 1000);
    for (unsigned k = 0; k < nphrases; k++)
        free(phrases[k]);
    free(phrases);
    nw_lookups_free(l);
    nw_segments_free(s);
    nw_text_free(t);
    nw_phrases_free(p);
}

static void an_index_of_many_phrases_finds_each(void **state)
{
    fixture *f = *state;
    char err[512];
    nw_phrases *p = nw_phrases_new();
    nw_text *t = nw_text_new();
    nw_segments *s = nw_segments_new();
    nw_lookups *l = nw_lookups_new(NULL, 0, err, sizeof err);
    assert_non_null(l);
    char a[8], b[8], phrase[32];
    for (unsigned k = 0; k < 4000; k++) {
        synthetic_word(k, a);
        synthetic_word(k + 4000, b);
        snprintf(phrase, sizeof phrase, "%s %s", a, b);
        if (k % 3 == 0 && k % 2 == 0)
            assert_int_equal(
                nw_phrases_add(p, f->n, t, s, phrase, strlen(phrase), 10000 + k, err, sizeof err),
                NW_OK);
        assert_int_equal(nw_phrases_add(p, f->n, t, s, a, strlen(a), k, err, sizeof err), NW_OK);
        if (k % 3 == 0 && k % 2 == 1)
            assert_int_equal(
                nw_phrases_add(p, f->n, t, s, phrase, strlen(phrase), 10000 + k, err, sizeof err),
                NW_OK);
    }
    assert_int_equal(nw_phrases_count(p), 4000 + 1334);
    for (unsigned k = 0; k < 4000; k++) {
        synthetic_word(k, a);
        synthetic_word(k + 4000, b);
        snprintf(phrase, sizeof phrase, "%s %s %s", a, b, b);
        assert_int_equal(nw_normalize(f->n, phrase, strlen(phrase), t, err, sizeof err), NW_OK);
        assert_int_equal(nw_segment(t, s, err, sizeof err), NW_OK);
        for (int prepared = 0; prepared < 2; prepared++) {
            if (prepared)
                assert_int_equal(nw_lookups_prepare(l, t, s, err, sizeof err), NW_OK);
            nw_phrase_hit h;
            assert_int_equal(nw_phrases_match(p, t, s, 0, &h), 1);
            assert_int_equal(h.ntokens, k % 3 == 0 ? 2 : 1);
            assert_int_equal(h.nvalues, 1);
            assert_int_equal(h.values[0], k % 3 == 0 ? 10000 + k : k);
            /* The second word starts nothing (it is only ever a second word). */
            assert_int_equal(nw_phrases_match(p, t, s, 1, &h), 0);
            assert_int_equal(nw_phrases_match(p, t, s, 2, &h), 0);
        }
    }
    nw_lookups_free(l);
    nw_segments_free(s);
    nw_text_free(t);
    nw_phrases_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(found_through_clitics),
        cmocka_unit_test(never_split_wrongly),
        cmocka_unit_test(spellings_and_scripts),
        cmocka_unit_test(hashtags_and_mentions),
        cmocka_unit_test(loader_errors_name_file_and_line),
        cmocka_unit_test(the_default_gazetteer),
        cmocka_unit_test(parents_make_a_hierarchy),
        cmocka_unit_test(parent_errors_name_file_and_line),
        cmocka_unit_test(the_default_hierarchy_and_descriptions),
        cmocka_unit_test(prepared_lookups_find_the_same),
        cmocka_unit_test(an_index_of_many_phrases_finds_each),
        cmocka_unit_test(clitics_follow_their_rules),
        cmocka_unit_test(analyzer_screens_at_most_eight),
    };
    return cmocka_run_group_tests_name("gazetteer", tests, setup, teardown);
}
