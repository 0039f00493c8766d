/*
 * Fuzz target: HTML to clean text (lib/html.c, nw_html_to_text), as feeds
 * give it for RSS descriptions, content:encoded and JSON Feed content_html.
 *
 * Oracle: no crash, leak or undefined behaviour (ASan, UBSan), and the
 * documented shape of the text (newswatch/html.h):
 *  - *outlen is the text's length (no NUL inside), at most
 *    NW_HTML_MAX_TEXT_BYTES;
 *  - for UTF-8 input, the text is valid UTF-8;
 *  - control characters are dropped (only '\n' is left), white space is
 *    collapsed (no tab, no two spaces in a row) and lines are trimmed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "newswatch/html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    char *out = NULL;
    size_t len = 0;
    nw_err e = nw_html_to_text((const char *)data, size, &out, &len, err, sizeof err);
    FZ_CHECK(e == NW_OK);
    FZ_CHECK(out != NULL);
    FZ_CHECK(strlen(out) == len);
    FZ_CHECK(len <= NW_HTML_MAX_TEXT_BYTES);
    if (fz_utf8((const char *)data, size))
        FZ_CHECK(fz_utf8(out, len));
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)out[i];
        FZ_CHECK(c >= 0x20 || c == '\n');
        FZ_CHECK(c != 0x7F);
        if (c == ' ') {
            FZ_CHECK(i > 0 && out[i - 1] != '\n' && out[i - 1] != ' '); /* no leading, no double */
            FZ_CHECK(i + 1 < len && out[i + 1] != '\n');                /* no trailing */
        }
    }
    free(out);
    return 0;
}
