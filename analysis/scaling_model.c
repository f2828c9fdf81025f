/* scaling_model: see scaling_model.h. */
#include "scaling_model.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------- */
/* the model */

/* The gradient methods' node-shared sum (solver/node_sum.c) over one epoch, and in *upd the
 * bytes of S that the update of the rank's slice streams (0 where the time returned leaves them
 * in S). Per step it makes a cycle: a window barrier, the sum of the rank's slice over every
 * rank's segment (lines that the other cores have just written), the update of the slice of the
 * node-shared parameters (lines that every other core has read), a window barrier; the next
 * forward pass reads the slices the others updated. Its calls are counted as kind shm, two a
 * cycle, each reading (P-1)/P of the buffer G from the other ranks, and each behind one of the
 * barriers counted. Where the microbench measured the cycle itself (node_sum, per update rule,
 * the update included), that figure, in proportion to G; otherwise the MPI collectives that move
 * the same data between the same ranks, measured at G: a reduce-scatter (each rank sums its slice
 * over the P gradients) and an allgather (each rank gets the others' slices). */
static double node_sum_time(const admm_ScalingRun *r, const admm_Machine *m, double *upd)
{
    double P = r->ranks, c = r->calls[K_SHM];
    *upd = 0;
    if (c <= 0 || P < 2) return 0;
    double cycles = c / 2, G = r->bytes[K_SHM] / c * P / (P - 1);
    int rule = admm_sc_update_rule(r->method);
    if (m->node_sum[rule] > 0 && m->node_sum_params > 0) {
        *upd = cycles * admm_sc_update_streams(r->method) * G / P;
        return cycles * m->node_sum[rule] * G / (8 * m->node_sum_params);
    }
    return cycles * (admm_sc_call_time(m, 1, G) + admm_sc_call_time(m, 3, G));
}

/* T = F / R + S / BW + sum_k c_k t_k(P, b_k / c_k) + T_sum: a sweep method's products at the
 * sweep rate R_sweep(P, N/P), its narrow ones at the narrow rate, its ScaLAPACK solves at the
 * solve rate R_solve(P) of the run's grid; a gradient method's at the step rate of its
 * update rule inside the training's cycle R_step(P, N/P) (step_cycle; in older studies the
 * lockstep step figure); elementwise loops at the bandwidth of the data one call touches (files before
 * stream_calls: memory bandwidth for sweeps, the in-cache figure for steps); every message
 * kind by its measured latency-bandwidth line; T_sum the gradient methods' node-shared sum
 * (node_sum_time), whose barriers it includes; resnet-admm's local LAPACK solves at their
 * own rate R_local(P, N/P). A figure a study's microbench files lack (narrow, solve_sweep,
 * local_solve: older studies) leaves those flops at the sweep rate. */
void admm_sc_model(admm_ScalingRun *r, const admm_Machine *m)
{
    int grad = admm_sc_gradient_method(r->method);
    double cols = (double)r->n_train / r->ranks;
    double rate = grad ? admm_sc_step_rate(m, r->method, cols) : admm_sc_sweep_rate(m, cols);
    double Fn = !grad && m->nnarrow > 0 ? r->F_narrow : 0, Fs = !grad && m->solve_rate > 0 ? r->F_solve : 0;
    double Fl = !grad && m->nlocal > 0 ? r->F_local : 0;
    r->t_compute = (r->F - Fn - Fs - Fl) / rate;
    if (Fn > 0) /* the narrow products at their own rate */
        r->t_compute += Fn / admm_sc_nearest_rate(m->nnarrow, m->narrow_cols, m->narrow_rate, cols);
    /* Systems of order 257 and 785 on the grid of P ranks run far below the GEMM rate, and the
     * more so the larger the grid (the 16-core study's bcd runs: 25 GFLOP/s per rank in the solve
     * phase at 1 rank, 2.4 at 16, against a sweep rate of 60).
     * The solve rate is measured with ScaLAPACK's own messages, which the run's c_k also count:
     * those are counted twice, a few ms at most (all of t_comm is). */
    if (Fs > 0) r->t_compute += Fs / m->solve_rate;
    /* resnet-admm's local Cholesky factors and solves (n x n systems, the rank's columns as
     * right-hand sides: potrs is two triangular solves) at the rate of those calls, where the
     * study measured it (admm-microbench local_solve, at the right-hand sides nearest the
     * run's columns); before it, at the sweep rate */
    double Rl = Fl > 0 ? admm_sc_nearest_rate(m->nlocal, m->local_cols, m->local_rate, cols) : 0;
    if (Fl > 0) r->t_compute += Fl / Rl;
    /* The same by phase: each phase's flops at its rate (the solve phase's at the solve rate);
     * the narrow products' phase is not recorded, so what their own rate adds is kept apart.
     * Written out again rather than taken as the remainder, so that the rows adding up to
     * t_compute is a check (tests/analysis/test_scaling_phases.sh) */
    for (int p = 0; p < r->nph; p++)
        r->ph_model[p] = p == ADMM_SC_PH_SOLVE && Fs > 0 ? r->ph_flops[p] / m->solve_rate : r->ph_flops[p] / rate;
    r->t_narrow = Fn > 0 ? Fn / admm_sc_nearest_rate(m->nnarrow, m->narrow_cols, m->narrow_rate, cols) - Fn / rate : 0;
    r->t_local = Fl > 0 ? Fl / Rl - Fl / rate : 0;
    double upd, t_sum = node_sum_time(r, m, &upd), S = fmax(r->S - upd, 0);
    if (m->nat > 0 && r->S_calls > 0) /* each loop at the bandwidth of the data one call touches */
        r->t_stream = S / admm_sc_bandwidth_at(m, r->S / r->S_calls);
    else
        r->t_stream = S / (grad ? m->stream_cache : m->stream);
    /* the elementwise bytes by phase, where the file records them, at the same bandwidth (what
     * is left of t_stream, the report's `elementwise` row, is the bytes counted outside every
     * phase, less a gradient method's update bytes that T_sum prices) */
    for (int p = 0; p < r->nph; p++)
        r->ph_tstream[p] = r->ph_stream[p] > 0 && S > 0 ? r->t_stream * r->ph_stream[p] / S : 0;
    r->t_comm = t_sum;
    for (int k = 0; k < NKIND; k++) {
        /* one window barrier per shm call is part of the node-shared sum */
        double calls = k == K_BARRIER && t_sum > 0 ? fmax(r->calls[k] - r->calls[K_SHM], 0) : r->calls[k];
        if (k == K_SHM || calls <= 0) continue;
        r->t_comm += calls * admm_sc_call_time(m, k, k == K_BARRIER ? 0 : r->bytes[k] / r->calls[k]);
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
        /* Work that every rank repeats whatever p does not divide: resnet-admm factors its
         * small systems and runs its power iterations on every rank. Read from the strong
         * series, F_top = F_rep + (F_one - F_rep) / P at P = top's ranks, the solves (split
         * over the grid, priced below) left out: F_rep = (P F_top - F_one) / (P - 1). Near 0
         * for bcd and admm (their shards' rounding only); clamped at 0. */
        double Pt = top->ranks, Fs_top = m->solve_rate > 0 ? top->F_solve : 0;
        double rep = Pt > 1 ? fmax(0, (Pt * (top->F - Fs_top) - (one->F - Fs)) / (Pt - 1)) : 0;
        rep = fmin(rep, one->F - Fn - Fs);
        t += ((one->F - Fn - Fs - rep) / p + rep) / admm_sc_sweep_rate(m, cols);
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
    double P = one->params, upd = admm_sc_update_streams(one->method) * 8 * P;
    double per_node = p < CL_CORES ? p : CL_CORES, nodes = ceil(p / CL_CORES);
    /* the step's products on cols columns; below the measured column count the rate falls in
     * proportion (too few columns to fill the GEMM kernels) */
    double flops = one->F / steps1 * cols / one->batch;
    double step = admm_sc_step_rate(m, one->method, (double)one->n_train / m->ranks);
    double rate = step * (cols < m->step_cols ? cols / m->step_cols : 1);
    /* elementwise work of the columns, and the optimiser on this rank's slice of the node */
    double act = fmax(one->S / steps1 - upd, 0) * cols / one->batch;
    /* the node-shared sum, per step: its time at the largest rank count measured (node_sum_time:
     * the measured cycle, update included, or the reduce-scatter and allgather of the gradient
     * there), held for nodes of more ranks (optimistic: more ranks share the node's caches and
     * wait at its barriers); without a run on several ranks, two slices' reads in cache and two
     * node barriers */
    double upd_top = 0, cyc = top->ranks > 1 ? top->calls[K_SHM] / 2 : 0;
    double t_node = cyc > 0 ? node_sum_time(top, m, &upd_top) / cyc
                            : 2 * P * 8 / m->stream_cache + 2 * admm_sc_cluster_call(K_BARRIER, per_node, 0);
    double t = flops / rate + (act + (upd_top > 0 ? 0 : upd / per_node)) / m->stream_cache + t_node;
    /* across nodes, one allreduce of the node's gradient over the link */
    if (nodes > 1) t += 2 * log2i(nodes) * CL_LATENCY + 2 * (nodes - 1) / nodes * P * 8 / CL_LINK_BPS;
    return steps * t;
}
