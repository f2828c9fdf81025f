/* groups: the --layer-groups tables and figures; see groups.h. A run's G and D are its root
 * attributes layer_groups and data_shards (a file without them: G = 1, D = ranks); rank r is
 * group r % G (io/SCHEMA.md), so a group's memory is the mean of its ranks' rss_mb. */
#define _XOPEN_SOURCE 700

#include "groups.h"

#include "plot.h"
#include "table.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One resnet-admm run as the tables need it. */
typedef struct {
    const admm_Run *run;
    long long K, width, splitting, G, D;
    char schedule[32];
    double t_iter;   /* median of t_epoch over the epochs: robust to the first epoch's set-up */
    double rss_max;  /* the last epoch's peak RSS, max over ranks, MiB */
    double rss_group[64]; /* G entries: mean over the group's ranks */
} Row;

static long long cfg_int(const admm_Run *r, const char *name, long long def)
{
    const admm_Attr *a = admm_run_cfg(r, name);
    return a && a->kind == ADMM_ATTR_INT && a->n > 0 ? a->i[0] : def;
}

static const admm_Attr *root_attr(const admm_Run *r, const char *name)
{
    for (int k = 0; k < r->nroot; k++)
        if (!strcmp(r->root[k].name, name)) return &r->root[k];
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    if (n <= 0) return NAN;
    double *c = admm_xmalloc((size_t)n * sizeof *c);
    memcpy(c, v, (size_t)n * sizeof *c);
    qsort(c, (size_t)n, sizeof *c, cmp_double);
    double m = n % 2 ? c[n / 2] : 0.5 * (c[n / 2 - 1] + c[n / 2]);
    free(c);
    return m;
}

static int cmp_row(const void *a, const void *b)
{
    const Row *x = a, *y = b;
    if (x->K != y->K) return x->K < y->K ? -1 : 1;
    if (x->width != y->width) return x->width < y->width ? -1 : 1;
    if (x->run->n_train != y->run->n_train) return x->run->n_train < y->run->n_train ? -1 : 1;
    if (x->splitting != y->splitting) return x->splitting < y->splitting ? -1 : 1;
    if (x->G != y->G) return x->G < y->G ? -1 : 1;
    if (x->run->ranks != y->run->ranks) return x->run->ranks < y->run->ranks ? -1 : 1;
    return strcmp(x->schedule, y->schedule);
}

/* Same network and data: K, width, samples, splitting. */
static int same_problem(const Row *a, const Row *b)
{
    return a->K == b->K && a->width == b->width && a->run->n_train == b->run->n_train && a->splitting == b->splitting;
}

/* The serial run of the same problem: G = 1 on one rank (the first one found), or NULL. */
static const Row *serial_of(const Row *rows, int n, const Row *r)
{
    for (int k = 0; k < n; k++)
        if (same_problem(&rows[k], r) && rows[k].G == 1 && rows[k].run->ranks == 1) return &rows[k];
    return NULL;
}

/* One series per K of rows with D = 1 (the groups alone), y against G. */
static int plot_by_k(const char *figures, const char *stem, const char *title, const char *ylabel, const Row *rows,
                     int n, int memory)
{
    admm_Series s[16];
    char label[16][48];
    long long Ks[16];
    double *x = admm_xcalloc((size_t)n, sizeof *x), *y = admm_xcalloc((size_t)n, sizeof *y);
    int ns = 0, used = 0;
    for (int k = 0; k < n && ns < 16; k++) {
        if (rows[k].D != 1) continue;
        int seen = 0;
        for (int j = 0; j < ns; j++) seen |= Ks[j] == rows[k].K;
        if (seen) continue;
        long long K = rows[k].K;
        int first = used;
        for (int j = 0; j < n; j++)
            if (rows[j].D == 1 && rows[j].K == K && same_problem(&rows[j], &rows[k])) {
                x[used] = (double)rows[j].G;
                y[used++] = memory ? rows[j].rss_max : rows[j].t_iter;
            }
        snprintf(label[ns], sizeof label[ns], "K = %lld", K);
        s[ns] = (admm_Series){label[ns], used - first, x + first, y + first, NULL, NULL, 0};
        Ks[ns++] = K;
    }
    int fail = 0;
    if (ns > 0) {
        admm_PlotSpec spec = {title, "layer groups G (D = 1: G ranks)", ylabel, ADMM_PLOT_ERRORBARS, NULL, 1, 2, 0};
        char why[512];
        if (admm_plot(figures, stem, &spec, ns, s, why, sizeof why) != 0) {
            fprintf(stderr, "admm-analyze: figure %s: %s\n", stem, why);
            fail = 1;
        }
    }
    free(x);
    free(y);
    return fail;
}

int admm_groups_write(const char *outdir, const admm_Run *run, int nrun, int plots)
{
    Row *rows = admm_xcalloc((size_t)(nrun ? nrun : 1), sizeof *rows);
    int n = 0;
    for (int k = 0; k < nrun; k++) {
        const admm_Run *r = &run[k];
        if (!r->method || strcmp(r->method, "resnet-admm") != 0 || r->E < 1) continue;
        Row *w = &rows[n++];
        w->run = r;
        w->K = cfg_int(r, "blocks", 0);
        w->width = cfg_int(r, "width", 0);
        w->splitting = cfg_int(r, "splitting", 0);
        const admm_Attr *g = root_attr(r, "layer_groups"), *d = root_attr(r, "data_shards");
        w->G = g && g->kind == ADMM_ATTR_INT ? g->i[0] : 1;
        w->D = d && d->kind == ADMM_ATTR_INT ? d->i[0] : r->ranks;
        const admm_Attr *sch = admm_run_cfg(r, "group_schedule");
        snprintf(w->schedule, sizeof w->schedule, "%s", w->G > 1 && sch && sch->s ? sch->s : "-");
        w->t_iter = median(r->t_epoch, r->E);
        const double *last = r->rss_mb + (size_t)(r->E - 1) * r->R;
        w->rss_max = 0;
        for (int i = 0; i < r->R; i++) w->rss_max = fmax(w->rss_max, last[i]);
        for (long long q = 0; q < w->G && q < 64; q++) {
            double sum = 0;
            int cnt = 0;
            for (int i = (int)q; i < r->R; i += (int)w->G) sum += last[i], cnt++;
            w->rss_group[q] = cnt ? sum / cnt : NAN;
        }
    }
    if (n == 0) {
        free(rows);
        return 0;
    }
    qsort(rows, (size_t)n, sizeof *rows, cmp_row);
    char *tables = admm_xasprintf("%s/tables", outdir), *figures = admm_xasprintf("%s/figures", outdir);
    CHECK(admm_mkdirs(tables) == 0 && admm_mkdirs(figures) == 0, "cannot create %s: %s", tables, strerror(errno));

    admm_Table *t = admm_table_new();
    const char *cols[][2] = {{"blocks", "K"}, {"width", "n"}, {"n_train", "samples"}, {"splitting", "splitting"},
                             {"layer_groups", "G"}, {"data_shards", "D"}, {"ranks", "ranks"},
                             {"schedule", "schedule"}, {"s_per_iter", "s / iteration (median)"},
                             {"speedup", "speed-up vs G = 1 on 1 rank"}, {"file", "file"}};
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) admm_table_col(t, cols[c][0], cols[c][1]);
    for (int k = 0; k < n; k++) {
        const Row *w = &rows[k];
        const Row *base = serial_of(rows, n, w);
        admm_table_row(t);
        admm_table_int(t, w->K);
        admm_table_int(t, w->width);
        admm_table_int(t, w->run->n_train);
        admm_table_int(t, w->splitting);
        admm_table_int(t, w->G);
        admm_table_int(t, w->D);
        admm_table_int(t, w->run->ranks);
        admm_table_str(t, w->schedule);
        admm_table_real(t, w->t_iter, "%.4f");
        admm_table_real(t, base ? base->t_iter / w->t_iter : NAN, "%.2f");
        admm_table_str(t, w->run->path);
    }
    CHECK(admm_table_write(t, tables, "layer-groups-time", "resnet-admm --layer-groups: seconds per iteration",
                           "Median over the iterations of t_epoch (the training step, max over ranks). Speed-up: "
                           "the serial run's (G = 1, 1 rank, same K, width, samples, splitting) over this one.") == 0,
          "cannot write %s/layer-groups-time: %s", tables, strerror(errno));
    admm_table_free(t);

    t = admm_table_new();
    const char *mcols[][2] = {{"blocks", "K"}, {"width", "n"}, {"n_train", "samples"}, {"layer_groups", "G"},
                              {"data_shards", "D"}, {"ranks", "ranks"}, {"rss_max_mb", "peak RSS per rank, max (MiB)"},
                              {"rss_ratio", "vs G = 1 on 1 rank"}, {"rss_groups_mb", "each group's (mean of its ranks)"}};
    for (size_t c = 0; c < sizeof mcols / sizeof mcols[0]; c++) admm_table_col(t, mcols[c][0], mcols[c][1]);
    for (int k = 0; k < n; k++) {
        const Row *w = &rows[k];
        const Row *base = serial_of(rows, n, w);
        char groups[1024] = "";
        size_t len = 0;
        for (long long q = 0; q < w->G && q < 64 && len + 16 < sizeof groups; q++)
            len += (size_t)snprintf(groups + len, sizeof groups - len, "%s%.1f", q ? " " : "", w->rss_group[q]);
        admm_table_row(t);
        admm_table_int(t, w->K);
        admm_table_int(t, w->width);
        admm_table_int(t, w->run->n_train);
        admm_table_int(t, w->G);
        admm_table_int(t, w->D);
        admm_table_int(t, w->run->ranks);
        admm_table_real(t, w->rss_max, "%.1f");
        admm_table_real(t, base ? w->rss_max / base->rss_max : NAN, "%.2f");
        admm_table_str(t, groups);
    }
    CHECK(admm_table_write(t, tables, "layer-groups-memory", "resnet-admm --layer-groups: memory per rank",
                           "Peak resident set size of the last epoch (/epochs/rss_mb): the largest over the ranks, and "
                           "each group's mean (rank r is group r % G). The process's own floor (MPI, HDF5, BLAS "
                           "buffers) is in every figure.") == 0,
          "cannot write %s/layer-groups-memory: %s", tables, strerror(errno));
    admm_table_free(t);

    int fail = 0;
    if (plots) {
        fail += plot_by_k(figures, "layer-groups-time", "resnet-admm: seconds per iteration against G", "s / iteration",
                          rows, n, 0);
        fail += plot_by_k(figures, "layer-groups-memory", "resnet-admm: peak memory per rank against G", "MiB", rows, n, 1);
    }
    printf("admm-analyze: %d resnet-admm runs: wrote %s/layer-groups-{time,memory}.md\n", n, tables);
    free(tables);
    free(figures);
    free(rows);
    return fail;
}
