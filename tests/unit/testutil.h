/*
 * Small helpers the unit and integration tests share: temporary directories
 * and files.
 */
#ifndef NEWSWATCH_TESTUTIL_H
#define NEWSWATCH_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "newswatch/file.h"

/*
 * Creates a fresh directory under $TMPDIR (or /tmp), aborting when it cannot;
 * the caller removes it with tu_rmtree and frees the name.
 */
static inline char *tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    char *path = malloc(strlen(base) + 32);
    sprintf(path, "%s/nwtest.XXXXXX", base);
    if (mkdtemp(path) == NULL) {
        perror("mkdtemp");
        abort();
    }
    return path;
}

/* Writes len bytes to dir/name (creating parent directories named in name). */
static inline void tu_write(const char *dir, const char *name, const char *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    for (char *p = path + strlen(dir) + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    }
    FILE *fp = fopen(path, "wb");
    if (fp == NULL || fwrite(data, 1, len, fp) != len) {
        fprintf(stderr, "cannot write %s\n", path);
        abort();
    }
    fclose(fp);
}

static inline void tu_write_str(const char *dir, const char *name, const char *text)
{
    tu_write(dir, name, text, strlen(text));
}

/* Reads a whole file into a malloc'd buffer (NUL-terminated); NULL on failure. */
static inline char *tu_read(const char *path, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    if (nw_file_read(path, (size_t)1 << 30, &buf, &n, NULL, 0) != NW_OK)
        n = 0;
    if (len != NULL)
        *len = n;
    return buf;
}

static inline void tu_rmtree(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* The project's copy of the seed documents (tests run from the repository root). */
#define TU_SEEDS_DIR "samples/seeds"

/* The seeds: TU_NSEEDS of them, named TU_SEEDS_DIR/<name>.txt. */
#define TU_NSEEDS 5

static inline const char *tu_seed_name(size_t i)
{
    static const char *const names[TU_NSEEDS] = {
        "000_c7189a82eabcfedc", "001_36b4ca6c38791fab", "002_cf9858d6c968c6dd",
        "003_36327a287adc8b89", "004_6be975f03497fb3e",
    };
    return names[i];
}

/* Seed i's bytes, as tu_read gives them, aborting when it cannot be read. */
static inline char *tu_read_seed(size_t i, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, TU_SEEDS_DIR "/%s.txt", tu_seed_name(i));
    char *text = tu_read(path, len);
    if (text == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        abort();
    }
    return text;
}

#endif
