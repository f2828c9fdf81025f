/* table: see table.h. Cells are kept as strings: a row holds its CSV fields and its Markdown cells
 * separately, since a mean/std pair is two of the former and one of the latter. */
#define _XOPEN_SOURCE 700 /* POSIX 2008 with XSI: realpath, strnlen, strtok_r, lstat */

#include "table.h"

#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int ncsv, nmd;
    char **csv, **md;
} Row;

struct admm_Table {
    int ncol;   /* declared columns (a pm column counts once) */
    int *is_pm; /* ncol */
    int ncsv;   /* CSV header fields */
    char **csv_head, **md_head;
    int nrow;
    Row *row;
    int filled; /* columns filled in the current row */
};

admm_Table *admm_table_new(void)
{
    return admm_xcalloc(1, sizeof(admm_Table));
}

void admm_table_free(admm_Table *t)
{
    for (int k = 0; k < t->ncsv; k++)
        free(t->csv_head[k]);
    for (int k = 0; k < t->ncol; k++)
        free(t->md_head[k]);
    for (int r = 0; r < t->nrow; r++) {
        for (int k = 0; k < t->row[r].ncsv; k++)
            free(t->row[r].csv[k]);
        for (int k = 0; k < t->row[r].nmd; k++)
            free(t->row[r].md[k]);
        free(t->row[r].csv);
        free(t->row[r].md);
    }
    free(t->csv_head);
    free(t->md_head);
    free(t->is_pm);
    free(t->row);
    free(t);
}

static void push(char ***list, int *n, char *s)
{
    *list = admm_xrealloc(*list, (size_t)(*n + 1) * sizeof **list);
    (*list)[(*n)++] = s;
}

static void add_col(admm_Table *t, const char *md_name, int pm)
{
    CHECK(t->nrow == 0, "table column \"%s\" declared after the first row", md_name);
    int n = t->ncol;
    push(&t->md_head, &n, admm_xstrdup(md_name));
    t->is_pm = admm_xrealloc(t->is_pm, (size_t)n * sizeof *t->is_pm);
    t->is_pm[t->ncol++] = pm;
}

void admm_table_col(admm_Table *t, const char *csv_name, const char *md_name)
{
    add_col(t, md_name, 0);
    push(&t->csv_head, &t->ncsv, admm_xstrdup(csv_name));
}

void admm_table_col_pm(admm_Table *t, const char *csv_stem, const char *md_name)
{
    add_col(t, md_name, 1);
    push(&t->csv_head, &t->ncsv, admm_xasprintf("%s_mean", csv_stem));
    push(&t->csv_head, &t->ncsv, admm_xasprintf("%s_std", csv_stem));
}

void admm_table_row(admm_Table *t)
{
    CHECK(t->nrow == 0 || t->filled == t->ncol, "table row %d has %d of %d cells", t->nrow,
          t->filled, t->ncol);
    t->row = admm_xrealloc(t->row, (size_t)(t->nrow + 1) * sizeof *t->row);
    memset(&t->row[t->nrow++], 0, sizeof(Row));
    t->filled = 0;
}

static Row *cell(admm_Table *t, int pm)
{
    CHECK(t->nrow > 0 && t->filled < t->ncol, "table cell outside a row or past the last column");
    CHECK(t->is_pm[t->filled] == pm, "table column %d (%s) filled with the wrong kind of cell",
          t->filled, t->md_head[t->filled]);
    t->filled++;
    return &t->row[t->nrow - 1];
}

/* A missing value (NULL, "" or "-") is "-" in Markdown but an empty field in CSV, which pandas
 * and R read as NaN/NA (a "-" would turn the whole column into text). */
void admm_table_str(admm_Table *t, const char *s)
{
    Row *r = cell(t, 0);
    int missing = !s || !s[0] || !strcmp(s, "-");
    push(&r->csv, &r->ncsv, admm_xstrdup(missing ? "" : s));
    push(&r->md, &r->nmd, admm_xstrdup(missing ? "-" : s));
}

void admm_table_str_md(admm_Table *t, const char *csv, const char *md)
{
    Row *r = cell(t, 0);
    push(&r->csv, &r->ncsv, admm_xstrdup(csv));
    push(&r->md, &r->nmd, admm_xstrdup(md));
}

void admm_table_int(admm_Table *t, long long v)
{
    Row *r = cell(t, 0);
    push(&r->csv, &r->ncsv, admm_xasprintf("%lld", v));
    push(&r->md, &r->nmd, admm_xasprintf("%lld", v));
}

/* NaN and infinities print the same way in both forms, so a reader can compare them as text. */
static char *fmt_real(double v, const char *fmt)
{
    if (isnan(v)) return admm_xstrdup("nan");
    if (isinf(v)) return admm_xstrdup(v > 0 ? "inf" : "-inf");
    return admm_xasprintf(fmt, v);
}

void admm_table_real(admm_Table *t, double v, const char *md_fmt)
{
    Row *r = cell(t, 0);
    push(&r->csv, &r->ncsv, fmt_real(v, "%.15g"));
    push(&r->md, &r->nmd, fmt_real(v, md_fmt));
}

void admm_table_pm(admm_Table *t, double mean, double std, const char *md_fmt)
{
    Row *r = cell(t, 1);
    push(&r->csv, &r->ncsv, fmt_real(mean, "%.15g"));
    push(&r->csv, &r->ncsv, fmt_real(std, "%.15g"));
    char *m = fmt_real(mean, md_fmt), *s = fmt_real(std, md_fmt);
    push(&r->md, &r->nmd, admm_xasprintf("%s ± %s", m, s));
    free(m);
    free(s);
}

int admm_table_nrows(const admm_Table *t)
{
    return t->nrow;
}

static void md_cell(FILE *f, const char *s)
{
    fputc(' ', f);
    for (; *s; s++) {
        if (*s == '|') fputc('\\', f);
        fputc(*s == '\n' ? ' ' : *s, f);
    }
    fputs(" |", f);
}

void admm_table_md(const admm_Table *t, FILE *f)
{
    CHECK(t->nrow == 0 || t->filled == t->ncol, "last table row is incomplete");
    fputc('|', f);
    for (int k = 0; k < t->ncol; k++)
        md_cell(f, t->md_head[k]);
    fputs("\n|", f);
    for (int k = 0; k < t->ncol; k++)
        fputs("---|", f);
    fputc('\n', f);
    for (int r = 0; r < t->nrow; r++) {
        fputc('|', f);
        for (int k = 0; k < t->row[r].nmd; k++)
            md_cell(f, t->row[r].md[k]);
        fputc('\n', f);
    }
}

void admm_csv_field(FILE *f, const char *s, int first)
{
    if (!first) fputc(',', f);
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int admm_table_write(const admm_Table *t, const char *dir, const char *stem, const char *title,
                     const char *caption)
{
    char *path = admm_xasprintf("%s/%s.md", dir, stem);
    FILE *f = fopen(path, "w");
    free(path);
    if (!f) return -1;
    fprintf(f, "# %s\n\n", title);
    if (caption && caption[0]) fprintf(f, "%s\n\n", caption);
    admm_table_md(t, f);
    if (fclose(f) != 0) return -1;

    path = admm_xasprintf("%s/%s.csv", dir, stem);
    f = fopen(path, "w");
    free(path);
    if (!f) return -1;
    for (int k = 0; k < t->ncsv; k++)
        admm_csv_field(f, t->csv_head[k], k == 0);
    fputc('\n', f);
    for (int r = 0; r < t->nrow; r++) {
        for (int k = 0; k < t->row[r].ncsv; k++)
            admm_csv_field(f, t->row[r].csv[k], k == 0);
        fputc('\n', f);
    }
    return fclose(f) == 0 ? 0 : -1;
}
