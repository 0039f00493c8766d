#include "support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "../../kafka/nw_kafka.h"
#include "newswatch/utf8.h"

const char *it_brokers(void)
{
    const char *b = getenv("NW_TEST_BROKERS");
    if (b == NULL || b[0] == '\0')
        fail_msg("NW_TEST_BROKERS is not set: run the integration tests with `make test`");
    return b;
}

const char *it_bin(const char *name)
{
    static char path[4096];
    const char *dir = getenv("NW_BIN") != NULL ? getenv("NW_BIN") : "bin";
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

const char *it_seeds_dir(void)
{
    return getenv("NW_SEEDS") != NULL ? getenv("NW_SEEDS") : "samples/seeds";
}

void it_topic_name(const char *prefix, char *out, size_t len)
{
    static int n;
    snprintf(out, len, "it.%s.%ld.%ld.%d", prefix, (long)getpid(), (long)time(NULL), n++);
}

static rd_kafka_t *admin_client(void)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512];
    if (rd_kafka_conf_set(conf, "bootstrap.servers", it_brokers(), err, sizeof err) !=
        RD_KAFKA_CONF_OK)
        fail_msg("%s", err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk == NULL)
        fail_msg("%s", err);
    return rk;
}

void it_create_topic(const char *name, int partitions)
{
    rd_kafka_t *rk = admin_client();
    nw_topic_spec spec = {name, partitions, 1, 0, 0};
    char err[512];
    if (nw_kafka_create_topics(rk, &spec, 1, 30000, 1, err, sizeof err) != NW_OK)
        fail_msg("creating topic %s: %s", name, err);
    rd_kafka_destroy(rk);
}

void it_set_topic_config(const char *name, const char *key, const char *value)
{
    rd_kafka_t *rk = admin_client();
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name);
    if (rd_kafka_ConfigResource_set_config(res, key, value) != RD_KAFKA_RESP_ERR_NO_ERROR)
        fail_msg("AlterConfigs %s: cannot set %s", name, key);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AlterConfigs(rk, &res, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    if (ev == NULL)
        fail_msg("AlterConfigs %s: no answer", name);
    if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR)
        fail_msg("AlterConfigs %s: %s", name, rd_kafka_event_error_string(ev));
    size_t cnt = 0;
    const rd_kafka_ConfigResource_t **got =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &cnt);
    for (size_t i = 0; i < cnt; i++)
        if (rd_kafka_ConfigResource_error(got[i]) != RD_KAFKA_RESP_ERR_NO_ERROR)
            fail_msg("AlterConfigs %s: %s", name, rd_kafka_ConfigResource_error_string(got[i]));
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(res);
    /* The broker applies it a moment later: wait until it says so (for the one key read back). */
    for (int i = 0; strcmp(key, "max.message.bytes") == 0 && i < 100; i++) {
        long limit = 0;
        char err[512];
        if (nw_kafka_topic_limits(rk, &name, 1, &limit, 5000, err, sizeof err) == NW_OK &&
            limit == atol(value))
            break;
        it_sleep_ms(100);
    }
    rd_kafka_destroy(rk);
}

void it_run(const char *cmdline, const char *stdin_path, it_result *r)
{
    memset(r, 0, sizeof *r);
    char *dir = tu_mkdtemp();
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "( %s ) <'%s' >'%s/out' 2>'%s/err'", cmdline,
             stdin_path != NULL ? stdin_path : "/dev/null", dir, dir);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = system(cmd);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rc == -1)
        fail_msg("cannot run: %s", cmdline);
    r->status = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
    char path[4200];
    snprintf(path, sizeof path, "%s/out", dir);
    r->out = tu_read(path, &r->outlen);
    snprintf(path, sizeof path, "%s/err", dir);
    r->err = tu_read(path, &r->errlen);
    tu_rmtree(dir);
    free(dir);
    if (r->out == NULL || r->err == NULL)
        fail_msg("cannot read the output of: %s", cmdline);
}

void it_result_free(it_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

json_t *it_json_lines(char *buf, size_t len)
{
    json_t *all = json_array();
    char *line = buf;
    while (line < buf + len) {
        char *nl = memchr(line, '\n', (size_t)(buf + len - line));
        size_t n = nl != NULL ? (size_t)(nl - line) : (size_t)(buf + len - line);
        if (n > 0) {
            /* kcat copies payload bytes into its JSON as they are: a payload that is not
             * UTF-8 (a dead letter's) makes the line invalid JSON. Mark such bytes '?'. */
            size_t bad, from = 0;
            while (!nw_utf8_valid(line + from, n - from, &bad)) {
                line[from + bad] = '?';
                from += bad + 1;
            }
            json_error_t jerr;
            json_t *v = json_loadb(line, n, JSON_ALLOW_NUL, &jerr);
            if (v == NULL)
                fail_msg("a line that is not JSON: %s: %.200s", jerr.text, line);
            json_array_append_new(all, v);
        }
        line += n + 1;
    }
    return all;
}

json_t *it_kcat_consume_from(const char *brokers, const char *topic)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "kcat -b '%s' -C -t '%s' -o beginning -e -J -q -X isolation.level=read_committed",
             brokers, topic);
    it_result r;
    it_run(cmd, NULL, &r);
    if (r.status != 0)
        fail_msg("kcat failed (%d): %s", r.status, r.err);
    json_t *all = it_json_lines(r.out, r.outlen);
    it_result_free(&r);
    return all;
}

json_t *it_kcat_consume(const char *topic)
{
    return it_kcat_consume_from(it_brokers(), topic);
}

void it_show_log(const char *path)
{
    char *log = tu_read(path, NULL);
    fprintf(stderr, "--- %s\n%s---\n", path, log != NULL ? log : "(none)\n");
    free(log);
}

const char *it_kcat_header(const json_t *env, const char *name)
{
    const json_t *h = json_object_get(env, "headers");
    if (json_is_object(h))
        return json_string_value(json_object_get(h, name));
    if (json_is_array(h)) { /* some kcat versions: [name, value, name, value, ...] */
        for (size_t i = 0; i + 1 < json_array_size(h); i += 2)
            if (strcmp(json_string_value(json_array_get(h, i)), name) == 0)
                return json_string_value(json_array_get(h, i + 1));
    }
    return NULL;
}

int it_free_port(void)
{
    for (int tries = 0; tries < 20; tries++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            fail_msg("socket: %s", strerror(errno));
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = 0;
        socklen_t len = sizeof sa;
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
            getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
            fail_msg("cannot bind a socket on 127.0.0.1: %s", strerror(errno));
        close(fd);
        int port = ntohs(sa.sin_port);
        if (port != 9092 && port != 9093 && port != 19092 && port != 19093 && port != 29092)
            return port;
    }
    fail_msg("no free port on 127.0.0.1");
    return -1;
}

/* Every process it_spawn started and nobody has waited for yet. */
static long spawned[64];
static int nspawned;

static void forget_spawned(long pid)
{
    for (int i = 0; i < nspawned; i++)
        if (spawned[i] == pid)
            spawned[i] = spawned[--nspawned];
}

int it_kill(long pid)
{
    int status = 0;
    kill((pid_t)pid, SIGKILL);
    waitpid((pid_t)pid, &status, 0);
    forget_spawned(pid);
    return status;
}

void it_kill_spawned(void)
{
    while (nspawned > 0) {
        long pid = spawned[--nspawned];
        kill((pid_t)pid, SIGKILL);
        waitpid((pid_t)pid, NULL, 0);
    }
}

long it_spawn(char *const argv[], const char *log_path)
{
    static int registered;
    if (!registered) {
        atexit(it_kill_spawned); /* a failed test leaves nothing running */
        registered = 1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        int in = open("/dev/null", O_RDONLY);
        int out =
            open(log_path != NULL ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in < 0 || out < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        execv(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    if (nspawned < (int)(sizeof spawned / sizeof spawned[0]))
        spawned[nspawned++] = (long)pid;
    return (long)pid;
}

int it_stop(long pid, int timeout_ms)
{
    int status = 0;
    if (pid <= 0 || kill((pid_t)pid, SIGTERM) != 0)
        return -1;
    double end = it_now_ms() + timeout_ms;
    for (;;) {
        pid_t r = waitpid((pid_t)pid, &status, WNOHANG);
        if (r == (pid_t)pid) {
            forget_spawned(pid);
            return status;
        }
        if (r < 0)
            return -1;
        if (it_now_ms() >= end)
            break;
        it_sleep_ms(20);
    }
    fprintf(stderr, "process %ld did not stop within %d ms of SIGTERM: killing it\n", pid,
            timeout_ms);
    kill((pid_t)pid, SIGKILL);
    waitpid((pid_t)pid, &status, 0);
    forget_spawned(pid);
    return status;
}

double it_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void it_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int it_daemon_http_port(const char *log_path)
{
    static const char said[] = "serving /metrics, /healthz and /readyz on ";
    FILE *f = fopen(log_path, "r");
    char line[4096];
    int port = 0;
    while (f != NULL && port == 0 && fgets(line, sizeof line, f) != NULL) {
        const char *at = strstr(line, said);
        const char *colon = at != NULL ? strrchr(at, ':') : NULL;
        if (colon != NULL)
            port = atoi(colon + 1);
    }
    if (f != NULL)
        fclose(f);
    return port;
}

int it_http_get(int port, const char *path, char **body)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import sys, urllib.request, urllib.error\n"
             "try:\n"
             "    r = urllib.request.urlopen(\"http://127.0.0.1:%d%s\", timeout=10)\n"
             "    code, data = r.status, r.read()\n"
             "except urllib.error.HTTPError as e:\n"
             "    code, data = e.code, e.read()\n"
             "except Exception:\n"
             "    code, data = 0, b\"\"\n"
             "sys.stdout.write(\"%%d\\n\" %% code)\n"
             "sys.stdout.flush()\n"
             "sys.stdout.buffer.write(data)'",
             port, path);
    it_result r;
    it_run(cmd, NULL, &r);
    int code = atoi(r.out);
    const char *nl = strchr(r.out, '\n');
    *body = strdup(nl != NULL ? nl + 1 : "");
    it_result_free(&r);
    return code;
}
