/* check_tables: verifies every entry of admm-analyze's tables against values computed here from
 * the HDF5 files, by code that shares nothing with analysis/ (its own HDF5 reading, grouping and
 * statistics, written from io/SCHEMA.md and analysis/README.md). Also checks that each Markdown
 * table carries the same values as its CSV twin (to its printed precision), that the flagged
 * files are exactly the expected ones, and that every figure report.md links is a real PNG.
 *
 *   analysis-check OUTDIR --valid FILE... --flagged FILE... [--partial FILE...]
 *                  [--include-partial] [--ignore KEY]... [--no-figures]
 *
 * --partial names the partial runs (stopped by a signal, or a .h5.part of a run that died):
 * without --include-partial they must be in partial.csv and epochs.csv only, never in a group, and
 * every other table's partial column must say no; with it (as given to admm-analyze) they are
 * grouped like the valid runs and marked partial. A .h5.part file is read up to the rows every
 * /epochs dataset holds; its missing final attributes are derived as analysis/README.md says.
 * --ignore repeats admm-analyze's --ignore; --no-figures is for output made with --no-plots.
 * Also checks phases.csv (per-phase time and load imbalance of the scaling families) and
 * epochs.csv (one row per run and epoch).
 *
 * Prints a line per failed check, then "N passed, M failed"; exits 1 when any check failed. */
#define _XOPEN_SOURCE 700

#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int npass, nfail;

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(int cond, const char *fmt, ...)
{
    if (cond) {
        npass++;
        return;
    }
    nfail++;
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
}

static void *xcalloc(size_t n, size_t s)
{
    void *p = calloc(n ? n : 1, s ? s : 1);
    if (!p) {
        fprintf(stderr, "analysis-check: out of memory\n");
        exit(2);
    }
    return p;
}

static char *xstrdup(const char *s)
{
    return strcpy(xcalloc(strlen(s) + 1, 1), s);
}

static int close_to(double a, double b)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b)) + 1e-12;
}

/* ---------------------------------------------------------------------------------------------- */
/* HDF5, read independently */

enum { CFG_INT, CFG_REAL, CFG_STR };

typedef struct {
    char name[64];
    int cls, n;
    double v[32];
    char *s;
} Cfg;

typedef struct {
    char *path, *real;
    char *method, *stop_reason, *hostnames;
    long long ranks, n_train, epochs_run, best_epoch;
    long long threads; /* root threads_per_rank; -1: absent (a file older than it), unknown */
    double acc, val, loss; /* final_test_acc, final_val_acc, final_loss */
    int partial;           /* named with --partial */
    int ncfg;
    Cfg cfg[96];
    int E, P, R;
    double *t_epoch, *phase_avg, *phase_max, *rss; /* E; E x P; E x P; E x R (row-major) */
    double *val_acc, *test_acc, *loss_e, *obj;     /* E */
    char phase_names[1024];
} Run;

/* A string attribute, or an array of strings joined by commas (phase_names, kind_names). */
static char *vstr_attr(hid_t obj, const char *name)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = H5Tcopy(H5T_C_S1), ft = H5Aget_type(a);
    hid_t sp = H5Aget_space(a);
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5Tget_cset(ft)); /* HDF5 converts no string between ASCII and UTF-8 */
    H5Tclose(ft);
    char **p = n >= 1 ? calloc((size_t)n, sizeof *p) : NULL, *out;
    if (a < 0 || !p || H5Aread(a, t, p) < 0) {
        fprintf(stderr, "analysis-check: cannot read string attribute %s\n", name);
        exit(2);
    }
    size_t len = 1;
    for (hssize_t i = 0; i < n; i++) len += strlen(p[i] ? p[i] : "") + 1;
    out = calloc(1, len);
    if (!out) exit(2);
    for (hssize_t i = 0; i < n; i++) {
        if (i) strcat(out, ",");
        strcat(out, p[i] ? p[i] : "");
        H5free_memory(p[i]);
    }
    free(p);
    H5Sclose(sp);
    H5Tclose(t);
    H5Aclose(a);
    return out;
}

static double num_attr(hid_t obj, const char *name)
{
    double v;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0 || H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0) {
        fprintf(stderr, "analysis-check: cannot read attribute %s\n", name);
        exit(2);
    }
    H5Aclose(a);
    return v;
}

/* The first `limit` rows of dataset name (all of them when limit < 0). */
static double *dataset(hid_t f, const char *name, int limit, int *rows, int *cols)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT), s = H5Dget_space(d);
    hsize_t dims[2] = {1, 1}, start[2] = {0, 0};
    int nd = H5Sget_simple_extent_ndims(s);
    H5Sget_simple_extent_dims(s, dims, NULL);
    if (limit >= 0 && (hsize_t)limit < dims[0]) dims[0] = (hsize_t)limit;
    double *x = xcalloc(dims[0] * dims[1], sizeof *x);
    hid_t m = H5Screate_simple(nd, dims, NULL);
    if (d < 0 || H5Sselect_hyperslab(s, H5S_SELECT_SET, start, NULL, dims, NULL) < 0 ||
        H5Dread(d, H5T_NATIVE_DOUBLE, m, s, H5P_DEFAULT, x) < 0) {
        fprintf(stderr, "analysis-check: cannot read %s\n", name);
        exit(2);
    }
    *rows = (int)dims[0];
    if (cols) *cols = nd == 2 ? (int)dims[1] : 1;
    H5Sclose(m);
    H5Sclose(s);
    H5Dclose(d);
    return x;
}

/* Fewest rows of any dataset in group g (a .part file's writer may have stopped mid-epoch). */
static int fewest_rows(hid_t g)
{
    H5G_info_t info;
    int fewest = -1;
    H5Gget_info(g, &info);
    for (hsize_t k = 0; k < info.nlinks; k++) {
        char name[256];
        H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, k, name, sizeof name, H5P_DEFAULT);
        hid_t d = H5Dopen2(g, name, H5P_DEFAULT), s = H5Dget_space(d);
        hsize_t dims[2] = {0, 0};
        H5Sget_simple_extent_dims(s, dims, NULL);
        if (fewest < 0 || (int)dims[0] < fewest) fewest = (int)dims[0];
        H5Sclose(s);
        H5Dclose(d);
    }
    return fewest;
}

static void read_run(Run *r, const char *path, int partial)
{
    char buf[PATH_MAX];
    memset(r, 0, sizeof *r);
    r->path = xstrdup(path);
    r->real = xstrdup(realpath(path, buf) ? buf : path);
    r->partial = partial;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        fprintf(stderr, "analysis-check: a file given as valid cannot be opened: %s\n", path);
        exit(2);
    }
    /* a .h5.part of a run that died has no final attributes: they are derived below */
    int has_final = H5Aexists(f, "epochs_run") > 0;
    r->method = vstr_attr(f, "method");
    r->stop_reason = has_final ? vstr_attr(f, "stop_reason") : xstrdup("");
    r->hostnames = vstr_attr(f, "hostnames");
    r->ranks = (long long)num_attr(f, "ranks");
    r->threads = H5Aexists(f, "threads_per_rank") > 0 ? (long long)num_attr(f, "threads_per_rank") : -1;
    r->n_train = (long long)num_attr(f, "n_train");
    if (has_final) {
        r->epochs_run = (long long)num_attr(f, "epochs_run");
        r->best_epoch = (long long)num_attr(f, "best_epoch");
        r->acc = num_attr(f, "final_test_acc");
        r->val = num_attr(f, "final_val_acc");
        r->loss = num_attr(f, "final_loss");
    }

    hid_t g = H5Gopen2(f, "config", H5P_DEFAULT);
    H5O_info_t info;
    H5Oget_info(g, &info);
    for (hsize_t k = 0; k < info.num_attrs && r->ncfg < 96; k++) {
        Cfg *c = &r->cfg[r->ncfg++];
        hid_t a =
            H5Aopen_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_NATIVE, k, H5P_DEFAULT, H5P_DEFAULT);
        H5Aget_name(a, sizeof c->name, c->name);
        hid_t t = H5Aget_type(a), s = H5Aget_space(a);
        c->n = (int)H5Sget_simple_extent_npoints(s);
        if (H5Tget_class(t) == H5T_STRING) {
            c->cls = CFG_STR;
            H5Aclose(a);
            c->s = vstr_attr(g, c->name);
        } else {
            c->cls = H5Tget_class(t) == H5T_INTEGER ? CFG_INT : CFG_REAL;
            if (c->n > 32) c->n = 32;
            H5Aread(a, H5T_NATIVE_DOUBLE, c->v);
            H5Aclose(a);
        }
        H5Tclose(t);
        H5Sclose(s);
    }
    H5Gclose(g);

    int limit = -1, e2;
    if (partial && strstr(path, ".part")) {
        hid_t eg = H5Gopen2(f, "epochs", H5P_DEFAULT);
        limit = fewest_rows(eg);
        H5Gclose(eg);
        if (has_final && r->epochs_run < limit) limit = (int)r->epochs_run;
    }
    r->t_epoch = dataset(f, "epochs/t_epoch", limit, &r->E, NULL);
    r->phase_avg = dataset(f, "epochs/phase_avg", limit, &e2, &r->P);
    r->phase_max = dataset(f, "epochs/phase_max", limit, &e2, &r->P);
    r->rss = dataset(f, "epochs/rss_mb", limit, &e2, &r->R);
    r->val_acc = dataset(f, "epochs/val_acc", limit, &e2, NULL);
    r->test_acc = dataset(f, "epochs/test_acc", limit, &e2, NULL);
    r->loss_e = dataset(f, "epochs/loss", limit, &e2, NULL);
    r->obj = dataset(f, "epochs/objective", limit, &e2, NULL);
    if (!has_final) { /* the epoch of highest validation accuracy, first of equals */
        int b = -1;
        for (int e = 0; e < r->E; e++)
            if (!isnan(r->val_acc[e]) && (b < 0 || r->val_acc[e] > r->val_acc[b])) b = e;
        if (b < 0) b = r->E - 1;
        r->epochs_run = r->E;
        r->best_epoch = b + 1;
        r->acc = r->test_acc[b];
        r->val = r->val_acc[b];
        r->loss = r->loss_e[b];
    }
    hid_t d = H5Dopen2(f, "epochs/phase_avg", H5P_DEFAULT);
    char *pn = vstr_attr(d, "phase_names");
    snprintf(r->phase_names, sizeof r->phase_names, "%s", pn);
    free(pn);
    H5Dclose(d);
    H5Fclose(f);
}

static const Cfg *cfg(const Run *r, const char *name)
{
    for (int k = 0; k < r->ncfg; k++)
        if (!strcmp(r->cfg[k].name, name)) return &r->cfg[k];
    return NULL;
}

static int cfg_equal(const Cfg *a, const Cfg *b)
{
    if (!a || !b) return a == b;
    if (a->cls != b->cls || a->n != b->n) return 0;
    if (a->cls == CFG_STR) return !strcmp(a->s, b->s);
    for (int k = 0; k < a->n; k++) /* NaN (an "auto" real that does not apply) equals NaN */
        if (a->v[k] != b->v[k] && !(isnan(a->v[k]) && isnan(b->v[k]))) return 0;
    return 1;
}

/* The CSV cell shows cfg value c: empty when absent, numbers compared as numbers. */
static int cell_is_cfg(const char *cell, const Cfg *c)
{
    if (!c) return !*cell;
    if (c->cls == CFG_STR) return !strcmp(cell, c->s);
    const char *p = cell;
    for (int k = 0; k < c->n; k++) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !close_to(v, c->v[k])) return 0;
        p = end;
        if (k + 1 < c->n) {
            if (*p != ',') return 0;
            p++;
        }
    }
    return *p == '\0';
}

/* ---------------------------------------------------------------------------------------------- */
/* grouping rules, from analysis/README.md */

static int nignore;
static char **ignore;

static int skipped(const char *name, const char *const *except, int nexcept)
{
    if (!strcmp(name, "seed") || !strcmp(name, "output")) return 1;
    for (int k = 0; k < nignore; k++)
        if (!strcmp(name, ignore[k])) return 1;
    for (int k = 0; k < nexcept; k++)
        if (!strcmp(name, except[k])) return 1;
    return 0;
}

/* Same configuration except seed, output, --ignore keys and except; "ranks" in except also lets
 * the root ranks differ. The root threads_per_rank must always be equal (absent equals absent). */
static int same_except(const Run *a, const Run *b, const char *const *except, int nexcept)
{
    for (int k = 0; k < a->ncfg; k++)
        if (!skipped(a->cfg[k].name, except, nexcept) &&
            !cfg_equal(&a->cfg[k], cfg(b, a->cfg[k].name)))
            return 0;
    for (int k = 0; k < b->ncfg; k++)
        if (!skipped(b->cfg[k].name, except, nexcept) && !cfg(a, b->cfg[k].name)) return 0;
    if (a->threads != b->threads) return 0;
    for (int k = 0; k < nexcept; k++)
        if (!strcmp(except[k], "ranks")) return 1;
    return a->ranks == b->ranks;
}

/* ---------------------------------------------------------------------------------------------- */
/* statistics */

typedef struct {
    int n;
    double mean, std, min, max;
} Stat;

static Stat stat_of(const double *x, int n)
{
    Stat s = {0, 0, 0, INFINITY, -INFINITY};
    double sum = 0;
    for (int k = 0; k < n; k++)
        if (!isnan(x[k])) {
            s.n++;
            sum += x[k];
            s.min = fmin(s.min, x[k]);
            s.max = fmax(s.max, x[k]);
        }
    if (!s.n) return (Stat){0, NAN, NAN, NAN, NAN};
    s.mean = sum / s.n;
    double ss = 0;
    for (int k = 0; k < n; k++)
        if (!isnan(x[k])) ss += (x[k] - s.mean) * (x[k] - s.mean);
    s.std = s.n > 1 ? sqrt(ss / (s.n - 1)) : 0;
    return s;
}

/* ---------------------------------------------------------------------------------------------- */
/* CSV and Markdown */

typedef struct {
    int ncol, nrow;
    char **head;
    char ***row;
} Table;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = xcalloc((size_t)n + 1, 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n) n = 0;
    s[n] = '\0';
    fclose(f);
    return s;
}

/* RFC 4180 fields: quoted when they hold a comma or quote, "" is a quote. */
static int csv_line(char **p, char ***out)
{
    int n = 0;
    char *s = *p;
    if (!*s) return -1;
    *out = xcalloc(256, sizeof **out);
    for (;;) {
        char *field = xcalloc(strlen(s) + 1, 1), *o = field;
        if (*s == '"') {
            for (s++; *s && !(*s == '"' && s[1] != '"'); s++) {
                if (*s == '"') s++;
                *o++ = *s;
            }
            if (*s == '"') s++;
        } else {
            while (*s && *s != ',' && *s != '\n')
                *o++ = *s++;
        }
        if (n < 256) (*out)[n++] = field;
        if (*s == ',') {
            s++;
            continue;
        }
        if (*s == '\n') s++;
        break;
    }
    *p = s;
    return n;
}

static int csv_read(const char *path, Table *t)
{
    char *text = slurp(path), *p = text;
    memset(t, 0, sizeof *t);
    if (!text) return -1;
    t->ncol = csv_line(&p, &t->head);
    char **cells;
    int n;
    while ((n = csv_line(&p, &cells)) >= 0) {
        t->row = realloc(t->row, (size_t)(t->nrow + 1) * sizeof *t->row);
        t->row[t->nrow++] = cells;
        ok(n == t->ncol, "%s row %d has %d fields, header %d", path, t->nrow, n, t->ncol);
    }
    free(text);
    return 0;
}

static int col(const Table *t, const char *name)
{
    for (int k = 0; k < t->ncol; k++)
        if (!strcmp(t->head[k], name)) return k;
    return -1;
}

static const char *get(const Table *t, int row, const char *name)
{
    int k = col(t, name);
    if (k < 0) {
        ok(0, "table has no column %s", name);
        return "";
    }
    return t->row[row][k];
}

/* Markdown rows as cells, a "m ± s" cell split in two, so that they line up with CSV fields. */
static int md_read(const char *path, Table *t)
{
    char *text = slurp(path);
    memset(t, 0, sizeof *t);
    if (!text) return -1;
    int line = 0;
    for (char *s = strtok(text, "\n"); s; s = strtok(NULL, "\n")) {
        if (s[0] != '|') continue;
        if (line++ < 2) continue; /* header and --- line */
        char **cells = xcalloc(512, sizeof *cells);
        int n = 0;
        char *c = s + 1;
        while (*c && n < 510) {
            char *cell = xcalloc(strlen(c) + 1, 1), *o = cell;
            for (; *c && *c != '|'; c++) {
                if (*c == '\\' && c[1] == '|') c++;
                *o++ = *c;
            }
            if (*c == '|') c++;
            while (o > cell && o[-1] == ' ')
                *--o = '\0';
            char *b = cell;
            while (*b == ' ')
                b++;
            char *pm = strstr(b, " ± ");
            if (pm) {
                *pm = '\0';
                cells[n++] = xstrdup(b);
                cells[n++] = xstrdup(pm + strlen(" ± "));
            } else {
                cells[n++] = xstrdup(b);
            }
            free(cell);
        }
        t->row = realloc(t->row, (size_t)(t->nrow + 1) * sizeof *t->row);
        t->row[t->nrow++] = cells;
        t->ncol = n;
    }
    free(text);
    return 0;
}

/* Half a unit of the last printed digit of a Markdown number ("12.35" -> 0.005). */
static double printed_tolerance(const char *s)
{
    const char *dot = strchr(s, '.'), *e = strpbrk(s, "eE");
    int decimals = 0;
    if (dot) decimals = (int)((e ? e : s + strlen(s)) - dot - 1);
    double unit = pow(10.0, -decimals) * (e ? pow(10.0, atof(e + 1)) : 1.0);
    return 0.5 * unit * 1.001 + 1e-12;
}

static int is_number(const char *s, double *v)
{
    char *end;
    if (!*s) return 0;
    *v = strtod(s, &end);
    return *end == '\0';
}

static void check_md_matches_csv(const char *dir, const char *stem, Table *csv)
{
    char path[PATH_MAX];
    Table md;
    snprintf(path, sizeof path, "%s/tables/%s.csv", dir, stem);
    ok(csv_read(path, csv) == 0, "%s exists", path);
    snprintf(path, sizeof path, "%s/tables/%s.md", dir, stem);
    ok(md_read(path, &md) == 0, "%s exists", path);
    ok(md.nrow == csv->nrow, "%s: %d Markdown rows, %d CSV rows", stem, md.nrow, csv->nrow);
    for (int r = 0; r < md.nrow && r < csv->nrow; r++)
        for (int k = 0; k < csv->ncol; k++) {
            const char *m = md.row[r][k] ? md.row[r][k] : "", *c = csv->row[r][k];
            double mv, cv;
            if (is_number(m, &mv) && is_number(c, &cv) && !isnan(cv))
                ok(fabs(mv - cv) <= printed_tolerance(m), "%s row %d %s: md %s vs csv %s", stem,
                   r + 1, csv->head[k], m, c);
            else if (!strcmp(csv->head[k], "partial")) /* Markdown marks a partial run */
                ok(!strcmp(m, !strcmp(c, "yes") ? "yes †" : c),
                   "%s row %d partial: md '%s' vs csv '%s' (a partial row is 'yes †' in Markdown)",
                   stem, r + 1, m, c);
            else /* a missing value: "-" in Markdown, an empty field in CSV */
                ok(!strcmp(m, c) || (!strcmp(m, "-") && !*c), "%s row %d %s: md '%s' vs csv '%s'",
                   stem, r + 1, csv->head[k], m, c);
            ok(strcmp(c, "-") != 0, "%s row %d %s: a missing value is an empty CSV field, not '-'",
               stem, r + 1, csv->head[k]);
        }
}

/* ---------------------------------------------------------------------------------------------- */
/* expected values */

static int nrun;
static Run *runs;

static int run_by_path(const char *path)
{
    char buf[PATH_MAX];
    const char *real = realpath(path, buf) ? buf : path;
    for (int k = 0; k < nrun; k++)
        if (!strcmp(runs[k].real, real)) return k;
    return -1;
}

static void num_cell(const char *table, const char *colname, const char *cell, double want)
{
    double v;
    int isnum = is_number(cell, &v);
    if (isnan(want))
        ok(!strcmp(cell, "nan"), "%s %s: '%s', expected nan", table, colname, cell);
    else
        ok(isnum && close_to(v, want), "%s %s: '%s', expected %.15g", table, colname, cell, want);
}

/* A threads/rank cell: the number, or a missing value (empty CSV field) when unknown. */
static void threads_cell(const char *table, const char *cell, const Run *r)
{
    if (r->threads < 0)
        ok(!cell[0], "%s %s threads_per_rank: '%s', expected empty (unknown)", table, r->path, cell);
    else
        num_cell(table, "threads_per_rank", cell, (double)r->threads);
}

static int is_gradient(const char *m)
{
    return !strcmp(m, "gd") || !strcmp(m, "sgd") || !strcmp(m, "momentum") || !strcmp(m, "adam");
}

/* The methods table's rule: lr and batch for gradient methods, beta/gamma for admm and bcd, warmup
 * for admm (Taylor's ADMM); an option absent from /config is shown as "-" too. */
static const Cfg *shown(const Run *r, const char *key)
{
    if ((!strcmp(key, "lr") || !strcmp(key, "batch")) && !is_gradient(r->method)) return NULL;
    if ((!strcmp(key, "beta") || !strcmp(key, "gamma")) && strcmp(r->method, "admm") &&
        strcmp(r->method, "bcd"))
        return NULL;
    if (!strcmp(key, "warmup") && strcmp(r->method, "admm")) return NULL;
    return cfg(r, key);
}

static const char *const keys41[] = {"lr", "batch", "beta", "gamma", "warmup", "patience", "init"};

/* Groups as listed in groups.csv, checked against the rules. */
typedef struct {
    char id[16];
    int n;
    int *run;
    Stat val, acc, loss, epochs, t; /* val and acc in percent */
    double comm, peak;
    int partial; /* holds a partial run */
} Group;

static int ngroup;
static Group *groups;

static int group_by_id(const char *id)
{
    for (int g = 0; g < ngroup; g++)
        if (!strcmp(groups[g].id, id)) return g;
    ok(0, "unknown group id %s", id);
    return -1;
}

static void group_stats(Group *g)
{
    double *acc = xcalloc((size_t)g->n, sizeof *acc), *loss = xcalloc((size_t)g->n, sizeof *loss);
    double *ep = xcalloc((size_t)g->n, sizeof *ep), *val = xcalloc((size_t)g->n, sizeof *val);
    int nt = 0;
    for (int k = 0; k < g->n; k++)
        nt += runs[g->run[k]].E;
    double *t = xcalloc((size_t)nt, sizeof *t), comm = 0, tsum = 0;
    int has_comm = 0;
    g->peak = NAN;
    nt = 0;
    for (int k = 0; k < g->n; k++) {
        const Run *r = &runs[g->run[k]];
        g->partial |= r->partial;
        acc[k] = 100 * r->acc;
        val[k] = 100 * r->val;
        loss[k] = r->loss;
        ep[k] = (double)r->epochs_run;
        /* which phase columns are communication: names starting with comm_ */
        int iscomm[64] = {0}, p = 0;
        char names[1024];
        snprintf(names, sizeof names, "%s", r->phase_names);
        for (char *s = strtok(names, ","); s && p < 64; s = strtok(NULL, ","), p++)
            iscomm[p] = !strncmp(s, "comm_", 5), has_comm |= iscomm[p];
        for (int e = 0; e < r->E; e++) {
            t[nt++] = r->t_epoch[e];
            if (isnan(r->t_epoch[e])) continue;
            tsum += r->t_epoch[e];
            for (int q = 0; q < r->P && q < 64; q++)
                if (iscomm[q] && !isnan(r->phase_avg[e * r->P + q]))
                    comm += r->phase_avg[e * r->P + q];
            for (int q = 0; q < r->R; q++)
                if (!isnan(r->rss[e * r->R + q]) && !(r->rss[e * r->R + q] <= g->peak))
                    g->peak = r->rss[e * r->R + q];
        }
    }
    g->acc = stat_of(acc, g->n);
    g->val = stat_of(val, g->n);
    g->loss = stat_of(loss, g->n);
    g->epochs = stat_of(ep, g->n);
    g->t = stat_of(t, nt);
    g->comm = has_comm && tsum > 0 ? comm / tsum : NAN;
    free(acc);
    free(val);
    free(loss);
    free(ep);
    free(t);
}

/* The partial column of row i: yes for a partial run or a group holding one. */
static void partial_col(const Table *t, int i, int want, const char *what)
{
    ok(!strcmp(get(t, i, "partial"), want ? "yes" : "no"), "%s row %d: partial '%s', expected %s",
       what, i + 1, get(t, i, "partial"), want ? "yes" : "no");
}

static void check_groups(const Table *t)
{
    int *owner = xcalloc((size_t)nrun, sizeof *owner);
    for (int k = 0; k < nrun; k++)
        owner[k] = -1;
    ngroup = t->nrow;
    groups = xcalloc((size_t)ngroup, sizeof *groups);
    for (int g = 0; g < ngroup; g++) {
        Group *gr = &groups[g];
        snprintf(gr->id, sizeof gr->id, "%s", get(t, g, "group"));
        gr->run = xcalloc((size_t)nrun, sizeof *gr->run);
        char files[65536];
        snprintf(files, sizeof files, "%s", get(t, g, "files"));
        for (char *s = files, *next; s && *s; s = next) {
            next = strstr(s, "; ");
            if (next) *next = '\0', next += 2;
            int k = run_by_path(s);
            ok(k >= 0, "groups: %s lists %s, not a valid input", gr->id, s);
            if (k < 0) continue;
            ok(owner[k] < 0, "groups: %s is in two groups", s);
            owner[k] = g;
            gr->run[gr->n++] = k;
        }
        num_cell("groups", "runs", get(t, g, "runs"), gr->n);
        /* the rule: same configuration except seed/output, same ranks */
        for (int k = 1; k < gr->n; k++)
            ok(same_except(&runs[gr->run[0]], &runs[gr->run[k]], NULL, 0),
               "groups: %s and %s are in %s but differ in more than seed", runs[gr->run[0]].path,
               runs[gr->run[k]].path, gr->id);
        /* seeds and hosts in file order */
        char want[4096] = "", hosts[4096] = "";
        for (int k = 0; k < gr->n; k++) {
            const Run *r = &runs[gr->run[k]];
            const Cfg *s = cfg(r, "seed");
            char v[64] = "-";
            if (s) snprintf(v, sizeof v, "%.10g", s->v[0]);
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", k ? "," : "", v);
            int seen = 0;
            for (int j = 0; j < k; j++)
                seen |= !strcmp(runs[gr->run[j]].hostnames, r->hostnames);
            if (!seen)
                snprintf(hosts + strlen(hosts), sizeof hosts - strlen(hosts), "%s%s",
                         hosts[0] ? "; " : "", r->hostnames);
        }
        if (!strcmp(want, "-")) want[0] = '\0'; /* no seed at all: a missing value */
        ok(!strcmp(get(t, g, "seeds"), want), "groups %s seeds: '%s', expected '%s'", gr->id,
           get(t, g, "seeds"), want);
        ok(!strcmp(get(t, g, "hosts"), hosts), "groups %s hosts: '%s', expected '%s'", gr->id,
           get(t, g, "hosts"), hosts);
        group_stats(gr);
        partial_col(t, g, gr->partial, "groups");
    }
    for (int k = 0; k < nrun; k++)
        ok(owner[k] >= 0, "groups: %s is in no group", runs[k].path);
    /* groups are maximal: two groups never share a configuration */
    for (int g = 0; g < ngroup; g++)
        for (int h = g + 1; h < ngroup; h++)
            if (groups[g].n && groups[h].n)
                ok(!same_except(&runs[groups[g].run[0]], &runs[groups[h].run[0]], NULL, 0),
                   "groups %s and %s have the same configuration", groups[g].id, groups[h].id);
    free(owner);
}

static void check_runs(const Table *t)
{
    ok(t->nrow == nrun, "runs: %d rows, %d valid files", t->nrow, nrun);
    int *seen = xcalloc((size_t)nrun, sizeof *seen);
    for (int i = 0; i < t->nrow; i++) {
        int k = run_by_path(get(t, i, "file"));
        ok(k >= 0, "runs: row %d file %s is not a valid input", i + 1, get(t, i, "file"));
        if (k < 0) continue;
        seen[k]++;
        const Run *r = &runs[k];
        int g = group_by_id(get(t, i, "group"));
        int member = 0;
        for (int j = 0; g >= 0 && j < groups[g].n; j++)
            member |= groups[g].run[j] == k;
        ok(member, "runs: %s says group %s, groups.csv disagrees", r->path, get(t, i, "group"));
        ok(!strcmp(get(t, i, "method"), r->method), "runs %s method", r->path);
        num_cell("runs", "epochs_run", get(t, i, "epochs_run"), (double)r->epochs_run);
        num_cell("runs", "best_epoch", get(t, i, "best_epoch"), (double)r->best_epoch);
        ok(!strcmp(get(t, i, "stop_reason"), r->stop_reason), "runs %s stop_reason", r->path);
        for (int q = 0; q < 7; q++)
            ok(cell_is_cfg(get(t, i, keys41[q]), shown(r, keys41[q])), "runs %s %s: '%s'", r->path,
               keys41[q], get(t, i, keys41[q]));
        num_cell("runs", "ranks", get(t, i, "ranks"), (double)r->ranks);
        threads_cell("runs", get(t, i, "threads_per_rank"), r);
        ok(cell_is_cfg(get(t, i, "precision"), cfg(r, "precision")), "runs %s precision", r->path);
        ok(cell_is_cfg(get(t, i, "seed"), cfg(r, "seed")), "runs %s seed", r->path);
        num_cell("runs", "val_acc_pct", get(t, i, "val_acc_pct"), 100 * r->val);
        num_cell("runs", "test_acc_pct", get(t, i, "test_acc_pct"), 100 * r->acc);
        partial_col(t, i, r->partial, "runs");
    }
    for (int k = 0; k < nrun; k++)
        ok(seen[k] == 1, "runs: %s appears %d times", runs[k].path, seen[k]);
    free(seen);
}

static void pm_cell(const Table *t, int i, const char *stem, Stat s, const char *what)
{
    char m[96], d[96];
    snprintf(m, sizeof m, "%s_mean", stem);
    snprintf(d, sizeof d, "%s_std", stem);
    num_cell(what, m, get(t, i, m), s.mean);
    num_cell(what, d, get(t, i, d), s.std);
}

/* ---------------------------------------------------------------------------------------------- */
/* the random-features floor, from analysis/README.md */

static int cfg_str_is(const Run *r, const char *key, const char *want)
{
    const Cfg *c = cfg(r, key);
    return c && c->cls == CFG_STR && !strcmp(c->s, want);
}

static int same_seed(const Run *a, const Run *b)
{
    return cfg_equal(cfg(a, "seed"), cfg(b, "seed"));
}

/* Floor group of group g (-1: none, or g is a floor), with the expected floor accuracy (percent)
 * and whether only the runs of g's one seed count. */
static int expected_floor(int g, double *acc, int *seed_only)
{
    const Group *gr = &groups[g];
    const Run *r = &runs[gr->run[0]];
    *acc = NAN;
    *seed_only = 0;
    if (!strcmp(r->method, "random-features")) return -1;
    const Cfg *lc = cfg(r, "loss");
    const char *loss = is_gradient(r->method)    ? "least-squares"
                       : lc && lc->cls == CFG_STR ? lc->s
                                                  : NULL;
    const char *biases = strcmp(r->method, "admm") ? "yes" : "no";
    int best = -1, best_shared = -1;
    for (int h = 0; h < ngroup; h++) {
        if (!groups[h].n) continue;
        const Run *f = &runs[groups[h].run[0]];
        if (strcmp(f->method, "random-features") || !loss || !cfg_str_is(f, "loss", loss) ||
            !cfg_str_is(f, "biases", biases) || !cfg_equal(cfg(f, "data"), cfg(r, "data")) ||
            !cfg_equal(cfg(f, "layers"), cfg(r, "layers")) ||
            !cfg_equal(cfg(f, "init"), cfg(r, "init")))
            continue;
        int shared = 0;
        for (int j = 0; j < groups[h].n; j++) {
            int hit = 0;
            for (int k = 0; k < gr->n; k++)
                hit |= same_seed(&runs[groups[h].run[j]], &runs[gr->run[k]]);
            shared += hit;
        }
        if (shared > best_shared) best = h, best_shared = shared;
    }
    if (best < 0) return -1;
    *seed_only = gr->n == 1 && best_shared > 0;
    double x[4096];
    int n = 0;
    for (int j = 0; j < groups[best].n && n < 4096; j++)
        if (!*seed_only || same_seed(&runs[groups[best].run[j]], r))
            x[n++] = 100 * runs[groups[best].run[j]].acc;
    *acc = stat_of(x, n).mean;
    return best;
}

static void check_floor_cells(const Table *t, int i, int g, const char *what)
{
    double acc;
    int seed_only, f = expected_floor(g, &acc, &seed_only);
    if (f < 0) {
        ok(!*get(t, i, "floor") && !*get(t, i, "floor_test_acc_pct") && !*get(t, i, "gain_pts"),
           "%s %s: no floor expected, got '%s' '%s' '%s'", what, groups[g].id, get(t, i, "floor"),
           get(t, i, "floor_test_acc_pct"), get(t, i, "gain_pts"));
        return;
    }
    char want[256];
    const Cfg *seed = cfg(&runs[groups[g].run[0]], "seed");
    if (seed_only && seed)
        snprintf(want, sizeof want, "%s seed %.10g", groups[f].id, seed->v[0]);
    else if (seed_only)
        snprintf(want, sizeof want, "%s seed -", groups[f].id);
    else
        snprintf(want, sizeof want, "%s", groups[f].id);
    ok(!strcmp(get(t, i, "floor"), want), "%s %s floor '%s', expected '%s'", what, groups[g].id,
       get(t, i, "floor"), want);
    num_cell(what, "floor_test_acc_pct", get(t, i, "floor_test_acc_pct"), acc);
    num_cell(what, "gain_pts", get(t, i, "gain_pts"), groups[g].acc.mean - acc);
}

static void check_config_row(const Table *t, int i, const char *what)
{
    int g = group_by_id(get(t, i, "group"));
    if (g < 0) return;
    const Group *gr = &groups[g];
    const Run *r = &runs[gr->run[0]];
    ok(!strcmp(get(t, i, "method"), r->method), "%s %s method", what, gr->id);
    num_cell(what, "runs", get(t, i, "runs"), gr->n);
    pm_cell(t, i, "epochs_run", gr->epochs, what);
    for (int q = 0; q < 7; q++)
        ok(cell_is_cfg(get(t, i, keys41[q]), shown(r, keys41[q])), "%s %s %s: '%s'", what, gr->id,
           keys41[q], get(t, i, keys41[q]));
    num_cell(what, "ranks", get(t, i, "ranks"), (double)r->ranks);
    threads_cell(what, get(t, i, "threads_per_rank"), r);
    ok(cell_is_cfg(get(t, i, "precision"), cfg(r, "precision")), "%s %s precision", what, gr->id);
    pm_cell(t, i, "val_acc_pct", gr->val, what);
    pm_cell(t, i, "test_acc_pct", gr->acc, what);
    check_floor_cells(t, i, g, what);
    pm_cell(t, i, "final_loss", gr->loss, what);
    pm_cell(t, i, "s_per_epoch", gr->t, what);
    partial_col(t, i, gr->partial, what);
}

static void check_configs(const Table *t)
{
    ok(t->nrow == ngroup, "configs: %d rows, %d groups", t->nrow, ngroup);
    for (int i = 0; i < t->nrow; i++)
        check_config_row(t, i, "configs");
}

static void check_methods(const Table *t)
{
    int nm = 0;
    for (int k = 0; k < nrun; k++) {
        int first = 1;
        for (int j = 0; j < k; j++)
            first &= strcmp(runs[j].method, runs[k].method) != 0;
        nm += first;
    }
    ok(t->nrow == nm, "methods: %d rows, %d methods", t->nrow, nm);
    for (int i = 0; i < t->nrow; i++) {
        check_config_row(t, i, "methods");
        int g = group_by_id(get(t, i, "group"));
        if (g < 0) continue;
        /* the rule: highest mean validation accuracy, then more runs, then the first group; a
         * group without validation accuracy loses to one with it; test accuracy plays no part */
        for (int h = 0; h < ngroup; h++) {
            if (h == g || !groups[h].n ||
                strcmp(runs[groups[h].run[0]].method, get(t, i, "method")))
                continue;
            double vg = groups[g].val.mean, vh = groups[h].val.mean;
            int h_wins = isnan(vg) != isnan(vh)         ? isnan(vg)
                         : !isnan(vg) && vh != vg       ? vh > vg
                         : groups[h].n != groups[g].n ? groups[h].n > groups[g].n
                                                      : h < g;
            ok(!h_wins, "methods: %s chosen but %s has the better validation accuracy",
               groups[g].id, groups[h].id);
        }
    }
}

static void check_epoch_time(const Table *t)
{
    for (int i = 0; i < t->nrow; i++) {
        const char *m = get(t, i, "method");
        int nt = 0, nr = 0, ng = 0, np = 0;
        for (int k = 0; k < nrun; k++)
            if (!strcmp(runs[k].method, m)) nt += runs[k].E, nr++, np += runs[k].partial;
        partial_col(t, i, np > 0, "epoch_time");
        for (int g = 0; g < ngroup; g++)
            ng += groups[g].n && !strcmp(runs[groups[g].run[0]].method, m);
        double *x = xcalloc((size_t)nt, sizeof *x);
        long long ranks[64];
        int nranks = 0;
        nt = 0;
        for (int k = 0; k < nrun; k++) {
            if (strcmp(runs[k].method, m)) continue;
            for (int e = 0; e < runs[k].E; e++)
                x[nt++] = runs[k].t_epoch[e];
            int have = 0;
            for (int j = 0; j < nranks; j++)
                have |= ranks[j] == runs[k].ranks;
            if (!have && nranks < 64) ranks[nranks++] = runs[k].ranks;
        }
        for (int a = 0; a < nranks; a++) /* ascending */
            for (int b = a + 1; b < nranks; b++)
                if (ranks[b] < ranks[a]) {
                    long long tmp = ranks[a];
                    ranks[a] = ranks[b];
                    ranks[b] = tmp;
                }
        char want[512] = "";
        for (int a = 0; a < nranks; a++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", a ? "," : "",
                     ranks[a]);
        Stat s = stat_of(x, nt);
        num_cell("epoch_time", "runs", get(t, i, "runs"), nr);
        num_cell("epoch_time", "groups", get(t, i, "groups"), ng);
        ok(!strcmp(get(t, i, "ranks"), want), "epoch_time %s ranks '%s', expected '%s'", m,
           get(t, i, "ranks"), want);
        num_cell("epoch_time", "epochs", get(t, i, "epochs"), s.n);
        pm_cell(t, i, "s_per_epoch", s, "epoch_time");
        num_cell("epoch_time", "s_per_epoch_min", get(t, i, "s_per_epoch_min"), s.min);
        num_cell("epoch_time", "s_per_epoch_max", get(t, i, "s_per_epoch_max"), s.max);
        free(x);
    }
    int nm = 0;
    for (int k = 0; k < nrun; k++) {
        int first = 1;
        for (int j = 0; j < k; j++)
            first &= strcmp(runs[j].method, runs[k].method) != 0;
        nm += first;
    }
    ok(t->nrow == nm, "epoch_time: %d rows, %d methods", t->nrow, nm);
}

/* samples per rank for weak scaling: the n_train option, else the root n_train */
static double per_rank(const Run *r)
{
    const Cfg *c = cfg(r, "n_train");
    double n = c && c->cls == CFG_INT && c->v[0] > 0 ? c->v[0] : (double)r->n_train;
    return n / (double)r->ranks;
}

/* Rows of t grouped by family; checks membership rules, order and completeness. param is "ranks"
 * for scaling. fam_of[g] gets the family index of group g (-1: none). */
static void check_families(const Table *t, const char *param, int scaling, int *fam_of)
{
    const char *strong[] = {"ranks"}, *weak[] = {"ranks", "n_train"}, *one[] = {param};
    int *weak_of = xcalloc((size_t)ngroup + 1, sizeof *weak_of);
    for (int g = 0; g < ngroup; g++)
        fam_of[g] = weak_of[g] = -1;
    char names[256][48];
    int nfam = 0;
    for (int i = 0; i < t->nrow; i++) {
        const char *f = get(t, i, "family");
        int fi = -1;
        for (int k = 0; k < nfam; k++)
            if (!strcmp(names[k], f)) fi = k;
        if (fi < 0 && nfam < 256) snprintf(names[fi = nfam++], 48, "%s", f);
        int g = group_by_id(get(t, i, "group"));
        if (g < 0) continue;
        int is_weak = scaling && !strcmp(get(t, i, "kind"), "weak");
        int *slot = is_weak ? &weak_of[g] : &fam_of[g];
        ok(*slot < 0, "%s: group %s in two families", param, groups[g].id);
        *slot = fi;
        /* same family as the previous row: same configuration but for the parameter, ordered */
        if (i > 0 && !strcmp(get(t, i - 1, "family"), f)) {
            int h = group_by_id(get(t, i - 1, "group"));
            if (h < 0) continue;
            const Run *a = &runs[groups[h].run[0]], *b = &runs[groups[g].run[0]];
            if (is_weak)
                ok(same_except(a, b, weak, 2) && per_rank(a) == per_rank(b),
                   "weak family %s: %s and %s differ in more than ranks/n_train", f, groups[h].id,
                   groups[g].id);
            else
                ok(same_except(a, b, scaling ? strong : one, 1),
                   "family %s: %s and %s differ in more than %s", f, groups[h].id, groups[g].id,
                   param);
            if (scaling) {
                ok(a->ranks < b->ranks, "family %s not ordered by ranks", f);
            } else {
                const Cfg *x = cfg(a, param), *y = cfg(b, param);
                if (x && y && x->cls != CFG_STR) ok(x->v[0] < y->v[0], "family %s not ordered", f);
                if (x && y && x->cls == CFG_STR)
                    ok(strcmp(x->s, y->s) < 0, "family %s not ordered", f);
            }
        }
    }
    /* completeness: any two groups that differ only in the parameter share a family */
    for (int g = 0; g < ngroup; g++)
        for (int h = g + 1; h < ngroup; h++) {
            const Run *a = &runs[groups[g].run[0]], *b = &runs[groups[h].run[0]];
            if (same_except(a, b, scaling ? strong : one, 1))
                ok(fam_of[g] >= 0 && fam_of[g] == fam_of[h],
                   "%s: %s and %s differ only in %s but "
                   "share no family",
                   param, groups[g].id, groups[h].id, param);
            else if (scaling && same_except(a, b, weak, 2) && per_rank(a) == per_rank(b) &&
                     a->ranks != b->ranks)
                ok(weak_of[g] >= 0 && weak_of[g] == weak_of[h],
                   "weak scaling: %s and %s share no family", groups[g].id, groups[h].id);
        }
    free(weak_of);
}

static void check_scaling(const Table *t)
{
    int *fam_of = xcalloc((size_t)ngroup + 1, sizeof *fam_of);
    check_families(t, "ranks", 1, fam_of);
    for (int i = 0; i < t->nrow; i++) {
        int g = group_by_id(get(t, i, "group")), i0 = i;
        if (g < 0) continue;
        while (i0 > 0 && !strcmp(get(t, i0 - 1, "family"), get(t, i, "family")))
            i0--;
        int g0 = group_by_id(get(t, i0, "group"));
        if (g0 < 0) continue;
        const Group *gr = &groups[g], *base = &groups[g0];
        const Run *r = &runs[gr->run[0]];
        double p = (double)r->ranks / (double)runs[base->run[0]].ranks;
        double ratio = base->t.mean / gr->t.mean;
        int weak = !strcmp(get(t, i, "kind"), "weak");
        num_cell("scaling", "ranks", get(t, i, "ranks"), (double)r->ranks);
        threads_cell("scaling", get(t, i, "threads_per_rank"), r);
        num_cell("scaling", "n_train", get(t, i, "n_train"), (double)r->n_train);
        num_cell("scaling", "runs", get(t, i, "runs"), gr->n);
        pm_cell(t, i, "s_per_epoch", gr->t, "scaling");
        num_cell("scaling", "speedup", get(t, i, "speedup"), weak ? ratio * p : ratio);
        num_cell("scaling", "efficiency", get(t, i, "efficiency"), weak ? ratio : ratio / p);
        num_cell("scaling", "comm_share_pct", get(t, i, "comm_share_pct"), 100 * gr->comm);
        num_cell("scaling", "peak_rss_mb", get(t, i, "peak_rss_mb"), gr->peak);
        pm_cell(t, i, "test_acc_pct", gr->acc, "scaling");
        partial_col(t, i, gr->partial, "scaling");
    }
    free(fam_of);
}

static void check_sensitivity(const Table *t, const char *param)
{
    int *fam_of = xcalloc((size_t)ngroup + 1, sizeof *fam_of);
    check_families(t, param, 0, fam_of);
    char what[64];
    snprintf(what, sizeof what, "sensitivity_%s", param);
    for (int i = 0; i < t->nrow; i++) {
        int g = group_by_id(get(t, i, "group"));
        if (g < 0) continue;
        const Group *gr = &groups[g];
        const Run *r = &runs[gr->run[0]];
        ok(cell_is_cfg(get(t, i, param), cfg(r, param)), "%s %s value '%s'", what, gr->id,
           get(t, i, param));
        num_cell(what, "ranks", get(t, i, "ranks"), (double)r->ranks);
        threads_cell(what, get(t, i, "threads_per_rank"), r);
        num_cell(what, "runs", get(t, i, "runs"), gr->n);
        pm_cell(t, i, "epochs_run", gr->epochs, what);
        pm_cell(t, i, "test_acc_pct", gr->acc, what);
        pm_cell(t, i, "final_loss", gr->loss, what);
        pm_cell(t, i, "s_per_epoch", gr->t, what);
        num_cell(what, "peak_rss_mb", get(t, i, "peak_rss_mb"), gr->peak);
        partial_col(t, i, gr->partial, what);
    }
    free(fam_of);
}

static void check_flagged(const Table *t, int nflag, char **flag, const char *report)
{
    ok(t->nrow == nflag, "flagged: %d rows, %d files expected", t->nrow, nflag);
    for (int k = 0; k < nflag; k++) {
        char a[PATH_MAX], b[PATH_MAX];
        const char *want = realpath(flag[k], a) ? a : flag[k];
        int found = 0;
        for (int i = 0; i < t->nrow; i++) {
            const char *p = get(t, i, "file");
            if (!strcmp(realpath(p, b) ? b : p, want)) {
                found++;
                ok(strlen(get(t, i, "problem")) > 5, "flagged %s: no reason given", p);
            }
        }
        ok(found == 1, "flagged: %s listed %d times", flag[k], found);
        ok(report && strstr(report, flag[k]) != NULL, "report.md does not name flagged %s",
           flag[k]);
    }
}

/* The group id holding run k of runs[], or "" when none does (a partial run set apart). */
static const char *group_of(int k)
{
    for (int g = 0; g < ngroup; g++)
        for (int j = 0; j < groups[g].n; j++)
            if (groups[g].run[j] == k) return groups[g].id;
    return "";
}

/* partial.csv: every partial run once, averaged in exactly with --include-partial. part[] are
 * the partial runs (the tail of runs[] when included, else runs of their own). */
static void check_partial(const Table *t, int npart, const Run *part, int include,
                          const char *report)
{
    ok(t->nrow == npart, "partial: %d rows, %d partial runs given", t->nrow, npart);
    for (int k = 0; k < npart; k++) {
        const Run *r = &part[k];
        int found = 0;
        for (int i = 0; i < t->nrow; i++) {
            char b[PATH_MAX];
            const char *p = get(t, i, "file");
            if (strcmp(realpath(p, b) ? b : p, r->real)) continue;
            found++;
            ok(!strcmp(get(t, i, "averaged"), include ? "yes" : "no"), "partial %s: averaged '%s'",
               r->path, get(t, i, "averaged"));
            const char *want = include ? group_of(run_by_path(r->path)) : "";
            ok(!strcmp(get(t, i, "group"), want), "partial %s: group '%s', expected '%s'", r->path,
               get(t, i, "group"), want);
            ok(strcmp(get(t, i, "method"), r->method) == 0, "partial %s method", r->path);
            num_cell("partial", "epochs", get(t, i, "epochs"), r->E);
            num_cell("partial", "best_epoch", get(t, i, "best_epoch"), (double)r->best_epoch);
            num_cell("partial", "val_acc_pct", get(t, i, "val_acc_pct"), 100 * r->val);
            num_cell("partial", "test_acc_pct", get(t, i, "test_acc_pct"), 100 * r->acc);
            ok(strlen(get(t, i, "why")) > 10, "partial %s: no reason given", r->path);
            partial_col(t, i, 1, "partial");
        }
        ok(found == 1, "partial: %s listed %d times", r->path, found);
        ok(report && strstr(report, r->path) != NULL, "report.md does not name partial run %s",
           r->path);
    }
}

/* Index of phase name in run r's phase_names, or -1. */
static int phase_index(const Run *r, const char *name)
{
    char names[1024];
    snprintf(names, sizeof names, "%s", r->phase_names);
    int p = 0;
    for (char *s = strtok(names, ","); s; s = strtok(NULL, ","), p++) {
        while (*s == ' ')
            s++;
        if (!strcmp(s, name)) return p;
    }
    return -1;
}

/* Sum over every epoch of every run of group g of phase name's phase_avg (max: phase_max). */
static double phase_sum(const Group *g, const char *name, int max, int *nepoch)
{
    double sum = 0;
    *nepoch = 0;
    for (int j = 0; j < g->n; j++) {
        const Run *r = &runs[g->run[j]];
        int p = phase_index(r, name);
        *nepoch += r->E;
        for (int e = 0; p >= 0 && e < r->E; e++) {
            double v = (max ? r->phase_max : r->phase_avg)[e * r->P + p];
            if (!isnan(v)) sum += v;
        }
    }
    return sum;
}

/* phases.csv against scaling.csv's families: for each family and group, one row per phase of the
 * training step (not eval, io, unused) that some group of the family spent time in. */
static void check_phases(const Table *t, const Table *scal)
{
    int rows = 0;
    for (int i = 0; i < scal->nrow; i++) {
        const char *fam = get(scal, i, "family");
        int g = group_by_id(get(scal, i, "group"));
        if (g < 0) continue;
        /* the family's phase names with time in them */
        char want[64][64];
        int nwant = 0;
        for (int j = 0; j < scal->nrow; j++) {
            if (strcmp(get(scal, j, "family"), fam)) continue;
            int h = group_by_id(get(scal, j, "group"));
            for (int k = 0; h >= 0 && k < groups[h].n; k++) {
                char names[1024];
                snprintf(names, sizeof names, "%s", runs[groups[h].run[k]].phase_names);
                for (char *s = strtok(names, ","); s; s = strtok(NULL, ",")) {
                    while (*s == ' ')
                        s++;
                    if (!strcmp(s, "eval") || !strcmp(s, "io") || !strcmp(s, "unused")) continue;
                    int seen = 0;
                    for (int q = 0; q < nwant; q++)
                        seen |= !strcmp(want[q], s);
                    if (!seen && nwant < 64) snprintf(want[nwant++], 64, "%s", s);
                }
            }
        }
        for (int q = 0; q < nwant; q++) {
            double total = 0;
            int ne;
            for (int j = 0; j < scal->nrow; j++) {
                int h = strcmp(get(scal, j, "family"), fam) ? -1 : group_by_id(get(scal, j, "group"));
                if (h >= 0) total += phase_sum(&groups[h], want[q], 0, &ne);
            }
            if (!(total > 0)) continue;
            int found = 0;
            for (int r = 0; r < t->nrow; r++) {
                if (strcmp(get(t, r, "family"), fam) || strcmp(get(t, r, "group"), groups[g].id) ||
                    strcmp(get(t, r, "phase"), want[q]))
                    continue;
                found++;
                double a = phase_sum(&groups[g], want[q], 0, &ne) / (ne ? ne : 1);
                double m = phase_sum(&groups[g], want[q], 1, &ne) / (ne ? ne : 1);
                num_cell("phases", "ranks", get(t, r, "ranks"), (double)runs[groups[g].run[0]].ranks);
                num_cell("phases", "s_per_epoch", get(t, r, "s_per_epoch"), a);
                num_cell("phases", "s_per_epoch_max", get(t, r, "s_per_epoch_max"), m);
                num_cell("phases", "share_pct", get(t, r, "share_pct"), 100 * a / groups[g].t.mean);
                num_cell("phases", "imbalance", get(t, r, "imbalance"), a > 0 ? m / a : NAN);
                partial_col(t, r, groups[g].partial, "phases");
            }
            ok(found == 1, "phases: family %s group %s phase %s listed %d times", fam,
               groups[g].id, want[q], found);
            rows += found;
        }
    }
    ok(rows == t->nrow, "phases: %d rows, %d expected", t->nrow, rows);
}

/* epochs.csv: one row per epoch of every run read (valid and partial, grouped or not), in the
 * order admm-analyze read them per run; its t_epoch, partial and group columns. */
static void check_epochs_csv(const char *dir, int nall, const Run *all, int include)
{
    char path[PATH_MAX];
    Table t;
    snprintf(path, sizeof path, "%s/tables/epochs.csv", dir);
    ok(csv_read(path, &t) == 0, "%s exists", path);
    int want = 0;
    for (int k = 0; k < nall; k++)
        want += all[k].E;
    ok(t.nrow == want, "epochs.csv: %d rows, %d epochs in all runs", t.nrow, want);
    for (int k = 0; k < nall; k++) {
        const Run *r = &all[k];
        int n = 0;
        const char *group = !r->partial || include ? group_of(run_by_path(r->path)) : "";
        for (int i = 0; i < t.nrow; i++) {
            char b[PATH_MAX];
            const char *p = get(&t, i, "file");
            if (strcmp(realpath(p, b) ? b : p, r->real)) continue;
            ok(atoi(get(&t, i, "epoch")) == n + 1, "epochs.csv %s row %d: epoch %s", r->path,
               i + 1, get(&t, i, "epoch"));
            if (n < r->E) num_cell("epochs.csv", "t_epoch", get(&t, i, "t_epoch"), r->t_epoch[n]);
            partial_col(&t, i, r->partial, "epochs.csv");
            ok(!strcmp(get(&t, i, "group"), group), "epochs.csv %s: group '%s', expected '%s'",
               r->path, get(&t, i, "group"), group);
            ok(cell_is_cfg(get(&t, i, "config_seed"), cfg(r, "seed")), "epochs.csv %s seed",
               r->path);
            ok(!strcmp(get(&t, i, "method"), r->method), "epochs.csv %s method", r->path);
            n++;
        }
        ok(n == r->E, "epochs.csv: %s has %d rows, %d epochs", r->path, n, r->E);
    }
    for (int i = 0; i < t.ncol; i++)
        for (int j = 0; j < t.nrow; j++)
            ok(strcmp(t.row[j][i], "-") && strcmp(t.row[j][i], "nan"),
               "epochs.csv row %d %s: a missing value is an empty field", j + 1, t.head[i]);
}

/* ---------------------------------------------------------------------------------------------- */
/* reach.csv: iterations and seconds to reach levels (analysis/README.md, "Reach levels") */

/* --anderson M of a run: -1 when /config/anderson is absent (a file older than the option) */
static long long anderson_of(const Run *r)
{
    const Cfg *c = cfg(r, "anderson");
    return c ? (long long)c->v[0] : -1;
}

/* The plain group of g: equal but for anderson, epochs and patience, M = 0 (a recorded 0 first, then absent, then the
 * first in table order); g itself when its own M is 0 or absent; -1 when none. */
static int plain_of(int g)
{
    const Run *a = &runs[groups[g].run[0]];
    if (anderson_of(a) <= 0) return g;
    static const char *const except[] = {"anderson", "epochs", "patience"};
    int absent = -1;
    for (int h = 0; h < ngroup; h++) {
        const Run *b = &runs[groups[h].run[0]];
        if (anderson_of(b) > 0 || !same_except(a, b, except, 3)) continue;
        if (anderson_of(b) == 0) return h;
        if (absent < 0) absent = h;
    }
    return absent;
}

static int next_row;

/* One expected row of reach.csv: group g, measure, level; below: the value must fall to the level
 * (objective), else rise to it (an accuracy, level a fraction, shown in percent). */
static void reach_expect(const Table *t, int g, int plain, int which, double level)
{
    static const char *const measures[] = {"objective", "val_acc", "test_acc"};
    const char *measure = measures[which];
    int below = which == 0, i = next_row++;
    if (i >= t->nrow) {
        ok(0, "reach: missing row %d (%s %s level %.15g)", i + 1, groups[g].id, measure, level);
        return;
    }
    const Group *gr = &groups[g];
    const Run *rep = &runs[gr->run[0]];
    char what[160];
    snprintf(what, sizeof what, "reach row %d (%s %s %.6g)", i + 1, gr->id, measure, level);
    ok(!strcmp(get(t, i, "group"), gr->id), "%s: group '%s'", what, get(t, i, "group"));
    ok(!strcmp(get(t, i, "method"), rep->method), "%s: method '%s'", what, get(t, i, "method"));
    if (anderson_of(rep) < 0)
        ok(!*get(t, i, "anderson"), "%s: anderson '%s', expected empty (not recorded)", what,
           get(t, i, "anderson"));
    else
        num_cell("reach", "anderson", get(t, i, "anderson"), (double)anderson_of(rep));
    num_cell("reach", "runs", get(t, i, "runs"), gr->n);
    ok(!strcmp(get(t, i, "plain_group"), plain >= 0 ? groups[plain].id : ""),
       "%s: plain group '%s', expected '%s'", what, get(t, i, "plain_group"),
       plain >= 0 ? groups[plain].id : "");
    ok(!strcmp(get(t, i, "measure"), measure), "%s: measure '%s'", what, get(t, i, "measure"));
    num_cell("reach", "level", get(t, i, "level"), below ? level : 100 * level);
    int reached = 0;
    double it = 0, sec = 0;
    for (int k = 0; k < gr->n; k++) {
        const Run *r = &runs[gr->run[k]];
        const double *v = which == 0 ? r->obj : which == 1 ? r->val_acc : r->test_acc;
        double t_sum = 0;
        for (int e = 0; e < r->E; e++) {
            t_sum += r->t_epoch[e];
            if (isnan(v[e]) || !(below ? v[e] <= level : v[e] >= level)) continue;
            reached++;
            it += e + 1;
            sec += t_sum;
            break;
        }
    }
    num_cell("reach", "reached", get(t, i, "reached"), reached);
    if (reached == gr->n) {
        num_cell("reach", "iterations", get(t, i, "iterations"), it / gr->n);
        num_cell("reach", "seconds", get(t, i, "seconds"), sec / gr->n);
    } else {
        ok(!*get(t, i, "iterations") && !*get(t, i, "seconds"),
           "%s: iterations '%s' seconds '%s', expected empty (not reached by every run)", what,
           get(t, i, "iterations"), get(t, i, "seconds"));
    }
    partial_col(t, i, gr->partial, "reach");
}

static void check_reach(const Table *t)
{
    next_row = 0;
    for (int g = 0; g < ngroup; g++) {
        /* the guard: runs with other --anderson M are never pooled */
        for (int k = 1; k < groups[g].n; k++)
            ok(anderson_of(&runs[groups[g].run[k]]) == anderson_of(&runs[groups[g].run[0]]),
               "group %s pools runs with --anderson %lld and %lld (%s, %s)", groups[g].id,
               anderson_of(&runs[groups[g].run[0]]), anderson_of(&runs[groups[g].run[k]]),
               runs[groups[g].run[0]].path, runs[groups[g].run[k]].path);
        int p = plain_of(g);
        if (p >= 0) {
            const Group *pg = &groups[p];
            int E = runs[pg->run[0]].E;
            for (int k = 1; k < pg->n; k++)
                if (runs[pg->run[k]].E < E) E = runs[pg->run[k]].E;
            int K = E < 50 ? E : 50;
            double atK = 0, last = 0;
            for (int k = 0; k < pg->n; k++) {
                atK += runs[pg->run[k]].obj[K - 1];
                last += runs[pg->run[k]].obj[E - 1];
            }
            atK /= pg->n;
            last /= pg->n;
            if (K < E && !isnan(atK)) reach_expect(t, g, p, 0, atK);
            if (!isnan(last)) reach_expect(t, g, p, 0, last);
            if (last > 0) {
                reach_expect(t, g, p, 0, last / 10.0);
                reach_expect(t, g, p, 0, last / 100.0);
            }
        }
        const double pct[] = {90, 95, 97};
        for (int v = 0; v < 2; v++)
            for (int k = 0; k < 3; k++)
                reach_expect(t, g, p, 1 + v, pct[k] / 100.0);
    }
    ok(next_row == t->nrow, "reach: %d rows, expected %d", t->nrow, next_row);
}

/* Every figures/NAME.png that report.md links is a PNG of some size. */
static void check_figures(const char *dir, const char *report)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    int n = 0;
    for (const char *p = report; (p = strstr(p, "](figures/")); p++) {
        char name[256], path[PATH_MAX];
        if (sscanf(p + 2, "%255[^)]", name) != 1) continue;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        FILE *f = fopen(path, "rb");
        unsigned char head[8] = {0};
        struct stat st;
        int good = f && fread(head, 1, 8, f) == 8 && !memcmp(head, sig, 8) &&
                   stat(path, &st) == 0 && st.st_size > 1000;
        if (f) fclose(f);
        ok(good, "figure %s is not a PNG of more than 1000 bytes", path);
        n++;
    }
    ok(n > 0, "report.md links no figure");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: analysis-check OUTDIR --valid FILE... --flagged FILE... "
                        "[--ignore KEY]... [--no-figures]\n");
        return 2;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    const char *dir = argv[1];
    char **valid = xcalloc((size_t)argc, sizeof *valid),
         **flag = xcalloc((size_t)argc, sizeof *flag), **part = xcalloc((size_t)argc, sizeof *part);
    ignore = xcalloc((size_t)argc, sizeof *ignore);
    int nvalid = 0, nflag = 0, npart = 0, mode = 0, figures = 1, include = 0;
    for (int k = 2; k < argc; k++) {
        if (!strcmp(argv[k], "--valid"))
            mode = 1;
        else if (!strcmp(argv[k], "--flagged"))
            mode = 2;
        else if (!strcmp(argv[k], "--partial"))
            mode = 3;
        else if (!strcmp(argv[k], "--include-partial"))
            include = 1;
        else if (!strcmp(argv[k], "--ignore") && k + 1 < argc)
            ignore[nignore++] = argv[++k];
        else if (!strcmp(argv[k], "--no-figures"))
            figures = 0;
        else if (mode == 1)
            valid[nvalid++] = argv[k];
        else if (mode == 2)
            flag[nflag++] = argv[k];
        else if (mode == 3)
            part[npart++] = argv[k];
    }
    /* all: the valid runs, then the partial ones; runs (what the groups hold) is all of them with
     * --include-partial, else the valid ones only */
    Run *all = xcalloc((size_t)(nvalid + npart), sizeof *all);
    for (int k = 0; k < nvalid; k++)
        read_run(&all[k], valid[k], 0);
    for (int k = 0; k < npart; k++)
        read_run(&all[nvalid + k], part[k], 1);
    runs = all;
    nrun = include ? nvalid + npart : nvalid;

    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/report.md", dir);
    char *report = slurp(path);
    ok(report != NULL, "%s exists", path);

    Table t;
    check_md_matches_csv(dir, "groups", &t);
    check_groups(&t);
    check_md_matches_csv(dir, "runs", &t);
    check_runs(&t);
    check_md_matches_csv(dir, "configs", &t);
    check_configs(&t);
    check_md_matches_csv(dir, "methods", &t);
    check_methods(&t);
    check_md_matches_csv(dir, "epoch_time", &t);
    check_epoch_time(&t);
    check_md_matches_csv(dir, "reach", &t);
    check_reach(&t);
    check_md_matches_csv(dir, "scaling", &t);
    check_scaling(&t);
    const char *params[] = {"beta", "gamma", "warmup", "init"};
    for (int k = 0; k < 4; k++) {
        char stem[64];
        snprintf(stem, sizeof stem, "sensitivity_%s", params[k]);
        check_md_matches_csv(dir, stem, &t);
        check_sensitivity(&t, params[k]);
    }
    Table scal;
    check_md_matches_csv(dir, "scaling", &scal);
    check_md_matches_csv(dir, "phases", &t);
    check_phases(&t, &scal);
    check_md_matches_csv(dir, "partial", &t);
    check_partial(&t, npart, all + nvalid, include, report);
    check_epochs_csv(dir, nvalid + npart, all, include);
    check_md_matches_csv(dir, "flagged", &t);
    check_flagged(&t, nflag, flag, report);
    if (report && figures) check_figures(dir, report);

    printf("%d passed, %d failed\n", npass, nfail);
    return nfail ? 1 : 0;
}
