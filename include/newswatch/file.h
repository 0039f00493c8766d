/* Reading whole configuration files. */
#ifndef NEWSWATCH_FILE_H
#define NEWSWATCH_FILE_H

#include <stddef.h>

#include "newswatch/error.h"

/*
 * Reads the file at path into a malloc'd buffer (NUL-terminated; *len does
 * not count the NUL) that the caller frees. Files over max bytes are
 * NW_ETOOBIG. Messages start with the path.
 */
nw_err nw_file_read(const char *path, size_t max, char **out, size_t *len, char *errbuf,
                    size_t errlen);

#endif
