/* util: fatal-error exit, checked allocation and string helpers shared by admm-analyze's modules.
 * admm-analyze is a serial program: a fatal error prints "admm-analyze: file.c:line: message" and
 * exits 1. A results file that fails validation is not fatal (see results.h). */
#ifndef ADMM_ANALYSIS_UTIL_H
#define ADMM_ANALYSIS_UTIL_H

#include <stddef.h>

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) admm_die(__FILE__, __LINE__, __VA_ARGS__);                                    \
    } while (0)

void admm_die(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

void *admm_xmalloc(size_t n);
void *admm_xcalloc(size_t n, size_t size);
void *admm_xrealloc(void *p, size_t n);
char *admm_xstrdup(const char *s);
char *admm_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 1 when s ends with suffix. */
int admm_ends_with(const char *s, const char *suffix);

/* Creates dir and its missing parents (mkdir -p); 0 on success, -1 with errno set. */
int admm_mkdirs(const char *dir);

#endif
