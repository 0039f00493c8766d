/*
 * newswatch error codes.
 *
 * Every library function that can fail returns one of these codes and, when the
 * caller passes a buffer, writes a message a user can act on into it (always
 * NUL-terminated, truncated to the buffer's size). Only main() exits.
 */
#ifndef NEWSWATCH_ERROR_H
#define NEWSWATCH_ERROR_H

#include <stddef.h>

typedef enum nw_err {
    NW_OK = 0,
    NW_EOF,     /* an iterator has nothing more: not a failure */
    NW_EINVAL,  /* bad argument or bad input document */
    NW_ENOMEM,  /* out of memory */
    NW_EIO,     /* a file could not be opened or read */
    NW_EUTF8,   /* invalid UTF-8 (the message names the byte offset) */
    NW_EJSON,   /* JSON that does not parse or lacks a required field */
    NW_ETOOBIG, /* over a configured size limit */
    NW_ECONFIG, /* bad configuration (the message names file and line) */
} nw_err;

/* A short constant name for an error code, such as "invalid UTF-8". */
const char *nw_err_name(nw_err err);

/*
 * Writes a printf-style message into errbuf (errlen bytes). Either may be
 * NULL/0, then nothing is written. Returns err, so callers can write
 * `return nw_set_error(buf, len, NW_EIO, "cannot open %s", path);`.
 */
nw_err nw_set_error(char *errbuf, size_t errlen, nw_err err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
