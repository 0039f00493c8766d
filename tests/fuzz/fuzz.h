/*
 * What the libFuzzer targets in tests/fuzz/ share (docs/fuzzing.md): a
 * NUL-terminated copy of the input, an invariant check that stops the run
 * with a message, and the paths of the default configuration files.
 *
 * Each target is built with -fsanitize=fuzzer,address,undefined: a crash,
 * a leak, an out-of-bounds access or undefined behaviour is a finding, and
 * so is a failed FZ_CHECK (an invariant of the output).
 */
#ifndef NEWSWATCH_FUZZ_H
#define NEWSWATCH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "newswatch/utf8.h"

/* The repository's root (the Makefile sets it), for config/ */
#ifndef NW_FUZZ_ROOT
#define NW_FUZZ_ROOT "."
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Stops the run (libFuzzer saves the input) when an invariant does not hold. */
#define FZ_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

/* A NUL-terminated copy of data[0..size) (the caller frees it); traps when out of memory. */
static inline char *fz_strdup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    FZ_CHECK(s != NULL);
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Is s[0..len) valid UTF-8? */
static inline int fz_utf8(const char *s, size_t len)
{
    size_t bad;
    return nw_utf8_valid(s, len, &bad);
}

/* Does s[0..len) parse as a JSON object (jansson, as a subscriber would read it)? */
static inline int fz_json_object(const char *s, size_t len)
{
    json_error_t jerr;
    json_t *v = json_loadb(s, len, JSON_ALLOW_NUL, &jerr);
    int ok = json_is_object(v);
    if (!ok)
        fprintf(stderr, "not a JSON object: %s\n", v == NULL ? jerr.text : "another type");
    json_decref(v);
    return ok;
}

/* NW_FUZZ_ROOT/config/<name>. */
static inline const char *fz_config(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/config/%s", NW_FUZZ_ROOT, name);
    return buf;
}

#endif
