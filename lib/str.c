#include "newswatch/str.h"

#include <stdlib.h>
#include <string.h>

char *nw_str_copy(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d == NULL)
        return NULL;
    if (n > 0)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *nw_str_dup(const char *s)
{
    return s != NULL ? nw_str_copy(s, strlen(s)) : NULL;
}
