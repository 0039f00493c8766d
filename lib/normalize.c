#include "newswatch/normalize.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include "newswatch/utf8.h"
#include "scan.h"

#define MAX_INPUT (256u << 20)

struct nw_normalizer {
    const UNormalizer2 *nfkc;
    bool use_fast;     /* nw_normalize's fast path (on unless a test turns it off) */
    size_t fast_texts; /* texts it took */
    UChar *u16, *nfkc_buf;
    int32_t cap_u16, cap_nfkc;
};

nw_text *nw_text_new(void)
{
    return calloc(1, sizeof(nw_text));
}

void nw_text_free(nw_text *t)
{
    if (t == NULL)
        return;
    free(t->display);
    free(t->match);
    free(t->display_cp);
    free(t->match_cp);
    free(t->cps);
    if (t->runs != NULL)
        free(t->runs->v);
    free(t->runs);
    free(t);
}

nw_normalizer *nw_normalizer_new(char *errbuf, size_t errlen)
{
    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2 *nfkc = unorm2_getNFKCInstance(&status);
    if (U_FAILURE(status)) {
        nw_set_error(errbuf, errlen, NW_EINVAL, "ICU cannot load its NFKC data: %s",
                     u_errorName(status));
        return NULL;
    }
    nw_normalizer *n = calloc(1, sizeof(*n));
    if (n == NULL) {
        nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        return NULL;
    }
    n->nfkc = nfkc;
    n->use_fast = true;
    return n;
}

void nw_normalizer_free(nw_normalizer *n)
{
    if (n == NULL)
        return;
    free(n->u16);
    free(n->nfkc_buf);
    free(n);
}

static bool grow_u16(UChar **buf, int32_t *cap, int32_t need)
{
    if (need <= *cap)
        return true;
    int32_t ncap = *cap > 0 ? *cap : 1024;
    while (ncap < need)
        ncap *= 2;
    UChar *nb = realloc(*buf, (size_t)ncap * sizeof(UChar));
    if (nb == NULL)
        return false;
    *buf = nb;
    *cap = ncap;
    return true;
}

static bool grow_bytes(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap > 0 ? *cap : 4096;
    while (ncap < need)
        ncap *= 2;
    char *nb = realloc(*buf, ncap);
    if (nb == NULL)
        return false;
    *buf = nb;
    *cap = ncap;
    return true;
}

/* Code points deleted from both forms. */
static bool is_deleted(UChar32 c)
{
    if (c < 0x00AD)
        return false;
    return c == 0x00AD                     /* soft hyphen */
           || (c >= 0x0610 && c <= 0x061A) /* Arabic honorific marks */
           || c == 0x061C                  /* Arabic letter mark */
           || c == 0x0640                  /* tatweel */
           || (c >= 0x064B && c <= 0x065F) /* tashkeel and other harakat */
           || c == 0x0670                  /* superscript alef */
           || (c >= 0x06D6 && c <= 0x06DC) || (c >= 0x06DF && c <= 0x06E4) ||
           (c >= 0x06E7 && c <= 0x06E8) || (c >= 0x06EA && c <= 0x06ED) /* Quranic marks */
           || (c >= 0x200B && c <= 0x200F)                              /* zero-width, LRM, RLM */
           || (c >= 0x202A && c <= 0x202E)                              /* bidi embeddings */
           || (c >= 0x2060 && c <= 0x2064)                              /* word joiner etc. */
           || (c >= 0x2066 && c <= 0x2069)                              /* bidi isolates */
           || c == 0xFEFF;                                              /* BOM, ZWNBSP */
}

enum { SPACE = -2, NEWLINE = -3, DELETE = -1 };

/* The display mapping of one code point (after NFKC). */
static UChar32 display_map(UChar32 c)
{
    if (c < 0x80) {
        if (c == '\n')
            return NEWLINE;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f')
            return SPACE;
        if (c < 0x20 || c == 0x7F)
            return DELETE; /* other C0 controls */
        if (c == '`')
            return '\'';
        return c;
    }
    if (is_deleted(c))
        return DELETE;
    if (c >= 0x0660 && c <= 0x0669)
        return '0' + (c - 0x0660);
    if (c >= 0x06F0 && c <= 0x06F9)
        return '0' + (c - 0x06F0);
    switch (c) {
    case 0x0085:
    case 0x2028:
    case 0x2029:
        return NEWLINE;
    case 0x00A0:
    case 0x1680:
    case 0x202F:
    case 0x205F:
    case 0x3000:
        return SPACE;
    case 0x00AB: /* « */
    case 0x00BB: /* » */
    case 0x201C:
    case 0x201D:
    case 0x201E:
    case 0x201F:
    case 0x2033:
    case 0x301D:
    case 0x301E:
    case 0xFF02:
        return '"';
    case 0x00B4:
    case 0x2018:
    case 0x2019:
    case 0x201A:
    case 0x201B:
    case 0x2032:
    case 0xFF07:
        return '\'';
    case 0x2010:
    case 0x2011:
    case 0x2012:
    case 0x2013:
    case 0x2014:
    case 0x2015:
    case 0x2212:
    case 0xFE58:
    case 0xFE63:
    case 0xFF0D:
        return '-';
    default:
        break;
    }
    if (c >= 0x2000 && c <= 0x200A)
        return SPACE;
    if (u_charType(c) == U_CONTROL_CHAR)
        return DELETE;
    return c;
}

int32_t nw_fold_codepoint(int32_t c)
{
    if (c < 0x80)
        return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    switch (c) {
    case 0x0622: /* آ */
    case 0x0623: /* أ */
    case 0x0625: /* إ */
    case 0x0671: /* ٱ */
        return 0x0627;
    case 0x0649: /* ى */
    case 0x0626: /* ئ */
    case 0x06CC: /* Persian yeh */
        return 0x064A;
    case 0x0629: /* ة */
        return 0x0647;
    case 0x0624: /* ؤ */
        return 0x0648;
    case 0x06A9: /* Persian keheh */
        return 0x0643;
    default:
        break;
    }
    if (c >= 0x0600 && c <= 0x06FF)
        return c;
    return u_foldCase(c, U_FOLD_CASE_DEFAULT);
}

/* Converts and NFKC-normalises in; returns the UTF-16 text and its length. */
static nw_err to_nfkc_utf16(nw_normalizer *n, const char *in, size_t len, const UChar **out,
                            int32_t *outlen, char *errbuf, size_t errlen)
{
    UErrorCode status = U_ZERO_ERROR;
    /* UTF-16 never has more code units than UTF-8 has bytes. */
    if (!grow_u16(&n->u16, &n->cap_u16, (int32_t)len + 1))
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    int32_t n16 = 0;
    u_strFromUTF8(n->u16, n->cap_u16, &n16, in, (int32_t)len, &status);
    if (U_FAILURE(status))
        return nw_set_error(errbuf, errlen, NW_EUTF8, "ICU cannot convert the text: %s",
                            u_errorName(status));
    int32_t span = unorm2_spanQuickCheckYes(n->nfkc, n->u16, n16, &status);
    if (U_FAILURE(status))
        return nw_set_error(errbuf, errlen, NW_EINVAL, "NFKC failed: %s", u_errorName(status));
    if (span == n16) {
        *out = n->u16;
        *outlen = n16;
        return NW_OK;
    }
    /* NFKC can expand (U+FDFA becomes 18 code points): retry with the size ICU asks for. */
    int32_t need = n16 + n16 / 2 + 16;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!grow_u16(&n->nfkc_buf, &n->cap_nfkc, need))
            return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        status = U_ZERO_ERROR;
        memcpy(n->nfkc_buf, n->u16, (size_t)span * sizeof(UChar));
        int32_t got = unorm2_normalizeSecondAndAppend(n->nfkc, n->nfkc_buf, span, n->cap_nfkc,
                                                      n->u16 + span, n16 - span, &status);
        if (status == U_BUFFER_OVERFLOW_ERROR) {
            need = got + 16;
            continue;
        }
        if (U_FAILURE(status))
            return nw_set_error(errbuf, errlen, NW_EINVAL, "NFKC failed: %s", u_errorName(status));
        *out = n->nfkc_buf;
        *outlen = got;
        return NW_OK;
    }
    return nw_set_error(errbuf, errlen, NW_ENOMEM, "NFKC output does not fit");
}

/*
 * The fast path. A text is in NFKC when every code point's NFKC quick check
 * is "yes" (none decomposes under NFKC or may compose with what comes before
 * it) and its combining marks are in canonical order (UAX #15). When every
 * combining mark in it (canonical class other than 0) is one the display
 * mapping deletes, their order does not matter either: NFKC could only
 * reorder what is then deleted. Arabic letters, ASCII and the usual
 * punctuation are such code points; for a text made of them, nw_normalize
 * maps each code point straight from the UTF-8 input, without the UTF-16
 * round trip and ICU's normaliser. A code point that is not (a Latin accent
 * to compose, a presentation form, "…") sends the whole text down the ICU
 * path, which is the reference: both give the same result.
 *
 * Tables for the Basic Multilingual Plane, built once: whether a code point
 * is simple, and below U+0800 its display mapping and matching form.
 */
#define FAST_TABLE 0x0800
static uint8_t simple_bmp[0x10000];

/* What a code point becomes on the fast path. */
enum { K_CHAR, K_DELETE, K_SPACE, K_NEWLINE, K_SLOW };
typedef struct fast_cp {
    uint32_t dbytes, mbytes; /* UTF-8 of the display and matching forms, first byte first */
    int32_t dc;              /* the display form's code point */
    uint8_t dlen, mlen;      /* their lengths in bytes */
    uint8_t kind;            /* K_CHAR, or what to do instead; K_SLOW: not simple */
    uint8_t cls;             /* for K_CHAR: nw_scan_class of dc, and PLAIN */
} fast_cp;
/* In fast_cp.cls: a letter or digit that only extends a run (the loop's shortcut). */
#define PLAIN 0x80
static fast_cp fast[FAST_TABLE];
static bool tables_ok;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static bool is_simple(const UNormalizer2 *nfkc, UChar32 c)
{
    /*
     * No-break space: NFKC makes it U+0020, which composes with nothing on
     * either side, and display_map gives both SPACE. Four ANT articles in ten
     * have one.
     */
    if (c == 0x00A0)
        return true;
    UChar buf[2];
    int32_t n = 0;
    U16_APPEND_UNSAFE(buf, n, c);
    UErrorCode status = U_ZERO_ERROR;
    if (unorm2_quickCheck(nfkc, buf, n, &status) != UNORM_YES || U_FAILURE(status))
        return false;
    return u_getCombiningClass(c) == 0 || display_map(c) == DELETE;
}

/* The fast path's entry for a simple code point c. */
static fast_cp fast_entry(UChar32 c)
{
    fast_cp f = {0};
    UChar32 dc = display_map(c);
    if (dc == DELETE || dc == SPACE || dc == NEWLINE) {
        f.kind = dc == DELETE ? K_DELETE : dc == SPACE ? K_SPACE : K_NEWLINE;
        return f;
    }
    uint8_t buf[4] = {0};
    int32_t n = 0;
    U8_APPEND_UNSAFE(buf, n, dc);
    memcpy(&f.dbytes, buf, 4);
    f.dlen = (uint8_t)n;
    memset(buf, 0, sizeof buf);
    n = 0;
    U8_APPEND_UNSAFE(buf, n, nw_fold_codepoint(dc));
    memcpy(&f.mbytes, buf, 4);
    f.mlen = (uint8_t)n;
    f.dc = dc;
    f.kind = K_CHAR;
    f.cls = nw_scan_class(dc);
    if ((f.cls & NW_SCAN_WORD) && !(f.cls & NW_SCAN_OTHER_START))
        f.cls |= PLAIN;
    return f;
}

/*
 * Code points of the Basic Multilingual Plane that NFKC replaces by one to
 * four simple starters whatever surrounds them (… → ..., fullwidth Ａ → A,
 * the ligature ﻻ → لا, ² → 2), sorted by code point: the fast path writes
 * their replacements instead of sending the whole text to ICU. A code point
 * qualifies when it is a starter itself (combining class 0, nothing to
 * reorder) and every code point it becomes is simple below FAST_TABLE with
 * class 0: such code points compose with nothing before them, and what
 * follows that could compose with them is not simple, which sends the text
 * to ICU anyway. And it must fit the fast path's room (see nw_normalize): no
 * more code points than its UTF-8 has bytes, and at most twice its bytes in
 * each form (ﷲ, three bytes, becomes الله, four code points in eight bytes:
 * it goes to ICU).
 */
#define MAX_EXPANSION 4
typedef struct expansion {
    uint16_t cp, n;
    uint16_t to[MAX_EXPANSION];
} expansion;
static expansion expansions[2048];
static size_t nexpansions;

static void fill_expansions(const UNormalizer2 *nfkc)
{
    for (UChar32 c = 0x80; c < 0x10000 && nexpansions < sizeof expansions / sizeof expansions[0];
         c++) {
        if (U_IS_SURROGATE(c) || simple_bmp[c] || u_getCombiningClass(c) != 0)
            continue;
        UChar in[1] = {(UChar)c}, to[MAX_EXPANSION + 1];
        UErrorCode status = U_ZERO_ERROR;
        int32_t n = unorm2_normalize(nfkc, in, 1, to, MAX_EXPANSION + 1, &status);
        if (U_FAILURE(status) || n < 1 || n > MAX_EXPANSION)
            continue;
        int32_t bytes = U8_LENGTH(c), dbytes = 0, mbytes = 0;
        bool ok = n <= bytes;
        for (int32_t k = 0; k < n && ok; k++) {
            ok =
                to[k] < FAST_TABLE && fast[to[k]].kind != K_SLOW && u_getCombiningClass(to[k]) == 0;
            if (ok) {
                dbytes += fast[to[k]].dlen;
                mbytes += fast[to[k]].mlen;
            }
        }
        if (!ok || dbytes > 2 * bytes || mbytes > 2 * bytes)
            continue;
        expansion *e = &expansions[nexpansions++];
        e->cp = (uint16_t)c;
        e->n = (uint16_t)n;
        for (int32_t k = 0; k < n; k++)
            e->to[k] = to[k];
    }
}

/* The replacement of c, or NULL when it has none (binary search). */
static const expansion *find_expansion(UChar32 c)
{
    size_t lo = 0, hi = nexpansions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (expansions[mid].cp < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < nexpansions && expansions[lo].cp == c ? &expansions[lo] : NULL;
}

static void fill_tables(void)
{
    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2 *nfkc = unorm2_getNFKCInstance(&status);
    if (U_FAILURE(status))
        return;
    for (UChar32 c = 0; c < 0x10000; c++)
        simple_bmp[c] = !U_IS_SURROGATE(c) && is_simple(nfkc, c);
    for (UChar32 c = 0; c < FAST_TABLE; c++) {
        if (simple_bmp[c]) {
            fast[c] = fast_entry(c);
        } else {
            memset(&fast[c], 0, sizeof fast[c]);
            fast[c].kind = K_SLOW;
        }
    }
    fill_expansions(nfkc);
    tables_ok = true;
}

/* Room for maxbytes bytes in each form and maxcp code points. */
static bool reserve_text(nw_text *out, size_t maxbytes, size_t maxcp)
{
    if (!grow_bytes(&out->display, &out->cap_display, maxbytes) ||
        !grow_bytes(&out->match, &out->cap_match, maxbytes))
        return false;
    if (maxcp > out->cap_cp) {
        uint32_t *d = realloc(out->display_cp, maxcp * sizeof(uint32_t));
        if (d != NULL)
            out->display_cp = d;
        uint32_t *m = realloc(out->match_cp, maxcp * sizeof(uint32_t));
        if (m != NULL)
            out->match_cp = m;
        int32_t *c = realloc(out->cps, maxcp * sizeof(int32_t));
        if (c != NULL)
            out->cps = c;
        if (d == NULL || m == NULL || c == NULL)
            return false;
        out->cap_cp = maxcp;
    }
    return true;
}

/* Room for the runs of a text of at most maxcp code points: two entries per code point at most. */
static bool reserve_runs(nw_text *out, size_t maxcp)
{
    if (out->runs == NULL && (out->runs = calloc(1, sizeof(nw_runs))) == NULL)
        return false;
    nw_runs *runs = out->runs;
    if (2 * maxcp + 2 > runs->cap) {
        uint32_t *r = realloc(runs->v, (2 * maxcp + 2) * sizeof(uint32_t));
        if (r == NULL)
            return false;
        runs->v = r;
        runs->cap = 2 * maxcp + 2;
    }
    return true;
}

/* The text is being made otherwise than by the fast path: the segmenter takes it a code point at
 * a time. */
static void drop_runs(nw_text *t)
{
    if (t->runs != NULL)
        t->runs->ok = false;
}

typedef enum { FAST_DONE, FAST_SLOW, FAST_INVALID } fast_result;

/* The entry of the three- or four-byte code point at s; false when it is not simple. */
static __attribute__((noinline)) bool long_entry(const UNormalizer2 *nfkc, const uint8_t *s,
                                                 fast_cp *out)
{
    UChar32 c;
    int32_t k = 0;
    U8_NEXT_UNSAFE(s, k, c);
    if (c < 0x10000 ? !simple_bmp[c] : !is_simple(nfkc, c))
        return false;
    *out = fast_entry(c);
    return true;
}

/*
 * Where the fast path is: the next byte, the bytes written to each form, the
 * code points written, and the white space before the next character (in
 * one variable: 0 none, 1 a space, n + 1 for n line breaks; nothing is
 * pending before the first character, so leading white space and spaces at
 * the start of a line are dropped).
 */
typedef struct fast_state {
    const uint8_t *s, *end;
    uint32_t di, mi, ncp;
    unsigned pend;
    /* The runs' entries noted so far (nw_text's runs, lib/scan.h); in_run: one is open. */
    uint32_t nruns;
    unsigned in_run;
} fast_state;

/*
 * After f was emitted (ncp code points written, white space still pending),
 * notes where runs of letters and digits start and end, without a branch:
 * the position of every code point is written at runs[*nruns], and the count
 * moves past it only where a run starts or ends (a letter or digit after
 * something else, or the reverse; a deleted code point changes nothing).
 * Entries alternate, a start and an end; *in_run says a run is open. A code
 * point of the general rules (NW_SCAN_OTHER_START, rare) adds an entry pair
 * of its own.
 */
static inline __attribute__((always_inline)) void
note_run(uint32_t *restrict runs, uint32_t *nruns, unsigned *in_run, const fast_cp *f, uint32_t ncp)
{
    unsigned kind = f->kind, cls = f->cls;
    unsigned word = kind == K_DELETE ? *in_run : (cls & NW_SCAN_WORD);
    runs[*nruns] = ncp - (kind == K_CHAR); /* the character's own place; white space's, pending */
    *nruns += word ^ *in_run;
    *in_run = word;
    if (cls & NW_SCAN_OTHER_START) {
        runs[(*nruns)++] = ncp - 1;
        runs[(*nruns)++] = ncp | NW_RUN_OTHER;
    }
}

/*
 * White space is kept pending until the next character (see fast_state):
 * notes a space (newline false) or a line break, ncp code points written.
 */
static inline __attribute__((always_inline)) void note_white(bool newline, unsigned *pend,
                                                             uint32_t ncp)
{
    if (ncp == 0)
        return; /* leading white space is dropped */
    if (newline)
        *pend = *pend >= 2 ? *pend + 1 : 2;
    else if (*pend == 0)
        *pend = 1;
}

/* Writes the pending white space before a character: one space, or at most one blank line. */
static inline __attribute__((always_inline)) void
flush_white(unsigned *pend, uint8_t *restrict d, uint8_t *restrict m, uint32_t *restrict dcp,
            uint32_t *restrict mcp, int32_t *restrict cps, uint32_t *di, uint32_t *mi,
            uint32_t *ncp)
{
    if (*pend == 0)
        return;
    unsigned k = *pend == 1 ? 1 : *pend - 1 > 2 ? 2 : *pend - 1;
    uint8_t sep = *pend == 1 ? ' ' : '\n';
    for (unsigned j = 0; j < k; j++) {
        dcp[*ncp] = *di;
        mcp[*ncp] = *mi;
        cps[(*ncp)++] = sep;
        d[(*di)++] = sep;
        m[(*mi)++] = sep;
    }
    *pend = 0;
}

/* Appends the character f describes (K_CHAR), nothing pending before it. */
static inline __attribute__((always_inline)) void
emit_char(const fast_cp *f, uint8_t *restrict d, uint8_t *restrict m, uint32_t *restrict dcp,
          uint32_t *restrict mcp, int32_t *restrict cps, uint32_t *di, uint32_t *mi, uint32_t *ncp)
{
    dcp[*ncp] = *di;
    mcp[*ncp] = *mi;
    cps[(*ncp)++] = f->dc;
    memcpy(d + *di, &f->dbytes, 4);
    memcpy(m + *mi, &f->mbytes, 4);
    *di += f->dlen;
    *mi += f->mlen;
}

/* Appends the code point f describes; false when it is not simple (K_SLOW). */
static inline __attribute__((always_inline)) bool
fast_emit(const fast_cp *f, uint8_t *restrict d, uint8_t *restrict m, uint32_t *restrict dcp,
          uint32_t *restrict mcp, int32_t *restrict cps, uint32_t *di, uint32_t *mi, uint32_t *ncp,
          unsigned *pend)
{
    unsigned kind = f->kind;
    if (kind != K_CHAR) {
        if (kind == K_SPACE || kind == K_NEWLINE)
            note_white(kind == K_NEWLINE, pend, *ncp);
        return kind != K_SLOW; /* K_DELETE: nothing */
    }
    flush_white(pend, d, m, dcp, mcp, cps, di, mi, ncp);
    emit_char(f, d, m, dcp, mcp, cps, di, mi, ncp);
    return true;
}

/* Ends the text where st stands. */
static void fast_finish(const fast_state *st, nw_text *out)
{
    out->display_cp[st->ncp] = st->di;
    out->match_cp[st->ncp] = st->mi;
    out->cps[st->ncp] = 0;
    out->display[st->di] = '\0';
    out->match[st->mi] = '\0';
    out->display_len = st->di;
    out->match_len = st->mi;
    out->ncp = st->ncp;
}

enum { RUN_END, RUN_LONG, RUN_SLOW };

/*
 * The fast path's inner loop, over one- and two-byte sequences (nearly every
 * code point of a news text). It calls nothing and is kept out of line, so
 * that everything it uses stays in registers (inlined, it shared them with
 * code that calls ICU: 3 % slower); it stops at the end, at a longer (or
 * invalid) sequence, or at a code point that is not simple.
 */
static __attribute__((noinline)) int fast_run(fast_state *st, nw_text *out)
{
    const uint8_t *s = st->s, *end = st->end;
    uint8_t *restrict d = (uint8_t *)out->display, *restrict m = (uint8_t *)out->match;
    uint32_t *restrict dcp = out->display_cp, *restrict mcp = out->match_cp;
    int32_t *restrict cps = out->cps;
    uint32_t *restrict runs = out->runs->v;
    uint32_t di = st->di, mi = st->mi, ncp = st->ncp, nruns = st->nruns;
    unsigned pend = st->pend, in_run = st->in_run;
    int result = RUN_END;
    /* Two bytes can be read anywhere before the last byte: that one is taken after the loop. */
    const uint8_t *last = end - (s < end);
    while (s < last) {
        unsigned b = s[0], b1 = s[1];
        const fast_cp *f;
        if (b < 0x80) {
            f = &fast[b];
            s++;
        } else if (b - 0xC2u <= 0xDFu - 0xC2u && b1 - 0x80u < 0x40u) {
            /* ((b & 0x1F) << 6) | (b1 & 0x3F), for a lead byte and a continuation byte */
            f = &fast[b * 64 + b1 - (0xC0u * 64 + 0x80u)];
            s += 2;
        } else {
            result = RUN_LONG;
            break;
        }
        if ((f->cls & PLAIN) && in_run && pend == 0) {
            /* Inside a word: the character alone, nothing pending, the run already open. */
            emit_char(f, d, m, dcp, mcp, cps, &di, &mi, &ncp);
            continue;
        }
        if (!fast_emit(f, d, m, dcp, mcp, cps, &di, &mi, &ncp, &pend)) {
            /* Not simple, so two bytes (ASCII is): the caller looks at that code point. */
            s -= 2;
            result = RUN_SLOW;
            break;
        }
        note_run(runs, &nruns, &in_run, f, ncp);
    }
    if (result == RUN_END && s < end) {
        /* The last byte: ASCII, or else not valid (the caller says so). */
        if (*s < 0x80) {
            fast_emit(&fast[*s], d, m, dcp, mcp, cps, &di, &mi, &ncp, &pend);
            note_run(runs, &nruns, &in_run, &fast[*s], ncp);
            s++;
        } else {
            result = RUN_LONG;
        }
    }
    st->s = s;
    st->di = di;
    st->mi = mi;
    st->ncp = ncp;
    st->pend = pend;
    st->nruns = nruns;
    st->in_run = in_run;
    return result;
}

/*
 * The fast path: decodes and validates in[0..len) as it goes and writes both
 * forms with one table read per code point. FAST_SLOW (out half written)
 * when a code point is not simple, FAST_INVALID when the UTF-8 is not valid
 * (nw_utf8_valid then says where). out has room for 2 * len + 4 bytes in each
 * form (each code point's bytes are written 4 at a time) and len + 1 code
 * points.
 */
static fast_result normalize_simple(const UNormalizer2 *nfkc, const char *in, size_t len,
                                    nw_text *out)
{
    fast_state st = {(const uint8_t *)in, (const uint8_t *)in + len, 0, 0, 0, 0, 0, 0};
    for (;;) {
        int r = fast_run(&st, out);
        if (r == RUN_END)
            break;
        /* A code point that is not simple, a sequence of three or four bytes, or an invalid one. */
        size_t n = nw_utf8_sequence((const char *)st.s, (size_t)(st.end - st.s));
        if (n == 0)
            return FAST_INVALID;
        UChar32 c;
        int32_t k = 0;
        U8_NEXT_UNSAFE(st.s, k, c);
        const expansion *e = c < 0x10000 && !simple_bmp[c] ? find_expansion(c) : NULL;
        if (e != NULL) {
            st.s += n;
            for (uint16_t j = 0; j < e->n; j++) {
                fast_emit(&fast[e->to[j]], (uint8_t *)out->display, (uint8_t *)out->match,
                          out->display_cp, out->match_cp, out->cps, &st.di, &st.mi, &st.ncp,
                          &st.pend);
                note_run(out->runs->v, &st.nruns, &st.in_run, &fast[e->to[j]], st.ncp);
            }
            continue;
        }
        fast_cp other;
        if (r == RUN_SLOW || !long_entry(nfkc, st.s, &other))
            return FAST_SLOW;
        st.s += n;
        if (!fast_emit(&other, (uint8_t *)out->display, (uint8_t *)out->match, out->display_cp,
                       out->match_cp, out->cps, &st.di, &st.mi, &st.ncp, &st.pend))
            return FAST_SLOW;
        note_run(out->runs->v, &st.nruns, &st.in_run, &other, st.ncp);
    }
    fast_finish(&st, out);
    if (st.in_run) /* the last run ends with the text */
        out->runs->v[st.nruns++] = st.ncp;
    out->runs->n = st.nruns;
    out->runs->ok = true;
    return FAST_DONE;
}

nw_err nw_normalize(nw_normalizer *n, const char *in, size_t len, nw_text *out, char *errbuf,
                    size_t errlen)
{
    size_t bad;
    if (len > MAX_INPUT)
        return nw_set_error(errbuf, errlen, NW_ETOOBIG, "the text is %zu bytes; the limit is %u",
                            len, MAX_INPUT);
    pthread_once(&tables_once, fill_tables);
    /*
     * Fast path: a simple code point's display form is never longer than its
     * UTF-8 (the mapping gives ASCII or the code point itself); its matching
     * form may be (simple case folding takes U+023A, 2 bytes, to U+2C65, 3).
     */
    drop_runs(out);
    if (tables_ok && n->use_fast && reserve_text(out, len * 2 + 4, len + 1) &&
        reserve_runs(out, len + 1) && normalize_simple(n->nfkc, in, len, out) == FAST_DONE) {
        n->fast_texts++;
        return NW_OK;
    }
    if (!nw_utf8_valid(in, len, &bad))
        return nw_set_error(errbuf, errlen, NW_EUTF8, "invalid UTF-8 at byte offset %zu", bad);

    const UChar *s = NULL;
    int32_t slen = 0;
    nw_err err = to_nfkc_utf16(n, in, len, &s, &slen, errbuf, errlen);
    if (err != NW_OK)
        return err;
    /*
     * Each UTF-16 unit yields at most 3 UTF-8 bytes, and at most one code
     * point; fast_emit writes 4 bytes at a time.
     */
    if (!reserve_text(out, (size_t)slen * 3 + 4, (size_t)slen + 1))
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    /* The same mapping and white space rules as the fast path, from the tables where they apply. */
    fast_state st = {NULL, NULL, 0, 0, 0, 0, 0, 0};
    int32_t i = 0;
    while (i < slen) {
        UChar32 c;
        U16_NEXT_UNSAFE(s, i, c);
        fast_cp other;
        const fast_cp *f = &fast[c < FAST_TABLE ? c : 0];
        if (!tables_ok || c >= FAST_TABLE || f->kind == K_SLOW) {
            other = fast_entry(c); /* never K_SLOW: NFKC is done */
            f = &other;
        }
        fast_emit(f, (uint8_t *)out->display, (uint8_t *)out->match, out->display_cp, out->match_cp,
                  out->cps, &st.di, &st.mi, &st.ncp, &st.pend);
    }
    fast_finish(&st, out);
    return NW_OK;
}

void nw_normalizer_set_fast_path(nw_normalizer *n, bool on)
{
    n->use_fast = on;
}

size_t nw_normalizer_fast_texts(const nw_normalizer *n)
{
    return n->fast_texts;
}

/* to[k] = from[k] - shift for k < n: four at a time (GCC's and Clang's vector types). */
typedef uint32_t u32x4 __attribute__((vector_size(16)));
static void shift_offsets(uint32_t *restrict to, const uint32_t *restrict from, uint32_t shift,
                          size_t n)
{
    u32x4 by = {shift, shift, shift, shift}, v;
    size_t k = 0;
    for (; k + 4 <= n; k += 4) {
        memcpy(&v, from + k, sizeof v);
        v -= by;
        memcpy(to + k, &v, sizeof v);
    }
    for (; k < n; k++)
        to[k] = from[k] - shift;
}

nw_err nw_text_remove(const nw_text *in, const nw_span *remove, size_t nremove, nw_text *out,
                      char *errbuf, size_t errlen)
{
    drop_runs(out); /* the segmenter takes this text a code point at a time */
    if (!grow_bytes(&out->display, &out->cap_display, in->display_len + 1) ||
        !grow_bytes(&out->match, &out->cap_match, in->match_len + 1))
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    if (in->ncp + 1 > out->cap_cp) {
        uint32_t *d = realloc(out->display_cp, (in->ncp + 1) * sizeof(uint32_t));
        if (d != NULL)
            out->display_cp = d;
        uint32_t *m = realloc(out->match_cp, (in->ncp + 1) * sizeof(uint32_t));
        if (m != NULL)
            out->match_cp = m;
        int32_t *c = realloc(out->cps, (in->ncp + 1) * sizeof(int32_t));
        if (c != NULL)
            out->cps = c;
        if (d == NULL || m == NULL || c == NULL)
            return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        out->cap_cp = in->ncp + 1;
    }
    /* The normaliser's white space rules (fast_state), across the removed spans. */
    uint32_t di = 0, mi = 0, ncp = 0;
    unsigned pend = 0;
    uint8_t *d = (uint8_t *)out->display, *m = (uint8_t *)out->match;
    size_t r = 0, i = 0;
    while (i < in->ncp) {
        while (r < nremove && remove[r].end <= i)
            r++;
        if (r < nremove && remove[r].start <= i) {
            i = remove[r].end; /* the whole removed span */
            continue;
        }
        int32_t c = in->cps[i];
        if (c == '\n' || c == ' ') {
            note_white(c == '\n', &pend, ncp);
            i++;
            continue;
        }
        flush_white(&pend, d, m, out->display_cp, out->match_cp, out->cps, &di, &mi, &ncp);
        /*
         * A run of kept characters up to a line break, the removed span or
         * white space that is not one space between two kept characters
         * (the text is normalised: inside a line those are copied as they
         * are): its bytes in one copy, its offsets shifted by a constant.
         */
        size_t end = r < nremove && remove[r].start < in->ncp ? remove[r].start : in->ncp;
        /*
         * In a normalised text a space is always followed by a character:
         * the run ends at the next line break, or else before a space that
         * the removed span follows.
         */
        size_t j = nw_cps_find(in->cps, i + 1, end, '\n');
        if (j == end && in->cps[end - 1] == ' ')
            j = end - 1;
        shift_offsets(out->display_cp + ncp, in->display_cp + i, in->display_cp[i] - di, j - i);
        shift_offsets(out->match_cp + ncp, in->match_cp + i, in->match_cp[i] - mi, j - i);
        memcpy(out->cps + ncp, in->cps + i, (j - i) * sizeof(int32_t));
        ncp += (uint32_t)(j - i);
        uint32_t dl = in->display_cp[j] - in->display_cp[i], ml = in->match_cp[j] - in->match_cp[i];
        memcpy(d + di, in->display + in->display_cp[i], dl);
        memcpy(m + mi, in->match + in->match_cp[i], ml);
        di += dl;
        mi += ml;
        i = j;
    }
    fast_state st = {NULL, NULL, di, mi, ncp, pend, 0, 0};
    fast_finish(&st, out);
    return NW_OK;
}
