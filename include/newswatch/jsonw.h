/*
 * A streaming JSON writer for the records newswatch produces at every
 * document (enriched, match): it appends compact JSON to one growing buffer,
 * with no tree of values in between. Parsing stays with jansson; this only
 * writes, and writes what jansson's json_dumps(JSON_COMPACT) would for the
 * same values (UTF-8 left as is; '"', '\\' and control characters escaped).
 *
 * Ownership: the writer owns its buffer; nw_jsonw_finish hands out a pointer
 * into it that stays valid until the next nw_jsonw_reset or nw_jsonw_free.
 * Strings must be valid UTF-8 (the writer does not check: it is fed text
 * that nw_normalize and the JSON parser already validated).
 *
 * Commas between members and elements are the writer's job: call
 * nw_jsonw_key before every value of an object. An allocation failure is
 * remembered and reported by nw_jsonw_finish, so callers need not check
 * every call.
 */
#ifndef NEWSWATCH_JSONW_H
#define NEWSWATCH_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "newswatch/error.h"

typedef struct nw_jsonw nw_jsonw;

/* A new, empty writer; NULL when out of memory. */
nw_jsonw *nw_jsonw_new(void);
/* Frees the writer and its buffer; NULL is a no-op. */
void nw_jsonw_free(nw_jsonw *w);
/* Empties the writer for the next record, keeping its buffer. */
void nw_jsonw_reset(nw_jsonw *w);

void nw_jsonw_object_begin(nw_jsonw *w);
void nw_jsonw_object_end(nw_jsonw *w);
void nw_jsonw_array_begin(nw_jsonw *w);
void nw_jsonw_array_end(nw_jsonw *w);
/* The key of the next member of the current object (a NUL-terminated string). */
void nw_jsonw_key(nw_jsonw *w, const char *key);
/* A string of len bytes; s == NULL writes null. */
void nw_jsonw_string(nw_jsonw *w, const char *s, size_t len);
/* A NUL-terminated string; NULL writes null. */
void nw_jsonw_cstring(nw_jsonw *w, const char *s);
void nw_jsonw_int(nw_jsonw *w, int64_t v);
void nw_jsonw_bool(nw_jsonw *w, bool v);
void nw_jsonw_null(nw_jsonw *w);
/*
 * Copies the members of a JSON object given as text (members_json, len bytes,
 * such as `{"a":1,"b":[2]}`) into the current object. The text is parsed
 * first: NW_EINVAL with a message when it is not a JSON object or when one of
 * its keys is in taken (a NULL-terminated list of keys the record already
 * has); the writer is then unchanged.
 */
nw_err nw_jsonw_members(nw_jsonw *w, const char *members_json, size_t len, const char *const *taken,
                        char *errbuf, size_t errlen);
/*
 * The JSON written since the last reset, NUL-terminated (*out, *len without
 * the NUL). NW_ENOMEM when an allocation failed on the way; NW_EINVAL when
 * an object or array is still open.
 */
nw_err nw_jsonw_finish(nw_jsonw *w, const char **out, size_t *len, char *errbuf, size_t errlen);

/* As nw_jsonw_finish, but *out is a malloc'd copy the caller frees (NULL on error). */
nw_err nw_jsonw_finish_copy(nw_jsonw *w, char **out, size_t *len, char *errbuf, size_t errlen);

/*
 * Appends the members of extra_json (NULL: none; checked against taken as
 * nw_jsonw_members does), closes the object w has open, and finishes with a
 * copy: the end of an encoder that returns one record as a string.
 */
nw_err nw_jsonw_end_object_copy(nw_jsonw *w, const char *extra_json, const char *const *taken,
                                char **out, size_t *len, char *errbuf, size_t errlen);

#endif
