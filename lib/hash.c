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
    return nw_hash_mix64_inline(z);
}

uint64_t nw_hash_table64(const void *buf, size_t len)
{
    return nw_hash_table64_inline(buf, len);
}
