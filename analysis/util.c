/* util: see util.h. */
#define _XOPEN_SOURCE 700 /* POSIX 2008 with XSI: realpath, strnlen, strtok_r, lstat */

#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void admm_die(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    const char *base = strrchr(file, '/');
    fprintf(stderr, "admm-analyze: %s:%d: ", base ? base + 1 : file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

void *admm_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    CHECK(p, "out of memory allocating %zu bytes", n);
    return p;
}

void *admm_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    CHECK(p, "out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *admm_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    CHECK(q, "out of memory reallocating to %zu bytes", n);
    return q;
}

char *admm_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(admm_xmalloc(n), s, n);
}

char *admm_xasprintf(const char *fmt, ...)
{
    char small[256];
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    CHECK(n >= 0, "bad format string \"%s\"", fmt);
    char *s = admm_xmalloc((size_t)n + 1);
    if ((size_t)n < sizeof small)
        memcpy(s, small, (size_t)n + 1);
    else
        vsnprintf(s, (size_t)n + 1, fmt, aq);
    va_end(aq);
    return s;
}

int admm_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int admm_mkdirs(const char *dir)
{
    char *p = admm_xstrdup(dir);
    /* create each prefix in turn; an existing directory is not an error */
    for (char *q = p + 1;; q++) {
        if (*q == '/' || *q == '\0') {
            char c = *q;
            *q = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                free(p);
                return -1;
            }
            *q = c;
            if (c == '\0') break;
        }
    }
    struct stat st;
    int ok = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
    free(p);
    if (!ok) errno = ENOTDIR;
    return ok ? 0 : -1;
}
