#include "newswatch/rules.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newswatch/file.h"
#include "newswatch/kvconf.h"
#include "newswatch/phrases.h"
#include "newswatch/str.h"
#include "newswatch/when.h"
#include "grow.h"
#include "lookups.h"

enum atom_kind { ATOM_ENTITY, ATOM_TYPE, ATOM_CLASS };

typedef struct rule_atom {
    int kind;
    uint32_t index; /* entity index, entity type or class index */
} rule_atom;

enum node_op { OP_ATOM, OP_AND, OP_OR, OP_NOT };

typedef struct node {
    int op;
    int a, b; /* children (node indexes) */
    int atom; /* OP_ATOM */
} node;

typedef struct compiled_event {
    nw_event ev;
    int root;      /* node index */
    int *positive; /* atoms used without NOT, sorted */
    size_t npositive;
    int *trigger; /* atoms one of which must occur for the rule to hold, sorted */
    size_t ntrigger;
} compiled_event;

struct nw_rules {
    const nw_gazetteer *g;
    char **strings;
    size_t nstrings, capstrings;
    char **class_names;
    nw_role *class_role; /* per class */
    size_t nclasses;
    nw_phrases *terms; /* values: class index */
    rule_atom *atoms;
    size_t natoms, cap_atoms;
    int *entity_atom; /* gazetteer index -> atom or -1 */
    int type_atom[NW_ENTITY_TYPE_COUNT];
    int *class_atom;
    node *nodes;
    size_t nnodes, cap_nodes;
    compiled_event *events;
    size_t nevents, cap_events;
    int **atom_events; /* atom -> events that use it positively, -1 terminated */
};

/* ---- loading ---------------------------------------------------------- */

static char *keep(nw_rules *r, const char *s)
{
    if (!nw_grow((void **)&r->strings, &r->capstrings, r->nstrings + 1, sizeof(*r->strings)))
        return NULL;
    char *c = nw_str_dup(s);
    if (c != NULL)
        r->strings[r->nstrings++] = c;
    return c;
}

void nw_rules_free(nw_rules *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nstrings; i++)
        free(r->strings[i]);
    free(r->strings);
    free(r->class_names);
    free(r->class_role);
    nw_phrases_free(r->terms);
    free(r->atoms);
    free(r->entity_atom);
    free(r->class_atom);
    free(r->nodes);
    for (size_t i = 0; i < r->nevents; i++) {
        free(r->events[i].positive);
        free(r->events[i].trigger);
    }
    free(r->events);
    for (size_t i = 0; r->atom_events != NULL && i < r->natoms; i++)
        free(r->atom_events[i]);
    free(r->atom_events);
    free(r);
}

static const char *const role_names[NW_ROLE_COUNT] = {
    "", "claim", "arrest", "finding", "background", "retrospective", "attack",
};

size_t nw_rules_event_count(const nw_rules *r)
{
    return r->nevents;
}

const nw_event *nw_rules_event_at(const nw_rules *r, size_t i)
{
    return i < r->nevents ? &r->events[i].ev : NULL;
}

const nw_event *nw_rules_find_event(const nw_rules *r, const char *id)
{
    for (size_t i = 0; i < r->nevents; i++)
        if (strcmp(r->events[i].ev.id, id) == 0)
            return &r->events[i].ev;
    return NULL;
}

const nw_phrases *nw_rules_terms(const nw_rules *r)
{
    return r->terms;
}

size_t nw_rules_class_count(const nw_rules *r)
{
    return r->nclasses;
}

nw_err nw_parse_duration(const char *s, long *seconds, char *errbuf, size_t errlen)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    long unit = 1;
    if (end != s && *end != '\0' && end[1] == '\0') {
        switch (*end) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        default:
            unit = 0;
        }
        end++;
    }
    if (errno != 0 || end == s || *end != '\0' || unit == 0 || v <= 0 || v > 3650L * 86400 / unit)
        return nw_set_error(errbuf, errlen, NW_EINVAL,
                            "'%s' is not a duration (a number with s, m, h or d: 72h)", s);
    *seconds = v * unit;
    return NW_OK;
}

static int find_class(const nw_rules *r, const char *name, size_t len)
{
    for (size_t i = 0; i < r->nclasses; i++)
        if (strlen(r->class_names[i]) == len && memcmp(r->class_names[i], name, len) == 0)
            return (int)i;
    return -1;
}

static int add_atom(nw_rules *r, int kind, uint32_t index)
{
    for (size_t i = 0; i < r->natoms; i++)
        if (r->atoms[i].kind == kind && r->atoms[i].index == index)
            return (int)i;
    if (!nw_grow((void **)&r->atoms, &r->cap_atoms, r->natoms + 1, sizeof(*r->atoms)))
        return -1;
    r->atoms[r->natoms] = (rule_atom){kind, index};
    return (int)r->natoms++;
}

static int add_node(nw_rules *r, int op, int a, int b, int at)
{
    if (!nw_grow((void **)&r->nodes, &r->cap_nodes, r->nnodes + 1, sizeof(*r->nodes)))
        return -1;
    r->nodes[r->nnodes] = (node){op, a, b, at};
    return (int)r->nnodes++;
}

/* A recursive-descent parser for one expression. */
typedef struct parser {
    nw_rules *r;
    const char *s, *p;
    const char *file;
    unsigned line;
    char *errbuf;
    size_t errlen;
    bool failed;
    int depth;
    int *positive; /* atoms seen without NOT */
    size_t npositive, cappositive;
    bool negated;
} parser;

static int fail(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(parser *ps, const char *fmt, ...)
{
    if (!ps->failed) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        nw_set_error(ps->errbuf, ps->errlen, NW_ECONFIG, "%s:%u: match, column %d: %s", ps->file,
                     ps->line, (int)(ps->p - ps->s) + 1, msg);
    }
    ps->failed = true;
    return -1;
}

static void skip_space(parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t')
        ps->p++;
}

static size_t word_len(const char *p)
{
    size_t n = 0;
    while (p[n] != '\0' &&
           (isalnum((unsigned char)p[n]) || p[n] == '.' || p[n] == '_' || p[n] == '-'))
        n++;
    return n;
}

static bool keyword(parser *ps, const char *kw)
{
    skip_space(ps);
    size_t n = word_len(ps->p);
    if (n == strlen(kw) && memcmp(ps->p, kw, n) == 0) {
        ps->p += n;
        return true;
    }
    return false;
}

static int parse_or(parser *ps);

static int parse_atom(parser *ps)
{
    skip_space(ps);
    size_t n = word_len(ps->p);
    if (n == 0)
        return fail(ps, "expected a term, '(' or NOT, found '%.12s'", *ps->p ? ps->p : "the end");
    char name[256];
    if (n >= sizeof name)
        return fail(ps, "term too long: '%.40s'", ps->p);
    memcpy(name, ps->p, n);
    name[n] = '\0';
    int at = -1;
    static const char *const types[NW_ENTITY_TYPE_COUNT] = {"PERSON", "ORG", "LOC", "FACILITY"};
    for (int t = 0; t < NW_ENTITY_TYPE_COUNT; t++)
        if (strcmp(name, types[t]) == 0)
            at = add_atom(ps->r, ATOM_TYPE, (uint32_t)t);
    if (at < 0 && strchr(name, '.') != NULL) {
        const nw_entity *e = nw_gazetteer_find(ps->r->g, name);
        if (e == NULL)
            return fail(ps, "'%s' is not an entity id in the gazetteer", name);
        at = add_atom(ps->r, ATOM_ENTITY, (uint32_t)(e - nw_gazetteer_at(ps->r->g, 0)));
    }
    if (at < 0) {
        int c = find_class(ps->r, name, n);
        if (c < 0) {
            if (strcmp(name, "and") == 0 || strcmp(name, "or") == 0 || strcmp(name, "not") == 0)
                return fail(ps, "write '%s' in capitals (AND, OR, NOT)", name);
            return fail(ps,
                        "unknown term '%s': not an entity id, an entity type (PERSON, ORG, "
                        "LOC, FACILITY) or a keyword class defined before this event",
                        name);
        }
        at = add_atom(ps->r, ATOM_CLASS, (uint32_t)c);
    }
    if (at < 0)
        return fail(ps, "out of memory");
    ps->p += n;
    if (!ps->negated) {
        if (!nw_grow((void **)&ps->positive, &ps->cappositive, ps->npositive + 1,
                     sizeof(*ps->positive)))
            return fail(ps, "out of memory");
        ps->positive[ps->npositive++] = at;
    }
    return add_node(ps->r, OP_ATOM, -1, -1, at);
}

static int parse_unary(parser *ps)
{
    if (++ps->depth > 64)
        return fail(ps, "expression nested too deeply");
    int result;
    if (keyword(ps, "NOT")) {
        bool was = ps->negated;
        ps->negated = !was;
        int a = parse_unary(ps);
        ps->negated = was;
        result = a < 0 ? -1 : add_node(ps->r, OP_NOT, a, -1, -1);
    } else {
        skip_space(ps);
        if (*ps->p == '(') {
            ps->p++;
            int a = parse_or(ps);
            skip_space(ps);
            if (a >= 0 && *ps->p != ')')
                return fail(ps, "expected ')', found '%.12s'", *ps->p ? ps->p : "the end");
            if (a >= 0)
                ps->p++;
            result = a;
        } else {
            result = parse_atom(ps);
        }
    }
    ps->depth--;
    return result;
}

static int parse_and(parser *ps)
{
    int a = parse_unary(ps);
    while (a >= 0 && keyword(ps, "AND")) {
        int b = parse_unary(ps);
        a = b < 0 ? -1 : add_node(ps->r, OP_AND, a, b, -1);
    }
    return a;
}

static int parse_or(parser *ps)
{
    int a = parse_and(ps);
    while (a >= 0 && keyword(ps, "OR")) {
        int b = parse_and(ps);
        a = b < 0 ? -1 : add_node(ps->r, OP_OR, a, b, -1);
    }
    return a;
}

static int compare_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static nw_err parse_scope(const char *v, nw_event *ev, char *errbuf, size_t errlen)
{
    if (strcmp(v, "sentence") == 0)
        ev->scope = NW_SCOPE_SENTENCE;
    else if (strcmp(v, "paragraph") == 0)
        ev->scope = NW_SCOPE_PARAGRAPH;
    else if (strcmp(v, "document") == 0)
        ev->scope = NW_SCOPE_DOCUMENT;
    else if (strncmp(v, "words:", 6) == 0) {
        char *end;
        long n = strtol(v + 6, &end, 10);
        if (end == v + 6 || *end != '\0' || n < 1 || n > 200)
            return nw_set_error(errbuf, errlen, NW_EINVAL, "words:N needs N from 1 to 200");
        ev->scope = NW_SCOPE_WORDS;
        ev->scope_words = (int)n;
    } else {
        return nw_set_error(errbuf, errlen, NW_EINVAL,
                            "scope is sentence, paragraph, document or words:N, not '%s'", v);
    }
    return NW_OK;
}

static nw_err parse_role(nw_rules *r, const nw_kvconf_entry *e, int c, char *errbuf, size_t errlen)
{
    for (int k = 1; k < NW_ROLE_COUNT; k++) {
        if (strcmp(e->value, role_names[k]) != 0)
            continue;
        for (size_t i = 0; i < r->nclasses; i++)
            if (r->class_role[i] == (nw_role)k)
                return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                    "%s:%u: role '%s' is already the role of class '%s'", e->file,
                                    e->line, e->value, r->class_names[i]);
        r->class_role[c] = (nw_role)k;
        return NW_OK;
    }
    return nw_set_error(errbuf, errlen, NW_ECONFIG,
                        "%s:%u: role is claim, arrest, finding, background, retrospective or "
                        "attack, not '%s'",
                        e->file, e->line, e->value);
}

/* anchor_place = fac.tayaran-square; loc.bab-al-sharqi */
static nw_err parse_places(nw_rules *r, const nw_kvconf_entry *e, nw_event *ev, char *errbuf,
                           size_t errlen)
{
    const char *p = e->value;
    ev->nanchor_places = 0;
    while (*p != '\0') {
        while (*p == ' ' || *p == ';')
            p++;
        size_t n = strcspn(p, "; ");
        if (n == 0)
            break;
        char id[128];
        snprintf(id, sizeof id, "%.*s", (int)(n < sizeof id ? n : sizeof id - 1), p);
        const nw_entity *ent = nw_gazetteer_find(r->g, id);
        if (ent == NULL || (ent->type != NW_ENTITY_LOC && ent->type != NW_ENTITY_FACILITY))
            return nw_set_error(errbuf, errlen, NW_ECONFIG,
                                "%s:%u: anchor_place: '%s' is not a place (LOC or FACILITY) in "
                                "the gazetteer",
                                e->file, e->line, id);
        if (ev->nanchor_places == sizeof ev->anchor_places / sizeof ev->anchor_places[0])
            return nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: anchor_place: at most %zu",
                                e->file, e->line,
                                sizeof ev->anchor_places / sizeof ev->anchor_places[0]);
        ev->anchor_places[ev->nanchor_places++] = ent;
        p += n;
    }
    return NW_OK;
}

const char *nw_label_problem(const char *v, size_t *name_len)
{
    static const char *const own[] = {"alertname", "event", "incident",
                                      "severity",  "kind",  "sequence"};
    const char *eq = strchr(v, '=');
    *name_len = 0;
    if (eq == NULL)
        return "must be name=value";
    size_t n = (size_t)(eq - v);
    *name_len = n;
    if (n == 0 || n > 100)
        return "needs a name of 1 to 100 characters before '='";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (!(isalpha(ch) || ch == '_' || (i > 0 && isdigit(ch))))
            return "has a name Alertmanager does not allow (letters, digits and '_', not "
                   "starting with a digit)";
    }
    if (n >= 2 && v[0] == '_' && v[1] == '_')
        return "has a name starting with '__' (reserved by Prometheus)";
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (strlen(own[i]) == n && strncmp(own[i], v, n) == 0)
            return "sets a label newswatch sets itself (alertname, event, incident, severity, "
                   "kind, sequence)";
    if (eq[1] == '\0')
        return "has an empty value";
    for (const char *p = eq + 1; *p != '\0'; p++)
        if ((unsigned char)*p < ' ' || (unsigned char)*p == 0x7f)
            return "has a control character in its value";
    return NULL;
}

static nw_err parse_int(const char *v, long lo, long hi, long *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (end == v || *end != '\0' || n < lo || n > hi)
        return NW_EINVAL;
    *out = n;
    return NW_OK;
}

/* incident, utc_offset, lead_words, min_sentences. */
static nw_err parse_incident_key(const char *key, const char *v, nw_event *ev, char *errbuf,
                                 size_t errlen)
{
    long n;
    if (strcmp(key, "lead_words") == 0 || strcmp(key, "min_sentences") == 0) {
        bool lead = key[0] == 'l';
        if (parse_int(v, 1, lead ? 1000 : 100, &n) != NW_OK)
            return nw_set_error(errbuf, errlen, NW_EINVAL, "%s is a number from 1 to %d, not '%s'",
                                key, lead ? 1000 : 100, v);
        *(lead ? &ev->lead_words : &ev->min_sentences) = (int)n;
        return NW_OK;
    }
    if (strcmp(key, "utc_offset") == 0) {
        int hh, mm, used = 0;
        char sign;
        if (sscanf(v, "%c%2d:%2d%n", &sign, &hh, &mm, &used) != 3 || v[used] != '\0' ||
            (sign != '+' && sign != '-') || hh > 14 || mm > 59)
            return nw_set_error(errbuf, errlen, NW_EINVAL,
                                "utc_offset is +HH:MM or -HH:MM (Iraq: +03:00), not '%s'", v);
        ev->utc_offset_s = (sign == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
        return NW_OK;
    }
    /* incident = recurring | anchored YYYY-MM-DD */
    if (strcmp(v, "recurring") == 0) {
        ev->incident = NW_INCIDENT_RECURRING;
        return NW_OK;
    }
    if (strncmp(v, "anchored", 8) == 0 && isspace((unsigned char)v[8])) {
        const char *d = v + 9;
        while (isspace((unsigned char)*d))
            d++;
        char why[128];
        if (nw_day_parse(d, &ev->anchor_day, why, sizeof why) != NW_OK)
            return nw_set_error(errbuf, errlen, NW_EINVAL, "incident = anchored: %s", why);
        ev->incident = NW_INCIDENT_ANCHORED;
        return NW_OK;
    }
    return nw_set_error(errbuf, errlen, NW_EINVAL,
                        "incident is 'recurring' or 'anchored YYYY-MM-DD', not '%s'", v);
}

/* Adds the terms of "terms = a; b; c" to class c. */
static nw_err add_terms(nw_rules *r, nw_normalizer *n, nw_text *t, nw_segments *s,
                        const nw_kvconf_entry *e, int c, char *errbuf, size_t errlen)
{
    const char *p = e->value;
    char why[512];
    while (*p != '\0') {
        const char *semi = strchr(p, ';');
        size_t len = semi != NULL ? (size_t)(semi - p) : strlen(p);
        const char *a = p;
        size_t al = len;
        while (al > 0 && isspace((unsigned char)*a)) {
            a++;
            al--;
        }
        while (al > 0 && isspace((unsigned char)a[al - 1]))
            al--;
        if (al == 0)
            return nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: an empty term (';;')", e->file,
                                e->line);
        if (nw_phrases_add(r->terms, n, t, s, a, al, (uint32_t)c, why, sizeof why) != NW_OK)
            return nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: %s", e->file, e->line, why);
        p += len + (semi != NULL);
    }
    return NW_OK;
}

static nw_err finish_event(nw_rules *r, compiled_event *ce, const char *file, char *errbuf,
                           size_t errlen)
{
    if (ce->ev.expression == NULL)
        return nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: event '%s' has no 'match ='", file,
                            ce->ev.line, ce->ev.id);
    if (ce->ev.title == NULL)
        ce->ev.title = ce->ev.id;
    if (ce->ev.title_ar == NULL)
        ce->ev.title_ar = "";
    if (ce->ev.severity == NULL)
        ce->ev.severity = "warning";
    (void)r;
    return NW_OK;
}

/* A set of atoms while trigger sets are computed. */
typedef struct atomset {
    int *a;
    size_t n, cap;
} atomset;

static bool atomset_add(atomset *s, int atom)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->a[i] == atom)
            return true;
    if (!nw_grow((void **)&s->a, &s->cap, s->n + 1, sizeof(*s->a)))
        return false;
    s->a[s->n++] = atom;
    return true;
}

/* How common an atom's kind is: entities are rarer than keywords, keywords than types. */
static int atom_cost(const nw_rules *r, int atom)
{
    int kind = r->atoms[atom].kind;
    return kind == ATOM_ENTITY ? 0 : kind == ATOM_CLASS ? 1 : 2;
}

static int set_cost(const nw_rules *r, const atomset *s)
{
    int c = 0;
    for (size_t i = 0; i < s->n; i++)
        if (atom_cost(r, s->a[i]) > c)
            c = atom_cost(r, s->a[i]);
    return c;
}

/*
 * The trigger set of a subtree: atoms one of which must occur wherever the
 * subtree holds. For AND, the rarer child's (entities before keyword classes
 * before types), so that (places) AND bombing is a candidate only where a
 * place occurs; for OR, the union. Returns 0 when the subtree can hold with
 * none of its atoms (under NOT), -1 when out of memory.
 */
static int triggers(const nw_rules *r, int n, atomset *out)
{
    const node *nd = &r->nodes[n];
    if (nd->op == OP_ATOM)
        return atomset_add(out, nd->atom) ? 1 : -1;
    if (nd->op == OP_NOT)
        return 0;
    atomset a = {NULL, 0, 0}, b = {NULL, 0, 0};
    int ra = triggers(r, nd->a, &a), rb = triggers(r, nd->b, &b);
    int rc;
    const atomset *pick = NULL;
    if (ra < 0 || rb < 0) {
        rc = -1;
    } else if (nd->op == OP_OR) {
        rc = ra && rb ? 1 : 0;
        for (size_t i = 0; rc == 1 && i < b.n; i++)
            if (!atomset_add(&a, b.a[i]))
                rc = -1;
        pick = rc == 1 ? &a : NULL;
    } else { /* AND */
        rc = ra || rb ? 1 : 0;
        if (ra && rb) {
            int ca = set_cost(r, &a), cb = set_cost(r, &b);
            pick = (ca < cb || (ca == cb && a.n <= b.n)) ? &a : &b;
        } else {
            pick = ra ? &a : rb ? &b : NULL;
        }
    }
    for (size_t i = 0; pick != NULL && rc == 1 && i < pick->n; i++)
        if (!atomset_add(out, pick->a[i]))
            rc = -1;
    free(a.a);
    free(b.a);
    return rc;
}

nw_err nw_rules_new(nw_normalizer *n, const nw_gazetteer *g, const char *file, const char *text,
                    size_t len, nw_rules **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    nw_kvconf *conf = NULL;
    nw_err err = nw_kvconf_new(file, text, len, &conf, errbuf, errlen);
    if (err != NW_OK)
        return err;
    nw_rules *r = calloc(1, sizeof(*r));
    nw_text *t = nw_text_new();
    nw_segments *s = nw_segments_new();
    if (r == NULL || t == NULL || s == NULL || (r->terms = nw_phrases_new()) == NULL) {
        err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        goto done;
    }
    r->g = g;
    char why[512];
    const char *section = NULL;
    compiled_event *ce = NULL;
    int cls = -1;
    for (size_t i = 0; err == NW_OK && i < nw_kvconf_count(conf); i++) {
        const nw_kvconf_entry *e = nw_kvconf_at(conf, i);
        if (section != e->section) { /* a new section (kvconf keeps one string per header) */
            if (ce != NULL && (err = finish_event(r, ce, file, errbuf, errlen)) != NW_OK)
                break;
            section = e->section;
            ce = NULL;
            cls = -1;
            if (strncmp(section, "class.", 6) == 0 && section[6] != '\0') {
                const char *name = section + 6;
                if (find_class(r, name, strlen(name)) >= 0) {
                    err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                                       "%s:%u: keyword class '%s' is defined twice", file, e->line,
                                       name);
                    break;
                }
                char **nc = realloc(r->class_names, (r->nclasses + 1) * sizeof(char *));
                if (nc != NULL)
                    r->class_names = nc;
                nw_role *nr = realloc(r->class_role, (r->nclasses + 1) * sizeof(nw_role));
                if (nr != NULL)
                    r->class_role = nr;
                if (nc == NULL || nr == NULL || (nc[r->nclasses] = keep(r, name)) == NULL) {
                    err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
                    break;
                }
                nr[r->nclasses] = NW_ROLE_NONE;
                cls = (int)r->nclasses++;
            } else if (strncmp(section, "event.", 6) == 0 && section[6] != '\0') {
                const char *id = section + 6;
                for (size_t k = 0; k < r->nevents; k++)
                    if (strcmp(r->events[k].ev.id, id) == 0)
                        err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                                           "%s:%u: event '%s' is defined twice", file, e->line, id);
                if (err != NW_OK)
                    break;
                if (!nw_grow((void **)&r->events, &r->cap_events, r->nevents + 1,
                             sizeof(*r->events))) {
                    err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
                    break;
                }
                ce = &r->events[r->nevents++];
                memset(ce, 0, sizeof *ce);
                ce->ev.id = keep(r, id);
                ce->ev.file = keep(r, file);
                ce->ev.line = e->line > 0 ? e->line - 1 : 0;
                ce->ev.episode_gap_s = 72 * 3600;
                ce->ev.incident = NW_INCIDENT_RECURRING;
                ce->ev.anchor_window_s = 3650L * 86400;
                ce->ev.update_interval_s = 6 * 3600;
                ce->ev.background_age_s = 14L * 86400;
                ce->ev.utc_offset_s = 3 * 3600;
                ce->ev.lead_words = 60;
                ce->ev.min_sentences = 2;
                ce->ev.scope = NW_SCOPE_SENTENCE;
                ce->ev.resolve_after_s = NW_RESOLVE_AFTER_DEFAULT;
                ce->root = -1;
                if (ce->ev.id == NULL || ce->ev.file == NULL) {
                    err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
                    break;
                }
            } else {
                err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                                   "%s:%u: unknown section [%s]: use [class.NAME] or "
                                   "[event.ID]",
                                   file, e->line, section);
                break;
            }
        }
        if (cls >= 0) {
            if (strcmp(e->key, "role") == 0)
                err = parse_role(r, e, cls, errbuf, errlen);
            else if (strcmp(e->key, "terms") != 0)
                err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                                   "%s:%u: unknown key '%s' in [%s] (a class has 'terms = a; b' "
                                   "and may have 'role = ...')",
                                   file, e->line, e->key, section);
            else
                err = add_terms(r, n, t, s, e, cls, errbuf, errlen);
            continue;
        }
        /* An event's keys. */
        const char *v = e->value;
        if (strcmp(e->key, "title") == 0) {
            ce->ev.title = keep(r, v);
        } else if (strcmp(e->key, "title_ar") == 0) {
            ce->ev.title_ar = keep(r, v);
        } else if (strcmp(e->key, "severity") == 0) {
            if (strcmp(v, "info") != 0 && strcmp(v, "warning") != 0 && strcmp(v, "critical") != 0)
                err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                                   "%s:%u: severity is info, warning or critical, not '%s'", file,
                                   e->line, v);
            else
                ce->ev.severity = keep(r, v);
        } else if (strcmp(e->key, "episode_gap") == 0) {
            if (nw_parse_duration(v, &ce->ev.episode_gap_s, why, sizeof why) != NW_OK)
                err = nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: episode_gap: %s", file,
                                   e->line, why);
        } else if (strcmp(e->key, "anchor_window") == 0 || strcmp(e->key, "update_interval") == 0 ||
                   strcmp(e->key, "background_age") == 0 || strcmp(e->key, "resolve_after") == 0) {
            long *dst = e->key[0] == 'a'   ? &ce->ev.anchor_window_s
                        : e->key[0] == 'u' ? &ce->ev.update_interval_s
                        : e->key[0] == 'r' ? &ce->ev.resolve_after_s
                                           : &ce->ev.background_age_s;
            if (nw_parse_duration(v, dst, why, sizeof why) != NW_OK)
                err = nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: %s: %s", file, e->line,
                                   e->key, why);
            else if (e->key[0] == 'r' && *dst < 1)
                err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                                   "%s:%u: resolve_after must be at least 1s, not '%s'", file,
                                   e->line, v);
        } else if (strcmp(e->key, "label") == 0) {
            size_t nlen;
            const char *problem = nw_label_problem(v, &nlen);
            for (size_t k = 0; problem == NULL && k < ce->ev.nlabels; k++)
                if (strlen(ce->ev.labels[k].name) == nlen &&
                    strncmp(ce->ev.labels[k].name, v, nlen) == 0)
                    problem = "names a label that is already set for this event";
            if (problem == NULL && ce->ev.nlabels == NW_EVENT_LABELS_MAX)
                problem = "is one label too many (at most 8 per event)";
            if (problem != NULL) {
                err = nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: label '%s' %s", file,
                                   e->line, v, problem);
            } else {
                char name[128];
                snprintf(name, sizeof name, "%.*s", (int)nlen, v);
                nw_label *l = &ce->ev.labels[ce->ev.nlabels];
                l->name = keep(r, name);
                l->value = keep(r, v + nlen + 1);
                if (l->name == NULL || l->value == NULL)
                    err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
                else
                    ce->ev.nlabels++;
            }
        } else if (strcmp(e->key, "anchor_place") == 0) {
            err = parse_places(r, e, &ce->ev, errbuf, errlen);
        } else if (strcmp(e->key, "incident") == 0 || strcmp(e->key, "utc_offset") == 0 ||
                   strcmp(e->key, "lead_words") == 0 || strcmp(e->key, "min_sentences") == 0) {
            if (parse_incident_key(e->key, v, &ce->ev, why, sizeof why) != NW_OK)
                err = nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: %s", file, e->line, why);
        } else if (strcmp(e->key, "scope") == 0) {
            if (parse_scope(v, &ce->ev, why, sizeof why) != NW_OK)
                err = nw_set_error(errbuf, errlen, NW_ECONFIG, "%s:%u: %s", file, e->line, why);
        } else if (strcmp(e->key, "match") == 0) {
            if (ce->root >= 0) {
                err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                                   "%s:%u: a second 'match =' for event '%s' (combine them "
                                   "with OR)",
                                   file, e->line, ce->ev.id);
                break;
            }
            parser ps = {r, v, v, file, e->line, errbuf, errlen, false, 0, NULL, 0, 0, false};
            int root = parse_or(&ps);
            skip_space(&ps);
            if (root >= 0 && *ps.p != '\0') {
                size_t wl = word_len(ps.p);
                if ((wl == 3 && (strncmp(ps.p, "and", 3) == 0 || strncmp(ps.p, "not", 3) == 0)) ||
                    (wl == 2 && strncmp(ps.p, "or", 2) == 0))
                    fail(&ps, "write '%.*s' in capitals (AND, OR, NOT)", (int)wl, ps.p);
                else
                    fail(&ps, "unexpected '%.20s' (join terms with AND or OR)", ps.p);
            }
            if (!ps.failed && ps.npositive == 0)
                fail(&ps, "a rule needs at least one term outside NOT");
            if (ps.failed) {
                free(ps.positive);
                err = NW_ECONFIG;
                break;
            }
            qsort(ps.positive, ps.npositive, sizeof(int), compare_int);
            size_t u = 0;
            for (size_t k = 0; k < ps.npositive; k++)
                if (u == 0 || ps.positive[u - 1] != ps.positive[k])
                    ps.positive[u++] = ps.positive[k];
            ce->positive = ps.positive;
            ce->npositive = u;
            ce->root = root;
            ce->ev.expression = keep(r, v);
        } else {
            err = nw_set_error(errbuf, errlen, NW_ECONFIG,
                               "%s:%u: unknown key '%s' in [%s] (known: title, title_ar, "
                               "severity, incident, anchor_window, anchor_place, episode_gap, "
                               "update_interval, background_age, utc_offset, lead_words, "
                               "min_sentences, scope, match, resolve_after, label)",
                               file, e->line, e->key, section);
        }
        if (err == NW_OK && (ce->ev.title == NULL && strcmp(e->key, "title") == 0))
            err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    }
    if (err == NW_OK && ce != NULL)
        err = finish_event(r, ce, file, errbuf, errlen);
    if (err == NW_OK && r->nevents == 0)
        err = nw_set_error(errbuf, errlen, NW_ECONFIG, "%s: no [event.ID] section", file);
    if (err != NW_OK)
        goto done;

    /* The index: atom -> events that use it positively; entity and type -> atom. */
    size_t ng = nw_gazetteer_count(g);
    r->entity_atom = malloc((ng + 1) * sizeof(int));
    r->class_atom = malloc((r->nclasses + 1) * sizeof(int));
    r->atom_events = calloc(r->natoms + 1, sizeof(int *));
    if (r->entity_atom == NULL || r->class_atom == NULL || r->atom_events == NULL) {
        err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < ng; i++)
        r->entity_atom[i] = -1;
    for (size_t i = 0; i < r->nclasses; i++)
        r->class_atom[i] = -1;
    for (int k = 0; k < NW_ENTITY_TYPE_COUNT; k++)
        r->type_atom[k] = -1;
    for (size_t a = 0; a < r->natoms; a++) {
        if (r->atoms[a].kind == ATOM_ENTITY)
            r->entity_atom[r->atoms[a].index] = (int)a;
        else if (r->atoms[a].kind == ATOM_TYPE)
            r->type_atom[r->atoms[a].index] = (int)a;
        else
            r->class_atom[r->atoms[a].index] = (int)a;
    }
    /* Each event's trigger set (its positive atoms when no sound one exists). */
    size_t *counts = calloc(r->natoms + 1, sizeof(size_t));
    if (counts == NULL) {
        err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t ev = 0; ev < r->nevents; ev++) {
        compiled_event *cev = &r->events[ev];
        atomset ts = {NULL, 0, 0};
        int rc = triggers(r, cev->root, &ts);
        if (rc != 1 || ts.n == 0) {
            free(ts.a);
            ts.a = malloc(cev->npositive * sizeof(int));
            ts.n = ts.a != NULL ? cev->npositive : 0;
            if (ts.a != NULL)
                memcpy(ts.a, cev->positive, cev->npositive * sizeof(int));
        }
        if (ts.a == NULL) {
            free(counts);
            err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
            goto done;
        }
        qsort(ts.a, ts.n, sizeof(int), compare_int);
        cev->trigger = ts.a;
        cev->ntrigger = ts.n;
        for (size_t k = 0; k < ts.n; k++)
            counts[ts.a[k]]++;
    }
    /* The index: trigger atom -> events, in event order, in one pass. */
    for (size_t a = 0; a < r->natoms; a++) {
        if ((r->atom_events[a] = malloc((counts[a] + 1) * sizeof(int))) == NULL) {
            free(counts);
            err = nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
            goto done;
        }
        counts[a] = 0;
    }
    for (size_t ev = 0; ev < r->nevents; ev++)
        for (size_t k = 0; k < r->events[ev].ntrigger; k++) {
            int a = r->events[ev].trigger[k];
            r->atom_events[a][counts[a]++] = (int)ev;
        }
    for (size_t a = 0; a < r->natoms; a++)
        r->atom_events[a][counts[a]] = -1;
    free(counts);
done:
    nw_kvconf_free(conf);
    nw_text_free(t);
    nw_segments_free(s);
    if (err != NW_OK) {
        nw_rules_free(r);
        return err;
    }
    *out = r;
    return NW_OK;
}

nw_err nw_rules_new_from_file(nw_normalizer *n, const nw_gazetteer *g, const char *path,
                              nw_rules **out, char *errbuf, size_t errlen)
{
    char *buf;
    size_t len;
    *out = NULL;
    nw_err err = nw_file_read(path, 16u << 20, &buf, &len, errbuf, errlen);
    if (err != NW_OK)
        return err;
    err = nw_rules_new(n, g, path, buf, len, out, errbuf, errlen);
    free(buf);
    return err;
}

/* ---- matching ----------------------------------------------------------- */

typedef struct occurrence {
    int atom;
    uint32_t token, paragraph;
    nw_term term;
} occurrence;

struct nw_matcher {
    const nw_rules *r;
    occurrence *occ;
    size_t nocc, capocc;
    uint32_t *stamp; /* per atom: the window it was last seen in */
    uint32_t gen;
    uint32_t *ev_stamp; /* per event: the document it was last a candidate in */
    uint32_t doc_gen;
    int *cands;
    nw_match *matches;
    size_t nmatches, capmatches;
    nw_term *terms;
    size_t nterms, capterms;
    size_t *term_start; /* per match: its first term in terms */
    size_t *term_occ;   /* per term: its occurrence */
    size_t capterm_occ;
    uint32_t *taken; /* per occurrence: the event evaluation (take_gen) that took it */
    uint32_t take_gen;
    size_t captaken;
    uint32_t *sent; /* the matches' sentences */
    size_t nsent, capsent;
    size_t *sent_start; /* per match: its first sentence in sent */
    nw_role_term *roles;
    size_t nroles, caproles;
    size_t ncands;           /* events evaluated in the last run */
    uint32_t *atom_sentence; /* per atom: 1 + the sentence it was last counted in, or 0 */
    nw_word *words;
    size_t capwords;
};

nw_matcher *nw_matcher_new(const nw_rules *r)
{
    nw_matcher *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->r = r;
    m->stamp = calloc(r->natoms + 1, sizeof(uint32_t));
    m->atom_sentence = calloc(r->natoms + 1, sizeof(uint32_t));
    m->ev_stamp = calloc(r->nevents + 1, sizeof(uint32_t));
    m->cands = calloc(r->nevents + 1, sizeof(int));
    m->term_start = calloc(r->nevents + 1, sizeof(size_t));
    m->sent_start = calloc(r->nevents + 1, sizeof(size_t));
    m->matches = calloc(r->nevents + 1, sizeof(nw_match));
    if (m->stamp == NULL || m->atom_sentence == NULL || m->ev_stamp == NULL || m->cands == NULL ||
        m->term_start == NULL || m->sent_start == NULL || m->matches == NULL) {
        nw_matcher_free(m);
        return NULL;
    }
    return m;
}

void nw_matcher_free(nw_matcher *m)
{
    if (m == NULL)
        return;
    free(m->occ);
    free(m->stamp);
    free(m->ev_stamp);
    free(m->cands);
    free(m->matches);
    free(m->terms);
    free(m->term_start);
    free(m->term_occ);
    free(m->taken);
    free(m->sent);
    free(m->sent_start);
    free(m->roles);
    free(m->atom_sentence);
    free(m->words);
    free(m);
}

static bool add_occ(nw_matcher *m, int atom, uint32_t token, uint32_t paragraph,
                    const nw_term *term)
{
    if (atom < 0)
        return true;
    if (!nw_grow((void **)&m->occ, &m->capocc, m->nocc + 1, sizeof(occurrence)))
        return false;
    m->occ[m->nocc++] = (occurrence){atom, token, paragraph, *term};
    return true;
}

static bool add_role(nw_matcher *m, uint32_t cls, uint32_t token, uint32_t sentence)
{
    nw_role role = m->r->class_role[cls];
    if (role == NW_ROLE_NONE)
        return true;
    if (!nw_grow((void **)&m->roles, &m->caproles, m->nroles + 1, sizeof(nw_role_term)))
        return false;
    m->roles[m->nroles++] = (nw_role_term){role, token, sentence};
    return true;
}

static int compare_occ(const void *a, const void *b)
{
    const occurrence *x = a, *y = b;
    if (x->token != y->token)
        return x->token < y->token ? -1 : 1;
    if (x->term.start != y->term.start)
        return x->term.start < y->term.start ? -1 : 1;
    return (x->atom > y->atom) - (x->atom < y->atom);
}

static bool eval(const nw_matcher *m, int n)
{
    const node *nd = &m->r->nodes[n];
    switch (nd->op) {
    case OP_ATOM:
        return m->stamp[nd->atom] == m->gen;
    case OP_AND:
        return eval(m, nd->a) && eval(m, nd->b);
    case OP_OR:
        return eval(m, nd->a) || eval(m, nd->b);
    default:
        return !eval(m, nd->a);
    }
}

static bool is_positive(const compiled_event *ce, int atom)
{
    return bsearch(&atom, ce->positive, ce->npositive, sizeof(int), compare_int) != NULL;
}

/* Does the event's rule hold over occurrences [a, b)? */
static bool holds(nw_matcher *m, const compiled_event *ce, size_t a, size_t b)
{
    m->gen++;
    bool any_positive = false;
    for (size_t k = a; k < b; k++) {
        m->stamp[m->occ[k].atom] = m->gen;
        any_positive |= is_positive(ce, m->occ[k].atom);
    }
    return any_positive && eval(m, ce->root);
}

/* Marks the positive occurrences of a window where the rule holds (each taken once). */
static void take_window(nw_matcher *m, const compiled_event *ce, size_t a, size_t b)
{
    for (size_t k = a; k < b; k++)
        if (is_positive(ce, m->occ[k].atom))
            m->taken[k] = m->take_gen;
}

/* The terms of the occurrences taken, in text order; false when out of memory. */
static bool collect_taken(nw_matcher *m)
{
    for (size_t k = 0; k < m->nocc; k++) {
        if (m->taken[k] != m->take_gen)
            continue;
        if (!nw_grow((void **)&m->terms, &m->capterms, m->nterms + 1, sizeof(nw_term)) ||
            !nw_grow((void **)&m->term_occ, &m->capterm_occ, m->nterms + 1, sizeof(size_t)))
            return false;
        m->term_occ[m->nterms] = k;
        m->terms[m->nterms++] = m->occ[k].term;
    }
    return true;
}

/* The token after the lead: the first lead_words words. */
static uint32_t lead_end(const nw_analysis *an, int lead_words)
{
    const nw_segments *s = an->seg;
    int words = 0;
    for (size_t i = 0; i < s->ntokens; i++)
        if (s->tokens[i].kind == NW_TOKEN_WORD && ++words > lead_words)
            return (uint32_t)i;
    return (uint32_t)s->ntokens;
}

/* Records the match of event ev from the terms taken since first_term. */
static int record_match(nw_matcher *m, const nw_analysis *an, size_t ev, size_t first_term)
{
    const compiled_event *ce = &m->r->events[ev];
    nw_match *match = &m->matches[m->nmatches];
    memset(match, 0, sizeof *match);
    match->event = &ce->ev;
    m->term_start[m->nmatches] = first_term;
    m->sent_start[m->nmatches] = m->nsent;
    /* The sentences, and the one with the most distinct positive atoms. The terms are in
     * text order, so a sentence's terms are together: atom_sentence[atom] says whether the
     * atom was already counted in this one. Linear, however dense the document. */
    uint32_t best = m->terms[first_term].sentence, best_score = 0, score = 0;
    for (size_t k = first_term; k < m->nterms; k++) {
        int atom = m->occ[m->term_occ[k]].atom;
        uint32_t sn = m->terms[k].sentence;
        if (m->nsent == m->sent_start[m->nmatches] || m->sent[m->nsent - 1] != sn) {
            if (!nw_grow((void **)&m->sent, &m->capsent, m->nsent + 1, sizeof(uint32_t)))
                return -1;
            m->sent[m->nsent++] = sn;
            score = 0;
        }
        if (m->atom_sentence[atom] == sn + 1)
            continue;
        m->atom_sentence[atom] = sn + 1;
        if (++score > best_score) { /* ties: the earlier sentence */
            best_score = score;
            best = sn;
        }
    }
    for (size_t k = first_term; k < m->nterms; k++)
        m->atom_sentence[m->occ[m->term_occ[k]].atom] = 0;
    size_t ns = m->nsent - m->sent_start[m->nmatches];
    match->evidence = best;
    match->nterms = m->nterms - first_term;
    match->nsentences = ns;
    /* The lead: the rule over the occurrences before its end, as one window. */
    uint32_t end = lead_end(an, ce->ev.lead_words);
    size_t b = 0;
    while (b < m->nocc && m->occ[b].token < end)
        b++;
    match->in_lead = b > 0 && holds(m, ce, 0, b);
    m->nmatches++;
    return 1;
}

/* Every window of the event's scope where its rule holds; 1 when there is one. */
static int match_event(nw_matcher *m, const nw_analysis *an, size_t ev)
{
    const compiled_event *ce = &m->r->events[ev];
    size_t n = m->nocc, first_term = m->nterms;
    m->take_gen++;
    if (ce->ev.scope == NW_SCOPE_DOCUMENT) {
        if (holds(m, ce, 0, n))
            take_window(m, ce, 0, n);
    } else if (ce->ev.scope == NW_SCOPE_WORDS) {
        uint32_t w = (uint32_t)ce->ev.scope_words;
        size_t lo = 0;
        for (size_t k = 0; k < n; k++) {
            if (!is_positive(ce, m->occ[k].atom))
                continue;
            uint32_t t = m->occ[k].token;
            while (lo < n && m->occ[lo].token + w < t)
                lo++;
            size_t hi = k;
            while (hi < n && m->occ[hi].token <= t + w)
                hi++;
            if (holds(m, ce, lo, hi))
                take_window(m, ce, lo, hi);
        }
    } else {
        for (size_t a = 0; a < n;) {
            size_t b = a;
            uint32_t key =
                ce->ev.scope == NW_SCOPE_SENTENCE ? m->occ[a].term.sentence : m->occ[a].paragraph;
            while (b < n && (ce->ev.scope == NW_SCOPE_SENTENCE ? m->occ[b].term.sentence
                                                               : m->occ[b].paragraph) == key)
                b++;
            if (holds(m, ce, a, b))
                take_window(m, ce, a, b);
            a = b;
        }
    }
    if (!collect_taken(m))
        return -1;
    bool broad = false;
    if (m->nterms == first_term && ce->ev.scope != NW_SCOPE_DOCUMENT && holds(m, ce, 0, n)) {
        /* Not in one scope, but in the document: salient only by its title or lead. */
        take_window(m, ce, 0, n);
        if (!collect_taken(m))
            return -1;
        broad = true;
    }
    if (m->nterms == first_term)
        return 0;
    int rc = record_match(m, an, ev, first_term);
    if (rc > 0)
        m->matches[m->nmatches - 1].broad = broad;
    return rc;
}

static nw_err collect(nw_matcher *m, const nw_analysis *an, char *errbuf, size_t errlen)
{
    const nw_rules *r = m->r;
    const nw_segments *s = an->seg;
    const nw_text *t = an->text;
    const nw_entity *first = nw_gazetteer_at(r->g, 0);
    for (size_t i = 0; i < an->nmentions; i++) {
        const nw_mention *mn = &an->mentions[i];
        nw_term term = {mn->entity, mn->type, NULL, mn->start, mn->end, mn->sentence};
        uint32_t par = s->sentences[mn->sentence].paragraph;
        /* A rule naming a place also holds for the places within it (the gazetteer's
         * hierarchy): the mention is an occurrence of each of its ancestors too. */
        for (const nw_entity *e = mn->entity; e != NULL; e = e->parent)
            if (!add_occ(m, r->entity_atom[e - first], mn->first_token, par, &term))
                return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        if (!add_occ(m, r->type_atom[mn->type], mn->first_token, par, &term))
            return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    }
    /* Only the tokens the screen lets through (and hashtags) can start a term. */
    for (size_t i = 0; (i = nw_lookups_next(r->terms, s, i)) < s->ntokens;) {
        const nw_token *tok = &s->tokens[i];
        nw_phrase_hit h;
        if (tok->flags & NW_TOKEN_IN_URL) {
            i++;
            continue;
        }
        uint32_t par = tok->paragraph;
        if (tok->flags & NW_TOKEN_HASHTAG) {
            size_t max = tok->end - tok->start + 1;
            if (!nw_grow((void **)&m->words, &m->capwords, max, sizeof(nw_word)))
                return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
            size_t nw = nw_phrases_hashtag_words(t, tok, m->words, max);
            for (size_t k = 0; k < nw;) {
                if (!nw_phrases_match_words(r->terms, t, m->words, nw, k, &h)) {
                    k++;
                    continue;
                }
                for (uint32_t v = 0; v < h.nvalues; v++) {
                    nw_term term = {NULL,    0,     r->class_names[h.values[v]],
                                    h.start, h.end, tok->sentence};
                    if (!add_occ(m, r->class_atom[h.values[v]], (uint32_t)i, par, &term) ||
                        !add_role(m, h.values[v], (uint32_t)i, tok->sentence))
                        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
                }
                k += h.ntokens;
            }
            i++;
            continue;
        }
        if (!nw_phrases_match(r->terms, t, s, i, &h)) {
            i++;
            continue;
        }
        for (uint32_t v = 0; v < h.nvalues; v++) {
            nw_term term = {NULL, 0, r->class_names[h.values[v]], h.start, h.end, tok->sentence};
            if (!add_occ(m, r->class_atom[h.values[v]], (uint32_t)i, par, &term) ||
                !add_role(m, h.values[v], (uint32_t)i, tok->sentence))
                return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        }
        i += h.ntokens;
    }
    if (m->nocc > 1) /* qsort(NULL, 0, ...) is undefined */
        qsort(m->occ, m->nocc, sizeof(occurrence), compare_occ);
    return NW_OK;
}

nw_err nw_matcher_run(nw_matcher *m, const nw_analysis *an, const nw_match **matches,
                      size_t *nmatches, char *errbuf, size_t errlen)
{
    m->nocc = m->nmatches = m->nterms = m->nsent = m->nroles = 0;
    *matches = NULL;
    *nmatches = 0;
    nw_err err = collect(m, an, errbuf, errlen);
    if (err != NW_OK)
        return err;
    if (!nw_grow((void **)&m->taken, &m->captaken, m->nocc + 1, sizeof(uint32_t)))
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    memset(m->taken, 0, (m->nocc + 1) * sizeof(uint32_t));
    m->take_gen = 0;
    /* Candidates: only the events whose positive terms occur. */
    m->doc_gen++;
    size_t ncands = 0;
    for (size_t k = 0; k < m->nocc; k++) {
        for (const int *ev = m->r->atom_events[m->occ[k].atom]; *ev >= 0; ev++) {
            if (m->ev_stamp[*ev] != m->doc_gen) {
                m->ev_stamp[*ev] = m->doc_gen;
                m->cands[ncands++] = *ev;
            }
        }
    }
    if (ncands > 1)
        qsort(m->cands, ncands, sizeof(int), compare_int);
    m->ncands = ncands;
    for (size_t c = 0; c < ncands; c++)
        if (match_event(m, an, (size_t)m->cands[c]) < 0)
            return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->nmatches; i++) {
        m->matches[i].terms = m->terms + m->term_start[i];
        m->matches[i].sentences = m->sent + m->sent_start[i];
    }
    *matches = m->matches;
    *nmatches = m->nmatches;
    return NW_OK;
}

size_t nw_matcher_candidates(const nw_matcher *m)
{
    return m->ncands;
}

const nw_role_term *nw_matcher_roles(const nw_matcher *m, size_t *n)
{
    *n = m->nroles;
    return m->roles;
}

nw_err nw_matcher_title(nw_matcher *body, nw_matcher *title, const nw_analysis *title_an,
                        char *errbuf, size_t errlen)
{
    const nw_match *tm;
    size_t tn;
    nw_err err = nw_matcher_run(title, title_an, &tm, &tn, errbuf, errlen);
    bool back = false;
    for (size_t i = 0; err == NW_OK && i < title->nroles; i++)
        back |= title->roles[i].role == NW_ROLE_RETROSPECTIVE;
    for (size_t k = 0; back && k < body->nmatches; k++)
        body->matches[k].title_looks_back = true;
    for (size_t i = 0; err == NW_OK && i < tn; i++)
        for (size_t k = 0; k < body->nmatches; k++)
            if (body->matches[k].event == tm[i].event)
                body->matches[k].in_title = true;
    return err;
}

static void text_slice(nw_jsonw *w, const nw_text *t, uint32_t start, uint32_t end)
{
    nw_jsonw_string(w, t->display + t->display_cp[start],
                    t->display_cp[end] - t->display_cp[start]);
}

/*
 * Is term i the same as an earlier one: the same entity, or the same keyword class or
 * unlinked name with the same matching form? A record lists each once.
 */
static bool listed_before(const nw_text *t, const nw_match *m, size_t i)
{
    const nw_term *a = &m->terms[i];
    size_t alen = t->match_cp[a->end] - t->match_cp[a->start];
    for (size_t j = 0; j < i; j++) {
        const nw_term *b = &m->terms[j];
        if (a->entity != NULL || b->entity != NULL) {
            if (a->entity == b->entity)
                return true;
            continue;
        }
        if (a->class_name == b->class_name && a->type == b->type &&
            t->match_cp[b->end] - t->match_cp[b->start] == alen &&
            memcmp(t->match + t->match_cp[a->start], t->match + t->match_cp[b->start], alen) == 0)
            return true;
    }
    return false;
}

void nw_match_write_members(const nw_match *match, const nw_analysis *an, const nw_doc *doc,
                            const nw_casualties *casualties, nw_jsonw *w)
{
    const nw_text *t = an->text;
    const nw_sentence *ev = &an->seg->sentences[match->evidence];
    nw_jsonw_key(w, "schema");
    nw_jsonw_cstring(w, NW_MATCH_SCHEMA);
    nw_jsonw_key(w, "event");
    nw_jsonw_cstring(w, match->event->id);
    nw_jsonw_key(w, "title");
    nw_jsonw_cstring(w, match->event->title);
    nw_jsonw_key(w, "severity");
    nw_jsonw_cstring(w, match->event->severity);
    nw_jsonw_key(w, "doc_id");
    nw_doc_write_field(w, doc, NW_DOC_ID);
    nw_jsonw_key(w, "source");
    nw_doc_write_field(w, doc, NW_DOC_SOURCE);
    nw_jsonw_key(w, "url");
    nw_doc_write_field(w, doc, NW_DOC_URL);
    nw_jsonw_key(w, "published_at");
    nw_doc_write_field(w, doc, NW_DOC_PUBLISHED_AT);
    nw_jsonw_key(w, "evidence");
    nw_jsonw_object_begin(w);
    nw_span_write_members(w, t, "text", ev->start, ev->end);
    nw_jsonw_object_end(w);
    nw_jsonw_key(w, "terms");
    nw_jsonw_array_begin(w);
    size_t listed = 0;
    for (size_t i = 0; i < match->nterms && listed < NW_MATCH_TERMS_MAX; i++) {
        const nw_term *tm = &match->terms[i];
        if (tm->entity != NULL || tm->class_name == NULL || listed_before(t, match, i))
            continue;
        listed++;
        nw_jsonw_object_begin(w);
        nw_jsonw_key(w, "class");
        nw_jsonw_cstring(w, tm->class_name);
        nw_span_write_members(w, t, "surface", tm->start, tm->end);
        nw_jsonw_object_end(w);
    }
    nw_jsonw_array_end(w);
    nw_jsonw_key(w, "entities");
    nw_jsonw_array_begin(w);
    listed = 0;
    for (size_t i = 0; i < match->nterms && listed < NW_MATCH_TERMS_MAX; i++) {
        const nw_term *tm = &match->terms[i];
        if ((tm->entity == NULL && tm->class_name != NULL) || listed_before(t, match, i))
            continue;
        listed++;
        nw_jsonw_object_begin(w);
        nw_jsonw_key(w, "id");
        nw_jsonw_cstring(w, tm->entity ? tm->entity->id : NULL);
        nw_jsonw_key(w, "type");
        nw_jsonw_cstring(w, nw_entity_type_name(tm->type));
        nw_jsonw_key(w, "name");
        if (tm->entity)
            nw_jsonw_cstring(w, tm->entity->name);
        else
            text_slice(w, t, tm->start, tm->end);
        nw_span_write_members(w, t, "surface", tm->start, tm->end);
        nw_jsonw_object_end(w);
    }
    nw_jsonw_array_end(w);
    nw_jsonw_key(w, "casualties");
    nw_casualties_write(w, casualties != NULL ? casualties : &an->casualties);
}
