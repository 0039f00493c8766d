/*
 * newswatch-consumer: the stream processor. With no command it runs the
 * daemon (daemon.c: the enrich and alert stages on Kafka); the commands run
 * the same chain on local files (--replay, replay.c), check the configuration
 * (--check-config), print the reference of its keys (--config-reference) and
 * create the topics (--create-topics, admin.c). README.md describes each.
 */
#include <stdio.h>
#include <stdlib.h>

#include <unistd.h>

#include "commands.h"
#include "daemon.h"
#include "newswatch/conftable.h"
#include "newswatch/log.h"
#include "newswatch/version.h"

int main(int argc, char **argv)
{
    char err[1024];
    nw_consumer_opts o;
    nw_log_setup(NW_CONSUMER, NW_LOG_TEXT, NW_LOG_INFO);
    if (nw_consumer_opts_parse(argc, argv, &o, err, sizeof err) != NW_OK) {
        fprintf(stderr, NW_CONSUMER ": %s\nTry '" NW_CONSUMER " --help'.\n", err);
        return NW_EXIT_USAGE;
    }
    int status = 0;
    nw_kvconf *conf = NULL;
    if (o.help) {
        fputs(nw_consumer_usage, stdout);
    } else if (o.version) {
        printf(NW_CONSUMER " %s (librdkafka %s)\n", NW_VERSION, rd_kafka_version_str());
    } else if ((o.config_file != NULL ||
                ((o.command == NW_CMD_NONE || o.command == NW_CMD_CHECK_CONFIG) &&
                 access("config/newswatch.conf", R_OK) == 0)) &&
               (nw_kvconf_new_from_file(o.config_file != NULL ? o.config_file
                                                              : "config/newswatch.conf",
                                        &conf, err, sizeof err) != NW_OK ||
                nw_conftable_check(conf, err, sizeof err) != NW_OK)) {
        fprintf(stderr, NW_CONSUMER ": %s\n", err);
        status = NW_EXIT_USAGE;
    } else if (o.command == NW_CMD_CONFIG_REFERENCE) {
        char *md = nw_conftable_markdown();
        if (md == NULL || fputs(md, stdout) == EOF)
            status = NW_EXIT_FAILED;
        free(md);
    } else if (o.command == NW_CMD_NONE) {
        status = nw_cmd_daemon(&o, conf);
    } else if (o.command == NW_CMD_CREATE_TOPICS) {
        status = nw_cmd_create_topics(&o, conf);
    } else if (o.command == NW_CMD_REPLAY) {
        status = nw_cmd_replay(&o, conf);
    } else {
        status = nw_cmd_check_config(&o, conf);
    }
    nw_kvconf_free(conf);
    nw_consumer_opts_free(&o);
    return status;
}
