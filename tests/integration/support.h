/*
 * Helpers for the integration tests: they run the real programs from $NW_BIN
 * against the real broker in $NW_TEST_BROKERS (started by scripts/run-tests)
 * and read topics back with kcat, a client we did not write.
 */
#ifndef NEWSWATCH_IT_SUPPORT_H
#define NEWSWATCH_IT_SUPPORT_H

#include <jansson.h>
#include <stddef.h>

#include "../unit/testutil.h"

/* The broker list; the test fails when $NW_TEST_BROKERS is not set. */
const char *it_brokers(void);
/* $NW_BIN/name, in a static buffer. */
const char *it_bin(const char *name);
/* $NW_SEEDS: the project's copy of the seed documents. */
const char *it_seeds_dir(void);

/* A topic name unique to this process and call: "it.<prefix>.<pid>.<n>". */
void it_topic_name(const char *prefix, char *out, size_t len);
/* Creates a topic with the admin API (fails the test on error). */
void it_create_topic(const char *name, int partitions);
/*
 * Sets one configuration of a topic with AlterConfigs (which replaces the
 * topic's other dynamic configurations by their defaults); fails the test on
 * error.
 */
void it_set_topic_config(const char *name, const char *key, const char *value);

typedef struct it_result {
    int status;      /* exit status, or 128+signal */
    double seconds;  /* wall-clock time */
    char *out, *err; /* captured stdout and stderr, NUL-terminated */
    size_t outlen, errlen;
} it_result;

/*
 * Runs a shell command line with stdin from stdin_path (NULL: /dev/null),
 * capturing stdout and stderr.
 */
void it_run(const char *cmdline, const char *stdin_path, it_result *r);
void it_result_free(it_result *r);

/*
 * Reads every message of a topic from the beginning to its end with
 * `kcat -C -J -e` (read_committed) and returns them as a JSON array of kcat's
 * envelopes (key, payload, partition, offset, headers), payloads as strings.
 */
json_t *it_kcat_consume(const char *topic);
/* The same from another cluster (a mock cluster's bootstrap servers). */
json_t *it_kcat_consume_from(const char *brokers, const char *topic);

/*
 * Parses JSON Lines buf[0..len) into an array (blank lines skipped); a line
 * that is not JSON fails the test. Bytes that are not UTF-8 are replaced by
 * '?' in buf first (kcat copies payloads into its JSON as they are).
 */
json_t *it_json_lines(char *buf, size_t len);

/* Prints a log file (a daemon's) to stderr, to explain a failure. */
void it_show_log(const char *path);

/*
 * The port of the daemon's HTTP endpoint, from its log's "serving /metrics,
 * /healthz and /readyz on HOST:PORT" line (the tests give it port 0: any
 * free port); 0 when the log does not say it (yet).
 */
int it_daemon_http_port(const char *log_path);

/*
 * GET http://127.0.0.1:port/path (python3's urllib): the HTTP status, 0
 * when nothing answered; *body (malloc'd, the caller frees) the response.
 */
int it_http_get(int port, const char *path, char **body);

/* The header value of a kcat envelope, or NULL. */
const char *it_kcat_header(const json_t *envelope, const char *name);

/* Temporary directories and files: tu_mkdtemp, tu_rmtree, tu_write, tu_read. */

/*
 * A TCP port on 127.0.0.1 that nothing listens on now (bound to port 0 and
 * released), never one of the Kafka ports 9092, 9093, 19092, 19093, 29092.
 */
int it_free_port(void);

/*
 * Starts argv[0] (a path) with argv, stdin from /dev/null, stdout and stderr
 * appended to log_path (NULL: /dev/null), in its own process group. Fails the
 * test when it cannot be started. Stop it with it_stop.
 */
long it_spawn(char *const argv[], const char *log_path);
/*
 * Sends SIGTERM to a process from it_spawn and waits up to timeout_ms for it
 * to exit, then SIGKILL. Returns its wait status (-1 when it was not ours).
 */
int it_stop(long pid, int timeout_ms);
/* SIGKILL: kills and reaps a process from it_spawn; returns its wait status. */
int it_kill(long pid);
/*
 * Kills (SIGKILL) and reaps every process it_spawn started that is still
 * running: a test's teardown, so that a failed test leaves nothing behind.
 * Also runs at exit.
 */
void it_kill_spawned(void);

/* Milliseconds on a monotonic clock. */
double it_now_ms(void);
/* Sleeps ms milliseconds. */
void it_sleep_ms(int ms);

#endif
