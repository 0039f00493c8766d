/*
 * Copies of strings: the one helper lib/, the programs and the sinks share.
 *
 * Ownership: the caller frees each copy with free().
 */
#ifndef NEWSWATCH_STR_H
#define NEWSWATCH_STR_H

#include <stddef.h>

/* A malloc'd copy of s[0..n) and a NUL after it (s may hold NULs; n may be 0). NULL when out of
 * memory. */
char *nw_str_copy(const char *s, size_t n);

/* A malloc'd copy of the string s; NULL when s is NULL or out of memory. */
char *nw_str_dup(const char *s);

#endif
