#include "newswatch/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/alerts.h"
#include "grow.h"

/* Sentences after a fresh sentence of the event that still speak of its incident. */
#define FOLLOWING_SENTENCES 2

struct nw_assessor {
    nw_when_list whens;
    uint8_t *marks; /* per sentence: MARK_* bits */
    size_t nmarks, capmarks;
};

enum {
    MARK_HIT = 1,        /* the rule holds there */
    MARK_BACKGROUND = 2, /* it recalls the past */
    MARK_INCIDENT = 4,   /* it speaks of the report's incident */
    MARK_LEAD = 8,       /* it starts within the lead */
    MARK_NEWS = 16,      /* it has a claim, arrest or finding term */
    MARK_RECALL = 32,    /* it has a background term ("since"): its days are comparisons */
    MARK_ATTACK = 64,    /* it refers to an attack ("the attack") */
};

static const char *const basis_names[] = {"published_at", "ingested_at", "processed", "stated"};

const char *nw_time_basis_name(nw_time_basis b)
{
    return b <= NW_TIME_STATED ? basis_names[b] : "?";
}

nw_assessor *nw_assessor_new(void)
{
    return calloc(1, sizeof(nw_assessor));
}

void nw_assessor_free(nw_assessor *a)
{
    if (a == NULL)
        return;
    nw_when_list_free(&a->whens);
    free(a->marks);
    free(a);
}

bool nw_report_counts(const nw_report *r)
{
    return r->salient && !r->other_incident;
}

/* The reference time: published_at, else ingested_at, else processed_at. */
static void reference(const nw_doc *doc, int64_t processed_at, nw_report *out)
{
    const char *p = nw_doc_get(doc, NW_DOC_PUBLISHED_AT, NULL);
    const char *i = nw_doc_get(doc, NW_DOC_INGESTED_AT, NULL);
    if (p != NULL && nw_time_parse_rfc3339(p, &out->ref_time, NULL, 0) == NW_OK)
        out->basis = NW_TIME_PUBLISHED;
    else if (i != NULL && nw_time_parse_rfc3339(i, &out->ref_time, NULL, 0) == NW_OK)
        out->basis = NW_TIME_INGESTED;
    else {
        out->ref_time = processed_at;
        out->basis = NW_TIME_PROCESSED;
    }
}

/* The last day a stated date covers (a month's or a year's last day). */
static int64_t last_day(const nw_when *w)
{
    if (w->precision == NW_WHEN_DAY)
        return w->day;
    if (w->precision == NW_WHEN_MONTH)
        return w->month == 12 ? nw_day_from_civil(w->year + 1, 1, 1) - 1
                              : nw_day_from_civil(w->year, w->month + 1, 1) - 1;
    return nw_day_from_civil(w->year + 1, 1, 1) - 1;
}

/* The token after the lead: the text's first lead_words words. */
static uint32_t lead_end(const nw_segments *s, int lead_words)
{
    int words = 0;
    uint32_t end = 0;
    while (end < s->ntokens && words < lead_words)
        words += s->tokens[end++].kind == NW_TOKEN_WORD;
    return end;
}

/* The latest full date (day, month and year written) before token end; INT64_MIN if none. */
static int64_t own_date(const nw_assessor *a, uint32_t end)
{
    int64_t best = INT64_MIN;
    for (size_t i = 0; i < a->whens.n; i++) {
        const nw_when *w = &a->whens.items[i];
        if (w->token < end && !w->relative && w->precision == NW_WHEN_DAY && w->day > best)
            best = w->day;
    }
    return best;
}

/* A round-up: the text states many days, and the event's sentences several of them. */
static bool round_up(const nw_assessor *a, const uint8_t *mk)
{
    int64_t days[8];
    size_t ndays = 0, nhit = 0;
    int64_t hit_days[2];
    uint32_t last_sentence = UINT32_MAX, sentences = 0;
    for (size_t i = 0; i < a->whens.n; i++) {
        const nw_when *w = &a->whens.items[i];
        if (w->precision != NW_WHEN_DAY)
            continue;
        bool seen = false;
        for (size_t k = 0; k < ndays && !seen; k++)
            seen = days[k] == w->day;
        if (!seen && ndays < 8)
            days[ndays++] = w->day;
        if (w->sentence != last_sentence) {
            sentences++;
            last_sentence = w->sentence;
        }
        if ((mk[w->sentence] & MARK_HIT) && nhit < 2 && (nhit == 0 || hit_days[0] != w->day))
            hit_days[nhit++] = w->day;
    }
    return ndays >= 4 && sentences >= 3 && nhit >= 2;
}

/*
 * A follow-up told by reference: the lead refers to an attack ("the attack", with an
 * attack-role term) on a day no more than one before the report ("condemned on
 * Tuesday the attack of Monday night"), and the event's place and kind are both named
 * in fresh sentences, however far apart.
 */
static bool follow_up(const nw_assessor *a, const nw_match *m, const uint8_t *mk, int64_t ref_day)
{
    bool refers = false, recent = false, place = false, kind = false;
    for (size_t i = 0; i < a->whens.n; i++) {
        const nw_when *w = &a->whens.items[i];
        recent |= (mk[w->sentence] & MARK_LEAD) && (mk[w->sentence] & MARK_ATTACK) &&
                  w->precision == NW_WHEN_DAY && w->day >= ref_day - 1 && w->day <= ref_day;
    }
    for (size_t s = 0; s < a->nmarks && !refers; s++)
        refers = (mk[s] & MARK_LEAD) && (mk[s] & MARK_ATTACK);
    for (size_t k = 0; k < m->nterms; k++) {
        if (mk[m->terms[k].sentence] & MARK_BACKGROUND)
            continue;
        place |= m->terms[k].entity != NULL;
        kind |= m->terms[k].class_name != NULL;
    }
    return refers && recent && place && kind;
}

static uint32_t distance(uint32_t a, uint32_t b)
{
    return a > b ? a - b : b - a;
}

/*
 * The date stated in sentence sn nearest to one of the match's terms there (both
 * lists are in text order, so only sentence sn's are looked at),
 * at day precision when day_only; NULL when none.
 */
static const nw_when *stated(const nw_assessor *a, const nw_analysis *an, const nw_match *m,
                             uint32_t sn, bool day_only, int64_t before)
{
    /* The match's terms are in text order: those of sentence sn are [lo, hi). */
    size_t lo = 0, hi = m->nterms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->terms[mid].sentence < sn)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (hi = lo; hi < m->nterms && m->terms[hi].sentence == sn; hi++)
        ;
    /* Dates are in text order too: those of sentence sn, likewise. */
    size_t wl = 0, wh = a->whens.n;
    while (wl < wh) {
        size_t mid = wl + (wh - wl) / 2;
        if (a->whens.items[mid].sentence < sn)
            wl = mid + 1;
        else
            wh = mid;
    }
    const nw_when *best = NULL;
    uint32_t best_d = UINT32_MAX;
    for (size_t i = wl; i < a->whens.n && a->whens.items[i].sentence == sn; i++) {
        const nw_when *w = &a->whens.items[i];
        if ((day_only && w->precision != NW_WHEN_DAY) || w->day >= before)
            continue;
        for (size_t k = lo; k < hi; k++) {
            /* term offsets are code points; compare with the date's first token's */
            uint32_t d = distance(an->seg->tokens[w->token].start, m->terms[k].start);
            if (d < best_d) {
                best_d = d;
                best = w;
            }
        }
    }
    return best;
}

/* Is e a place near the anchor's, but not it nor around it (Sadr City for Tayaran Square)? */
static bool elsewhere(const nw_entity *e, const nw_entity *anchor)
{
    if (nw_entity_within(e, anchor) || nw_entity_within(anchor, e))
        return false;
    for (const nw_entity *x = anchor->parent; x != NULL && x->parent != NULL; x = x->parent)
        if (nw_entity_within(e, x))
            return true;
    return false;
}

/*
 * The first place named in the event's fresh sentences that says where the anchored
 * incident is: 1 at (or within) one of its places, -1 somewhere near but elsewhere, 0
 * when the event has no places or the text names none of either kind.
 */
static int first_place(const nw_analysis *an, const nw_match *match, const uint8_t *mk)
{
    const nw_event *ev = match->event;
    if (ev->nanchor_places == 0)
        return 0;
    for (size_t i = 0; i < an->nmentions; i++) {
        const nw_mention *mn = &an->mentions[i];
        if (mn->entity == NULL || (mn->type != NW_ENTITY_LOC && mn->type != NW_ENTITY_FACILITY) ||
            !(mk[mn->sentence] & MARK_HIT) || (mk[mn->sentence] & MARK_BACKGROUND))
            continue;
        bool far = false;
        for (size_t k = 0; k < ev->nanchor_places; k++) {
            if (nw_entity_within(mn->entity, ev->anchor_places[k]))
                return 1;
            far |= elsewhere(mn->entity, ev->anchor_places[k]);
        }
        bool near_any = false; /* elsewhere than every place, not merely than one */
        for (size_t k = 0; far && k < ev->nanchor_places; k++)
            near_any |= nw_entity_within(ev->anchor_places[k], mn->entity);
        if (far && !near_any)
            return -1;
    }
    return 0;
}

/*
 * An anchored event: is the report of the anchored incident? Any sentence of the
 * event that dates it to the anchor (a day either way) says yes. Otherwise a day or
 * a month stated in a fresh sentence, or in one that recalls a past incident (not a
 * comparison: "the deadliest since 2018"), says another incident; a report that
 * dates nothing is of the incident when it appeared within anchor_window of it.
 */
static void anchored(const nw_assessor *a, const nw_analysis *an, const nw_match *match,
                     const uint8_t *mk, int64_t ref_day, nw_report *out)
{
    const nw_event *ev = match->event;
    int64_t anchor = ev->anchor_day;
    const nw_when *other = NULL;
    bool at_anchor = false;
    for (size_t i = 0; i < match->nsentences && !at_anchor; i++) {
        uint32_t sn = match->sentences[i];
        if (mk[sn] & MARK_RECALL)
            continue;
        const nw_when *w =
            stated(a, an, match, sn, false, (mk[sn] & MARK_NEWS) ? ref_day : INT64_MAX);
        if (w == NULL)
            continue;
        at_anchor = anchor >= w->day - (w->precision == NW_WHEN_DAY) && anchor <= last_day(w) + 1;
        if (!at_anchor && other == NULL && (w->precision != NW_WHEN_YEAR))
            other = w;
    }
    out->event_day = anchor;
    out->day_stated = at_anchor;
    if (at_anchor)
        return;
    /* Undated: the first place the fresh sentences name, when the incident has places. */
    int place = other == NULL ? first_place(an, match, mk) : 0;
    if (place > 0)
        return;
    if (place < 0) {
        out->other_incident = true;
        snprintf(out->why, sizeof out->why,
                 "another incident: the report places it elsewhere than the incident");
        return;
    }
    if (other != NULL) {
        out->other_incident = true;
        char d[11];
        nw_day_format(other->day, d);
        snprintf(out->why, sizeof out->why, "another incident: the report dates it %s%s", d,
                 other->precision == NW_WHEN_MONTH ? " (the month)" : "");
    } else if (ref_day < anchor - 1 || ref_day > anchor + ev->anchor_window_s / 86400) {
        out->other_incident = true;
        snprintf(out->why, sizeof out->why,
                 "another incident: no day stated, and the report is from outside the "
                 "incident's window");
    }
}

static void say(nw_report *out, const char *why)
{
    snprintf(out->why, sizeof out->why, "%s", why);
}

nw_err nw_report_assess(nw_assessor *a, const nw_analysis *an, const nw_doc *doc,
                        const nw_match *match, const nw_role_term *roles, size_t nroles,
                        int64_t processed_at, nw_report *out, char *errbuf, size_t errlen)
{
    const nw_event *ev = match->event;
    const nw_segments *s = an->seg;
    memset(out, 0, sizeof *out);
    out->killed = out->wounded = -1;
    reference(doc, processed_at, out);
    int64_t ref_day = nw_day_of_time(out->ref_time, ev->utc_offset_s);
    nw_err err = nw_when_find(an->text, s, an->dates, ref_day, &a->whens, errbuf, errlen);
    if (err != NW_OK)
        return err;
    /* No publication time, and the lead dates the page long before it was read (an
     * archive replayed, a page saved years ago): the page's own date is the reference. */
    uint32_t lead = lead_end(s, ev->lead_words);
    int64_t own = own_date(a, lead);
    if (out->basis != NW_TIME_PUBLISHED && own != INT64_MIN &&
        own < ref_day - ev->background_age_s / 86400) {
        ref_day = own;
        out->ref_time = own * 86400 + 12 * 3600 - ev->utc_offset_s;
        out->basis = NW_TIME_STATED;
        if ((err = nw_when_find(an->text, s, an->dates, ref_day, &a->whens, errbuf, errlen)) !=
            NW_OK)
            return err;
    }
    out->event_day = ref_day;
    size_t ns = s->nsentences;
    if (!nw_grow((void **)&a->marks, &a->capmarks, ns + 1, 1))
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    uint8_t *mk = a->marks;
    memset(mk, 0, ns + 1);
    a->nmarks = ns;

    /* The lead, the hits, and what recalls the past. */
    for (uint32_t i = 0; i < lead; i++)
        mk[s->tokens[i].sentence] |= MARK_LEAD;
    for (size_t i = 0; i < match->nsentences; i++)
        mk[match->sentences[i]] |= MARK_HIT;
    int64_t age_days = ev->background_age_s / 86400;
    for (size_t i = 0; i < a->whens.n; i++)
        if (last_day(&a->whens.items[i]) < ref_day - age_days)
            mk[a->whens.items[i].sentence] |= MARK_BACKGROUND;
    bool retro = match->title_looks_back;
    for (size_t i = 0; i < nroles; i++) {
        if (roles[i].role == NW_ROLE_BACKGROUND)
            mk[roles[i].sentence] |= MARK_BACKGROUND | MARK_RECALL;
        else if (roles[i].role == NW_ROLE_RETROSPECTIVE && (mk[roles[i].sentence] & MARK_LEAD))
            retro = true;
        else if (roles[i].role == NW_ROLE_ATTACK)
            mk[roles[i].sentence] |= MARK_ATTACK;
        else if (roles[i].role == NW_ROLE_CLAIM || roles[i].role == NW_ROLE_ARREST ||
                 roles[i].role == NW_ROLE_FINDING)
            mk[roles[i].sentence] |= MARK_NEWS;
    }

    /* Salience. */
    unsigned fresh = 0, lead_hits = 0, lead_fresh = 0;
    for (size_t i = 0; i < match->nsentences; i++) {
        uint8_t m = mk[match->sentences[i]];
        fresh += !(m & MARK_BACKGROUND);
        lead_hits += (m & MARK_LEAD) != 0;
        lead_fresh += (m & MARK_LEAD) && !(m & MARK_BACKGROUND);
    }
    out->sentences = fresh;
    out->retrospective = retro;
    bool lead_ok = match->in_lead && (lead_hits == 0 || lead_fresh > 0);
    if (retro) {
        say(out, "a retrospective piece (a looking-back term in the title or lead)");
    } else if (round_up(a, mk)) {
        out->retrospective = true;
        say(out, "a round-up of several days' incidents");
    } else if (match->in_title) {
        out->salient = true;
        say(out, "the title reports it");
    } else if (lead_ok) {
        out->salient = true;
        say(out, "the lead reports it");
    } else if (follow_up(a, match, mk, ref_day)) {
        out->salient = true;
        say(out, "the lead refers to a recent attack, and fresh sentences name its place and kind");
    } else if (match->broad) {
        say(out, "the rule holds only across the document, not in its title or lead");
    } else if (fresh >= (unsigned)ev->min_sentences) {
        out->salient = true;
        snprintf(out->why, sizeof out->why, "%u sentences report it", fresh);
    } else if (fresh == 0) {
        say(out, "named only where the text recalls the past");
    } else {
        snprintf(out->why, sizeof out->why,
                 "named in passing (%u sentence%s, not in title or lead)", fresh,
                 fresh == 1 ? "" : "s");
    }

    /* The day the fresh sentences state, in text order (the lead first). */
    const nw_when *day = NULL;
    for (size_t i = 0; i < match->nsentences && day == NULL; i++) {
        uint32_t sn = match->sentences[i];
        if (mk[sn] & MARK_BACKGROUND)
            continue;
        /* A sentence announcing today a claim, arrests or a finding about an attack
         * dates the attack by its other day: "تبنت اليوم الهجوم الذي ... مساء الاثنين". */
        day = stated(a, an, match, sn, true, (mk[sn] & MARK_NEWS) ? ref_day : INT64_MAX);
    }
    /* A recurring event's report that dates the attack only in the past (an arrest two
     * weeks after it): that day is still the incident's. */
    for (size_t i = 0;
         ev->incident == NW_INCIDENT_RECURRING && i < match->nsentences && day == NULL; i++)
        day = stated(a, an, match, match->sentences[i], true, INT64_MAX);
    if (day != NULL) {
        out->event_day = day->day;
        out->day_stated = true;
    }
    if (ev->incident == NW_INCIDENT_ANCHORED)
        anchored(a, an, match, mk, ref_day, out);

    /* The incident's sentences: fresh hits and the sentences after them. */
    for (size_t i = 0; i < match->nsentences; i++) {
        uint32_t sn = match->sentences[i];
        if (mk[sn] & MARK_BACKGROUND)
            continue;
        for (uint32_t k = sn; k <= sn + FOLLOWING_SENTENCES && k < ns; k++)
            if (k == sn || !(mk[k] & MARK_BACKGROUND))
                mk[k] |= MARK_INCIDENT;
    }
    for (size_t i = 0; i < nroles; i++) {
        if (!(mk[roles[i].sentence] & MARK_INCIDENT))
            continue;
        out->claim |= roles[i].role == NW_ROLE_CLAIM;
        out->arrest |= roles[i].role == NW_ROLE_ARREST;
        out->finding |= roles[i].role == NW_ROLE_FINDING;
    }
    for (size_t i = 0; i < an->ncasualty_list; i++) {
        const nw_casualty *c = &an->casualty_list[i];
        if (!(mk[c->sentence] & MARK_INCIDENT))
            continue;
        int *dst = c->killed ? &out->killed : &out->wounded;
        if (c->value > *dst)
            *dst = c->value;
    }
    return NW_OK;
}
