/* results: see results.h. Every HDF5 call is checked; a failure becomes a one-line reason that
 * names the object and carries the innermost message of HDF5's error stack (for a truncated copy:
 * "truncated file: eof = ..., stored_eof = ..."). HDF5's automatic error printing is switched off
 * so that a refused file produces exactly one line on stderr, written by the caller. */
#define _XOPEN_SOURCE 700 /* POSIX 2008 with XSI: realpath, strnlen, strtok_r, lstat */

#include "results.h"

#include "util.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    char *buf;
    size_t len;
} Why;

static int refuse(Why *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(Why *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->buf, w->len, fmt, ap);
    va_end(ap);
    return -1;
}

/* Releasing a handle of a file opened read-only cannot change what was read, but a failure
 * means HDF5 is in trouble: RELEASE notes it and admm_run_read refuses the file at its end. */
static int release_failed;
#define RELEASE(call)                      \
    do {                                   \
        if ((call) < 0) release_failed = 1; \
    } while (0)

static herr_t innermost(unsigned n, const H5E_error2_t *e, void *data)
{
    /* walked upward, entry 0 is where HDF5 first detected the problem: the most specific message */
    if (n == 0 && e->desc && e->desc[0]) snprintf(data, 256, "%s", e->desc);
    return 0;
}

/* The innermost message on HDF5's error stack (then cleared); buf holds 256 bytes. */
static const char *h5msg(char *buf)
{
    buf[0] = '\0';
    if (H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, buf) < 0) buf[0] = '\0';
    (void)H5Eclear2(H5E_DEFAULT); /* best effort: a stale stack only lengthens a later message */
    if (!buf[0]) snprintf(buf, 256, "HDF5 reported an error without a message");
    return buf;
}

static int h5fail(Why *w, const char *what)
{
    char m[256];
    return refuse(w, "%s: %s", what, h5msg(m));
}

/* ---------------------------------------------------------------------------------------------- */
/* attributes */

/* A string attribute (scalar or array; variable or fixed length) as one malloc'd string, array
 * elements joined with ','. NULL with *w set on failure; what names the attribute for messages. */
static char *read_str(hid_t a, const char *what, Why *w)
{
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a), mt = -1;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    char *out = NULL;
    if (ft < 0 || n < 0) {
        h5fail(w, what);
        goto done;
    }
    if (H5Tget_class(ft) != H5T_STRING) {
        refuse(w, "%s is not a string", what);
        goto done;
    }
    size_t cap = 1, used = 0;
    out = admm_xcalloc(1, 1);
    if (H5Tis_variable_str(ft) > 0) {
        mt = H5Tcopy(H5T_C_S1);
        H5T_cset_t cset = H5Tget_cset(ft);
        if (mt < 0 || cset == H5T_CSET_ERROR || H5Tset_size(mt, H5T_VARIABLE) < 0 ||
            H5Tset_cset(mt, cset) < 0) {
            h5fail(w, what);
            free(out);
            out = NULL;
            goto done;
        }
        char **v = admm_xcalloc((size_t)n, sizeof *v);
        if (H5Aread(a, mt, v) < 0) {
            h5fail(w, what);
            free(v);
            free(out);
            out = NULL;
            goto done;
        }
        for (hssize_t k = 0; k < n; k++) {
            const char *s = v[k] ? v[k] : "";
            size_t m = strlen(s);
            cap = used + m + 2;
            out = admm_xrealloc(out, cap);
            if (k) out[used++] = ',';
            memcpy(out + used, s, m + 1);
            used += m;
        }
        RELEASE(H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, v));
        free(v);
    } else {
        size_t sz = H5Tget_size(ft);
        if (sz == 0) { /* H5Tget_size's failure */
            h5fail(w, what);
            free(out);
            out = NULL;
            goto done;
        }
        char *raw = admm_xcalloc((size_t)n * sz + 1, 1);
        mt = H5Tcopy(ft);
        if (mt < 0 || H5Aread(a, mt, raw) < 0) {
            h5fail(w, what);
            free(raw);
            free(out);
            out = NULL;
            goto done;
        }
        out = admm_xrealloc(out, (size_t)n * (sz + 1) + 1);
        for (hssize_t k = 0; k < n; k++) {
            const char *s = raw + (size_t)k * sz;
            size_t m = strnlen(s, sz);
            while (m > 0 && s[m - 1] == ' ')
                m--; /* space-padded fixed strings */
            if (k) out[used++] = ',';
            memcpy(out + used, s, m);
            used += m;
        }
        out[used] = '\0';
        free(raw);
    }
done:
    if (mt >= 0) RELEASE(H5Tclose(mt));
    if (ft >= 0) RELEASE(H5Tclose(ft));
    if (sp >= 0) RELEASE(H5Sclose(sp));
    return out;
}

/* Number of elements of attribute a, and its type class. -1 on failure. */
static hssize_t attr_shape(hid_t a, H5T_class_t *cls)
{
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a);
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    *cls = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
    if (ft >= 0) RELEASE(H5Tclose(ft));
    if (sp >= 0) RELEASE(H5Sclose(sp));
    return n;
}

static int open_attr(hid_t obj, const char *objname, const char *name, hid_t *a, Why *w)
{
    htri_t ex = H5Aexists(obj, name);
    if (ex < 0) return h5fail(w, "cannot look up attributes");
    if (ex == 0) return refuse(w, "missing attribute %s%s", objname, name);
    *a = H5Aopen(obj, name, H5P_DEFAULT);
    if (*a < 0) {
        char what[160];
        snprintf(what, sizeof what, "cannot open attribute %s%s", objname, name);
        return h5fail(w, what);
    }
    return 0;
}

static int attr_str(hid_t obj, const char *objname, const char *name, char **out, Why *w)
{
    hid_t a = -1;
    char what[160];
    if (open_attr(obj, objname, name, &a, w)) return -1;
    snprintf(what, sizeof what, "attribute %s%s", objname, name);
    *out = read_str(a, what, w);
    RELEASE(H5Aclose(a));
    return *out ? 0 : -1;
}

/* A scalar numeric attribute; integer attributes must have integer type (reals may be either). */
static int attr_num(hid_t obj, const char *objname, const char *name, int integer, void *out,
                    Why *w)
{
    hid_t a = -1;
    H5T_class_t cls;
    if (open_attr(obj, objname, name, &a, w)) return -1;
    hssize_t n = attr_shape(a, &cls);
    int rc = 0;
    if (n != 1)
        rc = refuse(w, "attribute %s%s has %lld elements, expected 1", objname, name, (long long)n);
    else if (cls != H5T_INTEGER && (integer || cls != H5T_FLOAT))
        rc = refuse(w, "attribute %s%s is not %s", objname, name,
                    integer ? "an integer" : "a number");
    else if (H5Aread(a, integer ? H5T_NATIVE_LLONG : H5T_NATIVE_DOUBLE, out) < 0) {
        char what[160];
        snprintf(what, sizeof what, "cannot read attribute %s%s", objname, name);
        rc = h5fail(w, what);
    }
    RELEASE(H5Aclose(a));
    return rc;
}

/* ---------------------------------------------------------------------------------------------- */
/* /config */

/* An attribute walk that appends every attribute of an object to a list (/config, the root). */
typedef struct {
    const char *objname; /* "/config/" or "/" */
    int *n;
    admm_Attr **list;
    Why *w;
} CfgWalk;

static herr_t read_cfg_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
    (void)info;
    CfgWalk *cw = data;
    char what[160];
    snprintf(what, sizeof what, "attribute %s%s", cw->objname, name);
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return h5fail(cw->w, what);
    H5T_class_t cls;
    hssize_t n = attr_shape(a, &cls);
    admm_Attr at = {.name = admm_xstrdup(name), .n = (int)(n > 0 ? n : 1)};
    int rc = 0;
    if (n < 0) {
        rc = h5fail(cw->w, what);
    } else if (cls == H5T_INTEGER) {
        at.kind = ADMM_ATTR_INT;
        at.i = admm_xcalloc((size_t)at.n, sizeof *at.i);
        if (n > 0 && H5Aread(a, H5T_NATIVE_LLONG, at.i) < 0) rc = h5fail(cw->w, what);
    } else if (cls == H5T_FLOAT) {
        at.kind = ADMM_ATTR_REAL;
        at.r = admm_xcalloc((size_t)at.n, sizeof *at.r);
        if (n > 0 && H5Aread(a, H5T_NATIVE_DOUBLE, at.r) < 0) rc = h5fail(cw->w, what);
    } else if (cls == H5T_STRING) {
        at.kind = ADMM_ATTR_STR;
        at.s = read_str(a, what, cw->w);
        if (!at.s) rc = -1;
    } else {
        /* the schema allows only integers, reals and strings: keep the run, show the oddity */
        at.kind = ADMM_ATTR_STR;
        at.s = admm_xasprintf("<HDF5 type class %d>", (int)cls);
    }
    RELEASE(H5Aclose(a));
    *cw->list = admm_xrealloc(*cw->list, (size_t)(*cw->n + 1) * sizeof **cw->list);
    (*cw->list)[(*cw->n)++] = at; /* freed with the run even on failure */
    return rc < 0 ? -1 : 0;
}

static int cmp_attr(const void *a, const void *b)
{
    return strcmp(((const admm_Attr *)a)->name, ((const admm_Attr *)b)->name);
}

/* ---------------------------------------------------------------------------------------------- */
/* /epochs */

/* Rows of /epochs/name, or -1 with *w set (missing, unreadable, not 1-D or 2-D). */
static long long epochs_rows(hid_t g, const char *name, Why *w)
{
    char what[160];
    snprintf(what, sizeof what, "dataset /epochs/%s", name);
    htri_t ex = H5Lexists(g, name, H5P_DEFAULT);
    if (ex <= 0) return ex < 0 ? h5fail(w, what) : refuse(w, "missing %s", what);
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0) return h5fail(w, what);
    hid_t sp = H5Dget_space(d);
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hsize_t dims[2] = {0, 0};
    long long rows = -1;
    if (rank < 0 || (rank >= 1 && rank <= 2 && H5Sget_simple_extent_dims(sp, dims, NULL) < 0))
        h5fail(w, what);
    else if (rank < 1 || rank > 2)
        refuse(w, "%s has %d dimensions, expected 1 or 2", what, rank);
    else
        rows = (long long)dims[0];
    if (sp >= 0) RELEASE(H5Sclose(sp));
    RELEASE(H5Dclose(d));
    return rows;
}

/* The first rows rows of /epochs/name as a malloc'd array of memtype; its shape must be (N) when
 * cols == 0, else (N, cols), with N == rows (exact) or N >= rows (a .part file, whose datasets may
 * have grown one row further than others when its writer stopped). */
static void *read_epochs(hid_t g, const char *name, hsize_t rows, hsize_t cols, hid_t memtype,
                         int exact, Why *w)
{
    char what[160];
    snprintf(what, sizeof what, "dataset /epochs/%s", name);
    htri_t ex = H5Lexists(g, name, H5P_DEFAULT);
    if (ex <= 0) {
        if (ex < 0)
            h5fail(w, what);
        else
            refuse(w, "missing %s", what);
        return NULL;
    }
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0) {
        h5fail(w, what);
        return NULL;
    }
    hid_t sp = H5Dget_space(d), ft = H5Dget_type(d), ms = -1;
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hsize_t dims[2] = {0, 0};
    if (rank >= 1 && rank <= 2 && H5Sget_simple_extent_dims(sp, dims, NULL) < 0) rank = -1;
    void *buf = NULL;
    H5T_class_t cls = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
    int want = cols ? 2 : 1;
    if (rank < 0) {
        h5fail(w, what);
    } else if (rank != want) {
        refuse(w, "%s has %d dimensions, expected %d", what, rank, want);
    } else if ((exact ? dims[0] != rows : dims[0] < rows) || (cols && dims[1] != cols)) {
        if (cols)
            refuse(w, "%s has shape (%llu, %llu), expected (%llu, %llu)", what,
                   (unsigned long long)dims[0], (unsigned long long)dims[1],
                   (unsigned long long)rows, (unsigned long long)cols);
        else
            refuse(w, "%s has %llu rows, expected epochs_run = %llu", what,
                   (unsigned long long)dims[0], (unsigned long long)rows);
    } else if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
        refuse(w, "%s is not numeric", what);
    } else if (H5Tget_size(memtype) == 0) {
        h5fail(w, what);
    } else {
        hsize_t start[2] = {0, 0}, count[2] = {rows, cols};
        buf = admm_xcalloc((size_t)(rows * (cols ? cols : 1)), H5Tget_size(memtype));
        ms = H5Screate_simple(want, count, NULL);
        if (ms < 0 || H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Dread(d, memtype, ms, sp, H5P_DEFAULT, buf) < 0) {
            char rd[200];
            snprintf(rd, sizeof rd, "cannot read %s", what);
            h5fail(w, rd);
            free(buf);
            buf = NULL;
        }
    }
    if (ms >= 0) RELEASE(H5Sclose(ms));
    if (ft >= 0) RELEASE(H5Tclose(ft));
    if (sp >= 0) RELEASE(H5Sclose(sp));
    RELEASE(H5Dclose(d));
    return buf;
}

/* phase_names of /epochs/phase_avg, split at commas. */
static int read_phase_names(hid_t g, admm_Run *run, Why *w)
{
    hid_t d = H5Dopen2(g, "phase_avg", H5P_DEFAULT);
    if (d < 0) return h5fail(w, "dataset /epochs/phase_avg");
    char *s = NULL;
    int rc = attr_str(d, "/epochs/phase_avg/", "phase_names", &s, w);
    RELEASE(H5Dclose(d));
    if (rc) return -1;
    run->P = 0;
    if (s[0]) {
        char *save = NULL;
        for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ')
                tok++;
            run->phase_names =
                admm_xrealloc(run->phase_names, (size_t)(run->P + 1) * sizeof(char *));
            run->phase_names[run->P++] = admm_xstrdup(tok);
        }
    }
    free(s);
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */

/* The root attributes against the ranges of io/SCHEMA.md: a value outside them means a damaged
 * or forged file, and one such file would skew every mean it entered. NaN is a valid accuracy
 * only for an empty split (final_val_acc without validation samples, final_test_acc without
 * test samples). */
static int out_of_range_i(Why *w, const char *name, long long v, const char *range)
{
    return refuse(w, "attribute /%s = %lld is out of range (%s)", name, v, range);
}

static int out_of_range_r(Why *w, const char *name, double v, const char *range)
{
    return refuse(w, "attribute /%s = %.10g is out of range (%s)", name, v, range);
}

static int check_ranges(const admm_Run *run, const long long grid[2], Why *w)
{
    if (run->ranks < 1) return out_of_range_i(w, "ranks", run->ranks, ">= 1");
    if (grid[0] < 1 || grid[1] < 1 || grid[0] * grid[1] > run->ranks)
        return refuse(w, "attribute /blacs_grid = %lld,%lld is out of range (each >= 1, product <= ranks = %lld)",
                      grid[0], grid[1], run->ranks);
    if (run->n_train < 1) return out_of_range_i(w, "n_train", run->n_train, ">= 1");
    if (run->n_val < 0) return out_of_range_i(w, "n_val", run->n_val, ">= 0");
    if (run->n_test < 0) return out_of_range_i(w, "n_test", run->n_test, ">= 0");
    return 0;
}

/* The final root attributes, written when the run ends (absent from the .part of a run that died). */
static int check_final_ranges(const admm_Run *run, Why *w)
{
    char range[64];
    if (run->epochs_run < 1) return out_of_range_i(w, "epochs_run", run->epochs_run, ">= 1: no epochs");
    snprintf(range, sizeof range, "1..epochs_run = %lld", run->epochs_run);
    if (run->best_epoch < 1 || run->best_epoch > run->epochs_run)
        return out_of_range_i(w, "best_epoch", run->best_epoch, range);
    /* regression data (--data regression, csv) has no accuracy: NaN, its figure is the MSE */
    const admm_Attr *data = admm_run_cfg(run, "data");
    int regression = data && data->s && (!strcmp(data->s, "regression") || !strcmp(data->s, "csv"));
    const struct {
        const char *name;
        double v;
        int may_be_nan;
    } acc[] = {{"final_train_acc", run->final_train_acc, regression},
               {"final_val_acc", run->final_val_acc, regression || run->n_val == 0},
               {"final_test_acc", run->final_test_acc, regression || run->n_test == 0}};
    for (size_t k = 0; k < sizeof acc / sizeof acc[0]; k++)
        if (isnan(acc[k].v) ? !acc[k].may_be_nan : !(acc[k].v >= 0 && acc[k].v <= 1))
            return out_of_range_r(w, acc[k].name, acc[k].v, "an accuracy in [0, 1]");
    if (!isfinite(run->final_loss) || run->final_loss < 0)
        return out_of_range_r(w, "final_loss", run->final_loss, "a finite loss >= 0");
    if (!isfinite(run->total_time_s) || run->total_time_s < 0)
        return out_of_range_r(w, "total_time_s", run->total_time_s, "finite seconds >= 0");
    if (!isfinite(run->train_time_s) || run->train_time_s < 0)
        return out_of_range_r(w, "train_time_s", run->train_time_s, "finite seconds >= 0");
    return 0;
}

/* The root attributes that admm-train writes only when a run ends (nn_results_finish). */
static const char *const final_attrs[] = {"epochs_run",     "best_epoch", "final_train_acc",
                                          "final_val_acc",  "final_test_acc", "final_loss",
                                          "stop_reason",    "total_time_s", "train_time_s"};
enum { NFINAL = sizeof final_attrs / sizeof final_attrs[0] };

/* The root attributes. part: the file is a .part file, read as a partial run: status may also be
 * "running", and the final attributes may be missing (all of them: has_final = 0). */
static int read_root(hid_t f, admm_Run *run, int part, Why *w)
{
    char *format = NULL;
    long long version = 0;
    if (attr_str(f, "/", "format", &format, w)) return -1;
    int bad = strcmp(format, "admm-nn-results") != 0;
    if (bad) refuse(w, "not an admm-nn-results file (format = \"%s\")", format);
    free(format);
    if (bad) return -1;
    if (attr_num(f, "/", "format_version", 1, &version, w)) return -1;
    if (version != 1)
        return refuse(w, "unsupported format_version %lld (this reader knows 1)", version);
    /* status before anything else: a run that is still going (or died) has not written the rest */
    if (attr_str(f, "/", "status", &run->status, w)) return -1;
    int complete = strcmp(run->status, "complete") == 0;
    if (!complete && !(part && !strcmp(run->status, "running")))
        return refuse(w, part ? "status is \"%s\", neither \"running\" nor \"complete\""
                              : "status is \"%s\", not \"complete\" (the run did not finish)",
                      run->status);

    char *versions = NULL, *cmdline = NULL;
    int rc = attr_str(f, "/", "method", &run->method, w) ||
             attr_num(f, "/", "ranks", 1, &run->ranks, w) ||
             attr_str(f, "/", "hostnames", &run->hostnames, w) ||
             attr_str(f, "/", "versions", &versions, w) ||
             attr_str(f, "/", "git_revision", &run->git_revision, w) ||
             attr_str(f, "/", "command_line", &cmdline, w) ||
             attr_str(f, "/", "start_time", &run->start_time, w) ||
             attr_num(f, "/", "n_train", 1, &run->n_train, w) ||
             attr_num(f, "/", "n_val", 1, &run->n_val, w) ||
             attr_num(f, "/", "n_test", 1, &run->n_test, w);
    free(versions);
    free(cmdline);
    if (rc) return -1;
    /* threads per rank: files written before admm-train recorded it are read as unknown */
    run->threads_per_rank = ADMM_THREADS_UNKNOWN;
    htri_t tex = H5Aexists(f, "threads_per_rank");
    if (tex < 0) return h5fail(w, "cannot look up attributes");
    if (tex > 0) {
        if (attr_num(f, "/", "threads_per_rank", 1, &run->threads_per_rank, w)) return -1;
        if (run->threads_per_rank < 0)
            return out_of_range_i(w, "threads_per_rank", run->threads_per_rank,
                                  ">= 0; 0: the BLAS chose");
    }

    run->has_final = 1;
    if (part) /* a run that died never wrote them: all of them, or none is used */
        for (int k = 0; k < NFINAL && run->has_final; k++) {
            htri_t ex = H5Aexists(f, final_attrs[k]);
            if (ex < 0) return h5fail(w, "cannot look up attributes");
            run->has_final = ex > 0;
        }
    if (run->has_final &&
        (attr_num(f, "/", "epochs_run", 1, &run->epochs_run, w) ||
         attr_num(f, "/", "best_epoch", 1, &run->best_epoch, w) ||
         attr_num(f, "/", "final_train_acc", 0, &run->final_train_acc, w) ||
         attr_num(f, "/", "final_val_acc", 0, &run->final_val_acc, w) ||
         attr_num(f, "/", "final_test_acc", 0, &run->final_test_acc, w) ||
         attr_num(f, "/", "final_loss", 0, &run->final_loss, w) ||
         attr_str(f, "/", "stop_reason", &run->stop_reason, w) ||
         attr_num(f, "/", "total_time_s", 0, &run->total_time_s, w) ||
         attr_num(f, "/", "train_time_s", 0, &run->train_time_s, w)))
        return -1;
    /* only a run stopped by a signal has it: which one */
    if (run->has_final && !strcmp(run->stop_reason, "signal")) {
        htri_t ex = H5Aexists(f, "stop_signal");
        if (ex < 0) return h5fail(w, "cannot look up attributes");
        if (ex > 0 && attr_str(f, "/", "stop_signal", &run->stop_signal, w)) return -1;
    }

    hid_t a = -1;
    H5T_class_t cls;
    if (open_attr(f, "/", "blacs_grid", &a, w)) return -1;
    hssize_t n = attr_shape(a, &cls);
    long long grid[2] = {0, 0};
    int unread = n == 2 && cls == H5T_INTEGER && H5Aread(a, H5T_NATIVE_LLONG, grid) < 0;
    RELEASE(H5Aclose(a));
    if (n != 2 || cls != H5T_INTEGER) return refuse(w, "attribute /blacs_grid is not int[2]");
    if (unread) return h5fail(w, "cannot read attribute /blacs_grid");
    if (check_ranges(run, grid, w)) return -1;
    return 0; /* the final attributes' ranges: checked once /config is read (admm_run_read) */
}

static int read_config(hid_t f, admm_Run *run, Why *w)
{
    htri_t ex = H5Lexists(f, "config", H5P_DEFAULT);
    if (ex <= 0) return ex < 0 ? h5fail(w, "group /config") : refuse(w, "missing group /config");
    hid_t g = H5Gopen2(f, "config", H5P_DEFAULT);
    if (g < 0) return h5fail(w, "group /config");
    CfgWalk cw = {"/config/", &run->ncfg, &run->cfg, w};
    w->buf[0] = '\0';
    herr_t rc = H5Aiterate2(g, H5_INDEX_NAME, H5_ITER_INC, NULL, read_cfg_attr, &cw);
    RELEASE(H5Gclose(g));
    if (rc < 0) return w->buf[0] ? -1 : h5fail(w, "attributes of /config");
    qsort(run->cfg, (size_t)run->ncfg, sizeof *run->cfg, cmp_attr);
    /* anderson (--anderson M): a file without it predates the option or ran a method it does not
     * apply to; either way no acceleration ran, so M reads as 0, marked not recorded */
    const admm_Attr *aa = admm_run_cfg(run, "anderson");
    if (aa) {
        if (aa->kind != ADMM_ATTR_INT || aa->n != 1 || aa->i[0] < 0)
            return refuse(w, "attribute /config/anderson is not one integer >= 0");
        run->anderson = aa->i[0];
        run->anderson_recorded = 1;
    }
    /* every root attribute as stored, for the per-epoch table: run metadata the schema adds later
     * (job ids, ...) reaches it without a change here */
    CfgWalk rw = {"/", &run->nroot, &run->root, w};
    if (H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_INC, NULL, read_cfg_attr, &rw) < 0)
        return w->buf[0] ? -1 : h5fail(w, "root attributes");
    qsort(run->root, (size_t)run->nroot, sizeof *run->root, cmp_attr);
    return 0;
}

/* Rows of every dataset in /epochs, shortest and longest: a .part file's writer appends a row to
 * one dataset after another, so when it stopped between two of them the rows that all of them
 * hold are the whole epochs. */
typedef struct {
    long long lo, hi;
    Why *w;
} RowWalk;

static herr_t count_rows(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    RowWalk *rw = data;
    /* H5Oopen and H5Iget_type read the same in every HDF5 version, unlike H5Oget_info */
    hid_t o = H5Oopen(g, name, H5P_DEFAULT);
    if (o < 0) {
        char what[160];
        snprintf(what, sizeof what, "object /epochs/%s", name);
        return h5fail(rw->w, what);
    }
    H5I_type_t type = H5Iget_type(o);
    RELEASE(H5Oclose(o));
    if (type != H5I_DATASET) return 0;
    long long n = epochs_rows(g, name, rw->w);
    if (n < 0) return -1;
    if (rw->lo < 0 || n < rw->lo) rw->lo = n;
    if (n > rw->hi) rw->hi = n;
    return 0;
}

/* The epoch of highest validation accuracy (1-based; the first of equals; the last epoch when no
 * validation accuracy was measured): the weights early stopping would have kept. */
static long long best_by_validation(const admm_Run *run)
{
    int best = -1;
    for (int e = 0; e < run->E; e++)
        if (!isnan(run->val_acc[e]) && (best < 0 || run->val_acc[e] > run->val_acc[best])) best = e;
    return best < 0 ? run->E : best + 1;
}

/* A .part run whose final attributes were never written: its finals from its rows (results.h). */
static void derive_final(admm_Run *run)
{
    run->epochs_run = run->E;
    run->best_epoch = best_by_validation(run);
    int b = (int)run->best_epoch - 1;
    run->final_train_acc = run->train_acc[b];
    run->final_val_acc = run->val_acc[b];
    run->final_test_acc = run->test_acc[b];
    run->final_loss = run->loss[b];
    run->total_time_s = NAN;
    run->train_time_s = 0.0;
    for (int e = 0; e < run->E; e++)
        run->train_time_s += run->t_epoch[e];
}

/* part: a .part file, whose datasets may differ in length: E = the rows every dataset of /epochs
 * holds (and no more than epochs_run when the file has it); *rows_max is the longest. Otherwise
 * every dataset read must hold exactly epochs_run rows. */
static int read_epoch_data(hid_t f, admm_Run *run, int part, long long *rows_max, Why *w)
{
    htri_t ex = H5Lexists(f, "epochs", H5P_DEFAULT);
    if (ex <= 0) return ex < 0 ? h5fail(w, "group /epochs") : refuse(w, "missing group /epochs");
    hid_t g = H5Gopen2(f, "epochs", H5P_DEFAULT);
    if (g < 0) return h5fail(w, "group /epochs");
    int rc = -1;
    long long common = run->has_final ? run->epochs_run : -1;
    *rows_max = common;
    if (part) {
        RowWalk rw = {-1, -1, w};
        w->buf[0] = '\0';
        if (H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, count_rows, &rw) < 0) {
            if (!w->buf[0]) h5fail(w, "datasets of /epochs");
            goto done;
        }
        if (rw.lo >= 0 && (common < 0 || rw.lo < common)) common = rw.lo;
        if (rw.hi > *rows_max) *rows_max = rw.hi;
        if (common < 1) {
            refuse(w, "no whole epoch written yet (the /epochs datasets hold %lld rows)", common);
            goto done;
        }
    }
    hsize_t E = (hsize_t)common, R = (hsize_t)run->ranks;
    run->E = (int)E;
    run->R = (int)R;
    int exact = !part;
    if (!(run->epoch = read_epochs(g, "epoch", E, 0, H5T_NATIVE_LLONG, exact, w))) goto done;
    if (!(run->warmup = read_epochs(g, "warmup", E, 0, H5T_NATIVE_LLONG, exact, w))) goto done;
    typedef struct {
        const char *name;
        double **dst;
    } Field; /* an /epochs dataset of E reals and where it goes */
    Field one[] = {{"loss", &run->loss},
                   {"objective", &run->objective},
                   {"residual_z", &run->residual_z},
                   {"residual_a", &run->residual_a},
                   {"train_acc", &run->train_acc},
                   {"val_acc", &run->val_acc},
                   {"test_acc", &run->test_acc},
                   {"t_epoch", &run->t_epoch},
                   {"t_eval", &run->t_eval},
                   {"t_wall", &run->t_wall}};
    for (size_t k = 0; k < sizeof one / sizeof one[0]; k++)
        if (!(*one[k].dst = read_epochs(g, one[k].name, E, 0, H5T_NATIVE_DOUBLE, exact, w)))
            goto done;
    /* multiplier and the anderson_* datasets came with later writers than the rest: a file
     * without one reads as NaN, "none" */
    Field later[] = {{"multiplier", &run->multiplier},
                     {"anderson_accepted", &run->aa_accepted},
                     {"anderson_residual", &run->aa_residual},
                     {"anderson_coef_norm", &run->aa_coef_norm}};
    for (size_t k = 0; k < sizeof later / sizeof later[0]; k++) {
        ex = H5Lexists(g, later[k].name, H5P_DEFAULT);
        if (ex < 0) {
            char what[64];
            snprintf(what, sizeof what, "dataset /epochs/%s", later[k].name);
            h5fail(w, what);
            goto done;
        }
        if (ex > 0) {
            if (!(*later[k].dst = read_epochs(g, later[k].name, E, 0, H5T_NATIVE_DOUBLE, exact, w)))
                goto done;
        } else {
            *later[k].dst = admm_xmalloc(E * sizeof **later[k].dst);
            for (hsize_t e = 0; e < E; e++)
                (*later[k].dst)[e] = NAN;
        }
    }
    ex = H5Lexists(g, "phase_avg", H5P_DEFAULT);
    if (ex <= 0) {
        if (ex < 0)
            h5fail(w, "dataset /epochs/phase_avg");
        else
            refuse(w, "missing dataset /epochs/phase_avg");
        goto done;
    }
    if (read_phase_names(g, run, w)) goto done;
    if (run->P == 0) {
        refuse(w, "attribute /epochs/phase_avg/phase_names is empty");
        goto done;
    }
    hsize_t P = (hsize_t)run->P;
    if (!(run->phase_min = read_epochs(g, "phase_min", E, P, H5T_NATIVE_DOUBLE, exact, w))) goto done;
    if (!(run->phase_avg = read_epochs(g, "phase_avg", E, P, H5T_NATIVE_DOUBLE, exact, w))) goto done;
    if (!(run->phase_max = read_epochs(g, "phase_max", E, P, H5T_NATIVE_DOUBLE, exact, w))) goto done;
    if (!(run->rss_mb = read_epochs(g, "rss_mb", E, R, H5T_NATIVE_DOUBLE, exact, w))) goto done;
    for (int e = 0; e < run->E; e++)
        if (run->epoch[e] != e + 1) {
            refuse(w, "/epochs/epoch[%d] = %lld, expected %d", e, run->epoch[e], e + 1);
            goto done;
        }
    /* NaN marks an accuracy not measured (--eval-train 0, an empty split) */
    const struct {
        const char *name;
        const double *v;
    } acc[] = {{"train_acc", run->train_acc}, {"val_acc", run->val_acc}, {"test_acc", run->test_acc}};
    for (size_t k = 0; k < sizeof acc / sizeof acc[0]; k++)
        for (int e = 0; e < run->E; e++)
            if (!isnan(acc[k].v[e]) && !(acc[k].v[e] >= 0 && acc[k].v[e] <= 1)) {
                refuse(w, "dataset /epochs/%s[%d] = %.10g is out of range (an accuracy in [0, 1] or NaN)",
                       acc[k].name, e, acc[k].v[e]);
                goto done;
            }
    rc = 0;
done:
    RELEASE(H5Gclose(g));
    return rc;
}

static int check_weights(hid_t f, const admm_Run *run, Why *w)
{
    const admm_Attr *ls = admm_run_cfg(run, "layer_sizes");
    if (!ls) return refuse(w, "missing attribute /config/layer_sizes");
    if (ls->kind != ADMM_ATTR_INT || ls->n < 2)
        return refuse(w, "attribute /config/layer_sizes is not an int array of L+1 >= 2 sizes");
    htri_t ex = H5Lexists(f, "weights", H5P_DEFAULT);
    if (ex <= 0) return ex < 0 ? h5fail(w, "group /weights") : refuse(w, "missing group /weights");
    for (int l = 1; l < ls->n; l++) {
        char name[32];
        snprintf(name, sizeof name, "weights/W%d", l);
        ex = H5Lexists(f, name, H5P_DEFAULT);
        if (ex <= 0) return ex < 0 ? h5fail(w, name) : refuse(w, "missing dataset /%s", name);
    }
    return 0;
}

/* Refuses anything but a regular file before HDF5 opens it: opening a FIFO blocks for ever and
 * opening a device may act on it. Links to regular files are followed. */
static int not_regular(const char *path, Why *w)
{
    struct stat st;
    if (stat(path, &st) != 0) return refuse(w, "cannot read: %s", strerror(errno));
    if (S_ISREG(st.st_mode)) return 0;
    const char *kind = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "a special file";
    return refuse(w, "is %s, not a results file", kind);
}

/* HDF5 1.10.7 and 1.12.1 brought H5Pset_file_locking. */
#if H5_VERSION_GE(1, 12, 1) || (H5_VERSION_GE(1, 10, 7) && !H5_VERSION_GE(1, 12, 0))
#define HAVE_FILE_LOCKING_PROPERTY 1
#else
#define HAVE_FILE_LOCKING_PROPERTY 0
#endif

/* File access for reading path: a .part file may still be open in its writer, so it is opened
 * without HDF5's file lock (where this HDF5 can say so; HDF5_USE_FILE_LOCKING=FALSE otherwise).
 * Read-only either way: nothing here can change it. */
static hid_t access_for(int part)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
#if HAVE_FILE_LOCKING_PROPERTY
    if (fapl >= 0 && part && H5Pset_file_locking(fapl, 0, 1) < 0) {
        RELEASE(H5Pclose(fapl));
        return -1;
    }
#else
    (void)part;
#endif
    return fapl;
}

/* Marks run partial, with why (results.h). rows_max: the longest /epochs dataset of a .part file. */
static void mark_partial(admm_Run *run, int part, long long rows_max)
{
    if (part && !strcmp(run->status, "running"))
        run->partial_why = admm_xasprintf(
            "unfinished (.h5.part, status \"running\": the run died or is still being written); "
            "%d epochs readable", run->E);
    else if (part)
        run->partial_why = admm_xasprintf(
            "unfinished (.h5.part with status \"complete\": rank 0 did not rename it); %d epochs",
            run->E);
    else
        run->partial_why = NULL;
    if (run->stop_reason && !strcmp(run->stop_reason, "signal")) {
        /* complete as a file, partial as a run: a signal ended it before its stopping rule */
        char *next = admm_xasprintf(
            "%s%sstopped by a signal after %lld epochs (%s%sstop_reason \"signal\")",
            run->partial_why ? run->partial_why : "", run->partial_why ? "; " : "",
            run->epochs_run, run->stop_signal ? run->stop_signal : "",
            run->stop_signal ? ", " : "");
        free(run->partial_why);
        run->partial_why = next;
    }
    if (!run->partial_why) return;
    run->partial = 1;
    if (part && rows_max > run->E) {
        char *next = admm_xasprintf("%s; the /epochs datasets hold %d to %lld rows: the %d rows all "
                                    "of them hold are used",
                                    run->partial_why, run->E, rows_max, run->E);
        free(run->partial_why);
        run->partial_why = next;
    }
}

int admm_run_read(admm_Run *run, const char *path, char *why, size_t whylen)
{
    Why w = {why, whylen};
    memset(run, 0, sizeof *run);
    run->path = admm_xstrdup(path);
    why[0] = '\0';
    release_failed = 0;
    if (H5Eset_auto2(H5E_DEFAULT, NULL, NULL) < 0) { /* HDF5 would print its own stack too */
        refuse(&w, "cannot switch off HDF5's error printing");
        admm_run_free(run);
        return -1;
    }

    /* the writer creates FILE.part and renames it to FILE when the run ends (io/SCHEMA.md) */
    int part = admm_ends_with(path, ".part");
    if (not_regular(path, &w)) {
        admm_run_free(run);
        return -1;
    }
    htri_t is = H5Fis_hdf5(path);
    if (is <= 0) {
        if (is == 0)
            refuse(&w, "not an HDF5 file (no HDF5 signature)");
        else
            h5fail(&w, "cannot open");
        admm_run_free(run);
        return -1;
    }
    hid_t fapl = access_for(part);
    hid_t f = fapl < 0 ? -1 : H5Fopen(path, H5F_ACC_RDONLY, fapl);
    char m[256];
    if (f < 0) h5msg(m); /* before H5Pclose, which clears HDF5's error stack */
    if (fapl >= 0) RELEASE(H5Pclose(fapl));
    if (f < 0) {
        /* a truncated copy, or the .part of a live run caught between two writes */
        refuse(&w, "cannot open as HDF5: %s%s", m,
               strstr(m, "unable to lock") ? " (another process has it open for writing)" : "");
        admm_run_free(run);
        return -1;
    }
    long long rows_max = 0;
    int rc = read_root(f, run, part, &w);
    if (!rc) rc = read_config(f, run, &w);
    if (!rc && run->has_final) rc = check_final_ranges(run, &w); /* needs /config/data */
    if (!rc) rc = read_epoch_data(f, run, part, &rows_max, &w);
    if (!rc && !part) rc = check_weights(f, run, &w); /* a run that died wrote none */
    if (H5Fclose(f) < 0 && !rc) rc = h5fail(&w, "cannot close");
    if (release_failed && !rc) rc = refuse(&w, "HDF5 failed to release an object of the file");
    if (rc) {
        admm_run_free(run);
        return -1;
    }
    if (!run->has_final) derive_final(run);
    mark_partial(run, part, rows_max);
    return 0;
}

void admm_run_free(admm_Run *run)
{
    free(run->path);
    free(run->method);
    free(run->status);
    free(run->stop_reason);
    free(run->partial_why);
    free(run->stop_signal);
    free(run->hostnames);
    free(run->start_time);
    free(run->git_revision);
    for (int k = 0; k < run->ncfg; k++) {
        free(run->cfg[k].name);
        free(run->cfg[k].i);
        free(run->cfg[k].r);
        free(run->cfg[k].s);
    }
    free(run->cfg);
    for (int k = 0; k < run->nroot; k++) {
        free(run->root[k].name);
        free(run->root[k].i);
        free(run->root[k].r);
        free(run->root[k].s);
    }
    free(run->root);
    for (int p = 0; p < run->P; p++)
        free(run->phase_names[p]);
    free(run->phase_names);
    double *d[] = {run->loss,        run->objective,   run->residual_z,  run->residual_a,
                   run->multiplier,  run->train_acc,   run->val_acc,     run->test_acc,
                   run->t_epoch,     run->t_eval,      run->t_wall,      run->phase_min,
                   run->phase_avg,   run->phase_max,   run->rss_mb,      run->aa_accepted,
                   run->aa_residual, run->aa_coef_norm};
    for (size_t k = 0; k < sizeof d / sizeof d[0]; k++)
        free(d[k]);
    free(run->epoch);
    free(run->warmup);
    memset(run, 0, sizeof *run);
}

const admm_Attr *admm_run_cfg(const admm_Run *run, const char *name)
{
    admm_Attr key = {.name = (char *)name};
    return bsearch(&key, run->cfg, (size_t)run->ncfg, sizeof *run->cfg, cmp_attr);
}

void admm_threads_format(long long threads, char *buf, size_t len)
{
    if (threads == ADMM_THREADS_UNKNOWN)
        snprintf(buf, len, "unknown");
    else
        snprintf(buf, len, "%lld", threads);
}

void admm_attr_format(const admm_Attr *a, char *buf, size_t len)
{
    if (!a) {
        snprintf(buf, len, "-");
        return;
    }
    if (a->kind == ADMM_ATTR_STR) {
        snprintf(buf, len, "%s", a->s);
        return;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < a->n && used < len; k++) {
        int m = a->kind == ADMM_ATTR_INT
                    ? snprintf(buf + used, len - used, "%s%lld", k ? "," : "", a->i[k])
                    : snprintf(buf + used, len - used, "%s%.10g", k ? "," : "", a->r[k]);
        if (m < 0) break;
        used += (size_t)m;
    }
}

int admm_attr_equal(const admm_Attr *a, const admm_Attr *b)
{
    if (!a || !b) return a == b;
    if (a->kind != b->kind || a->n != b->n) return 0;
    if (a->kind == ADMM_ATTR_STR) return strcmp(a->s, b->s) == 0;
    for (int k = 0; k < a->n; k++)
        if (a->kind == ADMM_ATTR_INT ? a->i[k] != b->i[k] : a->r[k] != b->r[k]) return 0;
    return 1;
}
