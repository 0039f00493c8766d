#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "newswatch/input.h"
#include "testutil.h"

/* One result of the iterator: an id, or "!origin: reason". */
typedef struct result {
    char text[1024];
} result;

static size_t read_all(const char *const *paths, size_t n, size_t max_bytes, result *out,
                       size_t cap)
{
    nw_input *in = nw_input_new(paths, n, max_bytes);
    assert_non_null(in);
    size_t count = 0;
    for (;;) {
        nw_doc *doc;
        char origin[512], err[256];
        nw_err e = nw_input_next(in, &doc, origin, sizeof origin, err, sizeof err);
        if (e == NW_EOF)
            break;
        assert_true(count < cap);
        if (e == NW_OK) {
            snprintf(out[count].text, sizeof out[count].text, "%s",
                     nw_doc_get(doc, NW_DOC_ID, NULL));
            nw_doc_free(doc);
        } else {
            assert_null(doc);
            snprintf(out[count].text, sizeof out[count].text, "!%s: %s", origin, err);
        }
        count++;
    }
    nw_input_free(in);
    return count;
}

static void the_seed_directory_in_path_order(void **state)
{
    (void)state;
    const char *paths[] = {TU_SEEDS_DIR};
    result r[10];
    assert_int_equal(read_all(paths, 1, 0, r, 10), 5);
    assert_string_equal(r[0].text, "000_c7189a82eabcfedc");
    assert_string_equal(r[1].text, "001_36b4ca6c38791fab");
    assert_string_equal(r[2].text, "002_cf9858d6c968c6dd");
    assert_string_equal(r[3].text, "003_36327a287adc8b89");
    assert_string_equal(r[4].text, "004_6be975f03497fb3e");
}

static void directories_recurse_sorted_and_skip_hidden(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    assert_non_null(dir);
    tu_write_str(dir, "b.txt", "b");
    tu_write_str(dir, "a/z.txt", "az");
    tu_write_str(dir, "a/c/y.txt", "acy");
    tu_write_str(dir, "a-c.txt", "a-c"); /* '-' sorts before '/' */
    tu_write_str(dir, ".hidden.txt", "hidden");
    tu_write_str(dir, ".git/config", "hidden");
    tu_write_str(dir, "feed.jsonl",
                 "{\"id\":\"j1\",\"body\":\"x\"}\n{\"id\":\"j2\",\"body\":\"y\"}\n");
    const char *paths[] = {dir};
    result r[10];
    size_t n = read_all(paths, 1, 0, r, 10);
    assert_int_equal(n, 6);
    assert_string_equal(r[0].text, "a-c");
    assert_string_equal(r[1].text, "y");
    assert_string_equal(r[2].text, "z");
    assert_string_equal(r[3].text, "b");
    assert_string_equal(r[4].text, "j1");
    assert_string_equal(r[5].text, "j2");
    tu_rmtree(dir);
    free(dir);
}

static void arguments_keep_their_order(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    tu_write_str(dir, "z.txt", "z");
    tu_write_str(dir, "a.txt", "a");
    char z[512], a[512];
    snprintf(z, sizeof z, "%s/z.txt", dir);
    snprintf(a, sizeof a, "%s/a.txt", dir);
    const char *paths[] = {z, a, z};
    result r[4];
    assert_int_equal(read_all(paths, 3, 0, r, 4), 3);
    assert_string_equal(r[0].text, "z");
    assert_string_equal(r[1].text, "a");
    assert_string_equal(r[2].text, "z");
    tu_rmtree(dir);
    free(dir);
}

static void bad_inputs_are_reported_and_reading_goes_on(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    tu_write_str(dir, "01-good.txt", "good\nbody");
    tu_write(dir, "02-bad-utf8.txt", "abc\xFF", 4);
    tu_write_str(dir, "03-empty.txt", "");
    tu_write_str(dir, "04-big.txt", "0123456789012345678901234567890123456789");
    tu_write_str(dir, "05-lines.jsonl",
                 "{\"id\":\"l1\",\"body\":\"one\"}\n"
                 "\n"
                 "   \r\n"
                 "{\"id\":\"l4\",\"body\":\"crlf\"}\r\n"
                 "not json\n"
                 "{\"id\":\"l6\"}\n"
                 "{\"id\":\"l7\",\"body\":\"\xD8\"}\n"
                 "{\"id\":\"l8\",\"body\":\"0123456789012345678901234567890\"}\n"
                 "{\"id\":\"l9\",\"body\":\"last, no newline\"}");
    char dangling[512], missing[512];
    snprintf(dangling, sizeof dangling, "%s/06-dangling.txt", dir);
    assert_int_equal(symlink("/nonexistent/target", dangling), 0);
    snprintf(missing, sizeof missing, "%s/no-such-file.txt", dir);
    const char *paths[] = {dir, missing};
    result r[16];
    size_t n = read_all(paths, 2, 40, r, 16);
    size_t i = 0;
    assert_string_equal(r[i++].text, "01-good");
    assert_non_null(strstr(r[i].text, "02-bad-utf8.txt: invalid UTF-8 at byte offset 3"));
    i++;
    assert_non_null(strstr(r[i].text, "03-empty.txt: the body has no visible text"));
    i++;
    assert_string_equal(r[i++].text, "04-big"); /* 40 bytes is at the limit: accepted */
    assert_string_equal(r[i++].text, "l1");
    assert_string_equal(r[i++].text, "l4");
    assert_non_null(strstr(r[i].text, "05-lines.jsonl:5: not valid JSON"));
    i++;
    assert_non_null(strstr(r[i].text, "05-lines.jsonl:6: no 'body'"));
    i++;
    /* The offset counts from the start of the file: lines 1-6 are 79 bytes. */
    assert_non_null(strstr(r[i].text, "05-lines.jsonl:7: invalid UTF-8 at byte offset 98 of the "
                                      "file (19 in the line)"));
    i++;
    assert_non_null(strstr(r[i].text, "05-lines.jsonl:8: the line is 52 bytes, over the limit of "
                                      "40 bytes"));
    i++;
    assert_string_equal(r[i++].text, "l9");
    assert_non_null(strstr(r[i].text, "06-dangling.txt: cannot read: No such file or directory"));
    i++;
    assert_non_null(strstr(r[i].text, "no-such-file.txt: cannot read: No such file or directory"));
    i++;
    assert_int_equal(n, i);
    tu_rmtree(dir);
    free(dir);
}

static void file_over_the_limit_is_too_big(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    tu_write_str(dir, "big.txt", "0123456789");
    char path[512];
    snprintf(path, sizeof path, "%s/big.txt", dir);
    const char *paths[] = {path};
    result r[2];
    assert_int_equal(read_all(paths, 1, 9, r, 2), 1);
    assert_non_null(strstr(r[0].text, "the file is 10 bytes, over the limit of 9 bytes"));
    assert_int_equal(read_all(paths, 1, 10, r, 2), 1);
    assert_string_equal(r[0].text, "big");
    tu_rmtree(dir);
    free(dir);
}

static void a_fifo_is_not_a_document(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof path, "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    const char *paths[] = {path};
    result r[2];
    assert_int_equal(read_all(paths, 1, 0, r, 2), 1);
    assert_non_null(strstr(r[0].text, "not a regular file or a directory"));
    tu_rmtree(dir);
    free(dir);
}

static void long_jsonl_lines_cross_read_buffers(void **state)
{
    (void)state;
    /* Lines longer than the 64 KiB read buffer, Arabic text split mid-character by it. */
    char *dir = tu_mkdtemp();
    size_t body_chars = 50000;
    size_t cap = body_chars * 2 * 3 + 200;
    char *text = malloc(cap);
    size_t n = 0;
    for (int line = 0; line < 3; line++) {
        n += (size_t)sprintf(text + n, "{\"id\":\"long%d\",\"body\":\"", line);
        for (size_t i = 0; i < body_chars; i++) {
            memcpy(text + n, "ع", 2);
            n += 2;
        }
        n += (size_t)sprintf(text + n, "\"}\n");
    }
    tu_write(dir, "long.jsonl", text, n);
    char path[512];
    snprintf(path, sizeof path, "%s/long.jsonl", dir);
    const char *paths[] = {path};
    nw_input *in = nw_input_new(paths, 1, 0);
    for (int line = 0; line < 3; line++) {
        nw_doc *doc;
        char origin[512], err[256];
        assert_int_equal(nw_input_next(in, &doc, origin, sizeof origin, err, sizeof err), NW_OK);
        size_t blen;
        nw_doc_get(doc, NW_DOC_BODY, &blen);
        assert_int_equal(blen, body_chars * 2);
        nw_doc_free(doc);
    }
    nw_doc *doc;
    char origin[512], err[256];
    assert_int_equal(nw_input_next(in, &doc, origin, sizeof origin, err, sizeof err), NW_EOF);
    nw_input_free(in);
    nw_input_free(NULL);
    free(text);
    tu_rmtree(dir);
    free(dir);
}

/* The id of the next document, or "EOF"; the caller frees. */
static char *next_id(nw_input *in)
{
    nw_doc *doc = NULL;
    char origin[256], err[256];
    nw_err e = nw_input_next(in, &doc, origin, sizeof origin, err, sizeof err);
    if (e == NW_EOF)
        return strdup("EOF");
    if (e != NW_OK)
        fail_msg("%s: %s", origin, err);
    size_t n;
    const char *id = nw_doc_get(doc, NW_DOC_ID, &n);
    char *out = strndup(id, n);
    nw_doc_free(doc);
    return out;
}

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static void append(const char *path, const char *text)
{
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

#define LINE(id) "{\"id\":\"" id "\",\"body\":\"x\"}\n"

/* The stop a signal handler would set, once the writer thread is done. */
static volatile sig_atomic_t stop_flag;

typedef struct follower_script {
    char dir[512];
} follower_script;

/* Grows, rotates and truncates the followed file while the test reads it. */
static void *follower(void *arg)
{
    const follower_script *fs = arg;
    char path[600], old[600];
    snprintf(path, sizeof path, "%s/wire.jsonl", fs->dir);
    snprintf(old, sizeof old, "%s/wire.jsonl.1", fs->dir);
    sleep_ms(300);
    append(path, LINE("b"));
    sleep_ms(300);
    append(path, "{\"id\":\"c\",\"bo"); /* a line written in two parts */
    sleep_ms(300);
    append(path, "dy\":\"x\"}\n");
    sleep_ms(300);
    /* rotation: the old file gets one more line, then a new file takes the path */
    append(path, LINE("d"));
    rename(path, old);
    append(path, LINE("e"));
    sleep_ms(600);
    /* truncation: the file is emptied and written again */
    FILE *f = fopen(path, "w");
    fclose(f);
    sleep_ms(400);
    append(path, LINE("f"));
    sleep_ms(400);
    append(path, "{\"id\":\"unfinished"); /* never finished */
    sleep_ms(400);
    stop_flag = 1;
    return NULL;
}

static void follow_reads_as_the_file_grows_rotates_and_is_truncated(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char path[600];
    snprintf(path, sizeof path, "%s/wire.jsonl", dir);
    append(path, LINE("a"));
    nw_input *in = nw_input_new_follow(path, 0);
    assert_non_null(in);
    stop_flag = 0;
    nw_input_set_stop(in, &stop_flag);
    follower_script fs;
    snprintf(fs.dir, sizeof fs.dir, "%s", dir);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, follower, &fs), 0);
    static const char *const want[] = {"a", "b", "c", "d", "e", "f", "EOF"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char *id = next_id(in);
        if (strcmp(id, want[i]) != 0)
            fail_msg("document %zu: '%s', expected '%s'", i, id, want[i]);
        free(id);
    }
    pthread_join(t, NULL);
    assert_int_equal(nw_input_unfinished_bytes(in), strlen("{\"id\":\"unfinished"));
    nw_input_free(in);
    tu_rmtree(dir);
    free(dir);
}

/* A followed file that does not exist yet is waited for; a stop ends the wait. */
static void follow_waits_for_the_file(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char path[600];
    snprintf(path, sizeof path, "%s/later.jsonl", dir);
    nw_input *in = nw_input_new_follow(path, 0);
    stop_flag = 0;
    nw_input_set_stop(in, &stop_flag);
    append(path, LINE("first"));
    char *id = next_id(in);
    assert_string_equal(id, "first");
    free(id);
    stop_flag = 1;
    id = next_id(in);
    assert_string_equal(id, "EOF");
    free(id);
    assert_int_equal(nw_input_unfinished_bytes(in), 0);
    nw_input_free(in);
    tu_rmtree(dir);
    free(dir);
}

/*
 * A pipe's lines come as they are written, not when a block fills; after a
 * stop, the lines already read whole are still returned, and a line read in
 * part is counted, not returned.
 */
static void a_pipe_streams_and_a_stop_keeps_the_whole_lines(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    int saved = dup(0);
    assert_int_equal(dup2(p[0], 0), 0);
    close(p[0]);
    const char *paths[] = {"-"};
    nw_input *in = nw_input_new(paths, 1, 0);
    stop_flag = 0;
    nw_input_set_stop(in, &stop_flag);
    /* One line alone in the pipe (the writer stays open): it is returned at once. */
    assert_true(write(p[1], LINE("one"), strlen(LINE("one"))) > 0);
    char *id = next_id(in);
    assert_string_equal(id, "one");
    free(id);
    /* Three whole lines and a part of a fourth in one write; a stop after the first. */
    const char batch[] = LINE("two") LINE("three") LINE("four") "{\"id\":\"fi";
    assert_true(write(p[1], batch, strlen(batch)) == (ssize_t)strlen(batch));
    id = next_id(in);
    assert_string_equal(id, "two");
    free(id);
    stop_flag = 1;
    static const char *const rest[] = {"three", "four", "EOF"};
    for (size_t i = 0; i < 3; i++) {
        id = next_id(in);
        assert_string_equal(id, rest[i]);
        free(id);
    }
    assert_int_equal(nw_input_unfinished_bytes(in), strlen("{\"id\":\"fi"));
    nw_input_free(in);
    close(p[1]);
    dup2(saved, 0);
    close(saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_seed_directory_in_path_order),
        cmocka_unit_test(directories_recurse_sorted_and_skip_hidden),
        cmocka_unit_test(arguments_keep_their_order),
        cmocka_unit_test(bad_inputs_are_reported_and_reading_goes_on),
        cmocka_unit_test(file_over_the_limit_is_too_big),
        cmocka_unit_test(a_fifo_is_not_a_document),
        cmocka_unit_test(long_jsonl_lines_cross_read_buffers),
        cmocka_unit_test(follow_reads_as_the_file_grows_rotates_and_is_truncated),
        cmocka_unit_test(follow_waits_for_the_file),
        cmocka_unit_test(a_pipe_streams_and_a_stop_keeps_the_whole_lines),
    };
    return cmocka_run_group_tests_name("input", tests, NULL, NULL);
}
