/* scaling: the scaling study read back, the performance model and the projection; see
 * scaling.h. The model is written out in full in the report it writes (scaling.md, "The
 * model"); the formulas below are the same, in the same order.
 *
 * Legend: P ranks; N training samples; per epoch and per rank (max over ranks): F flops of the
 * training step, S bytes streamed by elementwise loops, c_k calls and b_k bytes of message kind
 * k (common/counters.h). Machine constants at P ranks (admm-microbench): R_gemm(P, n) GEMM
 * rate at n columns per rank, R_step(P) the gradient step's rate, BW(P) stream bandwidth per
 * rank, t_k(P, s) the time of one call of kind k with s bytes. */
#define _XOPEN_SOURCE 700

#include "scaling.h"

#include "plot.h"
#include "util.h"

#include <dirent.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NKIND = 8, MAXSIZES = 16, MAXRUN = 512, MAXP = 64, MAXGEMM = 4 };
static const char *const kind_names[NKIND] = {
    "allreduce", "reduce_scatter", "bcast", "allgather", "reduce", "p2p", "barrier", "shm"};
enum { K_BARRIER = 6, K_SHM = 7 };

/* ---------------------------------------------------------------------------------------------- */
/* machine constants: admm-microbench output at each rank count */

typedef struct {
    int ranks;
    int ngemm, nsweep;
    double gemm_cols[MAXGEMM], gemm_rate[MAXGEMM];   /* flop/s per rank, one m x k x n GEMM */
    double sweep_cols[MAXGEMM], sweep_rate[MAXGEMM]; /* flop/s per rank, a sweep's products */
    int nnarrow;
    double narrow_cols[MAXGEMM], narrow_rate[MAXGEMM]; /* flop/s per rank, narrow products */
    double step_cols, step_rate;                      /* flop/s per rank, lockstep steps */
    double stream, stream_cache;                      /* bytes/s per rank */
    int nat;                                          /* stream_at: bandwidth by data size */
    double at_bytes[MAXSIZES], at_bw[MAXSIZES];
    int nsize[NKIND];
    double size[NKIND][MAXSIZES], secs[NKIND][MAXSIZES];
} Machine;

static const char *field(const char *line, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = line; (p = strstr(p, key)); p++)
        if ((p == line || p[-1] == ' ') && p[n] == '=') return p + n + 1;
    return NULL;
}

static int read_machine(const char *path, Machine *m)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    memset(m, 0, sizeof *m);
    char line[512];
    while (fgets(line, sizeof line, f)) {
        const char *what = field(line, "what"), *v;
        if (!what || !(v = field(line, "ranks"))) continue;
        m->ranks = atoi(v);
        if (!strncmp(what, "gemm ", 5) && m->ngemm < MAXGEMM) {
            m->gemm_cols[m->ngemm] = atof(field(line, "n"));
            m->gemm_rate[m->ngemm++] = 1e9 * atof(field(line, "gflops"));
        } else if (!strncmp(what, "sweep ", 6) && m->nsweep < MAXGEMM) {
            m->sweep_cols[m->nsweep] = atof(field(line, "n"));
            m->sweep_rate[m->nsweep++] = 1e9 * atof(field(line, "gflops"));
        } else if (!strncmp(what, "narrow ", 7) && m->nnarrow < MAXGEMM) {
            m->narrow_cols[m->nnarrow] = atof(field(line, "n"));
            m->narrow_rate[m->nnarrow++] = 1e9 * atof(field(line, "gflops"));
        } else if (!strncmp(what, "step ", 5)) {
            m->step_cols = atof(field(line, "columns"));
            m->step_rate = 1e9 * atof(field(line, "gflops"));
        } else if (!strncmp(what, "stream ", 7)) {
            m->stream = 1e9 * atof(field(line, "gbytes_per_s"));
        } else if (!strncmp(what, "stream_cache ", 13)) {
            m->stream_cache = 1e9 * atof(field(line, "gbytes_per_s"));
        } else if (!strncmp(what, "stream_at ", 10) && m->nat < MAXSIZES) {
            m->at_bytes[m->nat] = atof(field(line, "bytes"));
            m->at_bw[m->nat++] = 1e9 * atof(field(line, "gbytes_per_s"));
        } else {
            for (int k = 0; k < NKIND; k++) {
                size_t n = strlen(kind_names[k]);
                if (strncmp(what, kind_names[k], n) || what[n] != ' ' || m->nsize[k] >= MAXSIZES) continue;
                m->size[k][m->nsize[k]] = atof(field(line, "bytes"));
                m->secs[k][m->nsize[k]++] = atof(field(line, "seconds"));
            }
        }
    }
    fclose(f);
    if (m->nsweep == 0) { /* microbench files before the sweep figure: the single GEMM stands in */
        m->nsweep = m->ngemm;
        memcpy(m->sweep_cols, m->gemm_cols, sizeof m->gemm_cols);
        memcpy(m->sweep_rate, m->gemm_rate, sizeof m->gemm_rate);
    }
    if (m->stream_cache <= 0) m->stream_cache = m->stream;
    return m->ngemm > 0 && m->stream > 0 ? 0 : -1;
}

/* The time of one call of kind k with s bytes: the latency-bandwidth line through the two
 * measured sizes around s (MPI libraries switch algorithms with the size, so one line for
 * all sizes would not do); below the smallest size its time, beyond the largest its
 * bandwidth. */
static double call_time(const Machine *m, int k, double s)
{
    int n = m->nsize[k];
    if (n == 0) return 0;
    const double *x = m->size[k], *t = m->secs[k];
    if (n == 1 || s <= x[0]) return t[0];
    if (s >= x[n - 1]) return t[n - 1] * s / x[n - 1];
    int i = 1;
    while (x[i] < s) i++;
    double beta = (t[i] - t[i - 1]) / (x[i] - x[i - 1]), alpha = t[i - 1] - beta * x[i - 1];
    return alpha + beta * s;
}

/* The rate measured at the column count nearest (in ratio) to cols. */
static double nearest_rate(int n, const double *at, const double *rate, double cols)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (fabs(log(at[i] / cols)) < fabs(log(at[best] / cols))) best = i;
    return rate[best];
}

static double sweep_rate(const Machine *m, double cols)
{
    return nearest_rate(m->nsweep, m->sweep_cols, m->sweep_rate, cols);
}

/* The bandwidth of one rank for loops that touch `bytes` each: log-log interpolation of
 * stream_at, its ends held beyond the measured sizes. */
static double bandwidth_at(const Machine *m, double bytes)
{
    int n = m->nat;
    if (bytes <= m->at_bytes[0]) return m->at_bw[0];
    if (bytes >= m->at_bytes[n - 1]) return m->at_bw[n - 1];
    int i = 1;
    while (m->at_bytes[i] < bytes) i++;
    double f = log(bytes / m->at_bytes[i - 1]) / log(m->at_bytes[i] / m->at_bytes[i - 1]);
    return exp(log(m->at_bw[i - 1]) + f * (log(m->at_bw[i]) - log(m->at_bw[i - 1])));
}

/* ---------------------------------------------------------------------------------------------- */
/* runs */

typedef struct {
    char *path, *series, *method;
    int ranks, E;
    long n_train;
    double t_epoch;                  /* measured: median over the epochs used */
    double F, S, calls[NKIND], bytes[NKIND], sent, recv; /* medians, per epoch */
    double S_calls;                  /* elementwise calls (0 in files before stream_calls) */
    double F_narrow;                 /* flops of narrow BLAS calls (0 in files before flops_narrow) */
    double t_to[3];                  /* training seconds to 90, 95, 97% validation; NAN: never */
    int epochs_to[3];
    double model, t_compute, t_stream, t_comm, err;
    double speedup, efficiency;      /* strong: T1 / TP and T1 / (P TP); weak: T1 / TP for both */
    double params;                   /* weights and biases, from /config/layer_sizes */
    long batch;                      /* gradient methods: the global mini-batch (/config/batch) */
    int repeats;                     /* runs of this point; the one kept has their median time */
    double t_min, t_max;             /* epoch time over the repeats */
} Run;

static const double targets[3] = {0.90, 0.95, 0.97};

static int gradient_method(const char *m)
{
    return !strcmp(m, "gd") || !strcmp(m, "sgd") || !strcmp(m, "momentum") || !strcmp(m, "adam");
}

static char *attr_string(hid_t f, const char *name)
{
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    if (a < 0) return NULL;
    hid_t t = H5Aget_type(a), mt = H5Tcopy(t); /* the file's own string type: UTF-8, variable */
    char *s = NULL, *out = NULL;
    if (H5Tis_variable_str(t) > 0 && H5Aread(a, mt, &s) >= 0 && s) {
        out = admm_xstrdup(s);
        H5free_memory(s);
    }
    H5Tclose(mt);
    H5Tclose(t);
    H5Aclose(a);
    return out;
}

static int attr_long(hid_t f, const char *name, long *v)
{
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    if (a < 0) return -1;
    int rc = H5Aread(a, H5T_NATIVE_LONG, v) < 0 ? -1 : 0;
    H5Aclose(a);
    return rc;
}

/* Parameters of the network from /config/layer_sizes (biases included), and /config/batch. */
static void read_shape(hid_t f, Run *r)
{
    hid_t g = H5Gopen2(f, "config", H5P_DEFAULT);
    if (g < 0) return;
    hid_t a = H5Aopen(g, "layer_sizes", H5P_DEFAULT);
    if (a >= 0) {
        hid_t sp = H5Aget_space(a);
        hssize_t n = H5Sget_simple_extent_npoints(sp);
        if (n >= 2 && n <= 64) {
            long w[64];
            if (H5Aread(a, H5T_NATIVE_LONG, w) >= 0)
                for (hssize_t l = 1; l < n; l++) r->params += (double)w[l] * (w[l - 1] + 1);
        }
        H5Sclose(sp);
        H5Aclose(a);
    }
    if (attr_long(g, "batch", &r->batch)) r->batch = 0;
    H5Gclose(g);
}

/* /epochs/NAME as doubles, rows x cols (cols 1 for a 1-D dataset); NULL when absent. */
static double *dataset(hid_t f, const char *name, int rows, int *cols)
{
    char full[96];
    snprintf(full, sizeof full, "epochs/%s", name);
    hid_t d = H5Dopen2(f, full, H5P_DEFAULT);
    if (d < 0) return NULL;
    hid_t sp = H5Dget_space(d);
    hsize_t dims[2] = {0, 1};
    int rank = H5Sget_simple_extent_dims(sp, dims, NULL);
    double *v = NULL;
    if (rank >= 1 && (int)dims[0] == rows) {
        *cols = rank == 2 ? (int)dims[1] : 1;
        v = admm_xmalloc(sizeof *v * (size_t)rows * (size_t)*cols + 1);
        if (H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
            free(v);
            v = NULL;
        }
    }
    H5Sclose(sp);
    H5Dclose(d);
    return v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of column c of a (rows x cols) over rows [r0, rows). */
static double median_col(const double *a, int rows, int cols, int c, int r0)
{
    int n = rows - r0;
    double *v = admm_xmalloc(sizeof *v * (size_t)n);
    for (int r = r0; r < rows; r++) v[r - r0] = a[(size_t)r * cols + c];
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double m = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    free(v);
    return m;
}

/* Reads one study run; -1 with a reason when it is not a complete results file with the
 * work counters (files written before admm-nn 0.6 have none). */
static int read_run(const char *path, const char *series, Run *r, char *why, size_t len)
{
    memset(r, 0, sizeof *r);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        snprintf(why, len, "cannot open as HDF5");
        return -1;
    }
    int rc = -1;
    char *status = attr_string(f, "status");
    long ranks = 0, epochs = 0;
    r->method = attr_string(f, "method");
    if (!status || strcmp(status, "complete")) {
        snprintf(why, len, "status is %s, not complete", status ? status : "missing");
    } else if (!r->method || attr_long(f, "ranks", &ranks) || attr_long(f, "n_train", &r->n_train) ||
               attr_long(f, "epochs_run", &epochs) || epochs < 1) {
        snprintf(why, len, "a root attribute (method, ranks, n_train, epochs_run) is missing");
    } else {
        int E = (int)epochs, c1, cp, cf, ck, cb, cs, cr, cv;
        double *t = dataset(f, "t_epoch", E, &c1), *val = dataset(f, "val_acc", E, &cv);
        double *fl = dataset(f, "phase_flops", E, &cf), *ph = dataset(f, "phase_max", E, &cp);
        double *calls = dataset(f, "comm_calls", E, &ck), *bytes = dataset(f, "comm_bytes", E, &cb);
        double *stream = dataset(f, "stream_bytes", E, &cs), *scalls = dataset(f, "stream_calls", E, &cs);
        double *narrow = dataset(f, "flops_narrow", E, &cs);
        double *sent = dataset(f, "bytes_sent", E, &cr), *recv = dataset(f, "bytes_recv", E, &cr);
        if (!t || !val || !fl || !calls || !bytes || !stream || !sent || !recv || ck != NKIND || cb != NKIND) {
            snprintf(why, len, "no work counters (/epochs/phase_flops, comm_calls, comm_bytes, "
                               "stream_bytes, bytes_sent: written by admm-nn 0.6 and later)");
        } else {
            r->path = admm_xstrdup(path);
            r->series = admm_xstrdup(series);
            read_shape(f, r);
            r->ranks = (int)ranks;
            r->E = E;
            /* The first epoch carries first-touch page faults and library set-up: leave it out
             * where there are three or more. */
            int r0 = E >= 3 ? 1 : 0;
            r->t_epoch = median_col(t, E, 1, 0, r0);
            /* F: the training step's phases, all but eval and io (the last two) */
            double *F = admm_xmalloc(sizeof *F * (size_t)E);
            for (int e = 0; e < E; e++) {
                F[e] = 0;
                for (int p = 0; p < cf - 2; p++) F[e] += fl[(size_t)e * cf + p];
            }
            r->F = median_col(F, E, 1, 0, r0);
            free(F);
            r->S = median_col(stream, E, 1, 0, r0);
            r->S_calls = scalls ? median_col(scalls, E, 1, 0, r0) : 0;
            r->F_narrow = narrow ? median_col(narrow, E, 1, 0, r0) : 0;
            for (int k = 0; k < NKIND; k++) {
                r->calls[k] = median_col(calls, E, NKIND, k, r0);
                r->bytes[k] = median_col(bytes, E, NKIND, k, r0);
            }
            for (int i = 0; i < cr; i++) {
                r->sent += median_col(sent, E, cr, i, r0) / cr;
                r->recv += median_col(recv, E, cr, i, r0) / cr;
            }
            for (int i = 0; i < 3; i++) {
                double cum = 0;
                r->t_to[i] = NAN;
                r->epochs_to[i] = 0;
                for (int e = 0; e < E; e++) {
                    cum += t[e];
                    if (val[e] >= targets[i]) {
                        r->t_to[i] = cum;
                        r->epochs_to[i] = e + 1;
                        break;
                    }
                }
            }
            rc = 0;
        }
        double *all[] = {t, val, fl, ph, calls, bytes, stream, scalls, narrow, sent, recv};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
    }
    free(status);
    if (rc) {
        free(r->method);
        r->method = NULL;
    }
    H5Fclose(f);
    return rc;
}

static int cmp_point(const Run *x, const Run *y)
{
    int c = strcmp(x->series, y->series);
    if (!c) c = strcmp(x->method, y->method);
    return c ? c : x->ranks - y->ranks;
}

/* by point, then epoch time */
static int cmp_run(const void *a, const void *b)
{
    const Run *x = a, *y = b;
    int c = cmp_point(x, y);
    return c ? c : (x->t_epoch > y->t_epoch) - (x->t_epoch < y->t_epoch);
}

/* Repeats of one point (sorted together, by epoch time) become the run with their median
 * time (the lower median for an even count), which keeps its own counters and accuracies. */
static int collapse_repeats(Run *runs, int n)
{
    int out = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && cmp_point(&runs[i], &runs[j]) == 0) j++;
        Run keep = runs[i + (j - i - 1) / 2];
        keep.repeats = j - i;
        keep.t_min = runs[i].t_epoch;
        keep.t_max = runs[j - 1].t_epoch;
        runs[out++] = keep;
        i = j;
    }
    return out;
}

/* ---------------------------------------------------------------------------------------------- */
/* the model */

/* T = F / R + (S + b_shm) / BW + sum_k c_k t_k(P, b_k / c_k): a sweep method's products at the
 * sweep rate R_sweep(P, N/P) and its elementwise loops at the memory bandwidth BW(P); a
 * gradient method's at the lockstep step rate R_step(P) and its elementwise work, which stays
 * in cache, at BW_cache(P); every message kind by its measured latency-bandwidth line. */
static void model(Run *r, const Machine *m)
{
    int grad = gradient_method(r->method);
    double cols = (double)r->n_train / r->ranks;
    double rate = grad ? m->step_rate : sweep_rate(m, cols);
    r->t_compute = r->F / rate;
    if (!grad && m->nnarrow > 0 && r->F_narrow > 0) /* the narrow products at their own rate */
        r->t_compute = (r->F - r->F_narrow) / rate +
                       r->F_narrow / nearest_rate(m->nnarrow, m->narrow_cols, m->narrow_rate, cols);
    if (m->nat > 0 && r->S_calls > 0) {
        /* each loop at the bandwidth of the data one call touches; the node-shared reads at that
         * of one call's share */
        r->t_stream = r->S / bandwidth_at(m, r->S / r->S_calls);
        if (r->calls[K_SHM] > 0) r->t_stream += r->bytes[K_SHM] / bandwidth_at(m, r->bytes[K_SHM] / r->calls[K_SHM]);
    } else {
        r->t_stream = (r->S + r->bytes[K_SHM]) / (grad ? m->stream_cache : m->stream);
    }
    r->t_comm = 0;
    for (int k = 0; k < NKIND; k++) {
        if (k == K_SHM || r->calls[k] <= 0) continue;
        r->t_comm += r->calls[k] * call_time(m, k, k == K_BARRIER ? 0 : r->bytes[k] / r->calls[k]);
    }
    r->model = r->t_compute + r->t_stream + r->t_comm;
    r->err = (r->model - r->t_epoch) / r->t_epoch;
}

/* ---------------------------------------------------------------------------------------------- */
/* the projection: a stated cluster, 16 to 1024 ranks */

/* The cluster: nodes of 64 cores on a 100 Gb/s network with 2 us MPI latency (the class of an
 * InfiniBand HDR100 or 100 GbE RoCE fabric: 100 Gb/s is the link's signalling rate, 2 us a
 * typical small-message MPI latency on it); each core as fast as this study's cores were with
 * the whole machine busy (the per-rank rates of admm-microbench at the largest rank count). */
#define CL_CORES 64
#define CL_LINK_BPS 12.5e9
#define CL_LATENCY 2e-6

static const int proj_ranks[] = {16, 32, 64, 128, 256, 512, 1024};
enum { NPROJ = sizeof proj_ranks / sizeof proj_ranks[0] };

static double log2i(double p) { return p > 1 ? ceil(log2(p)) : 0; }

/* One call of kind k among p ranks, s bytes (Thakur, Rabenseifner and Gropp 2005): allreduce
 * 2 log p a + 2 (p-1)/p s/B; reduce-scatter and allgather log p a + (p-1)/p s/B; bcast and
 * reduce 2 log p a + 2 (p-1)/p s/B; one message a + s/B; a barrier 2 log p a. B is the node's
 * link shared by the node's ranks, which all send at once. */
static double cluster_call(int k, double p, double s)
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
static double project_epoch(const Run *one, const Run *top, const Machine *m, double p, double batch)
{
    if (!gradient_method(one->method)) {
        /* The products and elementwise loops divide over the ranks. The collectives keep the
         * count and size measured at the largest rank count: a Gram or cross product per layer
         * whatever p; ScaLAPACK's messages are kept at the measured grid's (they shrink on a
         * larger grid: pessimistic). */
        double cols = (double)one->n_train / p, t = one->S / p / m->stream;
        if (m->nnarrow > 0 && one->F_narrow > 0)
            t += (one->F - one->F_narrow) / p / sweep_rate(m, cols) +
                 one->F_narrow / p / nearest_rate(m->nnarrow, m->narrow_cols, m->narrow_rate, cols);
        else
            t += one->F / p / sweep_rate(m, cols);
        for (int k = 0; k < NKIND; k++)
            if (k != K_SHM && top->calls[k] > 0)
                t += top->calls[k] * cluster_call(k, p, k == K_BARRIER ? 0 : top->bytes[k] / top->calls[k]);
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
    t += 2 * P * 8 / m->stream_cache + 2 * cluster_call(K_BARRIER, per_node, 0);
    if (nodes > 1) t += 2 * log2i(nodes) * CL_LATENCY + 2 * (nodes - 1) / nodes * P * 8 / CL_LINK_BPS;
    return steps * t;
}

/* ---------------------------------------------------------------------------------------------- */
/* output */

static FILE *open_out(const char *dir, const char *name)
{
    char *p = admm_xasprintf("%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f) fprintf(stderr, "admm-analyze: cannot write %s\n", p);
    free(p);
    return f;
}

static void cell(FILE *f, double v, const char *fmt, const char *sep)
{
    if (isnan(v))
        fprintf(f, "%s", sep);
    else {
        fprintf(f, fmt, v);
        fputs(sep, f);
    }
}

static void md_time(FILE *f, double v)
{
    if (isnan(v))
        fputs(" never |", f);
    else
        fprintf(f, " %.3g |", v);
}

static int scan_series(const char *dir, const char *series, Run *runs, int *n)
{
    char *d = admm_xasprintf("%s/%s", dir, series);
    DIR *h = opendir(d);
    if (!h) {
        free(d);
        return 0;
    }
    struct dirent *e;
    int refused = 0;
    while ((e = readdir(h)) && *n < MAXRUN) {
        if (!admm_ends_with(e->d_name, ".h5")) continue;
        char *p = admm_xasprintf("%s/%s", d, e->d_name), why[256];
        if (read_run(p, series, &runs[*n], why, sizeof why) == 0)
            (*n)++;
        else {
            fprintf(stderr, "admm-analyze: refused %s: %s\n", p, why);
            refused++;
        }
        free(p);
    }
    closedir(h);
    free(d);
    return refused;
}

static const Run *find(const Run *runs, int n, const char *series, const char *method, int ranks)
{
    const Run *best = NULL;
    for (int i = 0; i < n; i++)
        if (!strcmp(runs[i].series, series) && !strcmp(runs[i].method, method) &&
            (ranks > 0 ? runs[i].ranks == ranks : !best || runs[i].ranks > best->ranks))
            best = &runs[i];
    return best;
}

/* Distinct methods in order of appearance (runs are sorted by series, method). */
static int methods_of(const Run *runs, int n, const char **out)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < k; j++) seen |= !strcmp(out[j], runs[i].method);
        if (!seen && k < 16) out[k++] = runs[i].method;
    }
    return k;
}

typedef struct {
    const char *method, *rule;
    double epoch[NPROJ], t95[NPROJ], t97[NPROJ];
    int e95, e97;
} Projection;

static int figures(const char *out, const Run *runs, int n, const char **meth, int nmeth, const Projection *pr,
                   int npr, char *why, size_t len)
{
    char *dir = admm_xasprintf("%s/figures", out);
    int fails = 0;
    double x[16][MAXP], y[16][MAXP], y2[16][MAXP];
    admm_Series s[32];
    /* epoch time, measured and modelled, strong and weak */
    for (int series = 0; series < 2; series++) {
        const char *name = series ? "weak" : "strong";
        int ns = 0;
        for (int k = 0; k < nmeth; k++) {
            int c = 0;
            for (int i = 0; i < n && c < MAXP; i++)
                if (!strcmp(runs[i].series, name) && !strcmp(runs[i].method, meth[k])) {
                    x[k][c] = runs[i].ranks;
                    y[k][c] = runs[i].t_epoch;
                    y2[k][c++] = runs[i].model;
                }
            if (!c) continue;
            s[ns++] = (admm_Series){admm_xasprintf("%s measured", meth[k]), c, x[k], y[k], NULL, NULL, 0};
            s[ns++] = (admm_Series){admm_xasprintf("%s model", meth[k]), c, x[k], y2[k], NULL, NULL, 2};
        }
        admm_PlotSpec spec = {series ? "Weak scaling: epoch time (fixed samples per rank)"
                                     : "Strong scaling: epoch time (full MNIST)",
                              "ranks", "seconds per epoch (training step)", ADMM_PLOT_ERRORBARS, NULL, 1, 2, 10};
        if (ns && admm_plot(dir, series ? "weak-epoch-time" : "strong-epoch-time", &spec, ns, s, why, len)) fails++;
        for (int k = 0; k < ns; k++) free((char *)s[k].label);
    }
    /* efficiency */
    int ns = 0;
    for (int series = 0; series < 2; series++)
        for (int k = 0; k < nmeth && ns < 16; k++) {
            const char *name = series ? "weak" : "strong";
            const Run *one = find(runs, n, name, meth[k], 1);
            int c = 0;
            for (int i = 0; i < n && one && c < MAXP; i++)
                if (!strcmp(runs[i].series, name) && !strcmp(runs[i].method, meth[k])) {
                    x[ns][c] = runs[i].ranks;
                    y[ns][c++] = series ? one->t_epoch / runs[i].t_epoch
                                        : one->t_epoch / runs[i].t_epoch / runs[i].ranks;
                }
            if (c) s[ns] = (admm_Series){admm_xasprintf("%s %s", meth[k], name), c, x[ns], y[ns], NULL, NULL, 0}, ns++;
        }
    admm_PlotSpec eff = {"Parallel efficiency (strong: T1 / (P TP); weak: T1 / TP)", "ranks", "efficiency",
                         ADMM_PLOT_ERRORBARS, NULL, 1, 2, 0};
    if (ns && admm_plot(dir, "efficiency", &eff, ns, s, why, len)) fails++;
    for (int k = 0; k < ns; k++) free((char *)s[k].label);
    /* model against measurement: every run, a colour per method, on log-log axes */
    static double mx[16][MAXRUN], my[16][MAXRUN], lx[2], ly[2], lo[2], hi[2];
    double top = 0, bottom = 1e300;
    ns = 0;
    for (int k = 0; k < nmeth; k++) {
        int c = 0;
        for (int i = 0; i < n; i++)
            if (!strcmp(runs[i].method, meth[k]) && !isnan(runs[i].model)) {
                mx[k][c] = runs[i].t_epoch;
                my[k][c++] = runs[i].model;
                top = fmax(top, fmax(runs[i].t_epoch, runs[i].model));
                bottom = fmin(bottom, fmin(runs[i].t_epoch, runs[i].model));
            }
        if (c) s[ns++] = (admm_Series){meth[k], c, mx[k], my[k], NULL, NULL, 0};
    }
    lx[0] = ly[0] = bottom / 1.5;
    lx[1] = ly[1] = top * 1.5;
    lo[0] = 0.8 * lx[0], lo[1] = 0.8 * lx[1], hi[0] = 1.2 * lx[0], hi[1] = 1.2 * lx[1];
    s[ns++] = (admm_Series){"model = measured", 2, lx, ly, NULL, NULL, 1};
    s[ns++] = (admm_Series){"-20%", 2, lx, lo, NULL, NULL, 1};
    s[ns++] = (admm_Series){"+20%", 2, lx, hi, NULL, NULL, 1};
    admm_PlotSpec mspec = {"Model against measurement, every run (strong and weak)", "measured epoch time (s)",
                           "modelled epoch time (s)", ADMM_PLOT_POINTS, NULL, 0, 10, 10};
    if (ns > 3 && admm_plot(dir, "model-vs-measured", &mspec, ns, s, why, len)) fails++;
    /* projection */
    static double px[NPROJ];
    for (int i = 0; i < NPROJ; i++) px[i] = proj_ranks[i];
    ns = 0;
    for (int k = 0; k < npr && ns < 16; k++)
        s[ns++] = (admm_Series){admm_xasprintf("%s%s%s", pr[k].method, pr[k].rule[0] ? ", " : "", pr[k].rule), NPROJ,
                                px, pr[k].t95, NULL, NULL, 0};
    admm_PlotSpec pspec = {"Projected training time to 95% validation accuracy (64-core nodes, 100 Gb/s, 2 us)",
                           "ranks", "seconds", ADMM_PLOT_ERRORBARS, NULL, 1, 2, 10};
    if (ns && admm_plot(dir, "projection-95", &pspec, ns, s, why, len)) fails++;
    for (int k = 0; k < ns; k++) free((char *)s[k].label);
    free(dir);
    return fails;
}

int admm_scaling_main(const char *study, const char *out, int plots)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    static Machine mach[MAXP];
    int nm = 0;
    for (int p = 1; p <= 4096 && nm < MAXP; p++) {
        char *path = admm_xasprintf("%s/microbench/r%d.txt", study, p);
        if (read_machine(path, &mach[nm]) == 0) nm++;
        free(path);
    }
    Run *runs = admm_xcalloc(MAXRUN, sizeof *runs);
    int n = 0;
    scan_series(study, "strong", runs, &n);
    scan_series(study, "weak", runs, &n);
    if (n == 0 || nm == 0) {
        fprintf(stderr, "admm-analyze: --scaling %s: no %s found (run jobs/study-scaling.sh)\n", study,
                n == 0 ? "results files with work counters under strong/ or weak/" : "microbench/rP.txt");
        free(runs);
        return 1;
    }
    qsort(runs, (size_t)n, sizeof *runs, cmp_run);
    n = collapse_repeats(runs, n);
    const Machine *big = &mach[nm - 1];
    double max_err = 0;
    int modelled = 0, within = 0;
    for (int i = 0; i < n; i++) {
        const Machine *m = NULL;
        for (int j = 0; j < nm; j++)
            if (mach[j].ranks == runs[i].ranks) m = &mach[j];
        runs[i].model = runs[i].err = NAN;
        if (!m) continue;
        model(&runs[i], m);
        modelled++;
        within += fabs(runs[i].err) <= 0.2;
        if (fabs(runs[i].err) > max_err) max_err = fabs(runs[i].err);
    }
    if (admm_mkdirs(out) != 0) {
        fprintf(stderr, "admm-analyze: cannot create %s\n", out);
        return 1;
    }
    const char *meth[16];
    int nmeth = methods_of(runs, n, meth);

    /* the projection, per method (and per batch rule for the gradient methods) */
    Projection pr[32];
    int npr = 0;
    for (int k = 0; k < nmeth && npr < 30; k++) {
        const Run *one = find(runs, n, "strong", meth[k], 1), *top = find(runs, n, "strong", meth[k], 0);
        if (!one || !top) continue;
        int grad = gradient_method(meth[k]);
        for (int rule = 0; rule < (grad ? 2 : 1); rule++) {
            Projection *q = &pr[npr++];
            q->method = meth[k];
            q->rule = !grad ? "" : rule ? "batch 8 per rank" : "batch 128";
            q->e95 = one->epochs_to[1];
            q->e97 = one->epochs_to[2];
            for (int i = 0; i < NPROJ; i++) {
                double batch = !grad ? 0 : rule ? 8.0 * proj_ranks[i] : (double)one->batch;
                q->epoch[i] = project_epoch(one, top, big, proj_ranks[i], batch);
                q->t95[i] = q->e95 ? q->e95 * q->epoch[i] : NAN;
                q->t97[i] = q->e97 ? q->e97 * q->epoch[i] : NAN;
            }
        }
    }

    /* scaling.csv */
    FILE *csv = open_out(out, "scaling.csv");
    if (!csv) return 1;
    fprintf(csv, "series,method,ranks,n_train,repeats,t_epoch_s,t_epoch_min_s,t_epoch_max_s,speedup,efficiency,"
                 "t_model_s,model_rel_error,t_compute_s,t_stream_s,t_comm_s,flops_per_rank,stream_bytes_per_rank,"
                 "bytes_sent_per_rank,bytes_recv_per_rank,t_to_90_s,t_to_95_s,t_to_97_s\n");
    printf("%-6s %-9s %5s %4s %10s %8s %6s %10s %8s %9s %9s %9s\n", "series", "method", "ranks", "reps",
           "t_epoch_s", "speedup", "eff", "t_model_s", "error", "compute", "stream", "comm");
    for (int i = 0; i < n; i++) {
        Run *r = &runs[i];
        const Run *one = find(runs, n, r->series, r->method, 1);
        double speedup = one ? one->t_epoch / r->t_epoch : NAN;
        double eff = !one ? NAN : !strcmp(r->series, "strong") ? speedup / r->ranks : speedup;
        r->speedup = speedup;
        r->efficiency = eff;
        fprintf(csv, "%s,%s,%d,%ld,%d,%.6g,", r->series, r->method, r->ranks, r->n_train, r->repeats, r->t_epoch);
        fprintf(csv, "%.6g,%.6g,", r->t_min, r->t_max);
        cell(csv, speedup, "%.4g", ",");
        cell(csv, eff, "%.4g", ",");
        cell(csv, r->model, "%.6g", ",");
        cell(csv, r->err, "%.4f", ",");
        fprintf(csv, "%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,", r->t_compute, r->t_stream, r->t_comm, r->F, r->S,
                r->sent, r->recv);
        for (int t = 0; t < 3; t++) cell(csv, r->t_to[t], "%.4g", t < 2 ? "," : "\n");
        printf("%-6s %-9s %5d %4d %10.4f %8.2f %6.2f %10.4f %+7.1f%% %9.4f %9.4f %9.4f\n", r->series, r->method,
               r->ranks, r->repeats, r->t_epoch, speedup, eff, r->model, 100 * r->err, r->t_compute, r->t_stream,
               r->t_comm);
    }
    fclose(csv);

    /* projection.csv */
    FILE *pcsv = open_out(out, "projection.csv");
    if (!pcsv) return 1;
    fprintf(pcsv, "method,batch_rule,ranks,epoch_s,epochs_to_95,t_to_95_s,epochs_to_97,t_to_97_s\n");
    for (int k = 0; k < npr; k++)
        for (int i = 0; i < NPROJ; i++) {
            fprintf(pcsv, "%s,%s,%d,", pr[k].method, pr[k].rule[0] ? pr[k].rule : "full batch (sweep)",
                    proj_ranks[i]);
            cell(pcsv, pr[k].epoch[i], "%.4g", ",");
            fprintf(pcsv, "%d,", pr[k].e95);
            cell(pcsv, pr[k].t95[i], "%.4g", ",");
            fprintf(pcsv, "%d,", pr[k].e97);
            cell(pcsv, pr[k].t97[i], "%.4g", "\n");
        }
    fclose(pcsv);

    /* the plain answer, per batch rule of Adam: the projected rank counts at which a gradient-free
     * method reaches 95% first */
    const Projection *adam[2] = {NULL, NULL};
    for (int k = 0; k < npr; k++)
        if (!strcmp(pr[k].method, "adam")) adam[strstr(pr[k].rule, "per rank") ? 1 : 0] = &pr[k];
    char answer[2][1024] = {"", ""};
    for (int r = 0; r < 2; r++) {
        size_t used = 0;
        for (int i = 0; adam[r] && i < NPROJ; i++) {
            double best_free = NAN;
            const char *who = NULL;
            for (int k = 0; k < npr; k++)
                if (!gradient_method(pr[k].method) && !isnan(pr[k].t95[i]) && !(pr[k].t95[i] >= best_free)) {
                    best_free = pr[k].t95[i];
                    who = pr[k].method;
                }
            double a = adam[r]->t95[i];
            if (who && !(a <= best_free) && used < sizeof answer[r] - 80)
                used += (size_t)snprintf(answer[r] + used, sizeof answer[r] - used, "%s%d ranks (%s %.3g s, adam %s)",
                                         used ? ", " : "", proj_ranks[i], who, best_free,
                                         isnan(a) ? "cannot run: fewer samples per batch than ranks"
                                                  : admm_xasprintf("%.3g s", a));
        }
        if (!used) snprintf(answer[r], sizeof answer[r], "at none of 16 to 1024 ranks");
    }

    /* scaling.md */
    FILE *md = open_out(out, "scaling.md");
    if (!md) return 1;
    fprintf(md, "# Scaling study: %s\n\n", study);
    char *info = admm_xasprintf("%s/study.txt", study);
    FILE *si = fopen(info, "r");
    if (si) {
        char line[512];
        fputs("```\n", md);
        while (fgets(line, sizeof line, si)) fputs(line, md);
        fputs("```\n\n", md);
        fclose(si);
    }
    free(info);
    fprintf(md, "Epoch time: the training step only (`/epochs/t_epoch`, max over ranks), the median over the "
                "epochs after the first; over repeats, the run with the median time (range beside it). "
                "Strong: full MNIST (55,000 training samples, 5,000 for validation); weak: the same number of samples per rank. "
                "Efficiency: strong T1 / (P TP), weak T1 / TP. Bytes: sent and received per rank per epoch "
                "(MPI payload and node-shared memory, counted by admm-train). Time to X%%: training seconds "
                "until the validation accuracy first reached X%% (evaluation excluded).\n\n");
    fprintf(md, "| series | method | ranks | repeats | epoch (s) | range (s) | speedup | efficiency | "
                "MB sent | MB received | to 90%% (s) | to 95%% (s) | to 97%% (s) |\n"
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < n; i++) {
        const Run *r = &runs[i];
        fprintf(md, "| %s | %s | %d | %d | %.4g | %.4g-%.4g | %.3g | %.2f | %.3g | %.3g |", r->series, r->method,
                r->ranks, r->repeats, r->t_epoch, r->t_min, r->t_max, r->speedup, r->efficiency, r->sent / 1e6,
                r->recv / 1e6);
        for (int t = 0; t < 3; t++) md_time(md, r->t_to[t]);
        fputc('\n', md);
    }
    fprintf(md, "\n## The model\n\n"
                "For every run: T = F / R + (S + b_shm) / BW + sum over message kinds k of c_k t_k(P, b_k / c_k), "
                "with the counts of the run (per epoch, max over ranks; median over the epochs used) and the "
                "constants measured by admm-microbench at the same rank count in the same study:\n\n"
                "- F: the flops of the training step's BLAS and ScaLAPACK calls (`/epochs/phase_flops`, "
                "every phase but eval and io);\n"
                "- R: for bcd and admm the rate of one sweep's products (Gram, cross and forward products, "
                "layer by layer) over the rank's columns, and for their narrow calls (a dimension below 32: "
                "`/epochs/flops_narrow`) the rate of the output layer's products; for the gradient methods the rate of one step's "
                "products on the rank's share of the batch, run in lockstep (a barrier after each step);\n"
                "- S: bytes streamed by the elementwise loops (`/epochs/stream_bytes`), b_shm the bytes read "
                "through node-shared memory (`comm_bytes`, kind shm); BW the triad bandwidth of one rank with "
                "all ranks running, at the data one elementwise call touches (S / `stream_calls`, from the "
                "measured sizes 48 KiB to 192 MiB: L1 to memory); in studies made before `stream_calls`, "
                "over arrays far larger than cache for bcd and admm (whole layers) and over 3 x 1 MiB for the "
                "gradient methods (a batch, a parameter slice);\n"
                "- c_k, b_k: calls and bytes of kind k (allreduce, reduce_scatter, bcast, allgather, reduce, "
                "p2p, barrier: `/epochs/comm_calls`, `comm_bytes`, counted by admm-train's PMPI layer, "
                "ScaLAPACK's messages included); t_k(P, s) the measured time of one such call on all P ranks, "
                "the latency-bandwidth line through the two measured sizes around s (8 B to 8 MiB).\n\n");
    fprintf(md, "| series | method | ranks | measured (s) | model (s) | error | compute (s) | stream (s) | "
                "messages (s) |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < n; i++) {
        const Run *r = &runs[i];
        fprintf(md, "| %s | %s | %d | %.4g | %.4g | %+.1f%% | %.4g | %.4g | %.4g |\n", r->series, r->method,
                r->ranks, r->t_epoch, r->model, 100 * r->err, r->t_compute, r->t_stream, r->t_comm);
    }
    fprintf(md, "\n%d of %d runs within 20%%; the largest error %.1f%%.\n\n", within, modelled, 100 * max_err);
    fprintf(md, "## Projection: 16 to 1024 ranks\n\n"
                "Cluster: nodes of %d cores, %.0f Gb/s links, %.0f us MPI latency (the class of InfiniBand "
                "HDR100 or 100 GbE RoCE). Cores as fast as this study's with the machine full: the rates of "
                "admm-microbench at %d ranks (sweep %.1f GFLOP/s, step %.1f GFLOP/s at %.0f columns, stream "
                "%.1f GB/s, in cache %.1f GB/s per rank). Collectives across ranks by the textbook costs "
                "(Thakur, Rabenseifner and Gropp 2005) with the node's link shared by its ranks. bcd and admm: "
                "the work of the 1-rank run divided over the ranks, the messages (count and size) of the run "
                "at the largest rank count. Gradient methods: per step the products of the rank's columns "
                "(the rate falls in proportion below the measured column count), the optimiser on the rank's "
                "slice of the node, the node-shared sum, and one allreduce of the node's gradient across "
                "nodes. Batch rules: `batch 128` keeps the global batch (ranks beyond 128 would hold no "
                "sample: not feasible); `batch 8 per rank` grows it with the ranks (8 = 128 / 16, the share "
                "measured at 16 ranks), with the learning rate scaled linearly. Epochs to 95%% and 97%%: "
                "measured at batch 128 on one rank (every rank count follows the same trajectory). For the "
                "grown batch this is optimistic for the gradient methods: larger batches usually need more "
                "epochs.\n\n",
            CL_CORES, CL_LINK_BPS * 8 / 1e9, CL_LATENCY * 1e6, big->ranks,
            sweep_rate(big, (double)runs[0].n_train / big->ranks) / 1e9, big->step_rate / 1e9, big->step_cols,
            big->stream / 1e9, big->stream_cache / 1e9);
    fprintf(md, "| method | batch | epochs to 95%% | epochs to 97%% |");
    for (int i = 0; i < NPROJ; i++) fprintf(md, " %d ranks: to 95%% (s) |", proj_ranks[i]);
    fputs("\n|---|---|---:|---:|", md);
    for (int i = 0; i < NPROJ; i++) fputs("---:|", md);
    fputc('\n', md);
    for (int k = 0; k < npr; k++) {
        fprintf(md, "| %s | %s | %s | %s |", pr[k].method, pr[k].rule[0] ? pr[k].rule : "full (sweep)",
                pr[k].e95 ? admm_xasprintf("%d", pr[k].e95) : "never", pr[k].e97 ? admm_xasprintf("%d", pr[k].e97) : "never");
        for (int i = 0; i < NPROJ; i++) {
            if (isnan(pr[k].epoch[i]))
                fputs(" n/a: batch < ranks |", md);
            else
                md_time(md, pr[k].t95[i]);
        }
        fputc('\n', md);
    }
    fprintf(md, "\n**Does a gradient-free method reach 95%% validation accuracy sooner than Adam?** "
                "Against Adam with the global batch fixed at 128: %s. Against Adam with the batch grown "
                "with the ranks (8 per rank, learning rate scaled, and optimistically no more epochs): %s.\n",
            answer[0], answer[1]);
    int fails = 0;
    if (plots) {
        char why[512];
        fails = figures(out, runs, n, meth, nmeth, pr, npr, why, sizeof why);
        if (fails) fprintf(stderr, "admm-analyze: %d figure(s) could not be made: %s\n", fails, why);
        fputs("\n## Figures\n\n![strong](figures/strong-epoch-time.png)\n![weak](figures/weak-epoch-time.png)\n"
              "![efficiency](figures/efficiency.png)\n![model](figures/model-vs-measured.png)\n"
              "![projection](figures/projection-95.png)\n", md);
    }
    fclose(md);
    printf("%d of %d runs modelled within 20%%; wrote %s/scaling.md, scaling.csv, projection.csv\n", within,
           modelled, out);
    printf("sooner than adam at batch 128: %s\nsooner than adam at batch 8 per rank: %s\n", answer[0], answer[1]);
    printf("model_max_rel_error=%.4f\n", max_err);
    for (int i = 0; i < n; i++) {
        free(runs[i].path);
        free(runs[i].series);
        free(runs[i].method);
    }
    free(runs);
    return fails ? 1 : 0;
}
