/*
 * Internal to lib/ (html.c, feed.c): a text buffer that collapses white
 * space as it goes, and the walk of a libxml2 tree (HTML or XHTML) into it.
 */
#ifndef NEWSWATCH_LIB_HTMLTEXT_H
#define NEWSWATCH_LIB_HTMLTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

typedef struct nw_textbuf {
    char *s;
    size_t len, cap, max;
    int pending_break;  /* newlines owed before the next visible character (0..2) */
    bool pending_space; /* a space owed before the next visible character */
    bool raw;           /* keep the text as it is (no collapsing): HTML source */
    bool truncated;     /* something was cut at max */
    bool oom;
} nw_textbuf;

/* An empty buffer holding at most max bytes; raw keeps white space and control characters. */
void nw_textbuf_init(nw_textbuf *b, size_t max, bool raw);
void nw_textbuf_free(nw_textbuf *b);
/* Appends text: white space collapsed (a pending space), unless raw. */
void nw_textbuf_text(nw_textbuf *b, const char *s, size_t n);
/*
 * Appends plain text that keeps its lines: a newline ends a line, a blank
 * line a paragraph; other white space is collapsed.
 */
void nw_textbuf_lines(nw_textbuf *b, const char *s, size_t n);
/* Ends the line (1) or the paragraph (2); nothing at the start of the text. */
void nw_textbuf_break(nw_textbuf *b, int lines);
/*
 * Appends the text of node's children. html: elements are HTML or XHTML
 * (blocks make breaks, scripts and navigation are dropped); otherwise every
 * element is transparent. Entity references: declared internal entities
 * whose value is plain text, and HTML's named entities when undeclared.
 */
void nw_textbuf_children(nw_textbuf *b, const xmlNode *node, bool html);
/* The text (NUL-terminated, never NULL unless out of memory); the buffer is left empty. */
char *nw_textbuf_take(nw_textbuf *b, size_t *len);

#endif
