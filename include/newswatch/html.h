/*
 * HTML to clean text, for the HTML that news feeds carry (RSS descriptions,
 * content:encoded, Atom html content, JSON Feed content_html).
 *
 * The HTML is parsed with libxml2's HTML parser (no network, no error
 * output, recovery from broken markup); then:
 *  - script, style, nav, aside, form, iframe, noscript, template, svg, head,
 *    buttons and other controls are dropped with their content;
 *  - paragraphs, headings, lists, tables, blockquotes, figures and <hr> end a
 *    paragraph (a blank line); div, li, tr, section, article and the like
 *    end a line; <br> ends a line, two <br> a paragraph;
 *  - entities are decoded; white space (with U+00A0) is collapsed to one
 *    space, lines are trimmed, control characters are dropped;
 *  - other text, Arabic included, is kept byte for byte.
 *
 * Ownership: the caller frees the text with free().
 */
#ifndef NEWSWATCH_HTML_H
#define NEWSWATCH_HTML_H

#include <stddef.h>

#include "newswatch/error.h"

/* The longest text nw_html_to_text returns, in bytes; longer text is cut on a character boundary.
 */
#define NW_HTML_MAX_TEXT_BYTES (4u * 1024u * 1024u)

/*
 * The clean text of html[0..len) (UTF-8) in *out (NUL-terminated, *outlen
 * bytes, "" when there is no text). NW_ETOOBIG when the HTML is over
 * INT_MAX bytes, NW_ENOMEM when out of memory.
 */
nw_err nw_html_to_text(const char *html, size_t len, char **out, size_t *outlen, char *errbuf,
                       size_t errlen);

#endif
