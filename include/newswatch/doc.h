/*
 * The news document: what the producer publishes to `news.raw` as
 * `"schema": "newswatch.doc/1"` JSON (docs/schemas.md).
 *
 * Ownership: an nw_doc owns copies of every field it holds. Getters return
 * pointers into the document, valid until it is freed or that field is set
 * again. Fields are byte strings with a length (the body may contain U+0000);
 * every field is valid UTF-8.
 */
#ifndef NEWSWATCH_DOC_H
#define NEWSWATCH_DOC_H

#include <stddef.h>

#include "newswatch/error.h"
#include "newswatch/jsonw.h"

#define NW_DOC_SCHEMA "newswatch.doc/1"

/* Longest id accepted, in bytes. */
#define NW_DOC_MAX_ID_BYTES 512
/* A derived title is cut to at most this many bytes (then "…" is appended). */
#define NW_DOC_MAX_TITLE_BYTES 512

typedef struct nw_doc nw_doc;

typedef enum nw_doc_field {
    NW_DOC_ID,
    NW_DOC_TITLE,
    NW_DOC_BODY,
    NW_DOC_SOURCE,
    NW_DOC_URL,
    NW_DOC_PUBLISHED_AT,
    NW_DOC_LANG,
    NW_DOC_INGESTED_AT, /* when the producer read it (RFC 3339), set by the producer */
    NW_DOC_FIELD_COUNT
} nw_doc_field;

/* An empty document (every field unset). NULL when out of memory. */
nw_doc *nw_doc_new(void);
/* Frees the document; NULL is a no-op. */
void nw_doc_free(nw_doc *doc);

/* The JSON name of a field ("id", "published_at", ...). */
const char *nw_doc_field_name(nw_doc_field field);

/*
 * Sets a field to a copy of val[0..len); val NULL unsets it. Fails with
 * NW_EUTF8 when val is not valid UTF-8 (the message names the byte offset).
 */
nw_err nw_doc_set(nw_doc *doc, nw_doc_field field, const char *val, size_t len, char *errbuf,
                  size_t errlen);
/* The field's bytes (NUL-terminated for convenience) or NULL when unset. */
const char *nw_doc_get(const nw_doc *doc, nw_doc_field field, size_t *len);
/* Writes the field to w as a JSON string, null when unset (the records that quote a document). */
void nw_doc_write_field(nw_jsonw *w, const nw_doc *doc, nw_doc_field field);

/*
 * A document from a text file's bytes: id = the file name without directory
 * and without its last extension, title = the first non-empty line (trimmed,
 * cut to NW_DOC_MAX_TITLE_BYTES), body = the bytes unchanged. Fails on invalid
 * UTF-8 (naming the byte offset) and on a body with no visible text.
 */
nw_err nw_doc_from_text(const char *path, const char *bytes, size_t len, nw_doc **out, char *errbuf,
                        size_t errlen);

/*
 * A document from one JSON Lines record: an object with a string `body`
 * (required, not blank) and optional string-or-null `id`, `title`, `source`,
 * `url`, `published_at`, `lang`; other members are ignored. A missing id is
 * nw_doc_id_for_body(); a missing title is derived from the body as for files.
 */
nw_err nw_doc_from_json(const char *line, size_t len, nw_doc **out, char *errbuf, size_t errlen);

/*
 * A document from a news.raw record: like nw_doc_from_json, and the object's
 * "schema" must be NW_DOC_SCHEMA (NW_EJSON "not a newswatch.doc/1 document"
 * otherwise). One parse of the record.
 */
nw_err nw_doc_from_record(const char *value, size_t len, nw_doc **out, char *errbuf, size_t errlen);

/*
 * Fills in what a document lacks: source (when default_source is not NULL),
 * id (hash of the body) and title (first non-empty line of the body).
 */
nw_err nw_doc_complete(nw_doc *doc, const char *default_source, char *errbuf, size_t errlen);

/* The id given to a document without one: 16 lowercase hex digits of FNV-1a 64. */
void nw_doc_id_for_body(const char *body, size_t len, char out[17]);

/*
 * Encodes the document as one line of compact JSON (no newline) with
 * `"schema": "newswatch.doc/1"`, every field (null when unset) and
 * `ingested_at` (RFC 3339 UTC, may be NULL for null). The caller frees *out
 * with free().
 */
nw_err nw_doc_to_json(const nw_doc *doc, const char *ingested_at, char **out, size_t *outlen,
                      char *errbuf, size_t errlen);

#endif
