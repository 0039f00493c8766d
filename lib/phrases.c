#include "newswatch/phrases.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/hash.h"
#include "grow.h"
#include "lookups.h"

/* A phrase: its key (words joined by one space) in the pool, and its values. */
typedef struct entry {
    uint32_t key, keylen; /* offset and length in pool */
    uint32_t nwords;
    uint32_t values, nvalues, capvalues; /* offset into value pool */
} entry;

/* A first word: the most words any phrase starting with it has, and the word as a phrase. */
typedef struct first {
    uint32_t key, keylen;
    uint32_t maxwords;
    uint32_t single; /* entry index + 1 of the one-word phrase that is this word; 0 for none */
} first;

/*
 * A filter of 64-bit hashes, one bit per hash (its upper half: the tables'
 * slots use the lower): a clear bit says the key is certainly not there.
 */
typedef struct bit_filter {
    uint64_t *words;
    size_t bits; /* a power of two; 0 before the first key */
} bit_filter;

struct nw_phrases {
    char *pool;
    size_t pool_len, pool_cap;
    uint32_t *vals;
    size_t nvals, capvals;
    entry *entries;
    size_t nentries, capentries;
    uint32_t *slots; /* open addressing: entry index + 1, 0 = empty */
    size_t nslots;
    first *firsts;
    size_t nfirsts, capfirsts;
    uint32_t *fslots;
    size_t nfslots;
    /*
     * The first words' hashes: most words of a text start no phrase, and one
     * bit says so without probing the tables. At least 16 bits per first word.
     */
    bit_filter firsts_filter;
    /*
     * The same for the first two words of the phrases of two words or more
     * (pair_hash): a first word that starts longer phrases (على: علي
     * السيستاني) is mostly followed by a word that continues none, and one bit
     * says so before any key is built.
     */
    bit_filter pairs_filter;
    size_t npairs;
};

nw_phrases *nw_phrases_new(void)
{
    return calloc(1, sizeof(nw_phrases));
}

void nw_phrases_free(nw_phrases *p)
{
    if (p == NULL)
        return;
    free(p->pool);
    free(p->vals);
    free(p->entries);
    free(p->slots);
    free(p->firsts);
    free(p->fslots);
    free(p->firsts_filter.words);
    free(p->pairs_filter.words);
    free(p);
}

size_t nw_phrases_count(const nw_phrases *p)
{
    return p->nentries;
}

/* Looks key up in a table of (key, keylen) records; returns the slot. */
static size_t probe(const uint32_t *slots, size_t nslots, const char *pool, const void *records,
                    size_t stride, const char *key, size_t len, uint64_t h)
{
    size_t mask = nslots - 1, i = (size_t)h & mask;
    for (;;) {
        uint32_t v = slots[i];
        if (v == 0)
            return i;
        const uint32_t *rec = (const uint32_t *)((const char *)records + (v - 1) * stride);
        if (rec[1] == len && memcmp(pool + rec[0], key, len) == 0)
            return i;
        i = (i + 1) & mask;
    }
}

/* A table's first size, in slots; it stays at most half full. */
#define SLOTS_MIN 256

/* Makes room for one more record; count records exist. */
static bool rehash(uint32_t **slots, size_t *nslots, size_t count, const char *pool,
                   const void *records, size_t stride)
{
    if ((count + 1) * 2 < *nslots)
        return true;
    size_t n = *nslots > 0 ? *nslots * 2 : SLOTS_MIN;
    while ((count + 1) * 2 >= n)
        n *= 2;
    uint32_t *ns = calloc(n, sizeof(uint32_t));
    if (ns == NULL)
        return false;
    for (size_t r = 0; r < count; r++) {
        const uint32_t *rec = (const uint32_t *)((const char *)records + r * stride);
        uint64_t h = nw_hash_table64(pool + rec[0], rec[1]);
        size_t i = probe(ns, n, pool, records, stride, pool + rec[0], rec[1], h);
        ns[i] = (uint32_t)r + 1;
    }
    free(*slots);
    *slots = ns;
    *nslots = n;
    return true;
}

static inline bool bf_has(const bit_filter *f, uint64_t h)
{
    if (f->bits == 0)
        return false;
    size_t b = (size_t)(h >> 32) & (f->bits - 1);
    return (f->words[b >> 6] >> (b & 63)) & 1;
}

static void bf_set(bit_filter *f, uint64_t h)
{
    size_t b = (size_t)(h >> 32) & (f->bits - 1);
    f->words[b >> 6] |= 1ull << (b & 63);
}

/* A filter's bits per key: remade when it falls below the least, remade at the target or up to
 * twice the target; and its smallest size in bits. */
#define FILTER_BITS_PER_KEY_MIN    16
#define FILTER_BITS_PER_KEY_TARGET 32
#define FILTER_BITS_MIN            4096

/*
 * Makes room in f for nkeys keys: when it has fewer than 16 bits per key, a
 * new, empty filter of 32 to 64 bits per key (*emptied: the caller sets its
 * keys again). false when out of memory (f as it was).
 */
static bool bf_reserve(bit_filter *f, size_t nkeys, bool *emptied)
{
    *emptied = false;
    if (nkeys * FILTER_BITS_PER_KEY_MIN <= f->bits)
        return true;
    size_t bits = FILTER_BITS_MIN;
    while (bits < nkeys * FILTER_BITS_PER_KEY_TARGET)
        bits *= 2;
    uint64_t *words = calloc(bits / 64, sizeof(uint64_t));
    if (words == NULL)
        return false;
    free(f->words);
    f->words = words;
    f->bits = bits;
    *emptied = true;
    return true;
}

/* May a phrase start with the word whose hash is h? (false: certainly not) */
static inline bool may_start(const nw_phrases *p, uint64_t h)
{
    return bf_has(&p->firsts_filter, h);
}

/* Adds a first word (its hash h) to the filter; the first words are p->firsts. */
static bool filter_add(nw_phrases *p, uint64_t h)
{
    bool emptied;
    if (!bf_reserve(&p->firsts_filter, p->nfirsts, &emptied))
        return false;
    for (size_t k = 0; emptied && k < p->nfirsts; k++)
        bf_set(&p->firsts_filter, nw_hash_table64(p->pool + p->firsts[k].key, p->firsts[k].keylen));
    bf_set(&p->firsts_filter, h);
    return true;
}

/* The hash of a pair of words (the hashes of each). */
static inline uint64_t pair_hash(uint64_t h1, uint64_t h2)
{
    return nw_hash_mix64(h1 ^ (h2 * 0xff51afd7ed558ccdULL));
}

/* May a phrase start with these two words? (false: certainly not) */
static inline bool may_pair(const nw_phrases *p, uint64_t h1, uint64_t h2)
{
    return bf_has(&p->pairs_filter, pair_hash(h1, h2));
}

/* The hash of the first two words of a key (words joined by one space). */
static uint64_t key_pair(const char *key, size_t keylen)
{
    const char *sp = memchr(key, ' ', keylen);
    size_t l1 = (size_t)(sp - key);
    const char *w2 = sp + 1;
    const char *sp2 = memchr(w2, ' ', keylen - l1 - 1);
    size_t l2 = sp2 != NULL ? (size_t)(sp2 - w2) : keylen - l1 - 1;
    return pair_hash(nw_hash_table64(key, l1), nw_hash_table64(w2, l2));
}

/* Adds the first two words of a phrase of two words or more; the phrases are p->entries. */
static bool pairs_add(nw_phrases *p, const char *key, size_t keylen)
{
    bool emptied;
    if (!bf_reserve(&p->pairs_filter, ++p->npairs, &emptied))
        return false;
    for (size_t k = 0; emptied && k < p->nentries; k++)
        if (p->entries[k].nwords >= 2)
            bf_set(&p->pairs_filter, key_pair(p->pool + p->entries[k].key, p->entries[k].keylen));
    bf_set(&p->pairs_filter, key_pair(key, keylen));
    return true;
}

static bool pool_add(nw_phrases *p, const char *s, size_t len, uint32_t *off)
{
    if (!nw_grow((void **)&p->pool, &p->pool_cap, p->pool_len + len + 1, 1))
        return false;
    memcpy(p->pool + p->pool_len, s, len);
    p->pool[p->pool_len + len] = '\0';
    *off = (uint32_t)p->pool_len;
    p->pool_len += len + 1;
    return true;
}

static nw_err add_key(nw_phrases *p, const char *key, size_t keylen, size_t firstlen,
                      uint32_t nwords, uint32_t value, char *errbuf, size_t errlen)
{
    /* The phrase. */
    if (!rehash(&p->slots, &p->nslots, p->nentries, p->pool, p->entries, sizeof(entry)))
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    uint64_t h = nw_hash_table64(key, keylen);
    size_t i = probe(p->slots, p->nslots, p->pool, p->entries, sizeof(entry), key, keylen, h);
    entry *e;
    uint32_t entry_index;
    if (p->slots[i] == 0) {
        if (!nw_grow((void **)&p->entries, &p->capentries, p->nentries + 1, sizeof(entry)))
            return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        e = &p->entries[p->nentries];
        memset(e, 0, sizeof *e);
        if (!pool_add(p, key, keylen, &e->key))
            return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        e->keylen = (uint32_t)keylen;
        e->nwords = nwords;
        p->slots[i] = (uint32_t)++p->nentries;
        if (nwords >= 2 && !pairs_add(p, key, keylen))
            return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    } else {
        e = &p->entries[p->slots[i] - 1];
    }
    entry_index = p->slots[i] - 1;
    for (uint32_t k = 0; k < e->nvalues; k++)
        if (p->vals[e->values + k] == value)
            return NW_OK;
    if (e->nvalues == e->capvalues) {
        /* Move the values to the end of the pool with room to grow. */
        uint32_t ncap = e->capvalues > 0 ? e->capvalues * 2 : 1;
        if (!nw_grow((void **)&p->vals, &p->capvals, p->nvals + ncap, sizeof(uint32_t)))
            return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        memcpy(p->vals + p->nvals, p->vals + e->values, e->nvalues * sizeof(uint32_t));
        e->values = (uint32_t)p->nvals;
        e->capvalues = ncap;
        p->nvals += ncap;
    }
    p->vals[e->values + e->nvalues++] = value;

    /* Its first word. */
    if (!rehash(&p->fslots, &p->nfslots, p->nfirsts, p->pool, p->firsts, sizeof(first)))
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    h = nw_hash_table64(key, firstlen);
    i = probe(p->fslots, p->nfslots, p->pool, p->firsts, sizeof(first), key, firstlen, h);
    if (p->fslots[i] == 0) {
        if (!nw_grow((void **)&p->firsts, &p->capfirsts, p->nfirsts + 1, sizeof(first)))
            return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        first *f = &p->firsts[p->nfirsts];
        if (!pool_add(p, key, firstlen, &f->key))
            return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        f->keylen = (uint32_t)firstlen;
        f->maxwords = nwords;
        f->single = 0;
        p->fslots[i] = (uint32_t)++p->nfirsts;
        if (!filter_add(p, h))
            return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    } else if (p->firsts[p->fslots[i] - 1].maxwords < nwords) {
        p->firsts[p->fslots[i] - 1].maxwords = nwords;
    }
    if (nwords == 1)
        p->firsts[p->fslots[i] - 1].single = entry_index + 1;
    return NW_OK;
}

/* The bytes of code points [start, end) of the matching form. */
static const char *word_bytes(const nw_text *t, uint32_t start, uint32_t end, size_t *len)
{
    *len = t->match_cp[end] - t->match_cp[start];
    return t->match + t->match_cp[start];
}

nw_err nw_phrases_add(nw_phrases *p, nw_normalizer *n, nw_text *t, nw_segments *s,
                      const char *phrase, size_t len, uint32_t value, char *errbuf, size_t errlen)
{
    nw_err err = nw_normalize(n, phrase, len, t, errbuf, errlen);
    if (err == NW_OK)
        err = nw_segment(t, s, errbuf, errlen);
    if (err != NW_OK)
        return err;
    if (s->ntokens == 0)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "'%.*s' has no words", (int)len, phrase);
    if (s->ntokens > NW_PHRASE_MAX_WORDS)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "'%.*s' has more than %d words", (int)len,
                            phrase, NW_PHRASE_MAX_WORDS);
    char key[NW_PHRASE_MAX_BYTES + 1];
    size_t k = 0, firstlen = 0;
    for (size_t i = 0; i < s->ntokens; i++) {
        size_t wl;
        const char *w = word_bytes(t, s->tokens[i].start, s->tokens[i].end, &wl);
        if (w[0] == '@' && wl > 1) { /* a mention's name is its text without '@' */
            w++;
            wl--;
        }
        if (k + wl + 1 > NW_PHRASE_MAX_BYTES)
            return nw_set_error(errbuf, errlen, NW_EINVAL, "'%.*s' is longer than %d bytes",
                                (int)len, phrase, NW_PHRASE_MAX_BYTES);
        if (i > 0)
            key[k++] = ' ';
        memcpy(key + k, w, wl);
        k += wl;
        if (i == 0)
            firstlen = k;
    }
    return add_key(p, key, k, firstlen, (uint32_t)s->ntokens, value, errbuf, errlen);
}

/* Matching: words read through a stride, so tokens and plain words both work. */
typedef struct words_view {
    const char *base;
    size_t stride, n;
    bool tokens; /* nw_token: same sentence, white space only between words */
} words_view;

/*
 * w_start and w_end read a word's first two members through the stride, and
 * probe reads a record's key and keylen the same way: they must come first.
 */
_Static_assert(offsetof(nw_token, start) == 0 && offsetof(nw_token, end) == sizeof(uint32_t),
               "nw_token starts with start, end");
_Static_assert(offsetof(nw_word, start) == 0 && offsetof(nw_word, end) == sizeof(uint32_t),
               "nw_word starts with start, end");
_Static_assert(offsetof(entry, key) == 0 && offsetof(entry, keylen) == sizeof(uint32_t),
               "entry starts with key, keylen");
_Static_assert(offsetof(first, key) == 0 && offsetof(first, keylen) == sizeof(uint32_t),
               "first starts with key, keylen");

static uint32_t w_start(const words_view *v, size_t i)
{
    return ((const uint32_t *)(v->base + i * v->stride))[0];
}

static uint32_t w_end(const words_view *v, size_t i)
{
    return ((const uint32_t *)(v->base + i * v->stride))[1];
}

/* May word i+1 continue a phrase that word i is in? */
static bool continues(const words_view *v, const nw_text *t, size_t i)
{
    if (!v->tokens)
        return true;
    const nw_token *a = (const nw_token *)(v->base + i * v->stride);
    const nw_token *b = a + 1;
    if (a->sentence != b->sentence || (b->flags & NW_TOKEN_IN_URL))
        return false;
    /* White space, and quotes: صحيفة "التايمز", موقع "الحرة" */
    for (uint32_t c = t->match_cp[a->end]; c < t->match_cp[b->start]; c++)
        if (t->match[c] != ' ' && t->match[c] != '"')
            return false;
    return true;
}

static const first *find_first(const nw_phrases *p, const char *w, size_t len, uint64_t h)
{
    if (p->nfslots == 0)
        return NULL;
    size_t i = probe(p->fslots, p->nfslots, p->pool, p->firsts, sizeof(first), w, len, h);
    return p->fslots[i] != 0 ? &p->firsts[p->fslots[i] - 1] : NULL;
}

static const entry *find_entry(const nw_phrases *p, const char *key, size_t len, uint64_t h)
{
    size_t i = probe(p->slots, p->nslots, p->pool, p->entries, sizeof(entry), key, len, h);
    return p->slots[i] != 0 ? &p->entries[p->slots[i] - 1] : NULL;
}

/*
 * The longest phrase of two words or more (or else the first word alone)
 * whose first word is f, at word i: the keys are built and probed here, out
 * of line, for the few first words that pass the pair filter.
 */
static __attribute__((noinline)) uint32_t longest_multi(const nw_phrases *p, const nw_text *t,
                                                        const words_view *v, size_t i,
                                                        const char *head, size_t headlen,
                                                        const first *f, const entry **found)
{
    char key[NW_PHRASE_MAX_BYTES + 1];
    if (headlen > NW_PHRASE_MAX_BYTES)
        return 0;
    memcpy(key, head, headlen);
    size_t lens[NW_PHRASE_MAX_WORDS + 1];
    size_t k = headlen;
    lens[1] = k;
    uint32_t avail = 1;
    while (avail < f->maxwords && i + avail < v->n && continues(v, t, i + avail - 1)) {
        size_t wl;
        const char *w = word_bytes(t, w_start(v, i + avail), w_end(v, i + avail), &wl);
        if (k + 1 + wl > NW_PHRASE_MAX_BYTES)
            break;
        key[k++] = ' ';
        memcpy(key + k, w, wl);
        k += wl;
        avail++;
        lens[avail] = k;
    }
    for (uint32_t nw = avail; nw >= 1; nw--) {
        /* One word: the head itself, found with the first word. */
        const entry *e = nw == 1 ? (f->single ? &p->entries[f->single - 1] : NULL)
                                 : find_entry(p, key, lens[nw], nw_hash_table64(key, lens[nw]));
        if (e != NULL && e->nwords == nw) {
            *found = e;
            return nw;
        }
    }
    return 0;
}

/*
 * The longest phrase whose first word is `head` (bytes, already stripped;
 * its hash passed the filter) followed by words i+1... Returns its word
 * count, 0 when none. In line: most calls end at a first word that starts no
 * longer phrase here.
 */
static inline uint32_t longest_from(const nw_phrases *p, const nw_text *t, const words_view *v,
                                    size_t i, const char *head, size_t headlen, uint64_t head_hash,
                                    const entry **found)
{
    const first *f = find_first(p, head, headlen, head_hash);
    if (f == NULL)
        return 0;
    /*
     * Most first words (في، من، على) start no longer phrase, or none that
     * continues with the next word: no key to build, no second probe.
     */
    bool longer = f->maxwords > 1 && i + 1 < v->n && continues(v, t, i);
    if (longer) {
        size_t wl;
        const char *w = word_bytes(t, w_start(v, i + 1), w_end(v, i + 1), &wl);
        longer = may_pair(p, head_hash, nw_hash_table64(w, wl));
    }
    if (longer)
        return longest_multi(p, t, v, i, head, headlen, f, found);
    if (f->single == 0)
        return 0;
    *found = &p->entries[f->single - 1];
    return 1;
}

/* Two-byte UTF-8 Arabic letters of the proclitics. */
#define IS(w, b2)  ((unsigned char)(w)[0] == 0xD9 && (unsigned char)(w)[1] == (b2))
#define IS8(w, b2) ((unsigned char)(w)[0] == 0xD8 && (unsigned char)(w)[1] == (b2))
#define WAW(w)     IS(w, 0x88)
#define FA(w)      IS(w, 0x81)
#define KAF(w)     IS(w, 0x83)
#define LAM(w)     IS(w, 0x84)
#define BA(w)      IS8(w, 0xA8)
#define ALEF(w)    IS8(w, 0xA7)

/* A way to read a word as proclitics + the rest. */
typedef struct split {
    uint8_t len;          /* bytes of proclitics */
    bool restore_article; /* لل: ل + ال whose alef is dropped */
} split;

/*
 * The proclitic readings of w, shortest first: when two readings find phrases
 * of the same length, the one that strips less wins (وبغداد is و + بغداد, not
 * وب + غداد). A conjunction (و ف), then a preposition (ب ك ل), then the
 * article (ال), each optional; ل before the article is written لل. At least
 * two letters must remain.
 */
static size_t proclitic_splits(const char *w, size_t wl, split out[8])
{
    size_t n = 0;
    for (size_t conj = 0; conj <= ((WAW(w) || FA(w)) ? 2u : 0u); conj += 2) {
        const char *p = w + conj;
        bool lam = LAM(p), prep = BA(p) || KAF(p) || lam;
        for (size_t pr = 0; pr <= (prep ? 2u : 0u); pr += 2) {
            size_t q = conj + pr;
            if (q > 0 && q + 4 <= wl)
                out[n++] = (split){(uint8_t)q, false};
            if (pr == 2 && lam && q + 6 <= wl && LAM(w + q)) /* لل */
                out[n++] = (split){(uint8_t)(q + 2), true};
            else if (!(pr == 2 && lam) && q + 8 <= wl && ALEF(w + q) && LAM(w + q + 2)) /* ال */
                out[n++] = (split){(uint8_t)(q + 4), false};
        }
    }
    /* Shortest first (insertion sort: at most 8). */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && out[j - 1].len > out[j].len; j--) {
            split t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

/*
 * The same splits from a table: which splits a word has depends only on
 * what its first four letters are (a conjunction و ف, a preposition ب ك, ل,
 * ا, or another), and on its length, which every split needs to exceed by
 * two letters. The table holds, for each of the 5^4 combinations of
 * classes, proclitic_splits of a long word made of them (shortest first);
 * a word's splits are the first of its entry that leave two letters.
 */
enum { C_OTHER, C_CONJ, C_PREP, C_LAM, C_ALEF, NCLASSES };
typedef struct split_list {
    uint8_t n;
    split s[8];
} split_list;
static split_list split_table[NCLASSES * NCLASSES * NCLASSES * NCLASSES];
static uint8_t letter_classes[512]; /* lead byte D8 or D9 (its low bit) and the second byte */
static pthread_once_t split_once = PTHREAD_ONCE_INIT;

static void fill_split_table(void)
{
    static const char *const letters[NCLASSES] = {"ع", "و", "ب", "ل", "ا"};
    static const char *const of_class[NCLASSES] = {"", "وف", "بك", "ل", "ا"};
    for (unsigned c = 1; c < NCLASSES; c++)
        for (const unsigned char *l = (const unsigned char *)of_class[c]; *l; l += 2)
            letter_classes[(l[0] & 1u) << 8 | l[1]] = (uint8_t)c;
    for (unsigned key = 0; key < sizeof split_table / sizeof split_table[0]; key++) {
        char w[16];
        for (unsigned k = 0, rest = key; k < 8; k++, rest /= NCLASSES)
            memcpy(w + 2 * k, letters[k < 4 ? rest % NCLASSES : C_OTHER], 2);
        split_table[key].n = (uint8_t)proclitic_splits(w, sizeof w, split_table[key].s);
    }
}

/* The class of the two bytes at w (a letter of a proclitic, or C_OTHER). */
static inline unsigned letter_class(const unsigned char *w)
{
    unsigned i = (w[0] & 0xFEu) == 0xD8u ? (w[0] & 1u) << 8 | w[1] : 0;
    return letter_classes[i];
}

/* The splits of w, shortest first: *n of the list returned. */
static inline const split *word_splits(const char *w, size_t wl, size_t *n)
{
    const unsigned char *u = (const unsigned char *)w;
    /*
     * A split of L bytes reads only its own letters, and must leave two: letter
     * k (bytes 2k, 2k + 1) matters only to splits of more than 2k bytes, so only
     * in words of at least 2k + 6 bytes. The others stay C_OTHER.
     */
    unsigned key = 0;
    if (wl >= 6) {
        key = letter_class(u);
        if (wl >= 8)
            key += NCLASSES * letter_class(u + 2);
        if (wl >= 10)
            key += NCLASSES * NCLASSES * letter_class(u + 4);
        if (wl >= 12)
            key += NCLASSES * NCLASSES * NCLASSES * letter_class(u + 6);
    }
    const split_list *l = &split_table[key];
    size_t k = 0;
    while (k < l->n && (size_t)l->s[k].len + 4 <= wl)
        k++;
    *n = k;
    return l->s;
}

/* One way to read a word: bytes to look up, their hash, code points of proclitics skipped. */
typedef struct reading {
    const char *bytes;
    size_t len;
    uint64_t hash;
    uint32_t skip;
    bool restored; /* bytes are a restored-article key in the caller's scratch, not in the text */
} reading;

#define MAX_READINGS 9 /* the word, and 8 proclitic splits or the possessive */

/* Room for the restored-article keys of one word: at most two, each at most NW_PHRASE_MAX_BYTES. */
#define RESTORED_ROOM (2 * NW_PHRASE_MAX_BYTES)

/*
 * The readings of word w: [0] the word, then its proclitic splits (shortest
 * first), or, when it has none, the word without an English 's (*possessive).
 * Restored-article keys (لل read as ل + ال; at most two, each at most wl + 4
 * and NW_PHRASE_MAX_BYTES bytes) are written one after the other at scratch:
 * *used bytes. In line: nw_lookups_prepare calls it for every token.
 */
static inline __attribute__((always_inline)) size_t
word_readings(const char *w, size_t wl, char *scratch, size_t *used, reading *r, bool *possessive)
{
    *used = 0;
    size_t n = 0;
    r[n++] = (reading){w, wl, nw_hash_table64_inline(w, wl), 0, false};
    *possessive = false;
    size_t nsplits;
    const split *splits = word_splits(w, wl, &nsplits);
    for (size_t k = 0; k < nsplits; k++) {
        size_t pl = splits[k].len;
        const char *head = w + pl;
        size_t hl = wl - pl;
        bool restored = splits[k].restore_article;
        if (restored) {
            if (hl + 4 > NW_PHRASE_MAX_BYTES)
                continue;
            char *key = scratch + *used;
            memcpy(key, "ال", 4);
            memcpy(key + 4, head, hl);
            head = key;
            hl += 4;
            *used += hl;
        }
        /*
         * The name starts after the proclitics (for لل, after both lams),
         * which are two-byte letters: pl bytes are pl / 2 code points.
         */
        r[n++] =
            (reading){head, hl, nw_hash_table64_inline(head, hl), (uint32_t)(pl / 2), restored};
    }
    if (nsplits == 0 && wl > 3 && w[wl - 2] == '\'' && w[wl - 1] == 's') {
        /* An English possessive: Baghdad's */
        r[n++] = (reading){w, wl - 2, nw_hash_table64_inline(w, wl - 2), 0, false};
        *possessive = true;
    }
    return n;
}

/* A mention's name is its text without '@': the bytes to skip in word i. */
static size_t mention_at(const char *full, size_t full_len)
{
    return (full[0] == '@' && full_len > 1) ? 1 : 0;
}

/* Bit k: reading k passes p's filter of first words. */
static inline uint32_t passing(const nw_phrases *p, const reading *r, size_t nr)
{
    uint32_t mask = 0;
    for (size_t k = 0; k < nr; k++)
        mask |= (uint32_t)may_start(p, r[k].hash) << k;
    return mask;
}

/* The best phrase at word i among its readings r (those of mask, which passed the filter). */
static int match_readings(const nw_phrases *p, const nw_text *t, const words_view *v, size_t i,
                          uint32_t at, const reading *r, size_t nr, bool possessive, uint32_t mask,
                          nw_phrase_hit *hit)
{
    const entry *best = NULL, *e = NULL;
    uint32_t best_words = 0, best_skip = 0, best_trim = 0, nw = 0;
    if (mask & 1)
        nw = longest_from(p, t, v, i, r[0].bytes, r[0].len, r[0].hash, &e);
    if (nw > 0) {
        best = e;
        best_words = nw;
    }
    if (!possessive) {
        for (size_t k = 1; k < nr; k++) {
            if (!((mask >> k) & 1))
                continue;
            nw = longest_from(p, t, v, i, r[k].bytes, r[k].len, r[k].hash, &e);
            if (nw > best_words) {
                best = e;
                best_words = nw;
                best_skip = r[k].skip;
            }
        }
    } else if (best == NULL && (mask & 2)) {
        nw = longest_from(p, t, v, i, r[1].bytes, r[1].len, r[1].hash, &e);
        if (nw == 1) {
            best = e;
            best_words = 1;
            best_trim = 2;
        }
    }
    if (best == NULL)
        return 0;
    hit->first = (uint32_t)i;
    hit->ntokens = best_words;
    hit->start = w_start(v, i) + at + best_skip;
    hit->end = w_end(v, i + best_words - 1) - best_trim;
    hit->values = p->vals + best->values;
    hit->nvalues = best->nvalues;
    return 1;
}

static int match_view(const nw_phrases *p, const nw_text *t, const words_view *v, size_t i,
                      nw_phrase_hit *hit)
{
    if (p->nentries == 0 || i >= v->n)
        return 0;
    pthread_once(&split_once, fill_split_table);
    size_t full_len;
    const char *full = word_bytes(t, w_start(v, i), w_end(v, i), &full_len);
    size_t at = mention_at(full, full_len);
    char scratch[RESTORED_ROOM];
    size_t used;
    reading r[MAX_READINGS];
    bool possessive;
    size_t nr = word_readings(full + at, full_len - at, scratch, &used, r, &possessive);
    uint32_t mask = passing(p, r, nr);
    if (mask == 0)
        return 0; /* no reading starts a phrase: most words */
    return match_readings(p, t, v, i, (uint32_t)at, r, nr, possessive, mask, hit);
}

/* ---- lookups prepared once per segmentation (lib/lookups.h) ---- */

/* A prepared token: its readings in l->keys, and its bits of the screen. */
typedef struct token_keys {
    uint32_t first; /* l->keys[first ...]: its readings */
    uint8_t nreadings, possessive, at;
    uint8_t screen; /* bit d: a reading passes the filter of l->indexes[d] */
} token_keys;

_Static_assert(NW_LOOKUPS_SCREENED <= 8, "a token's screen bits are one byte");
_Static_assert(MAX_READINGS <= 32, "the readings that pass a filter are a 32-bit mask");

struct nw_lookups {
    /* The screen, fixed at creation: table entry b has bit d set when indexes[d]'s filter has
     * bit b (modulo its size). */
    const nw_phrases *indexes[NW_LOOKUPS_SCREENED];
    size_t nindexes;
    uint8_t *table;
    uint64_t mask; /* entries - 1 */
    /* The segmentation prepared (NULL for none) and its tokens' readings. */
    const nw_segments *seg;
    token_keys *keyed;
    reading *keys;
    char *key_pool;
    size_t cap_keyed, nkeys, cap_keys, key_pool_len, cap_key_pool;
    /* One index's lookups at every token of seg (nw_lookups_memo); .ntokens 0 for none. */
    const nw_phrases *memo_index;
    nw_phrase_hit *memo_hits;
    size_t cap_memo;
};

void nw_lookups_free(nw_lookups *l)
{
    if (l == NULL)
        return;
    free(l->table);
    free(l->keyed);
    free(l->keys);
    free(l->key_pool);
    free(l->memo_hits);
    free(l);
}

nw_lookups *nw_lookups_new(const nw_phrases *const *indexes, size_t n, char *errbuf, size_t errlen)
{
    if (n > NW_LOOKUPS_SCREENED) {
        nw_set_error(errbuf, errlen, NW_EINVAL, "%zu indexes to screen; at most %d can be", n,
                     NW_LOOKUPS_SCREENED);
        return NULL;
    }
    /*
     * The filters' sizes are powers of two: a table as large as the largest
     * holds each filter's bit b at every entry congruent to b.
     */
    size_t entries = 1;
    for (size_t d = 0; d < n; d++)
        if (indexes[d]->firsts_filter.bits > entries)
            entries = indexes[d]->firsts_filter.bits;
    nw_lookups *l = calloc(1, sizeof *l);
    if (l == NULL || (l->table = calloc(entries, 1)) == NULL) {
        nw_lookups_free(l);
        nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t d = 0; d < n; d++) {
        const bit_filter *f = &indexes[d]->firsts_filter;
        l->indexes[d] = indexes[d];
        for (size_t b = 0; f->bits > 0 && b < entries; b++)
            l->table[b] |= (uint8_t)(((f->words[(b & (f->bits - 1)) >> 6] >> (b & 63)) & 1) << d);
    }
    l->nindexes = n;
    l->mask = entries - 1;
    return l;
}

/* Bit d: one of the readings r[0..nr) passes the filter of l's index d. */
static inline uint8_t screen_readings(const nw_lookups *l, const reading *r, size_t nr)
{
    uint8_t bits = 0;
    for (size_t k = 0; k < nr; k++)
        bits |= l->table[(r[k].hash >> 32) & l->mask];
    return bits;
}

nw_err nw_lookups_prepare(nw_lookups *l, const nw_text *t, nw_segments *s, char *errbuf,
                          size_t errlen)
{
    pthread_once(&split_once, fill_split_table);
    l->seg = NULL;
    l->nkeys = l->key_pool_len = 0;
    l->memo_index = NULL;
    s->lookups = NULL;
    /*
     * Restored-article readings (لل as ل + ال) are written to the pool: at
     * most two per word, each at most the word plus 4 bytes. Sized once, so
     * that the readings can point into it.
     */
    size_t pool_max = 2 * t->match_len + 8 * s->ntokens + 1;
    if (!nw_grow((void **)&l->keyed, &l->cap_keyed, s->ntokens + 1, sizeof(token_keys)) ||
        !nw_grow((void **)&l->key_pool, &l->cap_key_pool, pool_max, 1))
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->ntokens; i++) {
        size_t full_len;
        const char *full = word_bytes(t, s->tokens[i].start, s->tokens[i].end, &full_len);
        size_t at = mention_at(full, full_len);
        if (!nw_grow((void **)&l->keys, &l->cap_keys, l->nkeys + MAX_READINGS, sizeof(reading)))
            return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        reading *r = &l->keys[l->nkeys];
        bool possessive;
        size_t used;
        size_t nr = word_readings(full + at, full_len - at, l->key_pool + l->key_pool_len, &used, r,
                                  &possessive);
        l->key_pool_len += used;
        /* A hashtag's words are looked up one by one: it stays a candidate for every index. */
        uint8_t screen = (s->tokens[i].flags & NW_TOKEN_HASHTAG) ? 0xFF : screen_readings(l, r, nr);
        l->keyed[i] =
            (token_keys){(uint32_t)l->nkeys, (uint8_t)nr, possessive, (uint8_t)at, screen};
        l->nkeys += nr;
    }
    l->seg = s;
    s->lookups = l;
    return NW_OK;
}

/*
 * The lookups s was prepared by, NULL when it was not, or no longer is: a new
 * segmentation of s unlinks them, and l->seg is another segmentation once l
 * prepared that one.
 */
static inline const nw_lookups *prepared(const nw_segments *s)
{
    const nw_lookups *l = s->lookups;
    return l != NULL && l->seg == s ? l : NULL;
}

/*
 * The paths of nw_phrases_match that do more than read a memo or the filter,
 * out of line: their stack frames (scratch keys) would otherwise be set up for
 * every call, and most calls end at the filter.
 */
static __attribute__((noinline)) int match_unprepared(const nw_phrases *p, const nw_text *t,
                                                      const nw_segments *s, size_t i,
                                                      nw_phrase_hit *hit)
{
    words_view v = {(const char *)s->tokens, sizeof(nw_token), s->ntokens, true};
    return match_view(p, t, &v, i, hit);
}

/* The lookups of l's segmentation (l->seg) at token i, for the readings of mask. */
static __attribute__((noinline)) int match_prepared(const nw_lookups *l, const nw_phrases *p,
                                                    const nw_text *t, size_t i, uint32_t mask,
                                                    nw_phrase_hit *hit)
{
    const nw_segments *s = l->seg;
    words_view v = {(const char *)s->tokens, sizeof(nw_token), s->ntokens, true};
    const token_keys *tk = &l->keyed[i];
    return match_readings(p, t, &v, i, tk->at, &l->keys[tk->first], tk->nreadings, tk->possessive,
                          mask, hit);
}

/*
 * A prepared token's lookup in p: its readings against the filter, then the
 * few that pass. (Five arguments, the segmentation read from l: they all
 * travel in registers.)
 */
static __attribute__((noinline)) int match_filtered(const nw_lookups *l, const nw_phrases *p,
                                                    const nw_text *t, size_t i, nw_phrase_hit *hit)
{
    const token_keys *tk = &l->keyed[i];
    /* Most words start no phrase: the filter says so before any other work. */
    uint32_t mask = passing(p, &l->keys[tk->first], tk->nreadings);
    if (mask == 0)
        return 0;
    return match_prepared(l, p, t, i, mask, hit);
}

/* Bit of p in the tokens' screens of l; 0 when l does not screen p. */
static inline uint8_t screen_bit(const nw_phrases *p, const nw_lookups *l)
{
    for (size_t d = 0; d < l->nindexes; d++)
        if (l->indexes[d] == p)
            return (uint8_t)(1u << d);
    return 0;
}

int nw_phrases_match(const nw_phrases *p, const nw_text *t, const nw_segments *s, size_t i,
                     nw_phrase_hit *hit)
{
    const nw_lookups *l = prepared(s);
    if (l == NULL || i >= s->ntokens)
        return match_unprepared(p, t, s, i, hit);
    if (l->memo_index == p) { /* read many times per token by the recognisers: kept short */
        const nw_phrase_hit *m = &l->memo_hits[i];
        if (m->ntokens == 0)
            return 0;
        *hit = *m;
        return 1;
    }
    /* A screened index: most tokens end here, at their bit. */
    uint8_t bit = screen_bit(p, l);
    if (bit != 0 && !(l->keyed[i].screen & bit))
        return 0;
    return match_filtered(l, p, t, i, hit);
}

size_t nw_lookups_next(const nw_phrases *p, const nw_segments *s, size_t i)
{
    const nw_lookups *l = prepared(s);
    uint8_t bit = l != NULL ? screen_bit(p, l) : 0;
    if (bit == 0)
        return i;
    const token_keys *k = l->keyed;
    size_t n = s->ntokens;
    while (i < n && !(k[i].screen & bit))
        i++;
    return i;
}

nw_err nw_lookups_memo(nw_lookups *l, const nw_phrases *p, const nw_text *t, const nw_segments *s,
                       char *errbuf, size_t errlen)
{
    l->memo_index = NULL;
    if (prepared(s) != l)
        return NW_OK; /* not prepared: lookups stay direct */
    if (!nw_grow((void **)&l->memo_hits, &l->cap_memo, s->ntokens + 1, sizeof(nw_phrase_hit)))
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    nw_phrase_hit *hits = l->memo_hits;
    for (size_t i = 0, next = 0; i < s->ntokens; i++) {
        if (i > next || i == 0)
            next = nw_lookups_next(p, s, i); /* the first candidate at or after i */
        if (i < next || !nw_phrases_match(p, t, s, i, &hits[i]))
            hits[i].ntokens = 0;
    }
    l->memo_index = p;
    return NW_OK;
}

int nw_phrases_match_words(const nw_phrases *p, const nw_text *t, const nw_word *words,
                           size_t nwords, size_t i, nw_phrase_hit *hit)
{
    words_view v = {(const char *)words, sizeof(nw_word), nwords, false};
    return match_view(p, t, &v, i, hit);
}

size_t nw_phrases_hashtag_words(const nw_text *t, const nw_token *tok, nw_word *out, size_t max)
{
    size_t n = 0;
    uint32_t start = tok->start;
    bool prev_lower = false;
    for (uint32_t i = tok->start; i <= tok->end && n < max; i++) {
        unsigned char c = i < tok->end ? (unsigned char)t->display[t->display_cp[i]] : '_';
        bool upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z';
        if (c == '_' || (upper && prev_lower)) {
            if (i > start)
                out[n++] = (nw_word){start, i};
            start = c == '_' ? i + 1 : i;
        }
        prev_lower = lower;
    }
    return n;
}
