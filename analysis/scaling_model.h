/* scaling_model: the performance model of one measured run, and the projection of a method's
 * epoch to a stated cluster. The formulas are written out in the report (scaling.c). */
#ifndef ADMM_ANALYSIS_SCALING_MODEL_H
#define ADMM_ANALYSIS_SCALING_MODEL_H

#include "scaling_data.h"

/* The cluster of the projection: nodes of 64 cores on a 100 Gb/s network with 2 us MPI
 * latency (the class of an InfiniBand HDR100 or 100 GbE RoCE fabric). */
#define CL_CORES 64
#define CL_LINK_BPS 12.5e9
#define CL_LATENCY 2e-6
enum { ADMM_SC_NPROJ = 7 };
extern const int admm_sc_proj_ranks[ADMM_SC_NPROJ]; /* 16 .. 1024 */

/* Fills r's model, t_compute, t_stream, t_comm and err from m (the constants at r's ranks). */
void admm_sc_model(admm_ScalingRun *r, const admm_Machine *m);
/* One call of kind k among p ranks of the cluster, s bytes. */
double admm_sc_cluster_call(int k, double p, double s);
/* A method's epoch at p ranks on the cluster from its 1-rank run (its work) and its run at the
 * largest rank count (its messages), with the machine constants m; batch: a gradient method's
 * global batch. NAN when a rank would hold no sample. */
double admm_sc_project_epoch(const admm_ScalingRun *one, const admm_ScalingRun *top, const admm_Machine *m,
                             double p, double batch);

#endif
