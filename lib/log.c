#include "newswatch/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "newswatch/when.h"
#include "newswatch/utf8.h"

/* A line's bytes at most, '\n' included; a longer message is cut. */
#define LINE_MAX_BYTES 8192
/* Room kept at the end of a line for what closes it ("\"}\n" and the NUL). */
#define LINE_CLOSE_BYTES 8

static struct {
    char program[64];
    nw_log_format format;
    nw_log_level level;
} cfg = {"newswatch", NW_LOG_TEXT, NW_LOG_INFO};

static const char *const level_upper[] = {"ERROR", "WARN", "INFO", "DEBUG"};
static const char *const level_lower[] = {"error", "warn", "info", "debug"};

void nw_log_setup(const char *program, nw_log_format format, nw_log_level level)
{
    snprintf(cfg.program, sizeof cfg.program, "%s", program != NULL ? program : "newswatch");
    cfg.format = format;
    cfg.level = level;
}

nw_err nw_log_setup_from_conf(const nw_kvconf *conf, const char *program, char *errbuf,
                              size_t errlen)
{
    nw_log_format format = NW_LOG_TEXT;
    nw_log_level level = NW_LOG_INFO;
    for (size_t i = 0; conf != NULL && i < nw_kvconf_count(conf); i++) {
        const nw_kvconf_entry *e = nw_kvconf_at(conf, i);
        if (strcmp(e->section, "log") != 0)
            continue;
        char why[256];
        nw_err err;
        if (strcmp(e->key, "format") == 0)
            err = nw_log_format_parse(e->value, &format, why, sizeof why);
        else if (strcmp(e->key, "level") == 0)
            err = nw_log_level_parse(e->value, &level, why, sizeof why);
        else
            err = nw_set_error(why, sizeof why, NW_ECONFIG,
                               "unknown key '%s' in [log] (known: format, level)", e->key);
        if (err != NW_OK)
            return nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: %s", e->file, e->line, why);
    }
    nw_log_setup(program, format, level);
    return NW_OK;
}

nw_err nw_log_level_parse(const char *s, nw_log_level *out, char *errbuf, size_t errlen)
{
    for (int i = NW_LOG_ERROR; i <= NW_LOG_DEBUG; i++)
        if (strcasecmp(s, level_lower[i]) == 0) {
            *out = (nw_log_level)i;
            return NW_OK;
        }
    if (strcasecmp(s, "warning") == 0) {
        *out = NW_LOG_WARN;
        return NW_OK;
    }
    return nw_set_error(errbuf, errlen, NW_EINVAL,
                        "'%s' is not a log level (error, warn, info or debug)", s);
}

nw_err nw_log_format_parse(const char *s, nw_log_format *out, char *errbuf, size_t errlen)
{
    if (strcmp(s, "text") == 0 || strcmp(s, "json") == 0) {
        *out = s[0] == 't' ? NW_LOG_TEXT : NW_LOG_JSON;
        return NW_OK;
    }
    return nw_set_error(errbuf, errlen, NW_EINVAL, "'%s' is not a log format (text or json)", s);
}

bool nw_log_enabled(nw_log_level level)
{
    return level <= cfg.level;
}

/* A line being written: content stops at limit, what closes it may go on to cap. */
typedef struct line {
    char *p;
    size_t n, limit, cap;
} line;

/* Appends len bytes whole, or nothing when they would pass the limit (close: the cap). */
static bool put(line *l, const char *s, size_t len, bool close)
{
    size_t end = close ? l->cap - 1 : l->limit;
    if (l->n + len > end)
        return false;
    memcpy(l->p + l->n, s, len);
    l->n += len;
    return true;
}

static bool put_str(line *l, const char *s)
{
    return put(l, s, strlen(s), false);
}

/* The message's bytes, one line: control characters become ' ', invalid UTF-8 '?'. */
static void put_text(line *l, const char *s)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        size_t k = nw_utf8_sequence(s + i, len - i);
        bool ok;
        if (k == 0) {
            ok = put(l, "?", 1, false);
            k = 1;
        } else if (k == 1 && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)) {
            ok = put(l, " ", 1, false);
        } else {
            ok = put(l, s + i, k, false);
        }
        if (!ok)
            return;
        i += k;
    }
}

/* A JSON string: '"' and '\\' escaped, control characters as \uXXXX, invalid UTF-8 as U+FFFD. */
static void put_json(line *l, const char *s)
{
    put(l, "\"", 1, false);
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        size_t k = nw_utf8_sequence(s + i, len - i);
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        bool ok;
        if (k == 0) {
            ok = put(l, "\\ufffd", 6, false);
            k = 1;
        } else if (k == 1 && (c == '"' || c == '\\')) {
            esc[0] = '\\';
            esc[1] = (char)c;
            ok = put(l, esc, 2, false);
        } else if (k == 1 && (c < 0x20 || c == 0x7f)) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            ok = put(l, esc, 6, false);
        } else {
            ok = put(l, s + i, k, false);
        }
        if (!ok)
            break;
        i += k;
    }
    put(l, "\"", 1, true);
}

size_t nw_log_format_line(char *out, size_t cap, const char *when, nw_log_level level,
                          const char *component, const char *message)
{
    if (cap < 2 * LINE_CLOSE_BYTES) {
        if (cap > 0)
            out[0] = '\0';
        return 0;
    }
    if (level < NW_LOG_ERROR || level > NW_LOG_DEBUG)
        level = NW_LOG_ERROR;
    line l = {out, 0, cap - LINE_CLOSE_BYTES, cap};
    if (cfg.format == NW_LOG_JSON) {
        put_str(&l, "{\"time\":\"");
        put_str(&l, when);
        put_str(&l, "\",\"level\":\"");
        put_str(&l, level_lower[level]);
        put_str(&l, "\",\"program\":");
        put_json(&l, cfg.program);
        if (component != NULL) {
            put_str(&l, ",\"component\":");
            put_json(&l, component);
        }
        put_str(&l, ",\"message\":");
        put_json(&l, message);
        put(&l, "}", 1, true);
    } else {
        put_str(&l, when);
        put_str(&l, " ");
        put_str(&l, level_upper[level]);
        put_str(&l, " ");
        put_text(&l, cfg.program);
        put_str(&l, ": ");
        if (component != NULL) {
            put_text(&l, component);
            put_str(&l, ": ");
        }
        put_text(&l, message);
    }
    put(&l, "\n", 1, true);
    out[l.n] = '\0';
    return l.n;
}

void nw_logv(nw_log_level level, const char *component, const char *fmt, va_list ap)
{
    if (!nw_log_enabled(level))
        return;
    char message[LINE_MAX_BYTES], when[32], buf[LINE_MAX_BYTES + 256];
    vsnprintf(message, sizeof message, fmt, ap);
    nw_time_now_rfc3339(when);
    size_t n = nw_log_format_line(buf, sizeof buf, when, level, component, message);
    for (size_t done = 0; done < n;) {
        ssize_t w = write(STDERR_FILENO, buf + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        done += (size_t)w;
    }
}

void nw_log(nw_log_level level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nw_logv(level, component, fmt, ap);
    va_end(ap);
}
