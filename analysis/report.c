/* report: see report.h. Sections in the order report.md presents them: the per-run and
 * per-configuration tables and the methods table, seconds per epoch, the iterations and seconds to
 * reach objective and accuracy levels, the partial runs, the method comparison figures (per epoch,
 * against wall time, convergence per method and Anderson memory), scaling (speed-up, efficiency,
 * the per-phase breakdown with its load imbalance), sensitivity, then report.md. Each method's
 * configuration is chosen by validation accuracy; the test accuracy is only reported. User-facing
 * names are plain words; the thesis's figure numbers appear once, in a note at the end of
 * report.md. Every table ends with a partial column (yes/no; "yes †" in Markdown). */
#define _XOPEN_SOURCE 700 /* POSIX 2008 with XSI: realpath, strnlen, strtok_r, lstat */

#include "report.h"

#include "plot.h"
#include "table.h"
#include "tidy.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *stem, *caption;
    int fam; /* index of the family it belongs to, -1 for the overview figures */
} Figure;

typedef struct {
    const admm_Analysis *an;
    const admm_ReportOptions *opt;
    char *tables, *figures; /* OUTDIR/tables, OUTDIR/figures */
    int nmethod;
    int *best;         /* nmethod group indices: each method's chosen group (find_best) */
    int naccel;
    int *best_accel; /* naccel group indices: the chosen group of each method and Anderson memory
                        M (find_best): the curves of the convergence figures */
    admm_Floor *floor; /* ngroup: each group's random-features floor (admm_group_floor) */
    int nfig;
    Figure *fig; /* figures made, in order */
    int nfail;
    char **fail; /* figures that could not be made, with the reason */
} Ctx;

/* ---------------------------------------------------------------------------------------------- */
/* tables */

static int is_gradient(const char *method)
{
    return !strcmp(method, "gd") || !strcmp(method, "sgd") || !strcmp(method, "momentum") ||
           !strcmp(method, "adam");
}

/* Whether key means anything for method, as the methods table shows it: a learning rate and batch
 * for the gradient methods, the penalties beta and gamma for the two gradient-free methods
 * (Taylor's admm and bcd), warm-up epochs for admm only. A key that applies but is absent from
 * /config (a file written before the option existed) shows "-" as well. */
static int uses(const char *method, const char *key)
{
    if (!strcmp(key, "lr") || !strcmp(key, "batch")) return is_gradient(method);
    if (!strcmp(key, "beta") || !strcmp(key, "gamma"))
        return !strcmp(method, "admm") || !strcmp(method, "bcd");
    if (!strcmp(key, "warmup")) return !strcmp(method, "admm"); /* the only one with warm-up */
    return 1;
}

static void cfg_cell(admm_Table *t, const admm_Run *r, const char *key)
{
    char v[256] = "-";
    if (uses(r->method, key)) admm_attr_format(admm_run_cfg(r, key), v, sizeof v);
    admm_table_str(t, v);
}

/* The last column of every table: a partial run, or a group holding one (--include-partial). */
static void partial_cell(admm_Table *t, int partial)
{
    admm_table_str_md(t, partial ? "yes" : "no", partial ? "yes †" : "no");
}

static const char partial_rule[] =
    "partial: `yes` (`yes †` in Markdown) for a partial run (stopped by a signal, or a `.h5.part` "
    "file of a run that died) or a group holding one; partial runs are averaged in only with "
    "`--include-partial` (partial.md lists them).";

static void group_cell(admm_Table *t, int id)
{
    char v[32];
    snprintf(v, sizeof v, "G%d", id);
    admm_table_str(t, v);
}

/* threads_per_rank: a missing value ("-" in Markdown, empty in CSV) when the file predates it */
static void threads_cell(admm_Table *t, long long threads)
{
    if (threads == ADMM_THREADS_UNKNOWN)
        admm_table_str(t, "-");
    else
        admm_table_int(t, threads);
}

static const char threads_rule[] =
    "threads/rank is the root attribute `threads_per_rank` (OpenBLAS threads per rank; 0: neither "
    "OPENBLAS_NUM_THREADS nor OMP_NUM_THREADS was set and the BLAS chose); `-`: unknown, a file "
    "written before admm-train recorded it.";

static void save(const Ctx *c, const admm_Table *t, const char *stem, const char *title,
                 const char *caption)
{
    CHECK(admm_table_write(t, c->tables, stem, title, caption) == 0,
          "cannot write %s/%s.md/.csv: %s", c->tables, stem, strerror(errno));
}

static const char *const table41_keys[] = {"lr",     "batch",    "beta", "gamma",
                                           "warmup", "patience", "init"};
enum { NTABLE41 = sizeof table41_keys / sizeof table41_keys[0] };

static void table_runs(const Ctx *c)
{
    const admm_Analysis *an = c->an;
    admm_Table *t = admm_table_new();
    admm_table_col(t, "file", "file");
    admm_table_col(t, "group", "group");
    admm_table_col(t, "method", "method");
    admm_table_col(t, "epochs_run", "epochs run");
    admm_table_col(t, "best_epoch", "best epoch");
    admm_table_col(t, "stop_reason", "stop");
    for (int k = 0; k < NTABLE41; k++)
        admm_table_col(t, table41_keys[k], table41_keys[k]);
    admm_table_col(t, "ranks", "ranks");
    admm_table_col(t, "threads_per_rank", "threads/rank");
    admm_table_col(t, "precision", "precision");
    admm_table_col(t, "seed", "seed");
    admm_table_col(t, "val_acc_pct", "val. acc. (%)");
    admm_table_col(t, "test_acc_pct", "test acc. (%)");
    admm_table_col(t, "partial", "partial");
    for (int g = 0; g < an->ngroup; g++)
        for (int k = 0; k < an->group[g].nrun; k++) {
            const admm_Run *r = &an->run[an->group[g].run[k]];
            admm_table_row(t);
            admm_table_str(t, r->path);
            group_cell(t, an->group[g].id);
            admm_table_str(t, r->method);
            admm_table_int(t, r->epochs_run);
            admm_table_int(t, r->best_epoch);
            admm_table_str(t, r->stop_reason);
            for (int q = 0; q < NTABLE41; q++)
                cfg_cell(t, r, table41_keys[q]);
            admm_table_int(t, r->ranks);
            threads_cell(t, r->threads_per_rank);
            cfg_cell(t, r, "precision");
            cfg_cell(t, r, "seed");
            admm_table_real(t, 100.0 * r->final_val_acc, "%.2f");
            admm_table_real(t, 100.0 * r->final_test_acc, "%.2f");
            partial_cell(t, r->partial);
        }
    char *caption = admm_xasprintf(
        "One row per analysed file. Accuracies are the root attributes `final_val_acc` and "
        "`final_test_acc` (the kept weights) in percent; for a `.h5.part` file that never wrote "
        "them, those of its epoch of highest validation accuracy. lr and batch are shown for "
        "gradient methods, beta and gamma for admm and bcd, warmup for admm; `-` otherwise or when "
        "the run's `/config` has no such option (it does not apply). %s %s",
        threads_rule, partial_rule);
    save(c, t, "runs", "Final accuracy and configuration per run", caption);
    free(caption);
    admm_table_free(t);
}

/* Columns and row of one configuration group, shared by the configs and methods tables: the
 * validation accuracy the methods table chooses by, the test accuracy it reports, and the test
 * accuracy of the group's random-features floor with the gain over it. */
static void config_cols(admm_Table *t)
{
    admm_table_col(t, "group", "group");
    admm_table_col(t, "method", "method");
    admm_table_col(t, "runs", "runs");
    admm_table_col(t, "seeds", "seeds");
    admm_table_col_pm(t, "epochs_run", "epochs run");
    for (int k = 0; k < NTABLE41; k++)
        admm_table_col(t, table41_keys[k], table41_keys[k]);
    admm_table_col(t, "ranks", "ranks");
    admm_table_col(t, "threads_per_rank", "threads/rank");
    admm_table_col(t, "precision", "precision");
    admm_table_col_pm(t, "val_acc_pct", "val. acc. (%)");
    admm_table_col_pm(t, "test_acc_pct", "test acc. (%)");
    admm_table_col(t, "floor", "floor");
    admm_table_col(t, "floor_test_acc_pct", "floor test acc. (%)");
    admm_table_col(t, "gain_pts", "gain (points)");
    admm_table_col_pm(t, "final_loss", "final loss");
    admm_table_col_pm(t, "s_per_epoch", "s / epoch");
    admm_table_col(t, "partial", "partial");
}

/* The floor's group, and the one seed when only its runs of that seed were averaged. */
static void floor_cells(const Ctx *c, admm_Table *t, int g)
{
    const admm_Floor *fl = &c->floor[g];
    if (fl->group < 0) {
        admm_table_str(t, "-");
        admm_table_str(t, "-");
        admm_table_str(t, "-");
        return;
    }
    char v[300], seed[256];
    admm_attr_format(admm_run_cfg(admm_group_rep(c->an, g), "seed"), seed, sizeof seed);
    if (fl->seed_only)
        snprintf(v, sizeof v, "G%d seed %s", c->an->group[fl->group].id, seed);
    else
        snprintf(v, sizeof v, "G%d", c->an->group[fl->group].id);
    admm_table_str(t, v);
    admm_table_real(t, fl->acc_pct, "%.2f");
    admm_table_real(t, c->an->group[g].acc_pct.mean - fl->acc_pct, "%+.2f");
}

static void config_row(const Ctx *c, admm_Table *t, int g)
{
    const admm_Group *gr = &c->an->group[g];
    const admm_Run *r = admm_group_rep(c->an, g);
    char seeds[1024];
    admm_group_seeds(c->an, g, seeds, sizeof seeds);
    admm_table_row(t);
    group_cell(t, gr->id);
    admm_table_str(t, r->method);
    admm_table_int(t, gr->nrun);
    admm_table_str(t, seeds);
    admm_table_pm(t, gr->epochs.mean, gr->epochs.std, "%.1f");
    for (int q = 0; q < NTABLE41; q++)
        cfg_cell(t, r, table41_keys[q]);
    admm_table_int(t, r->ranks);
    threads_cell(t, r->threads_per_rank);
    cfg_cell(t, r, "precision");
    admm_table_pm(t, gr->val_pct.mean, gr->val_pct.std, "%.2f");
    admm_table_pm(t, gr->acc_pct.mean, gr->acc_pct.std, "%.2f");
    floor_cells(c, t, g);
    admm_table_pm(t, gr->loss.mean, gr->loss.std, "%.4g");
    admm_table_pm(t, gr->t_epoch.mean, gr->t_epoch.std, "%.4g");
    partial_cell(t, gr->npartial > 0);
}

/* How each method's group is chosen: the methods table's caption and report.md say it alike. */
static const char select_rule[] =
    "For each method, the group (runs differing only in seed) with the highest mean final "
    "validation accuracy (`final_val_acc`: the kept weights on the samples early stopping "
    "watched); ties go to the group with more runs, then to the first group. Chosen by mean "
    "validation accuracy; test accuracy is only reported.";

/* What the floor columns hold: the configs and methods captions and report.md say it alike. */
static const char floor_rule[] =
    "A trained group's floor is the random-features group (hidden layers frozen at the "
    "initialisation, output layer solved exactly for the readout loss) with the same data, layers "
    "and init, the method's loss and its biases (admm has none, every other method has them); of "
    "several, the one sharing most seeds with the trained group, else the first. `GN seed S` in "
    "the floor column: only its runs of the trained group's one seed (the same initialisation). "
    "floor test acc. is their mean final test accuracy; gain = test acc. - floor test acc., in "
    "percentage points. The gradient methods train cross-entropy, which has no exact readout "
    "solve: their floor is the least-squares one of the same init. `-`: no matching floor run, or "
    "the group is a floor itself.";

/* Notes on the floors of the chosen groups: the gradient methods that stand against a
 * least-squares floor, and every trained method without one (with what a floor run would need).
 * malloc'd, one note per line; "" when there is nothing to note. */
static char *floor_notes(const Ctx *c)
{
    const admm_Analysis *an = c->an;
    char *out = admm_xstrdup(""), *proxy = admm_xstrdup("");
    for (int m = 0; m < c->nmethod; m++) {
        int g = c->best[m];
        const admm_Floor *fl = &c->floor[g];
        const admm_Run *r = admm_group_rep(an, g);
        if (!strcmp(r->method, ADMM_FLOOR_METHOD)) continue;
        char *next;
        if (fl->proxy_loss) {
            next = admm_xasprintf("%s%s%s", proxy, proxy[0] ? ", " : "", r->method);
            free(proxy);
            proxy = next;
        }
        if (fl->group >= 0) continue;
        char data[256], layers[256], init[256];
        admm_attr_format(admm_run_cfg(r, "data"), data, sizeof data);
        admm_attr_format(admm_run_cfg(r, "layers"), layers, sizeof layers);
        admm_attr_format(admm_run_cfg(r, "init"), init, sizeof init);
        next = admm_xasprintf("%s- No floor for %s (G%d): no %s run with data=%s, layers=%s, "
                              "init=%s, loss=%s, biases=%s; floor and gain left empty.\n",
                              out, r->method, an->group[g].id, ADMM_FLOOR_METHOD, data, layers,
                              init, fl->loss, fl->biases);
        free(out);
        out = next;
    }
    if (proxy[0]) {
        char *next = admm_xasprintf("- %s train%s cross-entropy, which has no exact readout solve: "
                                    "compared with the least-squares floor of the same init.\n%s",
                                    proxy, strchr(proxy, ',') ? "" : "s", out);
        free(out);
        out = next;
    }
    free(proxy);
    return out;
}

static admm_Table *table_methods(const Ctx *c)
{
    admm_Table *t = admm_table_new();
    config_cols(t);
    for (int m = 0; m < c->nmethod; m++)
        config_row(c, t, c->best[m]);
    char *notes = floor_notes(c);
    size_t n = strlen(notes);
    if (n) notes[n - 1] = '\0'; /* the table follows after a blank line of its own */
    char *caption = admm_xasprintf(
        "%s Values are mean ± std over its runs. %s s / epoch pools t_epoch over every epoch of "
        "every run of the group. %s %s%s%s",
        select_rule, floor_rule, threads_rule, partial_rule, notes[0] ? "\n\n" : "", notes);
    save(c, t, "methods", "Configuration per method, chosen by validation accuracy", caption);
    free(caption);
    free(notes);
    return t;
}

static void table_configs(const Ctx *c)
{
    admm_Table *t = admm_table_new();
    config_cols(t);
    for (int g = 0; g < c->an->ngroup; g++)
        config_row(c, t, g);
    char *caption = admm_xasprintf(
        "One row per group of runs that differ only in seed; mean ± std over the runs (sample "
        "standard deviation; 0 for a single run). %s %s %s",
        floor_rule, threads_rule, partial_rule);
    save(c, t, "configs", "Final accuracy per configuration", caption);
    free(caption);
    admm_table_free(t);
}

/* Distinct values of a string over the runs of group g, joined with "; ". */
static char *distinct(const admm_Analysis *an, int g, int hosts)
{
    const admm_Group *gr = &an->group[g];
    char *out = admm_xstrdup("");
    for (int k = 0; k < gr->nrun; k++) {
        const admm_Run *r = &an->run[gr->run[k]];
        const char *v = hosts ? r->hostnames : r->path;
        int seen = 0;
        for (int j = 0; j < k && hosts; j++)
            seen |= !strcmp(an->run[gr->run[j]].hostnames, v);
        if (seen) continue;
        char *next = admm_xasprintf("%s%s%s", out, out[0] ? "; " : "", v);
        free(out);
        out = next;
    }
    return out;
}

static admm_Table *table_groups(const Ctx *c)
{
    const admm_Analysis *an = c->an;
    admm_Table *t = admm_table_new();
    admm_table_col(t, "group", "group");
    admm_table_col(t, "label", "configuration (keys that differ between groups)");
    admm_table_col(t, "runs", "runs");
    admm_table_col(t, "seeds", "seeds");
    admm_table_col(t, "hosts", "hosts");
    admm_table_col(t, "files", "files");
    admm_table_col(t, "partial", "partial");
    for (int g = 0; g < an->ngroup; g++) {
        char seeds[1024];
        admm_group_seeds(an, g, seeds, sizeof seeds);
        char *hosts = distinct(an, g, 1), *files = distinct(an, g, 0);
        admm_table_row(t);
        group_cell(t, an->group[g].id);
        admm_table_str(t, an->group[g].label);
        admm_table_int(t, an->group[g].nrun);
        admm_table_str(t, seeds);
        admm_table_str(t, hosts);
        admm_table_str(t, files);
        partial_cell(t, an->group[g].npartial > 0);
        free(hosts);
        free(files);
    }
    char *caption = admm_xasprintf(
        "Runs are grouped when every `/config` attribute except `seed` and `output` (and any "
        "`--ignore` key) and the root attributes `ranks` and `threads_per_rank` are equal "
        "(threads=unknown in a label: files written before admm-train recorded threads per rank, "
        "grouped only with each other). %s",
        partial_rule);
    save(c, t, "groups", "Groups: runs that differ only in seed", caption);
    free(caption);
    return t;
}

static admm_Table *table_epoch_time(const Ctx *c)
{
    const admm_Analysis *an = c->an;
    admm_Table *t = admm_table_new();
    admm_table_col(t, "method", "method");
    admm_table_col(t, "runs", "runs");
    admm_table_col(t, "groups", "groups");
    admm_table_col(t, "ranks", "ranks");
    admm_table_col(t, "threads_per_rank", "threads/rank");
    admm_table_col(t, "epochs", "epochs");
    admm_table_col_pm(t, "s_per_epoch", "s / epoch");
    admm_table_col(t, "s_per_epoch_min", "min");
    admm_table_col(t, "s_per_epoch_max", "max");
    admm_table_col(t, "partial", "partial");
    for (int m = 0; m < c->nmethod; m++) {
        const char *method = admm_group_rep(an, c->best[m])->method;
        int nt = 0, nrun = 0, ngroup = 0, npartial = 0;
        for (int i = 0; i < an->nrun; i++)
            if (!strcmp(an->run[i].method, method)) nt += an->run[i].E;
        double *x = admm_xmalloc((size_t)nt * sizeof *x);
        char ranks[256] = "", threads[256] = "";
        long long last = -1;
        nt = 0;
        for (int g = 0; g < an->ngroup; g++) {
            const admm_Run *rep = admm_group_rep(an, g);
            if (strcmp(rep->method, method)) continue;
            ngroup++;
            /* groups are sorted by method then ranks: each rank count comes once, in order */
            if (rep->ranks != last && strlen(ranks) + 24 < sizeof ranks)
                snprintf(ranks + strlen(ranks), sizeof ranks - strlen(ranks), "%s%lld",
                         ranks[0] ? "," : "", rep->ranks);
            last = rep->ranks;
            int seen = 0; /* threads per rank in order of first appearance, each once */
            for (int h = 0; h < g && !seen; h++)
                seen = !strcmp(admm_group_rep(an, h)->method, method) &&
                       admm_group_rep(an, h)->threads_per_rank == rep->threads_per_rank;
            if (!seen && strlen(threads) + 24 < sizeof threads) {
                char v[32];
                admm_threads_format(rep->threads_per_rank, v, sizeof v);
                snprintf(threads + strlen(threads), sizeof threads - strlen(threads), "%s%s",
                         threads[0] ? "," : "", v);
            }
            for (int k = 0; k < an->group[g].nrun; k++) {
                const admm_Run *r = &an->run[an->group[g].run[k]];
                nrun++;
                npartial += r->partial;
                for (int e = 0; e < r->E; e++)
                    x[nt++] = r->t_epoch[e];
            }
        }
        admm_Stat s;
        admm_stat(&s, x, nt);
        free(x);
        admm_table_row(t);
        admm_table_str(t, method);
        admm_table_int(t, nrun);
        admm_table_int(t, ngroup);
        admm_table_str(t, ranks);
        admm_table_str(t, threads);
        admm_table_int(t, s.n);
        admm_table_pm(t, s.mean, s.std, "%.4g");
        admm_table_real(t, s.min, "%.4g");
        admm_table_real(t, s.max, "%.4g");
        partial_cell(t, npartial > 0);
    }
    char *caption = admm_xasprintf(
        "Mean ± std of `/epochs/t_epoch` (training step only, max over ranks) over every epoch, "
        "warm-up included, of every analysed run of the method, whatever its configuration: the "
        "groups, ranks and threads/rank columns say how much was pooled (threads/rank: the root "
        "attribute `threads_per_rank`, `unknown` for files written before it). Per configuration "
        "see configs.md, per rank count scaling.md. %s",
        partial_rule);
    save(c, t, "epoch_time", "Seconds per epoch per method", caption);
    free(caption);
    return t;
}

/* Speed-up of the k-th group of scaling family f against its first (fewest ranks) and the
 * parallel efficiency. Strong scaling: S = t0 / t, E = S / (ranks / ranks0). Weak scaling (work
 * per rank fixed): E = t0 / t, S = E * ranks / ranks0 (scaled speed-up). */
static double speedup(const admm_Analysis *an, const admm_Family *f, int k, double *eff)
{
    const admm_Group *g0 = &an->group[f->group[0]], *g = &an->group[f->group[k]];
    double p = (double)admm_group_rep(an, f->group[k])->ranks /
               (double)admm_group_rep(an, f->group[0])->ranks;
    double ratio = g0->t_epoch.mean / g->t_epoch.mean;
    if (f->kind == ADMM_FAMILY_WEAK) {
        *eff = ratio;
        return ratio * p;
    }
    *eff = ratio / p;
    return ratio;
}

static int table_scaling(const Ctx *c)
{
    const admm_Analysis *an = c->an;
    admm_Table *t = admm_table_new();
    admm_table_col(t, "family", "family");
    admm_table_col(t, "kind", "kind");
    admm_table_col(t, "group", "group");
    admm_table_col(t, "ranks", "ranks");
    admm_table_col(t, "threads_per_rank", "threads/rank");
    admm_table_col(t, "n_train", "n_train");
    admm_table_col(t, "runs", "runs");
    admm_table_col_pm(t, "s_per_epoch", "s / epoch");
    admm_table_col(t, "speedup", "speed-up");
    admm_table_col(t, "efficiency", "efficiency");
    admm_table_col(t, "comm_share_pct", "comm. (% of t_epoch)");
    admm_table_col(t, "peak_rss_mb", "peak RSS / rank (MiB)");
    admm_table_col_pm(t, "test_acc_pct", "test acc. (%)");
    admm_table_col(t, "partial", "partial");
    int nfam = 0;
    for (int f = 0; f < an->nfam; f++) {
        const admm_Family *fam = &an->fam[f];
        if (fam->kind == ADMM_FAMILY_PARAM) continue;
        nfam++;
        for (int k = 0; k < fam->ngroup; k++) {
            const admm_Group *g = &an->group[fam->group[k]];
            const admm_Run *r = admm_group_rep(an, fam->group[k]);
            double eff, s = speedup(an, fam, k, &eff);
            admm_table_row(t);
            admm_table_str(t, fam->name);
            admm_table_str(t, fam->kind == ADMM_FAMILY_STRONG ? "strong" : "weak");
            group_cell(t, g->id);
            admm_table_int(t, r->ranks);
            threads_cell(t, r->threads_per_rank);
            admm_table_int(t, r->n_train);
            admm_table_int(t, g->nrun);
            admm_table_pm(t, g->t_epoch.mean, g->t_epoch.std, "%.4g");
            admm_table_real(t, s, "%.2f");
            admm_table_real(t, eff, "%.2f");
            admm_table_real(t, 100.0 * g->comm_share, "%.1f");
            admm_table_real(t, g->peak_rss, "%.1f");
            admm_table_pm(t, g->acc_pct.mean, g->acc_pct.std, "%.2f");
            partial_cell(t, g->npartial > 0);
        }
    }
    save(
        c, t, "scaling", "Scaling with the number of ranks",
        "A family is a set of groups equal in every grouping key but `ranks` (strong scaling) or "
        "but `ranks` and `n_train` with the same `n_train` per rank (weak scaling; the option "
        "`/config/n_train`, else the root `n_train`); threads per rank are part of the key, so a "
        "family never mixes them (threads/rank: `-` unknown, a file older than the attribute). "
        "The n_train column is the root attribute: "
        "training samples without the validation samples. Speed-up and "
        "efficiency are against the family's fewest ranks: strong S = t0/t, E = S/(ranks/ranks0); "
        "weak E = t0/t, S = E*ranks/ranks0, with t the mean seconds per epoch. comm. is the sum of "
        "the `comm_*` columns of `phase_avg` over the sum of `t_epoch`; peak RSS is the max of "
        "`rss_mb` over epochs, ranks and runs. A partial group (`yes`) holds a partial run "
        "(--include-partial).");
    admm_table_free(t);
    return nfam;
}

static int table_sensitivity(const Ctx *c, const char *param)
{
    const admm_Analysis *an = c->an;
    admm_Table *t = admm_table_new();
    admm_table_col(t, "family", "family");
    admm_table_col(t, param, param);
    admm_table_col(t, "group", "group");
    admm_table_col(t, "ranks", "ranks");
    admm_table_col(t, "threads_per_rank", "threads/rank");
    admm_table_col(t, "runs", "runs");
    admm_table_col_pm(t, "epochs_run", "epochs run");
    admm_table_col_pm(t, "test_acc_pct", "test acc. (%)");
    admm_table_col_pm(t, "final_loss", "final loss");
    admm_table_col_pm(t, "s_per_epoch", "s / epoch");
    admm_table_col(t, "peak_rss_mb", "peak RSS / rank (MiB)");
    admm_table_col(t, "partial", "partial");
    int nfam = 0;
    for (int f = 0; f < an->nfam; f++) {
        const admm_Family *fam = &an->fam[f];
        if (fam->kind != ADMM_FAMILY_PARAM || strcmp(fam->param, param)) continue;
        nfam++;
        for (int k = 0; k < fam->ngroup; k++) {
            const admm_Group *g = &an->group[fam->group[k]];
            char v[256];
            admm_group_param(an, fam->group[k], param, v, sizeof v);
            admm_table_row(t);
            admm_table_str(t, fam->name);
            admm_table_str(t, v);
            group_cell(t, g->id);
            admm_table_int(t, admm_group_rep(an, fam->group[k])->ranks);
            threads_cell(t, admm_group_rep(an, fam->group[k])->threads_per_rank);
            admm_table_int(t, g->nrun);
            admm_table_pm(t, g->epochs.mean, g->epochs.std, "%.1f");
            admm_table_pm(t, g->acc_pct.mean, g->acc_pct.std, "%.2f");
            admm_table_pm(t, g->loss.mean, g->loss.std, "%.4g");
            admm_table_pm(t, g->t_epoch.mean, g->t_epoch.std, "%.4g");
            admm_table_real(t, g->peak_rss, "%.1f");
            partial_cell(t, g->npartial > 0);
        }
    }
    char *stem = admm_xasprintf("sensitivity_%s", param);
    char *title = admm_xasprintf("Sensitivity to %s", param);
    char *caption = admm_xasprintf(
        "A family is a set of groups equal in every grouping key but `%s`. Values are mean ± std "
        "over the runs of each group. %s %s",
        param, threads_rule, partial_rule);
    save(c, t, stem, title, caption);
    free(stem);
    free(title);
    free(caption);
    admm_table_free(t);
    return nfam;
}

/* ---------------------------------------------------------------------------------------------- */
/* Iterations and seconds to reach given levels (issue 15, "convergence evidence") */

enum { REACH_K = 50 }; /* the yardstick: the objective the plain method reaches here */
static const double reach_acc_pct[] = {90.0, 95.0, 97.0};

static const char reach_rule[] =
    "One row per group, measure and level. Iterations: the first epoch (1-based, warm-up "
    "included) at which a run's value reaches the level (objective <= level; accuracy >= level), "
    "mean over the group's runs; seconds: the sum of `t_epoch` up to and including that epoch "
    "(training steps only, the Anderson wrapper's work included, evaluation and I/O left out), "
    "mean over the runs. Both are empty (never reached: an empty CSV field, `-` in Markdown) unless "
    "every run of the group reaches the level; reached counts the runs that do. Objective levels come from the group's "
    "plain group (the same options with `--anderson` 0, `--epochs` and `--patience` aside: plain "
    "column; itself when its M is 0): "
    "with E the fewest epochs of the plain group's runs and K = min(50, E), the plain group's "
    "mean objective at epoch K (left out when K = E), at epoch E (its last), and that last value "
    "/ 10 and / 100 (only when it is positive). A group without a plain group has no objective "
    "rows. Accuracy levels: 90, 95, 97 % validation and test accuracy (`val_acc`, `test_acc` per "
    "epoch). anderson M: `-` when the file does not record `/config/anderson` (older than the "
    "option: no acceleration ran).";

/* First epoch (0-based) at which run r's field reaches level (below: value <= level, else >=);
 * -1 when it never does. NaN never reaches. */
static int reach_epoch(const admm_Run *r, admm_EpochField field, double level, int below)
{
    for (int e = 0; e < r->E; e++) {
        double v = field(r, e);
        if (isnan(v)) continue;
        if (below ? v <= level : v >= level) return e;
    }
    return -1;
}

static double field_val_acc(const admm_Run *r, int e)
{
    return r->val_acc[e];
}
static double field_test_acc(const admm_Run *r, int e)
{
    return r->test_acc[e];
}

static void reach_row(const Ctx *c, admm_Table *t, int g, int plain, const char *measure,
                      const char *rule, double level, admm_EpochField field, double cmp_level,
                      int below)
{
    const admm_Analysis *an = c->an;
    const admm_Group *gr = &an->group[g];
    const admm_Run *rep = admm_group_rep(an, g);
    int reached = 0;
    double it = 0.0, sec = 0.0;
    for (int k = 0; k < gr->nrun; k++) {
        const admm_Run *r = &an->run[gr->run[k]];
        int e = reach_epoch(r, field, cmp_level, below);
        if (e < 0) continue;
        reached++;
        it += e + 1;
        sec += admm_field_t_train(r, e);
    }
    admm_table_row(t);
    group_cell(t, gr->id);
    admm_table_str(t, rep->method);
    if (rep->anderson_recorded)
        admm_table_int(t, rep->anderson);
    else
        admm_table_str(t, "-");
    admm_table_int(t, gr->nrun);
    if (plain >= 0)
        group_cell(t, an->group[plain].id);
    else
        admm_table_str(t, "-");
    admm_table_str(t, measure);
    admm_table_str(t, rule);
    admm_table_real(t, level, "%.4g");
    admm_table_int(t, reached);
    if (reached == gr->nrun) {
        admm_table_real(t, it / gr->nrun, "%.1f");
        admm_table_real(t, sec / gr->nrun, "%.3g");
    } else {
        admm_table_str(t, ""); /* never reached (by every run) */
        admm_table_str(t, "");
    }
    partial_cell(t, gr->npartial > 0);
}

static admm_Table *table_reach(const Ctx *c)
{
    const admm_Analysis *an = c->an;
    admm_Table *t = admm_table_new();
    admm_table_col(t, "group", "group");
    admm_table_col(t, "method", "method");
    admm_table_col(t, "anderson", "anderson M");
    admm_table_col(t, "runs", "runs");
    admm_table_col(t, "plain_group", "plain");
    admm_table_col(t, "measure", "measure");
    admm_table_col(t, "level_rule", "level rule");
    admm_table_col(t, "level", "level");
    admm_table_col(t, "reached", "reached");
    admm_table_col(t, "iterations", "iterations");
    admm_table_col(t, "seconds", "seconds");
    admm_table_col(t, "partial", "partial");
    for (int g = 0; g < an->ngroup; g++) {
        int p = admm_group_plain(an, g);
        if (p >= 0) {
            const admm_Group *pg = &an->group[p];
            int E = an->run[pg->run[0]].E;
            for (int k = 1; k < pg->nrun; k++)
                if (an->run[pg->run[k]].E < E) E = an->run[pg->run[k]].E;
            int K = E < REACH_K ? E : REACH_K;
            double atK = 0.0, last = 0.0;
            for (int k = 0; k < pg->nrun; k++) {
                atK += an->run[pg->run[k]].objective[K - 1];
                last += an->run[pg->run[k]].objective[E - 1];
            }
            atK /= pg->nrun;
            last /= pg->nrun;
            char rule[96];
            if (K < E && !isnan(atK)) {
                snprintf(rule, sizeof rule, "plain at epoch %d", K);
                reach_row(c, t, g, p, "objective", rule, atK, admm_field_objective, atK, 1);
            }
            if (!isnan(last)) {
                snprintf(rule, sizeof rule, "plain at epoch %d (its last)", E);
                reach_row(c, t, g, p, "objective", rule, last, admm_field_objective, last, 1);
            }
            for (int d = 1; d <= 2 && last > 0; d++) {
                double level = last / (d == 1 ? 10.0 : 100.0);
                snprintf(rule, sizeof rule, "plain at epoch %d / %d", E, d == 1 ? 10 : 100);
                reach_row(c, t, g, p, "objective", rule, level, admm_field_objective, level, 1);
            }
        }
        for (int v = 0; v < 2; v++)
            for (size_t k = 0; k < sizeof reach_acc_pct / sizeof reach_acc_pct[0]; k++) {
                char rule[32];
                snprintf(rule, sizeof rule, "%g %%", reach_acc_pct[k]);
                reach_row(c, t, g, p, v ? "test_acc" : "val_acc", rule, reach_acc_pct[k],
                          v ? field_test_acc : field_val_acc, reach_acc_pct[k] / 100.0, 0);
            }
    }
    char *caption = admm_xasprintf("%s %s", reach_rule, partial_rule);
    save(c, t, "reach", "Iterations and seconds to reach objective and accuracy levels", caption);
    free(caption);
    return t;
}

static admm_Table *table_flagged(const Ctx *c)
{
    admm_Table *t = admm_table_new();
    admm_table_col(t, "file", "file");
    admm_table_col(t, "problem", "problem");
    for (int k = 0; k < c->opt->nflag; k++) {
        admm_table_row(t);
        admm_table_str(t, c->opt->flag[k].path);
        admm_table_str(t, c->opt->flag[k].problem);
    }
    save(c, t, "flagged", "Flagged files",
         "Files that are neither complete results files nor readable partial runs; none of their "
         "values is in any table or figure.");
    return t;
}

/* The group of run k of opt->all, or -1 when it is not in the analysis (a partial run set apart). */
static int group_of_run(const Ctx *c, int k)
{
    if (k >= c->an->nrun) return -1;
    for (int g = 0; g < c->an->ngroup; g++)
        for (int j = 0; j < c->an->group[g].nrun; j++)
            if (c->an->group[g].run[j] == k) return g;
    return -1;
}

/* Every partial run, averaged in (--include-partial) or set apart: what is known of it and why it
 * is partial. Returns the table for report.md. */
static admm_Table *table_partial(const Ctx *c)
{
    const admm_ReportOptions *o = c->opt;
    admm_Table *t = admm_table_new();
    admm_table_col(t, "file", "file");
    admm_table_col(t, "group", "group");
    admm_table_col(t, "averaged", "averaged in");
    admm_table_col(t, "method", "method");
    admm_table_col(t, "epochs", "epochs read");
    admm_table_col(t, "best_epoch", "best epoch");
    admm_table_col(t, "ranks", "ranks");
    admm_table_col(t, "threads_per_rank", "threads/rank");
    admm_table_col(t, "seed", "seed");
    admm_table_col(t, "val_acc_pct", "val. acc. (%)");
    admm_table_col(t, "test_acc_pct", "test acc. (%)");
    admm_table_col(t, "why", "why partial");
    admm_table_col(t, "partial", "partial");
    for (int k = 0; k < o->nall; k++) {
        const admm_Run *r = &o->all[k];
        if (!r->partial) continue;
        int g = group_of_run(c, k);
        admm_table_row(t);
        admm_table_str(t, r->path);
        if (g >= 0)
            group_cell(t, c->an->group[g].id);
        else
            admm_table_str(t, "-");
        admm_table_str(t, g >= 0 ? "yes" : "no");
        admm_table_str(t, r->method);
        admm_table_int(t, r->E);
        admm_table_int(t, r->best_epoch);
        admm_table_int(t, r->ranks);
        threads_cell(t, r->threads_per_rank);
        cfg_cell(t, r, "seed");
        admm_table_real(t, 100.0 * r->final_val_acc, "%.2f");
        admm_table_real(t, 100.0 * r->final_test_acc, "%.2f");
        admm_table_str(t, r->partial_why);
        partial_cell(t, 1);
    }
    save(c, t, "partial", "Partial runs",
         "Runs whose epochs are usable but which did not run to their end: stopped by a signal "
         "(`stop_reason` = `signal`; complete as a file), or a `.h5.part` file left by a run that "
         "died or is still being written (its `/epochs` datasets are read up to the rows all of "
         "them hold). Without `--include-partial` they are in no group, mean, floor, family or "
         "figure (averaged in: no; group `-`); their epochs are in epochs.csv. With it they join "
         "the groups of complete runs and stay marked partial. For a `.h5.part` file that never "
         "wrote its final attributes, best epoch and accuracies are those of its epoch of highest "
         "validation accuracy.");
    return t;
}

/* ---------------------------------------------------------------------------------------------- */
/* figures */

typedef struct {
    int n;
    admm_Series *s;
} Set;

static void set_push(Set *set, admm_Series s)
{
    set->s = admm_xrealloc(set->s, (size_t)(set->n + 1) * sizeof *set->s);
    set->s[set->n++] = s;
}

static void set_free(Set *set)
{
    for (int k = 0; k < set->n; k++) {
        free((void *)set->s[k].label);
        free((void *)set->s[k].x);
        free((void *)set->s[k].y);
        free((void *)set->s[k].lo);
        free((void *)set->s[k].hi);
    }
    free(set->s);
    set->s = NULL;
    set->n = 0;
}

/* "G3, 2 runs" for figure legends; ", 1 partial" when the group holds partial runs. */
static char *group_tag(const admm_Analysis *an, int g)
{
    const admm_Group *gr = &an->group[g];
    if (gr->npartial)
        return admm_xasprintf("G%d, %d run%s, %d partial", gr->id, gr->nrun, gr->nrun > 1 ? "s" : "",
                              gr->npartial);
    return admm_xasprintf("G%d, %d run%s", gr->id, gr->nrun, gr->nrun > 1 ? "s" : "");
}

/* Adds field per epoch of group g (mean line; min-max band when the group has several runs),
 * against the epoch number, or against the mean over the runs of xfield when it is given (wall
 * time). A group with no finite value (train_acc of runs with --eval-train 0, a residual that a
 * method does not have) adds nothing. */
static void set_band_x(Set *set, const admm_Analysis *an, int g, admm_EpochField xfield,
                       admm_EpochField field, char *label)
{
    double *y, *lo, *hi, *x, *xlo = NULL, *xhi = NULL;
    int E = admm_group_band(an, g, field, &y, &lo, &hi), any = 0;
    if (xfield) {
        admm_group_band(an, g, xfield, &x, &xlo, &xhi);
        free(xlo);
        free(xhi);
    } else {
        x = admm_xmalloc((size_t)E * sizeof *x);
        for (int e = 0; e < E; e++)
            x[e] = e + 1;
    }
    for (int e = 0; e < E; e++)
        any |= isfinite(y[e]) && isfinite(x[e]);
    if (an->group[g].nrun < 2) {
        free(lo);
        free(hi);
        lo = hi = NULL;
    }
    admm_Series s = {label, E, x, y, lo, hi, 0};
    if (any) {
        set_push(set, s);
        return;
    }
    free(label);
    free(x);
    free(y);
    free(lo);
    free(hi);
}

static void set_band(Set *set, const admm_Analysis *an, int g, admm_EpochField field, char *label)
{
    set_band_x(set, an, g, NULL, field, label);
}

/* Finite values of the set's y (or x) that are > 0, and whether any finite one is <= 0 (zeros
 * excepted when skip_zero: admm's multiplier is 0 through warm-up). */
static void positive_range(const Set *set, int use_x, int skip_zero, double *lo, double *hi,
                           int *nonpos)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    *nonpos = 0;
    for (int k = 0; k < set->n; k++)
        for (int i = 0; i < set->s[k].n; i++) {
            double v = use_x ? set->s[k].x[i] : set->s[k].y[i];
            if (!isfinite(v) || (skip_zero && v == 0.0)) continue;
            if (v <= 0) {
                *nonpos = 1;
                continue;
            }
            *lo = fmin(*lo, v);
            *hi = fmax(*hi, v);
        }
}

/* 10 (a log axis) when the set's positive values span more than a factor of span and none is
 * negative (zeros are left out of such an axis when skip_zero); 0 otherwise. */
static int log_axis(const Set *set, int use_x, int skip_zero, double span)
{
    double lo, hi;
    int nonpos;
    positive_range(set, use_x, skip_zero, &lo, &hi, &nonpos);
    return !nonpos && hi >= lo && hi > span * lo ? 10 : 0;
}

static void figure(Ctx *c, const char *stem, const char *caption, int fam,
                   const admm_PlotSpec *spec, const Set *set)
{
    char why[512];
    if (!c->opt->plots || set->n == 0) return;
    if (admm_plot(c->figures, stem, spec, set->n, set->s, why, sizeof why) != 0) {
        fprintf(stderr, "admm-analyze: figure %s.png not made: %s\n", stem, why);
        c->fail = admm_xrealloc(c->fail, (size_t)(c->nfail + 1) * sizeof *c->fail);
        c->fail[c->nfail++] = admm_xasprintf("%s.png: %s", stem, why);
        return;
    }
    c->fig = admm_xrealloc(c->fig, (size_t)(c->nfig + 1) * sizeof *c->fig);
    c->fig[c->nfig++] = (Figure){admm_xstrdup(stem), admm_xstrdup(caption), fam};
}

/* A per-epoch figure: its file stem, what it shows, the y label, the thesis's figures it stands
 * for (the note at the end of report.md only), the value, and whether it is a convergence
 * measure (objective, residuals, multiplier: one curve per method and Anderson memory M, on a log
 * axis when every value is positive; 2: also against seconds of training, STEM_vs_time). */
typedef struct {
    const char *stem, *what, *ylabel, *thesis;
    admm_EpochField field;
    int convergence;
} EpochFigure;

static const EpochFigure epoch_figures[] = {
    {"test_accuracy", "test accuracy", "test accuracy (%)", "Figs 4.3, 4.6-4.8, 4.10, 4.12, 4.14",
     admm_field_test_acc_pct, 0},
    {"train_accuracy", "training accuracy", "training accuracy (%)", "Figs 4.5, 4.11, 4.15",
     admm_field_train_acc_pct, 0},
    {"loss", "training loss", "loss (per sample)", "Fig. 4.2", admm_field_loss, 0},
    {"epoch_time", "training-step time", "training step per epoch (s)", "Figs 4.1, 4.9",
     admm_field_t_epoch, 0},
    {"memory", "peak memory", "peak memory per rank, max over ranks (MiB)", "Fig. 4.13",
     admm_field_rss_max, 0},
    {"val_accuracy", "validation accuracy", "validation accuracy (%)", NULL,
     admm_field_val_acc_pct, 0},
    {"objective", "objective", "the method's objective (per sample)", NULL, admm_field_objective,
     2},
    {"residual_z", "residual of z = W a", "sum over layers of |z - W a|^2 per sample", NULL,
     admm_field_residual_z, 2},
    {"residual_a", "residual of a = relu(z)", "sum over layers of |a - relu(z)|^2 per sample",
     NULL, admm_field_residual_a, 2},
    {"multiplier", "multiplier", "|lambda|^2 per sample", NULL, admm_field_multiplier, 1},
};
enum { NEPOCHFIG = sizeof epoch_figures / sizeof epoch_figures[0] };

/* The per-epoch figures made for every family (and the columns of the report's family table):
 * test and training accuracy, epoch time, memory. */
static const int family_figures[] = {0, 1, 3, 4};
enum { NFAMFIG = sizeof family_figures / sizeof family_figures[0] };

/* Accuracy against wall time, one curve per method's chosen group: the comparison between methods
 * whose epochs cost very different amounts. x is t_wall (seconds since training started, rank 0;
 * evaluation and I/O included), mean over the group's runs per epoch. */
static void figures_time(Ctx *c)
{
    const admm_Analysis *an = c->an;
    static const struct {
        const char *stem, *what;
        admm_EpochField field;
    } acc[] = {{"val_accuracy_vs_time", "validation accuracy", admm_field_val_acc_pct},
               {"test_accuracy_vs_time", "test accuracy", admm_field_test_acc_pct}};
    for (size_t k = 0; k < sizeof acc / sizeof acc[0]; k++) {
        Set set = {0, NULL};
        for (int m = 0; m < c->nmethod; m++) {
            int g = c->best[m];
            char *tag = group_tag(an, g);
            set_band_x(&set, an, g, admm_field_t_wall, acc[k].field,
                       admm_xasprintf("%s (%s)", admm_group_rep(an, g)->method, tag));
            free(tag);
        }
        /* a method whose epochs cost a hundredth of another's is a smear on a linear axis */
        int log_x = log_axis(&set, 1, 0, 30.0);
        char *title = admm_xasprintf("%s against wall time, chosen configuration of each method",
                                     acc[k].what);
        title[0] = (char)toupper((unsigned char)title[0]);
        char *caption = admm_xasprintf(
            "%s per epoch against wall time (seconds since training started, evaluation and I/O "
            "included; mean over seeds) for each method's group chosen by mean validation "
            "accuracy; band from min to max over seeds%s.",
            acc[k].what, log_x ? "; logarithmic time axis" : "");
        caption[0] = (char)toupper((unsigned char)caption[0]);
        admm_PlotSpec spec = {.title = title,
                              .xlabel = "wall time since training started (s)",
                              .ylabel = k ? "test accuracy (%)" : "validation accuracy (%)",
                              .style = ADMM_PLOT_LINES,
                              .log_x = log_x};
        figure(c, acc[k].stem, caption, -1, &spec, &set);
        free(title);
        free(caption);
        set_free(&set);
    }
}

/* "bcd, Anderson m=8 (G3, 2 runs)", "bcd, no acceleration (G1, 1 run)": a convergence curve's
 * legend. "M not recorded" marks a file older than --anderson of a method it now applies to. */
static char *accel_label(const admm_Analysis *an, int g)
{
    const admm_Run *r = admm_group_rep(an, g);
    char *tag = group_tag(an, g), *label;
    int accelerable =
        !strcmp(r->method, "bcd") || !strcmp(r->method, "admm") || !strcmp(r->method, "dladmm");
    if (r->anderson > 0)
        label = admm_xasprintf("%s, Anderson m=%lld (%s)", r->method, r->anderson, tag);
    else
        label = admm_xasprintf("%s, no acceleration%s (%s)", r->method,
                               !r->anderson_recorded && accelerable ? ", M not recorded" : "", tag);
    free(tag);
    return label;
}

/* A convergence measure (objective, a residual, the multiplier) per epoch, or against seconds of
 * training when vs_time: one curve per method and Anderson memory M (find_best), log y axis when
 * every value is positive (admm's multiplier: its warm-up zeros left out). */
static void figure_convergence(Ctx *c, const EpochFigure *ef, int vs_time)
{
    const admm_Analysis *an = c->an;
    Set set = {0, NULL};
    for (int k = 0; k < c->naccel; k++)
        set_band_x(&set, an, c->best_accel[k], vs_time ? admm_field_t_train : NULL, ef->field,
                   accel_label(an, c->best_accel[k]));
    /* a series is left out where the method has no such value (NaN: bcd has no multiplier) */
    int log_y = log_axis(&set, 0, !strcmp(ef->stem, "multiplier"), 1.0);
    char *stem = admm_xasprintf("%s%s", ef->stem, vs_time ? "_vs_time" : "");
    char *title = admm_xasprintf("%s %s, each method and Anderson memory", ef->what,
                                 vs_time ? "against training time" : "per epoch");
    char *caption = admm_xasprintf(
        "%s %s for each method and Anderson memory M (`--anderson`; runs with other M are never "
        "pooled), the group of each chosen by mean validation accuracy: mean over seeds, band "
        "from min to max; methods without this value are left out%s.",
        ef->what,
        vs_time ? "against seconds of training (t_epoch summed: the training steps with the "
                  "acceleration's own work, evaluation and I/O left out; mean over seeds)"
                : "per epoch (one iteration of the method)",
        log_y ? "; logarithmic axis" : "");
    title[0] = (char)toupper((unsigned char)title[0]);
    caption[0] = (char)toupper((unsigned char)caption[0]);
    admm_PlotSpec spec = {.title = title,
                          .xlabel = vs_time ? "seconds of training (sum of t_epoch)" : "epoch",
                          .ylabel = ef->ylabel,
                          .style = ADMM_PLOT_LINES,
                          .integer_x = !vs_time,
                          .log_y = log_y};
    figure(c, stem, caption, -1, &spec, &set);
    free(stem);
    free(title);
    free(caption);
    set_free(&set);
}

/* Anderson's fixed-point residual |g(x_k) - x_k| per epoch, one curve per accelerated method and
 * M, with the epochs whose accelerated point the safeguard refused (anderson_accepted = 0 in any
 * run of the group) circled. */
static void figure_anderson(Ctx *c)
{
    const admm_Analysis *an = c->an;
    Set set = {0, NULL};
    int nrefused = 0, ntried = 0;
    for (int k = 0; k < c->naccel; k++) {
        int g = c->best_accel[k];
        const admm_Group *gr = &an->group[g];
        if (admm_group_rep(an, g)->anderson <= 0) continue;
        int before = set.n;
        set_band(&set, an, g, admm_field_aa_residual, accel_label(an, g));
        if (set.n == before) continue;
        const admm_Series *line = &set.s[set.n - 1];
        double *x = admm_xmalloc((size_t)line->n * sizeof *x),
               *y = admm_xmalloc((size_t)line->n * sizeof *y);
        int any = 0;
        for (int e = 0; e < line->n; e++) {
            int refused = 0;
            for (int q = 0; q < gr->nrun; q++) {
                const admm_Run *r = &an->run[gr->run[q]];
                if (e >= r->E || isnan(r->aa_accepted[e])) continue;
                ntried++;
                if (r->aa_accepted[e] == 0.0) {
                    refused = 1;
                    nrefused++;
                }
            }
            x[e] = line->x[e];
            y[e] = refused ? line->y[e] : NAN;
            any |= refused && isfinite(y[e]);
        }
        char *label = admm_xasprintf("  refused (G%d)", gr->id);
        if (any)
            set_push(&set, (admm_Series){label, line->n, x, y, NULL, NULL, 3});
        else {
            free(label);
            free(x);
            free(y);
        }
    }
    int log_y = log_axis(&set, 0, 0, 1.0);
    char *caption = admm_xasprintf(
        "Anderson acceleration's fixed-point residual |g(x_k) - x_k| per epoch (Euclidean norm of "
        "the stacked state, /epochs/anderson_residual) for each accelerated method and memory M, "
        "the group chosen by mean validation accuracy; mean over seeds, band from min to max. "
        "Circled: epochs whose accelerated point the safeguard refused in a run of the group (the "
        "plain step kept, the memory restarted): %d of the %d tried%s.",
        nrefused, ntried, log_y ? "; logarithmic axis" : "");
    admm_PlotSpec spec = {.title = "Anderson fixed-point residual per epoch",
                          .xlabel = "epoch",
                          .ylabel = "|g(x_k) - x_k| (stacked state)",
                          .style = ADMM_PLOT_LINES,
                          .integer_x = 1,
                          .log_y = log_y};
    figure(c, "anderson_residual", caption, -1, &spec, &set);
    free(caption);
    set_free(&set);
}

static void figures_methods(Ctx *c)
{
    const admm_Analysis *an = c->an;
    for (int f = 0; f < NEPOCHFIG; f++) {
        const EpochFigure *ef = &epoch_figures[f];
        if (ef->convergence) {
            figure_convergence(c, ef, 0);
            if (ef->convergence == 2) figure_convergence(c, ef, 1);
            continue;
        }
        Set set = {0, NULL};
        for (int m = 0; m < c->nmethod; m++) {
            int g = c->best[m];
            char *tag = group_tag(an, g);
            set_band(&set, an, g, ef->field,
                     admm_xasprintf("%s (%s)", admm_group_rep(an, g)->method, tag));
            free(tag);
        }
        char *title = admm_xasprintf("%s per epoch, chosen configuration of each method", ef->what);
        char *caption = admm_xasprintf(
            "%s per epoch for each method's group chosen by mean validation accuracy (methods.md; "
            "test accuracy is only reported): mean over seeds, band from min to max.",
            ef->what);
        title[0] = (char)toupper((unsigned char)title[0]);
        caption[0] = (char)toupper((unsigned char)caption[0]);
        admm_PlotSpec spec = {.title = title,
                              .xlabel = "epoch",
                              .ylabel = ef->ylabel,
                              .style = ADMM_PLOT_LINES,
                              .integer_x = 1};
        figure(c, ef->stem, caption, -1, &spec, &set);
        free(title);
        free(caption);
        set_free(&set);
    }
    figure_anderson(c);
    figures_time(c);

    /* final accuracy of every group */
    Set set = {0, NULL};
    char **tics = admm_xmalloc((size_t)an->ngroup * sizeof *tics);
    double *x = admm_xmalloc((size_t)an->ngroup * sizeof *x),
           *y = admm_xmalloc((size_t)an->ngroup * sizeof *y);
    double *lo = admm_xmalloc((size_t)an->ngroup * sizeof *lo),
           *hi = admm_xmalloc((size_t)an->ngroup * sizeof *hi);
    for (int g = 0; g < an->ngroup; g++) {
        const admm_Group *gr = &an->group[g];
        tics[g] = admm_xasprintf("G%d %s%s", gr->id, admm_group_rep(an, g)->method,
                                 gr->npartial ? " (partial)" : "");
        x[g] = g + 1;
        y[g] = gr->acc_pct.mean;
        lo[g] = gr->acc_pct.min;
        hi[g] = gr->acc_pct.max;
    }
    set_push(&set, (admm_Series){admm_xstrdup("final test accuracy"), an->ngroup, x, y, lo, hi, 0});
    admm_PlotSpec spec = {.title = "Final test accuracy per configuration",
                          .xlabel = "",
                          .ylabel = "final test accuracy (%)",
                          .style = ADMM_PLOT_BARS,
                          .xtics = (const char *const *)tics};
    figure(c, "final_accuracy",
           "Final test accuracy of every group (groups.md says what each is): mean over seeds, "
           "error bar from min to max.",
           -1, &spec, &set);
    set_free(&set);
    for (int g = 0; g < an->ngroup; g++)
        free(tics[g]);
    free(tics);
}

/* The ideal line of a speed-up (y = ranks / r0) or an efficiency (y = 1) from r0 to rmax. */
static void push_ideal(Set *set, int r0, long long rmax, int efficiency)
{
    double *x = admm_xmalloc(2 * sizeof *x), *y = admm_xmalloc(2 * sizeof *y);
    x[0] = r0;
    x[1] = (double)rmax;
    y[0] = 1.0;
    y[1] = efficiency ? 1.0 : (double)rmax / r0;
    set_push(set, (admm_Series){efficiency ? admm_xstrdup("ideal (efficiency 1)")
                                           : admm_xasprintf("ideal (ranks / %d)", r0),
                                2, x, y, NULL, NULL, 1});
}

static void figures_scaling(Ctx *c)
{
    const admm_Analysis *an = c->an;
    Set acc = {0, NULL}, sp = {0, NULL}, ef = {0, NULL};
    int base[64], nbase = 0;
    long long rmax = 0;
    for (int f = 0; f < an->nfam; f++) {
        const admm_Family *fam = &an->fam[f];
        if (fam->kind == ADMM_FAMILY_PARAM) continue;
        int n = fam->ngroup;
        double *x = admm_xmalloc((size_t)n * sizeof *x), *x2 = admm_xmalloc((size_t)n * sizeof *x2);
        double *x3 = admm_xmalloc((size_t)n * sizeof *x3), *e = admm_xmalloc((size_t)n * sizeof *e);
        double *y = admm_xmalloc((size_t)n * sizeof *y), *lo = admm_xmalloc((size_t)n * sizeof *lo);
        double *hi = admm_xmalloc((size_t)n * sizeof *hi), *s = admm_xmalloc((size_t)n * sizeof *s);
        for (int k = 0; k < n; k++) {
            const admm_Group *g = &an->group[fam->group[k]];
            x[k] = x2[k] = x3[k] = (double)admm_group_rep(an, fam->group[k])->ranks;
            y[k] = g->acc_pct.mean;
            lo[k] = g->acc_pct.min;
            hi[k] = g->acc_pct.max;
            s[k] = speedup(an, fam, k, &e[k]);
            if ((long long)x[k] > rmax) rmax = (long long)x[k];
        }
        long long r0 = admm_group_rep(an, fam->group[0])->ranks;
        int seen = 0;
        for (int b = 0; b < nbase; b++)
            seen |= base[b] == r0;
        if (!seen && nbase < 64) base[nbase++] = (int)r0;
        const char *kind = fam->kind == ADMM_FAMILY_STRONG ? "strong" : "weak";
        const char *method = admm_group_rep(an, fam->group[0])->method;
        char th[32]; /* every group of a family has the same threads per rank (grouping key) */
        admm_threads_format(admm_group_rep(an, fam->group[0])->threads_per_rank, th, sizeof th);
        set_push(&acc, (admm_Series){admm_xasprintf("%s, %s, %s scaling, %s threads/rank",
                                                    fam->name, method, kind, th),
                                     n, x, y, lo, hi, 0});
        set_push(&sp, (admm_Series){admm_xasprintf("%s, %s, %s scaling, %s threads/rank",
                                                   fam->name, method, kind, th),
                                    n, x2, s, NULL, NULL, 0});
        set_push(&ef, (admm_Series){admm_xasprintf("%s, %s, %s scaling, %s threads/rank",
                                                   fam->name, method, kind, th),
                                    n, x3, e, NULL, NULL, 0});
    }
    int bmin = nbase ? base[0] : 1;
    for (int b = 0; b < nbase; b++) {
        push_ideal(&sp, base[b], rmax, 0);
        if (base[b] < bmin) bmin = base[b];
    }
    if (nbase) push_ideal(&ef, bmin, rmax, 1); /* efficiency 1 whatever the base: one line */
    admm_PlotSpec sa = {.title = "Final test accuracy against ranks",
                        .xlabel = "ranks",
                        .ylabel = "final test accuracy (%)",
                        .style = ADMM_PLOT_ERRORBARS,
                        .log_x = 2};
    figure(c, "accuracy_vs_ranks",
           "Final test accuracy of each scaling family against ranks (log2 axis): mean over "
           "seeds, error bar from min to max.",
           -1, &sa, &acc);
    admm_PlotSpec ss = {.title = "Speed-up against ranks",
                        .xlabel = "ranks",
                        .ylabel = "speed-up",
                        .style = ADMM_PLOT_ERRORBARS,
                        .log_x = 2,
                        .log_y = 2};
    figure(c, "speedup_vs_ranks",
           "Speed-up in seconds per epoch against the family's fewest ranks, on log2 axes, with "
           "the ideal (linear) line; weak scaling shows the scaled speed-up.",
           -1, &ss, &sp);
    admm_PlotSpec se = {.title = "Parallel efficiency against ranks",
                        .xlabel = "ranks",
                        .ylabel = "parallel efficiency",
                        .style = ADMM_PLOT_ERRORBARS,
                        .log_x = 2};
    figure(c, "efficiency_vs_ranks",
           "Parallel efficiency against the family's fewest ranks (log2 rank axis), with the ideal "
           "line at 1: strong scaling S / (ranks / ranks0), weak scaling t0 / t.",
           -1, &se, &ef);
    set_free(&acc);
    set_free(&sp);
    set_free(&ef);
}

/* ---------------------------------------------------------------------------------------------- */
/* per-phase breakdown of the scaling families */

/* Where the training step of each group of a scaling family spends its time: the union of the
 * groups' phase names inside the training step (every name but eval, io and unused; files of
 * different versions may name their phases differently, so they are matched by name), and per
 * group k and phase p the mean over every epoch of every run of phase_avg (mean over ranks) and
 * phase_max (the slowest rank), [k * nphase + p]. A phase that is 0 throughout is left out. Load
 * imbalance = max / mean: 1 when every rank spends the same time in the phase. */
typedef struct {
    int nphase;
    const char **name; /* nphase, pointing into the runs */
    double *avg, *max; /* ngroup x nphase, seconds per epoch */
    double *t_epoch;   /* ngroup: mean t_epoch, seconds */
} Phases;

static int in_step(const char *name)
{
    return strcmp(name, "eval") && strcmp(name, "io") && strcmp(name, "unused");
}

static void phases_of(const admm_Analysis *an, const admm_Family *fam, Phases *ph)
{
    memset(ph, 0, sizeof *ph);
    int cap = 0;
    for (int k = 0; k < fam->ngroup; k++) {
        const admm_Group *g = &an->group[fam->group[k]];
        for (int j = 0; j < g->nrun; j++) {
            const admm_Run *r = &an->run[g->run[j]];
            for (int p = 0; p < r->P; p++) {
                int seen = !in_step(r->phase_names[p]);
                for (int q = 0; q < ph->nphase && !seen; q++)
                    seen = !strcmp(ph->name[q], r->phase_names[p]);
                if (seen) continue;
                if (ph->nphase == cap) {
                    cap = cap ? 2 * cap : 16;
                    ph->name = admm_xrealloc(ph->name, (size_t)cap * sizeof *ph->name);
                }
                ph->name[ph->nphase++] = r->phase_names[p];
            }
        }
    }
    size_t n = (size_t)fam->ngroup * (size_t)(ph->nphase ? ph->nphase : 1);
    ph->avg = admm_xcalloc(n, sizeof *ph->avg);
    ph->max = admm_xcalloc(n, sizeof *ph->max);
    ph->t_epoch = admm_xcalloc((size_t)fam->ngroup, sizeof *ph->t_epoch);
    double *total = admm_xcalloc((size_t)(ph->nphase ? ph->nphase : 1), sizeof *total);
    for (int k = 0; k < fam->ngroup; k++) {
        const admm_Group *g = &an->group[fam->group[k]];
        int nepoch = 0;
        for (int j = 0; j < g->nrun; j++) {
            const admm_Run *r = &an->run[g->run[j]];
            nepoch += r->E;
            for (int p = 0; p < r->P; p++) {
                int q = 0;
                while (q < ph->nphase && strcmp(ph->name[q], r->phase_names[p]))
                    q++;
                if (q == ph->nphase) continue; /* eval, io, unused */
                for (int e = 0; e < r->E; e++) {
                    double a = r->phase_avg[(size_t)e * r->P + p],
                           m = r->phase_max[(size_t)e * r->P + p];
                    if (!isnan(a)) ph->avg[k * ph->nphase + q] += a; /* NaN: never entered */
                    if (!isnan(m)) ph->max[k * ph->nphase + q] += m;
                }
            }
        }
        for (int q = 0; q < ph->nphase; q++) {
            total[q] += ph->avg[k * ph->nphase + q];
            ph->avg[k * ph->nphase + q] /= nepoch ? nepoch : 1;
            ph->max[k * ph->nphase + q] /= nepoch ? nepoch : 1;
        }
        ph->t_epoch[k] = g->t_epoch.mean;
    }
    /* drop the phases no group ever spent time in (a method's unused steps under another name) */
    int m = 0;
    for (int q = 0; q < ph->nphase; q++) {
        if (!(total[q] > 0)) continue;
        ph->name[m] = ph->name[q];
        for (int k = 0; k < fam->ngroup; k++) {
            ph->avg[k * ph->nphase + m] = ph->avg[k * ph->nphase + q];
            ph->max[k * ph->nphase + m] = ph->max[k * ph->nphase + q];
        }
        m++;
    }
    /* repack rows from stride nphase to stride m */
    for (int k = 0; k < fam->ngroup; k++)
        for (int q = 0; q < m; q++) {
            ph->avg[k * m + q] = ph->avg[k * ph->nphase + q];
            ph->max[k * m + q] = ph->max[k * ph->nphase + q];
        }
    ph->nphase = m;
    free(total);
}

static void phases_free(Phases *ph)
{
    free(ph->name);
    free(ph->avg);
    free(ph->max);
    free(ph->t_epoch);
}

static double imbalance(double max, double avg)
{
    return avg > 0 ? max / avg : NAN;
}

/* One row per (scaling family, group, phase). Returns the number of rows. */
static int table_phases(const Ctx *c)
{
    const admm_Analysis *an = c->an;
    admm_Table *t = admm_table_new();
    admm_table_col(t, "family", "family");
    admm_table_col(t, "kind", "kind");
    admm_table_col(t, "group", "group");
    admm_table_col(t, "ranks", "ranks");
    admm_table_col(t, "threads_per_rank", "threads/rank");
    admm_table_col(t, "phase", "phase");
    admm_table_col(t, "s_per_epoch", "s / epoch (mean over ranks)");
    admm_table_col(t, "s_per_epoch_max", "s / epoch (slowest rank)");
    admm_table_col(t, "share_pct", "share of t_epoch (%)");
    admm_table_col(t, "imbalance", "load imbalance (max / mean)");
    admm_table_col(t, "partial", "partial");
    for (int f = 0; f < an->nfam; f++) {
        const admm_Family *fam = &an->fam[f];
        if (fam->kind == ADMM_FAMILY_PARAM) continue;
        Phases ph;
        phases_of(an, fam, &ph);
        for (int k = 0; k < fam->ngroup; k++) {
            const admm_Group *g = &an->group[fam->group[k]];
            for (int q = 0; q < ph.nphase; q++) {
                double a = ph.avg[k * ph.nphase + q], m = ph.max[k * ph.nphase + q];
                admm_table_row(t);
                admm_table_str(t, fam->name);
                admm_table_str(t, fam->kind == ADMM_FAMILY_STRONG ? "strong" : "weak");
                group_cell(t, g->id);
                admm_table_int(t, admm_group_rep(an, fam->group[k])->ranks);
                threads_cell(t, admm_group_rep(an, fam->group[k])->threads_per_rank);
                admm_table_str(t, ph.name[q]);
                admm_table_real(t, a, "%.4g");
                admm_table_real(t, m, "%.4g");
                admm_table_real(t, ph.t_epoch[k] > 0 ? 100.0 * a / ph.t_epoch[k] : NAN, "%.1f");
                admm_table_real(t, imbalance(m, a), "%.3f");
                partial_cell(t, g->npartial > 0);
            }
        }
        phases_free(&ph);
    }
    int n = admm_table_nrows(t);
    save(c, t, "phases", "Time per phase of the training step, per rank count",
         "For each scaling family (scaling.md) and each of its groups: the mean over every epoch "
         "of every run of `phase_avg` (the phase's time averaged over ranks) and of `phase_max` "
         "(the slowest rank), the mean's share of the mean `t_epoch`, and the load imbalance max "
         "/ mean (1: every rank spends the same time). Phases of the training step only (not "
         "eval, io or unused), matched by name; a phase at 0 throughout the family is left out. "
         "partial: the group holds a partial run (--include-partial).");
    admm_table_free(t);
    return n;
}

/* For every scaling family: the stacked per-phase time per rank count, and the load imbalance
 * (max over ranks / mean over ranks) of each phase against ranks. */
static void figures_phases(Ctx *c)
{
    const admm_Analysis *an = c->an;
    for (int f = 0; f < an->nfam; f++) {
        const admm_Family *fam = &an->fam[f];
        if (fam->kind == ADMM_FAMILY_PARAM) continue;
        Phases ph;
        phases_of(an, fam, &ph);
        if (ph.nphase == 0) {
            phases_free(&ph);
            continue;
        }
        int n = fam->ngroup;
        char **tics = admm_xmalloc((size_t)n * sizeof *tics);
        for (int k = 0; k < n; k++) {
            const admm_Group *g = &an->group[fam->group[k]];
            long long r = admm_group_rep(an, fam->group[k])->ranks;
            tics[k] = admm_xasprintf("%lld rank%s (G%d%s)", r, r > 1 ? "s" : "", g->id,
                                     g->npartial ? ", partial" : "");
        }
        Set st = {0, NULL}, im = {0, NULL};
        for (int q = 0; q < ph.nphase; q++) {
            double *x = admm_xmalloc((size_t)n * sizeof *x), *y = admm_xmalloc((size_t)n * sizeof *y);
            double *x2 = admm_xmalloc((size_t)n * sizeof *x2),
                   *y2 = admm_xmalloc((size_t)n * sizeof *y2);
            for (int k = 0; k < n; k++) {
                x[k] = k;
                y[k] = ph.avg[k * ph.nphase + q];
                x2[k] = (double)admm_group_rep(an, fam->group[k])->ranks;
                y2[k] = imbalance(ph.max[k * ph.nphase + q], ph.avg[k * ph.nphase + q]);
            }
            set_push(&st, (admm_Series){admm_xstrdup(ph.name[q]), n, x, y, NULL, NULL, 0});
            set_push(&im, (admm_Series){admm_xstrdup(ph.name[q]), n, x2, y2, NULL, NULL, 0});
        }
        const char *method = admm_group_rep(an, fam->group[0])->method;
        const char *kind = fam->kind == ADMM_FAMILY_STRONG ? "strong" : "weak";
        char th[32];
        admm_threads_format(admm_group_rep(an, fam->group[0])->threads_per_rank, th, sizeof th);
        char *stem = admm_xasprintf("%s_phases", fam->name);
        char *title = admm_xasprintf(
            "Time per phase of the training step, %s (%s, %s scaling, %s threads/rank)", fam->name,
            method, kind, th);
        char *caption = admm_xasprintf(
            "Family %s (%s, %s scaling): seconds per epoch in each phase of the training step, "
            "mean over ranks, stacked, per rank count (phases.md has the values).",
            fam->name, method, kind);
        admm_PlotSpec sp = {.title = title,
                            .xlabel = "",
                            .ylabel = "seconds per epoch (mean over ranks)",
                            .style = ADMM_PLOT_STACKED,
                            .xtics = (const char *const *)tics};
        figure(c, stem, caption, -1, &sp, &st);
        free(stem);
        free(title);
        free(caption);
        long long r0 = admm_group_rep(an, fam->group[0])->ranks,
                  r1 = admm_group_rep(an, fam->group[n - 1])->ranks;
        double *x = admm_xmalloc(2 * sizeof *x), *y = admm_xmalloc(2 * sizeof *y);
        x[0] = (double)r0;
        x[1] = (double)r1;
        y[0] = y[1] = 1.0;
        set_push(&im, (admm_Series){admm_xstrdup("balanced (max = mean)"), 2, x, y, NULL, NULL, 1});
        stem = admm_xasprintf("%s_imbalance", fam->name);
        title = admm_xasprintf("Load imbalance per phase, %s (%s, %s scaling, %s threads/rank)",
                               fam->name, method, kind, th);
        caption = admm_xasprintf(
            "Family %s: load imbalance of each phase against ranks (log2 axis): the slowest "
            "rank's time over the mean over ranks (phase_max / phase_avg, summed over epochs); 1 "
            "is perfect balance.",
            fam->name);
        admm_PlotSpec si = {.title = title,
                            .xlabel = "ranks",
                            .ylabel = "load imbalance (max / mean over ranks)",
                            .style = ADMM_PLOT_ERRORBARS,
                            .log_x = 2};
        figure(c, stem, caption, -1, &si, &im);
        free(stem);
        free(title);
        free(caption);
        set_free(&st);
        set_free(&im);
        for (int k = 0; k < n; k++)
            free(tics[k]);
        free(tics);
        phases_free(&ph);
    }
}

/* Four per-epoch figures for every family: one curve per value of the family's parameter. */
static void figures_families(Ctx *c)
{
    const admm_Analysis *an = c->an;
    for (int f = 0; f < an->nfam; f++) {
        const admm_Family *fam = &an->fam[f];
        for (int w = 0; w < NFAMFIG; w++) {
            const EpochFigure *ef = &epoch_figures[family_figures[w]];
            Set set = {0, NULL};
            for (int k = 0; k < fam->ngroup; k++) {
                int g = fam->group[k];
                char v[256];
                admm_group_param(an, g, fam->param, v, sizeof v);
                char *tag = group_tag(an, g);
                set_band(&set, an, g, ef->field, admm_xasprintf("%s=%s (%s)", fam->param, v, tag));
                free(tag);
            }
            char *stem = admm_xasprintf("%s_%s", fam->name, ef->stem);
            char *title = admm_xasprintf("%s per epoch for each value of %s (family %s)", ef->what,
                                         fam->param, fam->name);
            title[0] = (char)toupper((unsigned char)title[0]);
            char *caption = admm_xasprintf("Family %s: %s per epoch for each value of %s.",
                                           fam->name, ef->what, fam->param);
            admm_PlotSpec spec = {.title = title,
                                  .xlabel = "epoch",
                                  .ylabel = ef->ylabel,
                                  .style = ADMM_PLOT_LINES,
                                  .integer_x = 1};
            figure(c, stem, caption, f, &spec, &set);
            free(stem);
            free(title);
            free(caption);
            set_free(&set);
        }
    }
}

/* ---------------------------------------------------------------------------------------------- */
/* report.md */

static void link_table(FILE *f, const char *stem, const char *what)
{
    fprintf(f, "- %s: [%s.md](tables/%s.md), [%s.csv](tables/%s.csv)\n", what, stem, stem, stem,
            stem);
}

static int figure_made(const Ctx *c, const char *stem)
{
    for (int k = 0; k < c->nfig; k++)
        if (!strcmp(c->fig[k].stem, stem)) return 1;
    return 0;
}

/* One row per family, one column per kind of per-epoch figure (figures_families). */
static void write_family_figures(const Ctx *c, FILE *f)
{
    const admm_Analysis *an = c->an;
    int any = 0;
    for (int k = 0; k < c->nfig; k++)
        any |= c->fig[k].fam >= 0;
    if (!any) return;
    fprintf(f, "\nPer family, one curve per value of the parameter that varies (mean over seeds, "
               "band from min to max):\n\n| family | varies | groups |");
    for (int w = 0; w < NFAMFIG; w++)
        fprintf(f, " %s |", epoch_figures[family_figures[w]].what);
    fprintf(f, "\n|---|---|---|");
    for (int w = 0; w < NFAMFIG; w++)
        fprintf(f, "---|");
    fputc('\n', f);
    for (int fi = 0; fi < an->nfam; fi++) {
        const admm_Family *fam = &an->fam[fi];
        fprintf(f, "| %s | %s | ", fam->name,
                fam->kind == ADMM_FAMILY_WEAK ? "ranks, n_train" : fam->param);
        for (int k = 0; k < fam->ngroup; k++)
            fprintf(f, "%sG%d", k ? ", " : "", an->group[fam->group[k]].id);
        fprintf(f, " |");
        for (int w = 0; w < NFAMFIG; w++) {
            char stem[96];
            snprintf(stem, sizeof stem, "%s_%s", fam->name, epoch_figures[family_figures[w]].stem);
            if (figure_made(c, stem))
                fprintf(f, " [png](figures/%s.png) |", stem);
            else
                fprintf(f, " - |");
        }
        fputc('\n', f);
    }
}

/* Where the thesis shows what: the one place its figure numbers appear (user-facing names are
 * plain words). */
static void write_thesis_note(FILE *f)
{
    fprintf(f, "\n## Note: the thesis's figures\n\n"
               "For readers of the thesis this analysis rebuilds: the methods table is its Table "
               "4.1, epoch_time its Fig. 4.1, final_accuracy its Figs 4.4 and 4.16, "
               "accuracy_vs_ranks and speedup_vs_ranks its Figs 4.5-4.8, the sensitivity families "
               "its Figs 4.9-4.16");
    for (int k = 0; k < NEPOCHFIG; k++)
        if (epoch_figures[k].thesis)
            fprintf(f, ", %s its %s", epoch_figures[k].stem, epoch_figures[k].thesis);
    fprintf(f, ". The other figures and tables (wall time, convergence, efficiency, phases, "
               "partial runs) are not in the thesis.\n");
}

static void write_report(const Ctx *c, const admm_Table *methods, const admm_Table *groups,
                         const admm_Table *epoch_time, const admm_Table *reach,
                         const admm_Table *partial,
                         const admm_Table *flagged, int nscal, int nphase, const int *nsens)
{
    const admm_Analysis *an = c->an;
    const admm_ReportOptions *o = c->opt;
    char *path = admm_xasprintf("%s/report.md", o->outdir);
    FILE *f = fopen(path, "w");
    CHECK(f, "cannot write %s: %s", path, strerror(errno));

    fprintf(f, "# Results analysis\n\nMade by `admm-analyze` from");
    for (int k = 0; k < o->ninput; k++)
        fprintf(f, "%s `%s`", k ? "," : "", o->input[k]);
    int npartial = admm_table_nrows(partial);
    fprintf(f, ": **%d results files, %d analysed in %d groups, %d flagged, %d partial**%s%s.\n\n",
            o->nall + o->nflag, an->nrun, an->ngroup, o->nflag, npartial,
            o->nflag ? " (see [Flagged files](#flagged-files))" : "",
            !npartial            ? ""
            : o->include_partial ? " (partial runs averaged in with `--include-partial`: see "
                                   "[Partial runs](#partial-runs))"
                                 : " (partial runs listed apart, not averaged: see [Partial "
                                   "runs](#partial-runs))");

    fprintf(f, "## How runs are grouped\n\n");
    fprintf(f,
            "- A **group** (G1, G2, ...) holds the runs whose `/config` attributes are all equal "
            "except `seed` and `output`");
    for (int k = 0; k < an->nignore; k++)
        fprintf(f, ", `%s`", an->ignore[k]);
    fprintf(f,
            "%s, and whose root attributes `ranks` and `threads_per_rank` (OpenBLAS threads per "
            "rank) are equal: runs that differ only in `seed`. "
            "Tables give **mean ± std over the runs of a group** (sample standard deviation, "
            "n-1; 0 for a single run); figures draw the mean with a band (or error bar) from "
            "the minimum to the maximum over the runs.\n",
            an->nignore ? " (the last given with `--ignore`)" : "");
    int nunknown = 0;
    for (int k = 0; k < an->nrun; k++)
        nunknown += an->run[k].threads_per_rank == ADMM_THREADS_UNKNOWN;
    if (nunknown) {
        fprintf(f, "- **Threads per rank unknown** for %d of the %d runs: their files were written "
                   "before admm-train recorded `threads_per_rank`. They are grouped only with each "
                   "other (`threads=unknown` in a label, `-` in the threads/rank columns), never "
                   "with runs that record it.\n",
                nunknown, an->nrun);
        fprintf(stderr,
                "admm-analyze: note: %d of %d runs do not record threads_per_rank (files older "
                "than the attribute): threads per rank unknown, grouped apart from the others\n",
                nunknown, an->nrun);
    }
    fprintf(f, "- **Anderson memory** M (`/config/anderson`) is part of the key: runs with other "
               "M are never pooled. A file without it (older than `--anderson`) reads as M = 0, "
               "not recorded, and groups only with such files.\n");
    fprintf(f, "- Seconds per epoch pool `/epochs/t_epoch` over every epoch (warm-up included) of "
               "every run concerned.\n");
    fprintf(f, "- **Configuration per method** (the methods table and the method figures): %s\n",
            select_rule);
    fprintf(f, "- **Floor** (the floor columns of the methods and configs tables): %s\n",
            floor_rule);
    fprintf(f, "- **Scaling families**: groups equal in every key but `ranks` (strong scaling), "
               "or but `ranks` and `n_train` with the same `n_train` per rank (weak scaling), "
               "threads per rank included (a family never mixes them); speed-up and efficiency are against the family's fewest ranks, communication is "
               "the `comm_*` phases' share of `t_epoch`.\n");
    fprintf(f, "- **Sensitivity families**: groups equal in every key but one of `beta`, `gamma`, "
               "`warmup`, `init`.\n");
    fprintf(f, "- **Partial runs** (stopped by a signal, or a `.h5.part` file of a run that "
               "died) %s. Every table's last column, partial, says `yes` (`yes †`) for a partial "
               "run or a group holding one.\n\n",
            o->include_partial ? "are averaged into the groups of complete runs "
                                 "(`--include-partial`)"
                               : "are in no group: never averaged with complete runs (give "
                                 "`--include-partial` to average them in)");
    admm_table_md(groups, f);
    fprintf(f, "\nFiles per group: [groups.md](tables/groups.md).\n\n");

    fprintf(f, "## Configuration per method, chosen by validation accuracy\n\n"
               "Chosen by mean validation accuracy; test accuracy is only reported.\n\n");
    admm_table_md(methods, f);
    char *notes = floor_notes(c);
    if (notes[0]) fprintf(f, "\n%s", notes);
    free(notes);
    fprintf(f, "\n## Seconds per epoch per method\n\n");
    admm_table_md(epoch_time, f);

    fprintf(f, "\n## Iterations and seconds to reach a level\n\n%s\n\n", reach_rule);
    admm_table_md(reach, f);

    fprintf(f, "\n## Partial runs\n\n");
    if (npartial == 0) {
        fprintf(f, "None: no run stopped on a signal, and no `.h5.part` file of a run that died "
                   "was found.\n");
    } else {
        fprintf(f, "These partial runs' epochs are read (the per-epoch table epochs.csv holds "
                   "them); %s\n\n",
                o->include_partial
                    ? "with `--include-partial` they are averaged into the groups of complete "
                      "runs, and every table marks them and their groups partial."
                    : "they are in no group, mean, floor, family or figure. Give "
                      "`--include-partial` to average them in.");
        admm_table_md(partial, f);
    }

    fprintf(f, "\n## Tables\n\n");
    link_table(f, "runs", "Final accuracy and configuration per run");
    link_table(f, "configs", "Final accuracy and floor per configuration (group)");
    link_table(f, "methods", "Configuration per method, chosen by validation accuracy");
    link_table(f, "groups", "Groups and their files");
    link_table(f, "epoch_time", "Seconds per epoch per method");
    link_table(f, "reach", "Iterations and seconds to reach objective and accuracy levels");
    link_table(f, "scaling",
               "Scaling: seconds per epoch, speed-up, efficiency, communication, memory");
    link_table(f, "phases", "Time per phase of the training step per rank count, load imbalance");
    for (int k = 0; k < ADMM_NSENS; k++) {
        char stem[64], what[96];
        snprintf(stem, sizeof stem, "sensitivity_%s", admm_sensitivity_params[k]);
        snprintf(what, sizeof what, "Sensitivity to %s (%d famil%s)", admm_sensitivity_params[k],
                 nsens[k], nsens[k] == 1 ? "y" : "ies");
        link_table(f, stem, what);
    }
    link_table(f, "partial", "Partial runs");
    link_table(f, "flagged", "Flagged files");
    fprintf(f, "- One row per run and epoch, every `/config` option and root attribute as a "
               "column, partial runs marked: [epochs.csv](tables/epochs.csv)\n");
    if (nscal == 0)
        fprintf(f, "\nNo scaling family: no two groups differ only in `ranks` (or in `ranks` and "
                   "`n_train` at the same `n_train` per rank), so scaling.md and phases.md are "
                   "empty.\n");
    else if (nphase == 0)
        fprintf(f, "\nphases.md is empty: the scaling families' files hold no time in any phase "
                   "of the training step.\n");
    for (int k = 0; k < ADMM_NSENS; k++)
        if (nsens[k] == 0)
            fprintf(f, "\nNo %s family: no two groups differ only in `%s`.\n",
                    admm_sensitivity_params[k], admm_sensitivity_params[k]);

    fprintf(f, "\n## Figures\n\n");
    if (!o->plots) fprintf(f, "Not made (`--no-plots`).\n");
    for (int k = 0; k < c->nfig; k++)
        if (c->fig[k].fam < 0)
            fprintf(f, "- [%s.png](figures/%s.png): %s\n", c->fig[k].stem, c->fig[k].stem,
                    c->fig[k].caption);
    write_family_figures(c, f);
    if (c->nfail) {
        fprintf(f, "\nFigures that could not be made:\n\n");
        for (int k = 0; k < c->nfail; k++)
            fprintf(f, "- %s\n", c->fail[k]);
    }
    fprintf(f, "\nEach figure's gnuplot script and data are in `figures/src/`.\n");

    fprintf(f, "\n## Flagged files\n\n");
    if (o->nflag == 0) {
        fprintf(f, "None: every results file found is a complete results file or a partial "
                   "run.\n");
    } else {
        fprintf(f, "These files are neither complete results files nor readable partial runs; "
                   "none of their values is in any table or figure.\n\n");
        admm_table_md(flagged, f);
    }
    write_thesis_note(f);
    CHECK(fclose(f) == 0, "cannot write %s: %s", path, strerror(errno));
    free(path);
}

/* ---------------------------------------------------------------------------------------------- */

/* 1 when group a is to be chosen over group b (same method): the higher mean final validation
 * accuracy, then more runs; a group without validation accuracy (--validation 0) never beats one
 * with it. The test accuracy plays no part: it only reports the choice. */
static int chosen_over(const admm_Group *a, const admm_Group *b)
{
    double va = a->val_pct.mean, vb = b->val_pct.mean;
    if (isnan(va) != isnan(vb)) return isnan(vb);
    if (!isnan(va) && va != vb) return va > vb;
    return a->nrun > b->nrun;
}

/* Each method's group by select_rule; of equal groups the first in group order (method, ranks,
 * path) stays, so the same files always give the same choice. */
static void find_best(Ctx *c)
{
    const admm_Analysis *an = c->an;
    c->best = admm_xmalloc((size_t)(an->ngroup ? an->ngroup : 1) * sizeof *c->best);
    c->nmethod = 0;
    /* groups are sorted by method: each method is one contiguous run of groups */
    for (int g = 0; g < an->ngroup; g++) {
        const char *m = admm_group_rep(an, g)->method;
        if (c->nmethod == 0 || strcmp(admm_group_rep(an, c->best[c->nmethod - 1])->method, m)) {
            c->best[c->nmethod++] = g;
            continue;
        }
        if (chosen_over(&an->group[g], &an->group[c->best[c->nmethod - 1]]))
            c->best[c->nmethod - 1] = g;
    }
    /* the same rule within each method and Anderson memory M (not recorded counts apart from a
     * recorded 0: they are other groups, see admm_group_plain) */
    c->best_accel = admm_xmalloc((size_t)(an->ngroup ? an->ngroup : 1) * sizeof *c->best_accel);
    c->naccel = 0;
    for (int g = 0; g < an->ngroup; g++) {
        const admm_Run *r = admm_group_rep(an, g);
        int k = 0;
        for (; k < c->naccel; k++) {
            const admm_Run *o = admm_group_rep(an, c->best_accel[k]);
            if (!strcmp(o->method, r->method) && o->anderson == r->anderson &&
                o->anderson_recorded == r->anderson_recorded)
                break;
        }
        if (k == c->naccel)
            c->best_accel[c->naccel++] = g;
        else if (chosen_over(&an->group[g], &an->group[c->best_accel[k]]))
            c->best_accel[k] = g;
    }
}

int admm_report_write(const admm_Analysis *an, const admm_ReportOptions *opt)
{
    Ctx c = {.an = an, .opt = opt};
    c.tables = admm_xasprintf("%s/tables", opt->outdir);
    c.figures = admm_xasprintf("%s/figures", opt->outdir);
    CHECK(admm_mkdirs(c.tables) == 0, "cannot create %s: %s", c.tables, strerror(errno));
    CHECK(admm_mkdirs(c.figures) == 0, "cannot create %s: %s", c.figures, strerror(errno));
    find_best(&c);
    c.floor = admm_xcalloc((size_t)(an->ngroup ? an->ngroup : 1), sizeof *c.floor);
    for (int g = 0; g < an->ngroup; g++)
        admm_group_floor(an, g, &c.floor[g]);

    table_runs(&c);
    table_configs(&c);
    admm_Table *methods = table_methods(&c);
    admm_Table *groups = table_groups(&c);
    admm_Table *epoch_time = table_epoch_time(&c);
    int nscal = table_scaling(&c), nsens[ADMM_NSENS];
    for (int k = 0; k < ADMM_NSENS; k++)
        nsens[k] = table_sensitivity(&c, admm_sensitivity_params[k]);
    int nphase = table_phases(&c);
    admm_Table *partial = table_partial(&c);
    admm_Table *flagged = table_flagged(&c);
    admm_Table *reach = table_reach(&c);
    char *tidy = admm_xasprintf("%s/epochs.csv", c.tables);
    CHECK(admm_tidy_write(tidy, an, opt->nall, opt->all) == 0, "cannot write %s: %s", tidy,
          strerror(errno));
    free(tidy);

    if (opt->plots && an->ngroup > 0) {
        figures_methods(&c);
        figures_scaling(&c);
        figures_phases(&c);
        figures_families(&c);
    }
    write_report(&c, methods, groups, epoch_time, reach, partial, flagged, nscal, nphase, nsens);

    int nfail = c.nfail;
    admm_table_free(methods);
    admm_table_free(groups);
    admm_table_free(epoch_time);
    admm_table_free(flagged);
    admm_table_free(partial);
    admm_table_free(reach);
    for (int k = 0; k < c.nfig; k++) {
        free(c.fig[k].stem);
        free(c.fig[k].caption);
    }
    for (int k = 0; k < c.nfail; k++)
        free(c.fail[k]);
    free(c.fig);
    free(c.fail);
    free(c.best);
    free(c.best_accel);
    free(c.floor);
    free(c.tables);
    free(c.figures);
    return nfail;
}
