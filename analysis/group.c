/* group: see group.h. Grouping compares the configurations of two runs key by key: both /config
 * attribute lists are sorted by name, so one merge walk decides "same except these keys". */
#define _XOPEN_SOURCE 700 /* POSIX 2008 with XSI: realpath, strnlen, strtok_r, lstat */

#include "group.h"

#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const admm_sensitivity_params[ADMM_NSENS] = {"beta", "gamma", "warmup", "init"};

void admm_stat(admm_Stat *s, const double *x, int n)
{
    double sum = 0.0;
    s->n = 0;
    s->min = INFINITY;
    s->max = -INFINITY;
    for (int k = 0; k < n; k++) {
        if (isnan(x[k])) continue;
        s->n++;
        sum += x[k];
        if (x[k] < s->min) s->min = x[k];
        if (x[k] > s->max) s->max = x[k];
    }
    if (s->n == 0) {
        s->mean = s->std = s->min = s->max = NAN;
        return;
    }
    s->mean = sum / s->n;
    /* two passes: the one-pass formula loses digits when the spread is small against the mean */
    double ss = 0.0;
    for (int k = 0; k < n; k++)
        if (!isnan(x[k])) ss += (x[k] - s->mean) * (x[k] - s->mean);
    s->std = s->n > 1 ? sqrt(ss / (s->n - 1)) : 0.0;
}

/* ---------------------------------------------------------------------------------------------- */
/* configuration keys */

static int in_list(const char *name, const char *const *list, int n)
{
    for (int k = 0; k < n; k++)
        if (strcmp(name, list[k]) == 0) return 1;
    return 0;
}

/* Keys left out of every grouping key: seed (runs that differ only in it are repeats), output
 * and force (where the file went, whether it replaced one), quiet (console only), data_dir
 * (where the same data set lives on each machine), and the user's --ignore keys. */
static int always_skipped(const admm_Analysis *an, const char *name)
{
    return strcmp(name, "seed") == 0 || strcmp(name, "output") == 0 || strcmp(name, "quiet") == 0 ||
           strcmp(name, "data_dir") == 0 || strcmp(name, "force") == 0 ||
           in_list(name, an->ignore, an->nignore);
}

/* 1 when a and b hold the same value, NaN equal to NaN: admm-train stores a real "auto" option that
 * does not apply as NaN (pinv_rcond with --weight-solve ridge), and admm_attr_equal's == would make
 * such a run differ from itself. */
static int same_attr(const admm_Attr *a, const admm_Attr *b)
{
    if (a && b && a->kind == ADMM_ATTR_REAL && b->kind == ADMM_ATTR_REAL && a->n == b->n) {
        for (int k = 0; k < a->n; k++)
            if (a->r[k] != b->r[k] && !(isnan(a->r[k]) && isnan(b->r[k]))) return 0;
        return 1;
    }
    return admm_attr_equal(a, b);
}

/* 1 when runs a and b have the same configuration except seed, output, --ignore keys and the keys
 * in except; "ranks" in except also leaves out the root attribute ranks. The root attribute
 * threads_per_rank is always compared (unknown, in files older than it, equals only unknown): runs
 * with other OpenBLAS threads per rank are other measurements of time and never one group or one
 * family. */
static int same_config(const admm_Analysis *an, const admm_Run *a, const admm_Run *b,
                       const char *const *except, int nexcept)
{
    int i = 0, j = 0;
    while (i < a->ncfg || j < b->ncfg) {
        int c = i == a->ncfg ? 1 : j == b->ncfg ? -1 : strcmp(a->cfg[i].name, b->cfg[j].name);
        const char *name = c <= 0 ? a->cfg[i].name : b->cfg[j].name;
        int skip = always_skipped(an, name) || in_list(name, except, nexcept);
        if (c == 0 && !skip && !same_attr(&a->cfg[i], &b->cfg[j])) return 0;
        if (c != 0 && !skip) return 0; /* present in one run only */
        if (c <= 0) i++;
        if (c >= 0) j++;
    }
    if (a->threads_per_rank != b->threads_per_rank) return 0;
    return in_list("ranks", except, nexcept) || a->ranks == b->ranks;
}

const admm_Run *admm_group_rep(const admm_Analysis *an, int g)
{
    return &an->run[an->group[g].run[0]];
}

void admm_group_param(const admm_Analysis *an, int g, const char *param, char *buf, size_t len)
{
    const admm_Run *r = admm_group_rep(an, g);
    if (strcmp(param, "ranks") == 0)
        snprintf(buf, len, "%lld", r->ranks);
    else if (strcmp(param, "threads_per_rank") == 0)
        admm_threads_format(r->threads_per_rank, buf, len);
    else
        admm_attr_format(admm_run_cfg(r, param), buf, len);
}

void admm_group_seeds(const admm_Analysis *an, int g, char *buf, size_t len)
{
    const admm_Group *gr = &an->group[g];
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < gr->nrun && used + 1 < len; k++) {
        char v[64];
        admm_attr_format(admm_run_cfg(&an->run[gr->run[k]], "seed"), v, sizeof v);
        int m = snprintf(buf + used, len - used, "%s%s", k ? "," : "", v);
        if (m < 0) break;
        used += (size_t)m;
    }
}

/* ---------------------------------------------------------------------------------------------- */
/* groups */

static const admm_Analysis *sort_an; /* qsort has no context argument in C11 */

static int cmp_group(const void *pa, const void *pb)
{
    const admm_Group *a = pa, *b = pb;
    const admm_Run *ra = &sort_an->run[a->run[0]], *rb = &sort_an->run[b->run[0]];
    int c = strcmp(ra->method, rb->method);
    if (c) return c;
    if (ra->ranks != rb->ranks) return ra->ranks < rb->ranks ? -1 : 1;
    if (ra->threads_per_rank != rb->threads_per_rank) /* unknown (-1) first */
        return ra->threads_per_rank < rb->threads_per_rank ? -1 : 1;
    return a->run[0] - b->run[0];
}

/* Label of every group: its method plus each key whose value differs between groups of that
 * method, so that a legend tells the curves apart with no more words than needed (keys that only
 * follow the method, such as loss, stay out). */
static void label_groups(admm_Analysis *an)
{
    int nname = 0;
    const char **name = NULL;
    for (int g = 0; g < an->ngroup; g++) {
        const admm_Run *r = admm_group_rep(an, g);
        for (int k = 0; k < r->ncfg; k++) {
            const char *n = r->cfg[k].name;
            /* layer_sizes repeats layers; method starts every label anyway */
            if (always_skipped(an, n) || strcmp(n, "layer_sizes") == 0 ||
                strcmp(n, "method") == 0 || in_list(n, name, nname))
                continue;
            name = admm_xrealloc(name, (size_t)(nname + 1) * sizeof *name);
            name[nname++] = n;
        }
    }
    for (int g = 0; g < an->ngroup; g++) {
        const admm_Run *r = admm_group_rep(an, g);
        char *label = admm_xstrdup(r->method);
        for (int k = 0; k < nname; k++) {
            const admm_Attr *mine = admm_run_cfg(r, name[k]);
            int varies = 0;
            for (int h = 0; h < an->ngroup && !varies; h++) {
                const admm_Run *o = admm_group_rep(an, h);
                varies = !strcmp(o->method, r->method) &&
                         !same_attr(mine, admm_run_cfg(o, name[k]));
            }
            if (!varies) continue;
            char v[256];
            admm_attr_format(mine, v, sizeof v);
            char *next = admm_xasprintf("%s %s=%s", label, name[k], v);
            free(label);
            label = next;
        }
        int ranks_vary = 0, threads_vary = 0; /* ranks and threads last: where the run ran */
        for (int h = 0; h < an->ngroup; h++) {
            const admm_Run *o = admm_group_rep(an, h);
            ranks_vary |= !strcmp(o->method, r->method) && o->ranks != r->ranks;
            threads_vary |=
                !strcmp(o->method, r->method) && o->threads_per_rank != r->threads_per_rank;
        }
        if (ranks_vary) {
            char *next = admm_xasprintf("%s ranks=%lld", label, r->ranks);
            free(label);
            label = next;
        }
        if (threads_vary) {
            char v[32];
            admm_threads_format(r->threads_per_rank, v, sizeof v);
            char *next = admm_xasprintf("%s threads=%s", label, v);
            free(label);
            label = next;
        }
        an->group[g].label = label;
    }
    free(name);
}

static void group_stats(admm_Analysis *an, admm_Group *gr)
{
    double *val = admm_xmalloc((size_t)gr->nrun * sizeof *val);
    double *acc = admm_xmalloc((size_t)gr->nrun * sizeof *acc);
    double *loss = admm_xmalloc((size_t)gr->nrun * sizeof *loss);
    double *ep = admm_xmalloc((size_t)gr->nrun * sizeof *ep);
    int nt = 0;
    for (int k = 0; k < gr->nrun; k++)
        nt += an->run[gr->run[k]].E;
    double *t = admm_xmalloc((size_t)nt * sizeof *t);
    double comm = 0.0, tsum = 0.0;
    int has_comm = 0;
    gr->peak_rss = NAN;
    nt = 0;
    for (int k = 0; k < gr->nrun; k++) {
        const admm_Run *r = &an->run[gr->run[k]];
        gr->npartial += r->partial;
        val[k] = 100.0 * r->final_val_acc;
        acc[k] = 100.0 * r->final_test_acc;
        loss[k] = r->final_loss;
        ep[k] = (double)r->epochs_run;
        for (int e = 0; e < r->E; e++) {
            t[nt++] = r->t_epoch[e];
            if (isnan(r->t_epoch[e])) continue;
            tsum += r->t_epoch[e];
            for (int p = 0; p < r->P; p++) {
                if (strncmp(r->phase_names[p], "comm_", 5) != 0) continue;
                has_comm = 1;
                double v = r->phase_avg[(size_t)e * r->P + p];
                if (!isnan(v)) comm += v; /* a phase a method never enters may be stored as NaN */
            }
            for (int q = 0; q < r->R; q++) {
                double m = r->rss_mb[(size_t)e * r->R + q];
                if (!isnan(m) && (isnan(gr->peak_rss) || m > gr->peak_rss)) gr->peak_rss = m;
            }
        }
    }
    admm_stat(&gr->val_pct, val, gr->nrun);
    admm_stat(&gr->acc_pct, acc, gr->nrun);
    admm_stat(&gr->loss, loss, gr->nrun);
    admm_stat(&gr->epochs, ep, gr->nrun);
    admm_stat(&gr->t_epoch, t, nt);
    gr->comm_share = has_comm && tsum > 0.0 ? comm / tsum : NAN;
    free(val);
    free(acc);
    free(loss);
    free(ep);
    free(t);
}

static void build_groups(admm_Analysis *an)
{
    int *owner = admm_xmalloc((size_t)an->nrun * sizeof *owner);
    for (int i = 0; i < an->nrun; i++)
        owner[i] = -1;
    an->group = admm_xcalloc((size_t)an->nrun, sizeof *an->group);
    an->ngroup = 0;
    for (int i = 0; i < an->nrun; i++) {
        if (owner[i] >= 0) continue;
        admm_Group *gr = &an->group[an->ngroup];
        gr->run = admm_xmalloc((size_t)an->nrun * sizeof *gr->run);
        for (int j = i; j < an->nrun; j++) /* run i opens its group whatever same_config says */
            if (owner[j] < 0 && (j == i || same_config(an, &an->run[i], &an->run[j], NULL, 0))) {
                owner[j] = an->ngroup;
                gr->run[gr->nrun++] = j;
            }
        an->ngroup++;
    }
    free(owner);
    sort_an = an;
    qsort(an->group, (size_t)an->ngroup, sizeof *an->group, cmp_group);
    for (int g = 0; g < an->ngroup; g++) {
        an->group[g].id = g + 1;
        group_stats(an, &an->group[g]);
    }
    label_groups(an);
}

/* ---------------------------------------------------------------------------------------------- */
/* families */

static const char *sort_param;

/* Orders groups by the value of sort_param: numbers numerically, strings by strcmp, absent first.
 */
static int cmp_by_param(const void *pa, const void *pb)
{
    const admm_Run *a = admm_group_rep(sort_an, *(const int *)pa);
    const admm_Run *b = admm_group_rep(sort_an, *(const int *)pb);
    if (strcmp(sort_param, "ranks") == 0) return (a->ranks > b->ranks) - (a->ranks < b->ranks);
    const admm_Attr *x = admm_run_cfg(a, sort_param), *y = admm_run_cfg(b, sort_param);
    if (!x || !y) return (x != NULL) - (y != NULL);
    if (x->kind == ADMM_ATTR_STR || y->kind == ADMM_ATTR_STR) {
        char u[256], v[256];
        admm_attr_format(x, u, sizeof u);
        admm_attr_format(y, v, sizeof v);
        return strcmp(u, v);
    }
    double dx = x->kind == ADMM_ATTR_INT ? (double)x->i[0] : x->r[0];
    double dy = y->kind == ADMM_ATTR_INT ? (double)y->i[0] : y->r[0];
    return (dx > dy) - (dx < dy);
}

/* Training samples a weak-scaling family keeps per rank: the --n-train option the user scaled with
 * ranks (the root n_train excludes the validation samples, which stay fixed), or the root n_train
 * when the option is absent or 0 ("all"). */
static long long train_size(const admm_Run *r)
{
    const admm_Attr *a = admm_run_cfg(r, "n_train");
    if (a && a->kind == ADMM_ATTR_INT && a->n == 1 && a->i[0] > 0) return a->i[0];
    return r->n_train;
}

/* Splits the groups into classes of "same configuration except the keys in except" (for weak
 * scaling also the same samples per rank) and keeps each class of two or more as a family. */
static void add_families(admm_Analysis *an, admm_FamilyKind kind, const char *param,
                         const char *const *except, int nexcept)
{
    int *used = admm_xcalloc((size_t)an->ngroup, sizeof *used);
    int count = 0;
    for (int g = 0; g < an->ngroup; g++) {
        if (used[g]) continue;
        int n = 0, *member = admm_xmalloc((size_t)an->ngroup * sizeof *member);
        const admm_Run *a = admm_group_rep(an, g);
        for (int h = g; h < an->ngroup; h++) {
            const admm_Run *b = admm_group_rep(an, h);
            if (used[h] || !same_config(an, a, b, except, nexcept)) continue;
            if (kind == ADMM_FAMILY_WEAK && train_size(a) * b->ranks != train_size(b) * a->ranks)
                continue;
            /* a weak family compares rank counts: two groups at the same count (say a strong
             * run of the full set and a weak run sized to it) are not one */
            int same_ranks = 0;
            for (int k = 0; k < n && kind == ADMM_FAMILY_WEAK; k++)
                same_ranks |= admm_group_rep(an, member[k])->ranks == b->ranks;
            if (same_ranks) continue;
            member[n++] = h;
        }
        if (n < 2) {
            free(member);
            continue;
        }
        for (int k = 0; k < n; k++)
            used[member[k]] = 1;
        sort_an = an;
        sort_param = param;
        qsort(member, (size_t)n, sizeof *member, cmp_by_param);
        an->fam = admm_xrealloc(an->fam, (size_t)(an->nfam + 1) * sizeof *an->fam);
        admm_Family *f = &an->fam[an->nfam++];
        memset(f, 0, sizeof *f);
        f->kind = kind;
        f->param = param;
        f->ngroup = n;
        f->group = member;
        snprintf(f->name, sizeof f->name, "%s-%d",
                 kind == ADMM_FAMILY_STRONG ? "strong"
                 : kind == ADMM_FAMILY_WEAK ? "weak"
                                            : param,
                 ++count);
    }
    free(used);
}

void admm_analysis_build(admm_Analysis *an, const admm_Run *run, int nrun,
                         const char *const *ignore, int nignore)
{
    memset(an, 0, sizeof *an);
    an->run = run;
    an->nrun = nrun;
    an->ignore = ignore;
    an->nignore = nignore;
    build_groups(an);
    static const char *const strong[] = {"ranks"}, *const weak[] = {"ranks", "n_train"};
    add_families(an, ADMM_FAMILY_STRONG, "ranks", strong, 1);
    add_families(an, ADMM_FAMILY_WEAK, "ranks", weak, 2);
    for (int k = 0; k < ADMM_NSENS; k++)
        add_families(an, ADMM_FAMILY_PARAM, admm_sensitivity_params[k], &admm_sensitivity_params[k],
                     1);
}

void admm_analysis_free(admm_Analysis *an)
{
    for (int g = 0; g < an->ngroup; g++) {
        free(an->group[g].run);
        free(an->group[g].label);
    }
    free(an->group);
    for (int f = 0; f < an->nfam; f++)
        free(an->fam[f].group);
    free(an->fam);
    memset(an, 0, sizeof *an);
}

/* ---------------------------------------------------------------------------------------------- */
/* random-features floor */

static int is_gradient_method(const char *method)
{
    return !strcmp(method, "gd") || !strcmp(method, "sgd") || !strcmp(method, "momentum") ||
           !strcmp(method, "adam");
}

static int str_cfg_is(const admm_Run *r, const char *key, const char *want)
{
    const admm_Attr *a = admm_run_cfg(r, key);
    return a && a->kind == ADMM_ATTR_STR && !strcmp(a->s, want);
}

/* Runs of group h whose seed is also the seed of some run of group g. */
static int shared_seeds(const admm_Analysis *an, int g, int h)
{
    const admm_Group *a = &an->group[g], *b = &an->group[h];
    int n = 0;
    for (int j = 0; j < b->nrun; j++) {
        const admm_Attr *s = admm_run_cfg(&an->run[b->run[j]], "seed");
        int hit = 0;
        for (int k = 0; k < a->nrun && !hit; k++)
            hit = same_attr(s, admm_run_cfg(&an->run[a->run[k]], "seed"));
        n += hit;
    }
    return n;
}

int admm_group_floor(const admm_Analysis *an, int g, admm_Floor *fl)
{
    const admm_Run *r = admm_group_rep(an, g);
    memset(fl, 0, sizeof *fl);
    fl->group = -1;
    fl->acc_pct = NAN;
    if (!strcmp(r->method, ADMM_FLOOR_METHOD)) return 1;
    /* the readout the trained network would get if only its output layer were solved */
    fl->proxy_loss = is_gradient_method(r->method);
    const admm_Attr *loss = admm_run_cfg(r, "loss");
    if (fl->proxy_loss)
        snprintf(fl->loss, sizeof fl->loss, "least-squares");
    else /* a run without /config/loss matches no floor: "-" is no loss's name */
        admm_attr_format(loss, fl->loss, sizeof fl->loss);
    snprintf(fl->biases, sizeof fl->biases, "%s", !strcmp(r->method, "admm") ? "no" : "yes");
    static const char *const same[] = {"data", "layers", "init"};
    int best_shared = -1;
    for (int h = 0; h < an->ngroup; h++) {
        const admm_Run *f = admm_group_rep(an, h);
        int match = !strcmp(f->method, ADMM_FLOOR_METHOD) && str_cfg_is(f, "loss", fl->loss) &&
                    str_cfg_is(f, "biases", fl->biases);
        for (int k = 0; k < 3 && match; k++)
            match = same_attr(admm_run_cfg(r, same[k]), admm_run_cfg(f, same[k]));
        if (!match) continue;
        int n = shared_seeds(an, g, h);
        if (n > best_shared) { /* strictly more: ties keep the first group */
            best_shared = n;
            fl->group = h;
        }
    }
    if (fl->group < 0) return 0;
    const admm_Group *fg = &an->group[fl->group];
    fl->seed_only = an->group[g].nrun == 1 && best_shared > 0;
    double *x = admm_xmalloc((size_t)fg->nrun * sizeof *x);
    const admm_Attr *seed = admm_run_cfg(r, "seed");
    for (int j = 0; j < fg->nrun; j++) {
        const admm_Run *f = &an->run[fg->run[j]];
        if (!fl->seed_only || same_attr(seed, admm_run_cfg(f, "seed")))
            x[fl->nrun++] = 100.0 * f->final_test_acc;
    }
    admm_Stat st;
    admm_stat(&st, x, fl->nrun);
    fl->acc_pct = st.mean;
    free(x);
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* per-epoch values */

double admm_field_test_acc_pct(const admm_Run *r, int e)
{
    return 100.0 * r->test_acc[e];
}
double admm_field_train_acc_pct(const admm_Run *r, int e)
{
    return 100.0 * r->train_acc[e];
}
double admm_field_val_acc_pct(const admm_Run *r, int e)
{
    return 100.0 * r->val_acc[e];
}
double admm_field_loss(const admm_Run *r, int e)
{
    return r->loss[e];
}
double admm_field_t_epoch(const admm_Run *r, int e)
{
    return r->t_epoch[e];
}
double admm_field_t_wall(const admm_Run *r, int e)
{
    return r->t_wall[e];
}
double admm_field_objective(const admm_Run *r, int e)
{
    return r->objective[e];
}
double admm_field_residual_z(const admm_Run *r, int e)
{
    return r->residual_z[e];
}
double admm_field_residual_a(const admm_Run *r, int e)
{
    return r->residual_a[e];
}
double admm_field_multiplier(const admm_Run *r, int e)
{
    return r->multiplier[e];
}

double admm_field_t_train(const admm_Run *r, int e)
{
    double t = 0.0;
    for (int k = 0; k <= e; k++)
        t += r->t_epoch[k];
    return t;
}
double admm_field_aa_residual(const admm_Run *r, int e)
{
    return r->aa_residual[e];
}

int admm_group_plain(const admm_Analysis *an, int g)
{
    const admm_Run *r = admm_group_rep(an, g);
    if (r->anderson == 0) return g;
    /* epochs and patience decide only where a run stops, never its iterates */
    static const char *const except[] = {"anderson", "epochs", "patience"};
    int found = -1;
    for (int h = 0; h < an->ngroup; h++) {
        const admm_Run *o = admm_group_rep(an, h);
        if (o->anderson != 0 || !same_config(an, r, o, except, 3)) continue;
        if (o->anderson_recorded) return h;
        if (found < 0) found = h;
    }
    return found;
}

double admm_field_rss_max(const admm_Run *r, int e)
{
    double m = NAN;
    for (int q = 0; q < r->R; q++) {
        double v = r->rss_mb[(size_t)e * r->R + q];
        if (!isnan(v) && (isnan(m) || v > m)) m = v;
    }
    return m;
}

int admm_group_band(const admm_Analysis *an, int g, admm_EpochField field, double **mean,
                    double **lo, double **hi)
{
    const admm_Group *gr = &an->group[g];
    int E = 0;
    for (int k = 0; k < gr->nrun; k++)
        if (an->run[gr->run[k]].E > E) E = an->run[gr->run[k]].E;
    *mean = admm_xmalloc((size_t)E * sizeof **mean);
    *lo = admm_xmalloc((size_t)E * sizeof **lo);
    *hi = admm_xmalloc((size_t)E * sizeof **hi);
    double *v = admm_xmalloc((size_t)gr->nrun * sizeof *v);
    for (int e = 0; e < E; e++) {
        int n = 0;
        for (int k = 0; k < gr->nrun; k++) {
            const admm_Run *r = &an->run[gr->run[k]];
            if (e < r->E) v[n++] = field(r, e);
        }
        admm_Stat s;
        admm_stat(&s, v, n);
        (*mean)[e] = s.mean;
        (*lo)[e] = s.min;
        (*hi)[e] = s.max;
    }
    free(v);
    return E;
}
