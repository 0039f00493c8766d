#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "newswatch/hash.h"
#include "testutil.h"

/*
 * nw_hash_table64 reads short keys with overlapping loads instead of byte by
 * byte: every byte at every length must still count. Changing any one byte of
 * a key of 1 to 40 bytes, to any other value, changes the hash.
 */
static void every_byte_counts(void **state)
{
    (void)state;
    unsigned char key[40];
    for (size_t len = 1; len <= sizeof key; len++) {
        for (size_t i = 0; i < len; i++)
            key[i] = (unsigned char)(0xD8 + (i % 2)); /* Arabic-like lead bytes */
        uint64_t base = nw_hash_table64(key, len);
        for (size_t pos = 0; pos < len; pos++) {
            unsigned char keep = key[pos];
            for (unsigned v = 0; v < 256; v++) {
                if (v == keep)
                    continue;
                key[pos] = (unsigned char)v;
                if (nw_hash_table64(key, len) == base)
                    fail_msg("length %zu: byte %zu set to 0x%02X gives the same hash", len, pos, v);
            }
            key[pos] = keep;
        }
    }
}

/* The same bytes hash the same wherever they are; the length counts. */
static void same_bytes_same_hash(void **state)
{
    (void)state;
    char a[64], b[64];
    memset(a, 0, sizeof a);
    memset(b, 0x55, sizeof b);
    const char *word = "والكرادة"; /* 16 bytes */
    memcpy(a + 1, word, strlen(word));
    memcpy(b + 7, word, strlen(word));
    assert_true(nw_hash_table64(a + 1, strlen(word)) == nw_hash_table64(b + 7, strlen(word)));
    assert_true(nw_hash_table64(word, strlen(word)) == nw_hash_table64(a + 1, strlen(word)));
    /* A key and the same key with trailing zero bytes differ. */
    memset(a, 0, sizeof a);
    assert_true(nw_hash_table64(a, 3) != nw_hash_table64(a, 4));
    assert_true(nw_hash_table64(a, 0) != nw_hash_table64(a, 8));
    assert_true(nw_hash_table64("", 0) == nw_hash_table64(a, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_byte_counts),
        cmocka_unit_test(same_bytes_same_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
