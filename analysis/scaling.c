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
#include "scaling_data.h"
#include "scaling_model.h"
#include "util.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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


static const admm_ScalingRun *find(const admm_ScalingRun *runs, int n, const char *series, const char *method, int ranks)
{
    const admm_ScalingRun *best = NULL;
    for (int i = 0; i < n; i++)
        if (!strcmp(runs[i].series, series) && !strcmp(runs[i].method, method) &&
            (ranks > 0 ? runs[i].ranks == ranks : !best || runs[i].ranks > best->ranks))
            best = &runs[i];
    return best;
}

/* Distinct methods in order of appearance (runs are sorted by series, method). */
static int methods_of(const admm_ScalingRun *runs, int n, const char **out)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < k; j++) seen |= !strcmp(out[j], runs[i].method);
        if (!seen && k < 16) out[k++] = runs[i].method;
    }
    return k;
}

/* ---------------------------------------------------------------------------------------------- */
/* the model by phase */

/* One row of the model by phase: a phase of the training step (its flops at their rate), or one
 * of the model's terms whose phase the files do not record. measured NAN: no measured time of
 * its own (its time lies inside the phases' measured times). */
typedef struct {
    const char *name, *kind;
    double measured, measured_max, measured_min, flops, modelled;
} PhaseRow;

/* The rows of run r, at most ADMM_SC_NPH + 6: every phase of the step but the unused and the
 * comm_ ones (its flops at their rate, and its elementwise bytes where the file records them by
 * phase), then "messages" (the comm_ phases measured, t_comm and their flops modelled),
 * "elementwise" (t_stream, or what the phases' bytes leave of it), "narrow" (t_narrow),
 * "local_solve" (t_local), "outside" (t_epoch less every step phase's average: the step's time
 * in no phase, and the slowest rank's lead over the average), "total". The rows before "total"
 * add up to it: measured to t_epoch, modelled to the model. */
static int phase_rows(const admm_ScalingRun *r, PhaseRow *row)
{
    int n = 0;
    double in_phases = 0, placed = 0;
    PhaseRow comm = {"messages", "messages", 0, 0, 0, 0, r->t_comm};
    for (int p = 0; p < r->nph; p++) {
        in_phases += r->ph_avg[p];
        if (!strncmp(r->ph_name[p], "comm_", 5)) {
            comm.measured += r->ph_avg[p];
            comm.measured_max += r->ph_max[p];
            comm.measured_min += r->ph_min[p];
            comm.flops += r->ph_flops[p];
            comm.modelled += r->ph_model[p] + r->ph_tstream[p];
            placed += r->ph_tstream[p];
        } else if (r->ph_avg[p] > 0 || r->ph_flops[p] > 0) /* a phase the method never enters: no row */
        {
            row[n++] = (PhaseRow){r->ph_name[p], "phase", r->ph_avg[p], r->ph_max[p], r->ph_min[p], r->ph_flops[p],
                                  r->ph_model[p] + r->ph_tstream[p]};
            placed += r->ph_tstream[p];
        }
    }
    row[n++] = comm;
    row[n++] = (PhaseRow){"elementwise", "stream", NAN, NAN, NAN, NAN, r->t_stream - placed};
    row[n++] = (PhaseRow){"narrow", "narrow", NAN, NAN, NAN, r->t_narrow != 0 ? r->F_narrow : 0, r->t_narrow};
    row[n++] = (PhaseRow){"local_solve", "local_solve", NAN, NAN, NAN, r->t_local != 0 ? r->F_local : 0, r->t_local};
    row[n++] = (PhaseRow){"outside", "outside", r->t_epoch - in_phases, NAN, NAN, NAN, 0};
    row[n++] = (PhaseRow){"total", "total", r->t_epoch, NAN, NAN, r->F, r->model};
    return n;
}

/* (modelled - measured) / t_epoch: a row's share of the run's error; they add up to it */
static double contribution(const admm_ScalingRun *r, const PhaseRow *w)
{
    return (w->modelled - (isnan(w->measured) ? 0 : w->measured)) / r->t_epoch;
}

static int write_phase_csv(const char *out, const admm_ScalingRun *runs, int n)
{
    char *p = admm_xasprintf("%s/model-by-phase.csv", out);
    FILE *f = fopen(p, "w");
    if (!f) {
        fprintf(stderr, "admm-analyze: cannot write %s\n", p);
        free(p);
        return 1;
    }
    free(p);
    fprintf(f, "series,method,ranks,repeats,row,kind,measured_s,measured_max_s,measured_min_s,flops,modelled_s,"
               "rel_error,contribution\n");
    for (int i = 0; i < n; i++) {
        const admm_ScalingRun *r = &runs[i];
        if (isnan(r->model)) continue;
        PhaseRow row[ADMM_SC_NPH + 6];
        int k = phase_rows(r, row);
        for (int j = 0; j < k; j++) {
            const PhaseRow *w = &row[j];
            fprintf(f, "%s,%s,%d,%d,%s,%s,", r->series, r->method, r->ranks, r->repeats, w->name, w->kind);
            cell(f, w->measured, "%.6g", ",");
            cell(f, w->measured_max, "%.6g", ",");
            cell(f, w->measured_min, "%.6g", ",");
            cell(f, w->flops, "%.6g", ",");
            cell(f, w->modelled, "%.6g", ",");
            cell(f, w->measured > 0 ? (w->modelled - w->measured) / w->measured : NAN, "%.4f", ",");
            cell(f, contribution(r, w), "%.4f", "\n");
        }
    }
    return fclose(f) ? 1 : 0;
}

/* scaling.md's section: per run, the error split by row, and the rows themselves */
static void write_phase_md(FILE *md, const admm_ScalingRun *runs, int n)
{
    fprintf(md, "\n## The model by phase: where the error sits\n\n"
                "Each phase of the training step (`/epochs/phase_avg`, the mean over ranks; median over the epochs "
                "used) against its flops (`phase_flops`) at the rate the model gives them (the solve phase at the "
                "solve rate, every other at the sweep or step rate), and its elementwise bytes at the run's "
                "bandwidth where the file records them by phase (`phase_stream`, files from 27 Nov 2026 on). "
                "What the files record per epoch only is a row of its own: `messages` (t_comm, node-shared sum "
                "included) against the `comm_` phases measured (they hold the waits for the slowest rank too); "
                "`elementwise` (S / BW, or what the phases' bytes leave of it), `narrow` and `local_solve` (what "
                "pricing the narrow products and resnet-admm's local LAPACK solves at their own measured rates "
                "adds; 0 without those figures), whose time lies inside the phases' measured times; `outside`: "
                "t_epoch less the phases' averages (the step's time in no phase, and the slowest rank's lead "
                "over the average rank). Share: (model - measured) / t_epoch; a run's shares add up to its "
                "error. In the first table the `messages` row is split in two: against the `comm_` phases' "
                "minimum over ranks (the rank that waited least: about the messages' own time), and the rest "
                "of their average, with `outside`, as waits (the average rank's wait for the slowest). Every "
                "row, and the phases' min and max over ranks: `model-by-phase.csv`.\n\n"
                "| series | method | ranks | error | phases | elementwise | narrow, local solves | messages | "
                "waits | phase missed most: measured / modelled (s) |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (int i = 0; i < n; i++) {
        const admm_ScalingRun *r = &runs[i];
        if (isnan(r->model)) continue;
        PhaseRow row[ADMM_SC_NPH + 6];
        int k = phase_rows(r, row), worst = -1;
        double phases = 0, by_kind[4] = {0, 0, 0, 0};
        for (int j = 0; j < k; j++) {
            double c = contribution(r, &row[j]);
            if (!strcmp(row[j].kind, "phase")) {
                phases += c;
                if (worst < 0 || c < contribution(r, &row[worst])) worst = j;
            } else if (!strcmp(row[j].kind, "stream")) by_kind[0] += c;
            else if (!strcmp(row[j].kind, "narrow") || !strcmp(row[j].kind, "local_solve")) by_kind[1] += c;
            else if (!strcmp(row[j].kind, "messages")) {
                by_kind[2] += (row[j].modelled - row[j].measured_min) / r->t_epoch;
                by_kind[3] -= (row[j].measured - row[j].measured_min) / r->t_epoch;
            } else if (!strcmp(row[j].kind, "outside")) by_kind[3] += c;
        }
        fprintf(md, "| %s | %s | %d | %+.1f%% | %+.1f%% | %+.1f%% | %+.1f%% | %+.1f%% | %+.1f%% |", r->series,
                r->method, r->ranks, 100 * r->err, 100 * phases, 100 * by_kind[0], 100 * by_kind[1], 100 * by_kind[2],
                100 * by_kind[3]);
        if (worst >= 0)
            fprintf(md, " %s: %.3g / %.3g |\n", row[worst].name, row[worst].measured, row[worst].modelled);
        else
            fputs(" |\n", md);
    }
    fprintf(md, "\n| series | method | ranks | row | measured (s) | max over ranks (s) | modelled (s) | error | share |\n"
                "|---|---|---:|---|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < n; i++) {
        const admm_ScalingRun *r = &runs[i];
        if (isnan(r->model)) continue;
        PhaseRow row[ADMM_SC_NPH + 6];
        int k = phase_rows(r, row);
        for (int j = 0; j < k; j++) {
            const PhaseRow *w = &row[j];
            fprintf(md, "| %s | %s | %d | %s |", r->series, r->method, r->ranks, w->name);
            if (isnan(w->measured)) fputs(" in the phases |", md);
            else fprintf(md, " %.4g |", w->measured);
            if (isnan(w->measured_max)) fputs(" |", md);
            else fprintf(md, " %.4g |", w->measured_max);
            fprintf(md, " %.4g |", w->modelled);
            if (w->measured > 0) fprintf(md, " %+.1f%% |", 100 * (w->modelled - w->measured) / w->measured);
            else fputs(" |", md);
            fprintf(md, " %+.1f%% |\n", 100 * contribution(r, w));
        }
    }
}

typedef struct {
    const char *method, *rule;
    double epoch[ADMM_SC_NPROJ], t95[ADMM_SC_NPROJ], t97[ADMM_SC_NPROJ];
    int e95, e97;
} Projection;

static int figures(const char *out, const admm_ScalingRun *runs, int n, const char **meth, int nmeth, const Projection *pr,
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
            const admm_ScalingRun *one = find(runs, n, name, meth[k], 1);
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
    static double mx[16][ADMM_SC_MAXRUN], my[16][ADMM_SC_MAXRUN], lx[2], ly[2], lo[2], hi[2];
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
    static double px[ADMM_SC_NPROJ];
    for (int i = 0; i < ADMM_SC_NPROJ; i++) px[i] = admm_sc_proj_ranks[i];
    ns = 0;
    for (int k = 0; k < npr && ns < 16; k++)
        s[ns++] = (admm_Series){admm_xasprintf("%s%s%s", pr[k].method, pr[k].rule[0] ? ", " : "", pr[k].rule), ADMM_SC_NPROJ,
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
    static admm_Machine mach[MAXP];
    int nm = 0;
    for (int p = 1; p <= 4096 && nm < MAXP; p++) {
        char *path = admm_xasprintf("%s/microbench/r%d.txt", study, p);
        if (admm_sc_read_machine(path, &mach[nm]) == 0) nm++;
        free(path);
    }
    admm_ScalingRun *runs = admm_xcalloc(ADMM_SC_MAXRUN, sizeof *runs);
    int n = 0;
    admm_sc_scan_series(study, "strong", runs, &n);
    admm_sc_scan_series(study, "weak", runs, &n);
    if (n == 0 || nm == 0) {
        fprintf(stderr, "admm-analyze: --scaling %s: no %s found (run jobs/study-scaling.sh)\n", study,
                n == 0 ? "results files with work counters under strong/ or weak/" : "microbench/rP.txt");
        free(runs);
        return 1;
    }
    qsort(runs, (size_t)n, sizeof *runs, admm_sc_cmp_run);
    n = admm_sc_collapse_repeats(runs, n);
    const admm_Machine *big = &mach[nm - 1];
    double max_err = 0;
    int modelled = 0, within = 0;
    for (int i = 0; i < n; i++) {
        const admm_Machine *m = NULL;
        for (int j = 0; j < nm; j++)
            if (mach[j].ranks == runs[i].ranks) m = &mach[j];
        runs[i].model = runs[i].err = NAN;
        if (!m) continue;
        admm_sc_model(&runs[i], m);
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
        const admm_ScalingRun *one = find(runs, n, "strong", meth[k], 1), *top = find(runs, n, "strong", meth[k], 0);
        if (!one || !top) continue;
        int grad = admm_sc_gradient_method(meth[k]);
        for (int rule = 0; rule < (grad ? 2 : 1); rule++) {
            Projection *q = &pr[npr++];
            q->method = meth[k];
            q->rule = !grad ? "" : rule ? "batch 8 per rank" : "batch 128";
            q->e95 = one->epochs_to[1];
            q->e97 = one->epochs_to[2];
            for (int i = 0; i < ADMM_SC_NPROJ; i++) {
                double batch = !grad ? 0 : rule ? 8.0 * admm_sc_proj_ranks[i] : (double)one->batch;
                q->epoch[i] = admm_sc_project_epoch(one, top, big, admm_sc_proj_ranks[i], batch);
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
    printf("%-6s %-11s %5s %4s %10s %8s %6s %10s %8s %9s %9s %9s\n", "series", "method", "ranks", "reps",
           "t_epoch_s", "speedup", "eff", "t_model_s", "error", "compute", "stream", "comm");
    for (int i = 0; i < n; i++) {
        admm_ScalingRun *r = &runs[i];
        const admm_ScalingRun *one = find(runs, n, r->series, r->method, 1);
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
        printf("%-6s %-11s %5d %4d %10.4f %8.2f %6.2f %10.4f %+7.1f%% %9.4f %9.4f %9.4f\n", r->series, r->method,
               r->ranks, r->repeats, r->t_epoch, speedup, eff, r->model, 100 * r->err, r->t_compute, r->t_stream,
               r->t_comm);
    }
    fclose(csv);

    if (write_phase_csv(out, runs, n)) return 1;

    /* projection.csv */
    FILE *pcsv = open_out(out, "projection.csv");
    if (!pcsv) return 1;
    fprintf(pcsv, "method,batch_rule,ranks,epoch_s,epochs_to_95,t_to_95_s,epochs_to_97,t_to_97_s\n");
    for (int k = 0; k < npr; k++)
        for (int i = 0; i < ADMM_SC_NPROJ; i++) {
            fprintf(pcsv, "%s,%s,%d,", pr[k].method, pr[k].rule[0] ? pr[k].rule : "full batch (sweep)",
                    admm_sc_proj_ranks[i]);
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
        for (int i = 0; adam[r] && i < ADMM_SC_NPROJ; i++) {
            double best_free = NAN;
            const char *who = NULL;
            for (int k = 0; k < npr; k++)
                if (!admm_sc_gradient_method(pr[k].method) && !isnan(pr[k].t95[i]) && !(pr[k].t95[i] >= best_free)) {
                    best_free = pr[k].t95[i];
                    who = pr[k].method;
                }
            double a = adam[r]->t95[i];
            if (who && !(a <= best_free) && used < sizeof answer[r] - 80)
                used += (size_t)snprintf(answer[r] + used, sizeof answer[r] - used, "%s%d ranks (%s %.3g s, adam %s)",
                                         used ? ", " : "", admm_sc_proj_ranks[i], who, best_free,
                                         isnan(a) ? "cannot run: fewer samples per batch than ranks"
                                                  : admm_xasprintf("%.3g s", a));
        }
        /* without a strong adam series (--methods without adam) there is nothing to compare */
        if (!adam[r]) snprintf(answer[r], sizeof answer[r], "not answered (no strong adam series in this study)");
        else if (!used) snprintf(answer[r], sizeof answer[r], "at none of 16 to 1024 ranks");
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
        const admm_ScalingRun *r = &runs[i];
        fprintf(md, "| %s | %s | %d | %d | %.4g | %.4g-%.4g | %.3g | %.2f | %.3g | %.3g |", r->series, r->method,
                r->ranks, r->repeats, r->t_epoch, r->t_min, r->t_max, r->speedup, r->efficiency, r->sent / 1e6,
                r->recv / 1e6);
        for (int t = 0; t < 3; t++) md_time(md, r->t_to[t]);
        fputc('\n', md);
    }
    fprintf(md, "\n## The model\n\n"
                "For every run: T = F / R + S / BW + sum over message kinds k of c_k t_k(P, b_k / c_k) + T_sum, "
                "with the counts of the run (per epoch, max over ranks; median over the epochs used) and the "
                "constants measured by admm-microbench at the same rank count in the same study:\n\n"
                "- F: the flops of the training step's BLAS and ScaLAPACK calls (`/epochs/phase_flops`, "
                "every phase but eval and io);\n"
                "- R: for bcd and admm the rate of one sweep's products (Gram, cross and forward products, "
                "layer by layer) over the rank's columns, and for their narrow calls (a dimension below 32: "
                "`/epochs/flops_narrow`) the rate of the output layer's products, and for the flops of the "
                "solve phase (`phase_flops`, column solve: the ScaLAPACK factorisations, solves and inverses "
                "of orders 257 and 785) the rate of one bcd sweep's ScaLAPACK calls on the run's process grid "
                "(admm-microbench `solve_sweep`; in studies made before it, the sweep rate), and for "
                "resnet-admm's local LAPACK factors and solves (`/epochs/flops_local_solve`: its n x n systems "
                "with the rank's columns as right-hand sides) the rate of those calls on every rank at once "
                "(admm-microbench `local_solve`; in studies made before it, the sweep rate); for the gradient "
                "methods the rate of one step's "
                "products on the rank's share of the batch inside the training's own cycle, by update rule "
                "(admm-microbench `step_cycle`: untimed around the products, the batch gathered from random "
                "columns of the rank's samples, the node-shared sum and the update; in studies made before it, "
                "`step`: the products alone, repeated on one batch, in lockstep);\n"
                "- S: bytes streamed by the elementwise loops (`/epochs/stream_bytes`); BW the triad bandwidth of one rank with "
                "all ranks running, at the data one elementwise call touches (S / `stream_calls`, from the "
                "measured sizes 48 KiB to 192 MiB: L1 to memory); in studies made before `stream_calls`, "
                "over arrays far larger than cache for bcd and admm (whole layers) and over 3 x 1 MiB for the "
                "gradient methods (a batch, a parameter slice);\n"
                "- c_k, b_k: calls and bytes of kind k (allreduce, reduce_scatter, bcast, allgather, reduce, "
                "p2p, barrier: `/epochs/comm_calls`, `comm_bytes`, counted by admm-train's PMPI layer, "
                "ScaLAPACK's messages included); t_k(P, s) the measured time of one such call on all P ranks, "
                "the latency-bandwidth line through the two measured sizes around s (8 B to 8 MiB);\n"
                "- T_sum: the gradient methods' node-shared gradient sum (solver/node_sum.c). Per step it makes "
                "one cycle: a window barrier, the sum of the rank's slice over every rank's segment (lines the "
                "other cores have just written), the update of the rank's slice of the node-shared parameters "
                "(lines every other core has read), a window barrier; counted as two shm calls a cycle, each "
                "reading (P-1)/P of the gradient buffer G from the other ranks (`comm_bytes`, kind shm), each "
                "behind one of the barriers counted (which T_sum includes). T_sum = c_shm / 2 cycles times, "
                "where the study measured it, the cycle's own time for the method's update rule "
                "(admm-microbench `node_sum`, update included: its streams leave S); otherwise the time of "
                "the MPI collectives that move the same data between the same ranks, a reduce-scatter and "
                "an allgather of G, t_reduce_scatter(P, G) + t_allgather(P, G): a stand-in, which prices "
                "MPI's copies through its shared buffers in place of the cores' coherence traffic.\n\n"
                "Each constant is %s.\n\n",
            big->medians ? "the median of admm-microbench's 5 rounds, as each run's epoch time is the median of "
                           "its epochs (the best round is beside it in the microbench files)"
                         : "the best of admm-microbench's 5 rounds (its files from before the medians)");
    fprintf(md, "| series | method | ranks | measured (s) | model (s) | error | compute (s) | stream (s) | "
                "messages (s) |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < n; i++) {
        const admm_ScalingRun *r = &runs[i];
        fprintf(md, "| %s | %s | %d | %.4g | %.4g | %+.1f%% | %.4g | %.4g | %.4g |\n", r->series, r->method,
                r->ranks, r->t_epoch, r->model, 100 * r->err, r->t_compute, r->t_stream, r->t_comm);
    }
    fprintf(md, "\n%d of %d runs within 20%%; the largest error %.1f%%.\n", within, modelled, 100 * max_err);
    write_phase_md(md, runs, n);
    fputc('\n', md);
    fprintf(md, "## Projection: 16 to 1024 ranks\n\n"
                "Cluster: nodes of %d cores, %.0f Gb/s links, %.0f us MPI latency (the class of InfiniBand "
                "HDR100 or 100 GbE RoCE). Cores as fast as this study's with the machine full: the rates of "
                "admm-microbench at %d ranks (sweep %.1f GFLOP/s, Adam's step %.1f GFLOP/s at %.0f columns, stream "
                "%.1f GB/s, in cache %.1f GB/s per rank%s). Collectives across ranks by the textbook costs "
                "(Thakur, Rabenseifner and Gropp 2005) with the node's link shared by its ranks. bcd and admm: "
                "the work of the 1-rank run divided over the ranks, the messages (count and size) of the run "
                "at the largest rank count; their ScaLAPACK solves, whose systems keep their order, at the "
                "solve rate of the largest rank count, held at its time beyond it. Gradient methods: per step the products of the rank's columns "
                "(the rate falls in proportion below the measured column count), the optimiser on the rank's "
                "slice of the node, the node-shared sum at its time per step at the largest rank count measured "
                "(T_sum above, held for nodes of more ranks: optimistic), and one allreduce of the node's gradient across "
                "nodes. Batch rules: `batch 128` keeps the global batch (ranks beyond 128 would hold no "
                "sample: not feasible); `batch 8 per rank` grows it with the ranks (8 = 128 / 16, the share "
                "measured at 16 ranks), with the learning rate scaled linearly. Epochs to 95%% and 97%%: "
                "measured at batch 128 on one rank (every rank count follows the same trajectory). For the "
                "grown batch this is optimistic for the gradient methods: larger batches usually need more "
                "epochs.\n\n",
            CL_CORES, CL_LINK_BPS * 8 / 1e9, CL_LATENCY * 1e6, big->ranks,
            admm_sc_sweep_rate(big, (double)runs[0].n_train / big->ranks) / 1e9,
            admm_sc_step_rate(big, "adam", (double)runs[0].n_train / big->ranks) / 1e9, big->step_cols,
            big->stream / 1e9, big->stream_cache / 1e9,
            big->solve_rate > 0 ? admm_xasprintf(", ScaLAPACK solves %.2f GFLOP/s", big->solve_rate / 1e9) : "");
    fprintf(md, "| method | batch | epochs to 95%% | epochs to 97%% |");
    for (int i = 0; i < ADMM_SC_NPROJ; i++) fprintf(md, " %d ranks: to 95%% (s) |", admm_sc_proj_ranks[i]);
    fputs("\n|---|---|---:|---:|", md);
    for (int i = 0; i < ADMM_SC_NPROJ; i++) fputs("---:|", md);
    fputc('\n', md);
    for (int k = 0; k < npr; k++) {
        fprintf(md, "| %s | %s | %s | %s |", pr[k].method, pr[k].rule[0] ? pr[k].rule : "full (sweep)",
                pr[k].e95 ? admm_xasprintf("%d", pr[k].e95) : "never", pr[k].e97 ? admm_xasprintf("%d", pr[k].e97) : "never");
        for (int i = 0; i < ADMM_SC_NPROJ; i++) {
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
    printf("%d of %d runs modelled within 20%%; wrote %s/scaling.md, scaling.csv, model-by-phase.csv, projection.csv\n", within,
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
