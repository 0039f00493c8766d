#include "newswatch/fingerprint.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#endif

#include "newswatch/hash.h"

#if NW_FINGERPRINT_SHINGLE < 1 || NW_FINGERPRINT_SHINGLE > 8
#error "NW_FINGERPRINT_SHINGLE must be 1..8"
#endif

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL
/* The seed of the MinHash functions' parameters: changing it changes every fingerprint. */
#define MINHASH_SEED 0x6e77667031ULL /* "nwfp1" */
/* The hash every number token gets in shingles. */
#define NUMBER_HASH 0x4e554d4245522121ULL /* "NUMBER!!" */

static uint64_t rotl64(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64 - r));
}

/* The hash of a shingle: its n word hashes, oldest first (ring[first], ...). */
static uint64_t shingle_hash(const uint64_t *ring, size_t first, size_t n)
{
    uint64_t h = 0;
    for (size_t j = 0; j < n; j++)
        h = rotl64(h, 21) ^ ring[(first + j) % NW_FINGERPRINT_SHINGLE];
    return nw_hash_mix64(h + n);
}

/*
 * The K hash functions: h_i(x) = the high 32 bits of a_i * x + b_i (mod 2^64),
 * a_i odd: multiply-shift, applied to an already mixed 64-bit shingle hash.
 */
typedef struct minhash_params {
    uint64_t a[NW_MINHASH_K], b[NW_MINHASH_K];
} minhash_params;

static void params_init(minhash_params *p)
{
    uint64_t state = MINHASH_SEED;
    for (size_t i = 0; i < NW_MINHASH_K; i++) {
        state += 0x9e3779b97f4a7c15ULL;
        p->a[i] = nw_hash_mix64(state) | 1;
        state += 0x9e3779b97f4a7c15ULL;
        p->b[i] = nw_hash_mix64(state);
    }
}

/* Folds x into the minima (each below 2^32, kept in 64 bits for the AVX2 path). */
static void minhash_add(const minhash_params *p, uint64_t *mh, uint64_t x)
{
    for (size_t i = 0; i < NW_MINHASH_K; i++) {
        uint64_t v = (p->a[i] * x + p->b[i]) >> 32;
        if (v < mh[i])
            mh[i] = v;
    }
}

#ifdef HAVE_AVX2_PATH
_Static_assert(NW_MINHASH_K % 4 == 0, "the AVX2 path takes four hash functions at a time");

/*
 * The same, four hash functions at a time: AVX2 multiplies 32 by 32 bits,
 * so the upper half of a * x + b (mod 2^64) is put together from the parts
 * that reach it: the upper half of a_lo x_lo + b, plus the lower halves of
 * a_lo x_hi and a_hi x_lo, mod 2^32. Every minimum is the scalar one (the
 * seeds' fingerprints are pinned by a test).
 */
__attribute__((target("avx2"))) static void minhash_add_avx2(const minhash_params *p, uint64_t *mh,
                                                             uint64_t x)
{
    const __m256i xlo = _mm256_set1_epi64x((long long)(x & 0xFFFFFFFFu));
    const __m256i xhi = _mm256_set1_epi64x((long long)(x >> 32));
    const __m256i low32 = _mm256_set1_epi64x(0xFFFFFFFFLL);
    for (size_t i = 0; i < NW_MINHASH_K; i += 4) {
        __m256i a = _mm256_loadu_si256((const __m256i *)&p->a[i]);
        __m256i b = _mm256_loadu_si256((const __m256i *)&p->b[i]);
        __m256i high = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epu32(a, xlo), b), 32);
        __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(a, xhi),
                                         _mm256_mul_epu32(_mm256_srli_epi64(a, 32), xlo));
        __m256i v = _mm256_and_si256(_mm256_add_epi64(high, cross), low32);
        __m256i m = _mm256_loadu_si256((const __m256i *)&mh[i]);
        /* Values below 2^32: the signed comparison is the unsigned one. */
        __m256i smaller = _mm256_cmpgt_epi64(m, v);
        _mm256_storeu_si256((__m256i *)&mh[i], _mm256_blendv_epi8(m, v, smaller));
    }
}
#endif

/* Folds x into the minima with the fastest instructions the processor has. */
static void minhash_fold(const minhash_params *p, uint64_t *mh, uint64_t x, bool avx2)
{
#ifdef HAVE_AVX2_PATH
    if (avx2) {
        minhash_add_avx2(p, mh, x);
        return;
    }
#endif
    (void)avx2;
    minhash_add(p, mh, x);
}

void nw_fingerprint_compute(const nw_text *t, const nw_segments *s, nw_fingerprint *out)
{
    minhash_params p;
    params_init(&p);
    uint64_t exact = FNV_OFFSET;
    uint64_t ring[NW_FINGERPRINT_SHINGLE];
    size_t nwords = 0; /* shingle words seen (URL words skipped) */
    uint32_t nshingles = 0;
    uint64_t mh[NW_MINHASH_K];
    for (size_t i = 0; i < NW_MINHASH_K; i++)
        mh[i] = UINT32_MAX;
#ifdef HAVE_AVX2_PATH
    bool avx2 = __builtin_cpu_supports("avx2") && getenv("NW_FINGERPRINT_PORTABLE") == NULL;
#else
    bool avx2 = false;
#endif

    for (size_t i = 0; i < s->ntokens; i++) {
        const nw_token *tok = &s->tokens[i];
        const unsigned char *w = (const unsigned char *)t->match + t->match_cp[tok->start];
        size_t len = t->match_cp[tok->end] - t->match_cp[tok->start];
        if (i > 0) {
            exact ^= ' ';
            exact *= FNV_PRIME;
        }
        uint64_t wh = FNV_OFFSET;
        for (size_t b = 0; b < len; b++) {
            exact ^= w[b];
            exact *= FNV_PRIME;
            wh ^= w[b];
            wh *= FNV_PRIME;
        }
        if (tok->flags & NW_TOKEN_IN_URL)
            continue;
        ring[nwords % NW_FINGERPRINT_SHINGLE] = tok->kind == NW_TOKEN_NUMBER ? NUMBER_HASH : wh;
        nwords++;
        if (nwords >= NW_FINGERPRINT_SHINGLE) {
            minhash_fold(
                &p, mh, shingle_hash(ring, nwords % NW_FINGERPRINT_SHINGLE, NW_FINGERPRINT_SHINGLE),
                avx2);
            if (nshingles < UINT32_MAX)
                nshingles++;
        }
    }
    /* A text shorter than a shingle is one shingle of all its words. */
    if (nwords > 0 && nwords < NW_FINGERPRINT_SHINGLE) {
        minhash_fold(&p, mh, shingle_hash(ring, 0, nwords), avx2);
        nshingles = 1;
    }
    for (size_t i = 0; i < NW_MINHASH_K; i++)
        out->minhash[i] = (uint32_t)mh[i];
    out->exact = exact;
    out->nshingles = nshingles;
}

static unsigned agreeing_slots(const nw_fingerprint *a, const nw_fingerprint *b)
{
    unsigned n = 0;
    for (size_t i = 0; i < NW_MINHASH_K; i++)
        n += a->minhash[i] == b->minhash[i];
    return n;
}

double nw_fingerprint_similarity(const nw_fingerprint *a, const nw_fingerprint *b)
{
    if (a->nshingles == 0 || b->nshingles == 0)
        return a->exact == b->exact ? 1.0 : 0.0;
    return (double)agreeing_slots(a, b) / NW_MINHASH_K;
}

int nw_fingerprint_is_duplicate(const nw_fingerprint *a, const nw_fingerprint *b)
{
    if (a->exact == b->exact)
        return 1;
    if (a->nshingles < NW_FINGERPRINT_MIN_SHINGLES || b->nshingles < NW_FINGERPRINT_MIN_SHINGLES)
        return 0;
    return nw_fingerprint_similarity(a, b) >= NW_FINGERPRINT_THRESHOLD;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void put_le(unsigned char *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void nw_fingerprint_encode(const nw_fingerprint *f, char *out, size_t outlen)
{
    if (outlen < NW_FINGERPRINT_TEXT_SIZE) {
        if (outlen > 0)
            out[0] = '\0';
        return;
    }
    unsigned char bytes[NW_FINGERPRINT_BYTES];
    put_le(bytes, f->exact, 8);
    put_le(bytes + 8, f->nshingles, 4);
    for (size_t i = 0; i < NW_MINHASH_K; i++)
        put_le(bytes + 12 + 4 * i, f->minhash[i], 4);

    size_t o = sizeof NW_FINGERPRINT_PREFIX - 1;
    memcpy(out, NW_FINGERPRINT_PREFIX, o);
    for (size_t i = 0; i < NW_FINGERPRINT_BYTES; i += 3) {
        size_t n = NW_FINGERPRINT_BYTES - i < 3 ? NW_FINGERPRINT_BYTES - i : 3;
        uint32_t v = (uint32_t)bytes[i] << 16;
        if (n > 1)
            v |= (uint32_t)bytes[i + 1] << 8;
        if (n > 2)
            v |= bytes[i + 2];
        for (size_t c = 0; c <= n; c++)
            out[o++] = b64url[(v >> (18 - 6 * c)) & 63];
    }
    out[o] = '\0';
}

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

nw_err nw_fingerprint_decode(const char *s, size_t len, nw_fingerprint *out, char *errbuf,
                             size_t errlen)
{
    const size_t plen = sizeof NW_FINGERPRINT_PREFIX - 1;
    if (s == NULL)
        len = 0;
    if (len < plen || memcmp(s, NW_FINGERPRINT_PREFIX, plen) != 0) {
        size_t show = 0;
        while (show < len && show < 16 && s[show] != ':')
            show++;
        return nw_set_error(errbuf, errlen, NW_EINVAL,
                            "not a fingerprint of this version: it starts with '%.*s', "
                            "expected '%s'",
                            (int)show, show > 0 ? s : "", NW_FINGERPRINT_PREFIX);
    }
    if (len != NW_FINGERPRINT_TEXT_LEN)
        return nw_set_error(errbuf, errlen, NW_EINVAL,
                            "a fingerprint has %zu characters, this one has %zu",
                            (size_t)NW_FINGERPRINT_TEXT_LEN, len);

    unsigned char bytes[NW_FINGERPRINT_BYTES];
    size_t o = 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = plen; i < len; i++) {
        int v = b64url_value(s[i]);
        if (v < 0)
            return nw_set_error(errbuf, errlen, NW_EINVAL,
                                "fingerprint: character %zu (0x%02x) is not base64url", i,
                                (unsigned)(unsigned char)s[i]);
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bytes[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        return nw_set_error(errbuf, errlen, NW_EINVAL,
                            "fingerprint: character %zu has bits set past the data", len - 1);

    out->exact = get_le(bytes, 8);
    out->nshingles = (uint32_t)get_le(bytes + 8, 4);
    for (size_t i = 0; i < NW_MINHASH_K; i++)
        out->minhash[i] = (uint32_t)get_le(bytes + 12 + 4 * i, 4);
    return NW_OK;
}
