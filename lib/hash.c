#include "newswatch/hash.h"

#include <string.h>

uint64_t nw_hash_fnv1a64(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t nw_hash_mix64(uint64_t z)
{
    z ^= z >> 30;
    z *= 0xbf58476d1ce4e5b9ULL;
    z ^= z >> 27;
    z *= 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return z;
}

static uint64_t load64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static uint64_t load32(const unsigned char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

uint64_t nw_hash_table64(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (len * 0xff51afd7ed558ccdULL);
    /*
     * Eight bytes per multiply; the last (or only) bytes are read with loads
     * that may overlap what came before, never byte by byte: most keys are
     * single words of 4 to 16 bytes. Together the loads cover every byte.
     */
    if (len > 8) {
        size_t n = len;
        while (n > 8) {
            h = (h ^ load64(p)) * 0x9fb21c651e98df25ULL;
            h ^= h >> 32;
            p += 8;
            n -= 8;
        }
        h ^= load64(p + n - 8);
    } else if (len >= 4) {
        h ^= load32(p) | (load32(p + len - 4) << 32);
    } else if (len > 0) {
        h ^= (uint64_t)p[0] | ((uint64_t)p[len / 2] << 8) | ((uint64_t)p[len - 1] << 16);
    }
    return nw_hash_mix64(h);
}
