/* report: writes what admm-analyze produces into OUTDIR: tables/ (each table as Markdown and CSV,
 * and the per-epoch tidy CSV), figures/ (PNG, with their gnuplot scripts and data in
 * figures/src/) and report.md, one page that links them, says how runs were grouped and lists the
 * partial runs and the flagged files. Leaves out reading files (results.h) and grouping
 * (group.h). */
#ifndef ADMM_ANALYSIS_REPORT_H
#define ADMM_ANALYSIS_REPORT_H

#include "group.h"

typedef struct {
    char *path;
    char *problem;
} admm_Flag;

typedef struct {
    const char *outdir;
    int ninput;
    const char *const *input; /* the command-line paths, for the report's header */
    int nflag;
    const admm_Flag *flag; /* files refused, with the reason */
    int plots;             /* 0 with --no-plots */
    int include_partial;   /* 1 with --include-partial: partial runs are in the analysis's groups */
    int nall;
    const admm_Run *all; /* nall: every run read, partial ones included, averaged in or not (the
                            analysis's runs are the first an->nrun of them) */
} admm_ReportOptions;

/* Writes every table, figure and report.md. Returns the number of figures that could not be made
 * (each explained on stderr and in the report); an unwritable OUTDIR is fatal. */
int admm_report_write(const admm_Analysis *an, const admm_ReportOptions *opt);

#endif
