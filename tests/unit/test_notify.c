/*
 * consumer/notify.c against a fake service manager: the test binds a unix
 * datagram socket, points NOTIFY_SOCKET at it, and reads the datagrams the
 * functions send (systemd's sd_notify protocol).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../consumer/notify.h"

typedef struct fake {
    char dir[32], path[64];
    int fd;
} fake;

static int setup(void **state)
{
    static fake f;
    memset(&f, 0, sizeof f);
    snprintf(f.dir, sizeof f.dir, "/tmp/nw-notify-XXXXXX");
    if (mkdtemp(f.dir) == NULL)
        return -1;
    snprintf(f.path, sizeof f.path, "%s/notify", f.dir);
    if ((f.fd = socket(AF_UNIX, SOCK_DGRAM, 0)) < 0)
        return -1;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", f.path);
    if (bind(f.fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        return -1;
    struct timeval tv = {1, 0}; /* a datagram that should come comes at once */
    setsockopt(f.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setenv("NOTIFY_SOCKET", f.path, 1);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    nw_notify_reset();
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fake *f = *state;
    close(f->fd);
    unlink(f->path);
    rmdir(f->dir);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    nw_notify_reset();
    return 0;
}

/* The next datagram as a string; "" when none comes (MSG_DONTWAIT: none is waiting). */
static const char *next_datagram(const fake *f, int flags)
{
    static char buf[1024];
    ssize_t n = recv(f->fd, buf, sizeof buf - 1, flags);
    if (n < 0)
        n = 0;
    buf[n] = '\0';
    return buf;
}

static void assert_no_datagram(const fake *f)
{
    const char *d = next_datagram(f, MSG_DONTWAIT);
    if (d[0] != '\0')
        fail_msg("unexpected datagram: '%s'", d);
}

static void states_are_sent(void **state)
{
    fake *f = *state;
    char err[256] = "";
    assert_int_equal(nw_notify_ready(err, sizeof err), NW_OK);
    assert_string_equal(next_datagram(f, 0), "READY=1\nSTATUS=running");
    assert_int_equal(nw_notify_stopping(err, sizeof err), NW_OK);
    assert_string_equal(next_datagram(f, 0), "STOPPING=1\nSTATUS=stopping");
    assert_int_equal(nw_notify_reloading(err, sizeof err), NW_OK);
    const char *d = next_datagram(f, 0);
    unsigned long long usec = 0;
    char status[32] = "";
    if (sscanf(d, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=%31s", &usec, status) != 2)
        fail_msg("unexpected reloading datagram: '%s'", d);
    assert_true(usec > 0);
    assert_string_equal(status, "reloading");
    assert_no_datagram(f);
}

static void status_is_one_line(void **state)
{
    fake *f = *state;
    assert_int_equal(nw_notify_status(NULL, 0, "enrich: %d partition(s) of %s", 3, "news.raw"),
                     NW_OK);
    assert_string_equal(next_datagram(f, 0), "STATUS=enrich: 3 partition(s) of news.raw");
    assert_int_equal(nw_notify_status(NULL, 0, "two\nlines"), NW_OK);
    assert_string_equal(next_datagram(f, 0), "STATUS=two lines");
    /* A long status is cut, not refused. */
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(nw_notify_status(NULL, 0, "%s", big), NW_OK);
    const char *d = next_datagram(f, 0);
    assert_true(strncmp(d, "STATUS=xxx", 10) == 0);
    assert_true(strlen(d) < sizeof big);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* WATCHDOG=1 at once, then not again before half the interval, then again. */
static void watchdog_every_half_interval(void **state)
{
    fake *f = *state;
    setenv("WATCHDOG_USEC", "400000", 1); /* 400 ms: a keep-alive at most every 200 ms */
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    nw_notify_reset();
    assert_int_equal(nw_notify_watchdog_usec(), 400000);
    assert_int_equal(nw_notify_watchdog(NULL, 0), NW_OK);
    assert_string_equal(next_datagram(f, 0), "WATCHDOG=1");
    for (int i = 0; i < 1000; i++) /* cheap, and silent within the half interval */
        assert_int_equal(nw_notify_watchdog(NULL, 0), NW_OK);
    assert_no_datagram(f);
    sleep_ms(220);
    assert_int_equal(nw_notify_watchdog(NULL, 0), NW_OK);
    assert_string_equal(next_datagram(f, 0), "WATCHDOG=1");
    assert_int_equal(nw_notify_watchdog(NULL, 0), NW_OK);
    assert_no_datagram(f);
}

/* No WatchdogSec (or another process's): no keep-alives. */
static void watchdog_off(void **state)
{
    fake *f = *state;
    assert_int_equal(nw_notify_watchdog_usec(), 0);
    assert_int_equal(nw_notify_watchdog(NULL, 0), NW_OK);
    assert_no_datagram(f);
    setenv("WATCHDOG_USEC", "400000", 1);
    setenv("WATCHDOG_PID", "1", 1); /* meant for another process */
    nw_notify_reset();
    assert_int_equal(nw_notify_watchdog_usec(), 0);
    assert_int_equal(nw_notify_watchdog(NULL, 0), NW_OK);
    assert_no_datagram(f);
}

/* Not started by systemd: every function is a no-op. */
static void no_socket_no_op(void **state)
{
    fake *f = *state;
    unsetenv("NOTIFY_SOCKET");
    setenv("WATCHDOG_USEC", "400000", 1);
    nw_notify_reset();
    char err[256] = "";
    assert_int_equal(nw_notify_ready(err, sizeof err), NW_OK);
    assert_int_equal(nw_notify_status(err, sizeof err, "x"), NW_OK);
    assert_int_equal(nw_notify_reloading(err, sizeof err), NW_OK);
    assert_int_equal(nw_notify_watchdog(err, sizeof err), NW_OK);
    assert_int_equal(nw_notify_stopping(err, sizeof err), NW_OK);
    assert_string_equal(err, "");
    assert_no_datagram(f);
}

/* A socket that is not there: an error with a message, never a crash. */
static void unreachable_socket(void **state)
{
    (void)state;
    setenv("NOTIFY_SOCKET", "/nonexistent/newswatch/notify", 1);
    char err[256] = "";
    assert_int_equal(nw_notify_ready(err, sizeof err), NW_EIO);
    if (strstr(err, "cannot notify the service manager (READY)") == NULL)
        fail_msg("unexpected message: %s", err);
    assert_int_equal(nw_notify_stopping(NULL, 0), NW_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(states_are_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(status_is_one_line, setup, teardown),
        cmocka_unit_test_setup_teardown(watchdog_every_half_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(watchdog_off, setup, teardown),
        cmocka_unit_test_setup_teardown(no_socket_no_op, setup, teardown),
        cmocka_unit_test_setup_teardown(unreachable_socket, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
