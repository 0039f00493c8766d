/* Internal to lib/: growing arrays that are reused across documents. */
#ifndef NEWSWATCH_LIB_GROW_H
#define NEWSWATCH_LIB_GROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

/*
 * Makes room for need elements of size bytes in *buf (capacity *cap,
 * elements), doubling from 64. Returns false, leaving *buf as it was, when
 * out of memory.
 */
static inline bool nw_grow(void **buf, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap > 0 ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    void *nb = realloc(*buf, ncap * size);
    if (nb == NULL)
        return false;
    *buf = nb;
    *cap = ncap;
    return true;
}

#endif
