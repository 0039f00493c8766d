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

#include "../../kafka/nw_kafka.h"

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
    nw_topic_spec spec = {name, partitions, 1, 0};
    char err[512];
    if (nw_kafka_create_topics(rk, &spec, 1, 30000, 1, err, sizeof err) != NW_OK)
        fail_msg("creating topic %s: %s", name, err);
    rd_kafka_destroy(rk);
}

void it_run(const char *cmdline, const char *stdin_path, it_result *r)
{
    memset(r, 0, sizeof *r);
    char *dir = it_mkdtemp();
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
    r->out = it_read_file(path, &r->outlen);
    snprintf(path, sizeof path, "%s/err", dir);
    r->err = it_read_file(path, &r->errlen);
    it_rmtree(dir);
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

json_t *it_kcat_consume(const char *topic)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "kcat -b '%s' -C -t '%s' -o beginning -e -J -q -X isolation.level=read_committed",
             it_brokers(), topic);
    it_result r;
    it_run(cmd, NULL, &r);
    if (r.status != 0)
        fail_msg("kcat failed (%d): %s", r.status, r.err);
    json_t *all = json_array();
    char *line = r.out;
    while (line < r.out + r.outlen) {
        char *nl = memchr(line, '\n', (size_t)(r.out + r.outlen - line));
        size_t n = nl != NULL ? (size_t)(nl - line) : (size_t)(r.out + r.outlen - line);
        if (n > 0) {
            json_error_t jerr;
            json_t *env = json_loadb(line, n, JSON_ALLOW_NUL, &jerr);
            if (env == NULL)
                fail_msg("kcat printed a line that is not JSON: %s", jerr.text);
            json_array_append_new(all, env);
        }
        line += n + 1;
    }
    it_result_free(&r);
    return all;
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

char *it_mkdtemp(void)
{
    const char *base = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    char *path = malloc(strlen(base) + 32);
    sprintf(path, "%s/nwit.XXXXXX", base);
    if (mkdtemp(path) == NULL)
        fail_msg("mkdtemp failed");
    return path;
}

void it_rmtree(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

void it_write_file(const char *dir, const char *name, const char *data, size_t len)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (fp == NULL)
        fail_msg("cannot write %s", path);
    fwrite(data, 1, len, fp);
    fclose(fp);
}

char *it_read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap + 1);
    while ((got = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, (cap *= 2) + 1);
    }
    fclose(fp);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}
