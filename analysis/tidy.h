/* tidy: the per-epoch table in long ("tidy") form, OUTDIR/tables/epochs.csv: one row per run and
 * epoch, every root attribute and /config option of the run as a column, for pandas, R or a
 * spreadsheet. CSV only (no Markdown twin: it is data, not a page). Leaves out aggregation. */
#ifndef ADMM_ANALYSIS_TIDY_H
#define ADMM_ANALYSIS_TIDY_H

#include "group.h"

/* Writes path for every run of all[0..nall), partial ones included whether averaged in or not;
 * an->run must be all (its groups give the group column). 0, or -1 with errno. */
int admm_tidy_write(const char *path, const admm_Analysis *an, int nall, const admm_Run *all);

#endif
