/* scaling_data: see scaling_data.h. Serial HDF5, default driver; MPI is never initialised. */
#define _XOPEN_SOURCE 700

#include "scaling_data.h"

#include "util.h"

#include <dirent.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[NKIND] = {
    "allreduce", "reduce_scatter", "bcast", "allgather", "reduce", "p2p", "barrier", "shm"};

static const char *field(const char *line, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = line; (p = strstr(p, key)); p++)
        if ((p == line || p[-1] == ' ') && p[n] == '=') return p + n + 1;
    return NULL;
}

/* A figure's value: its median round (KEY_median) in files whose every figure has one, as every
 * run's epoch time is the median of its epochs; in files before the medians, the best round
 * (KEY), node_sum's too, so that one study's constants are all of one kind. */
static double figure(const char *line, const char *key, const admm_Machine *m)
{
    char median[64];
    snprintf(median, sizeof median, "%s_median", key);
    const char *v = m->medians ? field(line, median) : NULL;
    if (!v) v = field(line, key);
    return v ? atof(v) : 0;
}

/* The update rule of a microbench line's rule= value (node_sum, step_cycle). */
static int rule_named(const char *v)
{
    return !strncmp(v, "adam", 4) ? ADMM_SC_RULE_ADAM : !strncmp(v, "momentum", 8) ? ADMM_SC_RULE_MOMENTUM
                                                                                  : ADMM_SC_RULE_PLAIN;
}

int admm_sc_read_machine(const char *path, admm_Machine *m)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    memset(m, 0, sizeof *m);
    char line[512];
    while (fgets(line, sizeof line, f)) /* the microbench prints medians for all figures, or only node_sum's */
        if (strstr(line, " what=gemm ") && field(line, "gflops_median")) m->medians = 1;
    rewind(f);
    while (fgets(line, sizeof line, f)) {
        const char *what = field(line, "what"), *v;
        if (!what || !(v = field(line, "ranks"))) continue;
        m->ranks = atoi(v);
        if (!strncmp(what, "gemm ", 5) && m->ngemm < MAXGEMM) {
            m->gemm_cols[m->ngemm] = atof(field(line, "n"));
            m->gemm_rate[m->ngemm++] = 1e9 * figure(line, "gflops", m);
        } else if (!strncmp(what, "sweep ", 6) && m->nsweep < MAXGEMM) {
            m->sweep_cols[m->nsweep] = atof(field(line, "n"));
            m->sweep_rate[m->nsweep++] = 1e9 * figure(line, "gflops", m);
        } else if (!strncmp(what, "narrow ", 7) && m->nnarrow < MAXGEMM) {
            m->narrow_cols[m->nnarrow] = atof(field(line, "n"));
            m->narrow_rate[m->nnarrow++] = 1e9 * figure(line, "gflops", m);
        } else if (!strncmp(what, "step ", 5)) {
            m->step_cols = atof(field(line, "columns"));
            m->step_rate = 1e9 * figure(line, "gflops", m);
        } else if (!strncmp(what, "step_cycle ", 11) && (v = field(line, "rule")) && field(line, "n")) {
            int rule = rule_named(v);
            if (m->ncycle[rule] < MAXGEMM) {
                m->cycle_cols[rule][m->ncycle[rule]] = atof(field(line, "n"));
                m->cycle_rate[rule][m->ncycle[rule]++] = 1e9 * figure(line, "gflops", m);
            }
        } else if (!strncmp(what, "local_solve ", 12) && m->nlocal < MAXGEMM && field(line, "nrhs")) {
            m->local_cols[m->nlocal] = atof(field(line, "nrhs"));
            m->local_rate[m->nlocal++] = 1e9 * figure(line, "gflops", m);
        } else if (!strncmp(what, "solve_sweep ", 12)) {
            m->solve_rate = 1e9 * figure(line, "gflops", m);
        } else if (!strncmp(what, "node_sum ", 9) && (v = field(line, "rule")) && field(line, "seconds") &&
                   field(line, "params")) {
            int rule = rule_named(v);
            m->node_sum[rule] = figure(line, "seconds", m);
            m->node_sum_params = atof(field(line, "params"));
        } else if (!strncmp(what, "stream ", 7)) {
            m->stream = 1e9 * figure(line, "gbytes_per_s", m);
        } else if (!strncmp(what, "stream_cache ", 13)) {
            m->stream_cache = 1e9 * figure(line, "gbytes_per_s", m);
        } else if (!strncmp(what, "stream_at ", 10) && m->nat < MAXSIZES) {
            m->at_bytes[m->nat] = atof(field(line, "bytes"));
            m->at_bw[m->nat++] = 1e9 * figure(line, "gbytes_per_s", m);
        } else {
            for (int k = 0; k < NKIND; k++) {
                size_t n = strlen(kind_names[k]);
                if (strncmp(what, kind_names[k], n) || what[n] != ' ' || m->nsize[k] >= MAXSIZES) continue;
                m->size[k][m->nsize[k]] = atof(field(line, "bytes"));
                m->secs[k][m->nsize[k]++] = figure(line, "seconds", m);
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
double admm_sc_call_time(const admm_Machine *m, int k, double s)
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
double admm_sc_nearest_rate(int n, const double *at, const double *rate, double cols)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (fabs(log(at[i] / cols)) < fabs(log(at[best] / cols))) best = i;
    return rate[best];
}

/* A gradient method's step rate: its update rule's step_cycle figure at the samples per rank
 * nearest n_rank where the study measured it, otherwise the lockstep step figure. */
double admm_sc_step_rate(const admm_Machine *m, const char *method, double n_rank)
{
    int rule = admm_sc_update_rule(method);
    if (m->ncycle[rule] > 0) return admm_sc_nearest_rate(m->ncycle[rule], m->cycle_cols[rule], m->cycle_rate[rule], n_rank);
    return m->step_rate;
}

double admm_sc_sweep_rate(const admm_Machine *m, double cols)
{
    return admm_sc_nearest_rate(m->nsweep, m->sweep_cols, m->sweep_rate, cols);
}

/* The bandwidth of one rank for loops that touch `bytes` each: log-log interpolation of
 * stream_at, its ends held beyond the measured sizes. */
double admm_sc_bandwidth_at(const admm_Machine *m, double bytes)
{
    int n = m->nat;
    if (bytes <= m->at_bytes[0]) return m->at_bw[0];
    if (bytes >= m->at_bytes[n - 1]) return m->at_bw[n - 1];
    int i = 1;
    while (m->at_bytes[i] < bytes) i++;
    double f = log(bytes / m->at_bytes[i - 1]) / log(m->at_bytes[i] / m->at_bytes[i - 1]);
    return exp(log(m->at_bw[i - 1]) + f * (log(m->at_bw[i]) - log(m->at_bw[i - 1])));
}

static const double targets[3] = {0.90, 0.95, 0.97};

int admm_sc_gradient_method(const char *m)
{
    return !strcmp(m, "gd") || !strcmp(m, "sgd") || !strcmp(m, "momentum") || !strcmp(m, "adam");
}

int admm_sc_update_rule(const char *m)
{
    return !strcmp(m, "adam") ? ADMM_SC_RULE_ADAM : !strcmp(m, "momentum") ? ADMM_SC_RULE_MOMENTUM : ADMM_SC_RULE_PLAIN;
}

double admm_sc_update_streams(const char *m)
{
    static const double streams[3] = {3, 5, 7};
    return streams[admm_sc_update_rule(m)];
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
static void read_shape(hid_t f, admm_ScalingRun *r)
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

/* The phase names of /epochs/phase_avg (attribute phase_names: an array of strings, or in files
 * before it one comma-separated string) into names; returns how many (0 when absent). */
static int phase_names(hid_t f, char names[][32], int max)
{
    hid_t d = H5Dopen2(f, "epochs/phase_avg", H5P_DEFAULT);
    if (d < 0) return 0;
    hid_t a = H5Aopen(d, "phase_names", H5P_DEFAULT);
    int n = 0;
    if (a >= 0) {
        hid_t t = H5Aget_type(a), sp = H5Aget_space(a), mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        hssize_t k = H5Sget_simple_extent_npoints(sp);
        char **v = k > 0 && k <= 64 && H5Tis_variable_str(t) > 0 ? admm_xcalloc((size_t)k, sizeof *v) : NULL;
        if (v && H5Aread(a, mt, v) >= 0) {
            for (hssize_t i = 0; i < k; i++) {
                char *save = NULL, *s = v[i] ? v[i] : "";
                for (char *tok = strtok_r(s, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save)) {
                    while (*tok == ' ') tok++;
                    snprintf(names[n++], 32, "%s", tok);
                }
            }
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, v);
        }
        free(v);
        H5Tclose(mt);
        H5Sclose(sp);
        H5Tclose(t);
        H5Aclose(a);
    }
    H5Dclose(d);
    return n;
}

/* Reads one study run; -1 with a reason when it is not a complete results file with the
 * work counters (files written before admm-nn 0.6 have none). */
static int read_run(const char *path, const char *series, admm_ScalingRun *r, char *why, size_t len)
{
    memset(r, 0, sizeof *r);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        snprintf(why, len, "cannot open as HDF5");
        return -1;
    }
    int rc = -1;
    char *status = attr_string(f, "status");
    long ranks = 0, epochs = 0, threads = 1; /* threads_per_rank: files older than it are read */
    r->method = attr_string(f, "method");
    if (!status || strcmp(status, "complete")) {
        snprintf(why, len, "status is %s, not complete", status ? status : "missing");
    } else if (!r->method || attr_long(f, "ranks", &ranks) || attr_long(f, "n_train", &r->n_train) ||
               attr_long(f, "epochs_run", &epochs) || epochs < 1) {
        snprintf(why, len, "a root attribute (method, ranks, n_train, epochs_run) is missing");
    } else if (H5Aexists(f, "threads_per_rank") > 0 &&
               (attr_long(f, "threads_per_rank", &threads) || threads != 1)) {
        /* the machine constants and the model are per rank at one BLAS thread: a run at other
         * threads per rank would be pooled with the study's points as if it were one of them */
        snprintf(why, len,
                 "threads_per_rank = %ld: the scaling model is per rank at one BLAS thread "
                 "(jobs/study-scaling.sh sets OPENBLAS_NUM_THREADS=1); analyse it without --scaling",
                 threads);
    } else {
        int E = (int)epochs, c1, cp, cf, ck, cb, cs, cr, cv;
        double *t = dataset(f, "t_epoch", E, &c1), *val = dataset(f, "val_acc", E, &cv);
        double *fl = dataset(f, "phase_flops", E, &cf), *ph = dataset(f, "phase_max", E, &cp);
        double *pa = dataset(f, "phase_avg", E, &cp), *pm = dataset(f, "phase_min", E, &cp);
        double *calls = dataset(f, "comm_calls", E, &ck), *bytes = dataset(f, "comm_bytes", E, &cb);
        double *stream = dataset(f, "stream_bytes", E, &cs), *scalls = dataset(f, "stream_calls", E, &cs);
        double *narrow = dataset(f, "flops_narrow", E, &cs), *local = dataset(f, "flops_local_solve", E, &cs);
        int cps = 0;
        double *pst = dataset(f, "phase_stream", E, &cps);
        double *sent = dataset(f, "bytes_sent", E, &cr), *recv = dataset(f, "bytes_recv", E, &cr);
        if (!t || !val || !fl || !calls || !bytes || !stream || !sent || !recv || ck != NKIND || cb != NKIND ||
            !ph || !pa || !pm || cp != cf || cf < 3 || cf > ADMM_SC_NPH) {
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
            /* The training step's phases, all but eval and io (the last two), each the median
             * of its column; F their sum, so that the model by phase adds up to the model (the
             * flops of an epoch barely vary: the median of the sums is the same to 0.1%) */
            char names[ADMM_SC_NPH][32];
            int nn = phase_names(f, names, ADMM_SC_NPH);
            r->nph = cf - 2;
            r->F = 0;
            for (int p = 0; p < r->nph; p++) {
                snprintf(r->ph_name[p], sizeof r->ph_name[p], "%s", p < nn ? names[p] : "phase");
                r->ph_min[p] = median_col(pm, E, cf, p, r0);
                r->ph_avg[p] = median_col(pa, E, cf, p, r0);
                r->ph_max[p] = median_col(ph, E, cf, p, r0);
                r->ph_flops[p] = median_col(fl, E, cf, p, r0);
                r->ph_stream[p] = pst && cps == cf ? median_col(pst, E, cf, p, r0) : -1;
                r->F += r->ph_flops[p];
            }
            /* the solve phase: column 3 of every method (io/SCHEMA.md, common/timer.h PH_SOLVE) */
            r->F_solve = r->ph_flops[ADMM_SC_PH_SOLVE];
            r->S = median_col(stream, E, 1, 0, r0);
            r->S_calls = scalls ? median_col(scalls, E, 1, 0, r0) : 0;
            r->F_narrow = narrow ? median_col(narrow, E, 1, 0, r0) : 0;
            r->F_local = local ? median_col(local, E, 1, 0, r0) : 0;
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
        double *all[] = {t, val, fl, ph, pa, pm, calls, bytes, stream, scalls, narrow, local, pst, sent, recv};
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

static int cmp_point(const admm_ScalingRun *x, const admm_ScalingRun *y)
{
    int c = strcmp(x->series, y->series);
    if (!c) c = strcmp(x->method, y->method);
    return c ? c : x->ranks - y->ranks;
}

/* by point, then epoch time */
int admm_sc_cmp_run(const void *a, const void *b)
{
    const admm_ScalingRun *x = a, *y = b;
    int c = cmp_point(x, y);
    return c ? c : (x->t_epoch > y->t_epoch) - (x->t_epoch < y->t_epoch);
}

/* Repeats of one point (sorted together, by epoch time) become the run with their median
 * time (the lower median for an even count), which keeps its own counters and accuracies. */
int admm_sc_collapse_repeats(admm_ScalingRun *runs, int n)
{
    int out = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && cmp_point(&runs[i], &runs[j]) == 0) j++;
        admm_ScalingRun keep = runs[i + (j - i - 1) / 2];
        keep.repeats = j - i;
        keep.t_min = runs[i].t_epoch;
        keep.t_max = runs[j - 1].t_epoch;
        runs[out++] = keep;
        i = j;
    }
    return out;
}
int admm_sc_scan_series(const char *dir, const char *series, admm_ScalingRun *runs, int *n)
{
    char *d = admm_xasprintf("%s/%s", dir, series);
    DIR *h = opendir(d);
    if (!h) {
        free(d);
        return 0;
    }
    struct dirent *e;
    int refused = 0;
    while ((e = readdir(h)) && *n < ADMM_SC_MAXRUN) {
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
