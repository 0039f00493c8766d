#include "newswatch/html.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/entities.h>
#include <libxml/tree.h>

#include "newswatch/utf8.h"
#include "grow.h"
#include "htmltext.h"

void nw_textbuf_init(nw_textbuf *b, size_t max, bool raw)
{
    memset(b, 0, sizeof *b);
    b->max = max;
    b->raw = raw;
}

void nw_textbuf_free(nw_textbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

/* Appends s[0..n) as it is, cut at max on a character boundary. */
static void put(nw_textbuf *b, const char *s, size_t n)
{
    if (b->oom || b->truncated)
        return;
    if (b->len + n > b->max) {
        n = b->max - b->len;
        size_t ok = 0;
        while (ok < n) { /* whole characters only (s may not be valid UTF-8) */
            size_t k = nw_utf8_sequence(s + ok, n - ok);
            if (k == 0)
                break;
            ok += k;
        }
        n = ok;
        b->truncated = true;
    }
    if (!nw_grow((void **)&b->s, &b->cap, b->len + n + 1, 1)) {
        b->oom = true;
        return;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

/* Writes what is owed before a visible character. */
static void owed(nw_textbuf *b)
{
    if (b->len > 0) {
        if (b->pending_break > 0)
            put(b, "\n\n", (size_t)b->pending_break);
        else if (b->pending_space)
            put(b, " ", 1);
    }
    b->pending_break = 0;
    b->pending_space = false;
}

void nw_textbuf_break(nw_textbuf *b, int lines)
{
    if (b->raw) {
        put(b, "\n", 1);
        return;
    }
    if (lines > b->pending_break)
        b->pending_break = lines > 2 ? 2 : lines;
    b->pending_space = false;
}

/* Length of the white space character at p (ASCII white space, U+00A0), or 0. */
static size_t space_at(const unsigned char *p, size_t avail)
{
    if (p[0] == ' ' || p[0] == '\t' || p[0] == '\n' || p[0] == '\r' || p[0] == '\f' || p[0] == '\v')
        return 1;
    if (avail >= 2 && p[0] == 0xC2 && p[1] == 0xA0)
        return 2;
    return 0;
}

/* Appends text; lines: a newline breaks the line (two: the paragraph). */
static void add_text(nw_textbuf *b, const char *s, size_t n, bool lines)
{
    if (b->raw) {
        put(b, s, n);
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int newlines = 0;
    while (i < n) {
        size_t k = space_at(p + i, n - i);
        if (k > 0) {
            if (lines && p[i] == '\n' && ++newlines > 0)
                nw_textbuf_break(b, newlines);
            else if (b->pending_break == 0)
                b->pending_space = true;
            i += k;
            continue;
        }
        if (p[i] < 0x20 || p[i] == 0x7F) { /* control characters */
            i++;
            continue;
        }
        newlines = 0;
        size_t start = i;
        while (i < n && space_at(p + i, n - i) == 0 && p[i] >= 0x20 && p[i] != 0x7F)
            i++;
        owed(b);
        put(b, s + start, i - start);
    }
}

void nw_textbuf_text(nw_textbuf *b, const char *s, size_t n)
{
    add_text(b, s, n, false);
}

void nw_textbuf_lines(nw_textbuf *b, const char *s, size_t n)
{
    add_text(b, s, n, true);
}

char *nw_textbuf_take(nw_textbuf *b, size_t *len)
{
    if (b->oom) {
        nw_textbuf_free(b);
        return NULL;
    }
    char *s = b->s != NULL ? b->s : calloc(1, 1);
    if (len != NULL)
        *len = b->s != NULL ? b->len : 0;
    b->s = NULL;
    b->len = b->cap = 0;
    b->pending_break = 0;
    b->pending_space = false;
    return s;
}

enum kind { INLINE, DROP, LINE, PARA, CELL, BR };

static enum kind element_kind(const xmlNode *n)
{
    static const char *const drop[] = {
        "script", "style",  "nav",   "aside",    "form",     "iframe", "noscript", "template",
        "svg",    "math",   "head",  "object",   "embed",    "button", "select",   "textarea",
        "input",  "canvas", "audio", "video",    "map",      "frame",  "frameset", "applet",
        "title",  "meta",   "link",  "noframes", "datalist", "dialog",
    };
    static const char *const para[] = {"p",     "h1",         "h2",  "h3",      "h4",  "h5",
                                       "h6",    "blockquote", "pre", "ul",      "ol",  "dl",
                                       "table", "figure",     "hr",  "address", "menu"};
    static const char *const line[] = {
        "div",      "li",     "tr",     "dt",      "dd",         "section", "article", "header",
        "footer",   "main",   "body",   "caption", "figcaption", "center",  "details", "summary",
        "fieldset", "legend", "option", "thead",   "tbody",      "tfoot",   "hgroup",  "html",
    };
    const char *name = (const char *)n->name;
    if (name == NULL)
        return INLINE;
    char low[16];
    size_t len = strlen(name);
    if (len >= sizeof low)
        return INLINE;
    for (size_t i = 0; i <= len; i++) { /* XHTML is lower case; be kind to upper case */
        unsigned char c = (unsigned char)name[i];
        low[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    if (strcmp(low, "br") == 0)
        return BR;
    if (strcmp(low, "td") == 0 || strcmp(low, "th") == 0)
        return CELL;
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        if (strcmp(low, drop[i]) == 0)
            return DROP;
    for (size_t i = 0; i < sizeof para / sizeof para[0]; i++)
        if (strcmp(low, para[i]) == 0)
            return PARA;
    for (size_t i = 0; i < sizeof line / sizeof line[0]; i++)
        if (strcmp(low, line[i]) == 0)
            return LINE;
    return INLINE;
}

/* Appends the code point cp as UTF-8. */
static void put_codepoint(nw_textbuf *b, unsigned int cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    nw_textbuf_text(b, u, n);
}

/*
 * An entity reference left in the tree (the parser never substitutes
 * entities): a declared internal entity whose value is plain text gives that
 * text once (never expanded further, so no entity can multiply text); an
 * undeclared one (a recovered feed's &nbsp;) is looked up in HTML's table.
 */
static void entity_ref(nw_textbuf *b, const xmlNode *n)
{
    const xmlEntity *ent = (const xmlEntity *)n->children;
    if (ent != NULL && ent->type == XML_ENTITY_DECL) {
        if ((ent->etype == XML_INTERNAL_GENERAL_ENTITY ||
             ent->etype == XML_INTERNAL_PREDEFINED_ENTITY) &&
            ent->content != NULL && strchr((const char *)ent->content, '&') == NULL &&
            strchr((const char *)ent->content, '<') == NULL)
            nw_textbuf_text(b, (const char *)ent->content, strlen((const char *)ent->content));
        return;
    }
    if (n->name == NULL)
        return;
    const htmlEntityDesc *d = htmlEntityLookup(n->name);
    if (d != NULL)
        put_codepoint(b, d->value);
}

/* Called on entering a node: true to walk its children. */
static bool enter(nw_textbuf *b, const xmlNode *n, bool html)
{
    switch (n->type) {
    case XML_TEXT_NODE:
    case XML_CDATA_SECTION_NODE:
        if (n->content != NULL)
            nw_textbuf_text(b, (const char *)n->content, strlen((const char *)n->content));
        return false;
    case XML_ENTITY_REF_NODE:
        entity_ref(b, n);
        return false;
    case XML_ELEMENT_NODE:
        if (!html)
            return true;
        switch (element_kind(n)) {
        case DROP:
            return false;
        case BR:
            /* Each <br> adds a line: two of them end a paragraph. */
            nw_textbuf_break(b, b->len > 0 ? b->pending_break + 1 : 1);
            return false;
        case PARA:
            nw_textbuf_break(b, 2);
            return true;
        case LINE:
            nw_textbuf_break(b, 1);
            return true;
        case CELL:
            if (b->len > 0 && b->pending_break == 0)
                b->pending_space = true;
            return true;
        case INLINE:
            return true;
        }
        return true;
    default:
        return false;
    }
}

/* Called on leaving a node (after its children). */
static void leave(nw_textbuf *b, const xmlNode *n, bool html)
{
    if (!html || n->type != XML_ELEMENT_NODE)
        return;
    switch (element_kind(n)) {
    case PARA:
        nw_textbuf_break(b, 2);
        break;
    case LINE:
    case DROP: /* a dropped block still separates the words around it */
        nw_textbuf_break(b, 1);
        break;
    case CELL:
        if (b->len > 0 && b->pending_break == 0)
            b->pending_space = true;
        break;
    default:
        break;
    }
}

void nw_textbuf_children(nw_textbuf *b, const xmlNode *top, bool html)
{
    /* Iterative: HTML from a feed can nest as deep as it likes. */
    const xmlNode *n = top->children;
    while (n != NULL && !b->truncated && !b->oom) {
        if (enter(b, n, html) && n->children != NULL) {
            n = n->children;
            continue;
        }
        for (;;) {
            leave(b, n, html);
            if (n->next != NULL) {
                n = n->next;
                break;
            }
            n = n->parent;
            if (n == NULL || n == top) {
                n = NULL;
                break;
            }
        }
    }
}

nw_err nw_html_to_text(const char *html, size_t len, char **out, size_t *outlen, char *errbuf,
                       size_t errlen)
{
    *out = NULL;
    *outlen = 0;
    if (len > INT_MAX)
        return nw_set_error(errbuf, errlen, NW_ETOOBIG, "the HTML is %zu bytes; the limit is %d",
                            len, INT_MAX);
    nw_textbuf b;
    nw_textbuf_init(&b, NW_HTML_MAX_TEXT_BYTES, false);
    if (len > 0) {
        /* UTF-8 always: a <meta charset> inside a feed's HTML is not to be believed. */
        int opts = HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                   HTML_PARSE_RECOVER | HTML_PARSE_IGNORE_ENC | HTML_PARSE_COMPACT;
        htmlDocPtr doc = htmlReadMemory(html, (int)len, NULL, "UTF-8", opts);
        if (doc != NULL) {
            nw_textbuf_children(&b, (const xmlNode *)doc, true);
            xmlFreeDoc(doc);
        }
    }
    size_t n;
    char *s = nw_textbuf_take(&b, &n);
    if (s == NULL)
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    *out = s;
    *outlen = n;
    return NW_OK;
}
