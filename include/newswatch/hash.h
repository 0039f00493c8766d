/*
 * Non-cryptographic hashes: nw_hash_fnv1a64 for what is stored or shown
 * (document ids), nw_hash_table64 for in-memory hash tables only.
 */
#ifndef NEWSWATCH_HASH_H
#define NEWSWATCH_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* 64-bit FNV-1a of buf[0..len). Stable across platforms and releases. */
uint64_t nw_hash_fnv1a64(const void *buf, size_t len);

/*
 * A fast 64-bit hash of buf[0..len) for in-memory tables (phrase indexes,
 * name lookups): eight bytes per multiply where FNV-1a needs one multiply per
 * byte, and every output bit mixed, so `h & mask` picks a slot. It may change
 * between releases: never store it.
 */
uint64_t nw_hash_table64(const void *buf, size_t len);

/* splitmix64's finaliser: a bijection that spreads every input bit over the output. */
uint64_t nw_hash_mix64(uint64_t z);

/*
 * The same two in line, for the loops that hash every word of a text (the
 * phrase indexes' readings): the call costs as much as hashing a short word.
 */
static inline uint64_t nw_hash_mix64_inline(uint64_t z)
{
    z ^= z >> 30;
    z *= 0xbf58476d1ce4e5b9ULL;
    z ^= z >> 27;
    z *= 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return z;
}

static inline uint64_t nw_hash_table64_inline(const void *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)buf;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (len * 0xff51afd7ed558ccdULL);
    uint64_t w;
    uint32_t a, b;
    /*
     * Eight bytes per multiply; the last (or only) bytes are read with loads
     * that may overlap what came before, never byte by byte: most keys are
     * single words of 4 to 16 bytes. Together the loads cover every byte.
     */
    if (len > 8) {
        size_t n = len;
        while (n > 8) {
            memcpy(&w, p, 8);
            h = (h ^ w) * 0x9fb21c651e98df25ULL;
            h ^= h >> 32;
            p += 8;
            n -= 8;
        }
        memcpy(&w, p + n - 8, 8);
        h ^= w;
    } else if (len >= 4) {
        memcpy(&a, p, 4);
        memcpy(&b, p + len - 4, 4);
        h ^= (uint64_t)a | ((uint64_t)b << 32);
    } else if (len > 0) {
        h ^= (uint64_t)p[0] | ((uint64_t)p[len / 2] << 8) | ((uint64_t)p[len - 1] << 16);
    }
    return nw_hash_mix64_inline(h);
}

#endif
