#include "newswatch/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

nw_err nw_file_read(const char *path, size_t max, char **out, size_t *len, char *errbuf,
                    size_t errlen)
{
    *out = NULL;
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return nw_set_error(errbuf, errlen, NW_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 14, n = 0, got;
    char *buf = malloc(cap + 1);
    nw_err err = NW_OK;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += got;
        if (n > max) {
            err = nw_set_error(errbuf, errlen, NW_ETOOBIG, "%s: larger than %zu bytes", path, max);
            break;
        }
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (buf == NULL)
        err = nw_set_error(errbuf, errlen, NW_ENOMEM, "%s: out of memory", path);
    else if (err == NW_OK && ferror(fp))
        err = nw_set_error(errbuf, errlen, NW_EIO, "%s: read error", path);
    fclose(fp);
    if (err != NW_OK) {
        free(buf);
        return err;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return NW_OK;
}
