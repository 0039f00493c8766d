/*
 * The programs' log: one line per message on stderr, each with a time stamp
 * (RFC 3339, UTC, milliseconds) and a level, as text or as JSON Lines.
 *
 *   text  2021-01-21T07:30:00.123Z INFO newswatch-consumer: enrich: assigned 3 partition(s)
 *   json  {"time":"2021-01-21T07:30:00.123Z","level":"info","program":"newswatch-consumer",
 *          "component":"kafka","message":"..."}
 *
 * component is optional (NULL: none): "kafka" for librdkafka's lines, "sink"
 * for the alert sinks'. In text it is written as "<component>: " before the
 * message. Messages are bytes: invalid UTF-8 and control characters are
 * escaped in JSON and replaced with '?' in text, so a line is always one
 * line. Each line is written with one write(2), so lines from several
 * threads never mix.
 *
 * Configuration is process-wide and set once by main (nw_log_setup) before
 * threads start; the default is text at info for "newswatch". nw_log may be
 * called from any thread, never from a signal handler.
 */
#ifndef NEWSWATCH_LOG_H
#define NEWSWATCH_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "newswatch/error.h"
#include "newswatch/kvconf.h"

typedef enum nw_log_level {
    NW_LOG_ERROR, /* the program or a stage stops, or data is lost */
    NW_LOG_WARN,  /* something is wrong and handled: a retry, a dead letter, a wait */
    NW_LOG_INFO,  /* what the program does: start, assignment, reload, stop */
    NW_LOG_DEBUG  /* details for a developer; librdkafka's debug output */
} nw_log_level;

typedef enum nw_log_format { NW_LOG_TEXT, NW_LOG_JSON } nw_log_format;

/* program is copied (at most 63 bytes). Lines above level are not written. */
void nw_log_setup(const char *program, nw_log_format format, nw_log_level level);

/*
 * nw_log_setup from the [log] section of conf (format = text|json, level =
 * error|warn|info|debug; either may be missing; conf may be NULL). A bad
 * value or an unknown key of [log] gives NW_ECONFIG with "file:line: problem"
 * and changes nothing.
 */
nw_err nw_log_setup_from_conf(const nw_kvconf *conf, const char *program, char *errbuf,
                              size_t errlen);

/* "error", "warn" (or "warning"), "info", "debug"; NW_EINVAL with a message otherwise. */
nw_err nw_log_level_parse(const char *s, nw_log_level *out, char *errbuf, size_t errlen);

/* "text" or "json"; NW_EINVAL with a message otherwise. */
nw_err nw_log_format_parse(const char *s, nw_log_format *out, char *errbuf, size_t errlen);

/* Is a line of this level written? (To skip building an expensive message.) */
bool nw_log_enabled(nw_log_level level);

void nw_log(nw_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void nw_logv(nw_log_level level, const char *component, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/*
 * Formats one line into out (at most cap bytes, '\n' and NUL included) as
 * nw_log would write it at the time stamp when; returns its length without
 * the NUL. For tests, and for nw_log itself.
 */
size_t nw_log_format_line(char *out, size_t cap, const char *when, nw_log_level level,
                          const char *component, const char *message);

#endif
