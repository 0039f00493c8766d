/*
 * Strict UTF-8 validation (RFC 3629): rejects overlong forms, surrogates
 * (U+D800..U+DFFF), code points above U+10FFFF and truncated sequences.
 * Payloads are pointer plus length; NUL bytes are valid U+0000.
 */
#ifndef NEWSWATCH_UTF8_H
#define NEWSWATCH_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Returns true when buf[0..len) is valid UTF-8. Otherwise returns false and,
 * when bad_offset is not NULL, stores the byte offset of the first byte of the
 * first invalid or truncated sequence.
 */
bool nw_utf8_valid(const char *buf, size_t len, size_t *bad_offset);

/*
 * The length in bytes (1 to 4) of the valid sequence that starts buf, of
 * which avail bytes (at least 1) are there; 0 when it is invalid or
 * truncated. For decoders that validate as they go.
 */
size_t nw_utf8_sequence(const char *buf, size_t avail);

/*
 * The length of the longest prefix of buf[0..len) that is at most max bytes
 * and does not end inside a multi-byte sequence. buf must be valid UTF-8.
 */
size_t nw_utf8_truncate(const char *buf, size_t len, size_t max);

/*
 * Makes the string s valid UTF-8 in place: each byte that does not begin a
 * whole valid sequence becomes '?'. For messages that quote input as it is
 * (libxml2's, jansson's), which may hold or cut a character.
 */
void nw_utf8_mend(char *s);

#endif
