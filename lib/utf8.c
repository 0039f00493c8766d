#include "newswatch/utf8.h"

#include <stdint.h>
#include <string.h>

size_t nw_utf8_sequence(const char *buf, size_t avail)
{
    const unsigned char *p = (const unsigned char *)buf;
    unsigned char c = p[0];

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        if (avail < 2 || (p[1] & 0xC0) != 0x80)
            return 0;
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        /* E0: no overlongs (A0..BF); ED: no surrogates (80..9F). */
        unsigned char lo = (c == 0xE0) ? 0xA0 : 0x80;
        unsigned char hi = (c == 0xED) ? 0x9F : 0xBF;
        if (avail < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        /* F0: no overlongs (90..BF); F4: nothing above U+10FFFF (80..8F). */
        unsigned char lo = (c == 0xF0) ? 0x90 : 0x80;
        unsigned char hi = (c == 0xF4) ? 0x8F : 0xBF;
        if (avail < 4 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        return 4;
    }
    return 0; /* continuation byte, C0/C1 or F5..FF */
}

bool nw_utf8_valid(const char *buf, size_t len, size_t *bad_offset)
{
    const unsigned char *start = (const unsigned char *)buf;
    const unsigned char *p = start;
    const unsigned char *end = start + len;

    while (p < end) {
        unsigned char c = *p;
        if (c < 0x80) {
            /* After an ASCII byte, try eight at a time (a run of Latin text, markup). */
            p++;
            while (end - p >= 8) {
                uint64_t w;
                __builtin_memcpy(&w, p, 8);
                if (w & 0x8080808080808080ULL)
                    break;
                p += 8;
            }
            continue;
        }
        /* Two-byte sequences (Arabic, Latin-1) without the general checks. */
        if (c >= 0xC2 && c <= 0xDF && end - p >= 2 && (p[1] & 0xC0) == 0x80) {
            p += 2;
            continue;
        }
        size_t n = nw_utf8_sequence((const char *)p, (size_t)(end - p));
        if (n == 0) {
            if (bad_offset != NULL)
                *bad_offset = (size_t)(p - start);
            return false;
        }
        p += n;
    }
    return true;
}

size_t nw_utf8_truncate(const char *buf, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    /* Step back over continuation bytes to the start of the cut sequence. */
    while (n > 0 && ((unsigned char)buf[n] & 0xC0) == 0x80)
        n--;
    return n;
}

void nw_utf8_mend(char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = nw_utf8_sequence(s + i, n - i);
        if (k == 0)
            s[i++] = '?';
        else
            i += k;
    }
}
