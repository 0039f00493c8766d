/*
 * Fuzz target: the configuration file parser (lib/kvconf.c, nw_kvconf_new
 * from memory: sections, continuation lines, ${VAR} and ${VAR:-default}),
 * then what the programs do with a parsed file first: the table check
 * (nw_conftable_check), the [topics] names (nw_topics_configure), section
 * checks and "did you mean" suggestions, and number parsing of each value.
 * The input as one string also goes to nw_kvconf_split (-X key=value).
 *
 * Oracle: no crash, leak or undefined behaviour (ASan, UBSan), and
 *  - a failed parse gives no configuration and a message "file:line: ...";
 *  - every entry has a line number, a section, a non-empty key and a
 *    value, all valid UTF-8 (the environment's values are ASCII here);
 *  - a number nw_parse_long accepts is within its bounds;
 *  - a failed check has a message.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "newswatch/conftable.h"
#include "newswatch/kvconf.h"
#include "newswatch/topics.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Names a file may use; FUZZ_EMPTY is set but empty (its default applies). */
    setenv("FUZZ_PASSWORD", "s3cr3t", 1);
    setenv("FUZZ_EMPTY", "", 1);
    unsetenv("FUZZ_UNSET");
    return 0;
}

static void check_entries(const nw_kvconf *conf)
{
    static const char *const known[] = {"kafka", "producer", "consumer", "topics", "pipeline",
                                        "sinks", "http",     "log",      "alerts", "enrich",
                                        "feeds", "feed",     NULL};
    size_t n = nw_kvconf_count(conf);
    for (size_t i = 0; i < n; i++) {
        const nw_kvconf_entry *e = nw_kvconf_at(conf, i);
        FZ_CHECK(e != NULL && e->file != NULL && e->line >= 1);
        FZ_CHECK(e->section != NULL && e->key != NULL && e->value != NULL);
        FZ_CHECK(e->key[0] != '\0' && e->section[0] != '\0');
        FZ_CHECK(fz_utf8(e->key, strlen(e->key)) && fz_utf8(e->value, strlen(e->value)));
        FZ_CHECK(i == 0 || nw_kvconf_at(conf, i - 1)->line <= e->line);
        long v;
        if (nw_parse_long(e->value, -1000, 1000000, &v))
            FZ_CHECK(v >= -1000 && v <= 1000000);
        if (nw_parse_long(e->value, 0, 10, &v))
            FZ_CHECK(v >= 0 && v <= 10);
        const char *s = nw_kvconf_suggest(e->key, known);
        FZ_CHECK(s == NULL || fz_utf8(s, strlen(s)));
        char buf[128];
        const char *dym = nw_kvconf_did_you_mean(e->key, known, buf, sizeof buf);
        FZ_CHECK(dym != NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    nw_kvconf *conf = (nw_kvconf *)1;
    nw_err e = nw_kvconf_new("fuzz.conf", (const char *)data, size, &conf, err, sizeof err);
    if (e != NW_OK) {
        FZ_CHECK(conf == NULL);
        FZ_CHECK(strncmp(err, "fuzz.conf:", 10) == 0 || e == NW_ENOMEM);
    } else {
        FZ_CHECK(conf != NULL);
        check_entries(conf);
        err[0] = '\0';
        if (nw_conftable_check(conf, err, sizeof err) != NW_OK)
            FZ_CHECK(err[0] != '\0');
        static const char *const sections[] = {"kafka", "topics", "consumer", NULL};
        err[0] = '\0';
        if (nw_kvconf_check_sections(conf, sections, err, sizeof err) != NW_OK)
            FZ_CHECK(err[0] != '\0');
        nw_topics t;
        nw_topics_init(&t);
        err[0] = '\0';
        if (nw_topics_configure(&t, conf, err, sizeof err) != NW_OK) {
            FZ_CHECK(err[0] != '\0');
        } else {
            for (int r = 0; r < NW_TOPIC_ROLE_COUNT; r++)
                FZ_CHECK(nw_topics_check_name(t.name[r], err, sizeof err) == NW_OK);
        }
        nw_kvconf_free(conf);
    }

    char *s = fz_strdup(data, size);
    char *key = NULL, *value = NULL;
    if (nw_kvconf_split(s, &key, &value, err, sizeof err) == NW_OK) {
        FZ_CHECK(key != NULL && value != NULL && key[0] != '\0');
        FZ_CHECK(strlen(key) + 1 + strlen(value) <= size);
    }
    free(key);
    free(value);
    free(s);
    return 0;
}
