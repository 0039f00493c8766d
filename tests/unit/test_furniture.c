#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>
#include <unicode/utf8.h>

#include "newswatch/furniture.h"
#include "newswatch/segment.h"
#include "newswatch/normalize.h"
#include "testutil.h"

static const char rules[] = "# rules for the tests\n"
                            "line: شارك القصة\n"
                            "line: Close\n"
                            "prefix: اقرأ أيضا\n"
                            "heading: اقرأ أيضا\n"
                            "short: الرئيسية\n"
                            "block: سياسة التعليقات\n"
                            "strip: pic.twitter.com/\n"
                            "credit: رويترز\n"
                            "credit: AP\n";

typedef struct fixture {
    nw_normalizer *n;
    nw_furniture *f;
    nw_text *in, *out;
    nw_segments *s;
    nw_furniture_result *r;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[512];
    f->n = nw_normalizer_new(err, sizeof err);
    if (nw_furniture_new(f->n, "rules", rules, strlen(rules), &f->f, err, sizeof err) != NW_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    f->in = nw_text_new();
    f->out = nw_text_new();
    f->s = nw_segments_new();
    f->r = nw_furniture_result_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    nw_furniture_free(f->f);
    nw_normalizer_free(f->n);
    nw_text_free(f->in);
    nw_text_free(f->out);
    nw_segments_free(f->s);
    nw_furniture_result_free(f->r);
    free(f);
    return 0;
}

/* The text without its furniture. */
static const char *clean(fixture *f, const char *text)
{
    char err[256];
    assert_int_equal(nw_normalize(f->n, text, strlen(text), f->in, err, sizeof err), NW_OK);
    assert_int_equal(nw_segment(f->in, f->s, err, sizeof err), NW_OK);
    assert_int_equal(nw_furniture_find(f->f, f->in, f->s, f->r, err, sizeof err), NW_OK);
    assert_int_equal(nw_text_remove(f->in, f->r->remove, f->r->nremove, f->out, err, sizeof err),
                     NW_OK);
    return f->out->display;
}

#define CLEAN(text, want)                                                                          \
    do {                                                                                           \
        const char *got_ = clean(f, text);                                                         \
        if (strcmp(got_, want) != 0)                                                               \
            fail_msg("got  '%s'\nwant '%s'", got_, want);                                          \
    } while (0)

/* Removes code points [a, b) and [c, d) (d == 0: one span) of text; the result's display form. */
static const char *removed(fixture *f, const char *text, uint32_t a, uint32_t b, uint32_t c,
                           uint32_t d)
{
    char err[256];
    nw_span spans[2] = {{a, b}, {c, d}};
    assert_int_equal(nw_normalize(f->n, text, strlen(text), f->in, err, sizeof err), NW_OK);
    assert_int_equal(nw_text_remove(f->in, spans, d > 0 ? 2 : 1, f->out, err, sizeof err), NW_OK);
    /* The offsets and code points describe the result, in both forms. */
    const nw_text *o = f->out;
    assert_int_equal(o->display_cp[o->ncp], o->display_len);
    assert_int_equal(o->match_cp[o->ncp], o->match_len);
    for (size_t i = 0; i < o->ncp; i++) {
        int32_t off = (int32_t)o->display_cp[i], cp;
        U8_NEXT_UNSAFE((const uint8_t *)o->display, off, cp);
        assert_int_equal(cp, o->cps[i]);
        assert_int_equal(off, o->display_cp[i + 1]);
    }
    return o->display;
}

/*
 * White space where spans were removed: one space between the words left on
 * a line, none at its ends, at most one blank line; untouched elsewhere.
 */
static void removal_keeps_the_white_space_rules(void **state)
{
    fixture *f = *state;
    /* "one two http://x.com three\nfour": the link is code points 8..20. */
    assert_string_equal(removed(f, "one two http://x.com three\nfour", 8, 20, 0, 0),
                        "one two three\nfour");
    assert_string_equal(removed(f, "one two http://x.com\nfour", 8, 20, 0, 0), "one two\nfour");
    assert_string_equal(removed(f, "http://x.com two\nfour", 0, 12, 0, 0), "two\nfour");
    /* Whole lines: "a\n\nb\n\nc" without "b\n" keeps one blank line. */
    assert_string_equal(removed(f, "خبر\n\nسطر\n\nنص", 5, 9, 0, 0), "خبر\n\nنص");
    assert_string_equal(removed(f, "خبر\nسطر\nنص آخر هنا", 4, 8, 0, 0), "خبر\nنص آخر هنا");
    assert_string_equal(removed(f, "أول\nثاني\nثالث", 0, 4, 9, 13), "ثاني");
}

/* Every token, sentence and URL of a and b are the same. */
static void assert_same_segments(const nw_segments *a, const nw_segments *b, const char *what)
{
    if (a->ntokens != b->ntokens || a->nsentences != b->nsentences || a->nurls != b->nurls)
        fail_msg("%s: %zu/%zu/%zu tokens/sentences/URLs against %zu/%zu/%zu", what, a->ntokens,
                 a->nsentences, a->nurls, b->ntokens, b->nsentences, b->nurls);
    for (size_t i = 0; i < a->ntokens; i++) {
        const nw_token *x = &a->tokens[i], *y = &b->tokens[i];
        if (x->start != y->start || x->end != y->end || x->sentence != y->sentence ||
            x->paragraph != y->paragraph || x->kind != y->kind || x->script != y->script ||
            x->flags != y->flags)
            fail_msg("%s: token %zu differs", what, i);
    }
    for (size_t i = 0; i < a->nsentences; i++) {
        const nw_sentence *x = &a->sentences[i], *y = &b->sentences[i];
        if (x->start != y->start || x->end != y->end || x->first_token != y->first_token ||
            x->ntokens != y->ntokens || x->paragraph != y->paragraph)
            fail_msg("%s: sentence %zu differs", what, i);
    }
    for (size_t i = 0; i < a->nurls; i++)
        if (a->urls[i].start != b->urls[i].start || a->urls[i].end != b->urls[i].end)
            fail_msg("%s: URL %zu differs", what, i);
}

/*
 * The text without its furniture is segmented from the page's tokens when
 * whole lines went, and anew when a link went from inside a line: the same
 * segmentation as nw_segment's either way, on every seed (with the shipped
 * furniture rules) and on pages made for it.
 */
static void segmentation_after_removal_is_the_same(void **state)
{
    fixture *f = *state;
    char err[512];
    nw_furniture *shipped;
    assert_int_equal(
        nw_furniture_new_from_file(f->n, "config/furniture.conf", &shipped, err, sizeof err),
        NW_OK);
    static const char *const pages[] = {
        "خبر عاجل\nشارك القصة\n\nالنص الأول. جملة ثانية #وسم\n\nاقرأ أيضا: شيء\n\nخاتمة U.S. end",
        "RIP #Baghdad pic.twitter.com/pHJaoVWfbf\nnext line www.ina.iq/x here",
        "الرئيسية دولي\nخبر\n\n\nسياسة التعليقات\nلا تنشر\n\nآخر سطر",
    };
    nw_segments *direct = nw_segments_new(), *moved = nw_segments_new();
    size_t whole = 0;
    const size_t npages = sizeof pages / sizeof pages[0];
    for (size_t i = 0; i < TU_NSEEDS + npages; i++) {
        char *text;
        size_t len;
        const bool seed = i < TU_NSEEDS;
        const nw_furniture *which = seed ? shipped : f->f;
        if (seed) {
            text = tu_read_seed(i, &len);
        } else {
            text = strdup(pages[i - TU_NSEEDS]);
            len = strlen(text);
        }
        assert_int_equal(nw_normalize(f->n, text, len, f->in, err, sizeof err), NW_OK);
        assert_int_equal(nw_segment(f->in, f->s, err, sizeof err), NW_OK);
        assert_int_equal(nw_furniture_find(which, f->in, f->s, f->r, err, sizeof err), NW_OK);
        assert_true(f->r->nremove > 0);
        assert_int_equal(
            nw_text_remove(f->in, f->r->remove, f->r->nremove, f->out, err, sizeof err), NW_OK);
        assert_int_equal(nw_segment(f->out, direct, err, sizeof err), NW_OK);
        assert_int_equal(nw_segment_after_removal(f->in, f->s, f->r->remove, f->r->nremove, f->out,
                                                  moved, err, sizeof err),
                         NW_OK);
        assert_same_segments(direct, moved, seed ? tu_seed_name(i) : pages[i - TU_NSEEDS]);
        /* Whole lines only (the tokens were moved, not found again)? */
        bool lines = true;
        for (size_t k = 0; k < f->r->nremove; k++) {
            uint32_t a = f->r->remove[k].start, b = f->r->remove[k].end;
            lines = lines && (a == 0 || f->in->cps[a - 1] == '\n') &&
                    (b == f->in->ncp || f->in->cps[b - 1] == '\n');
        }
        whole += lines;
        free(text);
    }
    /* Both ways were taken: the seeds lose whole lines; a stripped link is inside one. */
    assert_true(whole >= TU_NSEEDS);
    assert_true(whole < TU_NSEEDS + npages);
    nw_segments_free(direct);
    nw_segments_free(moved);
    nw_furniture_free(shipped);
}

static void line_rules(void **state)
{
    fixture *f = *state;
    CLEAN("خبر\nشارك القصة\nنص", "خبر\nنص");
    CLEAN("خبر\nشَارِك القِصّة\nنص", "خبر\nنص"); /* diacritics do not matter */
    CLEAN("خبر\nشارك القصة الآن مع أصدقائك\nنص", "خبر\nشارك القصة الآن مع أصدقائك\nنص");
    CLEAN("story\nCLOSE\n", "story");
    CLEAN("خبر\nاقرأ أيضا: تنديد دولي واسع\nنص", "خبر\nنص");
    CLEAN("خبر\nاقرا ايضا: تنديد\nنص", "خبر\nنص"); /* letter variants do not matter */
    CLEAN("الرئيسية دولي\nخبر", "خبر");
    CLEAN("الرئيسية في بغداد تعقد اجتماعها الأول اليوم\nخبر",
          "الرئيسية في بغداد تعقد اجتماعها الأول اليوم\nخبر");
}

static void blocks_and_links(void **state)
{
    fixture *f = *state;
    CLEAN("خبر\n\nسياسة التعليقات\nلا تنشر\nاحترم الآخرين\n\nخاتمة", "خبر\n\nخاتمة");
    CLEAN("RIP #Baghdad pic.twitter.com/pHJaoVWfbf\nnext", "RIP #Baghdad\nnext");
    /* A related-links heading alone on its line takes its headlines with it, up to a blank
     * line or the end; the same words with a headline after them are that line only. */
    CLEAN("خبر\nاقرأ أيضاً:\nتفجير في بغداد\nمقتل 32\n\nخاتمة", "خبر\n\nخاتمة");
    CLEAN("خبر\nاقرأ أيضا\nتفجير في بغداد\nمقتل 32", "خبر");
    CLEAN("خبر\nاقرأ أيضا: تفجير في بغداد\nوتابع الناطق حديثه", "خبر\nوتابع الناطق حديثه");
}

static void captions_and_repeats(void **state)
{
    fixture *f = *state;
    /* A caption shown twice goes entirely. */
    CLEAN("الفصائل المسلحة تشكلت بدعم إيراني (رويترز)\nالفصائل المسلحة تشكلت بدعم إيراني "
          "(رويترز)\n\nقالت صحيفة",
          "قالت صحيفة");
    /* A caption shown once, with "Source:". */
    CLEAN("Baghdad attacks killed 32 Source: AP\nنص", "نص");
    /* A headline shown twice stays once. */
    CLEAN("عنوان الخبر\n\nعنوان الخبر\n\nنص", "عنوان الخبر\n\nنص");
    /* Parentheses that are not a credit stay. */
    CLEAN("تعرض استقرار العراق للخطر (...)\nنص", "تعرض استقرار العراق للخطر (...)\nنص");
}

static void tweets_and_page_dates(void **state)
{
    fixture *f = *state;
    const char *text = "UPDATE: toll 32 #تفجير_بغداد pic.twitter.com/pHJaoVWfbf\n"
                       "— L!nDa M YoUs!F (@lindayousif997) January 22, 2021\n"
                       "النص";
    CLEAN(text, "UPDATE: toll 32 #تفجير_بغداد\nالنص");
    assert_int_equal(f->r->ntweets, 1);
    const nw_tweet *tw = &f->r->tweets[0];
    const nw_text *t = f->in;
    char buf[256];
    snprintf(buf, sizeof buf, "%.*s",
             (int)(t->display_cp[tw->handle.end] - t->display_cp[tw->handle.start]),
             t->display + t->display_cp[tw->handle.start]);
    assert_string_equal(buf, "@lindayousif997");
    snprintf(buf, sizeof buf, "%.*s",
             (int)(t->display_cp[tw->author.end] - t->display_cp[tw->author.start]),
             t->display + t->display_cp[tw->author.start]);
    assert_string_equal(buf, "L!nDa M YoUs!F");
    snprintf(buf, sizeof buf, "%.*s",
             (int)(t->display_cp[tw->date.end] - t->display_cp[tw->date.start]),
             t->display + t->display_cp[tw->date.start]);
    assert_string_equal(buf, "January 22, 2021");

    CLEAN("الخميس 21 نوفمبر / November 2024\n\nعنوان", "عنوان");
    assert_true(f->r->page_date.end > f->r->page_date.start);
    /* Only on the first line. */
    CLEAN("عنوان\nالخميس 21 نوفمبر 2024", "عنوان\nالخميس 21 نوفمبر 2024");
    assert_int_equal(f->r->page_date.end, 0);
}

static void rule_errors(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"line: x\nbogus: y\n", "r.conf:2: expected 'kind: text'"},
        {"just text\n", "r.conf:1: expected 'kind: text'"},
        {"\nprefix:   \n", "r.conf:2: the rule has no text"},
        {"line: ...\n", "r.conf:1: '...' has no words"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nw_furniture *r = (nw_furniture *)1;
        char err[512] = "";
        nw_err e = nw_furniture_new(f->n, "r.conf", cases[i].text, strlen(cases[i].text), &r, err,
                                    sizeof err);
        if (e != NW_ECONFIG || strstr(err, cases[i].msg) != err)
            fail_msg("case %zu: got '%s', expected '%s'", i, err, cases[i].msg);
        assert_null(r);
    }
    nw_furniture *r;
    char err[512];
    assert_int_equal(nw_furniture_new_from_file(f->n, "config/furniture.conf", &r, err, sizeof err),
                     NW_OK);
    assert_true(nw_furniture_count(r) > 30);
    nw_furniture_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(removal_keeps_the_white_space_rules),
        cmocka_unit_test(segmentation_after_removal_is_the_same),
        cmocka_unit_test(line_rules),
        cmocka_unit_test(blocks_and_links),
        cmocka_unit_test(captions_and_repeats),
        cmocka_unit_test(tweets_and_page_dates),
        cmocka_unit_test(rule_errors),
    };
    return cmocka_run_group_tests_name("furniture", tests, setup, teardown);
}
