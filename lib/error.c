#include "newswatch/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *nw_err_name(nw_err err)
{
    switch (err) {
    case NW_OK:
        return "success";
    case NW_EOF:
        return "end of input";
    case NW_EINVAL:
        return "invalid input";
    case NW_ENOMEM:
        return "out of memory";
    case NW_EIO:
        return "input/output error";
    case NW_EUTF8:
        return "invalid UTF-8";
    case NW_EJSON:
        return "invalid JSON";
    case NW_ETOOBIG:
        return "too big";
    case NW_ECONFIG:
        return "bad configuration";
    }
    return "unknown error";
}

nw_err nw_set_error(char *errbuf, size_t errlen, nw_err err, const char *fmt, ...)
{
    if (errbuf != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return err;
}
