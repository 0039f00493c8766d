/*
 * Reads news documents from the producer's input forms:
 *  - a regular file: one document (nw_doc_from_text), unless its name ends in
 *    `.jsonl`, then one document per line (nw_doc_from_json);
 *  - a directory: every regular file below it, recursively, in byte order of
 *    the full path; names starting with '.' are skipped;
 *  - "-": JSON Lines from standard input.
 *
 * Bad input is reported one document at a time and reading goes on: the
 * iterator never stops at a bad document.
 *
 * Ownership: nw_input_new copies the paths. Each document returned by
 * nw_input_next belongs to the caller (nw_doc_free).
 */
#ifndef NEWSWATCH_INPUT_H
#define NEWSWATCH_INPUT_H

#include <stddef.h>

#include "newswatch/doc.h"
#include "newswatch/error.h"

/* Default limit on a document's size in bytes (librdkafka's message.max.bytes). */
#define NW_INPUT_DEFAULT_MAX_BYTES 1000000

typedef struct nw_input nw_input;

/*
 * An iterator over paths[0..npaths). max_bytes limits a file's size and a
 * JSON line's length (0: NW_INPUT_DEFAULT_MAX_BYTES). NULL when out of memory.
 */
nw_input *nw_input_new(const char *const *paths, size_t npaths, size_t max_bytes);
/* Closes any open file and frees the iterator; NULL is a no-op. */
void nw_input_free(nw_input *in);

/*
 * The next document:
 *  - NW_OK: *out is a document; origin holds where it came from ("path" or
 *    "path:line").
 *  - NW_EOF: no more input.
 *  - any other code: one input (a file, a line, an unreadable directory) was
 *    bad; origin names it, errbuf says why; call again for the next one.
 */
nw_err nw_input_next(nw_input *in, nw_doc **out, char *origin, size_t originlen, char *errbuf,
                     size_t errlen);

#endif
