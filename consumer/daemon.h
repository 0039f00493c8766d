/*
 * The stream-processing daemon: the enrich stage (news.raw -> news.enriched,
 * news.matches) and the alert stage (news.matches -> news.alerts,
 * news.alert-state, ops sinks), each a consume-transform-produce loop in
 * Kafka transactions (exactly-once), with dead letters for what cannot be
 * processed. README.md and docs/daemon.md describe it.
 */
#ifndef NEWSWATCH_CONSUMER_DAEMON_H
#define NEWSWATCH_CONSUMER_DAEMON_H

#include "newswatch/kvconf.h"
#include "options.h"

/*
 * Checks what the daemon would load from conf and o: [log], [consumer], and
 * the configurations of its Kafka clients ([kafka], -X, -b) as it would make
 * them, so that a property librdkafka does not know, or a bad value, shows
 * here and not at start (file:line: problem, or -X key=value: problem).
 */
nw_err nw_daemon_check_config(const nw_consumer_opts *o, const nw_kvconf *conf, char *errbuf,
                              size_t errlen);

/* Runs until SIGTERM or SIGINT; returns the exit status. */
int nw_cmd_daemon(const nw_consumer_opts *o, const nw_kvconf *conf);

#endif
