#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../kafka/nw_kafka.h"
#include "../../producer/options.h"
#include "newswatch/kvconf.h"

#define ARGV(...)                                                                                  \
    char *argv[] = {"newswatch-producer", __VA_ARGS__, NULL};                                      \
    int argc = (int)(sizeof argv / sizeof argv[0]) - 1

static void defaults_read_stdin(void **state)
{
    (void)state;
    char *argv[] = {"newswatch-producer", NULL};
    nw_producer_opts o;
    char err[256];
    assert_int_equal(nw_producer_opts_parse(1, argv, &o, err, sizeof err), NW_OK);
    assert_null(o.brokers);
    assert_null(o.topic);
    assert_int_equal(o.npaths, 1);
    assert_string_equal(o.paths[0], "-");
    assert_false(o.dry_run);
    assert_int_equal(o.max_bytes, 0);
    nw_producer_opts_free(&o);
}

static void every_option(void **state)
{
    (void)state;
    ARGV("-b", "h1:9092,h2:9092", "-t", "my.topic", "-X", "acks=1", "-c", "p.conf", "-X",
         "linger.ms=50", "--source", "wire", "--max-bytes", "2048", "--dry-run", "-q", "a.txt",
         "dir", "-");
    nw_producer_opts o;
    char err[256];
    assert_int_equal(nw_producer_opts_parse(argc, argv, &o, err, sizeof err), NW_OK);
    assert_string_equal(o.brokers, "h1:9092,h2:9092");
    assert_string_equal(o.topic, "my.topic");
    assert_string_equal(o.config_file, "p.conf");
    assert_string_equal(o.source, "wire");
    assert_int_equal(o.max_bytes, 2048);
    assert_true(o.dry_run);
    assert_true(o.quiet);
    assert_int_equal(o.nprops, 2);
    assert_string_equal(o.props[0].key, "acks");
    assert_string_equal(o.props[0].value, "1");
    assert_string_equal(o.props[1].key, "linger.ms");
    assert_string_equal(o.props[1].value, "50");
    assert_int_equal(o.npaths, 3);
    assert_string_equal(o.paths[0], "a.txt");
    assert_string_equal(o.paths[1], "dir");
    assert_string_equal(o.paths[2], "-");
    nw_producer_opts_free(&o);
    nw_producer_opts_free(&o); /* twice is harmless */
}

static void help_and_version(void **state)
{
    (void)state;
    {
        ARGV("--help");
        nw_producer_opts o;
        char err[256];
        assert_int_equal(nw_producer_opts_parse(argc, argv, &o, err, sizeof err), NW_OK);
        assert_true(o.help);
        nw_producer_opts_free(&o);
    }
    {
        ARGV("-V");
        nw_producer_opts o;
        char err[256];
        assert_int_equal(nw_producer_opts_parse(argc, argv, &o, err, sizeof err), NW_OK);
        assert_true(o.version);
        nw_producer_opts_free(&o);
    }
    assert_non_null(strstr(nw_producer_usage, "-X KEY=VALUE"));
    assert_non_null(strstr(nw_producer_usage, "--dry-run"));
}

static void usage_errors(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b, *msg;
    } cases[] = {
        {"--bogus", NULL, "unknown option '--bogus'"},
        {"-Z", NULL, "unknown option"},
        {"-X", "noequals", "-X 'noequals': expected KEY=VALUE"},
        {"-X", "=v", "expected KEY=VALUE"},
        {"-t", "bad topic", "-t: 'bad topic' is not a valid topic name"},
        {"--max-bytes", "0", "--max-bytes '0'"},
        {"--max-bytes", "-5", "--max-bytes '-5'"},
        {"--max-bytes", "12kb", "--max-bytes '12kb'"},
        {"--max-bytes", "99999999999", "--max-bytes '99999999999'"},
        {"-b", NULL, "option '-b' needs an argument"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[] = {"newswatch-producer", (char *)cases[i].a, (char *)cases[i].b, NULL};
        int argc = cases[i].b != NULL ? 3 : 2;
        nw_producer_opts o;
        char err[256] = "";
        if (nw_producer_opts_parse(argc, argv, &o, err, sizeof err) != NW_EINVAL ||
            strstr(err, cases[i].msg) == NULL)
            fail_msg("%s %s: got '%s', expected '%s'", cases[i].a,
                     cases[i].b != NULL ? cases[i].b : "", err, cases[i].msg);
        assert_int_equal(o.nprops, 0);
    }
}

/* The feed options: --feed repeatable, --feeds, --once; no PATH, --follow or --watch with them. */
static void feed_options(void **state)
{
    (void)state;
    nw_producer_opts o;
    char err[256];
    {
        ARGV("--feed", "https://a.example/rss", "--feeds", "f.conf", "--feed",
             "http://b.example/atom.xml", "--once");
        assert_int_equal(nw_producer_opts_parse(argc, argv, &o, err, sizeof err), NW_OK);
        assert_int_equal(o.nfeeds, 2);
        assert_string_equal(o.feeds[0], "https://a.example/rss");
        assert_string_equal(o.feeds[1], "http://b.example/atom.xml");
        assert_string_equal(o.feeds_file, "f.conf");
        assert_true(o.once);
        assert_true(o.polls_feeds);
        assert_true(o.no_path);
        nw_producer_opts_free(&o);
        nw_producer_opts_free(&o); /* twice is safe */
    }
    {
        ARGV("a.txt");
        assert_int_equal(nw_producer_opts_parse(argc, argv, &o, err, sizeof err), NW_OK);
        assert_false(o.polls_feeds);
        assert_false(o.no_path);
        nw_producer_opts_free(&o);
    }
    {
        ARGV("--feed", "https://a.example/rss", "a.txt");
        assert_int_equal(nw_producer_opts_parse(argc, argv, &o, err, sizeof err), NW_EINVAL);
        assert_non_null(strstr(err, "no PATH with them ('a.txt')"));
    }
    {
        ARGV("--once", "--follow", "wire.jsonl");
        assert_int_equal(nw_producer_opts_parse(argc, argv, &o, err, sizeof err), NW_EINVAL);
        assert_non_null(strstr(err, "--follow and the feed options exclude each other"));
    }
    {
        ARGV("--feed");
        assert_int_equal(nw_producer_opts_parse(argc, argv, &o, err, sizeof err), NW_EINVAL);
        assert_non_null(strstr(err, "needs an argument"));
    }
}

/* socket.nagle.disable as a client built with nw_kafka_conf_apply has it. */
static void nagle_of(const char *conf_text, const char *x, char *out, size_t len)
{
    char err[512];
    nw_kvconf *conf = NULL;
    if (conf_text != NULL)
        assert_int_equal(
            nw_kvconf_new("t.conf", conf_text, strlen(conf_text), &conf, err, sizeof err), NW_OK);
    nw_kafka_prop *props = NULL;
    size_t nprops = 0;
    if (x != NULL)
        assert_int_equal(nw_kafka_props_add(&props, &nprops, x, err, sizeof err), NW_OK);
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    assert_int_equal(nw_kafka_conf_apply(kc, conf, props, nprops, NULL, err, sizeof err), NW_OK);
    nw_kafka_conf_get(kc, "socket.nagle.disable", out, len);
    rd_kafka_conf_destroy(kc);
    nw_kafka_props_free(&props, &nprops);
    nw_kvconf_free(conf);
}

/*
 * Every client turns Nagle's algorithm off (a transactional producer's small
 * requests waited for delayed ACKs: the daemon's p99), and [kafka] or -X can
 * turn it back on, -X last.
 */
static void clients_send_without_nagle(void **state)
{
    (void)state;
    char v[16];
    nagle_of(NULL, NULL, v, sizeof v);
    assert_string_equal(v, "true");
    nagle_of("[kafka]\nsocket.nagle.disable = false\n", NULL, v, sizeof v);
    assert_string_equal(v, "false");
    nagle_of("[kafka]\nsocket.nagle.disable = false\n", "socket.nagle.disable=true", v, sizeof v);
    assert_string_equal(v, "true");
    nagle_of(NULL, "socket.nagle.disable=false", v, sizeof v);
    assert_string_equal(v, "false");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_read_stdin), cmocka_unit_test(every_option),
        cmocka_unit_test(help_and_version),    cmocka_unit_test(usage_errors),
        cmocka_unit_test(feed_options),        cmocka_unit_test(clients_send_without_nagle),
    };
    return cmocka_run_group_tests_name("producer_options", tests, NULL, NULL);
}
