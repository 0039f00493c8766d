/*
 * Reads news documents from the producer's input forms:
 *  - a regular file: one document (nw_doc_from_text), unless its name ends in
 *    `.jsonl`, then one document per line (nw_doc_from_json);
 *  - a directory: every regular file below it, recursively, in byte order of
 *    the full path; names starting with '.' are skipped;
 *  - "-": JSON Lines from standard input.
 * Streams are read as their lines arrive (a pipe's line is returned as soon
 * as it is written, not when a block fills), and nw_input_new_follow follows
 * one JSON Lines file as it grows, like `tail -F`: across rotation (the path
 * now names another file: the rest of the old one is read, then the new one
 * from its start) and truncation (read again from its start), waiting for
 * a file that does not exist yet. Those events are logged (newswatch/log.h).
 *
 * Bad input is reported one document at a time and reading goes on: the
 * iterator never stops at a bad document.
 *
 * Ownership: nw_input_new copies the paths. Each document returned by
 * nw_input_next belongs to the caller (nw_doc_free).
 */
#ifndef NEWSWATCH_INPUT_H
#define NEWSWATCH_INPUT_H

#include <signal.h>
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
/* An iterator over the JSON Lines file at path, followed as it grows (see above). */
nw_input *nw_input_new_follow(const char *path, size_t max_bytes);

/*
 * An iterator over a drop folder: the files in dir now, in name order, then
 * each file that appears (written then closed, or moved in: complete files
 * only; names starting with '.' are skipped), read as above (.jsonl: one
 * document per line). It runs until a stop (nw_input_set_stop). NULL with a
 * message when dir cannot be watched.
 */
nw_input *nw_input_new_watch(const char *dir, size_t max_bytes, char *errbuf, size_t errlen);

/*
 * --watch: fn(path, arg) is called when every document (and error) of a file
 * has been returned, before the next file is begun: the caller delivers them
 * and then moves the file away (a file left in place is not read again by
 * this iterator, but is by the next one).
 */
void nw_input_on_file_done(nw_input *in, void (*fn)(const char *path, void *arg), void *arg);

/*
 * Reading stops once *flag is non-zero (a signal handler's flag): the lines
 * already read whole are still returned, then NW_EOF; nothing more is read
 * and no further file begun. Waits for input are at most 200 ms long, so a
 * stop is heard without more input. flag must outlive the iterator.
 */
void nw_input_set_stop(nw_input *in, const volatile sig_atomic_t *flag);

/* After a stop: the bytes of a line read only in part (not returned as a document). */
size_t nw_input_unfinished_bytes(const nw_input *in);

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
