/*
 * Configuration files of `key = value` lines, as used by both programs'
 * `-c FILE` (docs/configuration.md):
 *
 *     # a comment (whole lines only: values may contain '#')
 *     bootstrap.servers = 127.0.0.1:9092     <- before any section: [kafka]
 *     [producer]
 *     max.document.bytes = 1000000
 *
 * An indented line without '=' continues the previous value (joined with
 * one space), for long values such as rule expressions.
 *
 * Values may name environment variables: ${NAME} is replaced with its value,
 * ${NAME:-default} with its value or, when it is unset or empty, with
 * default; $$ is a '$' (another '$' stays as it is). An unset NAME without
 * a default is an error naming the file and line: secrets need not sit in
 * the file.
 *
 * Sections group keys; keys before the first section belong to "kafka", whose
 * keys are librdkafka properties. Which sections and keys are valid is for
 * the program to decide: it reports problems with nw_kvconf_entry's file and
 * line.
 *
 * Ownership: an nw_kvconf owns its entries; pointers returned by
 * nw_kvconf_at stay valid until nw_kvconf_free.
 */
#ifndef NEWSWATCH_KVCONF_H
#define NEWSWATCH_KVCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "newswatch/error.h"

typedef struct nw_kvconf nw_kvconf;

typedef struct nw_kvconf_entry {
    const char *file;    /* the file name as given */
    unsigned line;       /* 1-based line number */
    const char *section; /* "kafka" for keys before the first [section] */
    const char *key;
    const char *value; /* may be empty */
} nw_kvconf_entry;

/*
 * Parses text[0..len) named `file` (used in messages). On a syntax error
 * returns NW_ECONFIG with "file:line: problem" in errbuf.
 */
nw_err nw_kvconf_new(const char *file, const char *text, size_t len, nw_kvconf **out, char *errbuf,
                     size_t errlen);
/* Reads and parses the file at path (NW_EIO when it cannot be read). */
nw_err nw_kvconf_new_from_file(const char *path, nw_kvconf **out, char *errbuf, size_t errlen);
/* Frees the configuration; NULL is a no-op. */
void nw_kvconf_free(nw_kvconf *conf);

/*
 * Parses a whole decimal number from lo to hi (a configuration value or an
 * option's argument): digits only, with a leading '-' only when lo < 0.
 * Returns true and sets *out when s is one.
 */
bool nw_parse_long(const char *s, long lo, long hi, long *out);

/*
 * Is every section of conf one of known (a NULL-terminated list)? A
 * misspelt section would otherwise be ignored (a [sink] turns paging off):
 * NW_ECONFIG with "file:line: unknown section [sink] (did you mean
 * [sinks]? known: ...)" for the first one that is not.
 */
nw_err nw_kvconf_check_sections(const nw_kvconf *conf, const char *const *known, char *errbuf,
                                size_t errlen);

/*
 * The candidate (a NULL-terminated list) closest to word by edit distance,
 * when it is close enough to be a likely misspelling; NULL otherwise. For
 * "did you mean" in messages about unknown keys and sections.
 */
const char *nw_kvconf_suggest(const char *word, const char *const *candidates);

/*
 * " (did you mean 'x'?)" for an unknown key when one of candidates is close
 * (nw_kvconf_suggest), else ""; written to buf, which it returns.
 */
const char *nw_kvconf_did_you_mean(const char *word, const char *const *candidates, char *buf,
                                   size_t len);

size_t nw_kvconf_count(const nw_kvconf *conf);
/* The i-th entry in file order (i < nw_kvconf_count). */
const nw_kvconf_entry *nw_kvconf_at(const nw_kvconf *conf, size_t i);

/*
 * Splits a command-line "key=value" (as given to -X) into key and value
 * copies the caller frees. NW_EINVAL with a message when there is no '=' or
 * the key is empty.
 */
nw_err nw_kvconf_split(const char *arg, char **key, char **value, char *errbuf, size_t errlen);

#endif
