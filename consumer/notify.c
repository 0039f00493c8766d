#include "notify.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

static bool watchdog_known;     /* watchdog_usec has been read from the environment */
static uint64_t watchdog_usec;  /* 0: no keep-alives asked for */
static uint64_t last_keepalive; /* CLOCK_MONOTONIC, microseconds; 0: none sent */

static uint64_t monotonic_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Sends one message (newline-separated assignments); errors name what was sent. */
static nw_err send_state(const char *state, char *errbuf, size_t errlen)
{
    int r = sd_notify(0, state);
    if (r < 0) {
        size_t n = strcspn(state, "=");
        return nw_set_error(errbuf, errlen, NW_EIO, "cannot notify the service manager (%.*s): %s",
                            (int)n, state, strerror(-r));
    }
    return NW_OK;
}

nw_err nw_notify_ready(char *errbuf, size_t errlen)
{
    return send_state("READY=1\nSTATUS=running", errbuf, errlen);
}

nw_err nw_notify_reloading(char *errbuf, size_t errlen)
{
    char state[96];
    snprintf(state, sizeof state, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
             (unsigned long long)monotonic_usec());
    return send_state(state, errbuf, errlen);
}

nw_err nw_notify_stopping(char *errbuf, size_t errlen)
{
    return send_state("STOPPING=1\nSTATUS=stopping", errbuf, errlen);
}

nw_err nw_notify_status(char *errbuf, size_t errlen, const char *fmt, ...)
{
    char state[512];
    memcpy(state, "STATUS=", 7);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(state + 7, sizeof state - 7, fmt, ap);
    va_end(ap);
    for (char *p = state; *p != '\0'; p++) /* one assignment: a newline would end it */
        if (*p == '\n')
            *p = ' ';
    return send_state(state, errbuf, errlen);
}

uint64_t nw_notify_watchdog_usec(void)
{
    if (!watchdog_known) {
        uint64_t usec = 0;
        watchdog_usec = sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
        watchdog_known = true;
    }
    return watchdog_usec;
}

nw_err nw_notify_watchdog(char *errbuf, size_t errlen)
{
    if (nw_notify_watchdog_usec() == 0)
        return NW_OK;
    uint64_t now = monotonic_usec();
    if (last_keepalive != 0 && now - last_keepalive < watchdog_usec / 2)
        return NW_OK;
    last_keepalive = now;
    return send_state("WATCHDOG=1", errbuf, errlen);
}

void nw_notify_reset(void)
{
    watchdog_known = false;
    watchdog_usec = 0;
    last_keepalive = 0;
}
