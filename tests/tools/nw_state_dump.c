/*
 * nw-state-dump: the alert stage's newswatch.alert-state/2 records for the
 * newswatch.match/2 records on stdin (one per line, as `newswatch-consumer
 * --replay --emit matches` writes them): after each match, the state of its
 * event as the alert stage writes it to news.alert-state, one JSON line on
 * stdout. Lines that are not match records are skipped. For
 * tests/checks/schemas.sh, which validates them against
 * schemas/alert-state.schema.json.
 *
 * Usage: nw-state-dump [EVENTS_FILE] < matches.jsonl
 * (default: the pipeline's default files: config/ in the working directory).
 * Exit status: 0, or 1 when a match could not be processed, 2 on a bad configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/alerts.h"
#include "newswatch/pipeline.h"
#include "newswatch/stages.h"

int main(int argc, char **argv)
{
    char err[1024];
    nw_pipeline p;
    nw_pipeline_paths paths = {NULL, NULL, argc > 1 ? argv[1] : NULL};
    if (nw_pipeline_load(&p, &paths, NULL, err, sizeof err) != NW_OK) {
        fprintf(stderr, "nw-state-dump: %s\n", err);
        return 2;
    }
    nw_alerter *al = nw_alerter_new(p.rules);
    if (al == NULL) {
        fprintf(stderr, "nw-state-dump: out of memory\n");
        nw_pipeline_unload(&p);
        return 2;
    }
    int status = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        if (strstr(line, "\"schema\":\"newswatch.match/2\"") == NULL)
            continue;
        nw_alert *a = NULL;
        if (nw_alerter_process(al, line, (size_t)n, &a, err, sizeof err) != NW_OK) {
            fprintf(stderr, "nw-state-dump: %s\n", err);
            status = 1;
        } else if (a->state != NULL) {
            fwrite(a->state, 1, a->state_len, stdout);
            putchar('\n');
        }
        nw_alert_free(a);
    }
    free(line);
    nw_alerter_free(al);
    nw_pipeline_unload(&p);
    return status;
}
