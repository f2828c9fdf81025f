/* scaling_model: see scaling_model.h. */
#include "scaling_model.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------- */
/* the model */

/* T = F / R + (S + b_shm) / BW + sum_k c_k t_k(P, b_k / c_k): a sweep method's products at the
 * sweep rate R_sweep(P, N/P), its narrow ones at the narrow rate, its ScaLAPACK solves at the
 * solve rate R_solve(P) of the run's grid; a gradient method's at the lockstep step rate
 * R_step(P); elementwise loops at the bandwidth of the data one call touches (files before
 * stream_calls: memory bandwidth for sweeps, the in-cache figure for steps); every message
 * kind by its measured latency-bandwidth line. A figure a study's microbench files lack
 * (narrow, solve_sweep: older studies) leaves those flops at the sweep rate. */
void admm_sc_model(admm_ScalingRun *r, const admm_Machine *m)
{
    int grad = admm_sc_gradient_method(r->method);
    double cols = (double)r->n_train / r->ranks;
    double rate = grad ? m->step_rate : admm_sc_sweep_rate(m, cols);
    double Fn = !grad && m->nnarrow > 0 ? r->F_narrow : 0, Fs = !grad && m->solve_rate > 0 ? r->F_solve : 0;
    r->t_compute = (r->F - Fn - Fs) / rate;
    if (Fn > 0) /* the narrow products at their own rate */
        r->t_compute += Fn / admm_sc_nearest_rate(m->nnarrow, m->narrow_cols, m->narrow_rate, cols);
    /* Systems of order 257 and 785 on the grid of P ranks run far below the GEMM rate, and the
     * more so the larger the grid (the 16-core study's bcd runs: 25 GFLOP/s per rank in the solve
     * phase at 1 rank, 2.4 at 16, against a sweep rate of 60).
     * The solve rate is measured with ScaLAPACK's own messages, which the run's c_k also count:
     * those are counted twice, a few ms at most (all of t_comm is). */
    if (Fs > 0) r->t_compute += Fs / m->solve_rate;
    if (m->nat > 0 && r->S_calls > 0) {
        /* each loop at the bandwidth of the data one call touches; the node-shared reads at that
         * of one call's share */
        r->t_stream = r->S / admm_sc_bandwidth_at(m, r->S / r->S_calls);
        if (r->calls[K_SHM] > 0) r->t_stream += r->bytes[K_SHM] / admm_sc_bandwidth_at(m, r->bytes[K_SHM] / r->calls[K_SHM]);
    } else {
        r->t_stream = (r->S + r->bytes[K_SHM]) / (grad ? m->stream_cache : m->stream);
    }
    r->t_comm = 0;
    for (int k = 0; k < NKIND; k++) {
        if (k == K_SHM || r->calls[k] <= 0) continue;
        r->t_comm += r->calls[k] * admm_sc_call_time(m, k, k == K_BARRIER ? 0 : r->bytes[k] / r->calls[k]);
    }
    r->model = r->t_compute + r->t_stream + r->t_comm;
    r->err = (r->model - r->t_epoch) / r->t_epoch;
}

/* ---------------------------------------------------------------------------------------------- */
/* the projection: a stated cluster, 16 to 1024 ranks */


const int admm_sc_proj_ranks[ADMM_SC_NPROJ] = {16, 32, 64, 128, 256, 512, 1024};

static double log2i(double p) { return p > 1 ? ceil(log2(p)) : 0; }

/* One call of kind k among p ranks, s bytes (Thakur, Rabenseifner and Gropp 2005): allreduce
 * 2 log p a + 2 (p-1)/p s/B; reduce-scatter and allgather log p a + (p-1)/p s/B; bcast and
 * reduce 2 log p a + 2 (p-1)/p s/B; one message a + s/B; a barrier 2 log p a. B is the node's
 * link shared by the node's ranks, which all send at once. */
double admm_sc_cluster_call(int k, double p, double s)
{
    double a = CL_LATENCY, B = CL_LINK_BPS / (p < CL_CORES ? p : CL_CORES), frac = (p - 1) / p;
    switch (k) {
    case 0: case 2: case 4: return 2 * log2i(p) * a + 2 * frac * s / B;
    case 1: case 3: return log2i(p) * a + frac * s / B;
    case 5: return a + s / B;
    case K_BARRIER: return 2 * log2i(p) * a;
    default: return 0;
    }
}

/* Elementwise streams of the optimiser per parameter (gradient.c): read p, g, write p; momentum
 * also v twice; Adam m and v. */
static double update_streams(const char *method)
{
    return !strcmp(method, "adam") ? 7 : !strcmp(method, "momentum") ? 5 : 3;
}

/* Epoch time at p ranks on the cluster, from the method's 1-rank run (its work), its run at the
 * largest rank count measured (its messages) and the machine constants there. batch: the
 * global mini-batch of a gradient method; NAN when it leaves a rank without a sample. */
double admm_sc_project_epoch(const admm_ScalingRun *one, const admm_ScalingRun *top, const admm_Machine *m, double p, double batch)
{
    if (!admm_sc_gradient_method(one->method)) {
        /* The products and elementwise loops divide over the ranks. The collectives keep the
         * count and size measured at the largest rank count: a Gram or cross product per layer
         * whatever p; ScaLAPACK's messages are kept at the measured grid's (they shrink on a
         * larger grid: pessimistic). */
        double cols = (double)one->n_train / p, t = one->S / p / m->stream;
        double Fn = m->nnarrow > 0 ? one->F_narrow : 0, Fs = m->solve_rate > 0 ? one->F_solve : 0;
        t += (one->F - Fn - Fs) / p / admm_sc_sweep_rate(m, cols);
        if (Fn > 0) t += Fn / p / admm_sc_nearest_rate(m->nnarrow, m->narrow_cols, m->narrow_rate, cols);
        /* The solves' systems keep their order whatever p: beyond the largest grid measured they
         * are held at its time (a larger grid only adds messages to a solve this small). */
        if (Fs > 0) t += Fs / fmin(p, m->ranks) / m->solve_rate;
        for (int k = 0; k < NKIND; k++)
            if (k != K_SHM && top->calls[k] > 0)
                t += top->calls[k] * admm_sc_cluster_call(k, p, k == K_BARRIER ? 0 : top->bytes[k] / top->calls[k]);
        return t;
    }
    double cols = batch / p;
    if (cols < 1) return NAN;
    double steps1 = (double)one->n_train / one->batch, steps = (double)one->n_train / batch;
    double P = one->params, upd = update_streams(one->method) * 8 * P;
    double per_node = p < CL_CORES ? p : CL_CORES, nodes = ceil(p / CL_CORES);
    /* the step's products on cols columns; below the measured column count the rate falls in
     * proportion (too few columns to fill the GEMM kernels) */
    double flops = one->F / steps1 * cols / one->batch;
    double rate = m->step_rate * (cols < m->step_cols ? cols / m->step_cols : 1);
    /* elementwise work of the columns, and the optimiser on this rank's slice of the node */
    double act = fmax(one->S / steps1 - upd, 0) * cols / one->batch;
    double t = flops / rate + (act + upd / per_node) / m->stream_cache;
    /* the node-shared sum: every rank reads its slice of each segment and then the updated
     * parameters (2 P values), behind two node barriers; across nodes, one allreduce of the
     * node's gradient over the link */
    t += 2 * P * 8 / m->stream_cache + 2 * admm_sc_cluster_call(K_BARRIER, per_node, 0);
    if (nodes > 1) t += 2 * log2i(nodes) * CL_LATENCY + 2 * (nodes - 1) / nodes * P * 8 / CL_LINK_BPS;
    return steps * t;
}
