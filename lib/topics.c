#include "newswatch/topics.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const keys[NW_TOPIC_ROLE_COUNT] = {
    "raw", "enriched", "matches", "alerts", "alert-state", "dlq", "feed-state",
};

static const char *const defaults[NW_TOPIC_ROLE_COUNT] = {
    "news.raw",         "news.enriched", "news.matches",    "news.alerts",
    "news.alert-state", "news.dlq",      "news.feed-state",
};

void nw_topics_init(nw_topics *t)
{
    for (int i = 0; i < NW_TOPIC_ROLE_COUNT; i++)
        snprintf(t->name[i], sizeof t->name[i], "%s", defaults[i]);
}

nw_err nw_topics_check_name(const char *name, char *errbuf, size_t errlen)
{
    size_t n = strlen(name);
    if (n == 0 || n > NW_TOPIC_NAME_MAX)
        return nw_set_error(errbuf, errlen, NW_EINVAL,
                            "a topic name has 1 to %d characters, '%s' has %zu", NW_TOPIC_NAME_MAX,
                            name, n);
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return nw_set_error(errbuf, errlen, NW_EINVAL, "'%s' is not a valid topic name", name);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return nw_set_error(errbuf, errlen, NW_EINVAL,
                                "'%s' is not a valid topic name: only letters, digits, '.', '_' "
                                "and '-' are allowed",
                                name);
    }
    return NW_OK;
}

nw_err nw_topics_configure(nw_topics *t, const nw_kvconf *conf, char *errbuf, size_t errlen)
{
    if (conf == NULL)
        return NW_OK;
    for (size_t i = 0; i < nw_kvconf_count(conf); i++) {
        const nw_kvconf_entry *e = nw_kvconf_at(conf, i);
        if (strcmp(e->section, "topics") != 0)
            continue;
        int role = -1;
        for (int r = 0; r < NW_TOPIC_ROLE_COUNT; r++)
            if (strcmp(e->key, keys[r]) == 0)
                role = r;
        if (role < 0) {
            const char *known[NW_TOPIC_ROLE_COUNT + 1];
            for (int r = 0; r < NW_TOPIC_ROLE_COUNT; r++)
                known[r] = keys[r];
            known[NW_TOPIC_ROLE_COUNT] = NULL;
            char near[128];
            return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                "%s:%u: unknown key '%s' in [topics]%s (known: raw, enriched, "
                                "matches, alerts, alert-state, dlq, feed-state)",
                                e->file, e->line, e->key,
                                nw_kvconf_did_you_mean(e->key, known, near, sizeof near));
        }
        char why[300];
        if (nw_topics_check_name(e->value, why, sizeof why) != NW_OK)
            return nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: %s", e->file, e->line, why);
        snprintf(t->name[role], sizeof t->name[role], "%s", e->value);
    }
    return NW_OK;
}
