/*
 * --replay and --check-config: the whole chain on local files, no broker.
 * The stages are the daemon's (stages.c), so the records are the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "daemon.h"
#include "http.h"
#include "newswatch/input.h"
#include "newswatch/topics.h"
#include "newswatch/pipeline.h"
#include "newswatch/stages.h"
#include "../sinks/nw_sinks.h"

static int load(const nw_consumer_opts *o, const nw_kvconf *conf, nw_pipeline *p)
{
    char err[1024];
    nw_pipeline_paths paths = {o->gazetteer, o->furniture, o->events};
    if (nw_pipeline_load(p, &paths, conf, err, sizeof err) != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        return NW_EXIT_USAGE;
    }
    return 0;
}

int nw_cmd_check_config(const nw_consumer_opts *o, const nw_kvconf *conf)
{
    char err[1024];
    nw_topics topics;
    nw_topics_init(&topics);
    if (nw_topics_configure(&topics, conf, err, sizeof err) != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        return NW_EXIT_USAGE;
    }
    nw_sinks_config sinks;
    nw_sinks_config_init(&sinks);
    nw_http_config http;
    nw_http_config_init(&http);
    if (nw_daemon_check_config(o, conf, err, sizeof err) != NW_OK ||
        nw_sinks_config_apply(&sinks, conf, err, sizeof err) != NW_OK ||
        nw_http_config_apply(&http, conf, "listen", err, sizeof err) != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        return NW_EXIT_USAGE;
    }
    /* The sinks as the daemon makes them (URLs, headers, the HTTP clients), then freed unused. */
    nw_sinks *made = NULL;
    FILE *devnull = fopen("/dev/null", "w");
    nw_err serr = nw_sinks_new(&sinks, devnull, &made, err, sizeof err);
    nw_sinks_free(made);
    if (devnull != NULL)
        fclose(devnull);
    if (serr != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": [sinks]: %s\n", err);
        return NW_EXIT_USAGE;
    }
    nw_pipeline p;
    int status = load(o, conf, &p);
    if (status != 0)
        return status;
    if (!o->quiet)
        printf("%s: %zu entities\n%s: %zu rules\n%s: %zu tracked events, %zu keyword classes\n"
               "configuration OK\n",
               p.gazetteer_path, nw_gazetteer_count(p.gazetteer), p.furniture_path,
               nw_furniture_count(p.furniture), p.events_path, nw_rules_event_count(p.rules),
               nw_rules_class_count(p.rules));
    nw_pipeline_unload(&p);
    return 0;
}

/*
 * The HTTP sinks of [sinks] (Alertmanager, webhook), when any is configured:
 * --replay writes alerts to stdout itself (--emit), so the stdout sink is off.
 */
static int open_sinks(const nw_kvconf *conf, nw_sinks **out)
{
    char err[1024];
    nw_sinks_config c;
    *out = NULL;
    nw_sinks_config_init(&c);
    if (nw_sinks_config_apply(&c, conf, err, sizeof err) != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        return NW_EXIT_USAGE;
    }
    c.stdout_enabled = 0;
    snprintf(c.program, sizeof c.program, "%s", NW_CONSUMER);
    if (c.alertmanager_url[0] == '\0' && c.webhook_url[0] == '\0')
        return 0;
    if (nw_sinks_new(&c, NULL, out, err, sizeof err) != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        return NW_EXIT_USAGE;
    }
    return 0;
}

/* Lines to print for one document: written only when the whole document worked. */
typedef struct lines {
    char **text;
    size_t *len;
    size_t n, cap;
} lines;

static nw_err add_line(lines *l, const char *s, size_t len, char *err, size_t errlen)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **t = realloc(l->text, cap * sizeof(char *));
        if (t != NULL)
            l->text = t;
        size_t *n = realloc(l->len, cap * sizeof(size_t));
        if (n != NULL)
            l->len = n;
        if (t == NULL || n == NULL)
            return nw_set_error(err, errlen, NW_ENOMEM, "out of memory");
        l->cap = cap;
    }
    if ((l->text[l->n] = malloc(len)) == NULL)
        return nw_set_error(err, errlen, NW_ENOMEM, "out of memory");
    memcpy(l->text[l->n], s, len);
    l->len[l->n++] = len;
    return NW_OK;
}

static void flush_lines(lines *l, int print)
{
    for (size_t i = 0; i < l->n; i++) {
        if (print) {
            fwrite(l->text[i], 1, l->len[i], stdout);
            fputc('\n', stdout);
        }
        free(l->text[i]);
    }
    l->n = 0;
}

static void send_to_sinks(nw_sinks *sinks, const nw_alert *a)
{
    nw_alert_view view = {a->id,           a->event_id,    nw_alert_decision_name(a->decision),
                          a->severity,     a->title,       a->evidence,
                          a->doc_id,       a->source,      a->url,
                          a->published_at, a->detected_at, a->json,
                          a->json_len};
    nw_sinks_send(sinks, &view);
}

/* One document through both stages. */
static nw_err replay_one(const nw_consumer_opts *o, nw_enricher *en, nw_alerter *al,
                         nw_sinks *sinks, const nw_doc *doc, lines *out, char *err, size_t errlen)
{
    nw_enriched ed;
    nw_err e = nw_enricher_run(en, doc, (int64_t)time(NULL), &ed, err, errlen);
    if (e == NW_OK && (o->emit & NW_EMIT_ENRICHED))
        e = add_line(out, ed.enriched, ed.enriched_len, err, errlen);
    for (size_t i = 0; e == NW_OK && (o->emit & NW_EMIT_MATCHES) && i < ed.nmatches; i++)
        e = add_line(out, ed.matches[i], ed.match_lens[i], err, errlen);
    for (size_t i = 0; e == NW_OK && i < ed.nmatches; i++) {
        nw_alert *a;
        e = nw_alerter_process(al, ed.matches[i], ed.match_lens[i], &a, err, errlen);
        if (e == NW_OK && a->json != NULL) {
            if (o->emit & NW_EMIT_ALERTS)
                e = add_line(out, a->json, a->json_len, err, errlen);
            if (sinks != NULL)
                send_to_sinks(sinks, a);
        }
        nw_alert_free(a);
    }
    return e;
}

int nw_cmd_replay(const nw_consumer_opts *o, const nw_kvconf *conf)
{
    nw_sinks *sinks;
    int status = open_sinks(conf, &sinks);
    if (status != 0)
        return status;
    nw_pipeline p;
    if ((status = load(o, conf, &p)) != 0) {
        nw_sinks_free(sinks);
        return status;
    }
    char err[1024] = "out of memory";
    nw_enricher *en = nw_enricher_new(&p, err, sizeof err);
    nw_alerter *al = nw_alerter_new(p.rules);
    nw_input *in = nw_input_new(o->paths, o->npaths, o->max_bytes);
    unsigned long ok = 0, failed = 0;
    if (en == NULL || al == NULL || in == NULL) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        status = NW_EXIT_FAILED;
        goto done;
    }
    lines out = {NULL, NULL, 0, 0};
    char origin[1024];
    for (;;) {
        nw_doc *doc = NULL;
        nw_err e = nw_input_next(in, &doc, origin, sizeof origin, err, sizeof err);
        if (e == NW_EOF)
            break;
        if (e == NW_OK)
            e = replay_one(o, en, al, sinks, doc, &out, err, sizeof err);
        flush_lines(&out, e == NW_OK);
        if (e != NW_OK) {
            fprintf(stderr, NW_CONSUMER ": %s: %s\n", origin, err);
            failed++;
        } else {
            ok++;
        }
        nw_doc_free(doc);
    }
    free(out.text);
    free(out.len);
    if (fflush(stdout) != 0) {
        fprintf(stderr, NW_CONSUMER ": cannot write to standard output\n");
        failed++;
    }
    if (!o->quiet || failed > 0)
        fprintf(stderr, NW_CONSUMER ": replayed %lu documents, %lu failed\n", ok, failed);
    status = failed > 0 ? NW_EXIT_FAILED : 0;
done:
    nw_sinks_free(sinks); /* waits, bounded, for the HTTP sinks to deliver */
    nw_input_free(in);
    nw_alerter_free(al);
    nw_enricher_free(en);
    nw_pipeline_unload(&p);
    return status;
}
