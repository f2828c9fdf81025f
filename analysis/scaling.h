/* scaling: the scaling study of jobs/study-scaling.sh, read back and modelled.
 *
 *   admm-analyze --scaling STUDY_DIR --out OUTDIR [--no-plots]
 *
 * reads STUDY_DIR/microbench/rP.txt (admm-microbench: the machine constants at P ranks) and
 * the results files under STUDY_DIR/strong/ and STUDY_DIR/weak/, and writes
 *   OUTDIR/scaling.md       the measured table, the model against every point, the projection
 *   OUTDIR/scaling.csv      one row per run (the same figures, for pandas or a spreadsheet)
 *   OUTDIR/model-by-phase.csv  the model against every phase of every run, and its terms that
 *                           the files do not record by phase (rows add up to the run's totals)
 *   OUTDIR/projection.csv   projected time to 95% and 97% validation accuracy, 16 to 1024 ranks
 *   OUTDIR/figures/NAME.png epoch time and efficiency against ranks (log2 axis), model against
 *                           measurement, the projection
 * and prints the model table; its last line is model_max_rel_error=X. */
#ifndef ADMM_ANALYSIS_SCALING_H
#define ADMM_ANALYSIS_SCALING_H

/* Returns the exit status: 0, 1 when a figure or file could not be written or no run was
 * found. */
int admm_scaling_main(const char *study_dir, const char *outdir, int plots);

#endif
