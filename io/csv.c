/* Numeric tables from text files; see csv.h. */
#include "csv.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { LINE_MAX_BYTES = 1 << 20, COLS_MAX = 100000, NAME_MAX_BYTES = 64 };

/* Splits line (modified in place) into at most max fields, trimmed of blanks and of one pair
 * of double quotes; comma = 1 splits at commas, 0 at runs of blanks. Returns the count, or
 * max + 1 when there are more. */
static int split(char *line, int comma, char **field, int max)
{
  int n = 0;
  char *p = line;
  line[strcspn(line, "\r\n")] = 0;
  if (!comma) {
    for (;;) {
      while (*p && isspace((unsigned char)*p)) p++;
      if (!*p) return n;
      if (n == max) return max + 1;
      field[n++] = p;
      while (*p && !isspace((unsigned char)*p)) p++;
      if (*p) *p++ = 0;
    }
  }
  for (;;) {
    if (n == max) return max + 1;
    char *end = strchr(p, ',');
    if (end) *end = 0;
    while (isspace((unsigned char)*p)) p++;
    size_t len = strlen(p);
    while (len && isspace((unsigned char)p[len - 1])) p[--len] = 0;
    if (len >= 2 && p[0] == '"' && p[len - 1] == '"') {
      p[len - 1] = 0;
      p++;
    }
    field[n++] = p;
    if (!end) return n;
    p = end + 1;
  }
}

static int is_number(const char *s, double *v)
{
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  return end != s && *end == 0 && errno != ERANGE && isfinite(*v);
}

static int blank(const char *s)
{
  while (*s && isspace((unsigned char)*s)) s++;
  return *s == 0;
}

int nn_csv_read(const char *path, int skip, const char *target, double **values, long *rows, int *cols,
                int *target_col, char *err, size_t errlen)
{
  *values = NULL;
  *rows = 0;
  gzFile f = gzopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "--csv %s: cannot open: %s", path, strerror(errno ? errno : ENOENT));
    return -1;
  }
  char *line = malloc(LINE_MAX_BYTES), **field = malloc(sizeof(char *) * (COLS_MAX + 1));
  char (*names)[NAME_MAX_BYTES] = NULL;
  long cap = 0, lineno = 0;
  int ncol = -1, rc = 0;
  if (!line || !field) {
    snprintf(err, errlen, "--csv %s: out of memory", path);
    rc = -1;
  }
  int comma = -1;
  while (rc == 0 && gzgets(f, line, LINE_MAX_BYTES)) {
    lineno++;
    size_t len = strlen(line);
    if (len == LINE_MAX_BYTES - 1 && line[len - 1] != '\n') {
      snprintf(err, errlen, "--csv %s: line %ld is longer than %d bytes", path, lineno, LINE_MAX_BYTES - 1);
      rc = -1;
      break;
    }
    if (lineno <= skip || blank(line)) continue;
    if (comma < 0) comma = strchr(line, ',') != NULL;
    int n = split(line, comma, field, COLS_MAX);
    if (n > COLS_MAX) {
      snprintf(err, errlen, "--csv %s: line %ld has more than %d fields", path, lineno, COLS_MAX);
      rc = -1;
      break;
    }
    double v;
    int numeric = 1;
    for (int i = 0; i < n && numeric; i++) numeric = is_number(field[i], &v);
    if (ncol < 0) { /* the first row: a header, or the first row of numbers */
      ncol = n;
      if (!numeric) {
        names = calloc((size_t)n, NAME_MAX_BYTES);
        if (!names) { snprintf(err, errlen, "--csv %s: out of memory", path); rc = -1; break; }
        for (int i = 0; i < n; i++) snprintf(names[i], NAME_MAX_BYTES, "%s", field[i]);
        continue;
      }
    }
    if (n != ncol) {
      snprintf(err, errlen, "--csv %s: line %ld has %d fields, the first row has %d", path, lineno, n, ncol);
      rc = -1;
      break;
    }
    if (*rows == cap) {
      cap = cap ? 2 * cap : 1024;
      double *grown = realloc(*values, sizeof(double) * (size_t)cap * ncol);
      if (!grown) { snprintf(err, errlen, "--csv %s: out of memory at line %ld", path, lineno); rc = -1; break; }
      *values = grown;
    }
    for (int i = 0; i < n; i++)
      if (!is_number(field[i], &(*values)[(size_t)*rows * ncol + i])) {
        snprintf(err, errlen, "--csv %s: line %ld, field %d ('%.40s') is not a finite number", path, lineno, i + 1,
                 field[i]);
        rc = -1;
        break;
      }
    (*rows)++;
  }
  int zerr = 0;
  const char *zmsg = gzerror(f, &zerr);
  if (rc == 0 && zerr != Z_OK && zerr != Z_STREAM_END) {
    snprintf(err, errlen, "--csv %s: read error after line %ld: %s", path, lineno,
             zerr == Z_ERRNO ? strerror(errno) : zmsg);
    rc = -1;
  }
  gzclose(f);
  if (rc == 0 && (ncol < 2 || *rows < 1)) {
    snprintf(err, errlen, "--csv %s: needs at least two columns and one row of numbers (found %d columns, %ld rows)",
             path, ncol < 0 ? 0 : ncol, *rows);
    rc = -1;
  }
  if (rc == 0) {
    *cols = ncol;
    *target_col = -1;
    char *end;
    long k = strtol(target, &end, 10);
    if (strcmp(target, "last") == 0) *target_col = ncol - 1;
    for (int i = 0; names && i < ncol && *target_col < 0; i++)
      if (strcmp(names[i], target) == 0) *target_col = i;
    if (*target_col < 0 && end != target && *end == 0 && k >= 0 && k < ncol) *target_col = (int)k;
    if (*target_col < 0) {
      size_t at = (size_t)snprintf(err, errlen, "option --target %s: %s has no such column (%d columns, 0-based", target,
                                   path, ncol);
      if (names) {
        at += (size_t)snprintf(err + (at < errlen ? at : errlen), at < errlen ? errlen - at : 0, "; names:");
        for (int i = 0; i < ncol && at < errlen; i++)
          at += (size_t)snprintf(err + at, errlen - at, " %s", names[i]);
      }
      if (at < errlen) snprintf(err + at, errlen - at, ")");
      rc = -1;
    }
  }
  if (rc) {
    free(*values);
    *values = NULL;
  }
  free(names);
  free(line);
  free(field);
  return rc;
}
