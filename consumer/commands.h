/* The consumer's commands, each returning the program's exit status. */
#ifndef NEWSWATCH_CONSUMER_COMMANDS_H
#define NEWSWATCH_CONSUMER_COMMANDS_H

#include "newswatch/kvconf.h"
#include "options.h"

#define NW_CONSUMER "newswatch-consumer"

enum { NW_EXIT_FAILED = 1, NW_EXIT_USAGE = 2, NW_EXIT_KAFKA = 3 };

/* --create-topics */
int nw_cmd_create_topics(const nw_consumer_opts *o, const nw_kvconf *conf);
/* --replay */
int nw_cmd_replay(const nw_consumer_opts *o, const nw_kvconf *conf);
/* --check-config */
int nw_cmd_check_config(const nw_consumer_opts *o, const nw_kvconf *conf);

#endif
