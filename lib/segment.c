#include "newswatch/segment.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "grow.h"
#include "scan.h"

nw_segments *nw_segments_new(void)
{
    return calloc(1, sizeof(nw_segments));
}

void nw_segments_free(nw_segments *s)
{
    if (s == NULL)
        return;
    free(s->tokens);
    free(s->sentences);
    free(s->urls);
    free(s);
}

/*
 * ICU's Word_Break and Sentence_Break properties of U+0000..U+07FF (Latin,
 * Arabic and their neighbours: nearly every code point of a news text),
 * looked up once: a table read instead of a trie walk per code point.
 */
#define TABLE_END 0x800
static uint8_t wb_table[TABLE_END], sb_table[TABLE_END];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* Word_Break classes as bit flags, for the word loop's tests (WB values are small). */
enum { F_AHLETTER = 1, F_NUMERIC = 2, F_KATAKANA = 4, F_EXTNUMLET = 8, F_IGNORED = 16 };
#define WB_CLASSES 64
_Static_assert(U_WB_COUNT <= WB_CLASSES, "Word_Break values must index wb_flags");
static uint8_t wb_flags[WB_CLASSES];

/*
 * What the scans look for, per code point below TABLE_END: S_SENT, a line
 * separator or sentence terminator; S_URL, the first letter of a URL prefix
 * (h, w, p in either case); S_START, a code point a word may start with;
 * S_LETTER and S_DIGIT, the letters and digits that join each other (WB5,
 * WB8-10); S_ENDS, a code point that ends any word before it. Code points
 * from TABLE_END on take the general tests.
 */
enum { S_SENT = 1, S_URL = 2, S_START = 4, S_LETTER = 8, S_DIGIT = 16, S_ENDS = 32 };
static uint8_t scan_flags[TABLE_END];
static uint8_t script_table[TABLE_END]; /* script_of, below TABLE_END */

static uint8_t script_of(int32_t c)
{
    if ((c >= 0x0600 && c <= 0x06FF) || (c >= 0x0750 && c <= 0x077F) ||
        (c >= 0x08A0 && c <= 0x08FF) || (c >= 0xFB50 && c <= 0xFDFF) ||
        (c >= 0xFE70 && c <= 0xFEFF))
        return NW_SCRIPT_ARABIC;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= 0x00C0 && c <= 0x024F) ||
        (c >= 0x1E00 && c <= 0x1EFF))
        return NW_SCRIPT_LATIN;
    return NW_SCRIPT_OTHER;
}

static void fill_tables(void)
{
    for (int32_t c = 0; c < TABLE_END; c++) {
        wb_table[c] = (uint8_t)u_getIntPropertyValue(c, UCHAR_WORD_BREAK);
        sb_table[c] = (uint8_t)u_getIntPropertyValue(c, UCHAR_SENTENCE_BREAK);
    }
    wb_table['@'] = U_WB_ALETTER; /* ICU's word rules count '@' as a letter (e-mail, mentions) */
    wb_flags[U_WB_ALETTER] = wb_flags[U_WB_HEBREW_LETTER] = F_AHLETTER;
    wb_flags[U_WB_NUMERIC] = F_NUMERIC;
    wb_flags[U_WB_KATAKANA] = F_KATAKANA;
    wb_flags[U_WB_EXTENDNUMLET] = F_EXTNUMLET;
    wb_flags[U_WB_EXTEND] = wb_flags[U_WB_FORMAT] = wb_flags[U_WB_ZWJ] = F_IGNORED;
    for (int32_t c = 0; c < TABLE_END; c++) {
        int w = wb_table[c], sbc = sb_table[c];
        uint8_t f = 0;
        if (sbc == U_SB_LF || sbc == U_SB_CR || sbc == U_SB_SEP || sbc == U_SB_STERM ||
            sbc == U_SB_ATERM)
            f |= S_SENT;
        if (c == 'h' || c == 'w' || c == 'p' || c == 'H' || c == 'W' || c == 'P')
            f |= S_URL;
        if (w == U_WB_ALETTER || w == U_WB_HEBREW_LETTER || w == U_WB_NUMERIC ||
            w == U_WB_KATAKANA || w == U_WB_EXTENDNUMLET)
            f |= S_START;
        if (w == U_WB_ALETTER || w == U_WB_HEBREW_LETTER)
            f |= S_LETTER;
        if (w == U_WB_NUMERIC)
            f |= S_DIGIT;
        /* Ends any word it follows: joins nothing (WB5-13b) and is not ignored (WB4). */
        if (!(f & S_START) && w != U_WB_EXTEND && w != U_WB_FORMAT && w != U_WB_ZWJ &&
            w != U_WB_MIDLETTER && w != U_WB_MIDNUM && w != U_WB_MIDNUMLET &&
            w != U_WB_SINGLE_QUOTE && c != '@')
            f |= S_ENDS;
        scan_flags[c] = f;
        script_table[c] = script_of(c);
    }
}

static bool is_word_start(int w);

uint8_t nw_scan_class(int32_t c)
{
    pthread_once(&tables_once, fill_tables);
    if (c >= 0 && c < TABLE_END) {
        uint8_t f = scan_flags[c];
        if (f & (S_LETTER | S_DIGIT))
            return NW_SCAN_WORD;
        return (f & S_START) ? NW_SCAN_OTHER_START : 0;
    }
    return is_word_start((int)u_getIntPropertyValue(c, UCHAR_WORD_BREAK)) ? NW_SCAN_OTHER_START : 0;
}

static int wb(int32_t c)
{
    if (c >= 0 && c < TABLE_END)
        return wb_table[c];
    return u_getIntPropertyValue(c, UCHAR_WORD_BREAK);
}

static bool is_ahletter(int w)
{
    return w == U_WB_ALETTER || w == U_WB_HEBREW_LETTER;
}

static bool is_word_start(int w)
{
    return is_ahletter(w) || w == U_WB_NUMERIC || w == U_WB_KATAKANA || w == U_WB_EXTENDNUMLET;
}

static bool is_ignored(int w)
{
    return w == U_WB_EXTEND || w == U_WB_FORMAT || w == U_WB_ZWJ;
}

/* WB5, WB8-10, WB13, WB13a-b: may b follow a directly? */
static bool joins(int a, int b)
{
    bool la = is_ahletter(a), lb = is_ahletter(b);
    if ((la || a == U_WB_NUMERIC) && (lb || b == U_WB_NUMERIC))
        return true;
    if (a == U_WB_KATAKANA && b == U_WB_KATAKANA)
        return true;
    if (b == U_WB_EXTENDNUMLET &&
        (la || a == U_WB_NUMERIC || a == U_WB_KATAKANA || a == U_WB_EXTENDNUMLET))
        return true;
    if (a == U_WB_EXTENDNUMLET && (lb || b == U_WB_NUMERIC || b == U_WB_KATAKANA))
        return true;
    return false;
}

static size_t skip_ignored(const int32_t *cps, size_t j, size_t n)
{
    while (j < n && is_ignored(wb(cps[j])))
        j++;
    return j;
}

static int sb(int32_t c)
{
    if (c >= 0 && c < TABLE_END)
        return sb_table[c];
    return u_getIntPropertyValue(c, UCHAR_SENTENCE_BREAK);
}

static bool is_sep(int s)
{
    return s == U_SB_LF || s == U_SB_CR || s == U_SB_SEP;
}

/*
 * Where the sentence containing the terminator at i ends, or 0 when the
 * terminator does not end it (UAX #29 SB6-SB11, without SB5's Extend).
 */
static size_t sentence_end_after(const int32_t *cps, size_t i, size_t n)
{
    bool aterm_only = true;
    size_t j = i;
    while (j < n && (sb(cps[j]) == U_SB_STERM || sb(cps[j]) == U_SB_ATERM)) {
        if (sb(cps[j]) == U_SB_STERM)
            aterm_only = false;
        j++;
    }
    if (aterm_only && j == i + 1 && j < n) {
        int next = sb(cps[j]);
        if (next == U_SB_NUMERIC) /* SB6: 3.5 */
            return 0;
        if (i > 0 && next == U_SB_UPPER &&
            (sb(cps[i - 1]) == U_SB_UPPER || sb(cps[i - 1]) == U_SB_LOWER)) /* SB7: U.S */
            return 0;
    }
    size_t k = j;
    while (k < n && sb(cps[k]) == U_SB_CLOSE)
        k++;
    size_t sp = k;
    while (sp < n && sb(cps[sp]) == U_SB_SP)
        sp++;
    if (aterm_only) { /* SB8: ATerm Close* Sp* × (¬(OLetter|Upper|Lower|ParaSep|SATerm))* Lower */
        size_t m = sp;
        while (m < n) {
            int s = sb(cps[m]);
            if (s == U_SB_OLETTER || s == U_SB_UPPER || s == U_SB_LOWER || is_sep(s) ||
                s == U_SB_STERM || s == U_SB_ATERM)
                break;
            m++;
        }
        if (m < n && sb(cps[m]) == U_SB_LOWER)
            return 0;
    }
    if (sp < n) { /* SB8a: SATerm Close* Sp* × (SContinue | SATerm) */
        int s = sb(cps[sp]);
        if (s == U_SB_SCONTINUE || s == U_SB_STERM || s == U_SB_ATERM)
            return 0;
    }
    return sp; /* SB11: break after Close* Sp* */
}

static bool add_sentence(nw_segments *s, size_t start, size_t end, const int32_t *cps,
                         uint32_t paragraph)
{
    while (end > start && (cps[end - 1] == ' ' || cps[end - 1] == '\n'))
        end--;
    while (start < end && (cps[start] == ' ' || cps[start] == '\n'))
        start++;
    if (end == start)
        return true;
    if (!nw_grow((void **)&s->sentences, &s->cap_sentences, s->nsentences + 1, sizeof(nw_sentence)))
        return false;
    nw_sentence *st = &s->sentences[s->nsentences++];
    st->start = (uint32_t)start;
    st->end = (uint32_t)end;
    st->first_token = 0;
    st->ntokens = 0;
    st->paragraph = paragraph;
    return true;
}

static bool starts_with(const int32_t *cps, size_t i, size_t n, const char *ascii)
{
    for (size_t k = 0; ascii[k] != '\0'; k++) {
        int32_t c = i + k < n ? cps[i + k] : 0;
        if (c >= 'A' && c <= 'Z')
            c += 32;
        if (c != (unsigned char)ascii[k])
            return false;
    }
    return true;
}

static bool url_char(int32_t c)
{
    return c > ' ' && c != '"' && c != '<' && c != '>' && c != 0x060C /* ، */ &&
           !(c >= 0x0600 && c <= 0x06FF);
}

/* The URL that starts at i, if one does: its end (> i), else 0. */
static size_t url_at(const int32_t *cps, size_t i, size_t n)
{
    bool boundary = i == 0 || !url_char(cps[i - 1]) || cps[i - 1] == '(';
    if (!boundary ||
        !(starts_with(cps, i, n, "http://") || starts_with(cps, i, n, "https://") ||
          starts_with(cps, i, n, "www.") || starts_with(cps, i, n, "pic.twitter.com/")))
        return 0;
    size_t j = i;
    while (j < n && url_char(cps[j]))
        j++;
    /* Trailing punctuation belongs to the sentence, not the URL. */
    while (j > i &&
           (cps[j - 1] == '.' || cps[j - 1] == ',' || cps[j - 1] == ')' || cps[j - 1] == ';' ||
            cps[j - 1] == ':' || cps[j - 1] == '!' || cps[j - 1] == '?' || cps[j - 1] == '\''))
        j--;
    return j;
}

/*
 * The first code point from i on that a sentence or URL rule looks at (n at
 * the end): out of line and calling nothing, so that the scan over the other
 * 95 % keeps its state in registers.
 */
static __attribute__((noinline)) size_t next_mark(const int32_t *cps, size_t i, size_t n)
{
    /* Four code points a time while all four are in the table (TABLE_END is a power of two). */
    while (i + 4 <= n) {
        uint32_t a = (uint32_t)cps[i], b = (uint32_t)cps[i + 1], c = (uint32_t)cps[i + 2],
                 d = (uint32_t)cps[i + 3];
        if ((a | b | c | d) >= TABLE_END ||
            ((scan_flags[a] | scan_flags[b] | scan_flags[c] | scan_flags[d]) & (S_SENT | S_URL)))
            break;
        i += 4;
    }
    while (i < n && (uint32_t)cps[i] < TABLE_END && !(scan_flags[cps[i]] & (S_SENT | S_URL)))
        i++;
    return i;
}

/*
 * Sentences and URLs in one scan: only line separators, terminators and the
 * first letters of URL prefixes need a look, and the table says which those
 * are. The jumps of the sentence rules skip only white space, terminators and
 * closing punctuation, never a URL's first letter; URLs are not looked for
 * inside one already found.
 */
static bool find_sentences_and_urls(nw_segments *s, const int32_t *cps, size_t n)
{
    size_t start = 0, url_end = 0;
    uint32_t paragraph = 0;
    size_t i = 0;
    while ((i = next_mark(cps, i, n)) < n) {
        int32_t cp = cps[i];
        uint8_t f = (uint32_t)cp < TABLE_END ? scan_flags[cp] : S_SENT;
        if ((f & S_URL) && i >= url_end) {
            size_t end = url_at(cps, i, n);
            if (end > 0) {
                if (!nw_grow((void **)&s->urls, &s->cap_urls, s->nurls + 1, sizeof(nw_span)))
                    return false;
                s->urls[s->nurls].start = (uint32_t)i;
                s->urls[s->nurls].end = (uint32_t)end;
                s->nurls++;
                url_end = end;
            } else {
                url_end = i + 1;
            }
        }
        int c = sb(cp);
        if (is_sep(c)) {
            if (!add_sentence(s, start, i, cps, paragraph))
                return false;
            size_t j = i;
            int lines = 0;
            while (j < n && (cps[j] == '\n' || cps[j] == ' ')) {
                lines += cps[j] == '\n';
                j++;
            }
            if (lines > 1)
                paragraph++;
            start = i = j;
            continue;
        }
        if (c == U_SB_STERM || c == U_SB_ATERM) {
            size_t end = sentence_end_after(cps, i, n);
            if (end > 0) {
                if (!add_sentence(s, start, end, cps, paragraph))
                    return false;
                start = i = end;
                continue;
            }
            /* Not a boundary: skip the run of terminators. */
            while (i < n && (sb(cps[i]) == U_SB_STERM || sb(cps[i]) == U_SB_ATERM))
                i++;
            continue;
        }
        i++;
    }
    return add_sentence(s, start, n, cps, paragraph);
}

/*
 * Where tokens are added (emit_token): the arrays of s and the sentence and
 * URL the last token was in, copied out of s for a loop (so that they stay
 * in registers) and back at its end.
 */
typedef struct token_cursor {
    nw_token *toks;
    size_t nt, cap;
    nw_sentence *sents;
    size_t nsent, se;
    const nw_span *urls;
    size_t nurls, u;
} token_cursor;

static token_cursor cursor_begin(const nw_segments *s, size_t sent, size_t url)
{
    return (token_cursor){s->tokens, s->ntokens, s->cap_tokens, s->sentences, s->nsentences,
                          sent,      s->urls,    s->nurls,      url};
}

static void cursor_end(const token_cursor *c, nw_segments *s, size_t *sent, size_t *url)
{
    s->ntokens = c->nt;
    *sent = c->se;
    *url = c->u;
}

/*
 * Adds tok (there is room: c->nt < c->cap), the one place tokens are added:
 * from cps (the text's code points) and the sentences and URLs of the
 * cursor, its sentence and paragraph, whether it is a hashtag (after '#') and
 * in a URL, and its sentence's tokens. The caller gives start, end, kind,
 * script and the flags of its own letters (NW_TOKEN_MENTION,
 * NW_TOKEN_UPPER). Tokens come in text order: the cursor only moves forward.
 * In line: it calls nothing, and the token is stored at once (byte stores
 * would make the compiler reload the cursor's fields).
 */
static inline __attribute__((always_inline)) void emit_token(token_cursor *c, const int32_t *cps,
                                                             nw_token tok)
{
    size_t i = tok.start;
    while (c->se + 1 < c->nsent && c->sents[c->se].end <= i)
        c->se++;
    while (c->u < c->nurls && c->urls[c->u].end <= i)
        c->u++;
    uint8_t flags = tok.flags & (uint8_t) ~(NW_TOKEN_HASHTAG | NW_TOKEN_IN_URL);
    if (i > 0 && cps[i - 1] == '#')
        flags |= NW_TOKEN_HASHTAG;
    if (c->u < c->nurls && c->urls[c->u].start <= i && i < c->urls[c->u].end)
        flags |= NW_TOKEN_IN_URL;
    tok.flags = flags;
    tok.sentence = (uint32_t)c->se;
    tok.paragraph = c->nsent > 0 ? c->sents[c->se].paragraph : 0;
    c->toks[c->nt] = tok;
    if (c->nsent > 0) {
        nw_sentence *st = &c->sents[c->se];
        if (st->ntokens == 0)
            st->first_token = (uint32_t)c->nt;
        st->ntokens++;
    }
    c->nt++;
}

/*
 * Adds the common token [i, j) (letters and digits of the table whose first
 * character's case needs no ICU, ended by a code point that ends any word):
 * its script and kind from its letters, its flags. In line: it calls nothing.
 */
static inline __attribute__((always_inline)) void add_common(token_cursor *c, const int32_t *cps,
                                                             size_t i, size_t j)
{
    uint8_t script = NW_SCRIPT_OTHER;
    for (size_t k = i; k < j; k++) {
        if (cps[k] != '@' && (scan_flags[cps[k]] & S_LETTER)) {
            script = script_table[cps[k]];
            break;
        }
    }
    /* A letter makes a word ('@' counts as one): found above when the script is known. */
    bool letters = script != NW_SCRIPT_OTHER;
    for (size_t k = i; !letters && k < j; k++)
        letters = (scan_flags[cps[k]] & S_LETTER) != 0;
    int32_t c0 = cps[i];
    uint8_t flags = 0;
    if (c0 == '@' && j > i + 1)
        flags |= NW_TOKEN_MENTION;
    if (c0 >= 'A' && c0 <= 'Z')
        flags |= NW_TOKEN_UPPER;
    emit_token(c, cps,
               (nw_token){
                   .start = (uint32_t)i,
                   .end = (uint32_t)j,
                   .kind = letters ? NW_TOKEN_WORD : NW_TOKEN_NUMBER,
                   .script = script,
                   .flags = flags,
               });
}

/* Does a word that ends before code point j end there whatever the rules? (j == n: the end) */
static inline bool ends_word(const int32_t *cps, size_t n, size_t j)
{
    return j >= n || ((uint32_t)cps[j] < TABLE_END && (scan_flags[cps[j]] & S_ENDS));
}

/* May a common token start with c0? Case beyond ASCII and Arabic needs the general rules. */
static inline bool common_start(int32_t c0)
{
    return c0 < 0x80 || (c0 >= 0x0600 && c0 <= 0x06FF);
}

/*
 * The common tokens, from code point i on: words and numbers of letters and
 * digits of the table, each ended by a code point that ends any word (or by
 * the end), whose first character's case needs no ICU. The same tokens the
 * general loop of nw_segment makes (WB5, WB8-10; nothing else applies to
 * them), without calls, so that the loop's state stays in registers. Stops
 * at a token it cannot take whole (the general loop takes that one), when
 * the tokens' array is full, or at the end; returns where it stopped.
 */
static size_t common_tokens(nw_segments *s, const int32_t *cps, size_t n, size_t i, size_t *sent,
                            size_t *url)
{
    token_cursor c = cursor_begin(s, *sent, *url);
    while (i < n && c.nt < c.cap) {
        int32_t c0 = cps[i];
        if ((uint32_t)c0 >= TABLE_END)
            break;
        uint8_t f = scan_flags[c0];
        if (!(f & S_START)) {
            i++;
            continue;
        }
        /* Katakana and ExtendNumLet starts, and case beyond ASCII and Arabic: the general loop. */
        if (!(f & (S_LETTER | S_DIGIT)) || !common_start(c0))
            break;
        size_t j = i + 1;
        while (j < n && (uint32_t)cps[j] < TABLE_END && (scan_flags[cps[j]] & (S_LETTER | S_DIGIT)))
            j++;
        if (!ends_word(cps, n, j))
            break; /* MidLetter, Extend and the like after the run: the general rules */
        add_common(&c, cps, i, j);
        i = j;
    }
    cursor_end(&c, s, sent, url);
    return i;
}

/*
 * common_tokens from the runs of letters and digits the normaliser noted
 * (nw_text's runs, lib/scan.h) instead of from every code point: the same
 * tokens, and it stops where common_tokens would (at a start the general
 * rules take, or when the tokens' array is full), returning where; *ri is the
 * next run, kept between calls. After the last run no token starts: n.
 */
static size_t common_runs(nw_segments *s, const int32_t *cps, size_t n, size_t i, size_t *sent,
                          size_t *url, const uint32_t *runs, size_t nruns, size_t *ri)
{
    token_cursor c = cursor_begin(s, *sent, *url);
    size_t r = *ri;
    /* Runs the general rules took whole. */
    while (r < nruns && (runs[r + 1] & ~NW_RUN_OTHER) <= i)
        r += 2;
    for (; r < nruns; r += 2) {
        size_t a = runs[r] > i ? runs[r] : i, j = runs[r + 1];
        if (j & NW_RUN_OTHER) {
            i = a; /* a start of the general rules */
            break;
        }
        /* Case beyond ASCII and Arabic, a run that something joins, a full array: the general loop.
         */
        if (!common_start(cps[a]) || !ends_word(cps, n, j) || c.nt == c.cap) {
            i = a;
            break;
        }
        add_common(&c, cps, a, j);
        i = j;
    }
    cursor_end(&c, s, sent, url);
    *ri = r;
    return r < nruns ? i : n;
}

/* The room for tokens nw_segment makes first: one per CPS_PER_TOKEN code points, at most
 * TOKENS_ROOM_MAX (the general loop grows it when needed). */
#define CPS_PER_TOKEN   4
#define TOKENS_ROOM_MAX 65536

nw_err nw_segment(const nw_text *t, nw_segments *s, char *errbuf, size_t errlen)
{
    pthread_once(&tables_once, fill_tables);
    s->ntokens = s->nsentences = s->nurls = 0;
    s->lookups = NULL; /* they were for the previous segmentation */
    size_t n = t->ncp;
    /* The display form: sentence rules need letter case, which match folds away. */
    const int32_t *cps = t->cps;
    if (!find_sentences_and_urls(s, cps, n))
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");

    size_t sent = 0, url = 0;
    size_t i = 0;
    /* Room for a token per 4 code points (up to 64k); the general loop grows it when needed. */
    size_t room =
        n / CPS_PER_TOKEN + 16 < TOKENS_ROOM_MAX ? n / CPS_PER_TOKEN + 16 : TOKENS_ROOM_MAX;
    if (!nw_grow((void **)&s->tokens, &s->cap_tokens, room, sizeof(nw_token)))
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    size_t ri = 0;
    const nw_runs *runs = nw_text_runs(t);
    while (i < n) {
        i = runs != NULL ? common_runs(s, cps, n, i, &sent, &url, runs->v, runs->n, &ri)
                         : common_tokens(s, cps, n, i, &sent, &url);
        if (i >= n)
            break;
        /* Most code points between words are spaces and punctuation of the table. */
        while (i < n && (uint32_t)cps[i] < TABLE_END && !(scan_flags[cps[i]] & S_START))
            i++;
        if (i >= n)
            break;
        int w = wb(cps[i]);
        if (!is_word_start(w)) {
            i++;
            continue;
        }
        size_t start = i;
        int last = w;
        bool letters = is_ahletter(w) || w == U_WB_KATAKANA, digits = w == U_WB_NUMERIC;
        size_t j = i + 1;
        for (;;) {
            /*
             * The common case first: letters and digits after a letter or a
             * digit (WB5, WB8-10), as the general test below would take them
             * one by one.
             */
            if (wb_flags[last & (WB_CLASSES - 1)] & (F_AHLETTER | F_NUMERIC)) {
                size_t run = j;
                uint8_t seen = 0;
                while (j < n && (uint32_t)cps[j] < TABLE_END &&
                       (scan_flags[cps[j]] & (S_LETTER | S_DIGIT)))
                    seen |= scan_flags[cps[j++]];
                if (j > run) {
                    letters |= (seen & S_LETTER) != 0;
                    digits |= (seen & S_DIGIT) != 0;
                    last = wb(cps[j - 1]);
                }
                /* The common end of a word: a space or punctuation that joins nothing. */
                if (j >= n || ((uint32_t)cps[j] < TABLE_END && (scan_flags[cps[j]] & S_ENDS)))
                    break;
                while (j < n) { /* beyond the table */
                    int c = wb(cps[j]);
                    uint8_t fl = wb_flags[c & (WB_CLASSES - 1)];
                    if (!(fl & (F_AHLETTER | F_NUMERIC)))
                        break;
                    letters |= fl & F_AHLETTER;
                    digits |= fl & F_NUMERIC;
                    last = c;
                    j++;
                }
            }
            j = skip_ignored(cps, j, n);
            if (j >= n)
                break;
            int nw = wb(cps[j]);
            if (joins(last, nw)) {
                letters |= is_ahletter(nw) || nw == U_WB_KATAKANA;
                digits |= nw == U_WB_NUMERIC;
                last = nw;
                j++;
                continue;
            }
            bool mid_letter =
                nw == U_WB_MIDLETTER || nw == U_WB_MIDNUMLET || nw == U_WB_SINGLE_QUOTE;
            bool mid_num = nw == U_WB_MIDNUM || nw == U_WB_MIDNUMLET || nw == U_WB_SINGLE_QUOTE;
            if ((is_ahletter(last) && mid_letter) || (last == U_WB_NUMERIC && mid_num)) {
                size_t k = skip_ignored(cps, j + 1, n);
                if (k < n) {
                    int after = wb(cps[k]);
                    if ((is_ahletter(last) && mid_letter && is_ahletter(after)) ||
                        (last == U_WB_NUMERIC && mid_num && after == U_WB_NUMERIC)) {
                        last = after;
                        j = k + 1;
                        continue;
                    }
                }
            }
            break;
        }
        i = j;
        if (!letters && !digits)
            continue; /* underscores alone */
        if (!nw_grow((void **)&s->tokens, &s->cap_tokens, s->ntokens + 1, sizeof(nw_token)))
            return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        uint8_t script = NW_SCRIPT_OTHER;
        for (size_t k = start; k < j; k++) {
            if (cps[k] != '@' && is_ahletter(wb(cps[k]))) {
                script = script_of(cps[k]);
                break;
            }
        }
        uint8_t flags = 0;
        if (cps[start] == '@' && j > start + 1)
            flags |= NW_TOKEN_MENTION;
        int32_t c0 = cps[start];
        if (c0 < 0x80                        ? (c0 >= 'A' && c0 <= 'Z')
            : (c0 >= 0x0600 && c0 <= 0x06FF) ? false
                                             : u_isupper(c0))
            flags |= NW_TOKEN_UPPER;
        token_cursor c = cursor_begin(s, sent, url);
        emit_token(&c, cps,
                   (nw_token){
                       .start = (uint32_t)start,
                       .end = (uint32_t)j,
                       .kind = letters ? NW_TOKEN_WORD : NW_TOKEN_NUMBER,
                       .script = script,
                       .flags = flags,
                   });
        cursor_end(&c, s, &sent, &url);
    }
    return NW_OK;
}

/* Does every range of remove cover whole lines of t (from a line's start to past its end)? */
static bool whole_lines(const nw_text *t, const nw_span *remove, size_t nremove)
{
    for (size_t k = 0; k < nremove; k++) {
        uint32_t a = remove[k].start, b = remove[k].end;
        if (a >= b || b > t->ncp || (a > 0 && t->cps[a - 1] != '\n') ||
            (b < t->ncp && t->cps[b - 1] != '\n'))
            return false;
    }
    return true;
}

/* Where the line of t that code point i is in ends: its line break, or the end of t. */
static uint32_t line_end(const nw_text *t, uint32_t i)
{
    return (uint32_t)nw_cps_find(t->cps, i, t->ncp, '\n');
}

/*
 * Moves page's tokens into s for out (sentences and URLs of out already in
 * s): line by line, the kept lines of page are out's non-empty lines in
 * order, each the same code points. false when they are not (then the
 * caller segments out anew) or when out of memory (*oom).
 */
static bool move_tokens(const nw_text *page, const nw_segments *ps, const nw_span *remove,
                        size_t nremove, const nw_text *out, nw_segments *s, bool *oom)
{
    size_t ti = 0, r = 0;
    uint32_t ls = 0, os = 0;
    /* Room for every token of page: out has at most those. */
    if (!nw_grow((void **)&s->tokens, &s->cap_tokens, ps->ntokens + 1, sizeof(nw_token))) {
        *oom = true;
        return false;
    }
    token_cursor c = cursor_begin(s, 0, 0);
    while (ls < page->ncp) {
        uint32_t le = line_end(page, ls);
        while (r < nremove && remove[r].end <= ls)
            r++;
        bool removed = r < nremove && remove[r].start <= ls;
        if (le > ls && !removed) {
            /* The next non-empty line of out: the same code points. */
            while (os < out->ncp && out->cps[os] == '\n')
                os++;
            uint32_t oe = line_end(out, os);
            if (oe - os != le - ls ||
                memcmp(out->cps + os, page->cps + ls, (size_t)(le - ls) * sizeof(int32_t)) != 0)
                return false;
            /* Tokens of earlier lines were all passed: these start in [ls, le). */
            for (; ti < ps->ntokens && ps->tokens[ti].start < le; ti++) {
                nw_token tok = ps->tokens[ti];
                tok.start = tok.start - ls + os;
                tok.end = tok.end - ls + os;
                emit_token(&c, out->cps, tok);
            }
            os = oe;
        } else {
            /* An empty or removed line: its tokens (if any) are not in out. */
            while (ti < ps->ntokens && ps->tokens[ti].start < le)
                ti++;
        }
        ls = le + 1;
    }
    size_t sent, url;
    cursor_end(&c, s, &sent, &url);
    /* Every non-empty line of out was one of page's. */
    while (os < out->ncp && out->cps[os] == '\n')
        os++;
    return os >= out->ncp;
}

nw_err nw_segment_after_removal(const nw_text *page, const nw_segments *page_seg,
                                const nw_span *remove, size_t nremove, const nw_text *out,
                                nw_segments *s, char *errbuf, size_t errlen)
{
    if (!whole_lines(page, remove, nremove))
        return nw_segment(out, s, errbuf, errlen);
    pthread_once(&tables_once, fill_tables);
    s->ntokens = s->nsentences = s->nurls = 0;
    s->lookups = NULL;
    if (!find_sentences_and_urls(s, out->cps, out->ncp))
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    bool oom = false;
    if (move_tokens(page, page_seg, remove, nremove, out, s, &oom))
        return NW_OK;
    if (oom)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    return nw_segment(out, s, errbuf, errlen);
}
