/*
 * The daemon's messages to its service manager (systemd's sd_notify protocol,
 * through libsystemd): READY=1 once it runs, RELOADING=1 and READY=1 around a
 * SIGHUP reload, STOPPING=1 when it begins to stop, STATUS= lines for
 * `systemctl status`, and WATCHDOG=1 keep-alives (docs/daemon.md, "Running
 * under systemd"). Each is a no-op returning NW_OK when NOTIFY_SOCKET is unset
 * (not started by systemd as Type=notify). An error (the socket cannot be
 * reached) is never a reason to stop: the caller logs it and goes on.
 *
 * Ownership: the module keeps only the watchdog's interval and the time of
 * its last keep-alive, in static storage; call nw_notify_watchdog from one
 * thread (the daemon's main loop). Every function takes an optional error
 * buffer (NULL/0: no message).
 */
#ifndef NEWSWATCH_CONSUMER_NOTIFY_H
#define NEWSWATCH_CONSUMER_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "newswatch/error.h"

/* READY=1 (and the status line "running"): start-up is complete. */
nw_err nw_notify_ready(char *errbuf, size_t errlen);

/* RELOADING=1 with MONOTONIC_USEC: a reload begins; send nw_notify_ready when it is done. */
nw_err nw_notify_reloading(char *errbuf, size_t errlen);

/* STOPPING=1: a stop begins (a signal, or a fatal error). */
nw_err nw_notify_stopping(char *errbuf, size_t errlen);

/* STATUS=<printf-formatted text>: one line for `systemctl status` (newlines become spaces). */
nw_err nw_notify_status(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * WATCHDOG=1 when the service manager asked for keep-alives (WatchdogSec=,
 * seen through sd_watchdog_enabled) and half the interval has passed since
 * the last one sent (the first call sends). Cheap enough for every loop
 * iteration: after the first call it reads the monotonic clock and returns.
 */
nw_err nw_notify_watchdog(char *errbuf, size_t errlen);

/* The watchdog interval in microseconds, 0 when not asked for (read at the first call). */
uint64_t nw_notify_watchdog_usec(void);

/* Forgets the watchdog interval and the last keep-alive (for tests: read the environment anew). */
void nw_notify_reset(void);

#endif
