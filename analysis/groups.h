/* groups: the resnet-admm --layer-groups tables and figures (README, Residual networks by ADMM):
 * seconds per iteration against the blocks K and the groups G, peak memory per rank against G,
 * each against the serial run (G = 1 on one rank) of the same network and data. Reads the runs
 * main.c has read; leaves out every other method. */
#ifndef ADMM_ANALYSIS_GROUPS_H
#define ADMM_ANALYSIS_GROUPS_H

#include "results.h"

/* Writes OUTDIR/tables/layer-groups-{time,memory}.{md,csv} and, with plots, OUTDIR/figures/
 * layer-groups-{time,memory}.png, when the runs hold resnet-admm runs; nothing otherwise.
 * Returns the number of figures that could not be made. */
int admm_groups_write(const char *outdir, const admm_Run *run, int nrun, int plots);

#endif
