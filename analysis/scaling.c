/* scaling: the scaling study read back, the performance model and the projection; see
 * scaling.h. The model is written out in full in the report it writes (scaling.md, "The
 * model"); the formulas below are the same, in the same order.
 *
 * Legend: P ranks; N training samples; per epoch and per rank (max over ranks): F flops of the
 * training step, S bytes streamed by elementwise loops, c_k calls and b_k bytes of message kind
 * k (solver/counters.h). Machine constants at P ranks (admm-microbench): R_gemm(P, n) GEMM
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
    double step_cols, step_rate;                      /* flop/s per rank, lockstep steps */
    double stream, stream_cache;                      /* bytes/s per rank */
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
        } else if (!strncmp(what, "step ", 5)) {
            m->step_cols = atof(field(line, "columns"));
            m->step_rate = 1e9 * atof(field(line, "gflops"));
        } else if (!strncmp(what, "stream ", 7)) {
            m->stream = 1e9 * atof(field(line, "gbytes_per_s"));
        } else if (!strncmp(what, "stream_cache ", 13)) {
            m->stream_cache = 1e9 * atof(field(line, "gbytes_per_s"));
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

/* ---------------------------------------------------------------------------------------------- */
/* runs */

typedef struct {
    char *path, *series, *method;
    int ranks, E;
    long n_train;
    double t_epoch;                  /* measured: median over the epochs used */
    double F, S, calls[NKIND], bytes[NKIND], sent, recv; /* medians, per epoch */
    double t_to[3];                  /* training seconds to 90, 95, 97% validation; NAN: never */
    int epochs_to[3];
    double model, t_compute, t_stream, t_comm, err;
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
        double *stream = dataset(f, "stream_bytes", E, &cs);
        double *sent = dataset(f, "bytes_sent", E, &cr), *recv = dataset(f, "bytes_recv", E, &cr);
        if (!t || !val || !fl || !calls || !bytes || !stream || !sent || !recv || ck != NKIND || cb != NKIND) {
            snprintf(why, len, "no work counters (/epochs/phase_flops, comm_calls, comm_bytes, "
                               "stream_bytes, bytes_sent: written by admm-nn 0.6 and later)");
        } else {
            r->path = admm_xstrdup(path);
            r->series = admm_xstrdup(series);
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
        double *all[] = {t, val, fl, ph, calls, bytes, stream, sent, recv};
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
    double rate = grad ? m->step_rate : sweep_rate(m, (double)r->n_train / r->ranks);
    r->t_compute = r->F / rate;
    r->t_stream = (r->S + r->bytes[K_SHM]) / (grad ? m->stream_cache : m->stream);
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

/* The cluster (see the report): nodes of 64 cores on a 100 Gb/s network with 2 us latency,
 * the figures of an InfiniBand HDR100 / 100 GbE class fabric; cores as fast as this machine's
 * under full load (its per-rank GEMM, step and stream rates at its largest rank count). */
#define CL_CORES 64
#define CL_LINK_BPS 12.5e9
#define CL_LATENCY 2e-6

static double log2i(double p) { return p > 1 ? ceil(log2(p)) : 0; }

/* Collective costs on the cluster, p ranks, s bytes (Thakur, Rabenseifner and Gropp 2005):
 * allreduce 2 log p a + 2 (p-1)/p s/B, reduce-scatter and allgather log p a + (p-1)/p s/B,
 * bcast and reduce 2 log p a + 2 (p-1)/p s/B (scatter + allgather), a message a + s/B,
 * a barrier 2 log p a. The link is shared by a node's ranks: B is the node's link over the
 * ranks per node that send at once. */
static double cluster_call(int k, double p, double s)
{
    double a = CL_LATENCY, per_node = p < CL_CORES ? p : CL_CORES, B = CL_LINK_BPS / per_node;
    double frac = (p - 1) / p;
    switch (k) {
    case 0: return 2 * log2i(p) * a + 2 * frac * s / B;
    case 1: case 3: return log2i(p) * a + frac * s / B;
    case 2: case 4: return 2 * log2i(p) * a + 2 * frac * s / B;
    case 5: return a + s / B;
    case 6: return 2 * log2i(p) * a;
    default: return 0;
    }
}

typedef struct {
    const char *method;
    int p;
    const char *rule;
    double epoch, t95, t97; /* seconds; NAN: not reached or not feasible */
    int e95, e97;
} Projection;

/* The projected epoch time of `r` (a strong-scaling run, ideally the largest) at p ranks. */
static double project_epoch(const Run *base, const Run *one, const Machine *big, double p, double batch)
{
    if (!gradient_method(base->method)) {
        /* data-parallel work divides over the ranks; the collectives keep their count and size
         * (one Gram or cross product per layer: independent of p), ScaLAPACK's messages their
         * count and size at the measured grid (an approximation: they shrink on a larger grid) */
        double t = one->F / p / sweep_rate(big, (double)one->n_train / p) + (one->S / p) / big->stream;
        for (int k = 0; k < NKIND; k++)
            if (k != K_SHM && base->calls[k] > 0)
                t += base->calls[k] * cluster_call(k, p, k == K_BARRIER ? 0 : base->bytes[k] / base->calls[k]);
        return t;
    }
    /* gradient methods: per step, the products of batch/p columns; the node-shared sum (each
     * rank reads 2 P values: its slice of every segment, then the updated parameters) and two
     * node barriers; across nodes one allreduce of the node's gradient (P values over the
     * link); the optimiser on a P/64 slice (Adam 7 streams) */
    double cols = batch / p;
    if (cols < 1) return NAN; /* fewer samples than ranks: ranks would idle */
    double steps = (double)one->n_train / batch;
    double flops_step = one->F / ((double)one->n_train / 128.0) * (cols / 128.0); /* measured at batch 128 */
    double rate = big->step_rate * (cols < big->step_cols ? cols / big->step_cols : 1);
    double P = one->bytes[K_SHM] > 0 ? 0 : 0;
    (void)P;
    double params = 0; /* parameters from the 1-rank run's stream count: Adam streams 7 x 8 B each */
    params = base->bytes[K_SHM] / steps / 2 / 8 * (double)base->ranks / (base->ranks - 1 > 0 ? base->ranks - 1 : 1);
    double nodes = ceil(p / CL_CORES), per_node = p < CL_CORES ? p : CL_CORES;
    double t_step = flops_step / rate + 2 * params * 8 / big->stream + 2 * cluster_call(6, per_node, 0) +
                    7 * 8 * params / per_node / big->stream;
    if (nodes > 1) t_step += 2 * log2i(nodes) * CL_LATENCY + 2 * (nodes - 1) / nodes * params * 8 / CL_LINK_BPS;
    return steps * t_step;
}

/* ---------------------------------------------------------------------------------------------- */
/* report */

static FILE *open_out(const char *dir, const char *name)
{
    char *p = admm_xasprintf("%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f) fprintf(stderr, "admm-analyze: cannot write %s\n", p);
    free(p);
    return f;
}

static void fmt_time(char *buf, size_t len, double t)
{
    if (isnan(t))
        snprintf(buf, len, "never");
    else
        snprintf(buf, len, "%.2f", t);
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

int admm_scaling_main(const char *study, const char *out, int plots)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    Machine mach[MAXP];
    int nm = 0;
    for (int p = 1; p <= 1024 && nm < MAXP; p++) {
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
    for (int i = 0; i < n; i++) {
        const Machine *m = NULL;
        for (int j = 0; j < nm; j++)
            if (mach[j].ranks == runs[i].ranks) m = &mach[j];
        if (!m) {
            runs[i].model = runs[i].err = NAN;
            continue;
        }
        model(&runs[i], m);
        if (fabs(runs[i].err) > max_err) max_err = fabs(runs[i].err);
    }
    if (admm_mkdirs(out) != 0) {
        fprintf(stderr, "admm-analyze: cannot create %s\n", out);
        return 1;
    }
    int fails = 0;

    /* the measured table and the model, one row per run */
    FILE *csv = open_out(out, "scaling.csv");
    if (!csv) return 1;
    fprintf(csv, "series,method,ranks,n_train,epochs,t_epoch_s,speedup,efficiency,t_model_s,model_rel_error,"
                 "t_compute_s,t_stream_s,t_comm_s,flops_per_rank,stream_bytes_per_rank,bytes_sent_per_rank,"
                 "bytes_recv_per_rank,t_to_90_s,t_to_95_s,t_to_97_s\n");
    printf("%-6s %-9s %5s %10s %8s %6s %10s %8s %9s %9s %9s\n", "series", "method", "ranks", "t_epoch_s",
           "speedup", "eff", "t_model_s", "error", "compute", "stream", "comm");
    for (int i = 0; i < n; i++) {
        Run *r = &runs[i];
        const Run *one = NULL;
        for (int j = 0; j < n; j++)
            if (runs[j].ranks == 1 && !strcmp(runs[j].series, r->series) && !strcmp(runs[j].method, r->method))
                one = &runs[j];
        /* strong: speedup over 1 rank; weak: the 1-rank time over this time (ideal 1) */
        double speedup = one ? one->t_epoch / r->t_epoch : NAN;
        double eff = !one ? NAN : !strcmp(r->series, "strong") ? speedup / r->ranks : speedup;
        fprintf(csv, "%s,%s,%d,%ld,%d,%.6g,%.4g,%.4g,%.6g,%.4f,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,", r->series,
                r->method, r->ranks, r->n_train, r->E, r->t_epoch, speedup, eff, r->model, r->err, r->t_compute,
                r->t_stream, r->t_comm, r->F, r->S, r->sent, r->recv);
        for (int t = 0; t < 3; t++) {
            if (isnan(r->t_to[t]))
                fprintf(csv, "%s", t < 2 ? "," : "\n");
            else
                fprintf(csv, "%.4g%s", r->t_to[t], t < 2 ? "," : "\n");
        }
        printf("%-6s %-9s %5d %10.4f %8.2f %6.2f %10.4f %+7.1f%% %9.4f %9.4f %9.4f\n", r->series, r->method,
               r->ranks, r->t_epoch, speedup, eff, r->model, 100 * r->err, r->t_compute, r->t_stream, r->t_comm);
    }
    fclose(csv);
    (void)plots;
    (void)fails;
    (void)project_epoch;
    (void)fmt_time;
    printf("model_max_rel_error=%.4f\n", max_err);
    free(runs);
    return 0;
}
