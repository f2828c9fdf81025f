/* tidy: see tidy.h. Columns, in order:
 *   file, group (GN; empty for a partial run left out of the groups), partial (yes/no);
 *   every root attribute under its own name (union over the runs, sorted by name; only what the
 *     file holds: a .h5.part file of a run that died has no epochs_run, final_*, stop_reason);
 *   config_KEY for every /config attribute (union over the runs, sorted by name);
 *   the per-epoch values: epoch, warmup, loss, objective, residual_z, residual_a, multiplier,
 *     train_acc, val_acc, test_acc, t_epoch, t_eval, t_wall (the file's units: accuracies in
 *     [0, 1], seconds), rss_mb_max (max over ranks), anderson_accepted, anderson_residual,
 *     anderson_coef_norm (--anderson M: 1/0 whether the safeguard kept the accelerated point,
 *     the fixed-point residual |g(x) - x|, |gamma|; NaN, so empty, without acceleration, at an
 *     epoch that tried nothing, and in a file older than the option);
 *   phase_avg_NAME and phase_max_NAME for every phase name of any run (union in order of first
 *     appearance; "unused" left out): seconds, mean over ranks and slowest rank.
 * A missing value (an attribute a run does not have, NaN: a value a method does not compute) is an
 * empty field, which pandas and R read as NaN/NA. Reals are written with 15 significant digits, or
 * 17 where 15 would not read back to the same double. */
#define _XOPEN_SOURCE 700 /* POSIX 2008 with XSI: realpath, strnlen, strtok_r, lstat */

#include "tidy.h"

#include "table.h"

#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int n, cap;
    const char **name;
} Names;

static void names_add(Names *s, const char *name)
{
    for (int k = 0; k < s->n; k++)
        if (!strcmp(s->name[k], name)) return;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 32;
        s->name = admm_xrealloc(s->name, (size_t)s->cap * sizeof *s->name);
    }
    s->name[s->n++] = name;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* v with 15 significant digits, or 17 where 15 would not read back to the same double. */
static void shortest(char *buf, size_t len, double v)
{
    snprintf(buf, len, "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, len, "%.17g", v);
}

static void real(FILE *f, double v)
{
    char buf[32];
    fputc(',', f);
    if (isfinite(v)) {
        shortest(buf, sizeof buf, v);
        fputs(buf, f);
    } else if (isinf(v)) {
        fputs(v > 0 ? "inf" : "-inf", f);
    }
    /* NaN: empty */
}

/* An attribute's value; arrays joined with ','. Empty when absent. */
static void attr_field(FILE *f, const admm_Attr *a)
{
    if (!a) {
        fputc(',', f);
        return;
    }
    if (a->kind == ADMM_ATTR_STR) {
        admm_csv_field(f, a->s, 0);
        return;
    }
    if (a->n == 1 && a->kind == ADMM_ATTR_REAL) {
        real(f, a->r[0]);
        return;
    }
    size_t cap = (size_t)a->n * 32 + 1, used = 0;
    char *buf = admm_xmalloc(cap);
    buf[0] = '\0';
    for (int k = 0; k < a->n; k++) {
        char v[32];
        if (a->kind == ADMM_ATTR_INT)
            snprintf(v, sizeof v, "%lld", a->i[k]);
        else
            shortest(v, sizeof v, a->r[k]);
        int m = snprintf(buf + used, cap - used, "%s%s", k ? "," : "", v);
        if (m < 0 || (size_t)m >= cap - used) break;
        used += (size_t)m;
    }
    admm_csv_field(f, buf, 0);
    free(buf);
}

static const admm_Attr *find(const admm_Attr *list, int n, const char *name)
{
    for (int k = 0; k < n; k++)
        if (!strcmp(list[k].name, name)) return &list[k];
    return NULL;
}

int admm_tidy_write(const char *path, const admm_Analysis *an, int nall, const admm_Run *all)
{
    Names root = {0, 0, NULL}, cfg = {0, 0, NULL}, phase = {0, 0, NULL};
    for (int k = 0; k < nall; k++) {
        for (int j = 0; j < all[k].nroot; j++)
            names_add(&root, all[k].root[j].name);
        for (int j = 0; j < all[k].ncfg; j++)
            names_add(&cfg, all[k].cfg[j].name);
        for (int p = 0; p < all[k].P; p++)
            if (strcmp(all[k].phase_names[p], "unused")) names_add(&phase, all[k].phase_names[p]);
    }
    qsort(root.name, (size_t)root.n, sizeof *root.name, cmp_name);
    qsort(cfg.name, (size_t)cfg.n, sizeof *cfg.name, cmp_name);
    /* group id of each analysed run (an->run == all; runs set apart have none) */
    int *gid = admm_xcalloc((size_t)(nall ? nall : 1), sizeof *gid);
    for (int g = 0; g < an->ngroup; g++)
        for (int j = 0; j < an->group[g].nrun; j++)
            gid[an->group[g].run[j]] = an->group[g].id;

    FILE *f = fopen(path, "w");
    int rc = -1;
    if (!f) goto done;
    static const char *const per_epoch[] = {
        "epoch",     "warmup",  "loss",     "objective", "residual_z", "residual_a", "multiplier",
        "train_acc", "val_acc", "test_acc", "t_epoch",   "t_eval",     "t_wall",     "rss_mb_max",
        "anderson_accepted", "anderson_residual", "anderson_coef_norm"};
    enum { NPER = sizeof per_epoch / sizeof per_epoch[0] };
    fputs("file,group,partial", f);
    for (int k = 0; k < root.n; k++)
        admm_csv_field(f, root.name[k], 0);
    for (int k = 0; k < cfg.n; k++) {
        char *h = admm_xasprintf("config_%s", cfg.name[k]);
        admm_csv_field(f, h, 0);
        free(h);
    }
    for (int k = 0; k < NPER; k++)
        admm_csv_field(f, per_epoch[k], 0);
    for (int k = 0; k < phase.n; k++)
        for (int which = 0; which < 2; which++) {
            char *h = admm_xasprintf("phase_%s_%s", which ? "max" : "avg", phase.name[k]);
            admm_csv_field(f, h, 0);
            free(h);
        }
    fputc('\n', f);
    for (int k = 0; k < nall; k++) {
        const admm_Run *r = &all[k];
        char group[32] = "";
        if (gid[k]) snprintf(group, sizeof group, "G%d", gid[k]);
        for (int e = 0; e < r->E; e++) {
            /* the first field without a leading comma: field() writes one, so print it by hand */
            if (strpbrk(r->path, ",\"\n\r")) {
                fputc('"', f);
                for (const char *p = r->path; *p; p++) {
                    if (*p == '"') fputc('"', f);
                    fputc(*p, f);
                }
                fputc('"', f);
            } else {
                fputs(r->path, f);
            }
            admm_csv_field(f, group, 0);
            admm_csv_field(f, r->partial ? "yes" : "no", 0);
            for (int j = 0; j < root.n; j++)
                attr_field(f, find(r->root, r->nroot, root.name[j]));
            for (int j = 0; j < cfg.n; j++)
                attr_field(f, find(r->cfg, r->ncfg, cfg.name[j]));
            fprintf(f, ",%lld,%lld", r->epoch[e], r->warmup[e]);
            const double v[] = {r->loss[e],     r->objective[e], r->residual_z[e],
                                r->residual_a[e], r->multiplier[e], r->train_acc[e],
                                r->val_acc[e],  r->test_acc[e],  r->t_epoch[e],
                                r->t_eval[e],   r->t_wall[e],    admm_field_rss_max(r, e),
                                r->aa_accepted[e], r->aa_residual[e], r->aa_coef_norm[e]};
            for (size_t j = 0; j < sizeof v / sizeof v[0]; j++)
                real(f, v[j]);
            for (int q = 0; q < phase.n; q++) {
                int p = 0;
                while (p < r->P && strcmp(r->phase_names[p], phase.name[q]))
                    p++;
                real(f, p < r->P ? r->phase_avg[(size_t)e * r->P + p] : NAN);
                real(f, p < r->P ? r->phase_max[(size_t)e * r->P + p] : NAN);
            }
            fputc('\n', f);
        }
    }
    rc = fclose(f) == 0 ? 0 : -1;
done:
    free(root.name);
    free(cfg.name);
    free(phase.name);
    free(gid);
    return rc;
}
