/*
 * Document fingerprints on variants of the five seed reports built here:
 * exact copies, another headline, a paragraph dropped, a sentence or the
 * figures changed, other page furniture; every pair of different seeds;
 * short texts; the text form. The similarity figures are printed so that
 * the margins around NW_FINGERPRINT_THRESHOLD can be read from the log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "newswatch/analyze.h"
#include "newswatch/fingerprint.h"
#include "newswatch/hash.h"
#include "testutil.h"

#define NSEEDS TU_NSEEDS

/*
 * The margins the seeds keep around the threshold: every near copy measures
 * at least NEAR_FLOOR and every pair of different reports at most
 * DIFFERENT_CEILING. A change that erodes them fails here before it flips a
 * decision.
 */
#define NEAR_FLOOR        0.65
#define DIFFERENT_CEILING 0.25

typedef struct fixture {
    nw_normalizer *n;
    nw_gazetteer *g;
    nw_furniture *f;
    nw_analyzer *a;
    nw_doc *doc;
    char *raw[NSEEDS];
    size_t rawlen[NSEEDS];
    nw_fingerprint fp[NSEEDS];
} fixture;

/* A growing string. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

/* Field by field: the struct has padding. */
static void assert_fp_equal(const nw_fingerprint *a, const nw_fingerprint *b)
{
    assert_true(a->exact == b->exact);
    assert_int_equal(a->nshingles, b->nshingles);
    assert_memory_equal(a->minhash, b->minhash, sizeof a->minhash);
}

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* The analysis of a document read from text (the title is its first line, as for files). */
static const nw_analysis *analyse(fixture *f, const char *text, size_t len)
{
    char err[256];
    nw_doc_free(f->doc);
    f->doc = NULL;
    if (nw_doc_from_text("variant.txt", text, len, &f->doc, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    const nw_analysis *an;
    if (nw_analyzer_run(f->a, f->doc, &an, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    return an;
}

static void fingerprint_of(fixture *f, const char *text, size_t len, nw_fingerprint *out)
{
    const nw_analysis *an = analyse(f, text, len);
    nw_fingerprint_compute(an->text, an->seg, out);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[512];
    f->n = nw_normalizer_new(err, sizeof err);
    if (f->n == NULL ||
        nw_gazetteer_new_from_file(f->n, "config/gazetteer.txt", &f->g, err, sizeof err) != NW_OK ||
        nw_furniture_new_from_file(f->n, "config/furniture.conf", &f->f, err, sizeof err) !=
            NW_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    f->a = nw_analyzer_new(f->g, f->f, NULL, 0, err, sizeof err);
    if (f->a == NULL) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    for (size_t i = 0; i < NSEEDS; i++)
        f->raw[i] = tu_read_seed(i, &f->rawlen[i]);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < NSEEDS; i++)
        free(f->raw[i]);
    nw_doc_free(f->doc);
    nw_analyzer_free(f->a);
    nw_gazetteer_free(f->g);
    nw_furniture_free(f->f);
    nw_normalizer_free(f->n);
    free(f);
    return 0;
}

/* The seeds' fingerprints, computed once per test (the fixture is shared). */
static void seed_fingerprints(fixture *f)
{
    for (size_t i = 0; i < NSEEDS; i++)
        fingerprint_of(f, f->raw[i], f->rawlen[i], &f->fp[i]);
}

/* The lines of a text (without their '\n'): starts and lengths, at most max. */
static size_t split_lines(const char *text, size_t len, size_t *start, size_t *llen, size_t max)
{
    size_t n = 0, s = 0;
    for (size_t i = 0; i <= len && n < max; i++) {
        if (i == len || text[i] == '\n') {
            start[n] = s;
            llen[n] = i - s;
            n++;
            s = i + 1;
        }
    }
    return n;
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

#define MAX_LINES 256

/* Checks b against seed i as a near copy and returns the similarity. */
static double expect_near(fixture *f, size_t i, const nw_fingerprint *b, const char *what)
{
    double sim = nw_fingerprint_similarity(&f->fp[i], b);
    if (!nw_fingerprint_is_duplicate(&f->fp[i], b) || !nw_fingerprint_is_duplicate(b, &f->fp[i]))
        fail_msg("%s: %s is not a duplicate (similarity %.3f)", tu_seed_name(i), what, sim);
    if (sim < NEAR_FLOOR)
        fail_msg("%s: %s: similarity %.3f is under the margin %.2f", tu_seed_name(i), what, sim,
                 NEAR_FLOOR);
    return sim;
}

/* (a) The same text, and the same words with other white space: exact duplicates. */
static void same_text_is_exact(void **state)
{
    fixture *f = *state;
    seed_fingerprints(f);
    for (size_t i = 0; i < NSEEDS; i++) {
        nw_fingerprint b;
        fingerprint_of(f, f->raw[i], f->rawlen[i], &b);
        assert_fp_equal(&b, &f->fp[i]);
        assert_true(nw_fingerprint_is_duplicate(&f->fp[i], &b));
        assert_true(nw_fingerprint_similarity(&f->fp[i], &b) == 1.0);
        assert_true(f->fp[i].nshingles >= NW_FINGERPRINT_MIN_SHINGLES);
        /* Every space doubled, every line ended by CR LF, Arabic commas as " ,". */
        sbuf v = {0};
        for (size_t k = 0; k < f->rawlen[i]; k++) {
            char c = f->raw[i][k];
            if (c == ' ')
                sb_str(&v, "  ");
            else if (c == '\n')
                sb_str(&v, " \r\n");
            else if (strncmp(f->raw[i] + k, "،", strlen("،")) == 0) {
                sb_str(&v, " ,");
                k += strlen("،") - 1;
            } else
                sb_add(&v, &c, 1);
        }
        fingerprint_of(f, v.p, v.len, &b);
        if (b.exact != f->fp[i].exact)
            fail_msg("%s: white space changes the exact hash", tu_seed_name(i));
        assert_true(nw_fingerprint_is_duplicate(&f->fp[i], &b));
        free(v.p);
    }
}

/* exact is FNV-1a 64 of the match-form words joined by one space, as the header says. */
static void exact_hash_is_documented_fnv(void **state)
{
    fixture *f = *state;
    for (size_t i = 0; i < NSEEDS; i++) {
        const nw_analysis *an = analyse(f, f->raw[i], f->rawlen[i]);
        sbuf words = {0};
        for (size_t k = 0; k < an->seg->ntokens; k++) {
            const nw_token *tok = &an->seg->tokens[k];
            if (k > 0)
                sb_str(&words, " ");
            sb_add(&words, an->text->match + an->text->match_cp[tok->start],
                   an->text->match_cp[tok->end] - an->text->match_cp[tok->start]);
        }
        nw_fingerprint fp;
        nw_fingerprint_compute(an->text, an->seg, &fp);
        assert_true(fp.exact == nw_hash_fnv1a64(words.p, words.len));
        free(words.p);
    }
}

/* (b) Another headline: the first line replaced. */
static void another_headline_is_near(void **state)
{
    fixture *f = *state;
    seed_fingerprints(f);
    static const char *const headline = "عاجل: تطورات أمنية جديدة في العراق بعد هجوم دام في "
                                        "العاصمة وسط مخاوف من عودة التنظيم";
    printf("another headline:");
    for (size_t i = 0; i < NSEEDS; i++) {
        const char *nl = memchr(f->raw[i], '\n', f->rawlen[i]);
        assert_non_null(nl);
        sbuf v = {0};
        sb_str(&v, headline);
        sb_add(&v, nl, f->rawlen[i] - (size_t)(nl - f->raw[i]));
        nw_fingerprint b;
        fingerprint_of(f, v.p, v.len, &b);
        assert_true(b.exact != f->fp[i].exact);
        printf(" %.3f", expect_near(f, i, &b, "another headline"));
        free(v.p);
    }
    printf("\n");
}

/* (c) One paragraph (line) dropped: each one in turn; prints the lowest similarity. */
static void paragraph_dropped_is_near(void **state)
{
    fixture *f = *state;
    seed_fingerprints(f);
    printf("one paragraph dropped (lowest over every paragraph):");
    for (size_t i = 0; i < NSEEDS; i++) {
        size_t start[MAX_LINES], len[MAX_LINES];
        size_t n = split_lines(f->raw[i], f->rawlen[i], start, len, MAX_LINES);
        double low = 1.0;
        size_t paragraphs = 0;
        for (size_t drop = 0; drop < n; drop++) {
            if (blank(f->raw[i] + start[drop], len[drop]))
                continue;
            paragraphs++;
            sbuf v = {0};
            for (size_t k = 0; k < n; k++) {
                if (k == drop)
                    continue;
                sb_add(&v, f->raw[i] + start[k], len[k]);
                sb_str(&v, "\n");
            }
            nw_fingerprint b;
            fingerprint_of(f, v.p, v.len, &b);
            char what[64];
            snprintf(what, sizeof what, "line %zu dropped", drop + 1);
            double sim = expect_near(f, i, &b, what);
            if (sim < low)
                low = sim;
            free(v.p);
        }
        assert_true(paragraphs >= 10);
        printf(" %.3f", low);
    }
    printf("\n");
}

/* Every ASCII number in text plus 3 (32 -> 35, 2021 -> 2024). */
static void bump_numbers(const char *text, size_t len, sbuf *out)
{
    for (size_t k = 0; k < len;) {
        if (text[k] >= '0' && text[k] <= '9') {
            unsigned long long v = 0;
            size_t e = k;
            while (e < len && text[e] >= '0' && text[e] <= '9' && e - k < 18)
                v = v * 10 + (unsigned long long)(text[e++] - '0');
            char num[32];
            snprintf(num, sizeof num, "%llu", v + 3);
            sb_str(out, num);
            k = e;
        } else {
            sb_add(out, text + k, 1);
            k++;
        }
    }
}

/* (d) The figures changed: the same shingles, so similarity 1 but not exact. */
static void numbers_changed_is_near(void **state)
{
    fixture *f = *state;
    seed_fingerprints(f);
    for (size_t i = 0; i < NSEEDS; i++) {
        sbuf v = {0};
        bump_numbers(f->raw[i], f->rawlen[i], &v);
        assert_true(v.len != f->rawlen[i] || memcmp(v.p, f->raw[i], v.len) != 0);
        nw_fingerprint b;
        fingerprint_of(f, v.p, v.len, &b);
        assert_true(b.exact != f->fp[i].exact);
        assert_true(expect_near(f, i, &b, "numbers changed") == 1.0);
        free(v.p);
    }
    /* The death toll in 003 rising from 32 to 35, in a copy of the report. */
    const char *p = strstr(f->raw[3], "قتل 32 مدنيا");
    assert_non_null(p);
    char *copy = malloc(f->rawlen[3] + 1);
    memcpy(copy, f->raw[3], f->rawlen[3] + 1);
    copy[(p - f->raw[3]) + (sizeof "قتل 3" - 1)] = '5';
    nw_fingerprint b;
    fingerprint_of(f, copy, f->rawlen[3], &b);
    assert_true(b.exact != f->fp[3].exact);
    assert_true(nw_fingerprint_is_duplicate(&f->fp[3], &b));
    free(copy);
}

/*
 * (d) One sentence changed: each sentence of the clean text in turn replaced
 * by another; prints the lowest similarity.
 */
static void sentence_changed_is_near(void **state)
{
    fixture *f = *state;
    seed_fingerprints(f);
    static const char *const other = "وقال شهود عيان إن حركة السير عادت إلى طبيعتها في المنطقة "
                                     "بعد ساعات من الحادث وسط انتشار أمني كثيف";
    printf("one sentence changed (lowest over every sentence):");
    for (size_t i = 0; i < NSEEDS; i++) {
        const nw_analysis *an = analyse(f, f->raw[i], f->rawlen[i]);
        size_t tlen = an->text->display_len;
        char *clean = malloc(tlen + 1);
        memcpy(clean, an->text->display, tlen + 1);
        size_t nsent = an->seg->nsentences;
        size_t *sb = malloc(nsent * sizeof *sb), *se = malloc(nsent * sizeof *se);
        for (size_t k = 0; k < nsent; k++) {
            sb[k] = an->text->display_cp[an->seg->sentences[k].start];
            se[k] = an->text->display_cp[an->seg->sentences[k].end];
        }
        /* The clean text read again is the same document. */
        nw_fingerprint b;
        fingerprint_of(f, clean, tlen, &b);
        assert_true(b.exact == f->fp[i].exact);
        double low = 1.0;
        for (size_t k = 0; k < nsent; k++) {
            sbuf v = {0};
            sb_add(&v, clean, sb[k]);
            sb_str(&v, other);
            sb_add(&v, clean + se[k], tlen - se[k]);
            fingerprint_of(f, v.p, v.len, &b);
            char what[64];
            snprintf(what, sizeof what, "sentence %zu changed", k + 1);
            double sim = expect_near(f, i, &b, what);
            if (sim < low)
                low = sim;
            free(v.p);
        }
        printf(" %.3f", low);
        free(clean);
        free(sb);
        free(se);
    }
    printf("\n");
}

/* The seed with furniture inserted: a share line, a read-also box, a caption shown twice. */
static void add_furniture(const char *text, size_t len, sbuf *v)
{
    size_t start[MAX_LINES], llen[MAX_LINES];
    size_t n = split_lines(text, len, start, llen, MAX_LINES);
    for (size_t k = 0; k < n; k++) {
        sb_add(v, text + start[k], llen[k]);
        sb_str(v, "\n");
        if (k == 0)
            sb_str(v, "\nشارك القصة\n\n");
        if (k == n / 3)
            sb_str(v, "\nاقرأ أيضا: تنديد دولي واسع بالهجوم الدامي في قلب العاصمة\n\n");
        if (k == 2 * n / 3)
            sb_str(v, "\nعناصر من القوات الأمنية في موقع التفجير وسط العاصمة (رويترز)\n"
                      "عناصر من القوات الأمنية في موقع التفجير وسط العاصمة (رويترز)\n\n");
    }
    sb_str(v, "\nShare\n");
}

/* (e) Other page furniture: removed by the analyzer, so the same words. */
static void other_furniture_is_duplicate(void **state)
{
    fixture *f = *state;
    seed_fingerprints(f);
    for (size_t i = 0; i < NSEEDS; i++) {
        sbuf v = {0};
        add_furniture(f->raw[i], f->rawlen[i], &v);
        nw_fingerprint b;
        fingerprint_of(f, v.p, v.len, &b);
        if (b.exact != f->fp[i].exact)
            fail_msg("%s: furniture left in the text (similarity %.3f)", tu_seed_name(i),
                     nw_fingerprint_similarity(&f->fp[i], &b));
        assert_true(nw_fingerprint_is_duplicate(&f->fp[i], &b));
        free(v.p);
    }
}

/*
 * All at once, as a syndicated copy may come: another headline, a paragraph
 * dropped from the middle, the figures changed, other furniture.
 */
static void syndicated_copy_is_near(void **state)
{
    fixture *f = *state;
    seed_fingerprints(f);
    printf("headline + paragraph dropped + numbers + furniture:");
    for (size_t i = 0; i < NSEEDS; i++) {
        size_t start[MAX_LINES], len[MAX_LINES];
        size_t n = split_lines(f->raw[i], f->rawlen[i], start, len, MAX_LINES);
        size_t drop = n / 2;
        while (drop < n && blank(f->raw[i] + start[drop], len[drop]))
            drop++;
        sbuf cut = {0};
        sb_str(&cut, "مصادر: الحكومة العراقية تتعهد بالرد على منفذي الهجوم\n");
        for (size_t k = 1; k < n; k++) {
            if (k == drop)
                continue;
            sb_add(&cut, f->raw[i] + start[k], len[k]);
            sb_str(&cut, "\n");
        }
        sbuf nums = {0}, v = {0};
        bump_numbers(cut.p, cut.len, &nums);
        add_furniture(nums.p, nums.len, &v);
        nw_fingerprint b;
        fingerprint_of(f, v.p, v.len, &b);
        printf(" %.3f", expect_near(f, i, &b, "syndicated copy"));
        /* ... and still not a copy of any other seed. */
        for (size_t j = 0; j < NSEEDS; j++)
            if (j != i && nw_fingerprint_is_duplicate(&f->fp[j], &b))
                fail_msg("the copy of %s is a duplicate of %s", tu_seed_name(i), tu_seed_name(j));
        free(cut.p);
        free(nums.p);
        free(v.p);
    }
    printf("\n");
}

/*
 * (f) Different reports are not duplicates, 000/002 and 001/002 included
 * (the same statements by the same officials in other words).
 */
static void different_seeds_are_not_duplicates(void **state)
{
    fixture *f = *state;
    seed_fingerprints(f);
    printf("similarity of the seeds:\n      ");
    for (size_t j = 0; j < NSEEDS; j++)
        printf("  %.3s  ", tu_seed_name(j));
    printf("\n");
    for (size_t i = 0; i < NSEEDS; i++) {
        printf("  %.3s ", tu_seed_name(i));
        for (size_t j = 0; j < NSEEDS; j++) {
            double sim = nw_fingerprint_similarity(&f->fp[i], &f->fp[j]);
            assert_true(sim == nw_fingerprint_similarity(&f->fp[j], &f->fp[i]));
            printf(" %.3f ", sim);
            if (i == j)
                continue;
            if (nw_fingerprint_is_duplicate(&f->fp[i], &f->fp[j]))
                fail_msg("%s and %s are duplicates (similarity %.3f)", tu_seed_name(i),
                         tu_seed_name(j), sim);
            if (sim > DIFFERENT_CEILING)
                fail_msg("%s and %s: similarity %.3f is over the margin %.2f", tu_seed_name(i),
                         tu_seed_name(j), sim, DIFFERENT_CEILING);
        }
        printf("\n");
    }
}

static void fingerprint_text(fixture *f, const char *text, nw_fingerprint *out)
{
    char err[256];
    nw_doc_free(f->doc);
    f->doc = nw_doc_new();
    assert_int_equal(nw_doc_set(f->doc, NW_DOC_BODY, text, strlen(text), err, sizeof err), NW_OK);
    assert_int_equal(nw_doc_complete(f->doc, NULL, err, sizeof err), NW_OK);
    const nw_analysis *an;
    if (nw_analyzer_run(f->a, f->doc, &an, err, sizeof err) != NW_OK)
        fail_msg("%s", err);
    nw_fingerprint_compute(an->text, an->seg, out);
}

/* (g) Short texts are duplicates only when exact. */
static void short_texts(void **state)
{
    fixture *f = *state;
    nw_fingerprint a, b;
    /* Unrelated. */
    static const char *const unrelated[] = {
        "انفجار في بغداد",
        "Sunny weather in London today",
        "الكاظمي يستقبل وزير الخارجية الفرنسي",
        "مقتل 32 شخصا",
        "12345",
        "Baghdad",
    };
    size_t nu = sizeof unrelated / sizeof unrelated[0];
    for (size_t i = 0; i < nu; i++) {
        fingerprint_text(f, unrelated[i], &a);
        assert_true(a.nshingles >= 1 && a.nshingles < NW_FINGERPRINT_MIN_SHINGLES);
        for (size_t j = 0; j < nu; j++) {
            fingerprint_text(f, unrelated[j], &b);
            assert_int_equal(nw_fingerprint_is_duplicate(&a, &b), i == j);
        }
    }
    /* The same words with other punctuation and spacing: exact. */
    fingerprint_text(f, "عاجل: انفجار في بغداد!", &a);
    fingerprint_text(f, "عاجل   انفجار، في بغداد", &b);
    assert_true(nw_fingerprint_is_duplicate(&a, &b));
    /* One place changed in a shared template: a different report. */
    fingerprint_text(f, "Breaking: explosion in central Baghdad kills several people", &a);
    fingerprint_text(f, "Breaking: explosion in central Basra kills several people", &b);
    assert_false(nw_fingerprint_is_duplicate(&a, &b));
    /* A figure changed in an alert: the figure is the news. */
    fingerprint_text(f, "مقتل 32 شخصا في تفجير انتحاري مزدوج وسط بغداد", &a);
    fingerprint_text(f, "مقتل 35 شخصا في تفجير انتحاري مزدوج وسط بغداد", &b);
    assert_true(nw_fingerprint_similarity(&a, &b) == 1.0);
    assert_false(nw_fingerprint_is_duplicate(&a, &b));
    /* The same change in a text long enough to judge is a near copy. */
    static const char *const longer =
        "قتل %d مدنيا على الأقل، وأصيب أكثر من 110 أشخاص أخرين، في تفجيرين انتحاريين "
        "بحزامين ناسفين في سوق للملابس المستعملة في ساحة الطيران وسط العاصمة العراقية بغداد، "
        "بحسب ما أفاد به مصدر في وزارة الصحة العراقية.";
    char buf[1024];
    snprintf(buf, sizeof buf, longer, 32);
    fingerprint_text(f, buf, &a);
    snprintf(buf, sizeof buf, longer, 35);
    fingerprint_text(f, buf, &b);
    assert_true(a.nshingles >= NW_FINGERPRINT_MIN_SHINGLES);
    assert_true(nw_fingerprint_is_duplicate(&a, &b));
    /* Fewer words than a shingle, and no words at all. */
    fingerprint_text(f, "بغداد", &a);
    assert_int_equal(a.nshingles, 1);
    fingerprint_text(f, "...", &b);
    assert_int_equal(b.nshingles, 0);
    assert_true(nw_fingerprint_similarity(&a, &b) == 0.0);
    assert_false(nw_fingerprint_is_duplicate(&a, &b));
    /* A short text is no copy of a long report that contains it. */
    seed_fingerprints(f);
    fingerprint_text(f, "الكاظمي: تفجيرا بغداد خرق أمني لن نسمح بتكراره", &a);
    assert_false(nw_fingerprint_is_duplicate(&a, &f->fp[2]));
}

/* (h) The text form: round trip, size, and what decoding refuses. */
/*
 * Fingerprints are kept in the alert state and compared across restarts and
 * releases: the seeds' encoded fingerprints (their FNV-1a hashes here) must
 * not change, whatever way the machine computes them (AVX2 or not).
 */
static void seed_fingerprints_are_stable(void **state)
{
    fixture *f = *state;
    static const uint64_t want[NSEEDS] = {
        0xb3a798f944e5c399ULL, 0x77cf6cd53461524dULL, 0xbe2bc8e5f33a2f3bULL,
        0xeb2cadfbf7166b9eULL, 0x9dfee0ec10f7ab9eULL,
    };
    /* The processor's fastest code, then the portable code. */
    for (int portable = 0; portable < 2; portable++) {
        if (portable)
            setenv("NW_FINGERPRINT_PORTABLE", "1", 1);
        seed_fingerprints(f);
        for (size_t i = 0; i < NSEEDS; i++) {
            char text[NW_FINGERPRINT_TEXT_SIZE];
            nw_fingerprint_encode(&f->fp[i], text, sizeof text);
            if (nw_hash_fnv1a64(text, strlen(text)) != want[i])
                fail_msg("%s (%s code): the fingerprint changed: %s", tu_seed_name(i),
                         portable ? "portable" : "fastest", text);
        }
    }
    unsetenv("NW_FINGERPRINT_PORTABLE");
    seed_fingerprints(f);
}

static void encode_decode(void **state)
{
    fixture *f = *state;
    seed_fingerprints(f);
    char text[NW_FINGERPRINT_TEXT_SIZE], err[256];
    nw_fingerprint b;
    for (size_t i = 0; i < NSEEDS; i++) {
        nw_fingerprint_encode(&f->fp[i], text, sizeof text);
        assert_int_equal(strlen(text), NW_FINGERPRINT_TEXT_LEN);
        assert_int_equal(strncmp(text, NW_FINGERPRINT_PREFIX, strlen(NW_FINGERPRINT_PREFIX)), 0);
        assert_int_equal(strspn(text + strlen(NW_FINGERPRINT_PREFIX),
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                         NW_FINGERPRINT_TEXT_LEN - strlen(NW_FINGERPRINT_PREFIX));
        memset(&b, 0, sizeof b);
        assert_int_equal(nw_fingerprint_decode(text, strlen(text), &b, err, sizeof err), NW_OK);
        assert_fp_equal(&b, &f->fp[i]);
    }
    /* Extreme values survive too. */
    nw_fingerprint x;
    memset(&x, 0xff, sizeof x);
    nw_fingerprint_encode(&x, text, sizeof text);
    assert_int_equal(nw_fingerprint_decode(text, strlen(text), &b, err, sizeof err), NW_OK);
    assert_fp_equal(&b, &x);

    /* A buffer too small gets an empty string, never a truncated fingerprint. */
    char small[NW_FINGERPRINT_TEXT_SIZE - 1];
    memset(small, 'x', sizeof small);
    nw_fingerprint_encode(&f->fp[0], small, sizeof small);
    assert_string_equal(small, "");

    /* Errors leave the output alone and say what is wrong. */
    nw_fingerprint_encode(&f->fp[0], text, sizeof text);
    size_t len = strlen(text);
    nw_fingerprint before;
    memset(&before, 0x5a, sizeof before);
    b = before;
    assert_int_equal(nw_fingerprint_decode("", 0, &b, err, sizeof err), NW_EINVAL);
    assert_non_null(strstr(err, "nwfp1:"));
    assert_int_equal(nw_fingerprint_decode("nwfp2:AAAA", 10, &b, err, sizeof err), NW_EINVAL);
    assert_non_null(strstr(err, "'nwfp2'"));
    assert_int_equal(nw_fingerprint_decode(text, len - 1, &b, err, sizeof err), NW_EINVAL);
    assert_non_null(strstr(err, "characters"));
    char longer[NW_FINGERPRINT_TEXT_SIZE + 1];
    memcpy(longer, text, len);
    longer[len] = 'A';
    assert_int_equal(nw_fingerprint_decode(longer, len + 1, &b, err, sizeof err), NW_EINVAL);
    static const char bad[] = {'+', '/', '=', ' ', '\0', '\xd8'};
    for (size_t k = 0; k < sizeof bad; k++) {
        char copy[NW_FINGERPRINT_TEXT_SIZE];
        memcpy(copy, text, sizeof copy);
        copy[100] = bad[k];
        assert_int_equal(nw_fingerprint_decode(copy, len, &b, err, sizeof err), NW_EINVAL);
        assert_non_null(strstr(err, "character 100"));
    }
    /* The last character carries 2 bits of data and 4 that must be zero. */
    char copy[NW_FINGERPRINT_TEXT_SIZE];
    memcpy(copy, text, sizeof copy);
    copy[len - 1] = 'B';
    assert_int_equal(nw_fingerprint_decode(copy, len, &b, err, sizeof err), NW_EINVAL);
    assert_fp_equal(&b, &before);
    /* No error buffer is fine. */
    assert_int_equal(nw_fingerprint_decode("x", 1, &b, NULL, 0), NW_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_text_is_exact),
        cmocka_unit_test(exact_hash_is_documented_fnv),
        cmocka_unit_test(another_headline_is_near),
        cmocka_unit_test(paragraph_dropped_is_near),
        cmocka_unit_test(numbers_changed_is_near),
        cmocka_unit_test(sentence_changed_is_near),
        cmocka_unit_test(other_furniture_is_duplicate),
        cmocka_unit_test(syndicated_copy_is_near),
        cmocka_unit_test(different_seeds_are_not_duplicates),
        cmocka_unit_test(short_texts),
        cmocka_unit_test(seed_fingerprints_are_stable),
        cmocka_unit_test(encode_decode),
    };
    return cmocka_run_group_tests_name("fingerprint", tests, setup, teardown);
}
