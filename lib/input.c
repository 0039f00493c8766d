#include "newswatch/input.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "newswatch/log.h"
#include "newswatch/str.h"
#include "newswatch/utf8.h"
#include "grow.h"

#define READ_CHUNK 65536
/* A wait for input or for a followed file to grow: a stop flag is heard this often (ms). */
#define WAIT_MS 200

/* A file found below a directory, or a directory that could not be read. */
typedef struct found {
    char *path;
    char *error; /* NULL for a file to read */
} found;

struct nw_input {
    char **args;
    size_t nargs, next_arg;

    found *found;
    size_t nfound, next_found;

    /* The JSON Lines stream being read, if any. */
    FILE *fp;
    char *fp_name;
    bool fp_is_stdin;
    unsigned long lineno;
    unsigned long long offset; /* byte offset of the next unread byte */
    char *rbuf;
    size_t rlen, rpos;
    char *line;
    size_t linelen, linecap;
    size_t partial;    /* bytes of the line being read so far (it may be over the limit) */
    size_t unfinished; /* bytes of a line left unread when a stop ended the stream */

    size_t max_bytes;
    const volatile sig_atomic_t *stop; /* non-zero: read nothing more (NULL: never) */
    bool stopped;                      /* the stop was seen: only lines read whole are left */

    /* --watch: a drop folder; files (names) waiting, and what is told when one is done */
    char *watch;
    int inotify_fd;
    char **waiting;
    size_t nwaiting, capwaiting;
    char *current; /* the file whose documents are being returned */
    void (*file_done)(const char *path, void *arg);
    void *file_done_arg;

    /* --follow: one JSON Lines file, read as it grows, across rotation and truncation */
    char *follow;
    dev_t dev;
    ino_t ino;
    bool follow_missing; /* said that the file is missing */
};

nw_input *nw_input_new(const char *const *paths, size_t npaths, size_t max_bytes)
{
    nw_input *in = calloc(1, sizeof(*in));
    if (in == NULL)
        return NULL;
    in->max_bytes = max_bytes != 0 ? max_bytes : NW_INPUT_DEFAULT_MAX_BYTES;
    in->args = calloc(npaths != 0 ? npaths : 1, sizeof(char *));
    if (in->args == NULL) {
        free(in);
        return NULL;
    }
    for (size_t i = 0; i < npaths; i++) {
        if ((in->args[i] = nw_str_dup(paths[i])) == NULL) {
            in->nargs = i;
            nw_input_free(in);
            return NULL;
        }
    }
    in->nargs = npaths;
    return in;
}

nw_input *nw_input_new_follow(const char *path, size_t max_bytes)
{
    nw_input *in = nw_input_new(NULL, 0, max_bytes);
    if (in != NULL && (in->follow = nw_str_dup(path)) == NULL) {
        nw_input_free(in);
        return NULL;
    }
    return in;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool wait_for(nw_input *in, const char *name)
{
    if (name[0] == '.')
        return true; /* hidden: .done, .failed, editors' temporary files */
    for (size_t i = 0; i < in->nwaiting; i++)
        if (strcmp(in->waiting[i], name) == 0)
            return true;
    if (!nw_grow((void **)&in->waiting, &in->capwaiting, in->nwaiting + 1, sizeof(*in->waiting)))
        return false;
    return (in->waiting[in->nwaiting] = nw_str_dup(name)) != NULL && ++in->nwaiting > 0;
}

nw_input *nw_input_new_watch(const char *dir, size_t max_bytes, char *errbuf, size_t errlen)
{
    nw_input *in = nw_input_new(NULL, 0, max_bytes);
    if (in == NULL || (in->watch = nw_str_dup(dir)) == NULL) {
        nw_input_free(in);
        nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        return NULL;
    }
    in->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    /* Complete files only: written then closed, or moved in. */
    if (in->inotify_fd < 0 ||
        inotify_add_watch(in->inotify_fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
        nw_set_error(errbuf, errlen, NW_EIO, "--watch %s: %s", dir, strerror(errno));
        nw_input_free(in);
        return NULL;
    }
    /* What is there already, in name order. */
    DIR *d = opendir(dir);
    if (d == NULL) {
        nw_set_error(errbuf, errlen, NW_EIO, "--watch %s: %s", dir, strerror(errno));
        nw_input_free(in);
        return NULL;
    }
    struct dirent *e;
    bool ok = true;
    while (ok && (e = readdir(d)) != NULL)
        ok = wait_for(in, e->d_name);
    closedir(d);
    if (!ok) {
        nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        nw_input_free(in);
        return NULL;
    }
    if (in->nwaiting > 1)
        qsort(in->waiting, in->nwaiting, sizeof(char *), compare_names);
    return in;
}

void nw_input_on_file_done(nw_input *in, void (*fn)(const char *path, void *arg), void *arg)
{
    in->file_done = fn;
    in->file_done_arg = arg;
}

/* --watch: the current file is done (told), and the next one waiting is taken. */
static void file_finished(nw_input *in)
{
    if (in->current == NULL)
        return;
    if (in->file_done != NULL)
        in->file_done(in->current, in->file_done_arg);
    free(in->current);
    in->current = NULL;
}

/* --watch: reads the inotify events there are; waits WAIT_MS when there are none. */
static void watch_events(nw_input *in)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    struct pollfd p = {in->inotify_fd, POLLIN, 0};
    if (poll(&p, 1, WAIT_MS) <= 0)
        return;
    ssize_t n = read(in->inotify_fd, buf, sizeof buf);
    for (ssize_t at = 0; n > 0 && at < n;) {
        const struct inotify_event *ev = (const struct inotify_event *)(buf + at);
        if (ev->len > 0 && !(ev->mask & IN_ISDIR))
            wait_for(in, ev->name);
        at += (ssize_t)(sizeof *ev + ev->len);
    }
}

void nw_input_set_stop(nw_input *in, const volatile sig_atomic_t *flag)
{
    in->stop = flag;
}

size_t nw_input_unfinished_bytes(const nw_input *in)
{
    return in->unfinished;
}

static bool stop_seen(nw_input *in)
{
    if (!in->stopped && in->stop != NULL && *in->stop != 0)
        in->stopped = true;
    return in->stopped;
}

/* Waits WAIT_MS (less when a signal interrupts). */
static void nap(void)
{
    struct timespec t = {0, WAIT_MS * 1000000L};
    nanosleep(&t, NULL);
}

static void free_found(nw_input *in)
{
    for (size_t i = 0; i < in->nfound; i++) {
        free(in->found[i].path);
        free(in->found[i].error);
    }
    free(in->found);
    in->found = NULL;
    in->nfound = in->next_found = 0;
}

static void close_stream(nw_input *in)
{
    if (in->fp != NULL && !in->fp_is_stdin)
        fclose(in->fp);
    in->fp = NULL;
    free(in->fp_name);
    in->fp_name = NULL;
}

void nw_input_free(nw_input *in)
{
    if (in == NULL)
        return;
    close_stream(in);
    free_found(in);
    for (size_t i = 0; i < in->nargs; i++)
        free(in->args[i]);
    free(in->args);
    free(in->rbuf);
    free(in->line);
    free(in->follow);
    free(in->watch);
    if (in->watch != NULL || in->inotify_fd > 0)
        close(in->inotify_fd);
    for (size_t i = 0; i < in->nwaiting; i++)
        free(in->waiting[i]);
    free(in->waiting);
    free(in->current);
    free(in);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static char *join_path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    bool slash = a > 0 && dir[a - 1] == '/';
    char *p = malloc(a + b + 2);
    if (p != NULL)
        snprintf(p, a + b + 2, "%s%s%s", dir, slash ? "" : "/", name);
    return p;
}

static bool add_found(nw_input *in, size_t *cap, const char *path, const char *error)
{
    if (!nw_grow((void **)&in->found, cap, in->nfound + 1, sizeof(*in->found)))
        return false;
    found *f = &in->found[in->nfound];
    f->path = nw_str_dup(path);
    f->error = error != NULL ? nw_str_dup(error) : NULL;
    if (f->path == NULL || (error != NULL && f->error == NULL)) {
        free(f->path);
        free(f->error);
        return false;
    }
    in->nfound++;
    return true;
}

/* Collects the regular files below dir (and the directories it cannot read). */
static bool walk_dir(nw_input *in, size_t *cap, const char *dir, int depth)
{
    if (depth > 64)
        return add_found(in, cap, dir, "directories nested too deeply (a symbolic link loop?)");
    DIR *d = opendir(dir);
    if (d == NULL) {
        char msg[256];
        snprintf(msg, sizeof msg, "cannot read directory: %s", strerror(errno));
        return add_found(in, cap, dir, msg);
    }
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ".", ".." and hidden files */
        char *path = join_path(dir, e->d_name);
        if (path == NULL) {
            ok = false;
            break;
        }
        struct stat st;
        if (stat(path, &st) != 0) {
            char msg[256];
            snprintf(msg, sizeof msg, "cannot read: %s", strerror(errno));
            ok = add_found(in, cap, path, msg);
        } else if (S_ISDIR(st.st_mode)) {
            ok = walk_dir(in, cap, path, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            ok = add_found(in, cap, path, NULL);
        }
        free(path);
    }
    closedir(d);
    return ok;
}

static int compare_found(const void *a, const void *b)
{
    return strcmp(((const found *)a)->path, ((const found *)b)->path);
}

static nw_err read_whole_file(nw_input *in, const char *path, nw_doc **out, char *errbuf,
                              size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return nw_set_error(errbuf, errlen, NW_EIO, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        int e = errno;
        fclose(fp);
        return nw_set_error(errbuf, errlen, NW_EIO, "cannot read: %s", strerror(e));
    }
    if ((unsigned long long)st.st_size > in->max_bytes) {
        fclose(fp);
        return nw_set_error(errbuf, errlen, NW_ETOOBIG,
                            "the file is %lld bytes, over the limit of %zu bytes",
                            (long long)st.st_size, in->max_bytes);
    }
    /* Read up to one byte past the limit: the file may have grown since fstat. */
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        fclose(fp);
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    }
    for (;;) {
        size_t n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if (n == 0 || len > in->max_bytes)
            break;
        if (len == cap) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                fclose(fp);
                return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
            }
            buf = nb;
            cap *= 2;
        }
    }
    int read_error = ferror(fp);
    fclose(fp);
    nw_err err;
    if (read_error)
        err = nw_set_error(errbuf, errlen, NW_EIO, "read error");
    else if (len > in->max_bytes)
        err = nw_set_error(errbuf, errlen, NW_ETOOBIG, "the file is over the limit of %zu bytes",
                           in->max_bytes);
    else
        err = nw_doc_from_text(path, buf, len, out, errbuf, errlen);
    free(buf);
    return err;
}

static nw_err open_stream(nw_input *in, const char *path, char *errbuf, size_t errlen)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *fp = is_stdin ? stdin : fopen(path, "rb");
    if (fp == NULL)
        return nw_set_error(errbuf, errlen, NW_EIO, "cannot open: %s", strerror(errno));
    if (in->rbuf == NULL && (in->rbuf = malloc(READ_CHUNK)) == NULL) {
        if (!is_stdin)
            fclose(fp);
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    }
    in->fp_name = nw_str_dup(is_stdin ? "stdin" : path);
    if (in->fp_name == NULL) {
        if (!is_stdin)
            fclose(fp);
        return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
    }
    in->fp = fp;
    in->fp_is_stdin = is_stdin;
    in->lineno = 0;
    in->offset = 0;
    in->rlen = in->rpos = 0;
    in->partial = 0;
    struct stat st;
    if (fstat(fileno(fp), &st) == 0) {
        in->dev = st.st_dev;
        in->ino = st.st_ino;
    }
    return NW_OK;
}

/*
 * At the end of a followed file: 1 when the path is now another file (it was
 * rotated: the new one is opened, from its start; the caller has read the
 * old one to its end) or the file was truncated (read again from its start);
 * 0 when it is the same file, unchanged. rotated_only: only say whether the
 * path names another file now (2), changing nothing.
 */
static int follow_check(nw_input *in, bool rotated_only)
{
    struct stat now, open_st;
    if (stat(in->follow, &now) != 0) {
        if (!in->follow_missing)
            nw_log(NW_LOG_WARN, NULL, "%s: %s; waiting for it to appear", in->follow,
                   strerror(errno));
        in->follow_missing = true;
        return 0;
    }
    in->follow_missing = false;
    if (now.st_dev != in->dev || now.st_ino != in->ino) {
        if (rotated_only)
            return 2;
        FILE *fp = fopen(in->follow, "rb");
        if (fp == NULL)
            return 0;
        nw_log(NW_LOG_INFO, NULL, "%s: replaced (rotated); following the new file from its start",
               in->follow);
        if (in->fp != NULL)
            fclose(in->fp);
        in->fp = fp;
        in->dev = now.st_dev;
        in->ino = now.st_ino;
        in->offset = 0;
        in->rlen = in->rpos = 0;
        in->partial = in->linelen = 0;
        return 1;
    }
    if (rotated_only)
        return 0;
    if (fstat(fileno(in->fp), &open_st) == 0 && (unsigned long long)open_st.st_size < in->offset) {
        nw_log(NW_LOG_INFO, NULL,
               "%s: truncated (%lld bytes, read to %llu); reading it again from "
               "its start",
               in->follow, (long long)open_st.st_size, in->offset);
        if (lseek(fileno(in->fp), 0, SEEK_SET) == 0) {
            in->offset = 0;
            in->rlen = in->rpos = 0;
            in->partial = in->linelen = 0;
            return 1;
        }
    }
    return 0;
}

/*
 * Refills in->rbuf with what can be read now (a pipe's line is there as soon
 * as it is written: no block buffering). Waits in steps of WAIT_MS so that a
 * stop is heard; a followed file at its end is waited on. > 0 bytes read, 0
 * at the end, -1 on a read error, -2 when stopped.
 */
static long refill(nw_input *in)
{
    int fd = fileno(in->fp);
    for (;;) {
        if (stop_seen(in))
            return -2;
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, WAIT_MS);
        if (r < 0 && errno != EINTR)
            return -1;
        if (r <= 0)
            continue;
        ssize_t n = read(fd, in->rbuf, READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0 && in->follow != NULL) {
            /* Rotated: what was written to the old file before the rename is read first. */
            if (follow_check(in, true) == 2 && (n = read(fd, in->rbuf, READ_CHUNK)) > 0)
                return (long)n;
            if (follow_check(in, false) == 0)
                nap();
            fd = fileno(in->fp);
            continue;
        }
        return (long)n;
    }
}

/*
 * Reads the next line of the stream into in->line (without its newline).
 * Returns false at the end of the stream. *total is the line's full length,
 * which exceeds in->linelen when the line was longer than the limit.
 */
static bool read_line(nw_input *in, size_t *total, bool *io_error)
{
    /* A line begun before a wait goes on where it was (in->partial bytes so far). */
    *total = in->partial;
    if (in->partial == 0)
        in->linelen = 0;
    for (;;) {
        if (in->rpos == in->rlen) {
            /* Stopped: only the lines read whole are returned, and nothing is read again. */
            long n = in->stopped ? -2 : refill(in);
            in->rpos = 0;
            in->rlen = n > 0 ? (size_t)n : 0;
            if (n <= 0) {
                *io_error = n == -1;
                /* At the end of a stream, its last line needs no newline; stopped, it is left. */
                bool last = n == 0 && in->partial > 0;
                if (last)
                    in->partial = 0;
                return last;
            }
        }
        const char *start = in->rbuf + in->rpos;
        size_t avail = in->rlen - in->rpos;
        const char *nl = memchr(start, '\n', avail);
        size_t n = nl != NULL ? (size_t)(nl - start) : avail;
        if (*total + n <= in->max_bytes) {
            if (in->linelen + n + 1 > in->linecap) {
                size_t ncap = in->linecap != 0 ? in->linecap : 4096;
                while (ncap < in->linelen + n + 1)
                    ncap *= 2;
                char *nb = realloc(in->line, ncap);
                if (nb == NULL) {
                    *io_error = true;
                    return false;
                }
                in->line = nb;
                in->linecap = ncap;
            }
            memcpy(in->line + in->linelen, start, n);
            in->linelen += n;
        }
        *total += n;
        in->partial = nl != NULL ? 0 : *total;
        in->rpos += n + (nl != NULL ? 1 : 0);
        in->offset += n + (nl != NULL ? 1 : 0);
        if (nl != NULL)
            return true;
    }
}

/* The next document of the open JSON Lines stream; NW_EOF when it ends. */
static nw_err next_from_stream(nw_input *in, nw_doc **out, char *origin, size_t originlen,
                               char *errbuf, size_t errlen)
{
    for (;;) {
        unsigned long long line_start = in->offset;
        size_t total;
        bool io_error = false;
        if (!read_line(in, &total, &io_error)) {
            snprintf(origin, originlen, "%s", in->fp_name);
            if (in->stopped)
                in->unfinished += in->partial;
            close_stream(in);
            if (io_error)
                return nw_set_error(errbuf, errlen, NW_EIO, "read error");
            return NW_EOF;
        }
        in->lineno++;
        snprintf(origin, originlen, "%s:%lu", in->fp_name, in->lineno);
        if (total > in->max_bytes)
            return nw_set_error(errbuf, errlen, NW_ETOOBIG,
                                "the line is %zu bytes, over the limit of %zu bytes", total,
                                in->max_bytes);
        size_t len = in->linelen;
        if (len > 0 && in->line[len - 1] == '\r')
            len--;
        size_t i = 0;
        while (i < len && (in->line[i] == ' ' || in->line[i] == '\t'))
            i++;
        if (i == len)
            continue; /* blank line */
        /*
         * The decoder validates the line's UTF-8 first; where it finds it
         * invalid, the error names the offset in the file (a second pass over
         * the line only then).
         */
        nw_err err = nw_doc_from_json(in->line, len, out, errbuf, errlen);
        size_t bad;
        if (err == NW_EUTF8 && !nw_utf8_valid(in->line, len, &bad))
            return nw_set_error(errbuf, errlen, NW_EUTF8,
                                "invalid UTF-8 at byte offset %llu of the file (%zu in the line)",
                                line_start + bad, bad);
        return err;
    }
}

/* Starts reading one path: a document, a stream, a directory listing or an error. */
static nw_err start_path(nw_input *in, const char *path, bool from_dir, nw_doc **out, char *errbuf,
                         size_t errlen)
{
    if (!from_dir && strcmp(path, "-") == 0)
        return open_stream(in, path, errbuf, errlen);
    struct stat st;
    if (stat(path, &st) != 0)
        return nw_set_error(errbuf, errlen, NW_EIO, "cannot read: %s", strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        if (from_dir)
            return NW_OK;
        free_found(in);
        size_t cap = 0;
        if (!walk_dir(in, &cap, path, 0))
            return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
        if (in->nfound > 1) /* an empty directory leaves found NULL */
            qsort(in->found, in->nfound, sizeof(found), compare_found);
        return NW_OK;
    }
    if (!S_ISREG(st.st_mode))
        return nw_set_error(errbuf, errlen, NW_EINVAL, "not a regular file or a directory");
    if (ends_with(path, ".jsonl"))
        return open_stream(in, path, errbuf, errlen);
    return read_whole_file(in, path, out, errbuf, errlen);
}

nw_err nw_input_next(nw_input *in, nw_doc **out, char *origin, size_t originlen, char *errbuf,
                     size_t errlen)
{
    *out = NULL;
    if (originlen > 0)
        origin[0] = '\0';
    for (;;) {
        if (in->fp == NULL && in->follow != NULL && !stop_seen(in)) {
            /* --follow: the file, once it exists; waiting for it is heard by a stop */
            if (access(in->follow, R_OK) != 0) {
                follow_check(in, true);
                nap();
                continue;
            }
            nw_err err = open_stream(in, in->follow, errbuf, errlen);
            if (err != NW_OK) {
                snprintf(origin, originlen, "%s", in->follow);
                return err;
            }
        }
        if (in->fp != NULL) {
            nw_err err = next_from_stream(in, out, origin, originlen, errbuf, errlen);
            if (err != NW_EOF)
                return err;
            continue;
        }
        if (in->watch != NULL) {
            /* --watch: the file just read is done; then the next one, when one comes. */
            file_finished(in);
            if (stop_seen(in))
                return NW_EOF;
            if (in->nwaiting == 0) {
                watch_events(in);
                continue;
            }
            char *name = in->waiting[0];
            memmove(in->waiting, in->waiting + 1, --in->nwaiting * sizeof(char *));
            in->current = join_path(in->watch, name);
            free(name);
            if (in->current == NULL)
                return nw_set_error(errbuf, errlen, NW_ENOMEM, "out of memory");
            snprintf(origin, originlen, "%s", in->current);
            struct stat st;
            if (stat(in->current, &st) != 0 || !S_ISREG(st.st_mode)) {
                free(in->current); /* gone, or not a file: nothing to do */
                in->current = NULL;
                continue;
            }
            nw_err err = start_path(in, in->current, true, out, errbuf, errlen);
            if (err != NW_OK || *out != NULL)
                return err;
            continue;
        }
        if (stop_seen(in) || in->follow != NULL)
            return NW_EOF; /* stopped: no further file is begun */
        const char *path;
        bool from_dir;
        if (in->next_found < in->nfound) {
            found *f = &in->found[in->next_found++];
            snprintf(origin, originlen, "%s", f->path);
            if (f->error != NULL)
                return nw_set_error(errbuf, errlen, NW_EIO, "%s", f->error);
            path = f->path;
            from_dir = true;
        } else if (in->next_arg < in->nargs) {
            free_found(in);
            path = in->args[in->next_arg++];
            from_dir = false;
        } else {
            return NW_EOF;
        }
        snprintf(origin, originlen, "%s", path);
        nw_err err = start_path(in, path, from_dir, out, errbuf, errlen);
        if (err != NW_OK || *out != NULL)
            return err;
    }
}
