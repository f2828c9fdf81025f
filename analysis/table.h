/* table: one table written twice, as Markdown (rounded, for reading) and CSV (full precision, for
 * tools). Every CSV field appears in the Markdown row, in the same order; a mean/std pair is one
 * Markdown cell "mean ± std" and two CSV fields NAME_mean, NAME_std. Missing values are "-", NaN is
 * "nan". Leaves out what goes in the tables (report.c). */
#ifndef ADMM_ANALYSIS_TABLE_H
#define ADMM_ANALYSIS_TABLE_H

#include <stdio.h>

typedef struct admm_Table admm_Table;

admm_Table *admm_table_new(void);
void admm_table_free(admm_Table *t);
/* One CSV field (RFC 4180: quoted when it holds a comma, a quote or a line break; a quote is
 * doubled), preceded by a comma unless it is the first of its line. */
void admm_csv_field(FILE *f, const char *s, int first);

/* Columns, declared before the first row. */
void admm_table_col(admm_Table *t, const char *csv_name, const char *md_name);
void admm_table_col_pm(admm_Table *t, const char *csv_stem, const char *md_name);

/* Starts a row; then one call per column, in column order. md_fmt is a printf format for one
 * double ("%.2f"); CSV always gets %.15g. */
void admm_table_row(admm_Table *t);
void admm_table_str(admm_Table *t, const char *s);
/* A text cell whose Markdown form carries a mark the CSV field does not ("yes †" for "yes"). */
void admm_table_str_md(admm_Table *t, const char *csv, const char *md);
void admm_table_int(admm_Table *t, long long v);
void admm_table_real(admm_Table *t, double v, const char *md_fmt);
void admm_table_pm(admm_Table *t, double mean, double std, const char *md_fmt);

int admm_table_nrows(const admm_Table *t);

/* The Markdown table alone (for inlining into the report). */
void admm_table_md(const admm_Table *t, FILE *f);

/* Writes dir/stem.md (a heading, caption lines, the table) and dir/stem.csv. 0, or -1 with errno.
 */
int admm_table_write(const admm_Table *t, const char *dir, const char *stem, const char *title,
                     const char *caption);

#endif
